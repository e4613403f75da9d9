"""How much the adaptive conv network's convolution features carry: a linear readout.

Trains the kernels as the network's first phase does (``train_conv``) on
``--train-samples`` training images (0 keeps the random, normalised initial
kernels), then shows the frozen convolution layer ``--fit-samples`` further
training images and the first ``--eval-samples`` test images and counts the
spikes that the 2 x 2 max pooling passes on to the fully connected layer (at
most one per pooled unit and step). A scikit-learn logistic regression on those
counts, its regularisation chosen on the last fifth of the fit images, is scored
on the test images.

This is not the paper's readout (the network votes with a spiking, STDP-trained
fully connected layer); it shows what a linear readout finds in the features,
so that the two figures separate the convolution layer's share of the gap to
the paper from the voting layer's.

``--prototypes K [K ...]`` adds the readout the voting layer can at best
approach: K prototypes found by k-means (scikit-learn) on the L2-normalised
counts of the fit images, each labelled by Diehl & Cook's assignment from the
fit images it wins, and each test image answered by the label of its nearest
prototype (one winner per image, as the fully connected layer is trained).
``--nearest-neighbour`` adds the instance-based readout that no voting layer of
fewer neurons than fit images can beat by storing them: each test image gets the
label of the fit image whose counts are most cosine-similar to its own
(scikit-learn's 1-nearest-neighbour classifier).

``--pixels`` runs the same readouts on the images' pixels instead of the
pooled counts (no network is simulated): a baseline that says whether the
convolution layer's features help a prototype readout at all.

Usage (the table in docs/benchmarks.md came from)::

    python benchmarks/conv_features.py --dataset mnist
    python benchmarks/conv_features.py --dataset mnist --fit-samples 20000 \
        --prototypes 100 400 1600
    python benchmarks/conv_features.py --dataset mnist --train-samples 0
    python benchmarks/conv_features.py --dataset fashion-mnist --set kernel_size=3
    python benchmarks/conv_features.py --dataset fashion-mnist --set kernel_size=3 \
        --set kernels=64
    python benchmarks/conv_features.py --dataset mnist --fit-samples 50000 \
        --eval-samples 10000 --prototypes 400 1600 6400 --nearest-neighbour [--pixels]

Writes ``benchmarks/results/adaptive_conv_features_<dataset>_<K>x<k>_fit<N>[_eval<M>][_random].json``
(``..._<dataset>_pixels_fit<N>[_eval<M>].json`` with ``--pixels``; ``_eval<M>``
where M is not the default 2,000).
"""

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from bioplastic import evaluation
from bioplastic.adaptive_conv import AdaptiveConvNetwork, initial_state, load_model
from bioplastic.atomicfile import write_text_atomically
from bioplastic.datasets import load_dataset
from bioplastic.training import machine_info

HERE = Path(__file__).resolve().parent
#: inverse regularisation strengths tried; the best on the validation fifth is refitted
C_VALUES = (0.01, 0.1, 1.0, 10.0)


def pooled_counts(network, geometry, n):
    """Spikes each pooled unit passes on per image, from the convolution spikes.

    A pooled unit fires at a step when any neuron of its window does, so its count
    is the number of distinct steps with a spike in the window. The network's own
    ``pool`` group passes a step's spikes on one step later and is reset when the
    next image starts, so it drops a window's spike in an image's last step, which
    is counted here: at most one spike per window and image differs. (Recording
    the ``pool`` group itself would remove that difference; the recorded results
    were made with this reconstruction.)
    """
    neurons, steps = network.network.spikes("conv_spikes")
    conv_neuron, unit = geometry.pool_synapses()
    unit_of = np.full(geometry.n_conv, -1)
    unit_of[conv_neuron] = unit
    units = unit_of[neurons]
    sample = steps // network.sample_steps
    keep = (units >= 0) & (sample < n)
    events = np.unique(np.stack([sample[keep], units[keep], steps[keep]]), axis=1)
    counts = np.zeros((n, geometry.n_features), dtype=np.int64)
    np.add.at(counts, (events[0], events[1]), 1)
    return counts


def features(network, state, images, chunk):
    rows = []
    for start in range(0, len(images), chunk):
        part = images[start:start + chunk]
        network.run_chunk(state, part)
        rows.append(pooled_counts(network, network.geometry, len(part)))
    return np.concatenate(rows)


