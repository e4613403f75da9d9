"""The sym-STDP supervised network: symmetric window, scaling, teacher, learning.

The symmetric rule from the model file (each spike adds trace_increment to its
neuron's trace):
  pre spike at t1:   w += nu x trace_increment x sum over earlier post spikes exp(-(t1 - t_post)/tau_minus)
  post spike at t2:  w += nu x trace_increment x sum over earlier pre spikes exp(-(t2 - t_pre)/tau_plus)
so both timing orders potentiate and the change decays with |dt|.
"""

import numpy as np
import pytest
from brian2 import ms

from bioplastic import evaluation, sym_stdp
from bioplastic.checkpoint import load_checkpoint
from bioplastic.network import Protocol
from bioplastic.training import Run, RunConfig
from conftest import TRAIN_DEVICE
from spike_pairs import delayed_rule, random_trains, run_pair

W0 = 0.3
N = 12

#: (pre group fields, post group fields, synapse fields, learning rate, w_max) per layer
LAYERS = {
    "input->hidden": (("input_eqs", "input_reset"), ("excitatory_eqs", "excitatory_reset"),
                      ("input_synapse_eqs", "input_on_pre", "input_on_post"),
                      "nu_input", "w_max"),
    "hidden->supervised": (("excitatory_eqs", "excitatory_reset"),
                           ("supervised_eqs", "supervised_reset"),
                           ("supervised_synapse_eqs", "supervised_on_pre",
                            "supervised_on_post"),
                           "nu_supervised", "w_max_supervised"),
}


@pytest.fixture(scope="module")
def model():
    return sym_stdp.load_model()


def _layer_pair(model, layer, pre_steps, post_steps, n_steps, w0=W0, n_pre=1,
                synapse=None):
    pre, post, fields, _, _ = LAYERS[layer]
    synapse = synapse or {"model": model[fields[0]], "on_pre": model[fields[1]],
                          "on_post": model[fields[2]]}
    return run_pair(model, pre_steps, post_steps, n_steps, w0, pre=pre, post=post,
                    synapse=synapse, n_pre=n_pre)


def _steps(model, time):
    return int(round(float(time / model["dt"])))


@pytest.mark.usefixtures("numpy_target")
@pytest.mark.parametrize("layer", sorted(LAYERS))
@pytest.mark.parametrize("delta", [-40, -20, -10, -5, -2, -0.5, 0.5, 2, 5, 10, 20, 40])
def test_both_timing_orders_potentiate_with_the_analytic_window(model, layer, delta):
    """delta = t_post - t_pre (ms); one pair of spikes, 5 ms apart from the ends."""
    rate = float(model[LAYERS[layer][3]])
    t_pre = 50 * ms
    t_post = t_pre + delta * ms
    end = max(t_pre, t_post) + 5 * ms
    w = _layer_pair(model, layer, [[_steps(model, t_pre)]], [_steps(model, t_post)],
                    _steps(model, end))
    tau = model["tau_plus"] if delta > 0 else model["tau_minus"]
    expected = W0 + rate * float(model["trace_increment"]) * np.exp(-abs(delta) * ms / tau)
    assert w[0] == pytest.approx(expected, rel=1e-9)
    assert w[0] > W0


@pytest.mark.usefixtures("numpy_target")
def test_window_is_symmetric_and_decays_with_the_time_difference(model):
    gaps = [1, 5, 15, 30, 60]
    changes = {}
    for sign in (1, -1):
        for gap in gaps:
            t_pre = 100 * ms
            t_post = t_pre + sign * gap * ms
            w = _layer_pair(model, "input->hidden", [[_steps(model, t_pre)]],
                            [_steps(model, t_post)], _steps(model, 170 * ms))
            changes[sign * gap] = w[0] - W0
    for gap in gaps:  # tau_plus == tau_minus in the shipped file: mirror images
        assert changes[gap] == pytest.approx(changes[-gap], rel=1e-9)
    decreasing = [changes[g] for g in gaps]
    assert all(a > b > 0 for a, b in zip(decreasing, decreasing[1:]))


@pytest.mark.usefixtures("numpy_target")
def test_weights_are_clipped_to_each_layers_maximum(model):
    for layer, (_, _, _, _, w_max_name) in LAYERS.items():
        w_max = float(model[w_max_name])
        w = _layer_pair(model, layer, [[10]], [12], 30, w0=w_max - 1e-6)
        assert w[0] == w_max, layer


