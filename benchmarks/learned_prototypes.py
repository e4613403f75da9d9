"""How good are the prototypes a trained network learned, read out without spikes?

Each excitatory neuron of Diehl & Cook's network (and each sym-STDP hidden neuron)
learns a weight column that looks like an image. This script scores those columns
as a nearest-prototype classifier: each image goes to the neuron whose column it
is most similar to (cosine similarity, so neither the image's brightness nor the
column's norm matters), the neurons are labelled with the run's own assignment
images by :func:`conv_features.winner_vote` (as in ``pixel_prototypes.py``), and
the run's own test images (the test set or its validation split) are answered by
their neuron's label. Beside the network's stored accuracy this tells how much
of the gap to ``pixel_prototypes.py``'s k-means ideal lies in what the weights
learned and how much in the spiking inference and vote.

``--temperatures`` adds a soft readout of the same columns, a noiseless stand-in
for the network's competition: each neuron's response to an image is its share of
``softmax(cosine / T)`` over the neurons, and the package's own label assignment
and votes (all-activity and proportion, :mod:`bioplastic.evaluation`) run on those
responses as on spike counts. A small ``T`` sends each image to its best column
alone; a larger one spreads it over the columns within about ``T`` of the best
cosine, as Poisson noise spreads a spiking network's winners.

Usage (figures in docs/diehl-cook-2015.md and docs/benchmarks.md)::

    python benchmarks/learned_prototypes.py runs/RUN_A runs/RUN_B --name NAME \
        [--temperatures 0.002 0.005 0.01]

Writes ``benchmarks/results/learned_prototypes_NAME.json``.
"""

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
from scipy.special import softmax

from bioplastic.atomicfile import write_text_atomically
from bioplastic.cli import USER_ERRORS
from bioplastic.encoding import intensities
from bioplastic.evaluation import accuracy, assign_labels, predict
from bioplastic.training import RESULTS, Run, config_from_checkpoint, machine_info
from conv_features import winner_vote

HERE = Path(__file__).resolve().parent


def cosine_similarities(images, weights):
    """Cosine similarity (images x neurons) of each image to each weight column."""
    columns = weights / np.linalg.norm(weights, axis=0, keepdims=True)
    pixels = intensities(images)
    return pixels @ columns / np.linalg.norm(pixels, axis=1, keepdims=True)


def soft_vote(assign, test, temperature):
    """All-activity and proportion-vote accuracy of the responses
    ``softmax(cosine / temperature)``, labelled on ``assign`` and scored on ``test``
    (each a ``(cosine similarities, labels)`` pair)."""
    (assign_cosines, assign_y), (test_cosines, test_y) = assign, test
    assign_responses = softmax(assign_cosines / temperature, axis=1)
    test_responses = softmax(test_cosines / temperature, axis=1)
    assignments, class_rates = assign_labels(assign_responses, assign_y)
    return {"temperature": float(temperature),
            **{vote: accuracy(predict(test_responses, assignments, class_rates, vote)[0],
                              test_y) for vote in ("all", "proportion")}}


def score_run(run_dir, data_dir=None, temperatures=()):
    """The run's stored accuracies, its weight columns' nearest-prototype accuracy
    and their soft readout at each of ``temperatures``."""
    run_dir = Path(run_dir)
    config = config_from_checkpoint(run_dir)
    if data_dir:
        config.data_dir = data_dir
    run = Run(config, run_dir, progress=False)
    if "weights" not in run.arrays:
        raise ValueError(f"{run_dir}: the checkpoint has no input weights "
                         f"(model {config.model!r})")
    weights = np.asarray(run.arrays["weights"], dtype=float).reshape(
        -1, config.n_neurons)
    (assign_x, assign_y), (test_x, test_y) = (run.phase_images("assign"),
                                              run.phase_images("test"))
    # each image's cosines once, for the nearest prototype and every soft readout
    assign = (cosine_similarities(assign_x, weights), assign_y)
    test = (cosine_similarities(test_x, weights), test_y)
    prototype_accuracy = winner_vote(np.argmax(assign[0], axis=1), assign_y,
                                     np.argmax(test[0], axis=1), test_y, config.n_neurons)
    stored = json.loads((run_dir / RESULTS).read_text()) if (run_dir / RESULTS).exists() else {}
    return {"run": str(run_dir), "model": config.model, "dataset": config.dataset,
            "neurons": config.n_neurons, "seed": config.seed,
            "overrides": config.overrides, "test_split": config.test_split,
            "test_samples": len(test_y),
            "network_accuracy": {k: v for k, v in stored.items() if k.startswith("accuracy")},
            "prototype_accuracy": prototype_accuracy,
            "soft_vote": [soft_vote(assign, test, t) for t in temperatures]}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", help="finished run folders")
    parser.add_argument("--name", required=True, help="names the results file")
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--temperatures", nargs="+", type=float, default=[],
                        metavar="T", help="soft readouts to add (see above); T > 0")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    if any(not t > 0 for t in args.temperatures):
        parser.error(f"--temperatures must all be positive, got {args.temperatures}")
    tic = time.time()
    try:
        runs = [score_run(run, args.data_dir, args.temperatures) for run in args.runs]
    except USER_ERRORS as error:
        parser.exit(2, f"{parser.prog}: error: {error}\n")
    result = {"runs": runs, "total_seconds": time.time() - tic, "machine": machine_info(),
              "benchmark": {"command": "python benchmarks/learned_prototypes.py "
                            + " ".join(sys.argv[1:] if argv is None else argv),
                            "date": time.strftime("%Y-%m-%d")}}
    write_text_atomically(HERE / "results" / f"learned_prototypes_{args.name}.json",
                          json.dumps(result, indent=2))
    for run in runs:
        network = run["network_accuracy"].get("accuracy")
        print(f"{run['run']}: weights as prototypes {100 * run['prototype_accuracy']:.2f}%"
              f" on {run['test_samples']} {run['test_split']} images; network "
              + ("-" if network is None else f"{100 * network:.2f}%")
              + "".join(f"; T={soft['temperature']:g}: all {100 * soft['all']:.2f}%, "
                        f"proportion {100 * soft['proportion']:.2f}%"
                        for soft in run["soft_vote"]))
    return result


if __name__ == "__main__":
    main()
