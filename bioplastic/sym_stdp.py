"""sym-STDP supervised network (Hao et al. 2020): built from ``models/sym_stdp.py``.

The input, hidden (excitatory) and inhibitory layers, the presentation protocol and
the input->hidden synaptic scaling are :class:`bioplastic.network.PresentationNetwork`;
this module adds the 10-neuron supervised layer (SL):

* hidden->SL synapses with the symmetric STDP rule and their own scaling;
* the teacher: while the SL layer learns, the labelled neuron fires as a Poisson
  process (its threshold condition is the teacher's, from the model file) and the
  others are silent. The label of the image being shown comes from a TimedArray
  read by the SL group's slot-start ``run_regularly``; that group keeps its own copy
  of the presentation state, fed by hidden->SL counting synapses, because brian2genn
  lets ``run_regularly`` code read only its own group.

Network modes (``MODES``): ``train`` (both layers learn, teacher on: the
simultaneous schedule), ``train_hidden`` and ``train_supervised`` (the two stages of
the layer-by-layer schedule) and ``test`` (nothing learns, SL driven by the hidden
layer).
"""

import numpy as np

from brian2 import Hz, NeuronGroup, SpikeMonitor, Synapses, TimedArray, mV, ms, second
from .modelfile import Field, ModelSpec, find_model_file, load_model_file
from .network import (COLUMN_NORMALISATION_STATE, COMMON_BUILDER_IDENTIFIERS, COMMON_FIELDS,
                      COUNT_SPIKE, N_INPUT, OPTIONAL_STATE_KEYS, PRESENTATION_DECISION,
                      PRESENTATION_STATE, TEST_TIME_FIELDS, PresentationNetwork,
                      add_column_normalisation, add_input_delays, check_protocol,
                      check_synapse_order, hidden_initial_state, quantity)

MODEL_FILE = "sym_stdp.py"
N_CLASSES = 10

SCHEDULES = ("layer-by-layer", "simultaneous")
DEFAULT_SCHEDULE = "layer-by-layer"

SPEC = ModelSpec(
    model_name="sym-stdp",
    fields={
        **COMMON_FIELDS,
        "v_reset_e": quantity(mV, -200, 100),
        "v_thresh_const": quantity(mV, -200, 100),
        "E_exc": quantity(mV, -200, 200), "E_inh_e": quantity(mV, -200, 200),
        "tau_e": quantity(ms, 0, None, low_exclusive=True),
        "tau_theta": quantity(ms, 0, None, low_exclusive=True),
        "theta_plus": quantity(mV, 0, 100),
        "theta_scale_max": quantity(1, 0, None, low_exclusive=True),
        "v_reset_i": quantity(mV, -200, 100),
        "v_thresh_i": quantity(mV, -200, 100), "E_inh_i": quantity(mV, -200, 200),
        "tau_i": quantity(ms, 0, None, low_exclusive=True),
        "v_thresh_supervised": quantity(mV, -200, 100),
        "refractory_supervised": quantity(ms, 0, None),
        "teacher_rate": quantity(Hz, 0, 1000),
        "tau_ge": quantity(ms, 0, None, low_exclusive=True),
        "tau_gi": quantity(ms, 0, None, low_exclusive=True),
        "w_exc_inh": quantity(1, 0, None), "w_inh_exc": quantity(1, 0, None),
        "tau_plus": quantity(ms, 0, None, low_exclusive=True),
        "tau_minus": quantity(ms, 0, None, low_exclusive=True),
        "trace_increment": quantity(1, 0, None),
        "nu_input": quantity(1, 0, 1), "nu_supervised": quantity(1, 0, 1),
        "w_max": quantity(1, 0, None, low_exclusive=True),
        "w_max_supervised": quantity(1, 0, None, low_exclusive=True),
        "w_init_max_supervised": quantity(1, 0, None),
        "scaling_beta": quantity(1, 0, 1, low_exclusive=True),
        "scaling_beta_supervised": quantity(1, 0, 1, low_exclusive=True),
        "supervised_eqs": Field("equations"),
        "supervised_threshold": Field("expression"),
        "supervised_threshold_teacher": Field("expression"),
        "supervised_reset": Field("code"),
        "supervised_sample_start": Field("code", optional=True),
        "supervised_synapse_eqs": Field("equations"),
        "supervised_on_pre": Field("code"),
        "supervised_on_post": Field("code", optional=True),
        "supervised_on_pre_test": Field("code"),
        # the hidden layer's test-time raise (the other test-time options: Diehl & Cook)
        "threshold_raise_test": TEST_TIME_FIELDS["threshold_raise_test"],
        "threshold_raise_supervised_stage": quantity(1, 0, 1, integer=True, optional=True),
    },
    builder_identifiers=COMMON_BUILDER_IDENTIFIERS | {"is_label", "presentation_window"},
)

#: Arrays a run keeps between chunks (and in checkpoints); ``input_delays`` only
#: with ``input_delay_max`` > 0.
STATE_KEYS = ("weights", "theta", "supervised_weights", "input_delays")
#: The state each training phase learns (:func:`bioplastic.rerun.retrain` draws it
#: afresh to train a layer again; the input delays are drawn once and kept).
PHASE_STATE = {"train": ("weights", "theta", "supervised_weights"),
               "train_hidden": ("weights", "theta"), "train_supervised": ("supervised_weights",)}


def load_model(path=None, overrides=None):
    """Load and validate a sym-STDP model file (the shipped one by default)."""
    model = load_model_file(path or find_model_file(MODEL_FILE), SPEC, overrides)
    check_protocol(model)
    return model


