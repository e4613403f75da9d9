"""Train the later layers of finished runs again, with other settings, on the same earlier layers.

A layer-wise model learns one layer at a time: the adaptive convolutional network
its kernels (``train_conv``) and then its fully connected voting layer
(``train_fc``); sym-STDP's layer-by-layer schedule its hidden layer
(``train_hidden``) and then its supervised layer (``train_supervised``). To compare
settings of a later layer, this script keeps everything the run learned before
``--from`` and trains that layer (and any after it) again from the weights a new
run with the same seed starts from, then assigns labels and scores. With no
``--set`` it repeats the run's own figures (the same seeds drive every chunk).

``--test-split validation`` scores the last ``--test-samples`` training images
instead of the test set, for choosing settings without looking at the test set;
the retrained layer must then see fewer images (``--train-samples``, at most
60,000 minus the split, as must ``--assign-samples``). Layers kept from the run
may have seen those images without labels; the result records that
(``kept_phases_saw_validation_images``).

Usage (figures in benchmarks/NOTES.md)::

    python benchmarks/retrain.py runs/bench-conv400-v2 --from train_fc \\
        --set fc_w_max=0.25 --test-split validation --train-samples 50000 \\
        --out runs/retrain --name retrain_conv_400_fc-w-max-0.25_validation

Writes ``benchmarks/results/NAME.json`` (the run's results, with a ``retrained``
record of the source run and what changed, and the command and machine) after
each run; ``benchmarks/report.py`` lists them. The same command again resumes
an interrupted retraining from its last checkpoint (``wall_seconds`` then counts
this command's part only; ``phases`` holds the whole time).
"""

import argparse
import json
import shlex
import sys
import time
from pathlib import Path

from bioplastic.atomicfile import write_text_atomically
from bioplastic.cli import USER_ERRORS
from bioplastic.rerun import retrain
from bioplastic.training import TEST_SPLITS, machine_info

HERE = Path(__file__).resolve().parent


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", help="finished run folders")
    parser.add_argument("--from", dest="from_phase", required=True,
                        help="first training phase to run again (e.g. train_fc, "
                             "train_supervised)")
    parser.add_argument("--out", required=True, help="folder for the retrained copies")
    parser.add_argument("--name", default="retrain", help="result file name (without .json)")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                        help="model-file value for the phases run again")
    parser.add_argument("--test-split", choices=TEST_SPLITS, default=None)
    for option in ("train-samples", "epochs", "assign-samples", "test-samples"):
        parser.add_argument(f"--{option}", type=int, default=None)
    parser.add_argument("--data-dir", default=None)
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    overrides = dict(item.split("=", 1) for item in args.set)
    changes = {name: getattr(args, name) for name in
               ("test_split", "train_samples", "epochs", "assign_samples", "test_samples")
               if getattr(args, name) is not None}
    # quoted as a shell needs it (e.g. 'tau_plus=5*ms'), to be pasted as it is
    figures = {"command": shlex.join(["python", "benchmarks/retrain.py"]
                                     + list(sys.argv[1:] if argv is None else argv)),
               "date": time.strftime("%Y-%m-%d"), "machine": machine_info(), "runs": []}
    for run_dir in args.runs:
        tic = time.perf_counter()
        try:
            results = retrain(run_dir, Path(args.out) / Path(run_dir).name, args.from_phase,
                              overrides, changes, args.data_dir)
        except USER_ERRORS as error:
            parser.exit(2, f"{parser.prog}: error: {error}\n")
        accuracies = {k: v for k, v in results.items()
                      if k.startswith("accuracy") and not k.endswith("count_only")}
        figures["runs"].append({
            "run": str(run_dir), "retrained": results["retrained"],
            "test_split": results["config"]["test_split"],
            "test_samples": results["config"]["test_samples"],
            "accuracies": accuracies, "wall_seconds": time.perf_counter() - tic,
            "phases": results["phases"]})
        shown = ", ".join(f"{k} {100 * v:.2f}%" for k, v in accuracies.items())
        print(f"{run_dir} retrained from {args.from_phase} "
              f"({results['config']['test_split']} split): {shown}")
        # after each run: a later refusal or interruption loses none of these
        write_text_atomically(HERE / "results" / f"{args.name}.json",
                              json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
