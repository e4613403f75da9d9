#!/usr/bin/env python
"""
MSTDP energy network: classification and generation with one local rule
=======================================================================

Visible neurons (784 pixels and 10 one-hot label neurons) and hidden neurons,
connected all-to-all except visible-to-visible, relax down an energy with
momentum. Phases alternate on their own clock: in clamped phases the visible
neurons are pulled towards the data, in free phases nothing is. During clamped
iterations every weight changes by rho(pre) x (change of rho(post)), an STDP-form
rule. Because inputs and outputs are the same neurons, the trained network both
classifies (clamp the image, read the label neurons) and generates (clamp a label
from a random state, read the image neurons).

Equations and energy: B. Scellier and Y. Bengio (2017), Equilibrium propagation,
Front. Comput. Neurosci. 11:24; momentum inference and the MSTDP rule:
../shared/papers/mstdp-energy-network.txt.

The equations and parameters are in ``models/mstdp.py`` (one time step is one
iteration of the inference); edit a copy and pass it as ``--model-file``, or change
single values with ``--set NAME=VALUE``.

Run (about 3 minutes on one CPU core). At this size and training length the
network is still near chance: it shows the workflow, not the result::

    python examples/mstdp.py --data-dir ../shared/data

64 hidden neurons, 10,000 training samples shown twice (30 min here, 63.9% on
the test set)::

    python examples/mstdp.py --hidden 64 --train-samples 10000 --epochs 2 \\
        --test-samples 10000 --out runs/mstdp-64

The paper's network (2048 hidden neurons, 10,000 training samples shown 50 times)
costs about 9.9 s per training sample on one CPU core (see docs/mstdp.md). The
paper's learning rate runs away long before that: the weights grow until the
dynamics run away after about 1,600 / (learning_rate x hidden neurons) training
samples, and a training run warns when its schedule goes beyond that. One pass at
the paper's size with a rate that stays bounded::

    python examples/mstdp.py --hidden 2048 --train-samples 10000 \\
        --test-samples 10000 --set learning_rate=6e-5 --out runs/mstdp-2048

Every run uses the model file's iteration counts (10 cycles of 32 clamped + 32
free iterations per training sample). Shorter phases (``--set
clamped_iterations=16`` ...) are faster but do not settle, and learning can then
run away (bioplastic warns when it does).

Without ``--data-dir`` the data are downloaded once into ``~/.cache/bioplastic/data``.
"""

import argparse

from bioplastic.generation import generate_run
from bioplastic.plotting import plot_run
from bioplastic.training import Run, RunConfig

parser = argparse.ArgumentParser(description="MSTDP energy network")
parser.add_argument("--hidden", type=int, default=64)
parser.add_argument("--train-samples", type=int, default=1500)
parser.add_argument("--test-samples", type=int, default=500)
parser.add_argument("--epochs", type=int, default=1)
parser.add_argument("--per-label", type=int, default=8, help="digits generated per class")
parser.add_argument("--device", default="cpp_standalone", choices=["cpp_standalone", "runtime"])
parser.add_argument("--model-file", default=None)
parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE")
parser.add_argument("--data-dir", default=None)
parser.add_argument("--out", default="runs/example-mstdp")
args = parser.parse_args()

overrides = dict(item.split("=", 1) for item in args.set)
config = RunConfig(model="mstdp", n_neurons=args.hidden, train_samples=args.train_samples,
                   epochs=args.epochs, test_samples=args.test_samples, device=args.device,
                   chunk_slots=250, curve_window=max(args.train_samples // 5, 1),
                   model_file=args.model_file, overrides=overrides, data_dir=args.data_dir)
results = Run(config, args.out).run()
print(f"test accuracy of the label neurons: {100 * results['accuracy_label']:.1f}% "
      f"on {args.test_samples} test images")

generated = generate_run(args.out, per_label=args.per_label, device_name=args.device)
print(f"generated {len(generated['labels'])} digits; the network labels "
      f"{100 * generated['accuracy']:.1f}% of them with the label they came from")
for path in plot_run(args.out):
    print("figure:", path)
