#!/usr/bin/env python
"""
Ablation of the adaptive convolutional STDP network (Dong et al. 2023, Fig. 5)
==============================================================================

Trains and tests the adaptive convolutional STDP network once per step of the
paper's ablation, adding one module at a time: STDP only, then the adaptive
synaptic filter (ASF), adaptive threshold balance (ATB), adaptive lateral
inhibition (ALIC) and sample-temporal batch STDP (STB); the last step is the
default model. Each module is a switch in ``models/adaptive_conv_stdp.py``
(``asf_on``, ``atb_on``, ``alic_on``, ``stb_on``), so the steps differ only in
model-file values. Prints the accuracy of each step and draws the bar chart.

Y. Dong, D. Zhao, Y. Li and Y. Zeng (2023), An unsupervised STDP-based spiking
neural network inspired by biologically plausible learning rules and connections,
Neural Networks 165:799-808.

Run (each step compiles its own networks; 6 minutes here on two CPU cores, which
gave 10.7% -> 29.3% -> 34.3% -> 37.8% -> 58.4% on 1,000 test images)::

    python examples/adaptive_conv_ablation.py --data-dir ../shared/data

The table in docs/benchmarks.md (100 neurons, 10,000 images per layer, full test
set; 10.3% -> 35.1% -> 55.9% -> 54.6% -> 75.1%)::

    python examples/adaptive_conv_ablation.py --train-samples 10000 \\
        --assign-samples 10000 --test-samples 10000 --out runs/conv-ablation

``--steps stdp-only asf-atb-alic-stb`` runs only the steps named.
"""

import argparse
from pathlib import Path

from bioplastic.adaptive_conv import ABLATION_STEPS
from bioplastic.plotting import ablation_chart
from bioplastic.training import Run, RunConfig

names = [name for name, _ in ABLATION_STEPS]
parser = argparse.ArgumentParser(description="Adaptive conv STDP ablation")
parser.add_argument("--neurons", type=int, default=100, help="fully connected neurons")
parser.add_argument("--train-samples", type=int, default=2000, help="per layer")
parser.add_argument("--assign-samples", type=int, default=2000)
parser.add_argument("--test-samples", type=int, default=1000)
parser.add_argument("--steps", nargs="+", default=names, choices=names)
parser.add_argument("--device", default="cpp_standalone", choices=["cpp_standalone", "runtime"])
parser.add_argument("--data-dir", default=None)
parser.add_argument("--out", default="runs/example-conv-ablation")
args = parser.parse_args()

rows = []
for name, switches in ABLATION_STEPS:
    if name not in args.steps:
        continue
    config = RunConfig(model="adaptive-conv", n_neurons=args.neurons,
                       train_samples=args.train_samples, assign_samples=args.assign_samples,
                       test_samples=args.test_samples, device=args.device,
                       chunk_slots=500,  # as adaptive_conv_stdp.py: shares its compiled networks
                       curve_window=max(args.train_samples // 5, 10),
                       overrides={key: str(value) for key, value in switches.items()},
                       data_dir=args.data_dir)
    results = Run(config, Path(args.out) / name).run()  # each step resumes on its own
    rows.append((name, results["accuracy_all"]))
    print(f"{name:>18}: {100 * results['accuracy_all']:.1f}% on {args.test_samples} test images")

chart = ablation_chart(rows, Path(args.out) / "ablation.png",
                       title="Adaptive conv STDP ablation (MNIST test accuracy)")
print("figure:", chart)
