#!/usr/bin/env python
"""
Adaptive convolutional STDP network, trained layer by layer without labels
==========================================================================

A convolution layer of LIF neurons (12 kernels of 5 x 5, direct pixel currents)
learns its kernels with unilateral STDP; 2 x 2 max pooling of its spikes feeds a
fully connected layer that learns with the same rule and is read out by Diehl &
Cook's label assignment and vote. Four modules make the layers learn different
features: an adaptive synaptic filter (ASF), adaptive thresholds (ATB), adaptive
lateral inhibition (ALIC) and STDP updates summed over a batch of samples and
time steps (STB-STDP). Convolution weights are shared: every kernel tap is one
element of a NeuronGroup whose weight all positions read.

Y. Dong, D. Zhao, Y. Li and Y. Zeng (2023), An unsupervised STDP-based spiking
neural network inspired by biologically plausible learning rules and connections,
Neural Networks 165:799-808.

The equations and parameters are in ``models/adaptive_conv_stdp.py``; edit a copy
and pass it as ``--model-file``, or change values with ``--set NAME=VALUE``
(``--set alic_on=0`` switches a module off).

Run (a few minutes on one CPU core)::

    python examples/adaptive_conv_stdp.py --data-dir ../shared/data

Few-shot learning (50 images, 5 per class, shown 40 times; full test set)::

    python examples/adaptive_conv_stdp.py --train-samples 50 --balanced --epochs 40 \\
        --test-samples 10000 --out runs/conv-few50

Fashion-MNIST uses 64 kernels of 3 x 3::

    python examples/adaptive_conv_stdp.py --dataset fashion-mnist --set kernel_size=3 \\
        --set kernels=64 --out runs/conv-fashion

Without ``--data-dir`` the data are downloaded once into ``~/.cache/bioplastic/data``.
"""

import argparse

from bioplastic.plotting import plot_run
from bioplastic.training import Run, RunConfig

parser = argparse.ArgumentParser(description="Adaptive convolutional STDP network")
parser.add_argument("--neurons", type=int, default=100, help="fully connected neurons")
parser.add_argument("--dataset", default="mnist", choices=["mnist", "fashion-mnist"])
parser.add_argument("--train-samples", type=int, default=5000)
parser.add_argument("--balanced", action="store_true",
                    help="few-shot: the same number of training images per class")
parser.add_argument("--epochs", type=int, default=1)
parser.add_argument("--assign-samples", type=int, default=5000)
parser.add_argument("--test-samples", type=int, default=1000)
parser.add_argument("--device", default="cpp_standalone", choices=["cpp_standalone", "runtime"])
parser.add_argument("--model-file", default=None)
parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE")
parser.add_argument("--data-dir", default=None)
parser.add_argument("--out", default="runs/example-adaptive-conv")
args = parser.parse_args()

overrides = dict(item.split("=", 1) for item in args.set)
config = RunConfig(model="adaptive-conv", n_neurons=args.neurons, dataset=args.dataset,
                   train_samples=args.train_samples, balanced=args.balanced,
                   epochs=args.epochs, assign_samples=args.assign_samples,
                   test_samples=args.test_samples, device=args.device, chunk_slots=500,
                   curve_window=max(args.train_samples * args.epochs // 5, 10),
                   model_file=args.model_file, overrides=overrides, data_dir=args.data_dir)
results = Run(config, args.out).run()
print(f"test accuracy: {100 * results['accuracy_all']:.1f}% (all-activity vote) on "
      f"{args.test_samples} test images")
for path in plot_run(args.out):
    print("figure:", path)
