"""The Diehl & Cook network: normalisation, the repeat rule, device agreement."""

import numpy as np
import pytest

from bioplastic import diehl_cook
from bioplastic.diehl_cook import DiehlCookNetwork, initial_state, schedule_from_counts
from bioplastic.network import TEST_TIME_OPTIONS
from conftest import needs_standalone

N = 12

# tiny networks on the runtime device: numpy code generation (tests/conftest.py)
pytestmark = pytest.mark.usefixtures("numpy_target")


@pytest.fixture(scope="module")
def images(data_dir):
    from bioplastic.datasets import load_dataset
    return load_dataset("mnist", "train", data_dir=data_dir, download=False).intensities()[:60]


def _run(model, images, device="runtime", slots=6, seed=4, mode="train", state=None,
         last_slot_spikes=False):
    network = DiehlCookNetwork(model, N, mode, device, chunk_slots=slots)
    try:
        state = state or initial_state(model, N, np.random.default_rng(seed))
        result = network.run_chunk(state, images[:slots], 0, seed)
        if last_slot_spikes:
            # every excitatory spike of the last slot, its rest included
            neuron, step = network.network.spikes("excitatory_spikes")
            in_last = step >= (slots - 1) * network.protocol.slot_steps
            return state, result, np.bincount(neuron[in_last], minlength=N)
    finally:
        network.close()
    return state, result


def test_slot_counts_and_first_spikes_of_hand_placed_spikes():
    """Slots of 10 steps with a 7-step presentation window; spikes in the rest are
    ignored; the first spike is counted from the slot's start."""
    from types import SimpleNamespace
    from bioplastic.network import PresentationNetwork
    neurons, steps = np.array([0, 0, 1, 2, 0, 1]), np.array([3, 5, 8, 12, 11, 19])
    stub = SimpleNamespace(network=SimpleNamespace(spikes=lambda monitor: (neurons, steps)),
                           protocol=SimpleNamespace(slot_steps=10, presentation_steps=7),
                           chunk_slots=2)
    stub._window_spikes = lambda monitor: PresentationNetwork._window_spikes(stub, monitor)
    counts, first = PresentationNetwork._slot_counts(stub, "spikes", 3, first_spikes=True)
    assert counts.tolist() == [[2, 0, 0], [1, 0, 1]]
    assert first.tolist() == [[3, 7, 7], [1, 7, 2]]
    assert PresentationNetwork._slot_counts(stub, "spikes", 3).tolist() == counts.tolist()


def test_normalisation_keeps_every_column_sum_at_target(images):
    frozen_rule = diehl_cook.load_model(overrides={"nu_pre": "0", "nu_post": "0"})
    state, result = _run(frozen_rule, images, slots=3)
    assert result.counts.sum() > 0
    np.testing.assert_allclose(state["weights"].sum(axis=0), 78.0, rtol=1e-12)
    # With learning on, the sums are 78 at the start of the last presentation and
    # then change only through its own spikes: not at all for a neuron that stays
    # silent (its post1 trace is 0, so input spikes do not depress), and by at most
    # nu_post per input synapse for each spike of one that fires.
    model = diehl_cook.load_model()
    state, _, spikes = _run(model, images, slots=3, last_slot_spikes=True)
    sums = state["weights"].sum(axis=0)
    assert 0 < np.count_nonzero(spikes) < N
    np.testing.assert_allclose(sums[spikes == 0], 78.0, rtol=1e-12)
    gain = sums[spikes > 0] - 78.0
    assert np.all(np.abs(gain) > 1e-9)
    assert np.all(gain <= float(model["nu_post"]) * 784 * spikes[spikes > 0])


def test_euclidean_column_norm_keeps_every_column_norm_at_target(images):
    """column_norm_order = 2 rescales each column's Euclidean norm, not its sum."""
    model = diehl_cook.load_model(overrides={"nu_pre": "0", "nu_post": "0",
                                             "column_norm_order": "2",
                                             "column_sum_target": "7.5"})
    state, result = _run(model, images, slots=3)
    assert result.counts.sum() > 0
    np.testing.assert_allclose(np.linalg.norm(state["weights"], axis=0), 7.5, rtol=1e-12)
    assert np.all(np.abs(state["weights"].sum(axis=0) - 7.5) > 1)


