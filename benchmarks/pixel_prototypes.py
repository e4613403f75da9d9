"""A prototype network's ideal: the nearest of K k-means prototypes of the pixels.

Diehl & Cook's network (and the sym-STDP hidden layer) classify by letting each
excitatory neuron learn a prototype image and voting with the labels assigned to
the neurons. Its ideal is a nearest-prototype classifier: K prototypes found by
k-means (scikit-learn) on all 60,000 L2-normalised training images (on the first
N with ``--fit-samples N``), each labelled by Diehl & Cook's assignment from the
first ``--assign-samples`` training images (the images the network's labels come
from), and each test image answered by its nearest prototype's label. This puts
the accuracy targets of a K-neuron network next to what K ideal prototypes reach
on the same images. It is not a spiking model, nor a strict bound (the network's
vote may average several neurons); the voting rule is
:func:`conv_features.prototype_readout`'s.

Usage (the table in docs/benchmarks.md came from)::

    python benchmarks/pixel_prototypes.py --dataset mnist
    python benchmarks/pixel_prototypes.py --dataset fashion-mnist

Writes ``benchmarks/results/pixel_prototypes_<dataset>.json``.
"""

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from bioplastic.atomicfile import write_text_atomically
from bioplastic.datasets import DATASETS, load_dataset
from bioplastic.encoding import intensities
from bioplastic.training import machine_info
from conv_features import prototype_readout

HERE = Path(__file__).resolve().parent


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="mnist", choices=sorted(DATASETS))
    parser.add_argument("--prototypes", type=int, nargs="+", default=[100, 400, 1600],
                        metavar="K", help="numbers of prototypes (network sizes)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3],
                        help="k-means initialisations")
    parser.add_argument("--fit-samples", type=int, default=None, metavar="N",
                        help="find the prototypes in the first N training images "
                             "(default: all)")
    parser.add_argument("--assign-samples", type=int, default=10000,
                        help="label the prototypes with the first this many training images")
    parser.add_argument("--data-dir", default=str(HERE.parent.parent / "shared" / "data"))
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    train = load_dataset(args.dataset, "train", args.data_dir)
    test = load_dataset(args.dataset, "test", args.data_dir)
    if not 0 < args.assign_samples <= len(train.images):
        parser.error(f"--assign-samples must be in 1..{len(train.images)}, "
                     f"got {args.assign_samples}")
    fit_samples = len(train.images) if args.fit_samples is None else args.fit_samples
    if not 0 < fit_samples <= len(train.images):
        parser.error(f"--fit-samples must be in 1..{len(train.images)}, got {fit_samples}")
    train_x, test_x = intensities(train.images), intensities(test.images)
    assign = (train_x[:args.assign_samples], train.labels[:args.assign_samples])
    tic = time.time()
    fit_x, fit_y = train_x[:fit_samples], train.labels[:fit_samples]
    accuracy = {str(k): [prototype_readout(fit_x, fit_y, test_x, test.labels, k,
                                           seed, assign=assign) for seed in args.seeds]
                for k in args.prototypes}
    result = {
        "config": {"dataset": args.dataset, "prototypes": args.prototypes,
                   "seeds": args.seeds, "fit_samples": fit_samples,
                   "assign_samples": args.assign_samples, "test_samples": len(test.images)},
        "accuracy": accuracy,
        "total_seconds": time.time() - tic,
        "machine": machine_info(),
        "benchmark": {"command": "python benchmarks/pixel_prototypes.py "
                      + " ".join(sys.argv[1:] if argv is None else argv),
                      "date": time.strftime("%Y-%m-%d")},
    }
    write_text_atomically(HERE / "results" / f"pixel_prototypes_{args.dataset}.json",
                          json.dumps(result, indent=2))
    print(f"{args.dataset}: nearest of K k-means prototypes of the pixels, labelled from "
          f"{args.assign_samples} training images, full test set")
    for k, values in accuracy.items():
        sd = np.std(values, ddof=1) if len(values) > 1 else 0.0
        print(f"  K = {k:>5}: {100 * np.mean(values):.2f} +- {100 * sd:.2f}% "
              f"over {len(values)} seeds")
    print(f"machine: {result['machine']}")
    return result


if __name__ == "__main__":
    main()
