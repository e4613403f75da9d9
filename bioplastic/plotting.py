"""Figures (matplotlib, saved as PNG) for a trained run.

* receptive fields: the input->excitatory weights of every neuron as a 28x28 tile;
* confusion matrix of the test predictions;
* accuracy against training samples (the online curve recorded during training);
* histogram of the adaptive thresholds theta;
* models with a supervised output layer (sym-STDP): the hidden->output weight
  matrix and t-SNE maps (scikit-learn) of the input pixels, hidden spike counts and
  output spike counts of test images, coloured by label;
* MSTDP: the digits it generated for each label and the visible states at the
  phase ends of a few training loops (the paper's Fig. 1), written by
  ``bioplastic generate``, and its label-neuron confusion matrix.
"""

from pathlib import Path

import numpy as np

import matplotlib

matplotlib.use("Agg")  # files only; no display needed
import matplotlib.pyplot as plt  # noqa: E402

__all__ = ["receptive_fields", "confusion", "accuracy_curve", "theta_histogram",
           "output_weights", "tsne_maps", "image_grid", "fixed_points_figure", "plot_run"]

#: Curve keys and their legend texts.
CURVE_SERIES = {"all": "all vote", "proportion": "proportion vote",
                "free_phase": "label after the free phase (training samples)"}


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


def accuracy_curve(curve, path, test_accuracy=None):
    """Online training accuracy.

    Label-statistics models: window k scored with assignments from window k-1.
    MSTDP: the fraction of each window's training samples whose label neurons name
    their label after the free phase. ``test_accuracy`` adds the final test score.
    """
    fig, ax = plt.subplots(figsize=(6, 4))
    if curve:
        samples = [p["samples"] for p in curve]
        for key, text in CURVE_SERIES.items():
            if key in curve[0]:
                ax.plot(samples, [100 * p[key] for p in curve], marker="o", label=text)
        if test_accuracy is not None:
            ax.axhline(100 * test_accuracy, color="k", linestyle="--",
                       label=f"test set: {100 * test_accuracy:.1f}%")
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


def image_grid(images, labels, path, predictions=None, title="Generated digits"):
    """One row per label, its images side by side (28 x 28); red titles mark a
    different answer of the network's classify mode."""
    images, labels = np.asarray(images), np.asarray(labels)
    classes = np.unique(labels)
    columns = max(int(np.sum(labels == c)) for c in classes)
    fig, axes = plt.subplots(len(classes), columns, squeeze=False,
                             figsize=(0.9 * columns + 0.6, 0.95 * len(classes)))
    for ax in axes.ravel():
        ax.axis("off")
    for row, label in enumerate(classes):
        for col, k in enumerate(np.flatnonzero(labels == label)):
            ax = axes[row, col]
            ax.imshow(images[k].reshape(28, 28), cmap="gray_r", vmin=0, vmax=1)
            if predictions is not None:
                ax.set_title(str(int(predictions[k])), fontsize=7,
                             color="k" if predictions[k] == label else "r")
        axes[row, 0].text(-8, 14, str(label), ha="right", va="center", fontsize=10)
    fig.suptitle(title + ("" if predictions is None else
                          " (titles: the network's own classification)"), fontsize=9)
    return _save(fig, path)


def fixed_points_figure(states, labels, path):
    """The paper's Fig. 1: per training sample, the state it starts from (the last
    free fixed point), the ends of the first two clamped phases, and the label.

    ``states`` is (samples, 1 + 2 x cycles, 794) as recorded by
    :func:`bioplastic.mstdp.fixed_points`.
    """
    states, labels = np.asarray(states), np.asarray(labels)
    picks = [(0, "start (free)"), (1, "1st clamped")]
    if states.shape[1] > 3:
        picks.append((3, "2nd clamped"))
    fig, axes = plt.subplots(len(states), len(picks) + 1, squeeze=False,
                             figsize=(1.3 * (len(picks) + 1), 1.3 * len(states)))
    for row, sample in enumerate(states):
        for col, (index, name) in enumerate(picks):
            ax = axes[row, col]
            ax.imshow(sample[index, :784].reshape(28, 28), cmap="gray_r", vmin=0, vmax=1)
            ax.axis("off")
            if row == 0:
                ax.set_title(name, fontsize=8)
        ax = axes[row, -1]
        label_states = sample[3 if states.shape[1] > 3 else 1, 784:794]
        ax.bar(np.arange(10), label_states, color=["C1" if c == labels[row] else "C0"
                                                   for c in range(10)])
        ax.set_xticks(range(10))
        ax.tick_params(labelsize=5)
        if row == 0:
            ax.set_title("label neurons", fontsize=8)
    return _save(fig, path)


