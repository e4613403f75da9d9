"""Diehl & Cook (2015) network: built from ``models/diehl_cook_2015.py``.

The model file holds every equation and parameter; the network (input, excitatory
and inhibitory layers, presentation protocol and weight normalisation running
inside the network) is :class:`bioplastic.network.PresentationNetwork`, which this
model uses as it is.
"""

from brian2 import mV, ms
from .modelfile import ModelSpec, find_model_file, load_model_file
from .network import (COMMON_BUILDER_IDENTIFIERS, COMMON_FIELDS, N_INPUT,
                      OPTIONAL_STATE_KEYS, TEST_TIME_FIELDS, ChunkResult,
                      PresentationNetwork, Protocol, add_input_delays, check_protocol,
                      hidden_initial_state, quantity, schedule_from_counts)

__all__ = ["MODEL_FILE", "SPEC", "STATE_KEYS", "OPTIONAL_STATE_KEYS", "load_model",
           "initial_state", "DiehlCookNetwork", "Network", "N_INPUT", "ChunkResult", "Protocol",
           "schedule_from_counts"]

MODEL_FILE = "diehl_cook_2015.py"

SPEC = ModelSpec(
    model_name="diehl-cook-2015",
    fields={
        **COMMON_FIELDS,
        "v_reset_e": quantity(mV, -200, 100),
        "v_thresh_e": quantity(mV, -200, 100), "theta_offset": quantity(mV, -200, 200),
        "E_exc": quantity(mV, -200, 200), "E_inh_e": quantity(mV, -200, 200),
        "tau_e": quantity(ms, 0, None, low_exclusive=True),
        "tau_theta": quantity(ms, 0, None, low_exclusive=True),
        "theta_plus": quantity(mV, 0, 100),
        "spike_block_time": quantity(ms, 0, None),
        "v_reset_i": quantity(mV, -200, 100),
        "v_thresh_i": quantity(mV, -200, 100), "E_inh_i": quantity(mV, -200, 200),
        "tau_i": quantity(ms, 0, None, low_exclusive=True),
        "tau_ge": quantity(ms, 0, None, low_exclusive=True),
        "tau_gi": quantity(ms, 0, None, low_exclusive=True),
        "w_exc_inh": quantity(1, 0, None), "w_inh_exc": quantity(1, 0, None),
        "tau_pre": quantity(ms, 0, None, low_exclusive=True),
        "tau_post1": quantity(ms, 0, None, low_exclusive=True),
        "tau_post2": quantity(ms, 0, None, low_exclusive=True),
        "nu_pre": quantity(1, 0, 1), "nu_post": quantity(1, 0, 1),
        "w_max": quantity(1, 0, None, low_exclusive=True),
        "column_sum_target": quantity(1, 0, None, low_exclusive=True),
        "column_norm_order": quantity(1, 1, 2, integer=True, optional=True),
        **TEST_TIME_FIELDS,
    },
    builder_identifiers=COMMON_BUILDER_IDENTIFIERS,
)

#: Arrays a run keeps between chunks (and in checkpoints); ``input_delays`` only
#: with ``input_delay_max`` > 0.
STATE_KEYS = ("weights", "theta", "input_delays")


def load_model(path=None, overrides=None):
    """Load and validate a Diehl & Cook model file (the shipped one by default)."""
    model = load_model_file(path or find_model_file(MODEL_FILE), SPEC, overrides)
    check_protocol(model)
    return model


def initial_state(model, n_neurons, rng, options=None):
    """Random initial weights (``w_init_max`` x U[0, 1]) and theta (SI units), and
    the input delays when the model file has them."""
    return add_input_delays(model, hidden_initial_state(model, n_neurons, rng), rng)


class DiehlCookNetwork(PresentationNetwork):
    """The Diehl & Cook network compiled for one mode (``'train'`` or ``'test'``) and size.

    See :class:`bioplastic.network.PresentationNetwork` for the parameters.
    """

    model_key = "diehl-cook-2015"


#: The network class the training loop uses for this model.
Network = DiehlCookNetwork