def initial_state(model, n_neurons, rng):
    """Initial weights (``w_init_max x U[0, 1]`` per layer) and theta (SI units)."""
    state = hidden_initial_state(model, n_neurons, rng)
    state["supervised_weights"] = (float(model["w_init_max_supervised"])
                                   * rng.random((n_neurons, N_CLASSES)))
    return add_input_delays(model, state, rng)


def phases(config):
    """The phases of a run: one or two training stages, then assign and test."""
    from .training import Phase
    if config.schedule == "simultaneous":
        training = [Phase("train", "train", "train")]
    else:
        training = [Phase("train_hidden", "train_hidden", "train"),
                    Phase("train_supervised", "train_supervised", "train")]
    return training + [Phase("assign", "test", "assign"), Phase("test", "test", "test")]


def column_sum_targets(model, n_neurons):
    """Synaptic scaling targets (eq. 7): beta x N_in x w_max for each layer."""
    return (float(model["scaling_beta"]) * N_INPUT * float(model["w_max"]),
            float(model["scaling_beta_supervised"]) * n_neurons
            * float(model["w_max_supervised"]))


class SymStdpNetwork(PresentationNetwork):
    """The sym-STDP network compiled for one mode and hidden-layer size.

    See :class:`bioplastic.network.PresentationNetwork` for the parameters; ``mode``
    is one of ``MODES``.
    """

    model_key = "sym-stdp"
    #: mode -> (input->hidden learns and theta adapts, hidden->SL learns with teacher)
    MODES = {"train": (True, True), "train_hidden": (True, False),
             "train_supervised": (False, True), "test": (False, False)}

    _supervised_order_checked = False

    def _thresholds_raised(self):
        # The supervised stage's hidden layer is frozen too: with the file's switch
        # on, it runs raised as at test, so the SL learns from the spikes it will read.
        return self.frozen or (
            self.mode == "train_supervised"
            and int(self.model.values.get("threshold_raise_supervised_stage", 0)) == 1)

    def column_sum_target(self):
        return column_sum_targets(self.model, self.n_neurons)[0]

    def _build_more(self, objects, namespace):
        model, n = self.model, self.n_neurons
        slot = self.protocol.slot_duration
        learning = self.output_plastic
        label_table = TimedArray(np.full(self.chunk_slots, -1.0), dt=1 * second,
                                 name="label_table")
        namespace.update(label_table=label_table,
                         supervised_sum_target=column_sum_targets(model, n)[1])
        supervised = NeuronGroup(
            N_CLASSES, model["supervised_eqs"] + PRESENTATION_STATE + """
            is_label : 1                  # 1 for the neuron of the shown image's label
            """ + COLUMN_NORMALISATION_STATE,
            threshold=(model["supervised_threshold_teacher"] if learning
                       else model["supervised_threshold"]),
            reset=model["supervised_reset"],
            # the teacher is a plain Poisson process: no dead time while it drives
            refractory=0 * ms if learning else model["refractory_supervised"],
            method=model["integration_method"], name="supervised", namespace=namespace)
        supervised.v = model["v_rest_e"]
        # Slot start: same decision as the input group's copy, then the new label.
        supervised.run_regularly(
            PRESENTATION_DECISION
            + "is_label = int(i == label_table(sample_in_chunk * stimulus_row))\n"
            + (model["supervised_sample_start"] or "") + "\nw_total = 0",
            dt=slot, when="start", order=-3, name="supervised_run_regularly_presentation")
        hidden_supervised = Synapses(
            objects["excitatory"], supervised, model["supervised_synapse_eqs"],
            on_pre=model["supervised_on_pre"] if learning else model["supervised_on_pre_test"],
            on_post=(model["supervised_on_post"] or None) if learning else None,
            name="hidden_supervised", namespace=namespace)
        hidden_supervised.connect()
        if learning:
            add_column_normalisation(hidden_supervised, "supervised_sum_target", slot)
        counter = Synapses(objects["excitatory"], supervised, on_pre=COUNT_SPIKE,
                           name="supervised_counter", namespace=namespace)
        counter.connect()
        return {"supervised": supervised, "hidden_supervised": hidden_supervised,
                "supervised_counter": counter, "label_table": label_table,
                "supervised_spikes": SpikeMonitor(supervised, name="supervised_spikes")}

    def _more_values(self, state, labels, initial_retries):
        return {"hidden_supervised.w": np.asarray(state["supervised_weights"],
                                                  dtype=float).ravel(),
                "supervised.retries": float(initial_retries),
                "supervised.sample_in_chunk": 0.0,
                "supervised.slot_spikes": 0.0,
                "supervised.slot_start": 0.0}

    def _more_tables(self, labels):
        table = np.full(self.chunk_slots, -1.0)
        if labels is not None:
            table[: len(labels)] = labels
        return {"label_table": table}

    def _read_more(self, state):
        if not self._supervised_order_checked:
            check_synapse_order(self.network, "hidden_supervised", self.n_neurons, N_CLASSES)
            self._supervised_order_checked = True
        rows = self.network.get("supervised.sample_in_chunk")
        if not np.all(rows == self.network.get("input.sample_in_chunk")[0]):
            raise RuntimeError("the supervised layer's presentation schedule differs from "
                               "the input layer's")
        if self.output_plastic:
            state["supervised_weights"] = self.network.get("hidden_supervised.w").reshape(
                self.n_neurons, N_CLASSES)

    def _outputs(self):
        return self._slot_counts("supervised_spikes", N_CLASSES, first_spikes=True)


#: The network class the training loop uses for this model.
Network = SymStdpNetwork
