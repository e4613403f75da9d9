"""Adaptive convolutional STDP network: convolution, shared weights, STDP, modules."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from brian2 import ms

from bioplastic import adaptive_conv as ac
from bioplastic.datasets import load_dataset
from bioplastic.modelfile import ModelFileError
from bioplastic.training import RunConfig, balanced_subset
from conftest import TRAIN_DEVICE
from spike_pairs import random_trains, run_pair

#: small and fast: 3 kernels, one-sample batches, short presentations
SMALL = {"kernels": "3", "batch_samples": "1", "sample_steps": "12"}


@pytest.fixture(scope="module")
def images(data_dir):
    data = load_dataset("mnist", "train", data_dir)
    return data.images[:40].reshape(40, -1) / 255.0, data.labels[:40]


def _network(model, mode, n_neurons=6, chunk_slots=4, device="runtime", **options):
    return ac.AdaptiveConvNetwork(model, n_neurons, mode, device, chunk_slots=chunk_slots,
                                  **options)


def test_convolution_matches_scipy_correlate2d(images):
    """The summed tap -> neuron current is scipy's valid cross-correlation."""
    model = ac.load_model(overrides=SMALL)
    state = ac.initial_state(model, 6, np.random.default_rng(3))
    network = _network(model, "test", chunk_slots=1)
    try:
        network.run_chunk(state, images[0][:1], 0, 1)
        current = network.get("conv.current").reshape(3, 24, 24)
        kernel_max = network.get("conv.layer_max").reshape(3, -1)
    finally:
        network.close()
    expected = ac.convolve(images[0][0].reshape(28, 28), state["kernels"])
    np.testing.assert_allclose(current, expected, atol=1e-12)
    # ATB: each kernel's threshold comes from its largest current
    np.testing.assert_allclose(kernel_max, expected.reshape(3, -1).max(axis=1)[:, None]
                               * np.ones((1, 24 * 24)), atol=1e-12)