def test_theta_test_spread_pulls_the_test_thresholds_to_their_mean(images):
    """theta_test_spread = 0 runs the frozen network as if every neuron had the mean
    threshold (the same spikes as that state given by hand); the stored thetas are
    not changed."""
    model = diehl_cook.load_model()
    state = initial_state(model, N, np.random.default_rng(3))
    state["theta"] = np.linspace(0.015, 0.025, N)
    at_mean = dict(state, theta=np.full(N, state["theta"].mean()))
    spread0 = diehl_cook.load_model(overrides={"theta_test_spread": "0"})
    _, pulled = _run(spread0, images, mode="test", state=dict(state))
    _, by_hand = _run(model, images, mode="test", state=at_mean)
    _, learned = _run(model, images, mode="test", state=dict(state))
    assert pulled.counts.sum() > 0
    assert np.array_equal(pulled.counts, by_hand.counts)
    assert not np.array_equal(pulled.counts, learned.counts)


def test_presentation_time_test_lengthens_only_the_presentations_that_do_not_learn(images):
    """presentation_time_test = 700 ms: in test mode the input drives the layer for
    the whole longer window (spikes beyond the training window's 350 ms) and stops
    at its end."""
    model = diehl_cook.load_model()
    longer = diehl_cook.load_model(overrides={"presentation_time_test": "700*ms"})
    state = initial_state(model, N, np.random.default_rng(3))
    network = DiehlCookNetwork(longer, N, "test", "runtime", chunk_slots=3)
    try:
        result = network.run_chunk(dict(state), images[:3], 0, 5)
        neuron, step = network.network.spikes("excitatory_spikes")
        protocol = network.protocol
    finally:
        network.close()
    assert (protocol.presentation_steps, protocol.slot_steps) == (1400, 1700)
    offset = step % protocol.slot_steps
    assert np.any((offset >= 700) & (offset < 1400))
    assert not np.any(offset >= 1400 + 20)  # 10 ms after the input stops: silent
    assert result.counts.sum() == np.count_nonzero(offset < 1400)


def test_input_split_test_shows_more_lighter_input_spikes_only_while_nothing_learns(images):
    """input_split_test = 4: in test mode every pixel's rate is 4x and every input
    weight 1/4 (the same mean drive)."""
    model = diehl_cook.load_model(overrides={"max_retries": "0"})
    split = diehl_cook.load_model(overrides={"max_retries": "0", "input_split_test": "4"})
    state = initial_state(model, N, np.random.default_rng(3))
    rates, weights = {}, {}
    for name, used in (("plain", model), ("split", split)):
        network = DiehlCookNetwork(used, N, "test", "runtime", chunk_slots=2)
        try:
            result = network.run_chunk(dict(state), images[:2], 0, 5)
            rates[name] = network.network.get("input.rate")
            weights[name] = network.network.get("input_exc.w")
        finally:
            network.close()
        assert result.counts.sum() > 0
    assert np.count_nonzero(rates["plain"]) > 100
    np.testing.assert_allclose(rates["split"], 4 * rates["plain"], rtol=1e-12)
    np.testing.assert_allclose(weights["split"], weights["plain"] / 4, rtol=1e-12)
    np.testing.assert_allclose(weights["plain"], state["weights"].ravel(), rtol=1e-12)