def linear_readout(fit_x, fit_y, eval_x, eval_y):
    """Logistic regression; C chosen on the last fifth of the fit set, then refitted."""
    from sklearn.linear_model import LogisticRegression
    scale = max(float(fit_x.max()), 1.0)
    fit_x, eval_x = fit_x / scale, eval_x / scale
    cut = len(fit_x) * 4 // 5
    validation = {}
    for c in C_VALUES:
        model = LogisticRegression(C=c, max_iter=3000).fit(fit_x[:cut], fit_y[:cut])
        validation[c] = model.score(fit_x[cut:], fit_y[cut:])
    best = max(C_VALUES, key=lambda c: validation[c])
    model = LogisticRegression(C=best, max_iter=3000).fit(fit_x, fit_y)
    return model.score(eval_x, eval_y), best, validation


def prototype_readout(fit_x, fit_y, eval_x, eval_y, n_prototypes, seed=0, assign=None):
    """Nearest-prototype vote: k-means prototypes labelled as the voting layer's neurons.

    The inputs are scaled to unit L2 norm (a voting layer compares an image with
    weight columns of a fixed sum, so its size does not matter), the prototypes
    are the k-means centres of the fit images, and each prototype gets the class
    it won most often relative to the class's size
    (:func:`bioplastic.evaluation.assign_labels` on one-hot winner counts).

    Parameters
    ----------
    assign : tuple of arrays, optional
        ``(x, y)``: label the prototypes with these images instead of the fit
        images (as a network trained on many images is labelled with a few).

    Returns
    -------
    float
        Accuracy on the eval images.
    """
    from sklearn.cluster import MiniBatchKMeans
    from sklearn.preprocessing import normalize
    kmeans = MiniBatchKMeans(n_prototypes, n_init=3, batch_size=4096,
                             random_state=seed).fit(normalize(fit_x.astype(float)))
    nearest = lambda x: kmeans.predict(normalize(x.astype(float)))  # noqa: E731
    # the fit images' winners are known from the fit
    assign_won, assign_y = ((kmeans.labels_, fit_y) if assign is None
                            else (nearest(assign[0]), assign[1]))
    return winner_vote(assign_won, assign_y, nearest(eval_x), eval_y, n_prototypes)


def nearest_neighbour_readout(fit_x, fit_y, eval_x, eval_y):
    """Accuracy when each eval image takes the label of its most cosine-similar fit image."""
    from sklearn.neighbors import KNeighborsClassifier
    model = KNeighborsClassifier(n_neighbors=1, metric="cosine", algorithm="brute")
    return float(model.fit(fit_x.astype(float), fit_y).score(eval_x.astype(float), eval_y))


