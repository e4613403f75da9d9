"""Figures (matplotlib, saved as PNG) for a trained run.

* receptive fields: the input->excitatory weights of every neuron as a 28x28 tile;
* confusion matrix of the test predictions;
* accuracy against training samples (the online curve recorded during training);
* histogram of the adaptive thresholds theta;
* models with a supervised output layer (sym-STDP): the hidden->output weight
  matrix and t-SNE maps (scikit-learn) of the input pixels, hidden spike counts and
  output spike counts of test images, coloured by label.
"""

from pathlib import Path

import numpy as np

import matplotlib

matplotlib.use("Agg")  # files only; no display needed
import matplotlib.pyplot as plt  # noqa: E402

__all__ = ["receptive_fields", "confusion", "accuracy_curve", "theta_histogram",
           "output_weights", "tsne_maps", "plot_run"]


def _save(fig, path):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(fig)
    return path


def receptive_fields(weights, path, assignments=None, image_shape=(28, 28)):
    """Grid of each neuron's incoming weights, labelled with its class if known."""
    weights = np.asarray(weights)
    n = weights.shape[1]
    side = int(np.ceil(np.sqrt(n)))
    height, width = image_shape
    grid = np.full((side * height, side * width), np.nan)
    for k in range(n):
        r, c = divmod(k, side)
        grid[r * height:(r + 1) * height, c * width:(c + 1) * width] = \
            weights[:, k].reshape(image_shape)
    size = min(2 + side * 0.45, 16)
    fig, ax = plt.subplots(figsize=(size, size))
    image = ax.imshow(grid, cmap="hot_r", interpolation="nearest")
    if assignments is not None and side <= 20:
        for k, label in enumerate(assignments):
            r, c = divmod(k, side)
            ax.text(c * width + 1, r * height + 5, str(label) if label >= 0 else "-",
                    color="tab:blue", fontsize=7)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(f"Input -> excitatory weights ({n} neurons)")
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.02, label="w")
    return _save(fig, path)


def confusion(matrix, path, classes=None, title="Confusion matrix (test set)"):
    """Confusion matrix with counts; rows true class, columns prediction."""
    matrix = np.asarray(matrix)
    n = matrix.shape[0]
    classes = classes or [str(k) for k in range(n)]
    fig, ax = plt.subplots(figsize=(7, 6))
    image = ax.imshow(matrix, cmap="Blues")
    for r in range(n):
        for c in range(n):
            ax.text(c, r, str(matrix[r, c]), ha="center", va="center", fontsize=7,
                    color="white" if matrix[r, c] > matrix.max() / 2 else "black")
    ax.set_xticks(range(n), classes, rotation=45, ha="right")
    ax.set_yticks(range(n), classes)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    accuracy = np.trace(matrix) / max(matrix.sum(), 1)
    ax.set_title(f"{title}: {100 * accuracy:.2f}% correct")
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.02)
    return _save(fig, path)


def accuracy_curve(curve, path):
    """Online training accuracy (window k scored with assignments from window k-1)."""
    fig, ax = plt.subplots(figsize=(6, 4))
    if curve:
        samples = [p["samples"] for p in curve]
        for vote in ("all", "proportion"):
            ax.plot(samples, [100 * p[vote] for p in curve], marker="o", label=f"{vote} vote")
        ax.legend()
    else:
        ax.text(0.5, 0.5, "no curve: fewer than two windows trained", ha="center",
                transform=ax.transAxes)
    ax.set_xlabel("training samples")
    ax.set_ylabel("accuracy (%)")
    ax.set_title("Accuracy during training")
    ax.grid(alpha=0.3)
    return _save(fig, path)


def theta_histogram(theta, path):
    """Distribution of the adaptive threshold (in mV)."""
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.hist(np.asarray(theta) * 1000, bins=40, color="tab:orange")
    ax.set_xlabel("theta (mV)")
    ax.set_ylabel("neurons")
    ax.set_title("Adaptive thresholds")
    return _save(fig, path)