def test_geometry_indices():
    geometry = ac.Geometry(kernel_size=5, kernels=2, pool_size=2)
    tap, neuron, pixel = geometry.tap_synapses()
    assert len(tap) == 2 * 25 * 24 * 24 == geometry.n_conv * 25
    # neuron (1, 3, 7) reads pixel (3 + a, 7 + b) through tap (1, a, b)
    chosen = neuron == (1 * 24 + 3) * 24 + 7
    a, b = np.divmod(tap[chosen] - 25, 5)
    np.testing.assert_array_equal(pixel[chosen], (3 + a) * 28 + 7 + b)
    source, unit = geometry.pool_synapses()
    assert np.bincount(unit).tolist() == [4] * geometry.n_features
    lateral_source, lateral_target = geometry.lateral_synapses()
    assert np.all(lateral_source % 576 == lateral_target % 576)
    assert np.all(lateral_source // 576 != lateral_target // 576)


def _conv_reference_update(model, kernels, images, spikes, steps_per_sample):
    """The kernels after one STB batch, from the recorded convolution spikes (numpy).

    dw(c, a, b) = sum over spikes of neuron (c, x, y) of a_plus x pixel(x + a, y + b)
    - x_offset; then w <- normalise(w + learning_rate_conv x dw).
    """
    geometry = ac.Geometry.from_model(model)
    neurons, steps = spikes
    k, side = geometry.kernel_size, geometry.conv_side
    dw = np.zeros_like(kernels)
    for neuron, step in zip(neurons, steps):
        sample = step // steps_per_sample
        if sample >= len(images):
            continue
        c, rest = divmod(int(neuron), side * side)
        x, y = divmod(rest, side)
        patch = images[sample].reshape(28, 28)[x:x + k, y:y + k]
        dw[c] += float(model["a_plus"]) * patch - float(model["x_offset"])
    return ac.normalise_kernels(kernels + float(model["learning_rate_conv"]) * dw)


@pytest.mark.parametrize("batch", [1, 3])
def test_batch_update_of_shared_kernels(images, batch):
    """One STB batch: the kernels change once, by the summed STDP of all samples.

    Every tap -> neuron synapse of a kernel position reads the same weight (the
    tap's), before and after the update; the update equals the numpy sum over the
    recorded spikes of the batch, and each kernel is normalised (eq. 11).
    """
    model = ac.load_model(overrides={**SMALL, "batch_samples": str(batch)})
    state = ac.initial_state(model, 6, np.random.default_rng(5))
    before = state["kernels"].copy()
    network = _network(model, "conv_train", chunk_slots=batch, record_conv=True)
    try:
        network.run_chunk(state, images[0][:batch], 0, 1)
        spikes = network.network.spikes("conv_spikes")
        tap_conv = network.network.objects["tap_conv"]
        read_weights = np.asarray(tap_conv.w_pre[:])
        taps = np.asarray(tap_conv.i[:])
    finally:
        network.close()
    assert len(spikes[0]) > 0
    expected = _conv_reference_update(model, before, images[0][:batch], spikes,
                                      int(model["sample_steps"]))
    np.testing.assert_allclose(state["kernels"], expected, atol=1e-10)
    np.testing.assert_allclose(read_weights, state["kernels"].ravel()[taps], atol=0)
    flat = state["kernels"].reshape(3, -1)
    np.testing.assert_allclose(flat.mean(axis=1), 0, atol=1e-12)
    np.testing.assert_allclose(np.linalg.norm(flat, axis=1), 1, atol=1e-12)


def test_without_stb_kernels_change_every_step(images):
    """stb_on = 0 applies the update at every step: the spikes of one sample then
    differ from a frozen-weight batch, and the kernels stay normalised."""
    model = ac.load_model(overrides={**SMALL, "stb_on": "0", "learning_rate_conv": "0.05"})
    state = ac.initial_state(model, 6, np.random.default_rng(5))
    before = state["kernels"].copy()
    network = _network(model, "conv_train", chunk_slots=2, record_conv=True)
    try:
        network.run_chunk(state, images[0][:2], 0, 1)
        spikes = network.network.spikes("conv_spikes")
    finally:
        network.close()
    batched = _conv_reference_update(model, before, images[0][:2], spikes,
                                     int(model["sample_steps"]))
    assert np.max(np.abs(state["kernels"] - batched)) > 1e-6
    flat = state["kernels"].reshape(3, -1)
    np.testing.assert_allclose(np.linalg.norm(flat, axis=1), 1, atol=1e-12)


class _WithBuilderVariables:
    """A model whose fully connected equations get the variables the builder adds."""

    EXTRA = {"fc_eqs": "\nintegrating = 1 : 1\nlayer_max = 1 : 1\nlearning_on = 1 : 1\n"}

    def __init__(self, model):
        self.model = model
        self.namespace = model.namespace

    def __getitem__(self, name):
        value = self.model[name]
        return value + self.EXTRA[name] if name in self.EXTRA else value


def test_fc_stdp_window_on_hand_placed_spike_pairs():
    """Each post spike adds a_plus exp(-(t_post - t_pre) / tau_plus) - x_offset, with
    the nearest preceding pre spike (the trace is reset at a spike, not summed)."""
    model = ac.load_model()
    wrapped = _WithBuilderVariables(model)
    tau = float(model["tau_plus"] / ms)
    a_plus, offset = float(model["a_plus"]), float(model["x_offset"])
    synapse = {"model": "w : 1\nelig : 1", "on_pre": model["fc_on_pre"],
               "on_post": model["fc_on_post"]}
    # one post spike at step 30; pre neuron k fires once, delays[k] steps earlier
    # (the last one fires after the post spike); then random trains for neuron 5
    delays = [1, 3, 8, 20, -5]
    rng = np.random.default_rng(2)
    random_pre, random_post = random_trains(rng, 300, 1, 0.0, 0.1)
    random_pre = random_pre[0][(random_pre[0] > 40) & (random_pre[0] % 37 != 0)]
    post = [30] + list(range(74, 300, 37))
    pre = [[30 - d] for d in delays] + [random_pre]
    elig = run_pair(wrapped, pre, post, 300, 0.0, pre=("pool_eqs", "pool_reset"),
                    post=("fc_eqs", "fc_reset"), synapse=synapse, n_pre=len(pre),
                    read="elig")

    def expected(pre_steps):
        total = 0.0
        for step in post:
            earlier = np.asarray(pre_steps)[np.asarray(pre_steps) < step]
            trace = a_plus * np.exp(-(step - earlier[-1]) / tau) if len(earlier) else 0.0
            total += trace - offset
        return total

    np.testing.assert_allclose(elig, [expected(steps) for steps in pre], atol=1e-9)
    # the window decays with the delay: the closest pair potentiates most
    assert elig[0] > elig[1] > elig[2] > elig[3]


def test_modules_switch_behaviour(images):
    """ALIC off (no inhibition) lets more kernels fire at a position; ASF off lets
    far more neurons fire than its sigmoid filter does."""
    def conv_spikes(**overrides):
        model = ac.load_model(overrides={**SMALL, **overrides})
        state = ac.initial_state(model, 6, np.random.default_rng(1))
        network = _network(model, "test", chunk_slots=2, record_conv=True)
        try:
            network.run_chunk(state, images[0][:2], 0, 1)
            return network.conv_counts(2)
        finally:
            network.close()

    default = conv_spikes()
    no_inhibition = conv_spikes(alic_on="0", inhibition_conv="0")
    no_filter = conv_spikes(asf_on="0")
    co_active = lambda counts: np.sum((counts > 0).sum(axis=1) > 1)  # noqa: E731
    assert co_active(no_inhibition) > co_active(default)
    assert no_filter.sum() > 2 * default.sum()


def test_runtime_and_standalone_agree_exactly(images):
    """The model draws no random numbers: both devices give identical kernels,
    fully connected weights and spike counts."""
    if TRAIN_DEVICE != "cpp_standalone":
        pytest.skip("cpp_standalone needs Brian2 >= 2.6 (run_args)")
    model = ac.load_model(overrides={**SMALL, "batch_samples": "2"})
    results = {}
    for device in ("runtime", "cpp_standalone"):
        state = ac.initial_state(model, 6, np.random.default_rng(4))
        for mode in ("conv_train", "fc_train"):
            network = _network(model, mode, chunk_slots=4, device=device)
            try:
                result = network.run_chunk(state, images[0][:4], 0, 1)
            finally:
                network.close()
        results[device] = (state, result.final_counts)
    (state_a, counts_a), (state_b, counts_b) = results.values()
    for key in ac.STATE_KEYS:
        np.testing.assert_allclose(state_a[key], state_b[key], rtol=1e-9, atol=1e-12)
    np.testing.assert_array_equal(counts_a, counts_b)
    assert counts_a.sum() > 0


@pytest.mark.parametrize("order", [1, 2])
def test_fc_training_keeps_column_sums_and_learns(images, order):
    """order 1: every column sums to fc_column_sum (eq. 10); 2: its Euclidean norm
    is fc_column_sum (``fc_column_norm_order``, not in the paper)."""
    model = ac.load_model(overrides={**SMALL, "fc_column_norm_order": str(order)})
    state = ac.initial_state(model, 6, np.random.default_rng(4))
    before = state["fc_weights"].copy()
    network = _network(model, "fc_train", chunk_slots=4)
    try:
        result = network.run_chunk(state, images[0][:4], 0, 1)
    finally:
        network.close()
    assert result.final_counts.shape == (4, 6)
    np.testing.assert_allclose(np.linalg.norm(state["fc_weights"], ord=order, axis=0),
                               float(model["fc_column_sum"]), rtol=1e-9)
    other = 3 - order  # and not the other norm
    assert not np.allclose(np.linalg.norm(state["fc_weights"], ord=other, axis=0),
                           float(model["fc_column_sum"]), rtol=1e-3)
    assert np.all(state["fc_weights"] >= 0)
    assert not np.allclose(state["fc_weights"], before)
    assert np.all(state["theta_plus"] >= 0) and state["theta_plus"].max() > 0


def test_frozen_layer_inhibition_acts_only_while_the_layer_does_not_learn(images):
    """frozen_inhibition_fc < 1 lets more fully connected neurons answer each test
    image; training (fc_train) is the same whatever its value."""
    def fc_run(mode, frozen):
        model = ac.load_model(overrides={**SMALL, "frozen_inhibition_fc": frozen})
        state = ac.initial_state(model, 12, np.random.default_rng(6))
        network = _network(model, mode, n_neurons=12, chunk_slots=4)
        try:
            result = network.run_chunk(state, images[0][:4], 0, 1)
        finally:
            network.close()
        return state, result.final_counts

    responding = {frozen: (fc_run("test", frozen)[1] > 0).sum(axis=1)
                  for frozen in ("1", "0.06")}
    assert np.all(responding["0.06"] >= responding["1"])
    assert responding["0.06"].sum() > responding["1"].sum()
    (trained_a, counts_a), (trained_b, counts_b) = fc_run("fc_train", "1"), fc_run("fc_train", "0.06")
    np.testing.assert_array_equal(counts_a, counts_b)
    np.testing.assert_array_equal(trained_a["fc_weights"], trained_b["fc_weights"])


def test_padding_rows_do_not_learn(images):
    """A chunk's blank padding rows (learning off) leave the kernels as one batch
    of the real samples would."""
    model = ac.load_model(overrides={**SMALL, "batch_samples": "2"})
    results = []
    for slots in (2, 4):
        state = ac.initial_state(model, 6, np.random.default_rng(5))
        network = _network(model, "conv_train", chunk_slots=slots)
        try:
            network.run_chunk(state, images[0][:2], 0, 1)
        finally:
            network.close()
        results.append(state["kernels"])
    np.testing.assert_allclose(results[0], results[1], atol=1e-12)


def test_balanced_subset_is_balanced_and_seeded():
    labels = np.repeat(np.arange(10), 30)[np.random.default_rng(0).permutation(300)]
    subset = balanced_subset(labels, 50, seed=3)
    assert np.bincount(labels[subset], minlength=10).tolist() == [5] * 10
    np.testing.assert_array_equal(subset, balanced_subset(labels, 50, seed=3))
    assert not np.array_equal(subset, balanced_subset(labels, 50, seed=4))
    with pytest.raises(ValueError, match="class 0 has"):
        balanced_subset(labels, 400, seed=3)


def test_few_shot_cli_trains_and_plots(tmp_path, data_dir):
    """``bioplastic train adaptive-conv --balanced``: 50 images, 5 of each class, for
    training and label assignment; tested on 300 images, above chance."""
    out = tmp_path / "run"
    command = [sys.executable, "-m", "bioplastic", "-q", "train", "adaptive-conv",
               "--neurons", "30", "--train-samples", "50", "--balanced", "--epochs", "4",
               "--test-samples", "300", "--device", TRAIN_DEVICE, "--chunk-slots", "50",
               "--seed", "2", "--data-dir", str(data_dir), "--out", str(out)]
    done = subprocess.run(command, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "test accuracy" in done.stdout
    results = json.loads((out / "results.json").read_text())
    assert results["config"]["balanced"] is True
    assert results["phases"]["train_conv"]["samples"] == 200
    assert results["phases"]["assign"]["samples"] == 50
    assert results["accuracy_all"] > 0.3
    arrays = np.load(out / "checkpoint.npz")
    assert np.bincount(arrays["assign_labels"], minlength=10).tolist() == [5] * 10
    plotted = subprocess.run([sys.executable, "-m", "bioplastic", "plot", "--out", str(out)],
                             capture_output=True, text=True)
    assert plotted.returncode == 0, plotted.stderr
    names = {Path(line).name for line in plotted.stdout.split()}
    assert {"conv_kernels.png", "fc_weights_by_class.png", "confusion.png"} <= names


def test_bad_input_is_named(images):
    model = ac.load_model(overrides=SMALL)
    state = ac.initial_state(model, 6, np.random.default_rng(0))
    network = _network(model, "test", chunk_slots=1)
    try:
        with pytest.raises(ValueError, match="784 pixels"):
            network.run_chunk(state, np.zeros((1, 100)), 0, 1)
        with pytest.raises(ValueError, match="network holds 1"):
            network.run_chunk(state, images[0][:3], 0, 1)
    finally:
        network.close()
    with pytest.raises(ValueError, match="mode must be one of"):
        ac.AdaptiveConvNetwork(model, 6, "train")
    with pytest.raises(ValueError, match="divisible"):
        RunConfig(model="adaptive-conv", train_samples=15, balanced=True).validate()


def test_fc_column_norm_order_is_one_or_two():
    with pytest.raises(ModelFileError, match="fc_column_norm_order"):
        ac.load_model(overrides={"fc_column_norm_order": "3"})


def test_model_file_geometry_is_checked(tmp_path):
    """A pooling window larger than the convolution output is named with its line
    (the known-bad partial files are in tests/invalid, checked by test_modelfile)."""
    text = ac.find_model_file(ac.MODEL_FILE).read_text()
    edited = tmp_path / "edited_conv.py"
    edited.write_text(text.replace("pool_size = 2 ", "pool_size = 25 "))
    with pytest.raises(ModelFileError) as error:
        ac.load_model(edited)
    message = str(error.value)
    assert "edited_conv.py" in message and "field 'pool_size'" in message
    assert "larger than the convolution output (24 x 24)" in message
