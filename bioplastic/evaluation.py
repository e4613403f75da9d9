"""Label assignment, voting and accuracy (Diehl & Cook 2015 readout).

Each neuron is assigned the class for which its mean response was highest; a
sample's prediction is the class whose neurons respond most. Two votes:

* ``'all'`` (Diehl & Cook): mean spike count of the neurons assigned to each class;
* ``'proportion'``: every neuron votes for every class with its spike count weighted
  by the fraction of its class-averaged response that class receives.
"""

import numpy as np

__all__ = ["assign_labels", "predict", "predict_from_outputs", "accuracy",
           "confusion_matrix", "VOTES"]

VOTES = ("all", "proportion")


def assign_labels(counts, labels, n_classes=10):
    """Assign each neuron the class it responded to most.

    Parameters
    ----------
    counts : ndarray, shape (samples, neurons)
        Spike counts per sample.
    labels : ndarray, shape (samples,)
    n_classes : int

    Returns
    -------
    assignments : ndarray of int, shape (neurons,)
        Class of each neuron; -1 for neurons that never fired.
    class_rates : ndarray, shape (neurons, classes)
        Mean response of each neuron to each class (used by proportion voting).
    """
    counts = np.asarray(counts, dtype=float)
    labels = np.asarray(labels)
    if counts.shape[0] != labels.shape[0]:
        raise ValueError(f"{counts.shape[0]} count rows but {labels.shape[0]} labels")
    class_rates = np.zeros((counts.shape[1], n_classes))
    for label in range(n_classes):
        members = labels == label
        if members.any():
            class_rates[:, label] = counts[members].mean(axis=0)
    assignments = np.argmax(class_rates, axis=1)
    assignments[class_rates.max(axis=1) <= 0] = -1
    return assignments, class_rates


def predict(counts, assignments, class_rates=None, vote="all"):
    """Predicted class of each sample (and the per-class scores).

    Returns
    -------
    predictions : ndarray of int, shape (samples,)
    scores : ndarray, shape (samples, classes)
    """
    counts = np.asarray(counts, dtype=float)
    n_classes = class_rates.shape[1] if class_rates is not None else int(assignments.max()) + 1
    if vote == "all":
        scores = np.zeros((counts.shape[0], n_classes))
        for label in range(n_classes):
            members = assignments == label
            if members.any():
                scores[:, label] = counts[:, members].mean(axis=1)
    elif vote == "proportion":
        if class_rates is None:
            raise ValueError("proportion voting needs class_rates from assign_labels")
        totals = class_rates.sum(axis=1, keepdims=True)
        proportions = np.divide(class_rates, totals, out=np.zeros_like(class_rates),
                                where=totals > 0)
        scores = counts @ proportions
    else:
        raise ValueError(f"unknown vote '{vote}': expected one of {', '.join(VOTES)}")
    return np.argmax(scores, axis=1), scores


def predict_from_outputs(outputs, first_spikes=None):
    """Answer of an output layer with one neuron per class: its most active neuron.

    Parameters
    ----------
    outputs : ndarray, shape (samples, classes)
        Spike counts (or other activities) of the output neurons.
    first_spikes : ndarray, shape (samples, classes), optional
        Time of each output neuron's first spike (any unit; later is larger). Given,
        a tie between the most active neurons goes to the one that fired first.

    Returns
    -------
    ndarray of int
        The answer per sample. Remaining ties go to the lower class index; a sample
        with no output spike gets -1 (counted as wrong by :func:`accuracy`).
    """
    outputs = np.asarray(outputs)
    if first_spikes is None:
        predictions = np.argmax(outputs, axis=1)
    else:
        most_active = outputs == outputs.max(axis=1, keepdims=True)
        latency = np.where(most_active, np.asarray(first_spikes, dtype=float), np.inf)
        predictions = np.argmin(latency, axis=1)
    predictions[outputs.max(axis=1) <= 0] = -1
    return predictions


def accuracy(predictions, labels):
    """Fraction of correct predictions."""
    predictions, labels = np.asarray(predictions), np.asarray(labels)
    return float(np.mean(predictions == labels)) if len(labels) else float("nan")


def confusion_matrix(predictions, labels, n_classes=10):
    """Counts, rows = true class, columns = predicted class.

    Samples without an answer (prediction -1) are left out of the matrix.
    """
    predictions, labels = np.asarray(predictions), np.asarray(labels)
    answered = predictions >= 0
    matrix = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(matrix, (labels[answered], predictions[answered]), 1)
    return matrix