def output_weights(weights, path, assignments=None, classes=None):
    """Hidden->output weight matrix, hidden neurons sorted by their assigned class."""
    weights = np.asarray(weights)
    order = np.arange(weights.shape[0])
    if assignments is not None:
        order = np.argsort(np.asarray(assignments), kind="stable")
    fig, ax = plt.subplots(figsize=(8, 3.5))
    image = ax.imshow(weights[order].T, aspect="auto", cmap="viridis",
                      interpolation="nearest")
    n_out = weights.shape[1]
    ax.set_yticks(range(n_out), classes or [str(k) for k in range(n_out)])
    ax.set_ylabel("output neuron")
    ax.set_xlabel("hidden neuron" + (" (sorted by assigned class)" if assignments is not None
                                     else ""))
    ax.set_title("Hidden -> supervised-layer weights")
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.02, label="w")
    return _save(fig, path)


def tsne_maps(panels, labels, path, classes=None, seed=0):
    """t-SNE embedding of each representation, points coloured by label.

    Parameters
    ----------
    panels : dict
        ``{title: array (samples, features)}``, e.g. input pixels, hidden counts and
        output counts of the same samples.
    labels : ndarray of int
    """
    from sklearn.manifold import TSNE
    labels = np.asarray(labels)
    fig, axes = plt.subplots(1, len(panels), figsize=(5 * len(panels), 4.8))
    axes = np.atleast_1d(axes)
    for ax, (title, features) in zip(axes, panels.items()):
        features = np.asarray(features, dtype=float)
        perplexity = min(30.0, max(2.0, (len(features) - 1) / 3))
        embedding = TSNE(n_components=2, perplexity=perplexity, init="pca",
                         random_state=seed).fit_transform(features)
        points = ax.scatter(embedding[:, 0], embedding[:, 1], c=labels, cmap="tab10",
                            vmin=-0.5, vmax=9.5, s=4)
        ax.set_title(title)
        ax.set_xticks([])
        ax.set_yticks([])
    cbar = fig.colorbar(points, ax=list(axes), fraction=0.02, pad=0.01, ticks=range(10))
    if classes:
        cbar.ax.set_yticklabels(classes)
    fig.suptitle(f"t-SNE of {len(labels)} test samples")
    return _save(fig, path)


def plot_run(out_dir, figure_dir=None, tsne_samples=1000):
    """Write all figures of a run folder; returns the list of PNG paths."""
    import json
    from .checkpoint import load_checkpoint
    from .datasets import DATASETS
    out_dir = Path(out_dir)
    figure_dir = Path(figure_dir or out_dir / "figures")
    arrays, meta = load_checkpoint(out_dir / "checkpoint.npz")
    paths = [receptive_fields(arrays["weights"], figure_dir / "receptive_fields.png",
                              arrays.get("assignments")),
             accuracy_curve(meta.get("curve", []), figure_dir / "accuracy_curve.png"),
             theta_histogram(arrays["theta"], figure_dir / "theta_histogram.png")]
    config = meta["config"]
    classes = list(DATASETS[config["dataset"]]["classes"])
    if "supervised_weights" in arrays:
        paths.append(output_weights(arrays["supervised_weights"],
                                    figure_dir / "supervised_weights.png",
                                    arrays.get("assignments"), classes))
    results_path = out_dir / "results.json"
    if results_path.exists():
        results = json.loads(results_path.read_text())
        vote = results["config"]["vote"]
        paths.append(confusion(results[f"confusion_{vote}"], figure_dir / "confusion.png",
                               classes, title=f"Label statistics, {vote} vote"))
        if "confusion_supervised" in results:
            paths.append(confusion(results["confusion_supervised"],
                                   figure_dir / "confusion_supervised.png", classes,
                                   title="Supervised layer"))
    if "test_outputs" in arrays and tsne_samples:
        from .datasets import load_dataset
        count = min(int(tsne_samples), len(arrays["test_outputs"]))
        test = load_dataset(config["dataset"], "test", config.get("data_dir"))
        panels = {"input pixels": test.images[:count].reshape(count, -1) / 255.0,
                  "hidden-layer spike counts": arrays["test_counts"][:count],
                  "supervised-layer spike counts": arrays["test_outputs"][:count]}
        paths.append(tsne_maps(panels, arrays["test_labels"][:count],
                               figure_dir / "tsne.png", classes))
    return paths
