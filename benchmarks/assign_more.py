"""Re-score a finished run with labels assigned on more training images.

The Diehl & Cook evaluation assigns each excitatory neuron the class it answers
most, from the frozen network's responses to ``assign_samples`` training images
(10,000 in this package's benchmarks). The original code's evaluation script used
all 60,000. This benchmark copies a finished run folder, extends its assignment
phase to ``--assign-samples`` images (the weights and thresholds are untouched;
only the extra images are simulated), and prints the accuracy of both votes when
the labels come from the first 10,000, 20,000, ... of them.

Usage (the figures in benchmarks/NOTES.md came from)::

    python benchmarks/assign_more.py runs/sweep-dc100-block/points/seed=1-d67d1668 \\
        --out runs/assign60k-seed1 --assign-samples 60000

The copy is an ordinary run folder: interrupted, the same command resumes it.
"""

import argparse
import json
import shutil
import sys
from pathlib import Path

from bioplastic import evaluation
from bioplastic.checkpoint import load_checkpoint, save_checkpoint
from bioplastic.training import CHECKPOINT, Run, config_from_checkpoint, machine_info


def extended_copy(source, out, assign_samples):
    """Copy the run folder ``source`` to ``out`` with a longer assignment phase."""
    if out.exists():
        return  # resume the copy made by an earlier call
    _, meta = load_checkpoint(source / CHECKPOINT)
    done = meta["progress"].get("assign", {}).get("position")
    if done is None:
        raise SystemExit(f"{source}: this run has no assignment phase")
    if assign_samples <= done:
        raise SystemExit(f"--assign-samples {assign_samples}: the run already assigned "
                         f"labels on {done} images; ask for more")
    shutil.copytree(source, out)
    arrays, meta = load_checkpoint(out / CHECKPOINT)
    meta["config"]["assign_samples"] = assign_samples
    meta["progress"]["assign"]["done"] = False
    save_checkpoint(out / CHECKPOINT, arrays, meta)


def accuracies(arrays, sizes):
    """Both votes' test accuracy with labels from the first ``size`` assignment images."""
    table = {}
    for size in sizes:
        assignments, rates = evaluation.assign_labels(arrays["assign_counts"][:size],
                                                      arrays["assign_labels"][:size])
        table[size] = {}
        for vote in evaluation.VOTES:
            predictions, _ = evaluation.predict(arrays["test_counts"], assignments, rates,
                                                vote)
            table[size][vote] = evaluation.accuracy(predictions, arrays["test_labels"])
    return table


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", help="finished run folder (with checkpoint.npz)")
    parser.add_argument("--out", required=True, help="folder for the extended copy")
    parser.add_argument("--assign-samples", type=int, default=60000)
    parser.add_argument("--data-dir", default=None,
                        help="data folder (default: the one the run used)")
    args = parser.parse_args(argv)
    source, out = Path(args.run), Path(args.out)
    extended_copy(source, out, args.assign_samples)
    config = config_from_checkpoint(out)
    if args.data_dir:
        config.data_dir = args.data_dir
    run = Run(config, out, progress=True)
    run.run()
    first = load_checkpoint(source / CHECKPOINT)[1]["config"]["assign_samples"]
    sizes = sorted({first, *range(first, args.assign_samples + 1, 10000),
                    args.assign_samples})
    table = accuracies(run.arrays, sizes)
    print(f"{source} (seed {config.seed}), test set of {config.test_samples}:")
    print("| assignment images | all-activity | proportion |")
    print("|---|---|---|")
    for size in sizes:
        print(f"| {size} | {100 * table[size]['all']:.2f}% "
              f"| {100 * table[size]['proportion']:.2f}% |")
    machine = machine_info()
    print(f"machine: {machine['cpu']} ({machine['cores']} cores), Brian2 {machine['brian2']}")
    (out / "assign_more.json").write_text(json.dumps(
        {"source": str(source), "table": table, "machine": machine,
         "command": "python benchmarks/assign_more.py " + " ".join(
             sys.argv[1:] if argv is None else argv)}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