def test_input_regular_test_fires_every_pixel_at_its_rate_without_shot_noise(images):
    """input_regular_test = 1: in test mode each pixel fires every 1/rate, to the
    time step (Poisson intervals scatter), as often in the window as its rate asks."""
    from brian2 import SpikeMonitor

    class Watched(DiehlCookNetwork):
        def _build_more(self, objects, namespace):
            return {"input_spikes": SpikeMonitor(objects["input"], name="input_spikes")}

    model = diehl_cook.load_model(overrides={"max_retries": "0"})
    regular = diehl_cook.load_model(overrides={"max_retries": "0", "input_regular_test": "1"})
    state = initial_state(model, N, np.random.default_rng(3))
    deviation = {}
    for name, used in (("poisson", model), ("regular", regular)):
        network = Watched(used, N, "test", "runtime", chunk_slots=1)
        try:
            result = network.run_chunk(dict(state), images[:1], 0, 5)
            neuron, step = network.network.spikes("input_spikes")
            rates = network.network.get("input.rate")
            window = network.protocol.presentation_steps
        finally:
            network.close()
        assert result.counts.sum() > 0
        assert np.all(step < window)  # silent in the rest
        lit = np.flatnonzero(rates > 0)
        assert len(lit) > 100
        period = np.full(len(rates), np.inf)  # steps between spikes
        period[lit] = 1 / (rates[lit] * float(model["dt"]))
        deviation[name] = max(np.max(np.abs(np.diff(step[neuron == pixel]) - period[pixel]),
                                     initial=0) for pixel in lit)
        if name == "regular":
            counts = np.bincount(neuron, minlength=784)
            assert np.all(np.abs(counts[lit] - window / period[lit]) < 1)
            assert np.all(counts[rates == 0] == 0)
    assert deviation["regular"] < 1
    assert deviation["poisson"] > 10


def test_threshold_raise_test_raises_every_threshold_only_while_nothing_learns(images):
    """threshold_raise_test = 3 mV runs the frozen network as if every theta were
    3 mV higher (the same spikes as that state given by hand, and fewer than
    without it)."""
    model = diehl_cook.load_model(overrides={"max_retries": "0"})
    raised = diehl_cook.load_model(overrides={"max_retries": "0",
                                              "threshold_raise_test": "3*mV"})
    state = initial_state(model, N, np.random.default_rng(3))
    state["theta"] = np.linspace(0.015, 0.025, N)
    _, with_raise = _run(raised, images, mode="test", state=dict(state))
    _, by_hand = _run(model, images, mode="test",
                      state=dict(state, theta=state["theta"] + 0.003))
    _, plain = _run(model, images, mode="test", state=dict(state))
    assert with_raise.counts.sum() > 0
    assert np.array_equal(with_raise.counts, by_hand.counts)
    assert with_raise.counts.sum() < plain.counts.sum()


def test_training_reads_no_test_time_option(images):
    """A model file with every test-time option away from its neutral value trains
    exactly the weights and thresholds that the plain file does (the options act
    only while nothing learns; the tests above check what each one does then)."""
    model = diehl_cook.load_model()
    changed = {"presentation_time_test": "700*ms", "input_split_test": "4",
               "theta_test_spread": "0", "threshold_raise_test": "3*mV",
               "input_regular_test": "1"}
    assert set(changed) == set(TEST_TIME_OPTIONS)  # a new option joins this test
    with_options = diehl_cook.load_model(overrides=changed)
    state = initial_state(model, N, np.random.default_rng(3))
    start_weights = np.array(state["weights"])
    trained_with, _ = _run(with_options, images, state=dict(state))
    trained, _ = _run(model, images, state=dict(state))
    assert not np.array_equal(trained["weights"], start_weights)  # it did learn
    for key in ("weights", "theta"):
        np.testing.assert_array_equal(trained_with[key], trained[key], err_msg=key)


@pytest.mark.parametrize("field, value", [
    ("column_norm_order", "0"), ("column_norm_order", "3"), ("column_norm_order", "1.5"),
    ("theta_test_spread", "-0.5"), ("theta_test_spread", "2"),
    ("presentation_time_test", "-5*ms"), ("presentation_time_test", "350.2*ms"),
    ("presentation_time_test", "700*mV"), ("input_split_test", "0.5"),
    ("input_split_test", "1000"), ("threshold_raise_test", "-1*mV"),
    ("threshold_raise_test", "3*ms"),
    ("input_regular_test", "2"), ("input_regular_test", "0.5")])
def test_out_of_range_norm_spread_and_test_time_are_refused_by_name(field, value):
    from bioplastic.modelfile import ModelFileError
    with pytest.raises(ModelFileError, match=field):
        diehl_cook.load_model(overrides={field: value})


