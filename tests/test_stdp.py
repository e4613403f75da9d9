"""The Diehl & Cook STDP rule from the model file, checked against analytic values.

The rule (traces set to 1 at each spike; post2 is computed from the previous
excitatory spike time stored in the synapse):
  input spike at t1:      w -= nu_pre x post1(t1),   post1 = exp(-(t1 - t_post)/tau_post1)
  excitatory spike at t2: w += nu_post x pre(t2) x post2(t2-),
                          pre = exp(-(t2 - t_pre)/tau_pre), post2 from the previous post spike
so a lone pre->post pair does not potentiate (triplet rule); post->pre depresses.
"""

import numpy as np
import pytest
from brian2 import ms

from bioplastic import diehl_cook
from spike_pairs import delayed_rule, random_trains, run_pair

W0 = 0.5


def _run_pair(model, pre_steps, post_steps, n_steps, event_driven=False, n_pre=1,
              w0=W0):
    """Simulate one input->excitatory synapse (or n_pre) with forced spike times."""
    if not event_driven:  # the network runs sample_start at every presentation
        return run_pair(model, pre_steps, post_steps, n_steps, w0, n_pre=n_pre,
                        sample_start=model["input_synapse_sample_start"])
    # the canonical Brian2 STDP.py layout: per-synapse event-driven traces
    synapse = {"model": """
        w : 1
        dpre_s/dt = -pre_s / tau_pre : 1 (event-driven)
        dpost1_s/dt = -post1_s / tau_post1 : 1 (event-driven)
        dpost2_s/dt = -post2_s / tau_post2 : 1 (event-driven)
        """,
        "on_pre": """ge_post += w
                     pre_s = 1
                     w = clip(w - nu_pre * post1_s, 0, w_max)""",
        "on_post": """post2_before = post2_s
                      w = clip(w + nu_post * pre_s * post2_before, 0, w_max)
                      post1_s = 1
                      post2_s = 1"""}
    return run_pair(model, pre_steps, post_steps, n_steps, w0, n_pre=n_pre, synapse=synapse)


# tiny networks on the runtime device: numpy code generation (tests/conftest.py)
pytestmark = pytest.mark.usefixtures("numpy_target")


@pytest.fixture(scope="module")
def model():
    return diehl_cook.load_model()


def _steps(model, time):
    return int(round(float(time / model["dt"])))


def test_post_then_pre_depresses_by_the_post1_trace(model):
    for gap in (1 * ms, 5 * ms, 20 * ms, 60 * ms):
        t_post, t_pre = 10 * ms, 10 * ms + gap
        w = _run_pair(model, [[_steps(model, t_pre)]], [_steps(model, t_post)],
                      _steps(model, t_pre + 5 * ms))
        expected = W0 - float(model["nu_pre"]) * np.exp(-float(gap / model["tau_post1"]))
        assert w[0] == pytest.approx(expected, rel=1e-9, abs=1e-12), gap


def test_lone_pre_then_post_pair_does_not_potentiate(model):
    w = _run_pair(model, [[_steps(model, 10 * ms)]], [_steps(model, 20 * ms)],
                  _steps(model, 30 * ms))
    assert w[0] == pytest.approx(W0, abs=1e-15)


@pytest.mark.parametrize("delta", [0.5, 2, 5, 10, 20, 40])
def test_triplet_potentiation_window(model, delta):
    """post at t0, pre at t1, post at t2 = t1 + delta: both terms of the window."""
    t0, t1 = 5 * ms, 35 * ms
    t2 = t1 + delta * ms
    w = _run_pair(model, [[_steps(model, t1)]], [_steps(model, t0), _steps(model, t2)],
                  _steps(model, t2 + 5 * ms))
    depression = float(model["nu_pre"]) * np.exp(-float((t1 - t0) / model["tau_post1"]))
    potentiation = (float(model["nu_post"]) * np.exp(-float((t2 - t1) / model["tau_pre"]))
                    * np.exp(-float((t2 - t0) / model["tau_post2"])))
    assert w[0] == pytest.approx(W0 - depression + potentiation, rel=1e-9)
    assert potentiation > depression  # net potentiation inside the window