@pytest.mark.usefixtures("numpy_target")
def test_model_traces_equal_event_driven_synaptic_traces(model):
    """Neuron-held traces give the weights of Brian2's per-synapse event-driven form
    (STDP.py layout) on random trains without same-step pre/post coincidences."""
    rng = np.random.default_rng(7)
    n_steps, n_pre = 4000, 15
    pre_steps, post_steps = random_trains(rng, n_steps, n_pre)
    event_driven = {"model": """
        w : 1
        dapre/dt = -apre / tau_plus : 1 (event-driven)
        dapost/dt = -apost / tau_minus : 1 (event-driven)
        """,
        "on_pre": """ge_post += w
                     apre += trace_increment
                     w = clip(w + nu_input * apost, 0, w_max)""",
        "on_post": """apost += trace_increment
                      w = clip(w + nu_input * apre, 0, w_max)"""}
    model_rule = _layer_pair(model, "input->hidden", pre_steps, post_steps, n_steps,
                             n_pre=n_pre)
    reference = _layer_pair(model, "input->hidden", pre_steps, post_steps, n_steps,
                            n_pre=n_pre, synapse=event_driven)
    assert np.abs(model_rule - W0).max() > 1e-3
    np.testing.assert_allclose(model_rule, reference, rtol=1e-9, atol=1e-12)


def _delayed_pair(model, pre_steps, post_steps, n_steps, delays=None, n_pre=1):
    """The input->hidden rule's delayed variant (pre trace kept in each synapse)."""
    return run_pair(model, pre_steps, post_steps, n_steps, W0, n_pre=n_pre,
                    synapse=delayed_rule(model), delays=delays)


@pytest.mark.usefixtures("numpy_target")
def test_delayed_rule_without_delay_equals_the_default_rule(model):
    rng = np.random.default_rng(8)
    n_steps, n_pre = 4000, 15
    pre_steps, post_steps = random_trains(rng, n_steps, n_pre)
    default = _layer_pair(model, "input->hidden", pre_steps, post_steps, n_steps, n_pre=n_pre)
    delayed = _delayed_pair(model, pre_steps, post_steps, n_steps, n_pre=n_pre)
    assert np.abs(default - W0).max() > 1e-3
    np.testing.assert_allclose(delayed, default, rtol=1e-9, atol=1e-12)


@pytest.mark.usefixtures("numpy_target")
@pytest.mark.parametrize("delta", [-20, -3, 3, 20])
def test_a_delayed_input_spike_pairs_at_its_arrival(model, delta):
    """delta = t_post - arrival (ms), with the input spike sent 4 ms before it arrives:
    the symmetric window is that of the arrival time."""
    delay = 4 * ms
    arrival = 60 * ms
    t_post = arrival + delta * ms
    w = _delayed_pair(model, [[_steps(model, arrival - delay)]], [_steps(model, t_post)],
                      _steps(model, max(arrival, t_post) + 5 * ms), delays=[4] * ms)
    tau = model["tau_plus"] if delta > 0 else model["tau_minus"]
    expected = W0 + (float(model["nu_input"]) * float(model["trace_increment"])
                     * np.exp(-abs(delta) * ms / tau))
    assert w[0] == pytest.approx(expected, rel=1e-9)


# ---------------------------------------------------------------- network level
@pytest.fixture(scope="module")
def mnist(data_dir):
    from bioplastic.datasets import load_dataset
    data = load_dataset("mnist", "train", data_dir=data_dir, download=False)
    return data.intensities()[:40], data.labels[:40]


def _chunk(model, mnist, mode, slots=4, seed=3, state=None):
    images, labels = mnist
    network = sym_stdp.SymStdpNetwork(model, N, mode, "runtime", chunk_slots=slots)
    try:
        state = state or sym_stdp.initial_state(model, N, np.random.default_rng(seed))
        result = network.run_chunk(state, images[:slots], 0, seed, labels=labels[:slots])
    finally:
        network.close()
    return state, result


@pytest.mark.usefixtures("numpy_target")
def test_scaling_keeps_each_in_weight_sum_at_beta_times_fan_in(mnist):
    frozen_rule = sym_stdp.load_model(overrides={"nu_input": "0", "nu_supervised": "0"})
    state, result = _chunk(frozen_rule, mnist, "train", slots=2)
    assert result.counts.sum() > 0
    beta, beta_sl = float(frozen_rule["scaling_beta"]), float(frozen_rule["scaling_beta_supervised"])
    np.testing.assert_allclose(state["weights"].sum(axis=0),
                               beta * 784 * float(frozen_rule["w_max"]), rtol=1e-12)
    np.testing.assert_allclose(state["supervised_weights"].sum(axis=0),
                               beta_sl * N * float(frozen_rule["w_max_supervised"]), rtol=1e-12)