def test_silent_layer_repeats_the_image_with_a_higher_rate(images):
    silent = diehl_cook.load_model(overrides={"max_input_rate": "0.001*Hz",
                                              "rate_boost": "0*Hz", "max_retries": "3"})
    _, result = _run(silent, images, slots=10)
    assert result.counts.sum() == 0
    assert result.rows.tolist() == [0, 0, 0, 0, 1, 1, 1, 1, 2, 2]
    assert result.retries.tolist() == [0, 1, 2, 3, 0, 1, 2, 3, 0, 1]
    assert result.completed_rows == 2 and result.next_retries == 2


def test_input_intensity_sum_sets_the_drive_of_every_image(images):
    """The model file's input_intensity_sum rescales each image before its rates are
    set: a tiny sum silences a layer that the raw images drive."""
    quiet = {"rate_boost": "0*Hz", "max_retries": "0"}  # one presentation per image
    _, raw = _run(diehl_cook.load_model(overrides=quiet), images, slots=3, mode="test")
    faint = diehl_cook.load_model(overrides={**quiet, "input_intensity_sum": "0.01"})
    _, result = _run(faint, images, slots=3, mode="test")
    assert raw.counts.sum() > 0
    assert result.counts.sum() == 0


def test_schedule_replay_matches_rule():
    protocol = diehl_cook.Protocol(0.0005, 1000, 700, min_spikes=5, max_retries=2)
    rows, retries, done = schedule_from_counts([9, 1, 4, 7, 0, 0, 0], 1, protocol)
    assert rows.tolist() == [0, 1, 1, 1, 2, 2, 2]
    assert retries.tolist() == [1, 0, 1, 2, 0, 1, 2]
    assert done  # after max_retries the row is given up


def test_spike_block_time_spaces_the_excitatory_spikes(images):
    """The original code's timer: after a spike, no new one for spike_block_time
    (its voltage still integrates). Strong deterministic input makes the neurons
    fire as fast as they may: at most 1 + 350 ms / 50 ms spikes per presentation
    with the 50 ms block, and more without it (so the bound is not trivial)."""
    strong = {"max_input_rate": "2500*Hz", "w_init_max": "0.3", "nu_pre": "0",
              "nu_post": "0", "theta_plus": "0*mV", "w_inh_exc": "0"}
    binary = (images > 0.5).astype(float)
    most = {}
    for block in ("0*ms", "50*ms"):
        model = diehl_cook.load_model(overrides={**strong, "spike_block_time": block})
        _, result = _run(model, binary, slots=2, mode="test")
        most[block] = result.counts.max()
    assert most["50*ms"] <= 1 + 350 // 50
    assert most["0*ms"] > 1 + 350 // 50, most


def test_frozen_test_network_changes_no_weights(images):
    model = diehl_cook.load_model()
    state = initial_state(model, N, np.random.default_rng(0))
    before = state["weights"].copy(), state["theta"].copy()
    state, result = _run(model, images, slots=3, mode="test", state=state)
    assert result.counts.sum() > 0
    assert np.array_equal(state["weights"], before[0])
    assert np.array_equal(state["theta"], before[1])


@needs_standalone
def test_runtime_and_cpp_standalone_agree_statistically(images):
    """Same images, weights and seed on both devices. Their random streams differ
    (numpy vs Brian2's C++ generator), so the agreement is statistical: mean
    activity per presentation and mean weight change must match within 25%."""
    model = diehl_cook.load_model()
    slots = 24
    results = {}
    for device in ("runtime", "cpp_standalone"):
        state = initial_state(model, N, np.random.default_rng(7))
        start = state["weights"].copy()
        _, result = _run(model, images, device=device, slots=slots, state=state)
        results[device] = (result.counts[result.counts.sum(axis=1) > 0].sum(axis=1).mean(),
                           np.abs(state["weights"] - start).mean(),
                           state["theta"].mean())
    (rt_spikes, rt_dw, rt_theta), (sa_spikes, sa_dw, sa_theta) = results.values()
    assert sa_spikes == pytest.approx(rt_spikes, rel=0.25)
    assert sa_dw == pytest.approx(rt_dw, rel=0.25)
    assert sa_theta == pytest.approx(rt_theta, rel=0.01)


