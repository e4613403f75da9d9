"""MSTDP energy network: the Brian2 equations against the paper's discrete update,
energy descent, clamping, the sign of the STDP-form rule, chunking, and the
train -> generate -> classify command-line round trip."""

import re

import numpy as np
import pytest

from bioplastic import mstdp
from bioplastic.cli import main
from bioplastic.mstdp import LABEL_SLICE, N_INPUT, N_VISIBLE, EnergyNetwork
from bioplastic.training import Run, RunConfig

from conftest import TRAIN_DEVICE, needs_standalone

#: Short phases so that the networks are small and quick to compile and run.
SHORT = {"clamped_iterations": "3", "free_iterations": "2", "train_cycles": "2",
         "test_cycles": "1"}
N_HIDDEN = 5

# The model's semantics are checked on tiny networks on the runtime device, with
# numpy code generation (tests/conftest.py): nothing to compile. Chunking, padding
# and the command line run on TRAIN_DEVICE, as users train.
pytestmark = pytest.mark.usefixtures("numpy_target")
SEMANTICS_DEVICE = "runtime"


def _model(**overrides):
    return mstdp.load_model(overrides={**SHORT, **overrides})


def _images(n, seed=0):
    rng = np.random.default_rng(seed)
    return rng.random((n, N_INPUT)) * (rng.random((n, N_INPUT)) < 0.3)


def reference_run(model, state, n_hidden, mode, images, labels, n_samples):
    """The paper's update written out per iteration in numpy (independent of Brian2).

    Per iteration k: weights and biases learn the change of rho over iteration k-1
    if it was clamped (train mode); then v <- m v + eps F and s <- s + v with
    F = rho'(s)(W^T rho + b) - s + beta clamp (data - s).
    """
    gain = float(model["gain"])
    clamped_n, free_n = int(model["clamped_iterations"]), int(model["free_iterations"])
    cycles = int(model["train_cycles"] if mode == "train" else model["test_cycles"])
    cycle = clamped_n + free_n
    per_sample = cycles * cycle
    learning_on, part, _ = mstdp.MODES[mode]
    weights = mstdp.full_weights(state)
    n = N_VISIBLE + n_hidden
    mask = np.ones((n, n), bool)
    mask[:N_VISIBLE, :N_VISIBLE] = False
    np.fill_diagonal(mask, False)
    bias = np.concatenate([state["bias_visible"], state["bias_hidden"]])
    s, v = np.array(state["state"], float), np.array(state["velocity"], float)
    clamp = np.zeros(n)
    if part in ("all", "image"):
        clamp[:N_INPUT] = 1
    if part in ("all", "label"):
        clamp[LABEL_SLICE] = 1
    rate = lambda x: 1 / (1 + np.exp(-gain * x))  # noqa: E731
    lr, lr_b = float(model["learning_rate"]), float(model["bias_learning_rate"])
    lr_smoothing = float(model["smoothing_rate"])
    limit = float(model["state_limit"])
    point, reverse = float(model["rate_point"]), float(model["reverse_term_weight"])
    eps = float(model["step_size"])
    data = np.zeros(n)
    signal = np.zeros(n)  # rho'(s) x the energy part of the force, one iteration earlier
    for k in range(n_samples * per_sample):
        sample = k // per_sample
        if k % per_sample == 0:
            data = np.zeros(n)
            data[:N_INPUT] = images[sample]
            data[N_INPUT + labels[sample]] = 1.0
        clamped = k % cycle < clamped_n
        learning = learning_on and k >= 1 and (k - 1) % cycle < clamped_n
        rho, rho_before = rate(s), rate(s - v)
        if learning:
            rate_mid, change = rho_before + point * (rho - rho_before), rho - rho_before
            learned = np.outer(rate_mid, change) + reverse * np.outer(change, rate_mid)
            weights += (lr * learned - lr_smoothing * np.outer(rho_before, signal)) * mask
        beta = float(model["beta_clamped"]) if clamped else 0.0
        momentum = float(model["momentum_clamped"] if clamped else model["momentum_free"])
        energy_force = gain * rho * (1 - rho) * (rho @ weights + bias) - s
        force = energy_force + beta * clamp * (data - s)
        if learning:
            bias = bias + lr_b * (rho - rho_before) - lr_smoothing * signal
        signal = gain * rho * (1 - rho) * energy_force
        v = momentum * v + eps * force
        if limit > 0:
            v = np.clip(s + v, -limit, limit) - s
        s = s + v
    return weights, bias, s, v


