"""benchmarks/conv_features.py: pooled spike counts and the linear readout."""

from types import SimpleNamespace

import numpy as np
import pytest

from bioplastic import adaptive_conv as ac
from bioplastic.datasets import load_dataset
from conftest import benchmark_script

SMALL = {"kernels": "3", "batch_samples": "1", "sample_steps": "12"}


@pytest.fixture(scope="module")
def features():
    return benchmark_script("conv_features")


def _recorded(neurons, steps, sample_steps):
    """The two things pooled_counts reads from a network: its spikes and sample length."""
    spikes = {"conv_spikes": (np.asarray(neurons), np.asarray(steps))}
    return SimpleNamespace(network=SimpleNamespace(spikes=spikes.__getitem__),
                           sample_steps=sample_steps)


def test_a_pooled_unit_counts_the_steps_with_a_spike_in_its_window(features):
    geometry = ac.Geometry(kernel_size=5, kernels=2, pool_size=2)  # 2 x 24 x 24 -> 2 x 12 x 12
    side = geometry.conv_side
    neuron = lambda c, x, y: (c * side + x) * side + y  # noqa: E731
    # image 0 (steps 0-9): kernel 0's window (0, 0) fires at step 3 in two neurons
    # (one pooled spike) and at step 5; kernel 1's window (2, 3) fires once.
    # image 1 (steps 10-19): kernel 0's window (0, 0) fires at step 12.
    neurons = [neuron(0, 0, 0), neuron(0, 1, 1), neuron(0, 0, 1), neuron(1, 5, 7),
               neuron(0, 1, 0)]
    steps = [3, 3, 5, 8, 12]
    counts = features.pooled_counts(_recorded(neurons, steps, 10), geometry, 2)
    assert counts.shape == (2, geometry.n_features)
    unit = lambda c, x, y: (c * 12 + x) * 12 + y  # noqa: E731
    expected = np.zeros((2, geometry.n_features), dtype=int)
    expected[0, unit(0, 0, 0)] = 2
    expected[0, unit(1, 2, 3)] = 1
    expected[1, unit(0, 0, 0)] = 1
    np.testing.assert_array_equal(counts, expected)


def test_pooled_counts_lie_between_the_window_maximum_and_sum(features, data_dir):
    """On a real run: a window passes on at least its busiest neuron's spikes and
    at most all of them."""
    model = ac.load_model(overrides=SMALL)
    images = load_dataset("mnist", "train", data_dir).images[:2].reshape(2, -1) / 255.0
    state = ac.initial_state(model, 1, np.random.default_rng(2))
    network = ac.AdaptiveConvNetwork(model, 1, "test", "runtime", chunk_slots=2,
                                     record_conv=True)
    try:
        network.run_chunk(state, images)
        pooled = features.pooled_counts(network, network.geometry, 2)
        conv = network.conv_counts(2)  # (2, kernels, 24, 24)
    finally:
        network.close()
    windows = conv.reshape(2, 3, 12, 2, 12, 2).transpose(0, 1, 2, 4, 3, 5).reshape(
        2, 3 * 144, 4)
    assert pooled.sum() > 0
    assert np.all(pooled >= windows.max(axis=2))
    assert np.all(pooled <= windows.sum(axis=2))
    assert np.any(pooled < windows.sum(axis=2))  # co-active neurons share a step


def test_linear_readout_chooses_c_on_held_out_fit_images(features):
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 3, 300)
    centres = np.array([[5, 0, 0, 1], [0, 5, 0, 1], [0, 0, 5, 1]])
    counts = rng.poisson(centres[labels] + 1)
    accuracy, best, validation = features.linear_readout(counts[:200], labels[:200],
                                                         counts[200:], labels[200:])
    assert accuracy > 0.9
    assert best in features.C_VALUES and set(validation) == set(features.C_VALUES)
    # labels that the counts do not predict leave it near chance
    shuffled = rng.permutation(labels)
    chance, _, _ = features.linear_readout(counts[:200], shuffled[:200], counts[200:],
                                           shuffled[200:])
    assert chance < 0.6


