"""Accuracy benchmark: train, (assign labels,) test on the full test set.

Prints the accuracy on the test set, how long each phase took, and the machine;
writes the full result to ``benchmarks/results/<name>.json`` (used by the docs).

Usage (the figures in docs/benchmarks.md came from these commands)::

    python benchmarks/diehl_cook_accuracy.py --neurons 400 --dataset mnist
    python benchmarks/diehl_cook_accuracy.py --neurons 400 --dataset fashion-mnist
    python benchmarks/diehl_cook_accuracy.py --neurons 100 --dataset mnist
    python benchmarks/accuracy.py --model sym-stdp --neurons 400 --schedule layer-by-layer
    python benchmarks/accuracy.py --model sym-stdp --neurons 400 --dataset fashion-mnist \
        --set scaling_beta=0.05 --set tau_theta=5e7*ms --set theta_plus=0.05*mV
    python benchmarks/accuracy.py --model mstdp --neurons 2048 --train-samples 10000
    python benchmarks/accuracy.py --model adaptive-conv --neurons 400
    python benchmarks/accuracy.py --model adaptive-conv --neurons 400 \
        --dataset fashion-mnist --set kernel_size=3 --set kernels=64

(The adaptive convolutional network's ablation and few-shot tables come from
``conv_ablation.py`` and ``few_shot.py``, which call this script.)

For ``--model mstdp`` the trained network also generates ``--per-label`` digits of
each class and classifies them (``bioplastic generate``); the fraction it labels
with their own class is reported as ``generation.self_classified``.

(``diehl_cook_accuracy.py`` is this script with ``--model diehl-cook``.)

The run folder (``--out``) holds a checkpoint: killing and restarting the same
command resumes where it stopped.
"""

import argparse
import json
import sys
import time
from pathlib import Path

from bioplastic.atomicfile import write_text_atomically
from bioplastic.modelfile import find_model_file, parse_model_file
from bioplastic.cli import print_results
from bioplastic.training import MODELS, TEST_SPLITS, Run, RunConfig

HERE = Path(__file__).resolve().parent


def model_file_changes(model, path):
    """``{field: value}`` of the fields in which ``path`` differs from the shipped file."""
    shipped = parse_model_file(find_model_file(MODELS[model]().MODEL_FILE)).fingerprint()
    edited = parse_model_file(path).fingerprint()
    return {name: edited.get(name, "(removed)")
            for name in sorted(set(shipped) | set(edited))
            if shipped.get(name) != edited.get(name)}


def main(argv=None, script="accuracy.py", model="diehl-cook", record=None):
    """Train, assign and test one network; write and print its results.

    ``record`` (a dict) is added to the result's ``benchmark`` entry: what a calling
    script was asked for that the run's configuration does not hold.
    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=model, choices=sorted(MODELS))
    parser.add_argument("--schedule", default=None,
                        help="training schedule (sym-stdp: layer-by-layer or simultaneous)")
    parser.add_argument("--neurons", type=int, default=400)
    parser.add_argument("--dataset", default="mnist", choices=["mnist", "fashion-mnist"])
    parser.add_argument("--train-samples", type=int, default=60000)
    parser.add_argument("--assign-samples", type=int, default=10000)
    parser.add_argument("--test-samples", type=int, default=10000)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--balanced", action="store_true",
                        help="few-shot: train and assign on --train-samples images, the "
                             "same number per class, drawn with --seed")
    parser.add_argument("--test-split", default="test", choices=TEST_SPLITS,
                        help="score the test set, or the last --test-samples training "
                             "images (a validation split, for choosing settings)")
    parser.add_argument("--device", default="cpp_standalone")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--data-dir", default=str(HERE.parent.parent / "shared" / "data"))
    parser.add_argument("--out", default=None, help="run folder (default runs/bench-...)")
    parser.add_argument("--name", default=None, help="result file name (without .json)")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                        help="override a model-file parameter")
    parser.add_argument("--model-file", default=None,
                        help="an edited copy of the model file (default: the shipped one)")
    parser.add_argument("--per-label", type=int, default=10,
                        help="mstdp: digits generated per class after training")
    parser.add_argument("--chunk-slots", type=int, default=500,
                        help="samples per Brian2 run (checkpoint interval)")
    args = parser.parse_args(argv)
    overrides = dict(item.split("=", 1) for item in args.set)
    config = RunConfig(model=args.model, schedule=args.schedule, n_neurons=args.neurons,
                       dataset=args.dataset,
                       train_samples=args.train_samples, epochs=args.epochs,
                       assign_samples=args.assign_samples, test_samples=args.test_samples,
                       device=args.device, seed=args.seed, data_dir=args.data_dir,
                       chunk_slots=args.chunk_slots, overrides=overrides,
                       model_file=args.model_file,
                       balanced=args.balanced, test_split=args.test_split).validate()
    schedule = f"_{config.schedule}" if config.schedule else ""
    split = "_validation" if config.test_split == "validation" else ""  # never a test row
    name = args.name or (f"{args.model.replace('-', '_')}{schedule}_{args.dataset}_"
                         f"{args.neurons}{split}")
    out = Path(args.out or f"runs/bench-{name}")
    wall = time.time()
    results = Run(config, out).run()
    if args.model == "mstdp" and args.per_label:
        from bioplastic.generation import generate_run
        from bioplastic.plotting import plot_run
        tic = time.time()
        generated = generate_run(out, args.per_label, args.device, args.seed)
        results["generation"] = {"per_label": args.per_label,
                                 "self_classified": generated["accuracy"],
                                 "seconds": time.time() - tic}
        plot_run(out)
    if args.model_file:
        # the edited file may not travel with the result: record what it changes
        results["model_file_changes"] = model_file_changes(args.model, args.model_file)
    results["benchmark"] = {"command": f"python benchmarks/{script} "
                            + " ".join(sys.argv[1:] if argv is None else argv),
                            "wall_seconds_this_invocation": time.time() - wall,
                            "date": time.strftime("%Y-%m-%d"), **(record or {})}
    write_text_atomically(HERE / "results" / f"{name}.json", json.dumps(results, indent=2))
    print(f"model {args.model} {config.schedule or ''}, {args.neurons} neurons, "
          f"{args.dataset}, device {args.device}")
    print_results(results)
    if "generation" in results:
        print(f"generated digits labelled as their own class: "
              f"{100 * results['generation']['self_classified']:.1f}%")
    print(f"machine: {results['machine']}")
    return results


if __name__ == "__main__":
    main()