@pytest.mark.parametrize("device", ["runtime", pytest.param("cpp_standalone",
                                                            marks=needs_standalone)])
@pytest.mark.parametrize("smoothing_rate, state_limit, rate_point, reverse_term_weight",
                         [("0", "0", "0", "0"), ("0.03", "0.4", "0", "0"),
                          ("0", "0", "0.5", "0.7")])
def test_brian2_equations_equal_the_papers_discrete_update(device, smoothing_rate,
                                                           state_limit, rate_point,
                                                           reverse_term_weight):
    """The Euler step of the model file's equations is the momentum update, and the
    clock-driven synapses learn exactly dW_ji = lr rho_j(k-1) [rho_i(k) - rho_i(k-1)]
    in clamped iterations, minus the smoothing term when it is on; with a state
    limit the step is clipped. Both devices must match a plain numpy loop."""
    model = _model(learning_rate="0.05", bias_learning_rate="0.02",
                   smoothing_rate=smoothing_rate, state_limit=state_limit,
                   rate_point=rate_point, reverse_term_weight=reverse_term_weight)
    state = mstdp.initial_state(model, N_HIDDEN, np.random.default_rng(3))
    images, labels = _images(2), np.array([3, 7])
    expected = reference_run(model, state, N_HIDDEN, "train", images, labels, 2)
    network = EnergyNetwork(model, N_HIDDEN, "train", device, chunk_slots=2)
    try:
        network.run_chunk(state, images, 0, seed=5, labels=labels)
    finally:
        network.close()
    weights, bias, s, v = expected
    assert not np.allclose(weights, mstdp.full_weights(
        mstdp.initial_state(model, N_HIDDEN, np.random.default_rng(3))))
    np.testing.assert_allclose(mstdp.full_weights(state), weights, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(np.concatenate([state["bias_visible"], state["bias_hidden"]]),
                               bias, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(state["state"], s, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(state["velocity"], v, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("reverse_term_weight, symmetric", [("1", True), ("0", False)])
def test_the_symmetric_update_leaves_the_antisymmetric_part_of_w_unchanged(
        reverse_term_weight, symmetric):
    """With reverse_term_weight = 1 and rate_point = 0.5, dW_ji is the change of
    rho_i rho_j, the same for W_ji and W_ij: W - W^T keeps its initial value while W
    learns. The paper's rule (0) changes W - W^T."""
    model = _model(learning_rate="0.05", bias_learning_rate="0.05", rate_point="0.5",
                   reverse_term_weight=reverse_term_weight)
    state = mstdp.initial_state(model, N_HIDDEN, np.random.default_rng(3))
    before = mstdp.full_weights(state)
    network = EnergyNetwork(model, N_HIDDEN, "train", SEMANTICS_DEVICE, chunk_slots=2)
    try:
        network.run_chunk(state, _images(2), 0, seed=5, labels=np.array([3, 7]))
    finally:
        network.close()
    after = mstdp.full_weights(state)
    assert np.abs(after - before).max() > 1e-3  # it learned
    antisymmetric_change = np.abs((after - after.T) - (before - before.T)).max()
    if symmetric:
        assert antisymmetric_change < 1e-12
    else:
        assert antisymmetric_change > 1e-3


def _symmetric_state(model, n_hidden, seed):
    state = mstdp.initial_state(model, n_hidden, np.random.default_rng(seed))
    hidden = state["weights_hidden_hidden"]
    hidden = (hidden + hidden.T) / 2
    np.fill_diagonal(hidden, 0)
    state["weights_hidden_hidden"] = hidden
    state["weights_hidden_visible"] = state["weights_visible_hidden"].T.copy()
    return state


def test_free_dynamics_decrease_the_energy():
    """Learning off, no clamping, no momentum, symmetric weights: every iteration
    is a gradient step on E, so E (measured from the simulated states) falls."""
    model = _model(beta_clamped="0", momentum_clamped="0", momentum_free="0",
                   clamped_iterations="2", free_iterations="2", w_init_max="0.5")
    n_hidden = 12
    state = _symmetric_state(model, n_hidden, seed=4)
    gain = float(model["gain"])
    energies = [mstdp.energy(state, gain)]
    network = EnergyNetwork(model, n_hidden, "classify", SEMANTICS_DEVICE, chunk_slots=1)
    try:
        for chunk in range(12):  # 4 iterations per chunk
            network.run_chunk(state, _images(1, chunk), 0, seed=chunk)
            energies.append(mstdp.energy(state, gain))
    finally:
        network.close()
    steps = np.diff(energies)
    assert np.all(steps <= 1e-12), f"energy rose: {energies}"
    assert energies[-1] < energies[0] - 1.0
    # converged: the last steps are much smaller than the first ones
    assert abs(steps[-1]) < 0.01 * abs(steps[0])


def test_clamping_pulls_visible_states_towards_the_data():
    model = _model(clamped_iterations="8", free_iterations="8")
    state = mstdp.initial_state(model, N_HIDDEN, np.random.default_rng(1))
    images, labels = _images(3, seed=2), np.array([0, 4, 9])
    ends = mstdp.fixed_points(model, state, N_HIDDEN, images, labels, SEMANTICS_DEVICE)
    data = np.concatenate([images, np.eye(10)[labels]], axis=1)
    distance = np.abs(ends - data[:, None, :]).mean(axis=2)  # (sample, phase end)
    start, clamped_1, free_1, clamped_2 = distance[:, 0], distance[:, 1], distance[:, 2], distance[:, 3]
    assert np.all(clamped_1 < 0.6 * start)
    assert np.all(clamped_1 < free_1) and np.all(clamped_2 < free_1)
    # beta (data - s) with beta 0.8 cannot reach the data exactly against the network
    assert np.all(clamped_2 > 0)
    # the label neurons: the labelled one is pulled up, the others towards 0
    label_states = ends[np.arange(3), 3, N_INPUT + labels]
    assert np.all(label_states > 0.3)


def test_update_sign_follows_pre_rate_times_post_rate_change():
    """Hand-built case with one hidden neuron: every visible neuron sits at s = 0
    (rho = 1/2) with all weights 0, so only the hidden neuron moves, driven by its
    bias. Visible->hidden weights must change by lr x 1/2 x (its rho change), with
    the sign of that change; hidden->visible weights (post rate constant) must not."""
    model = _model(learning_rate="0.1", bias_learning_rate="0", clamped_iterations="6",
                   free_iterations="1", train_cycles="1")
    changes = {}
    for drive in (+2.0, -2.0):
        state = mstdp.initial_state(model, 1, np.random.default_rng(0))
        for key in ("weights_visible_hidden", "weights_hidden_visible"):
            state[key] = np.zeros_like(state[key])
        state["bias_visible"] = np.zeros(N_VISIBLE)
        state["bias_hidden"] = np.array([drive])
        state["state"] = np.zeros(N_VISIBLE + 1)
        network = EnergyNetwork(model, 1, "train", SEMANTICS_DEVICE, chunk_slots=1)
        try:
            # a blank image and the label 0: only the label neuron 0 is pulled
            network.run_chunk(state, np.zeros((1, N_INPUT)), 0, seed=1, labels=np.array([0]))
        finally:
            network.close()
        pixels = state["weights_visible_hidden"][:N_INPUT, 0]
        changes[drive] = pixels
        assert np.ptp(pixels) < 1e-15, "equal pre rates must give equal changes"
        np.testing.assert_array_equal(state["weights_hidden_visible"][0, 1:N_INPUT], 0.0)
    assert np.all(changes[+2.0] > 0) and np.all(changes[-2.0] < 0)
    # rho of the hidden neuron rose (fell) by at most 1/2 from 1/2: |dw| <= lr / 4
    assert np.all(np.abs(changes[+2.0]) <= 0.1 / 4)


def test_smoothing_term_lets_the_network_hold_the_clamped_state_by_itself():
    """The smoothing term (STDP-form rule off) is gradient descent on the energy
    part of ds at the clamped states: shown one image over and over, the network
    learns to hold the clamped state, so the free phase drifts away from it less
    and less. Without it nothing is learned and the drift stays."""
    images, labels = _images(1, seed=4).repeat(20, axis=0), np.full(20, 6)
    drifts = {}
    for rate in ("0", "0.02"):
        model = _model(learning_rate="0", bias_learning_rate="0", smoothing_rate=rate,
                       clamped_iterations="10", free_iterations="10", train_cycles="2")
        state = mstdp.initial_state(model, N_HIDDEN, np.random.default_rng(6))
        network = EnergyNetwork(model, N_HIDDEN, "train", SEMANTICS_DEVICE, chunk_slots=20,
                                record_visible=True)
        try:
            ends = network.run_chunk(state, images, 0, seed=0, labels=labels).extras["phase_ends"]
        finally:
            network.close()
        # mean |change of s| over the last free phase of each sample (end of the
        # second clamped phase -> end of the sample)
        drifts[rate] = np.abs(ends[:, 4] - ends[:, 3]).mean(axis=1)
    assert drifts["0"][-1] > 0.8 * drifts["0"][0], drifts["0"]
    assert drifts["0.02"][-1] < 0.2 * drifts["0.02"][0], drifts["0.02"]
    assert drifts["0.02"][-1] < 0.2 * drifts["0"][-1]


def test_chunks_do_not_change_the_result():
    """State s is not reset between samples, so 4 samples in chunks of 2 must give
    what 4 samples in one chunk give (the phase clock restarts with each chunk)."""
    model = _model()
    images, labels = _images(4, seed=7), np.array([1, 2, 3, 4])
    results = []
    for chunk in (4, 2):
        state = mstdp.initial_state(model, N_HIDDEN, np.random.default_rng(2))
        network = EnergyNetwork(model, N_HIDDEN, "train", TRAIN_DEVICE, chunk_slots=chunk)
        outputs = []
        try:
            for start in range(0, 4, chunk):
                result = network.run_chunk(state, images[start:start + chunk], 0, seed=0,
                                           labels=labels[start:start + chunk])
                outputs.append(result.final_outputs)
        finally:
            network.close()
        results.append((mstdp.full_weights(state), state["state"], np.concatenate(outputs)))
    for one, two in zip(*results):
        np.testing.assert_allclose(one, two, rtol=1e-12, atol=1e-15)


def test_padding_rows_do_not_learn():
    """A chunk with fewer samples than slots must not learn from the blank rows:
    one sample in a 2-slot and in a 4-slot chunk (the networks of the test above)
    must end with the same weights."""
    model = _model()
    images, labels = _images(1, seed=3), np.array([5])
    finals = []
    for chunk in (2, 4):
        state = mstdp.initial_state(model, N_HIDDEN, np.random.default_rng(9))
        network = EnergyNetwork(model, N_HIDDEN, "train", TRAIN_DEVICE, chunk_slots=chunk)
        try:
            network.run_chunk(state, images, 0, seed=0, labels=labels)
        finally:
            network.close()
        finals.append(mstdp.full_weights(state))
    np.testing.assert_allclose(finals[0], finals[1], rtol=1e-12, atol=1e-15)


def test_generate_starts_each_sample_from_a_random_state():
    model = _model()
    state = mstdp.initial_state(model, N_HIDDEN, np.random.default_rng(0))
    labels = np.array([2, 2, 6])
    images = mstdp.generate_digits(model, state, N_HIDDEN, labels, SEMANTICS_DEVICE, seed=1)
    again = mstdp.generate_digits(model, state, N_HIDDEN, labels, SEMANTICS_DEVICE, seed=1)
    other = mstdp.generate_digits(model, state, N_HIDDEN, labels, SEMANTICS_DEVICE, seed=2)
    assert images.shape == (3, N_INPUT)
    np.testing.assert_array_equal(images, again)  # reproducible with a seed
    assert not np.allclose(images[0], images[1])  # same label, another random start
    assert not np.allclose(images, other)


def test_train_generate_classify_round_trip_on_the_command_line(tmp_path, data_dir, capsys):
    out = tmp_path / "run"
    settings = [f"--set={k}={v}" for k, v in SHORT.items()]
    assert main(["-q", "train", "mstdp", "--hidden", "8", "--train-samples", "30",
                 "--test-samples", "20", "--chunk-slots", "16", "--curve-window", "10",
                 "--device", TRAIN_DEVICE, "--data-dir", str(data_dir), "--out", str(out)]
                + settings) == 0
    printed = capsys.readouterr().out
    assert "test accuracy of the label neurons" in printed
    import json
    results = json.loads((out / "results.json").read_text())
    assert 0 <= results["accuracy_label"] <= 1
    assert len(results["curve"]) == 3 and "free_phase" in results["curve"][0]
    assert np.sum(results["confusion_label"]) == 20
    assert "diverged" not in results

    assert main(["-q", "generate", "--out", str(out), "--per-label", "2",
                 "--fixed-point-samples", "2"]) == 0
    printed = capsys.readouterr().out
    assert (out / "generated.npz").exists()
    assert (out / "figures" / "generated_digits.png").stat().st_size > 0
    assert (out / "figures" / "fixed_points.png").stat().st_size > 0
    from bioplastic.checkpoint import load_checkpoint
    generated, meta = load_checkpoint(out / "generated.npz")
    assert generated["images"].shape == (20, N_INPUT)
    assert generated["fixed_points"].shape == (2, 1 + 2 * 2, N_VISIBLE)
    assert f"{100 * meta['accuracy']:.1f}%" in printed

    # classify the generated digits again from the file: the same answers
    assert main(["-q", "classify", "--out", str(out), str(out / "generated.npz")]) == 0
    printed = capsys.readouterr().out
    answers = [int(x) for x in printed.split("predictions:")[1].split("\n")[0].split()]
    np.testing.assert_array_equal(answers, generated["predictions"])
    assert f"accuracy: {100 * meta['accuracy']:.1f}%" in printed

    assert main(["plot", "--out", str(out)]) == 0
    assert (out / "figures" / "accuracy_curve.png").exists()
    assert (out / "figures" / "confusion.png").exists()


def test_generate_refuses_other_models_and_unfinished_runs(tmp_path, data_dir, capsys):
    out = tmp_path / "run"
    assert main(["-q", "train", "mstdp", "--hidden", "4", "--train-samples", "4",
                 "--chunk-slots", "2", "--device", SEMANTICS_DEVICE, "--no-eval",
                 "--data-dir", str(data_dir), "--out", str(out)]
                + [f"--set={k}={v}" for k, v in SHORT.items()]) == 0
    capsys.readouterr()
    # finish only part of a second run to check the "not finished" message
    from bioplastic.training import Run, config_from_checkpoint
    config = config_from_checkpoint(out)
    config.train_samples = 6
    partial = tmp_path / "partial"
    run = Run(config, partial, progress=False)
    run.meta["progress"]["train"]["position"] = 2
    run._save()
    assert main(["generate", "--out", str(partial)]) == 2
    assert "training is not finished" in capsys.readouterr().err
    bad = tmp_path / "images.npy"
    np.save(bad, np.zeros((3, 10)))
    assert main(["classify", "--out", str(out), str(bad)]) == 2
    assert "expected images of shape (n, 784)" in capsys.readouterr().err


def test_model_file_checks_specific_to_mstdp():
    from bioplastic.modelfile import ModelFileError
    with pytest.raises(ModelFileError, match="field 'state_init_high': must be >= state_init_low"):
        mstdp.load_model(overrides={"state_init_high": "-1"})
    renamed = re.sub(r"\b(d?)learning\b", r"\1plasticity", mstdp.load_model()["phase_eqs"])
    with pytest.raises(ModelFileError, match="field 'phase_eqs': must define 'learning'"):
        mstdp.load_model(overrides={"phase_eqs": renamed, "neuron_eqs": mstdp.load_model()[
            "neuron_eqs"].replace("learning *", "plasticity *"),
            "synapse_eqs": "dw/dt = learning_rate * plasticity_post * rho_pre / dt : 1 "
                           "(clock-driven)",
            "synapse_eqs_with_options": "dw/dt = learning_rate * plasticity_post * "
                                        "rho_pre / dt : 1 (clock-driven)"})


def test_weight_limit_clips_the_weights_at_each_training_sample():
    from bioplastic.modelfile import ModelFileError
    model = _model(learning_rate="0", bias_learning_rate="0", weight_limit="0.05")
    state = mstdp.initial_state(model, N_HIDDEN, np.random.default_rng(4))  # U(-0.1, 0.1)
    unclipped = {key: np.array(value) for key, value in state.items()}
    before = mstdp.full_weights(state)
    assert np.abs(before).max() > 0.05
    used = {}
    for mode, given in (("train", state), ("classify", unclipped)):
        network = EnergyNetwork(model, N_HIDDEN, mode, SEMANTICS_DEVICE, chunk_slots=2)
        try:
            network.run_chunk(given, _images(2), 0, seed=0, labels=np.array([1, 2]))
            used[mode] = network.network.get("visible_hidden.w")
        finally:
            network.close()
    np.testing.assert_array_equal(mstdp.full_weights(state), np.clip(before, -0.05, 0.05))
    # only training clips: classification uses the weights it was given
    np.testing.assert_array_equal(used["classify"],
                                  unclipped["weights_visible_hidden"].ravel())
    with pytest.raises(ModelFileError, match="field 'weight_limit': is > 0 but the model "
                                             "file has no synapse_sample_start"):
        mstdp.load_model(overrides={"weight_limit": "1", "synapse_sample_start": ""})


def test_a_learning_budget_beyond_the_measured_bound_is_warned_about(tmp_path, data_dir,
                                                                    monkeypatch):
    paper = mstdp.load_model()  # 0.001 x 2048 hidden x 50 passes over 10,000 images
    with pytest.warns(mstdp.LearningRateWarning, match=r"0\.001 x 2048 x 500000 = 1\.02e\+06"
                      r".*--set learning_rate=1\.3e-06"):
        assert mstdp.check_training(paper, 2048, 500000)
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error", mstdp.LearningRateWarning)
        assert mstdp.check_training(paper, 64, 20000) is None  # 1,280: stayed bounded
    with pytest.warns(mstdp.LearningRateWarning, match="= 1.92e\\+03"):
        assert mstdp.check_training(paper, 64, 30000)  # ran away after 26,000 samples
    # a training run checks its own budget (all epochs) before it starts
    monkeypatch.setattr(mstdp, "LEARNING_BUDGET_LIMIT", 0.01)
    config = RunConfig(model="mstdp", n_neurons=N_HIDDEN, train_samples=3, epochs=2,
                       test_samples=0, device=SEMANTICS_DEVICE, overrides=SHORT,
                       data_dir=str(data_dir))
    with pytest.warns(mstdp.LearningRateWarning, match=r"0\.001 x 5 x 6 = 0\.03"):
        Run(config, tmp_path / "run", progress=False).run()


def test_runaway_dynamics_are_reported():
    model = _model()
    state = mstdp.initial_state(model, N_HIDDEN, np.random.default_rng(0))
    state["state"][N_VISIBLE] = np.nan  # as after an overflow; it spreads to all
    network = EnergyNetwork(model, N_HIDDEN, "classify", SEMANTICS_DEVICE, chunk_slots=2)
    try:
        with pytest.warns(mstdp.DivergenceWarning, match="run away \\(largest \\|s\\| = inf"):
            network.run_chunk(state, _images(2), 0, seed=0)
        healthy = mstdp.initial_state(model, N_HIDDEN, np.random.default_rng(0))
        import warnings
        with warnings.catch_warnings():
            warnings.simplefilter("error", mstdp.DivergenceWarning)
            network.run_chunk(healthy, _images(2), 0, seed=0)
    finally:
        network.close()
    # with state_limit the states stay bounded, but the weights can still run away
    bounded = _model(state_limit="1")
    huge = mstdp.initial_state(bounded, N_HIDDEN, np.random.default_rng(0))
    huge["weights_hidden_hidden"] *= 20 * mstdp.RUNAWAY_INPUT_WEIGHT
    network = EnergyNetwork(bounded, N_HIDDEN, "classify", SEMANTICS_DEVICE, chunk_slots=2)
    try:
        with pytest.warns(mstdp.DivergenceWarning, match=re.escape("largest |s| = 1, ")):
            network.run_chunk(huge, _images(2), 0, seed=0)
    finally:
        network.close()
    assert np.abs(huge["weights_hidden_hidden"]).sum(axis=0).max() > mstdp.RUNAWAY_INPUT_WEIGHT


def test_runaway_dynamics_are_named_in_the_results(tmp_path, data_dir, capsys):
    import json
    from bioplastic.training import Run, RunConfig
    config = RunConfig(model="mstdp", n_neurons=N_HIDDEN, train_samples=4, test_samples=2,
                       device=SEMANTICS_DEVICE, data_dir=str(data_dir), chunk_slots=2,
                       overrides=dict(SHORT))
    run = Run(config, tmp_path / "run", progress=False)
    run.arrays["state"][N_VISIBLE] = np.nan  # as after an overflow in the first chunk
    with pytest.warns(mstdp.DivergenceWarning):
        results = run.run()
    assert results["diverged"]["phase"] == "train"
    assert results["diverged"]["samples"] == 2  # the end of the first chunk, not a later one
    assert "run away (largest |s| = inf" in results["diverged"]["message"]
    written = json.loads((tmp_path / "run" / "results.json").read_text())
    assert written["diverged"] == results["diverged"]
    assert main(["evaluate", "--out", str(tmp_path / "run")]) == 0
    assert ("the dynamics ran away in phase train (first seen after 2 samples)"
            in capsys.readouterr().out)


def test_the_rule_with_options_off_is_the_papers_rule():
    """A training network uses synapse_eqs_with_options only when an option is on;
    with both off it computes what synapse_eqs (the paper's rule) computes, and
    what the equations of the first model file computed, so runs started then
    resume. With reverse_term_weight on the rule differs."""
    from bioplastic.equivalence import equations_equivalent
    earlier = ("dw/dt = learning_rate * learning_post * rho_before_pre * "
               "(rho_post - rho_before_post) / dt : 1 (clock-driven)")
    model = mstdp.load_model()
    assert mstdp.learning_rule(model) == model["synapse_eqs"]
    for rule in (model["synapse_eqs"], model["synapse_eqs_with_options"]):
        assert equations_equivalent(earlier, rule, model.parameters)
    on = model.with_overrides({"reverse_term_weight": "1"})
    assert mstdp.learning_rule(on) == on["synapse_eqs_with_options"]
    assert not equations_equivalent(earlier, on["synapse_eqs_with_options"], on.parameters)