def test_prototype_readout_needs_a_prototype_per_cluster(features):
    """Three well-separated classes: three prototypes find them, one prototype can
    only answer one class, and labels the counts do not predict stay near chance."""
    rng = np.random.default_rng(1)
    labels = rng.integers(0, 3, 600)
    centres = np.array([[8, 0, 0, 1], [0, 8, 0, 1], [0, 0, 8, 1]])
    counts = rng.poisson(centres[labels] + 1)
    fit, held = slice(0, 400), slice(400, None)
    three = features.prototype_readout(counts[fit], labels[fit], counts[held],
                                       labels[held], 3)
    assert three > 0.95
    one = features.prototype_readout(counts[fit], labels[fit], counts[held], labels[held], 1)
    shares = [np.mean(labels[held] == label) for label in range(3)]
    assert min(abs(one - share) for share in shares) < 1e-9  # one class for every image
    shuffled = rng.permutation(labels)
    chance = features.prototype_readout(counts[fit], shuffled[fit], counts[held],
                                        shuffled[held], 3)
    assert chance < 0.5


def test_prototypes_are_labelled_by_the_assignment_images(features):
    """With ``assign`` the fit images' labels are not used: the prototypes take the
    labels of the assignment images they win."""
    rng = np.random.default_rng(2)
    labels = rng.integers(0, 3, 900)
    centres = np.array([[8, 0, 0, 1], [0, 8, 0, 1], [0, 0, 8, 1]])
    counts = rng.poisson(centres[labels] + 1)
    fit, assign, held = slice(0, 600), slice(600, 700), slice(700, None)
    no_labels = np.zeros(600, dtype=int)  # what assign_labels would learn nothing from
    labelled = features.prototype_readout(counts[fit], no_labels, counts[held],
                                          labels[held], 3, assign=(counts[assign],
                                                                   labels[assign]))
    assert labelled > 0.95
    unlabelled = features.prototype_readout(counts[fit], no_labels, counts[held],
                                            labels[held], 3)
    assert unlabelled < 0.5


def test_nearest_neighbour_readout_compares_directions_not_sizes(features):
    """[1, 0] lies nearer [0, 1] than [100, 0] in Euclidean distance, but points the
    way of [100, 0]: the cosine readout gives it that image's label."""
    fit = np.array([[100.0, 0.0], [0.0, 1.0]])
    assert features.nearest_neighbour_readout(fit, np.array([0, 1]), np.array([[1.0, 0.0]]),
                                              np.array([0])) == 1.0
    assert features.nearest_neighbour_readout(fit, np.array([0, 1]), np.array([[1.0, 0.0]]),
                                              np.array([1])) == 0.0


def test_pixel_baseline_runs_every_readout_without_a_network(features, data_dir,
                                                              tmp_path, monkeypatch):
    monkeypatch.setattr(features, "HERE", tmp_path)
    result = features.main(["--pixels", "--train-samples", "0", "--fit-samples", "400",
                            "--eval-samples", "200", "--prototypes", "20",
                            "--nearest-neighbour", "--data-dir", str(data_dir)])
    assert result["config"]["features_of"] == "pixels" and result["features"] == 784
    assert "pooled_spikes_per_image" not in result and result["train_seconds"] == 0
    # MNIST pixels: far above chance for every readout, even with 400 fit images
    assert result["linear_accuracy"] > 0.7
    assert result["prototype_accuracy"]["20"] > 0.5
    assert result["nearest_neighbour_accuracy"] > 0.7
    written = tmp_path / "results" / "adaptive_conv_features_mnist_pixels_fit400_eval200.json"
    assert written.exists()


def test_eval_samples_outside_the_test_set_are_refused(features, data_dir):
    with pytest.raises(SystemExit):
        features.main(["--pixels", "--eval-samples", "0", "--data-dir", str(data_dir)])