def test_weights_are_clipped_to_bounds(model):
    high = _run_pair(model, [[10]], [0, 12], 30, w0=float(model["w_max"]) - 1e-6)
    assert high[0] == float(model["w_max"])
    low = _run_pair(model, [[1]], [0], 10, w0=1e-6)
    assert low[0] == 0.0


def test_model_traces_equal_event_driven_synaptic_traces(model):
    """The model's traces (clock-driven per neuron, post2 from the last spike time)
    give the same weights as the per-synapse event-driven formulation of Brian2's
    STDP example on random spike trains (no same-step pre/post coincidences, where
    the two orderings differ by design)."""
    rng = np.random.default_rng(3)
    n_steps, n_pre = 4000, 20
    pre_steps, post_steps = random_trains(rng, n_steps, n_pre)
    clock_driven = _run_pair(model, pre_steps, post_steps, n_steps, n_pre=n_pre,
                             w0=0.3)
    event_driven = _run_pair(model, pre_steps, post_steps, n_steps, event_driven=True,
                             n_pre=n_pre, w0=0.3)
    assert np.abs(clock_driven - 0.3).max() > 1e-3  # the rule did something
    np.testing.assert_allclose(clock_driven, event_driven, rtol=1e-9, atol=1e-12)


# ---- heterogeneous input delays (input_delay_max > 0, runtime and cpp_standalone) ----

@pytest.fixture(scope="module")
def delayed_model():
    return diehl_cook.load_model(overrides={"input_delay_max": "10*ms"})


def _run_delayed(model, pre_steps, post_steps, n_steps, delays=None, n_pre=1, w0=W0):
    """The model file's delayed rule (pre trace kept in each synapse)."""
    return run_pair(model, pre_steps, post_steps, n_steps, w0, n_pre=n_pre,
                    synapse=delayed_rule(model), delays=delays,
                    sample_start=model["input_synapse_sample_start_delayed"])


def test_delayed_rule_without_delay_equals_the_default_rule(delayed_model):
    """With zero delays the synapse-held pre trace gives the default rule's weights."""
    rng = np.random.default_rng(5)
    n_steps, n_pre = 4000, 20
    pre_steps, post_steps = random_trains(rng, n_steps, n_pre)
    default = _run_pair(delayed_model, pre_steps, post_steps, n_steps, n_pre=n_pre, w0=0.3)
    delayed = _run_delayed(delayed_model, pre_steps, post_steps, n_steps, n_pre=n_pre,
                           w0=0.3)
    assert np.abs(default - 0.3).max() > 1e-3
    np.testing.assert_allclose(delayed, default, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("delay", [0.5, 3, 8.5])
def test_a_delayed_input_spike_acts_at_its_arrival(delayed_model, delay):
    """post at t0, pre sent at t1 and arriving at t1 + delay, post at t2: depression
    reads post1 at the arrival and potentiation the pre trace since the arrival."""
    model = delayed_model
    t0, t1, t2 = 5 * ms, 35 * ms, 50 * ms
    arrival = t1 + delay * ms
    w = _run_delayed(model, [[_steps(model, t1)]], [_steps(model, t0), _steps(model, t2)],
                     _steps(model, t2 + 5 * ms), delays=[delay] * ms)
    depression = float(model["nu_pre"]) * np.exp(-float((arrival - t0) / model["tau_post1"]))
    potentiation = (float(model["nu_post"]) * np.exp(-float((t2 - arrival) / model["tau_pre"]))
                    * np.exp(-float((t2 - t0) / model["tau_post2"])))
    assert w[0] == pytest.approx(W0 - depression + potentiation, rel=1e-9)


def test_an_input_spike_arriving_after_the_post_spike_only_depresses(delayed_model):
    """Sent 2 ms before the post spike but delayed by 5 ms, the input spike arrives
    after it: no potentiation at the post spike, depression at the arrival."""
    model = delayed_model
    t_pre, t_post = 20 * ms, 22 * ms
    w = _run_delayed(model, [[_steps(model, t_pre)]], [_steps(model, 5 * ms), _steps(model, t_post)],
                     _steps(model, 40 * ms), delays=[5] * ms)
    depression = float(model["nu_pre"]) * np.exp(-float((t_pre + 5 * ms - t_post)
                                                         / model["tau_post1"]))
    assert w[0] == pytest.approx(W0 - depression, rel=1e-9)
