"""The input layer's Poisson generator (one random draw per spike) against the law of
Brian2's PoissonGroup (one draw per step: a spike with probability ``rate * dt``)."""

import numpy as np
import pytest
from scipy import stats

from brian2 import (Hz, Network, NeuronGroup, PoissonGroup, SpikeMonitor, StateMonitor,
                    ms, second)
from brian2 import seed as brian2_seed

from bioplastic.network import (CERTAIN_SPIKE_HAZARD, POISSON_INPUT_HAZARD,
                                POISSON_INPUT_RESET, POISSON_INPUT_STATE,
                                POISSON_INPUT_THRESHOLD)

pytestmark = pytest.mark.usefixtures("numpy_target")

DT = 0.5 * ms


def _inputs(n, rate, window):
    """``n`` inputs at ``rate`` whose presentation window is ``[0, window)``."""
    namespace = {"presentation_window": window - 0.5 * DT,
                 "certain_spike_hazard": CERTAIN_SPIKE_HAZARD}
    group = NeuronGroup(n, POISSON_INPUT_STATE + "slot_start : second",
                        threshold=POISSON_INPUT_THRESHOLD, reset=POISSON_INPUT_RESET,
                        method="exponential_euler", dt=DT, namespace=namespace)
    group.rate = rate
    group.spike_budget = np.random.default_rng(1).exponential(size=n)
    # the hazard, set at slot starts in the network; here at every step, so that
    # there is one clock (with a second one of dt 1000 s, Brian2 2.5 simulated
    # nothing, and so did 2.9 with a monitor on the default clock)
    group.run_regularly(POISSON_INPUT_HAZARD, dt=DT, when="start")
    return group


def _record(group, duration, seed=3, variables=()):
    brian2_seed(seed)
    spikes = SpikeMonitor(group)
    objects = [group, spikes]
    state = None
    if variables:
        state = StateMonitor(group, variables, record=True, dt=DT)
        objects.append(state)
    Network(*objects).run(duration, namespace={})
    return spikes, state


def _steps_between_spikes(spikes):
    steps = np.round(np.asarray(spikes.t / DT)).astype(int)
    neurons = np.asarray(spikes.i)
    order = np.lexsort((steps, neurons))
    steps, neurons = steps[order], neurons[order]
    same_neuron = neurons[1:] == neurons[:-1]
    return np.diff(steps)[same_neuron]


def _geometric_chi2(intervals, p, bins=12):
    """Chi-square p-value of intervals (in steps) against Geometric(p)."""
    edges = np.unique(stats.geom.ppf(np.linspace(0, 1, bins + 1)[1:-1], p)).astype(int)
    observed = np.bincount(np.searchsorted(edges, intervals, side="left"),
                           minlength=len(edges) + 1)
    cdf = np.concatenate([[0.0], stats.geom.cdf(edges, p), [1.0]])
    expected = np.diff(cdf) * len(intervals)
    return stats.chisquare(observed, expected).pvalue


@pytest.mark.parametrize("make", ["per_spike", "poisson_group"])
def test_spike_counts_and_intervals_follow_the_per_step_bernoulli_law(make):
    """Counts are Binomial(steps, rate*dt) and the steps between spikes are
    Geometric(rate*dt), for this generator and (the reference) PoissonGroup alike.
    Using ``1 - exp(-rate*dt)`` instead of ``rate*dt`` would lower the mean count
    by 1.6%, eight standard deviations of the total here."""
    n, rate, duration = 2000, 63.75 * Hz, 1 * second
    group = (_inputs(n, rate, duration) if make == "per_spike"
             else PoissonGroup(n, rate, dt=DT))
    spikes, _ = _record(group, duration)
    steps = int(round(duration / DT))
    p = float(rate * DT)
    counts = np.bincount(np.asarray(spikes.i), minlength=n)
    total_sd = np.sqrt(n * steps * p * (1 - p))
    assert abs(counts.sum() - n * steps * p) < 4 * total_sd
    assert counts.var() == pytest.approx(steps * p * (1 - p), rel=0.1)
    assert _geometric_chi2(_steps_between_spikes(spikes), p) > 1e-3


def test_no_spikes_outside_the_window_and_the_budget_waits():
    """After the window closes the budget stops falling (a spike-free rest), a pixel
    of rate 0 never fires, and one above one spike per step fires at every step."""
    window, rest = 50 * ms, 30 * ms
    group = _inputs(3, [40, 0, 5000] * Hz, window)
    group.spike_budget = [0.4, 0.0, 0.2]
    spikes, state = _record(group, window + rest, variables=["spike_budget"])
    steps = np.round(np.asarray(spikes.t / DT)).astype(int)
    window_steps = int(round(window / DT))
    assert steps.max() < window_steps
    assert 1 not in np.asarray(spikes.i)
    assert spikes.count[2] == window_steps
    # recorded at each step's start: column k holds the budget after step k - 1,
    # and the last window step is window_steps - 1
    budget = state.spike_budget
    after_window = budget[:, window_steps:]
    np.testing.assert_array_equal(after_window, after_window[:, [0]].repeat(
        after_window.shape[1], axis=1))
    assert np.all(after_window[:, 0] >= 0)
    assert np.all(budget[[0, 2], window_steps - 1] != after_window[[0, 2], 0])
