"""When to read the answer of a trained MSTDP network.

The test phase clamps each test image for ``test_cycles`` clamped/free cycles (the
paper's 3) and answers with the label neuron of largest state at the end of the
last clamped phase. This benchmark classifies a finished run's test set again
with ``--cycles`` cycles and prints the accuracy of the answer read at the end of
every clamped and every free phase, so that one simulation shows how the answer
depends on when it is read. Nothing learns; the run folder is not changed.

The run's own answer is the end of clamped phase ``test_cycles``. It is not
reproduced exactly: the state s carries over from sample to sample, and the
checkpoint holds s after the test phase, not after training, so the first test
samples start from another state (both figures are printed).

Usage (the figures in benchmarks/NOTES.md came from)::

    python benchmarks/mstdp_readout.py runs/bench-mstdp-64-3ep --cycles 10
"""

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from bioplastic import mstdp
from bioplastic.checkpoint import load_checkpoint
from bioplastic.datasets import load_dataset
from bioplastic.training import CHECKPOINT, RESULTS, config_from_checkpoint, machine_info


def phase_end_accuracies(ends, labels):
    """Accuracy of the label read at each phase end: ``(clamped, free)`` per cycle.

    ``ends`` has the shape of :meth:`EnergyNetwork._phase_ends` (label neurons):
    index 0 is the sample's start, then clamped and free phase ends alternate.
    """
    correct = mstdp.predict(ends.reshape(-1, ends.shape[-1])).reshape(ends.shape[:2])
    accuracy = (correct == np.asarray(labels)[:, None]).mean(axis=0)
    return accuracy[1::2], accuracy[2::2]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", help="finished MSTDP run folder")
    parser.add_argument("--cycles", type=int, default=10, help="clamped/free cycles per image")
    parser.add_argument("--device", default=None, help="Brian2 device (default: the package's)")
    parser.add_argument("--test-samples", type=int, default=None,
                        help="the first N test images (default: as many as the run's test)")
    parser.add_argument("--data-dir", default=None)
    args = parser.parse_args(argv)
    folder = Path(args.run)
    config = config_from_checkpoint(folder)
    results_path = folder / RESULTS
    if config.model != "mstdp" or not results_path.exists():
        raise SystemExit(f"{folder}: not a finished MSTDP run (model {config.model!r}, "
                         f"{RESULTS} {'present' if results_path.exists() else 'missing'})")
    if args.cycles < 1:
        raise SystemExit(f"--cycles must be a positive integer, got {args.cycles}")
    run_accuracy = json.loads(results_path.read_text())["accuracy_label"]
    arrays, _ = load_checkpoint(folder / CHECKPOINT)
    state = {key: np.array(arrays[key]) for key in mstdp.STATE_KEYS}
    model = mstdp.load_model(config.model_file,
                             {**config.overrides, "test_cycles": str(args.cycles)})
    test = load_dataset(config.dataset, "test", data_dir=args.data_dir or config.data_dir)
    n = args.test_samples or config.test_samples
    images = test.intensities()[:n].reshape(n, -1)
    start = time.perf_counter()
    ends = mstdp.classify_phase_ends(model, state, config.n_neurons, images, args.device,
                                     config.seed, chunk_slots=500)
    seconds = time.perf_counter() - start
    clamped, free = phase_end_accuracies(ends, test.labels[:n])
    print(f"{folder}: {config.n_neurons} hidden neurons, {config.train_samples} x "
          f"{config.epochs} training samples, {n} test images, {args.cycles} cycles "
          f"({seconds / 60:.1f} min)")
    print("| cycle | end of clamped phase | end of free phase |")
    print("|---|---|---|")
    for cycle, (c, f) in enumerate(zip(clamped, free), start=1):
        print(f"| {cycle} | {100 * c:.2f}% | {100 * f:.2f}% |")
    own = int(mstdp.load_model(config.model_file, config.overrides)["test_cycles"])
    here = (f"{100 * clamped[own - 1]:.2f}% here on {n}" if own <= args.cycles
            else "not read here")
    print(f"the run's own answer (end of clamped phase {own}): {100 * run_accuracy:.2f}% "
          f"on its {config.test_samples} test images, {here}")
    machine = machine_info()
    print(f"machine: {machine['cpu']} ({machine['cores']} cores), Brian2 {machine['brian2']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
