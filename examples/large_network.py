#!/usr/bin/env python
"""
Training a large network: choosing a device and estimating the cost
===================================================================

The paper-sized Diehl & Cook networks have 1,600 to 6,400 excitatory neurons
(91.9% and 95.0% on MNIST), that is 1.25 to 5 million plastic synapses. Before
such a run, this example lists the devices that work on this machine
(``bioplastic info`` prints the same), trains the large network on a few hundred
images on the chosen device, and extrapolates the measured throughput to a full
60,000-image epoch. The run folder is an ordinary run: continue it to the full
size with the same ``--out`` and a larger ``--train-samples`` (training resumes
from its checkpoint, and the compiled program is reused).

Devices are chosen with ``--device`` only; the model file does not change.
``cpp_standalone`` compiles the network once and is the fastest device on a CPU
(16.7 samples/s for the sym-STDP network at 1,600 hidden neurons and 6.2 at 6,400
on two cores, docs/benchmarks.md). On a GPU, choose ``--device genn`` (in the
GeNN environment) or ``--device cuda_standalone`` (in the brian2cuda
environment); see the devices page of the documentation for what each supports.

Run (26 s here on two CPU cores: 1,600 neurons, 300 images; it measured 21
samples/s)::

    python examples/large_network.py --data-dir ../shared/data

The paper's largest network, one full epoch (hours on a CPU)::

    python examples/large_network.py --neurons 6400 --train-samples 60000 \\
        --assign-samples 10000 --test-samples 10000 --out runs/dc6400
"""

import argparse
import resource

from bioplastic.devices import DEVICES, device_report
from bioplastic.training import Run, RunConfig

parser = argparse.ArgumentParser(description="Large Diehl & Cook network: devices and cost")
parser.add_argument("--neurons", type=int, default=1600)
parser.add_argument("--train-samples", type=int, default=300)
parser.add_argument("--assign-samples", type=int, default=0,
                    help="0: train only (measure the cost); else assign labels and test")
parser.add_argument("--test-samples", type=int, default=0)
parser.add_argument("--device", default="cpp_standalone", choices=DEVICES)
parser.add_argument("--data-dir", default=None)
parser.add_argument("--out", default="runs/example-large")
args = parser.parse_args()

print("devices on this machine:")
for name, status in device_report():
    print(f"  {name:<15} {status}")

config = RunConfig(model="diehl-cook", n_neurons=args.neurons, train_samples=args.train_samples,
                   assign_samples=args.assign_samples, test_samples=args.test_samples,
                   device=args.device,
                   curve_window=max(args.train_samples // 5, 1), data_dir=args.data_dir)
results = Run(config, args.out).run()

train = results["phases"]["train"]
rate = train["samples_per_second"]
print(f"{args.neurons} neurons on {args.device}: {rate:.1f} samples/s "
      f"({1000 / rate:.0f} ms per sample), compiled in "
      f"{sum(results['compile_seconds'].values()):.0f} s")
print(f"a full epoch of 60,000 images would take about {60000 / rate / 3600:.1f} h here "
      "(a rough estimate: the rate changes as the network learns)")
# A child's ru_maxrss also counts the Python pages it had before exec, which are
# never more than Python's own peak, so the maximum of the two is still right.
peak_mb = max(resource.getrusage(who).ru_maxrss for who in
              (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)) / 1024
print(f"peak memory of one process (Python or the simulation program): {peak_mb:.0f} MB")
if args.test_samples:
    print(f"test accuracy: {100 * results['accuracy_all']:.1f}% (all-activity vote)")
