"""Ablation of the adaptive convolutional STDP network (the paper's Fig. 5).

Trains and tests the network five times, adding one module at a time:
STDP only -> +ASF -> +ATB -> +ALIC -> +STB (= the default model, all on), and
prints the test accuracy of each. Without ATB the thresholds are fixed
(threshold_conv, theta_init); without ALIC the lateral inhibition is a fixed
amount per spike (inhibition_conv, inhibition_fc); without STB the STDP update is
applied at every time step.

Usage (the table in docs/benchmarks.md came from)::

    python benchmarks/conv_ablation.py --neurons 100 --train-samples 10000

Any other option is passed on to ``accuracy.py`` (e.g. ``--dataset``).
Each result goes to ``benchmarks/results/adaptive_conv_ablation_<k>_<name>.json``.
"""

import argparse
import sys

from accuracy import main as accuracy
from bioplastic.adaptive_conv import ABLATION_STEPS as STEPS


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--neurons", type=int, default=100)
    parser.add_argument("--train-samples", type=int, default=10000)
    parser.add_argument("--dataset", default="mnist")
    args, rest = parser.parse_known_args(sys.argv[1:] if argv is None else argv)
    rows = []
    for k, (name, switches) in enumerate(STEPS):
        command = ["--model", "adaptive-conv", "--neurons", str(args.neurons),
                   "--train-samples", str(args.train_samples), "--dataset", args.dataset,
                   "--name", f"adaptive_conv_ablation_{k}_{name}_{args.dataset}",
                   "--out", f"runs/bench-conv-ablation-{args.dataset}-{k}-{name}"]
        command += [f"--set={key}={value}" for key, value in switches.items()] + rest
        results = accuracy(command, script="accuracy.py")
        rows.append((name, results["accuracy_all"]))
    print("\nablation (test accuracy, all-activity vote):")
    for name, value in rows:
        print(f"  {name:>18}: {100 * value:.2f}%")


if __name__ == "__main__":
    main()