@pytest.mark.usefixtures("numpy_target")
def test_teacher_drives_only_the_labelled_neuron_at_its_rate(model, mnist):
    slots = 8
    _, result = _chunk(model, mnist, "train_supervised", slots=slots)
    labels = mnist[1][:result.completed_rows]
    outputs = result.final_outputs
    assert outputs.shape == (result.completed_rows, 10)
    for row, label in enumerate(labels):
        others = np.delete(outputs[row], label)
        assert others.sum() == 0, (row, label, outputs[row])
    # Poisson at teacher_rate during the presentation window
    expected = float(model["teacher_rate"] * model["presentation_time"]) * len(labels)
    total = outputs.sum()
    assert abs(total - expected) < 4 * np.sqrt(expected), (total, expected)


@pytest.mark.usefixtures("numpy_target")
def test_modes_learn_only_their_layers(model, mnist):
    start = sym_stdp.initial_state(model, N, np.random.default_rng(1))
    for mode, (hidden, supervised) in sym_stdp.SymStdpNetwork.MODES.items():
        state = {k: v.copy() for k, v in start.items()}
        state, _ = _chunk(model, mnist, mode, slots=2, state=state)
        assert (not np.array_equal(state["weights"], start["weights"])) == hidden, mode
        assert (not np.array_equal(state["theta"], start["theta"])) == hidden, mode
        assert (not np.array_equal(state["supervised_weights"],
                                   start["supervised_weights"])) == supervised, mode


@pytest.mark.usefixtures("numpy_target")
def test_threshold_raise_acts_at_test_and_with_its_switch_in_the_supervised_stage(mnist):
    """threshold_raise_test = 3 mV: the test network's hidden layer and SL fire as
    with every theta 3 mV higher by hand, and no training mode reads the value.
    With threshold_raise_supervised_stage = 1 as well, the supervised stage learns
    the SL weights it learns with the thetas raised by hand and hands theta back
    unraised; the hidden stage still does not read the raise."""
    model = sym_stdp.load_model(overrides={"max_retries": "0"})
    raised = sym_stdp.load_model(overrides={"max_retries": "0", "threshold_raise_test": "3*mV"})
    switched = sym_stdp.load_model(overrides={"max_retries": "0", "threshold_raise_test": "3*mV",
                                              "threshold_raise_supervised_stage": "1"})
    start = sym_stdp.initial_state(model, N, np.random.default_rng(2))
    start["theta"] = np.linspace(0.015, 0.025, N)
    by_hand_state = dict(start, theta=start["theta"] + 0.003)
    _, with_raise = _chunk(raised, mnist, "test", state=dict(start))
    _, by_hand = _chunk(model, mnist, "test", state=dict(by_hand_state))
    _, plain = _chunk(model, mnist, "test", state=dict(start))
    assert with_raise.counts.sum() > 0
    assert np.array_equal(with_raise.counts, by_hand.counts)
    assert np.array_equal(with_raise.final_outputs, by_hand.final_outputs)
    assert with_raise.counts.sum() < plain.counts.sum()

    learned = {name: _chunk(used, mnist, "train_supervised", state=dict(state))
               for name, used, state in (("plain", model, start), ("raised", raised, start),
                                         ("switched", switched, start),
                                         ("by hand", model, by_hand_state))}
    weights = {name: learned[name][0]["supervised_weights"] for name in learned}
    np.testing.assert_array_equal(weights["raised"], weights["plain"])
    np.testing.assert_array_equal(weights["switched"], weights["by hand"])
    assert not np.array_equal(weights["switched"], weights["plain"])
    assert 0 < learned["switched"][1].counts.sum() < learned["plain"][1].counts.sum()
    np.testing.assert_array_equal(learned["switched"][1].counts, learned["by hand"][1].counts)
    np.testing.assert_array_equal(learned["switched"][0]["theta"], start["theta"])

    trained_with, _ = _chunk(switched, mnist, "train_hidden", state=dict(start))
    trained, _ = _chunk(model, mnist, "train_hidden", state=dict(start))
    for key in ("weights", "theta"):
        np.testing.assert_array_equal(trained_with[key], trained[key], err_msg=key)