@needs_standalone
def test_deterministic_input_gives_identical_spikes_on_both_devices(images):
    """With binary images and a rate above 1/dt every input spikes at every step of a
    presentation, so nothing is random: both devices must produce the same spikes
    (and weights to rounding)."""
    model = diehl_cook.load_model(overrides={"max_input_rate": "2500*Hz",
                                             "w_init_max": "0.02"})
    binary = (images > 0.5).astype(float)
    outputs = []
    for device in ("runtime", "cpp_standalone"):
        state = initial_state(model, N, np.random.default_rng(1))
        _, result = _run(model, binary, device=device, slots=4, state=state)
        outputs.append((result.counts, state["weights"], state["theta"]))
    assert outputs[0][0].sum() > 0
    np.testing.assert_array_equal(outputs[0][0], outputs[1][0])
    np.testing.assert_allclose(outputs[0][1], outputs[1][1], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(outputs[0][2], outputs[1][2], rtol=1e-9)


def test_input_delays_are_drawn_after_the_weights_and_kept_in_the_state():
    """input_delay_max > 0 adds U(0, max) delays to the state without changing the
    weights drawn from the same seed (a paired comparison with a run without them)."""
    plain = initial_state(diehl_cook.load_model(), N, np.random.default_rng(3))
    delayed_model = diehl_cook.load_model(overrides={"input_delay_max": "10*ms"})
    delayed = initial_state(delayed_model, N, np.random.default_rng(3))
    assert "input_delays" not in plain
    np.testing.assert_array_equal(delayed["weights"], plain["weights"])
    delays = delayed["input_delays"]
    assert delays.shape == (784, N) and delays.min() >= 0 and delays.max() < 0.010
    assert delays.std() == pytest.approx(0.010 / np.sqrt(12), rel=0.05)


@needs_standalone
@pytest.mark.parametrize("model_name, mode", [("diehl-cook", "train"),
                                              ("sym-stdp", "train_hidden")])
def test_input_delays_reach_the_synapses_on_both_devices(images, model_name, mode):
    """Every input spikes at every step (binary images, rate above 1/dt), so nothing
    is random: with 0-10 ms delays both devices give the same spikes and weights,
    the delays read back from the synapses are the state's, and the layer fires
    later than without delays (the drive arrives spread over 10 ms)."""
    from bioplastic.training import MODELS
    module = MODELS[model_name]()
    overrides = {"max_input_rate": "2500*Hz", "w_init_max": "0.02"}
    binary = (images > 0.5).astype(float)
    labels = np.arange(4)
    first = {}
    outputs = []
    for delay_max in ("0*ms", "10*ms"):
        model = module.load_model(overrides={**overrides, "input_delay_max": delay_max})
        devices = ("runtime", "cpp_standalone") if delay_max != "0*ms" else ("runtime",)
        for device in devices:
            state = module.initial_state(model, N, np.random.default_rng(1))
            network = module.Network(model, N, mode, device, chunk_slots=4)
            try:
                result = network.run_chunk(state, binary[:4], 0, 1, labels=labels)
                if delay_max != "0*ms":
                    np.testing.assert_array_equal(network.network.get("input_exc.delay"),
                                                  state["input_delays"].ravel())
                steps = network.network.spikes("excitatory_spikes")[1]
            finally:
                network.close()
            first[delay_max] = steps.min()
            if delay_max != "0*ms":
                outputs.append((result.counts, state["weights"]))
    assert outputs[0][0].sum() > 0
    np.testing.assert_array_equal(outputs[0][0], outputs[1][0])
    np.testing.assert_allclose(outputs[0][1], outputs[1][1], rtol=1e-9, atol=1e-12)
    assert first["10*ms"] > first["0*ms"], first


@needs_standalone
def test_new_project_starts_from_the_object_files_of_a_compiled_sibling(images, tmp_path):
    """A network that differs from a compiled one in a parameter value gets a project
    of its own, seeded with that one's files: make recompiles only the code objects
    the value appears in, and the program follows the new value (its spikes equal
    the runtime device's on deterministic input, as in the test above)."""
    deterministic = {"max_input_rate": "2500*Hz", "w_init_max": "0.02"}
    binary = (images > 0.5).astype(float)

    def run(model, device):
        network = DiehlCookNetwork(model, N, "train", device, chunk_slots=4, cache_dir=tmp_path)
        state = initial_state(model, N, np.random.default_rng(1))
        try:
            result = network.run_chunk(state, binary[:4], 0, 4)
        finally:
            network.close()
        return getattr(network.network, "directory", None), result.counts, state["theta"]

    first, _, first_theta = run(diehl_cook.load_model(overrides=deterministic),
                                           "cpp_standalone")
    changed = diehl_cook.load_model(overrides={**deterministic, "theta_plus": "0.5*mV"})
    second, counts, theta = run(changed, "cpp_standalone")
    _, runtime_counts, runtime_theta = run(changed, "runtime")
    assert second != first
    objects = sorted(path.relative_to(second) for path in second.rglob("*.o"))
    recompiled = [path for path in objects if (second / path).stat().st_mtime_ns
                  != (first / path).stat().st_mtime_ns]
    assert 0 < len(recompiled) <= len(objects) // 4, recompiled
    assert not np.allclose(theta, first_theta)
    np.testing.assert_array_equal(counts, runtime_counts)
    np.testing.assert_allclose(theta, runtime_theta, rtol=1e-9)


@needs_standalone
def test_truncated_leftover_file_cannot_replace_the_run_arguments(images):
    """A process killed while Brian2 wrote a run-argument file leaves it truncated under
    its content-derived name; a later run with the same values must not read it (the
    compiled program would keep its compiled-in weights and only warn on stderr)."""
    from hashlib import md5
    model = diehl_cook.load_model()
    start = initial_state(model, N, np.random.default_rng(3))
    network = DiehlCookNetwork(model, N, "train", "cpp_standalone", chunk_slots=4)
    try:
        def run():
            state = {key: np.array(value) for key, value in start.items()}
            result = network.run_chunk(state, images[:4], 0, 11)
            return state, result

        clean_state, clean = run()
        weights = np.asarray(start["weights"], dtype=float).ravel()
        leftover = (network.network.directory / "static_arrays"
                    / f"init_input_exc_w_{md5(weights.data).hexdigest()}.dat")
        leftover.write_bytes(weights.tobytes()[: weights.nbytes // 2])
        again_state, again = run()
    finally:
        network.close()
    np.testing.assert_array_equal(clean.counts, again.counts)
    np.testing.assert_array_equal(clean_state["weights"], again_state["weights"])


def test_compiler_flags_are_part_of_the_project_key():
    """make does not rebuild a project whose flags changed: other flags, other folder."""
    from brian2 import prefs
    from bioplastic.simulation import network_project_key
    model = diehl_cook.load_model()
    shipped = network_project_key("diehl-cook", model, "train", N, 4)
    old = prefs.codegen.cpp.extra_compile_args_gcc
    try:
        prefs.codegen.cpp.extra_compile_args_gcc = ["-w", "-O0"]
        other = network_project_key("diehl-cook", model, "train", N, 4)
    finally:
        prefs.codegen.cpp.extra_compile_args_gcc = old
    assert other != shipped
    assert network_project_key("diehl-cook", model, "train", N, 4) == shipped


def test_the_generating_code_is_part_of_the_project_key(tmp_path):
    """Another version of bioplastic must not build into (and replace the program
    of) a project that a run of this one is using: edited code, other folder."""
    import shutil
    import subprocess
    import sys
    from pathlib import Path
    import bioplastic
    source = Path(bioplastic.__file__).parent
    copy = tmp_path / "bioplastic"
    shutil.copytree(source, copy, ignore=shutil.ignore_patterns("__pycache__"))

    def digest(root):  # "python -c" imports from its working directory first
        return subprocess.run(
            [sys.executable, "-c", "from bioplastic.simulation import generator_digest; "
             "print(generator_digest())"], cwd=root, capture_output=True, text=True,
            check=True).stdout.strip()

    same = digest(tmp_path)
    with open(copy / "network.py", "a") as handle:
        handle.write("\n# an edit\n")
    assert digest(tmp_path) != same
    from bioplastic.simulation import generator_digest
    assert generator_digest() == same
