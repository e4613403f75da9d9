"""Label assignment, voting, confusion matrix, and the input encodings."""

import numpy as np
import pytest

from bioplastic import encoding, evaluation


def test_assignment_picks_the_class_with_the_highest_mean_response():
    counts = np.array([[5, 0, 1], [4, 0, 0], [0, 3, 0], [1, 5, 0]])
    labels = np.array([0, 0, 1, 1])
    assignments, rates = evaluation.assign_labels(counts, labels, n_classes=2)
    assert assignments.tolist() == [0, 1, 0]  # neuron 2 fired only for class 0
    np.testing.assert_allclose(rates[:, 0], [4.5, 0, 0.5])
    silent, _ = evaluation.assign_labels(np.zeros((2, 2)), np.array([0, 1]), 2)
    assert silent.tolist() == [-1, -1]


def test_all_activity_vote_averages_over_assigned_neurons():
    assignments = np.array([0, 0, 1])
    counts = np.array([[2, 0, 1], [0, 0, 3]])
    predictions, scores = evaluation.predict(counts, assignments, np.ones((3, 2)), "all")
    np.testing.assert_allclose(scores, [[1.0, 1.0], [0.0, 3.0]])
    assert predictions.tolist() == [0, 1]  # ties go to the lower class


def test_proportion_vote_weights_by_class_preference():
    rates = np.array([[3.0, 1.0], [1.0, 1.0]])  # neuron 0 prefers class 0 3:1
    counts = np.array([[4, 0], [0, 4], [1, 3]])
    predictions, scores = evaluation.predict(counts, np.array([0, 0]), rates, "proportion")
    np.testing.assert_allclose(scores, [[3, 1], [2, 2], [0.75 + 1.5, 0.25 + 1.5]])
    assert predictions.tolist() == [0, 0, 0]
    with pytest.raises(ValueError, match="unknown vote 'median'"):
        evaluation.predict(counts, np.array([0, 0]), rates, "median")


def test_accuracy_and_confusion_matrix():
    predictions, labels = np.array([0, 1, 1, 2]), np.array([0, 1, 2, 2])
    assert evaluation.accuracy(predictions, labels) == 0.75
    matrix = evaluation.confusion_matrix(predictions, labels, 3)
    assert matrix.tolist() == [[1, 0, 0], [0, 1, 0], [0, 1, 1]]


def test_output_answer_breaks_ties_by_the_first_spike():
    outputs = np.array([[3, 5, 5], [2, 1, 0], [0, 0, 0], [4, 4, 4]])
    first_spikes = np.array([[10, 90, 40], [50, 5, 700], [700, 700, 700], [30, 30, 80]])
    # most spikes wins; a tie goes to the earlier first spike, then to the lower index
    assert evaluation.predict_from_outputs(outputs, first_spikes).tolist() == [2, 0, -1, 0]
    assert evaluation.predict_from_outputs(outputs).tolist() == [1, 0, -1, 0]


def test_poisson_rates_and_boost():
    images = np.array([[[0, 255], [51, 102]]], dtype=np.uint8)
    np.testing.assert_allclose(encoding.poisson_rates(images, 63.75),
                               [[0, 63.75, 12.75, 25.5]])
    np.testing.assert_allclose(encoding.poisson_rates(images, 63.75, 32.0, retries=2),
                               [[0, 127.75, 25.55, 51.1]])
    with pytest.raises(TypeError, match="uint8"):
        encoding.intensities(np.zeros((1, 4)))


def test_intensity_sum_normalisation_rescales_each_image():
    intensities = np.array([[0.0, 1.0, 1.0, 2.0], [0.5, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0]])
    scaled = encoding.normalise_intensity_sum(intensities, 8.0)
    np.testing.assert_allclose(scaled, [[0, 2, 2, 4], [8, 0, 0, 0], [0, 0, 0, 0]])
    # 0 means "raw images"; the input is not modified in place
    assert np.array_equal(encoding.normalise_intensity_sum(intensities, 0), intensities)
    assert intensities[0, 3] == 2.0
    with pytest.raises(ValueError, match="intensity sum must be >= 0"):
        encoding.normalise_intensity_sum(intensities, -1.0)


def test_poisson_spike_train_has_the_requested_rate():
    rng = np.random.default_rng(0)
    raster = encoding.poisson_spike_train(np.full(200, 50.0), 10.0, 0.0005, rng)
    rate = raster.sum() / (200 * 10.0)
    assert rate == pytest.approx(50.0, rel=0.02)


def test_direct_current_encoding():
    images = np.array([[0, 255, 128]], dtype=np.uint8)
    np.testing.assert_allclose(encoding.direct_current(images, 2.0), [[0, 2.0, 256 / 255]])