@pytest.mark.parametrize("value", ["2", "0.5", "-1"])
def test_threshold_raise_supervised_stage_other_than_0_or_1_is_refused_by_name(value):
    from bioplastic.modelfile import ModelFileError
    with pytest.raises(ModelFileError, match="threshold_raise_supervised_stage"):
        sym_stdp.load_model(overrides={"threshold_raise_supervised_stage": value})


@pytest.mark.parametrize("schedule", ["layer-by-layer", "simultaneous"])
def test_small_end_to_end_run_learns_above_chance(data_dir, tmp_path, schedule):
    config = RunConfig(model="sym-stdp", schedule=schedule, n_neurons=30,
                       train_samples=300, assign_samples=100, test_samples=200,
                       chunk_slots=100, curve_window=100, seed=2, device=TRAIN_DEVICE,
                       data_dir=str(data_dir))
    results = Run(config, tmp_path, progress=False).run()
    assert results["accuracy_supervised"] > 0.35  # chance: 0.10
    assert results["accuracy"] == results["accuracy_supervised"]
    # the answer: most SL spikes, ties to the SL neuron that fired first
    arrays = dict(np.load(tmp_path / "checkpoint.npz"))
    outputs, first = arrays["test_outputs"], arrays["test_first_spikes"]
    window = Protocol.from_model(sym_stdp.load_model()).presentation_steps
    assert first.shape == outputs.shape and first.max() <= window
    np.testing.assert_array_equal(first < window, outputs > 0)
    labels = arrays["test_labels"]
    assert results["accuracy_supervised"] == evaluation.accuracy(
        evaluation.predict_from_outputs(outputs, first), labels)
    assert results["accuracy_supervised_count_only"] == evaluation.accuracy(
        evaluation.predict_from_outputs(outputs), labels)
    assert "accuracy_all" in results  # label statistics, for comparison
    assert np.asarray(results["confusion_supervised"]).sum() <= 200
    expected_phases = (["train_hidden", "train_supervised"] if schedule == "layer-by-layer"
                       else ["train"]) + ["assign", "test"]
    assert list(results["phases"]) == expected_phases
    from bioplastic.plotting import plot_run
    names = {p.name for p in plot_run(tmp_path, tsne_samples=60)}
    assert {"confusion_supervised.png", "tsne.png", "supervised_weights.png"} <= names


def test_interrupted_layer_by_layer_run_resumes_to_the_identical_result(data_dir, tmp_path,
                                                                       monkeypatch):
    """Ctrl-C in the supervised stage; the resumed run equals an uninterrupted one."""
    # same size and chunk length as the end-to-end runs: their compiled projects are reused
    config = RunConfig(model="sym-stdp", n_neurons=30, train_samples=200, assign_samples=50,
                       test_samples=100, chunk_slots=100, curve_window=100, seed=4,
                       device=TRAIN_DEVICE, data_dir=str(data_dir))
    reference = Run(config, tmp_path / "reference", progress=False).run()
    reference_arrays = dict(np.load(tmp_path / "reference" / "checkpoint.npz"))
    calls = {}
    original = sym_stdp.SymStdpNetwork.run_chunk

    def flaky(self, *args, **kwargs):
        if self.mode == "train_supervised":
            calls["supervised"] = calls.get("supervised", 0) + 1
        if calls.get("supervised") == 2:
            raise KeyboardInterrupt
        return original(self, *args, **kwargs)

    monkeypatch.setattr(sym_stdp.SymStdpNetwork, "run_chunk", flaky)
    with pytest.raises(KeyboardInterrupt):
        Run(config, tmp_path / "resumed", progress=False).run()
    _, meta = load_checkpoint(tmp_path / "resumed" / "checkpoint.npz")
    assert meta["progress"]["train_hidden"]["done"]
    assert 0 < meta["progress"]["train_supervised"]["position"] < 200
    monkeypatch.setattr(sym_stdp.SymStdpNetwork, "run_chunk", original)
    resumed = Run(config, tmp_path / "resumed", progress=False).run()
    arrays = dict(np.load(tmp_path / "resumed" / "checkpoint.npz"))
    for key in ("weights", "theta", "supervised_weights", "test_outputs", "test_counts",
                "test_first_spikes"):
        np.testing.assert_array_equal(arrays[key], reference_arrays[key], err_msg=key)
    assert resumed["accuracy_supervised"] == reference["accuracy_supervised"]
