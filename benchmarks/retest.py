"""Re-run the test phase of finished runs with the current code.

Copies each run folder's checkpoint into a new folder, clears its test phase and
runs that phase again with the trained network, so that a change of the test-time
code (for example the supervised layer's tie-break by first spike) is compared on
the same trained weights. Each chunk's random seed derives from the run's seed, so
on the same device the test presentations repeat exactly: the script compares each
stored test record (hidden spike counts, output spike counts, labels) with the new
one and says which are equal.

``--set NAME=VALUE`` changes a model-file value for the test phase run again. Use
it only for values that training does not read: the script cannot tell, and a
value that training reads would make the copy describe a network that was never
trained. Example: the sym-STDP network's ``v_thresh_supervised``, which acts only
while the supervised layer does not learn (the teacher makes it fire while it
learns).

``--test-split validation`` scores the last ``test_samples`` training images
instead of the test set (labels assigned again). It is refused for a run whose
training or assignment used those images.

Usage (figures in benchmarks/NOTES.md and docs/benchmarks.md)::

    python benchmarks/retest.py runs/RUN_A runs/RUN_B --out runs/retest --name NAME \
        [--set v_thresh_supervised=-64*mV] [--test-split validation]

Writes ``benchmarks/results/NAME.json`` with the stored and the new accuracies
after each run; ``benchmarks/report.py`` lists them. The same command again
resumes an interrupted rerun from its last checkpoint.
"""

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from bioplastic.atomicfile import write_text_atomically
from bioplastic.checkpoint import load_checkpoint
from bioplastic.cli import USER_ERRORS
from bioplastic.rerun import prepare_rerun
from bioplastic.training import (CHECKPOINT, RESULTS, TEST_SPLITS, Run,
                                 config_from_checkpoint, machine_info)

HERE = Path(__file__).resolve().parent


def retest(run_dir, out_dir, data_dir=None, test_overrides=None, test_split=None):
    """Re-run the test phase of ``run_dir`` in ``out_dir``; returns its figures.

    With ``test_overrides`` (or another ``test_split``) the label assignment runs
    again too, as a changed value may change it.
    """
    run_dir, out_dir = Path(run_dir), Path(out_dir)
    changes = {"test_split": test_split} if test_split else {}
    kinds = ("assign", "test") if test_overrides or changes else ("test",)
    stored = prepare_rerun(run_dir, out_dir, kinds=kinds, overrides=test_overrides,
                           changes=changes)
    config = config_from_checkpoint(out_dir)
    if data_dir:
        config.data_dir = data_dir
    results = Run(config, out_dir, progress=False).run()
    arrays, _ = load_checkpoint(out_dir / CHECKPOINT)
    repeated = {key: bool(np.array_equal(arrays.get(key), value))
                for key, value in sorted(stored.items())}
    before = json.loads((run_dir / RESULTS).read_text())
    return {"run": str(run_dir), "dataset": config.dataset, "seed": config.seed,
            "neurons": config.n_neurons, "overrides": config.overrides,
            "test_overrides": dict(test_overrides or {}), "test_split": config.test_split,
            "stored_accuracy": before.get("accuracy"),
            "accuracies": {k: v for k, v in results.items() if k.startswith("accuracy")},
            "repeated_exactly": repeated,
            "test_seconds": results["phases"]["test"]["seconds"]}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", help="finished run folders")
    parser.add_argument("--out", required=True, help="folder for the re-tested copies")
    parser.add_argument("--name", default="retest")
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                        help="model-file value for the test phase only (see above)")
    parser.add_argument("--test-split", choices=TEST_SPLITS, default=None,
                        help="score this split instead of the run's own (see above)")
    args = parser.parse_args(argv)
    test_overrides = dict(item.split("=", 1) for item in args.set)
    figures = {"command": "python benchmarks/retest.py " + " ".join(
                   sys.argv[1:] if argv is None else argv),
               "date": time.strftime("%Y-%m-%d"), "machine": machine_info(), "runs": []}
    for run_dir in args.runs:
        try:
            run = retest(run_dir, Path(args.out) / Path(run_dir).name, args.data_dir,
                         test_overrides, args.test_split)
        except USER_ERRORS as error:
            parser.exit(2, f"{parser.prog}: error: {error}\n")
        figures["runs"].append(run)
        accuracies = ", ".join(f"{k} {100 * v:.2f}%" for k, v in run["accuracies"].items())
        repeated = ", ".join(f"{k} {'yes' if v else 'no'}"
                             for k, v in run["repeated_exactly"].items())
        print(f"{run_dir}: stored {100 * run['stored_accuracy']:.2f}%; now {accuracies}; "
              f"repeated exactly: {repeated}")
        # after each run: a later refusal or interruption loses none of these
        write_text_atomically(HERE / "results" / f"{args.name}.json",
                              json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
