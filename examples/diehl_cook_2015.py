#!/usr/bin/env python
"""
Unsupervised digit learning with STDP (Diehl & Cook 2015)
=========================================================

784 Poisson inputs drive a layer of conductance-based excitatory neurons through
plastic synapses; each excitatory neuron excites one inhibitory neuron that
inhibits all the others (soft winner-take-all), and an adaptive threshold keeps
every neuron from dominating. After training, each neuron is labelled with the
digit it responds to most, and a test image is classified by the vote of the
neurons.

P. U. Diehl and M. Cook (2015). Unsupervised learning of digit recognition using
spike-timing-dependent plasticity. Front. Comput. Neurosci. 9:99.

The equations and parameters are in ``models/diehl_cook_2015.py``; edit a copy and
pass it as ``--model-file`` (or change single values with ``--set NAME=VALUE``).

Run (a few minutes on two CPU cores)::

    python examples/diehl_cook_2015.py --data-dir ../shared/data

The paper's full-size run (400 neurons, one epoch, 20-30 minutes here; 87.8% in
docs/benchmarks.md)::

    python examples/diehl_cook_2015.py --neurons 400 --train-samples 60000 \\
        --test-samples 10000 --out runs/dc400

Fashion-MNIST (400 neurons; 67.4% with the paper's column sum of 78, 71.0% with
28, docs/benchmarks.md)::

    python examples/diehl_cook_2015.py --dataset fashion-mnist --neurons 400 \\
        --train-samples 60000 --test-samples 10000 --set column_sum_target=28 \\
        --out runs/dc400-fashion

Without ``--data-dir`` MNIST is downloaded once into ``~/.cache/bioplastic/data``.
"""

import argparse

from bioplastic.plotting import plot_run
from bioplastic.training import Run, RunConfig

parser = argparse.ArgumentParser(description="Diehl & Cook (2015) STDP network on MNIST")
parser.add_argument("--neurons", type=int, default=100)
parser.add_argument("--dataset", default="mnist", choices=["mnist", "fashion-mnist"])
parser.add_argument("--train-samples", type=int, default=5000)
parser.add_argument("--assign-samples", type=int, default=1000)
parser.add_argument("--test-samples", type=int, default=1000)
parser.add_argument("--device", default="cpp_standalone", choices=["cpp_standalone", "runtime"])
parser.add_argument("--model-file", default=None)
parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE")
parser.add_argument("--data-dir", default=None)
parser.add_argument("--out", default="runs/example-diehl-cook")
args = parser.parse_args()

config = RunConfig(model="diehl-cook", n_neurons=args.neurons, dataset=args.dataset,
                   train_samples=args.train_samples, assign_samples=args.assign_samples,
                   test_samples=args.test_samples, device=args.device,
                   curve_window=max(args.train_samples // 5, 1), model_file=args.model_file,
                   overrides=dict(item.split("=", 1) for item in args.set),
                   data_dir=args.data_dir)
results = Run(config, args.out).run()  # resumes if args.out holds a checkpoint

print(f"test accuracy: {100 * results['accuracy_all']:.1f}% (all-activity vote), "
      f"{100 * results['accuracy_proportion']:.1f}% (proportion vote)")
train = results["phases"]["train"]
print(f"training: {train['samples']} samples in {train['seconds']:.0f} s "
      f"({train['samples_per_second']:.0f} samples/s)")
for path in plot_run(args.out):
    print("figure:", path)