def conv_kernels(kernels, path):
    """Grid of the learned convolution kernels (blue negative, red positive)."""
    kernels = np.asarray(kernels)
    n = len(kernels)
    columns = min(n, 8)
    rows = -(-n // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(1.3 * columns, 1.3 * rows + 0.4),
                             squeeze=False)
    scale = float(np.max(np.abs(kernels))) or 1.0
    for k, ax in enumerate(axes.flat):
        ax.set_xticks([])
        ax.set_yticks([])
        if k < n:
            ax.imshow(kernels[k], cmap="RdBu_r", vmin=-scale, vmax=scale,
                      interpolation="nearest")
            ax.set_title(str(k), fontsize=8)
        else:
            ax.axis("off")
    fig.suptitle(f"Convolution kernels ({n})")
    return _save(fig, path)


def project_fc_weights(fc_weights, kernels, pool_size):
    """Each fully connected neuron's weights seen in pixel space (28 x 28).

    The weight of pooled unit (c, p, q) is spread over its pooling window and
    multiplied back through kernel c (the transpose of the convolution), so the
    picture shows the input pattern that drives the neuron most.
    """
    from scipy.signal import convolve2d
    kernels = np.asarray(kernels)
    n_kernels, size = kernels.shape[0], kernels.shape[1]
    weights = np.asarray(fc_weights)
    side = int(round(np.sqrt(weights.shape[0] / n_kernels)))
    maps = weights.T.reshape(-1, n_kernels, side, side)
    up = np.repeat(np.repeat(maps, pool_size, axis=2), pool_size, axis=3)
    conv_side = 28 - size + 1
    padded = np.zeros(up.shape[:2] + (conv_side, conv_side))
    padded[:, :, :up.shape[2], :up.shape[3]] = up
    return np.array([sum(convolve2d(padded[n, c], kernels[c], mode="full")
                         for c in range(n_kernels)) for n in range(len(maps))])


def fc_weights_by_class(fc_weights, kernels, pool_size, assignments, path, classes=None,
                        per_class=8):
    """The paper's Fig. 6 (c, d): fully connected neurons, one row per assigned class."""
    assignments = np.asarray(assignments)
    labels = list(classes) if classes is not None else [str(c) for c in range(10)]
    fig, axes = plt.subplots(len(labels), per_class,
                             figsize=(1.1 * per_class + 1.2, 1.1 * len(labels)), squeeze=False)
    for label, row in enumerate(axes):
        members = np.flatnonzero(assignments == label)[:per_class]
        pictures = project_fc_weights(np.asarray(fc_weights)[:, members], kernels, pool_size) \
            if len(members) else []
        for k, ax in enumerate(row):
            ax.set_xticks([])
            ax.set_yticks([])
            if k < len(members):
                ax.imshow(pictures[k], cmap="hot_r", interpolation="nearest")
            else:
                ax.axis("off")
        row[0].set_ylabel(labels[label], rotation=0, ha="right", va="center", fontsize=8)
        row[0].axis("on")
        for spine in row[0].spines.values():
            spine.set_visible(False)
    fig.suptitle("Fully connected neurons by assigned class (weights through the kernels)")
    return _save(fig, path)


def ablation_chart(rows, path, title="Ablation (test accuracy)"):
    """Bar chart of ``[(label, accuracy in [0, 1]), ...]``, in the given order."""
    labels = [label for label, _ in rows]
    values = [100 * value for _, value in rows]
    fig, ax = plt.subplots(figsize=(1.4 * len(rows) + 1.5, 4))
    bars = ax.bar(range(len(rows)), values, color="tab:blue")
    for bar, value in zip(bars, values):
        ax.text(bar.get_x() + bar.get_width() / 2, value + 0.5, f"{value:.1f}",
                ha="center", fontsize=8)
    ax.set_xticks(range(len(rows)))
    ax.set_xticklabels(labels, rotation=20, ha="right")
    ax.set_ylabel("test accuracy (%)")
    ax.set_ylim(0, 100)
    ax.set_title(title)
    return _save(fig, path)


