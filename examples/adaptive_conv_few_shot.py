#!/usr/bin/env python
"""
Few-shot learning with the adaptive convolutional STDP network (Dong et al. 2023)
=================================================================================

Trains the adaptive convolutional STDP network on a handful of MNIST images (the
same number per class, drawn with the seed), shows them again and again, assigns
labels from the same images and scores the test set. Each training-set size is
run with several seeds; the script prints mean +- sample standard deviation next
to the paper's Table 3 (51.45 / 72.88 / 75.44 / 81.45% for 10 / 50 / 100 / 200
images).

Y. Dong, D. Zhao, Y. Li and Y. Zeng (2023), An unsupervised STDP-based spiking
neural network inspired by biologically plausible learning rules and connections,
Neural Networks 165:799-808.

Run (about 2 minutes on two CPU cores: 2 sizes x 2 seeds, 1,000 test images)::

    python examples/adaptive_conv_few_shot.py --data-dir ../shared/data

The table in docs/benchmarks.md (3 seeds, 1,000 presentations per layer, full test
set; 34.8 / 46.1 / 53.3 / 59.2% since the frozen layer answers with several
neurons, 2026-11-28)::

    python examples/adaptive_conv_few_shot.py --sizes 10 50 100 200 --seeds 1 2 3 \\
        --presentations 1000 --test-samples 10000 --out runs/conv-few-shot

Seeds and sizes change only the data, so the compiled networks are reused.
"""

import argparse
import math
from pathlib import Path

import numpy as np

from bioplastic.training import Run, RunConfig

#: the paper's Table 3: training images -> test accuracy (%) of the SNN
PAPER = {10: 51.45, 50: 72.88, 100: 75.44, 200: 81.45}

parser = argparse.ArgumentParser(description="Few-shot adaptive conv STDP")
parser.add_argument("--sizes", type=int, nargs="+", default=[10, 50],
                    help="training images (a multiple of 10: the same number per class)")
parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2])
parser.add_argument("--presentations", type=int, default=500,
                    help="presentations per layer (epochs = presentations / size)")
parser.add_argument("--neurons", type=int, default=100, help="fully connected neurons")
parser.add_argument("--test-samples", type=int, default=1000)
parser.add_argument("--device", default="cpp_standalone", choices=["cpp_standalone", "runtime"])
parser.add_argument("--data-dir", default=None)
parser.add_argument("--out", default="runs/example-conv-few-shot")
args = parser.parse_args()

for size in args.sizes:
    accuracies = []
    for seed in args.seeds:
        config = RunConfig(model="adaptive-conv", n_neurons=args.neurons, train_samples=size,
                           balanced=True, epochs=max(1, math.ceil(args.presentations / size)),
                           test_samples=args.test_samples, seed=seed, device=args.device,
                           chunk_slots=500, data_dir=args.data_dir)
        results = Run(config, Path(args.out) / f"{size}-seed{seed}").run()
        accuracies.append(100 * results["accuracy_all"])
    sd = np.std(accuracies, ddof=1) if len(accuracies) > 1 else float("nan")
    print(f"{size:>4} images: {np.mean(accuracies):.2f} +- {sd:.2f}% over {len(accuracies)} "
          f"seeds (paper: {PAPER.get(size, float('nan')):.2f}%)")