def winner_vote(assign_won, assign_y, eval_won, eval_y, n_prototypes):
    """Accuracy when each image is answered by the label of the prototype it is
    nearest to (``*_won``: its index), the labels assigned from the ``assign``
    images as the voting layer's neurons get theirs."""
    one_hot = np.eye(n_prototypes)  # winner counts, one row per image
    assignments, rates = evaluation.assign_labels(one_hot[assign_won], assign_y)
    predictions, _ = evaluation.predict(one_hot[eval_won], assignments, rates)
    return float(np.mean(predictions == eval_y))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="mnist")
    parser.add_argument("--train-samples", type=int, default=10000)
    parser.add_argument("--fit-samples", type=int, default=5000)
    parser.add_argument("--eval-samples", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1, help="initial kernels")
    parser.add_argument("--device", default="cpp_standalone")
    parser.add_argument("--chunk-slots", type=int, default=500)
    parser.add_argument("--data-dir", default=str(HERE.parent.parent / "shared" / "data"))
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                        help="override a model-file parameter (e.g. kernels=64)")
    parser.add_argument("--prototypes", type=int, nargs="*", default=[], metavar="K",
                        help="also score a nearest-prototype vote with K k-means "
                             "prototypes (the voting layer's best case)")
    parser.add_argument("--nearest-neighbour", action="store_true",
                        help="also score the 1-nearest-neighbour readout (cosine) "
                             "over the fit images")
    parser.add_argument("--pixels", action="store_true",
                        help="read out the images' pixels instead of the pooled "
                             "counts (a baseline; nothing is simulated)")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    overrides = dict(item.split("=", 1) for item in args.set)
    model = load_model(overrides=overrides)
    train = load_dataset(args.dataset, "train", args.data_dir)
    test = load_dataset(args.dataset, "test", args.data_dir)
    if args.train_samples + args.fit_samples > len(train.images):
        parser.error(f"--train-samples + --fit-samples must not exceed the "
                     f"{len(train.images)} training images")
    if not 0 < args.eval_samples <= len(test.images):
        parser.error(f"--eval-samples must be between 1 and {len(test.images)}, "
                     f"got {args.eval_samples}")
    flat = lambda images: images.reshape(len(images), -1) / 255.0  # noqa: E731
    train_x, test_x = flat(train.images), flat(test.images)
    fit = slice(args.train_samples, args.train_samples + args.fit_samples)
    tic = time.time()
    train_seconds = 0.0
    if args.pixels:
        fit_x, eval_x = train_x[fit], test_x[:args.eval_samples]
        config = {"features_of": "pixels"}
    else:
        fit_x, eval_x, train_seconds, geometry = convolution_counts(
            model, args, train_x[:args.train_samples], train_x[fit],
            test_x[:args.eval_samples])
        config = {"kernels": geometry.kernels, "kernel_size": geometry.kernel_size}
    fit_y, eval_y = train.labels[fit], test.labels[:args.eval_samples]
    accuracy, best_c, validation = linear_readout(fit_x, fit_y, eval_x, eval_y)
    prototypes = {str(k): prototype_readout(fit_x, fit_y, eval_x, eval_y, k, args.seed)
                  for k in args.prototypes}
    result = {
        "config": {"model": "adaptive-conv", "dataset": args.dataset, **config,
                   "train_samples": args.train_samples, "fit_samples": args.fit_samples,
                   "eval_samples": args.eval_samples, "seed": args.seed,
                   "device": args.device, "overrides": overrides},
        "linear_accuracy": accuracy, "best_C": best_c,
        "prototype_accuracy": prototypes,
        "validation_accuracy": {str(c): v for c, v in validation.items()},
        "features": int(fit_x.shape[1]),
        "train_seconds": train_seconds, "machine": machine_info(),
        "benchmark": {"command": "python benchmarks/conv_features.py "
                      + " ".join(sys.argv[1:] if argv is None else argv),
                      "date": time.strftime("%Y-%m-%d")},
    }
    if not args.pixels:
        result["pooled_spikes_per_image"] = float(fit_x.sum(axis=1).mean())
    if args.nearest_neighbour:
        result["nearest_neighbour_accuracy"] = nearest_neighbour_readout(
            fit_x, fit_y, eval_x, eval_y)
    result["total_seconds"] = time.time() - tic
    what = ("pixels" if args.pixels else f"{config['kernels']}x{config['kernel_size']}")
    name = (f"adaptive_conv_features_{args.dataset}_{what}_fit{args.fit_samples}"
            f"{'' if args.eval_samples == 2000 else f'_eval{args.eval_samples}'}"
            f"{'' if args.train_samples or args.pixels else '_random'}")
    (HERE / "results").mkdir(exist_ok=True)
    write_text_atomically(HERE / "results" / f"{name}.json", json.dumps(result, indent=2))
    source = ("pixels" if args.pixels else
              f"{result['features']} pooled spike counts ({config['kernels']} kernels of "
              f"{config['kernel_size']} x {config['kernel_size']}, trained on "
              f"{args.train_samples} images)")
    print(f"{args.dataset}: a logistic regression on the {source} of "
          f"{args.fit_samples} images scores {100 * accuracy:.2f}% on "
          f"{args.eval_samples} test images (C = {best_c})")
    for k, value in prototypes.items():
        print(f"nearest of {k} k-means prototypes (labels by assignment): "
              f"{100 * value:.2f}%")
    if args.nearest_neighbour:
        print(f"nearest fit image (1-NN, cosine): "
              f"{100 * result['nearest_neighbour_accuracy']:.2f}%")
    print(f"machine: {result['machine']}")
    return result


def convolution_counts(model, args, train_images, fit_images, eval_images):
    """Train the kernels on ``train_images``, then count the pooled spikes of the
    frozen layer for the fit and eval images.

    Returns
    -------
    tuple
        ``(fit_counts, eval_counts, train_seconds, geometry)``.
    """
    state = initial_state(model, 1, np.random.default_rng(args.seed))
    tic = time.time()
    if len(train_images):
        network = AdaptiveConvNetwork(model, 1, "conv_train", args.device,
                                      chunk_slots=args.chunk_slots)
        for start in range(0, len(train_images), args.chunk_slots):
            network.run_chunk(state, train_images[start:start + args.chunk_slots])
        network.close()
    train_seconds = time.time() - tic
    # the fully connected layer (one neuron, never read) is only there for test mode
    network = AdaptiveConvNetwork(model, 1, "test", args.device,
                                  chunk_slots=args.chunk_slots, record_conv=True)
    fit_x = features(network, state, fit_images, args.chunk_slots)
    eval_x = features(network, state, eval_images, args.chunk_slots)
    network.close()
    return fit_x, eval_x, train_seconds, network.geometry


if __name__ == "__main__":
    main()
