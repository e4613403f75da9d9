"""Few-shot MNIST with the adaptive convolutional STDP network (the paper's Table 3).

For each training-set size (10, 50, 100, 200 images, the same number per class)
and each seed, the network is trained layer by layer on those images only
(repeated for about ``--presentations`` presentations per layer), labels are
assigned from the same images, and the full 10,000-image test set is scored.
Prints mean +- sample sd (ddof=1) over the seeds next to the paper's figures.

Usage (the table in docs/benchmarks.md came from)::

    python benchmarks/few_shot.py --neurons 100 --seeds 1 2 3 --presentations 1000

Each result goes to ``benchmarks/results/adaptive_conv_few_shot_<n>_seed<s>.json``.

To choose a setting without the test set, add ``--test-split validation``: the
images are then drawn from the training images before the last ``--test-samples``
(default 10,000), which are scored instead, and the results are named
``..._validation``; ``benchmarks/report.py`` lists them apart from the test rows.

``--pixel-baseline`` runs no network: it answers each scored image with the
label of the most cosine-similar of the same drawn training images, pixel by
pixel (scikit-learn's 1-nearest-neighbour classifier), for every size and seed,
and writes ``benchmarks/results/adaptive_conv_pixel_baseline_few_shot[_validation].json``;
the report sets it beside the network's few-shot table. It says what a few-shot
figure means: how far the network gets beyond looking the images up::

    python benchmarks/few_shot.py --pixel-baseline --seeds 1 2 3
"""

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np

from accuracy import main as accuracy
from bioplastic.atomicfile import write_text_atomically
from bioplastic.datasets import load_dataset
from bioplastic.training import TEST_SPLITS, TRAINING_IMAGES, balanced_subset, machine_info
from conv_features import nearest_neighbour_readout

HERE = Path(__file__).resolve().parent

#: presentations per layer of the recorded results (results with others are named apart)
PRESENTATIONS = 1000
#: the paper's Table 3 (training images -> accuracy of the SNN)
PAPER = {200: 0.8145, 100: 0.7544, 50: 0.7288, 10: 0.5145}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--neurons", type=int, default=100)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 50, 100, 200])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--presentations", type=int, default=PRESENTATIONS,
                        help="training presentations per layer (epochs = this / size); "
                             "another number than the default also names the results")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                        help="model-file override, as for accuracy.py; it also names the "
                             "results, so that they never replace the model file's rows")
    parser.add_argument("--test-split", default="test", choices=TEST_SPLITS,
                        help="validation: score the last --test-samples training images "
                             "(default 10,000) and draw the few-shot images from before "
                             "them, to choose settings without the test set")
    parser.add_argument("--pixel-baseline", action="store_true",
                        help="no network: score the 1-nearest-neighbour readout of the "
                             "drawn images' pixels instead")
    parser.add_argument("--test-samples", type=int, default=None,
                        help="with --test-split validation: the last this many training "
                             "images are scored (default 10,000; passed on to accuracy.py)")
    parser.add_argument("--data-dir", default=None,
                        help="passed on to accuracy.py (default ../shared/data)")
    args, rest = parser.parse_known_args(sys.argv[1:] if argv is None else argv)
    if args.test_samples is not None and not 0 < args.test_samples < TRAINING_IMAGES:
        parser.error(f"--test-samples must be in 1..{TRAINING_IMAGES - 1}, "
                     f"got {args.test_samples}")
    if args.pixel_baseline:
        return pixel_baseline(args, sys.argv[1:] if argv is None else argv)
    for option, value in (("--test-samples", args.test_samples),
                          ("--data-dir", args.data_dir)):
        if value is not None:  # only what was asked for, as the commands were recorded
            rest += [option, str(value)]
    # e.g. --set alpha_plus=0.05 -> "_alpha-plus-0.05", the form of the recorded results
    tag = "".join("_" + item.replace("_", "-").replace("=", "-").replace("*", "")
                  for item in args.set)
    overrides = [f"--set={item}" for item in args.set]
    if args.presentations != PRESENTATIONS:
        tag += f"_presentations-{args.presentations}"
    if args.test_split == "validation":
        tag += "_validation"  # a screen never replaces a test-set row
        overrides += ["--test-split", "validation"]
    table = {}
    for size in args.sizes:
        epochs = max(1, math.ceil(args.presentations / size))
        for seed in args.seeds:
            command = ["--model", "adaptive-conv", "--neurons", str(args.neurons),
                       "--train-samples", str(size), "--balanced", "--epochs", str(epochs),
                       "--seed", str(seed), "--name", f"adaptive_conv_few_shot_{size}_seed{seed}{tag}",
                       "--out", f"runs/bench-conv-few-shot-{size}-seed{seed}{tag}"] + overrides + rest
            # the number asked for, which the epochs round up (3 x 200 for 500)
            results = accuracy(command, script="accuracy.py",
                               record={"presentations": args.presentations})
            table.setdefault(size, []).append(results["accuracy_all"])
    scored = "full test set" if args.test_split == "test" else "validation split"
    print(f"\nfew-shot MNIST ({scored}, all-activity vote):")
    for size, values in table.items():
        sd = np.std(values, ddof=1) if len(values) > 1 else 0.0  # sample sd, as the sweeps
        print(f"  {size:>4} images: {100 * np.mean(values):.2f} +- {100 * sd:.2f}% "
              f"over {len(values)} seeds (paper {100 * PAPER.get(size, float('nan')):.2f}%)")


