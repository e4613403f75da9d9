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

``--assign-samples N`` labels the neurons from the first N training images
(default: the run's own number, usually 10,000); a validation split must start
after them.

``--workers N`` re-tests N runs at a time, each in a process of its own (a run's
test phase uses one core). The figures of each run are the same as in one process.

Usage (figures in benchmarks/NOTES.md and docs/benchmarks.md)::

    python benchmarks/retest.py runs/RUN_A runs/RUN_B --out runs/retest --name NAME \
        [--set v_thresh_supervised=-64*mV] [--test-split validation] [--workers 2]

Writes ``benchmarks/results/NAME.json`` with the stored and the new accuracies
after each run, in the order the runs were named; ``benchmarks/report.py`` lists
them. The same command again resumes an interrupted rerun from its last checkpoint.
"""

import argparse
import json
import multiprocessing
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

import numpy as np

from bioplastic.atomicfile import write_text_atomically
from bioplastic.checkpoint import load_checkpoint
from bioplastic.cli import USER_ERRORS
from bioplastic.rerun import prepare_rerun
from bioplastic.training import (CHECKPOINT, RESULTS, TEST_SPLITS, Run,
                                 config_from_checkpoint, machine_info)

HERE = Path(__file__).resolve().parent


def retest(run_dir, out_dir, data_dir=None, test_overrides=None, test_split=None,
           assign_samples=None):
    """Re-run the test phase of ``run_dir`` in ``out_dir``; returns its figures.

    With ``test_overrides`` (or another ``test_split`` or ``assign_samples``) the
    label assignment runs again too, as a changed value may change it.
    """
    run_dir, out_dir = Path(run_dir), Path(out_dir)
    changes = {"test_split": test_split} if test_split else {}
    if assign_samples:
        changes["assign_samples"] = int(assign_samples)
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
            "assign_samples": config.assign_samples,
            "stored_accuracy": before.get("accuracy"),
            "accuracies": {k: v for k, v in results.items() if k.startswith("accuracy")},
            "repeated_exactly": repeated,
            "test_seconds": results["phases"]["test"]["seconds"]}


def _report(run):
    """One line per re-tested run: stored and new accuracies, and what repeated."""
    accuracies = ", ".join(f"{k} {100 * v:.2f}%" for k, v in run["accuracies"].items())
    repeated = ", ".join(f"{k} {'yes' if v else 'no'}"
                         for k, v in run["repeated_exactly"].items())
    return (f"{run['run']}: stored {100 * run['stored_accuracy']:.2f}%; now {accuracies}; "
            f"repeated exactly: {repeated}")


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
    parser.add_argument("--assign-samples", type=int, default=None,
                        help="label the neurons from this many training images (from the "
                             "first) instead of the run's own number")
    parser.add_argument("--results-dir", default=str(HERE / "results"),
                        help="folder for NAME.json (default benchmarks/results)")
    parser.add_argument("--workers", type=int, default=1,
                        help="runs re-tested at a time, one process each (default 1)")
    args = parser.parse_args(argv)
    if args.workers < 1:
        parser.error(f"--workers must be 1 or more, not {args.workers}")
    names = [Path(run).name for run in args.runs]
    if len(set(names)) != len(names):  # each copy is --out/<folder name>
        parser.error("two run folders have the same name: " + ", ".join(
            sorted({name for name in names if names.count(name) > 1})))
    test_overrides = dict(item.split("=", 1) for item in args.set)
    figures = {"command": "python benchmarks/retest.py " + " ".join(
                   sys.argv[1:] if argv is None else argv),
               "date": time.strftime("%Y-%m-%d"), "machine": machine_info(), "runs": []}
    jobs = [(run_dir, Path(args.out) / Path(run_dir).name, args.data_dir, test_overrides,
             args.test_split, args.assign_samples) for run_dir in args.runs]
    done = {}

    def record(index, run):
        done[index] = run
        print(_report(run), flush=True)
        # after each run, in the order named: a later refusal or interruption loses
        # none of these
        figures["runs"] = [done[i] for i in sorted(done)]
        write_text_atomically(Path(args.results_dir) / f"{args.name}.json",
                              json.dumps(figures, indent=2))

    try:
        if args.workers == 1:
            for index, job in enumerate(jobs):
                record(index, retest(*job))
        else:
            # spawn, and a new process for each run (Python 3.11+): each run imports
            # Brian2 afresh, with no device state inherited from another
            fresh = {"max_tasks_per_child": 1} if sys.version_info >= (3, 11) else {}
            context = multiprocessing.get_context("spawn")
            with ProcessPoolExecutor(args.workers, mp_context=context, **fresh) as pool:
                futures = {pool.submit(retest, *job): index for index, job in enumerate(jobs)}
                try:
                    for future in as_completed(futures):
                        record(futures[future], future.result())
                except BaseException:
                    pool.shutdown(cancel_futures=True)  # start no more after a failure
                    raise
    except USER_ERRORS as error:
        parser.exit(2, f"{parser.prog}: error: {error}\n")


if __name__ == "__main__":
    main()
