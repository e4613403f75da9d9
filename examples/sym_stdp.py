#!/usr/bin/env python
"""
Supervised learning with symmetric STDP (Hao et al. 2020)
=========================================================

784 Poisson inputs drive a hidden layer of excitatory neurons with a dynamic
threshold and lateral inhibition (as in Diehl & Cook 2015), which drives a
supervised layer of 10 neurons. Both weight layers learn with a symmetric,
dopamine-modulated STDP rule (both spike orders potentiate) and are kept in check
by synaptic scaling. While the supervised layer learns, a teacher makes the neuron
of the shown digit fire at 200 Hz; at test time the most active supervised neuron
is the network's answer.

Y. Hao, X. Huang, M. Dong and B. Xu (2020). A biologically plausible supervised
learning method for spiking neural networks using the symmetric STDP rule.
Neural Networks 121:387-395.

The equations and parameters are in ``models/sym_stdp.py``; edit a copy and pass
it as ``--model-file`` (or change single values with ``--set NAME=VALUE``).

Run (a few minutes on two CPU cores)::

    python examples/sym_stdp.py --data-dir ../shared/data

The paper's 400-neuron network, layer by layer, on Fashion-MNIST::

    python examples/sym_stdp.py --hidden 400 --train-samples 60000 \\
        --test-samples 10000 --dataset fashion-mnist --set scaling_beta=0.05 \\
        --set tau_theta=5e7*ms --set theta_plus=0.05*mV \\
        --out runs/sym400-fashion

Without ``--data-dir`` the data are downloaded once into ``~/.cache/bioplastic/data``.
"""

import argparse

from bioplastic.plotting import plot_run
from bioplastic.training import Run, RunConfig

parser = argparse.ArgumentParser(description="sym-STDP supervised network")
parser.add_argument("--hidden", type=int, default=100)
parser.add_argument("--schedule", default="layer-by-layer",
                    choices=["layer-by-layer", "simultaneous"])
parser.add_argument("--dataset", default="mnist", choices=["mnist", "fashion-mnist"])
parser.add_argument("--train-samples", type=int, default=3000)
parser.add_argument("--assign-samples", type=int, default=1000)
parser.add_argument("--test-samples", type=int, default=1000)
parser.add_argument("--device", default="cpp_standalone", choices=["cpp_standalone", "runtime"])
parser.add_argument("--model-file", default=None)
parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE")
parser.add_argument("--data-dir", default=None)
parser.add_argument("--out", default="runs/example-sym-stdp")
args = parser.parse_args()

config = RunConfig(model="sym-stdp", schedule=args.schedule, n_neurons=args.hidden,
                   dataset=args.dataset, train_samples=args.train_samples,
                   assign_samples=args.assign_samples, test_samples=args.test_samples,
                   device=args.device, curve_window=max(args.train_samples // 5, 1),
                   model_file=args.model_file,
                   overrides=dict(item.split("=", 1) for item in args.set),
                   data_dir=args.data_dir)
results = Run(config, args.out).run()  # resumes if args.out holds a checkpoint

print(f"test accuracy of the supervised layer: {100 * results['accuracy_supervised']:.1f}%")
print(f"hidden-layer label statistics, for comparison: {100 * results['accuracy_all']:.1f}% "
      f"(all-activity vote), {100 * results['accuracy_proportion']:.1f}% (proportion vote)")
for phase, info in results["phases"].items():
    print(f"{phase}: {info['samples']} samples in {info['seconds']:.0f} s")
for path in plot_run(args.out):
    print("figure:", path)