def pixel_baseline(args, argv):
    """1-NN (cosine) on the pixels of each size's and seed's balanced draw: the
    images ``accuracy.py --balanced`` trains on, scored on the same split."""
    data_dir = args.data_dir or str(HERE.parent.parent / "shared" / "data")
    test_samples = 10000 if args.test_samples is None else args.test_samples
    train = load_dataset("mnist", "train", data_dir)
    flat = lambda images: images.reshape(len(images), -1) / 255.0  # noqa: E731
    if args.test_split == "validation":
        first = TRAINING_IMAGES - test_samples  # as training.first_validation_image
        scored_x, scored_y = flat(train.images[first:]), train.labels[first:]
    else:
        first = len(train.labels)
        test = load_dataset("mnist", "test", data_dir)
        scored_x, scored_y = flat(test.images), test.labels
    accuracies = {}
    for size in args.sizes:
        for seed in args.seeds:
            drawn = balanced_subset(train.labels[:first], size, seed)
            accuracies.setdefault(str(size), []).append(nearest_neighbour_readout(
                flat(train.images[drawn]), train.labels[drawn], scored_x, scored_y))
    result = {"readout": "1-nearest-neighbour (cosine) on the drawn images' pixels",
              "test_split": args.test_split, "scored_images": len(scored_y),
              "seeds": list(args.seeds), "accuracy": accuracies,
              "machine": machine_info(),
              "benchmark": {"command": "python benchmarks/few_shot.py " + " ".join(argv),
                            "date": time.strftime("%Y-%m-%d")}}
    name = "adaptive_conv_pixel_baseline_few_shot" + (
        "_validation" if args.test_split == "validation" else "")
    (HERE / "results").mkdir(exist_ok=True)
    write_text_atomically(HERE / "results" / f"{name}.json", json.dumps(result, indent=2))
    print(f"few-shot MNIST, 1-NN on the drawn images' pixels ({len(scored_y)} images "
          f"scored):")
    for size, values in accuracies.items():
        sd = np.std(values, ddof=1) if len(values) > 1 else 0.0
        print(f"  {size:>4} images: {100 * np.mean(values):.2f} +- {100 * sd:.2f}% "
              f"over {len(values)} seeds (paper's SNN "
              f"{100 * PAPER.get(int(size), float('nan')):.2f}%)")
    return result


if __name__ == "__main__":
    main()
