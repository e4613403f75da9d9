"""Diagnose the supervised layer's answers of finished sym-STDP runs.

The sym-STDP answer is the most active supervised-layer (SL) neuron; with few SL
spikes per image several neurons often share the top count, and
:func:`bioplastic.evaluation.predict_from_outputs` gives such a tie to the lowest
class index. This benchmark reads the saved test counts of finished run folders
(nothing is simulated) and prints, per run:

* hidden and SL spikes per test image, and how many hidden neurons fire;
* the share of test images whose top SL count is tied, the share of those where
  the label's neuron is among the tied ones, and the accuracy on the untied
  images (a selected, easier subset: not comparable with a test-set figure); an
  image without SL spikes counts as a tie of all ten neurons;
* the accuracy with ties broken uniformly at random (mean of 20 draws) instead of
  towards the lowest index, and, for runs that recorded the SL first spikes (since
  2026-11-26), by the first spike as the run's own answer does;
* the accuracy of a linear readout of the hidden counts through the learned
  hidden -> SL weights (what a noise-free SL layer would answer).

Usage (the figures in benchmarks/NOTES.md came from)::

    python benchmarks/supervised_readout.py runs/sweep-sym_stdp_400_tau_gi/points/*seed=2* \\
        runs/sweep-sym_stdp_fashion_400_tau_gi/points/*
"""

import argparse
import sys
from pathlib import Path

import numpy as np

from bioplastic import evaluation
from bioplastic.checkpoint import load_checkpoint
from bioplastic.training import CHECKPOINT, machine_info

TIE_BREAK_DRAWS = 20


def readout_figures(arrays, seed=0):
    """Figures of one finished run's test phase (see the module docstring)."""
    counts, outputs = arrays["test_counts"], arrays["test_outputs"]
    labels = arrays["test_labels"]
    weights = arrays["supervised_weights"]  # (hidden, classes), as the run stores it
    top = outputs.max(axis=1)
    tied = (outputs == top[:, None]).sum(axis=1) > 1
    label_on_top = outputs[np.arange(len(labels)), labels] == top
    correct = evaluation.predict_from_outputs(outputs) == labels
    rng = np.random.default_rng(seed)
    # a jitter below 1 only reorders equal counts; silent images keep no answer
    random_break = [evaluation.accuracy(evaluation.predict_from_outputs(
        np.where(top[:, None] > 0, outputs + 0.5 * rng.random(outputs.shape), 0)), labels)
        for _ in range(TIE_BREAK_DRAWS)]
    figures = {
        "hidden spikes per image": float(counts.sum(axis=1).mean()),
        "active hidden neurons per image": float((counts > 0).sum(axis=1).mean()),
        "SL spikes per image": float(outputs.sum(axis=1).mean()),
        "tied images": float(tied.mean()),
        "tied images with the label among the tied": float(label_on_top[tied].mean()),
        "SL accuracy, ties to the lowest index": float(correct.mean()),
        "SL accuracy, untied images": float(correct[~tied].mean()),
        "SL accuracy, random tie break": float(np.mean(random_break)),
        "linear readout of learned weights": evaluation.accuracy(
            np.argmax(counts @ weights, axis=1), labels),
    }
    if "test_first_spikes" in arrays:
        figures["SL accuracy, first-spike tie break"] = evaluation.accuracy(
            evaluation.predict_from_outputs(outputs, arrays["test_first_spikes"]), labels)
    return figures


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", help="finished sym-STDP run folders")
    args = parser.parse_args(argv)
    rows = []
    for folder in map(Path, args.runs):
        arrays, meta = load_checkpoint(folder / CHECKPOINT)
        if meta["config"]["model"] != "sym-stdp" or "test_outputs" not in arrays:
            raise SystemExit(f"{folder}: not a finished sym-STDP run (no test_outputs in "
                             f"{CHECKPOINT})")
        config = meta["config"]
        settings = ", ".join(f"{k}={v}" for k, v in sorted(config["overrides"].items()))
        rows.append((f"{config['dataset']} seed {config['seed']} {settings}",
                     readout_figures(arrays)))
    names = list(dict.fromkeys(name for _, figures in rows for name in figures))
    print("| run | " + " | ".join(names) + " |")
    print("|---" * (len(names) + 1) + "|")
    for title, figures in rows:
        # "per image" figures are counts, the others fractions; "-": not recorded
        cells = ["-" if k not in figures else f"{figures[k]:.1f}" if "per image" in k
                 else f"{100 * figures[k]:.2f}%" for k in names]
        print(f"| {title} | " + " | ".join(cells) + " |")
    machine = machine_info()
    print(f"machine: {machine['cpu']} ({machine['cores']} cores); nothing simulated")
    return 0


if __name__ == "__main__":
    sys.exit(main())
