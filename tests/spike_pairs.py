"""Simulate plastic synapses between neurons whose spike times are forced.

Shared by the STDP tests of every model: the neuron equations, resets and synapse
code come from the model file; only the spike times are imposed (as threshold
conditions reading a raster), so the weight change can be compared with the
analytic STDP window.
"""

import numpy as np
from brian2 import NeuronGroup, Network, Synapses, TimedArray, defaultclock


def run_pair(model, pre_steps, post_steps, n_steps, w0, pre=("input_eqs", "input_reset"),
             post=("excitatory_eqs", "excitatory_reset"), synapse=None, n_pre=1,
             sample_start=None, read="w", delays=None):
    """Weights (or another synaptic variable) after ``n_steps`` of forced spikes.

    Parameters
    ----------
    model : ModelFile
    pre_steps : list of arrays
        Spike time steps of each presynaptic neuron.
    post_steps : array
        Spike time steps of the single postsynaptic neuron.
    n_steps : int
    w0 : float
        Initial weight.
    pre, post : (equations field, reset field)
        Model-file fields of the two neuron groups.
    synapse : dict
        ``model`` (synapse equations), ``on_pre`` and ``on_post`` code (strings);
        default: the model's input->excitatory synapse fields.
    sample_start : str, optional
        Synaptic code run once at t = 0 (the network runs it at every presentation).
    read : str
        Synaptic variable to return, one value per presynaptic neuron.
    delays : Quantity, optional
        Delay of each synapse (its on_pre code acts that long after the pre spike).
    """
    dt = model["dt"]
    defaultclock.dt = dt
    pre_raster = np.zeros((n_steps, n_pre))
    for neuron, steps in enumerate(pre_steps):
        pre_raster[np.asarray(steps, dtype=int), neuron] = 1
    post_raster = np.zeros(n_steps)
    post_raster[np.asarray(post_steps, dtype=int)] = 1
    namespace = dict(model.namespace)
    namespace["pre_raster"] = TimedArray(pre_raster, dt=dt)
    namespace["post_raster"] = TimedArray(post_raster, dt=dt)
    pre_group = NeuronGroup(n_pre, model[pre[0]], threshold="pre_raster(t, i) > 0.5",
                            reset=model[pre[1]], method=model["integration_method"],
                            namespace=namespace)
    post_group = NeuronGroup(1, model[post[0]], threshold="post_raster(t) > 0.5",
                             reset=model[post[1]], method=model["integration_method"],
                             namespace=namespace)
    synapse = synapse or {"model": model["input_synapse_eqs"], "on_pre": model["input_on_pre"],
                          "on_post": model["input_on_post"]}
    synapses = Synapses(pre_group, post_group, synapse["model"], on_pre=synapse["on_pre"],
                        on_post=synapse["on_post"], namespace=namespace)
    synapses.connect()
    synapses.w = w0
    if delays is not None:
        synapses.delay = delays
    if sample_start:
        synapses.run_regularly(sample_start, dt=n_steps * dt)
    Network(pre_group, post_group, synapses).run(n_steps * dt, namespace={})
    return np.array(getattr(synapses, read)[:])


def random_trains(rng, n_steps, n_pre, post_probability=0.02, pre_probability=0.03):
    """Random pre/post spike steps with no pre spike in a step where post fires.

    Same-step pre/post coincidences are excluded: there the neuron-held traces and
    per-synapse event-driven traces order the updates differently by design.
    """
    post_steps = np.flatnonzero(rng.random(n_steps) < post_probability)
    busy = np.zeros(n_steps, bool)
    busy[post_steps] = True
    pre_steps = []
    for _ in range(n_pre):
        steps = np.flatnonzero(rng.random(n_steps) < pre_probability)
        pre_steps.append(steps[~busy[steps]])
    return pre_steps, post_steps


def delayed_rule(model):
    """A model's input-synapse rule for delayed inputs (its ``*_delayed`` fields)."""
    return {"model": model["input_synapse_eqs_delayed"],
            "on_pre": model["input_on_pre_delayed"],
            "on_post": model["input_on_post_delayed"]}