def sweep_accuracy(summary, varied, path, title="Sweep"):
    """Accuracy (mean ± sd over seeds) against the first varied key.

    One line per combination of the other varied keys. The x axis is categorical
    (the values in sweep order), since swept values may be quantities with units.
    """
    fig, ax = plt.subplots(figsize=(6, 4))
    x_name = varied[0] if varied else None
    x_values = []
    for entry in summary:
        if entry.get(x_name) not in x_values:
            x_values.append(entry.get(x_name))
    lines = {}
    for entry in summary:
        if "accuracy_mean" not in entry:  # no finished point, or no test set
            continue
        others = tuple(f"{name}={entry[name]}" for name in varied[1:])
        lines.setdefault(others, []).append(entry)
    for others, entries in lines.items():
        xs = [x_values.index(e.get(x_name)) for e in entries]
        means = [100 * e["accuracy_mean"] for e in entries]
        sds = [0 if e["accuracy_sd"] is None else 100 * e["accuracy_sd"] for e in entries]
        ax.errorbar(xs, means, yerr=sds, marker="o", capsize=4,
                    label=", ".join(others) or None)
    ax.set_xticks(range(len(x_values)))
    ax.set_xticklabels(["all points" if x_name is None else str(v) for v in x_values])
    ax.set_xlabel(x_name or "configuration")
    ax.set_ylabel("test accuracy (%), mean ± sd over seeds")
    ax.set_title(title)
    if len(lines) > 1:
        ax.legend(fontsize=8)
    return _save(fig, path)


def _vote_confusion(out_dir, figure_dir, classes, layer, paths):
    """Add the confusion matrix of the run's vote to ``paths``; return the results."""
    import json
    results_path = Path(out_dir) / "results.json"
    if not results_path.exists():
        return None
    results = json.loads(results_path.read_text())
    vote = results["config"]["vote"]
    paths.append(confusion(results[f"confusion_{vote}"], figure_dir / "confusion.png",
                           classes, title=f"{layer}, {vote} vote"))
    return results


def _plot_conv_run(out_dir, figure_dir, arrays, meta, classes):
    """Figures of an adaptive convolutional STDP run."""
    kernels = np.asarray(arrays["kernels"])
    pooled_side = int(round(np.sqrt(arrays["fc_weights"].shape[0] / kernels.shape[0])))
    pool_size = (28 - kernels.shape[1] + 1) // pooled_side
    paths = [conv_kernels(arrays["kernels"], figure_dir / "conv_kernels.png"),
             accuracy_curve(meta.get("curve", []), figure_dir / "accuracy_curve.png")]
    if "assignments" in arrays:
        paths.append(fc_weights_by_class(arrays["fc_weights"], arrays["kernels"], pool_size,
                                         arrays["assignments"],
                                         figure_dir / "fc_weights_by_class.png", classes))
    _vote_confusion(out_dir, figure_dir, classes, "Fully connected layer", paths)
    return paths


def _plot_energy_run(out_dir, figure_dir, arrays, meta, classes):
    """Figures of an MSTDP run."""
    import json
    from .checkpoint import load_checkpoint
    from .generation import GENERATED
    results_path = out_dir / "results.json"
    results = json.loads(results_path.read_text()) if results_path.exists() else {}
    paths = [accuracy_curve(meta.get("curve", []), figure_dir / "accuracy_curve.png",
                            results.get("accuracy"))]
    if "confusion_label" in results:
        paths.append(confusion(results["confusion_label"], figure_dir / "confusion.png",
                               classes, title="Label neurons (classify mode)"))
    if (out_dir / GENERATED).exists():
        generated, _ = load_checkpoint(out_dir / GENERATED)
        paths.append(image_grid(generated["images"], generated["labels"],
                                figure_dir / "generated_digits.png",
                                generated.get("predictions")))
        if "fixed_points" in generated:
            paths.append(fixed_points_figure(generated["fixed_points"],
                                             generated["fixed_point_labels"],
                                             figure_dir / "fixed_points.png"))
    return paths


def plot_run(out_dir, figure_dir=None, tsne_samples=1000):
    """Write all figures of a run folder; returns the list of PNG paths."""
    from .checkpoint import load_checkpoint
    from .datasets import DATASETS
    out_dir = Path(out_dir)
    figure_dir = Path(figure_dir or out_dir / "figures")
    arrays, meta = load_checkpoint(out_dir / "checkpoint.npz")
    special = {"mstdp": _plot_energy_run,  # no input->hidden spike layer
               "adaptive-conv": _plot_conv_run}  # kernels and a voting layer
    if meta["config"]["model"] in special:
        classes = list(DATASETS[meta["config"]["dataset"]]["classes"])
        return special[meta["config"]["model"]](out_dir, figure_dir, arrays, meta, classes)
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
    results = _vote_confusion(out_dir, figure_dir, classes, "Label statistics", paths)
    if results and "confusion_supervised" in results:
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
