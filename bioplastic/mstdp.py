"""MSTDP energy network: built from ``models/mstdp.py``.

Two neuron groups, ``visible`` (784 image pixels, then 10 label neurons) and
``hidden``, and three all-to-all synapse groups (visible->hidden, hidden->visible,
hidden->hidden without self-connections). Each synapse group adds its
``w x rho_pre`` into a summed variable of its target (``drive`` of the visible
neurons; ``drive_visible`` and ``drive_hidden`` of the hidden ones, whose ``drive``
is their sum), so every group has one summed variable, as brian2genn requires.

Order within a time step (``groups`` slot): the synapses learn from the change
of rho in the previous iteration (order -2), the summed variables collect the
input (order -1), then both neuron groups take their momentum step (order 0).
The clamped/free phase is a function of ``t`` in the model file's equations; a
``run_regularly`` at each sample start loads the next sample's data from a
TimedArray (and in generate mode draws a random initial state), so a chunk of
samples is one Brian2 run with no Python in between.

Network modes (``MODES``): ``train`` (image and label clamped, learning on),
``classify`` (image clamped), ``generate`` (label clamped, random start).
"""

import warnings
from dataclasses import dataclass
from math import gcd

import numpy as np

from brian2 import NeuronGroup, StateMonitor, Synapses, TimedArray, ms, second
from .modelfile import (Field, ModelSpec, check_defined_variables, field_error,
                        find_model_file, load_model_file)
from .network import (N_INPUT, ChunkResult, check_mode_and_size, check_synapse_order,
                      quantity)
from .devices import default_device
from .simulation import CompiledNetwork, network_project_key

__all__ = ["MODEL_FILE", "SPEC", "STATE_KEYS", "MODES", "load_model", "initial_state",
           "phases", "energy", "check_training", "EnergyNetwork", "Network",
           "N_VISIBLE", "N_CLASSES"]

MODEL_FILE = "mstdp.py"
#: States beyond this size mean the dynamics have run away (rho is saturated far
#: earlier: rho(5) = 1 - 2e-9 with gain 4).
RUNAWAY_STATE = 50.0
#: A summed |W| into one neuron (from any of the three weight matrices) beyond
#: this means the same; it bounds the neuron's drive. Bounded runs stayed below
#: about 100 (794 inputs of mean |W| < 0.11), run-away ones reached 35,000 to
#: 117,000, also when state_limit kept every |s| <= 1 (docs/mstdp.md).
RUNAWAY_INPUT_WEIGHT = 1000.0
#: learning_rate x hidden neurons x training samples shown after which MNIST
#: training ran away in the runs measured (docs/mstdp.md, "Learning runs away after
#: a fixed budget"): 1,600 to 2,100, e.g. at 64 hidden neurons rate 0.001 after about
#: 26,000 samples, 0.002 after 12,500 and 0.005 after 6,500. A label neuron sums
#: over all hidden neurons, so the drive the rule adds per sample grows with them.
LEARNING_BUDGET_LIMIT = 1500
#: the smallest and largest budgets at which the measured runs ran away
RUNAWAY_BUDGETS_MEASURED = (1600, 2100)
#: ... and the largest budget of a run that stayed bounded (the suggested one)
LEARNING_BUDGET_STABLE = 1280
N_CLASSES = 10
N_VISIBLE = N_INPUT + N_CLASSES
#: Where the label neurons sit among the visible neurons.
LABEL_SLICE = slice(N_INPUT, N_VISIBLE)

SPEC = ModelSpec(
    model_name="mstdp",
    fields={
        "dt": quantity(ms, 0, None, low_exclusive=True),
        "integration_method": Field("method"),
        "gain": quantity(1, 0, 100, low_exclusive=True),
        "state_init_low": quantity(1, -10, 10),
        "state_init_high": quantity(1, -10, 10),
        "w_init_max": quantity(1, 0, 10),
        "b_init_max": quantity(1, 0, 10),
        "step_size": quantity(1, 0, 2, low_exclusive=True),
        "beta_clamped": quantity(1, 0, 100),
        "momentum_clamped": quantity(1, 0, 1),
        "momentum_free": quantity(1, 0, 1),
        "clamped_iterations": quantity(1, 1, 100000, integer=True),
        "free_iterations": quantity(1, 0, 100000, integer=True),
        "train_cycles": quantity(1, 1, 10000, integer=True),
        "test_cycles": quantity(1, 1, 10000, integer=True),
        "learning_rate": quantity(1, 0, 1),
        "bias_learning_rate": quantity(1, 0, 1),
        "weight_limit": quantity(1, 0, None),
        "smoothing_rate": quantity(1, 0, 1),
        "state_limit": quantity(1, 0, None),
        "rate_point": quantity(1, 0, 1),
        "reverse_term_weight": quantity(1, 0, 1),
        "phase_eqs": Field("equations"),
        "neuron_eqs": Field("equations"),
        "synapse_eqs": Field("equations"),
        "synapse_eqs_with_options": Field("equations"),
        "generate_sample_start": Field("code", optional=True),
        "synapse_sample_start": Field("code", optional=True),
    },
    builder_identifiers={"clamp", "data", "drive", "learning_on", "drive_visible",
                         "drive_hidden", "rng_seed", "sample_duration"},
)

#: Arrays a run keeps between chunks (and in checkpoints). The state and velocity
#: of all neurons (visible first) carry over: s is not reset between samples.
STATE_KEYS = ("weights_visible_hidden", "weights_hidden_visible", "weights_hidden_hidden",
              "bias_visible", "bias_hidden", "state", "velocity")

#: mode -> (learning on, clamped visible neurons, random state at each sample start)
MODES = {"train": (True, "all", False), "classify": (False, "image", False),
         "generate": (False, "label", True)}


#: Variables the builder, the synapses (rho, rho_before, learning of pre/post
#: neurons) and the checkpoints (s, v, b) rely on, by equations field.
REQUIRED_VARIABLES = {"phase_eqs": ("clamped", "learning"),
                      "neuron_eqs": ("s", "v", "b", "rho", "rho_before")}


def load_model(path=None, overrides=None):
    """Load and validate an MSTDP model file (the shipped one by default)."""
    model = load_model_file(path or find_model_file(MODEL_FILE), SPEC, overrides)
    if float(model["state_init_high"]) < float(model["state_init_low"]):
        raise field_error(model, "state_init_high", f"must be >= state_init_low "
                          f"({float(model['state_init_low']):g}), got "
                          f"{float(model['state_init_high']):g}")
    check_defined_variables(model, REQUIRED_VARIABLES,
                            "the builder, the synapses or the checkpoints use it")
    if float(model["weight_limit"]) > 0 and not model["synapse_sample_start"]:
        raise field_error(model, "weight_limit", "is > 0 but the model file has no "
                          "synapse_sample_start code to apply it")
    return model


def learning_rule(model):
    """The synapse equations a training network uses.

    ``synapse_eqs_with_options`` when rate_point or reverse_term_weight is on,
    else ``synapse_eqs``: the same rule without the options' per-synapse
    arithmetic, which made a training step a quarter slower.
    """
    options_on = float(model["rate_point"]) or float(model["reverse_term_weight"])
    return model["synapse_eqs_with_options" if options_on else "synapse_eqs"]


def initial_state(model, n_hidden, rng, options=None):
    """Weights and biases ~ U(-max, max), state ~ U(state_init_low, state_init_high)."""
    w_max, b_max = float(model["w_init_max"]), float(model["b_init_max"])
    n_hidden = int(n_hidden)
    hidden_hidden = rng.uniform(-w_max, w_max, (n_hidden, n_hidden))
    np.fill_diagonal(hidden_hidden, 0.0)
    n_total = N_VISIBLE + n_hidden
    return {
        "weights_visible_hidden": rng.uniform(-w_max, w_max, (N_VISIBLE, n_hidden)),
        "weights_hidden_visible": rng.uniform(-w_max, w_max, (n_hidden, N_VISIBLE)),
        "weights_hidden_hidden": hidden_hidden,
        "bias_visible": rng.uniform(-b_max, b_max, N_VISIBLE),
        "bias_hidden": rng.uniform(-b_max, b_max, n_hidden),
        "state": rng.uniform(float(model["state_init_low"]), float(model["state_init_high"]),
                             n_total),
        "velocity": np.zeros(n_total),
    }


#: Results keys of the test answer (``accuracy_label``, ``confusion_label``).
OUTPUT_KEY = "label"


def predict(outputs):
    """The answer of each sample: the label neuron with the largest state."""
    return np.argmax(np.asarray(outputs), axis=1)


def phases(config):
    """Training (image and label clamped), then classification of the test set."""
    from .training import Phase
    return (Phase("train", "train", "train"), Phase("test", "classify", "test"))


def sigmoid_rate(state, gain):
    """rho(s) = sigmoid(gain x s)."""
    return 1.0 / (1.0 + np.exp(-gain * np.asarray(state, dtype=float)))


def full_weights(state):
    """The (N x N) matrix W[j, i] from neuron j to neuron i (visible first)."""
    vh, hv, hh = (np.asarray(state[k]) for k in
                  ("weights_visible_hidden", "weights_hidden_visible", "weights_hidden_hidden"))
    n_hidden = hh.shape[0]
    n = N_VISIBLE + n_hidden
    weights = np.zeros((n, n))
    weights[:N_VISIBLE, N_VISIBLE:] = vh
    weights[N_VISIBLE:, :N_VISIBLE] = hv
    weights[N_VISIBLE:, N_VISIBLE:] = hh
    return weights


def energy(state, gain, s=None):
    """Energy E = 1/2 sum s^2 - 1/2 sum_{i != j} W_ij rho_i rho_j - sum b_i rho_i.

    Parameters
    ----------
    state : dict
        Weights and biases (``STATE_KEYS``); ``state['state']`` is used unless ``s``
        is given.
    gain : float
        Slope of the sigmoid.
    s : ndarray, shape (..., N), optional
        States to evaluate (e.g. one row per recorded iteration).
    """
    s = np.asarray(state["state"] if s is None else s, dtype=float)
    rho = sigmoid_rate(s, gain)
    weights = full_weights(state)
    bias = np.concatenate([state["bias_visible"], state["bias_hidden"]])
    pair = np.einsum("...i,ij,...j->...", rho, weights, rho)
    return 0.5 * np.sum(s ** 2, axis=-1) - 0.5 * pair - rho @ bias


@dataclass
class Schedule:
    """Iteration counts of one mode, in time steps."""

    clamped: int
    free: int
    cycles: int

    @property
    def cycle(self):
        return self.clamped + self.free

    @property
    def sample(self):
        return self.cycles * self.cycle

    @property
    def record_every(self):
        """Recording interval that hits every phase end."""
        return gcd(self.clamped, self.free) if self.free else self.clamped


class EnergyNetwork:
    """The MSTDP network compiled for one mode and hidden size.

    Parameters
    ----------
    model : ModelFile
    n_neurons : int
        Hidden layer size.
    mode : {'train', 'classify', 'generate'}
    device_name : {'runtime', 'cpp_standalone'}
    chunk_slots : int
        Samples per Brian2 run.
    cache_dir : Path, optional
    record_visible : bool
        Record the s of all visible neurons at every phase end (for fixed-point
        figures and generation); otherwise only the label neurons are recorded.
    """

    model_key = "mstdp"

    def __init__(self, model, n_neurons, mode="train", device_name="runtime",
                 chunk_slots=100, cache_dir=None, record_visible=None):
        check_mode_and_size(MODES, mode, n_neurons)
        self.model = model
        self.n_neurons = int(n_neurons)
        self.mode = mode
        self.learning, self.clamped_part, self.random_start = MODES[mode]
        self.record_visible = (mode == "generate") if record_visible is None else record_visible
        cycles = int(model["train_cycles"] if mode == "train" else model["test_cycles"])
        self.schedule = Schedule(int(model["clamped_iterations"]),
                                 int(model["free_iterations"]), cycles)
        self.chunk_slots = int(chunk_slots)
        self.dt = model["dt"]
        self.network = CompiledNetwork(
            self._build, duration=self.chunk_slots * self.schedule.sample * self.dt,
            dt=self.dt, device_name=device_name,
            project_key=network_project_key(self.model_key, model, mode, self.n_neurons,
                                            self.chunk_slots, self.record_visible),
            seed_variable=("visible", "rng_seed"), cache_dir=cache_dir)
        self._order_checked = False

    @property
    def compile_seconds(self):
        return self.network.compile_seconds

    def _clamp(self):
        clamp = np.zeros(N_VISIBLE)
        if self.clamped_part in ("all", "image"):
            clamp[:N_INPUT] = 1
        if self.clamped_part in ("all", "label"):
            clamp[LABEL_SLICE] = 1
        return clamp

    def _build(self):
        model, n_hidden = self.model, self.n_neurons
        sample_duration = self.schedule.sample * self.dt
        samples = TimedArray(np.zeros((self.chunk_slots, N_VISIBLE)), dt=1 * second,
                             name="samples")
        # 1 for the rows that hold a sample (a chunk's last rows may be padding)
        sample_flags = TimedArray(np.zeros(self.chunk_slots), dt=1 * second,
                                  name="sample_flags")
        namespace = model.namespace
        namespace.update(samples=samples, sample_flags=sample_flags, sample_row=1 * second,
                         sample_duration=sample_duration,
                         learning_enabled=1.0 if self.learning else 0.0)
        neuron_eqs = model["phase_eqs"] + model["neuron_eqs"]
        method = model["integration_method"]
        visible = NeuronGroup(
            N_VISIBLE, neuron_eqs + """
            drive : 1                     # sum_j W_ji rho_j from the hidden neurons
            clamp : 1 (constant)          # 1 where this mode pulls s towards the data
            data : 1                      # the value it is pulled towards
            rng_seed : integer (shared)   # seeds this chunk's random numbers
            learning_on : 1 (shared)      # learn during this sample
            """, method=method, name="visible", namespace=namespace)
        hidden = NeuronGroup(
            n_hidden, neuron_eqs + """
            drive = drive_visible + drive_hidden : 1
            drive_visible : 1             # sum over the visible -> hidden synapses
            drive_hidden : 1              # sum over the hidden -> hidden synapses
            clamp = 0 : 1                 # hidden neurons are never clamped
            data = 0 : 1
            learning_on : 1 (shared)      # learn during this sample
            """, method=method, name="hidden", namespace=namespace)
        visible.clamp = self._clamp()
        row = "floor(t / sample_duration + 0.5) * sample_row"
        # a sample's first iteration learns if the one before it was clamped, which is
        # the case only without free phases (and never at t = 0)
        # (learning_on is only written here: brian2genn cannot read shared variables
        # in run_regularly code)
        hidden_start = (f"learning_on = learning_enabled * sample_flags({row})\n"
                        f"learning = learning_enabled * sample_flags({row}) * "
                        "int(t > 0*second) * int(free_iterations == 0)\n")
        visible_start = hidden_start + f"data = samples({row}, i)\n"
        if self.random_start:
            hidden_start += model["generate_sample_start"]
            visible_start += model["generate_sample_start"]
        for group, code in ((visible, visible_start), (hidden, hidden_start)):
            group.run_regularly(code, dt=sample_duration, when="start", order=0,
                                name=f"{group.name}_run_regularly_sample_start")

        def connect(source, target, summed, name, condition=None):
            # frozen modes leave out the learning rule: no per-synapse work but the sum
            rule = learning_rule(model) if self.learning else "w : 1"
            synapses = Synapses(
                source, target, rule + f"\n{summed}_post = w * rho_pre : 1 (summed)",
                method=method, order=-2, name=name, namespace=namespace)
            synapses.connect(condition=condition)
            if self.learning and float(model["weight_limit"]) > 0:
                synapses.run_regularly(model["synapse_sample_start"], dt=sample_duration,
                                       when="start", order=1,
                                       name=f"{name}_run_regularly_sample_start")
            return synapses

        visible_hidden = connect(visible, hidden, "drive_visible", "visible_hidden")
        hidden_visible = connect(hidden, visible, "drive", "hidden_visible")
        hidden_hidden = connect(hidden, hidden, "drive_hidden", "hidden_hidden", "i != j")
        recorded = np.arange(N_VISIBLE) if self.record_visible else np.arange(N_INPUT, N_VISIBLE)
        # 'start' slot, before the sample switch: the state after k iterations
        monitor = StateMonitor(visible, "s", record=recorded,
                               dt=self.schedule.record_every * self.dt, when="start",
                               order=-10, name="visible_states")
        return {"visible": visible, "hidden": hidden, "visible_hidden": visible_hidden,
                "hidden_visible": hidden_visible, "hidden_hidden": hidden_hidden,
                "visible_states": monitor, "samples": samples, "sample_flags": sample_flags}

    # ------------------------------------------------------------------ running
    def run_chunk(self, state, intensities, initial_retries=0, seed=0, labels=None):
        """Show up to ``chunk_slots`` samples (one Brian2 run).

        Parameters
        ----------
        state : dict
            Arrays of :data:`STATE_KEYS`; updated in place (weights and biases only
            in train mode; the state s and velocity always carry over).
        intensities : ndarray, shape (n, 784)
            Pixel intensities in [0, 1] (ignored in generate mode).
        initial_retries : int
            Unused (no repetitions in this model); kept for the common interface.
        seed : int
            Random seed of this chunk (generate mode's random initial states).
        labels : ndarray of int, shape (n,)
            Labels: clamped in train and generate mode.

        Returns
        -------
        ChunkResult
            ``final_outputs`` holds the label neurons' s at the end of each sample's
            last clamped phase (train: at the end of the sample, after the free
            phase); ``extras['phase_ends']`` the recorded states at the sample's
            start and at the end of each phase (see :meth:`_phase_ends`).
        """
        n = len(labels) if labels is not None else len(intensities)
        if n > self.chunk_slots:
            raise ValueError(f"{n} samples given, the network holds {self.chunk_slots}")
        table = np.zeros((self.chunk_slots, N_VISIBLE))
        if self.clamped_part != "label":
            table[:n, :N_INPUT] = np.asarray(intensities)[:n]
        if labels is not None and self.clamped_part != "image":
            table[np.arange(n), N_INPUT + np.asarray(labels, dtype=int)] = 1.0
        s = np.asarray(state["state"], dtype=float)
        v = np.asarray(state["velocity"], dtype=float)
        gain = float(self.model["gain"])
        rho, rho_before = sigmoid_rate(s, gain), sigmoid_rate(s - v, gain)
        off_diagonal = ~np.eye(self.n_neurons, dtype=bool)
        values = {
            "visible_hidden.w": np.asarray(state["weights_visible_hidden"], float).ravel(),
            "hidden_visible.w": np.asarray(state["weights_hidden_visible"], float).ravel(),
            "hidden_hidden.w": np.asarray(state["weights_hidden_hidden"], float)[off_diagonal],
            "visible.b": np.asarray(state["bias_visible"], float),
            "hidden.b": np.asarray(state["bias_hidden"], float),
            "visible.s": s[:N_VISIBLE], "hidden.s": s[N_VISIBLE:],
            "visible.v": v[:N_VISIBLE], "hidden.v": v[N_VISIBLE:],
            "visible.rho": rho[:N_VISIBLE], "hidden.rho": rho[N_VISIBLE:],
            "visible.rho_before": rho_before[:N_VISIBLE],
            "hidden.rho_before": rho_before[N_VISIBLE:],
        }
        flags = np.zeros(self.chunk_slots)
        flags[:n] = 1.0
        self.network.run(values, {"samples": table, "sample_flags": flags}, seed)
        if not self._order_checked:
            self._check_order()
        if self.learning:
            h = self.n_neurons
            state["weights_visible_hidden"] = self.network.get("visible_hidden.w").reshape(N_VISIBLE, h)
            state["weights_hidden_visible"] = self.network.get("hidden_visible.w").reshape(h, N_VISIBLE)
            hidden_hidden = np.zeros((h, h))
            hidden_hidden[off_diagonal] = self.network.get("hidden_hidden.w")
            state["weights_hidden_hidden"] = hidden_hidden
            state["bias_visible"] = self.network.get("visible.b")
            state["bias_hidden"] = self.network.get("hidden.b")
        state["state"] = np.concatenate([self.network.get("visible.s"),
                                         self.network.get("hidden.s")])
        state["velocity"] = np.concatenate([self.network.get("visible.v"),
                                            self.network.get("hidden.v")])
        diverged = _check_divergence(state, self.mode)
        ends = self._phase_ends(n)
        last_clamped, last_free = ends[:, -2], ends[:, -1]
        outputs = last_free if self.mode == "train" else last_clamped
        if self.record_visible:
            outputs = outputs[:, LABEL_SLICE]
        return ChunkResult(np.arange(n), np.zeros(n, dtype=int), None, n, 0, None, outputs,
                           extras={"phase_ends": ends}, diverged=diverged)

    def _phase_ends(self, n):
        """Recorded states at each sample's start and at the end of each of its phases.

        Returns an array of shape (n, 1 + 2 x cycles, recorded neurons): index 0 is
        the state when the sample appears, then the ends of clamped phase 1, free
        phase 1, clamped phase 2, ... (the last entry ends the sample).
        """
        records = np.asarray(self.network.objects["visible_states"].s[:]).T
        final = np.asarray(self.network.get("visible.s"))
        final = final if self.record_visible else final[LABEL_SLICE]
        # entry p = state after p x record_every iterations (p = 0 .. end of the chunk)
        states = np.concatenate([records, final[None, :]])
        schedule = self.schedule
        offsets = [0]
        for cycle in range(schedule.cycles):
            offsets += [cycle * schedule.cycle + schedule.clamped, (cycle + 1) * schedule.cycle]
        starts = np.arange(n)[:, None] * schedule.sample
        return states[(starts + np.asarray(offsets)[None, :]) // schedule.record_every]

    def _check_order(self):
        check_synapse_order(self.network, "visible_hidden", N_VISIBLE, self.n_neurons)
        check_synapse_order(self.network, "hidden_visible", self.n_neurons, N_VISIBLE)
        i = self.network.get("hidden_hidden.i")
        j = self.network.get("hidden_hidden.j")
        rows, cols = np.nonzero(~np.eye(self.n_neurons, dtype=bool))
        if not (np.array_equal(i, rows) and np.array_equal(j, cols)):
            raise RuntimeError("unexpected synapse order for hidden_hidden weights")
        self._order_checked = True

    def close(self):
        self.network.close()


#: The network class the training loop uses for this model.
Network = EnergyNetwork


class DivergenceWarning(RuntimeWarning):
    """The network's states or weights have run away (learning is unstable)."""


class LearningRateWarning(UserWarning):
    """The learning rate is too large for the network's size and training length."""


def check_training(model, n_hidden, samples):
    """Warn when a training run will most likely run away.

    The learning budget ``learning_rate`` x ``n_hidden`` x ``samples`` (training
    samples shown, all epochs) above :data:`LEARNING_BUDGET_LIMIT` ran away in every
    run measured.

    Returns
    -------
    str or None
        The warning's message, or None when the budget is within the measured bound.
    """
    rate = float(model["learning_rate"])
    budget = rate * n_hidden * samples
    if budget <= LEARNING_BUDGET_LIMIT:
        return None
    message = (f"MSTDP: learning_rate x hidden neurons x training samples = {rate:g} x "
               f"{n_hidden} x {samples} = {budget:.3g}; the measured runs ran away once "
               f"this passed {RUNAWAY_BUDGETS_MEASURED[0]:,} to {RUNAWAY_BUDGETS_MEASURED[1]:,} "
               "(docs/mstdp.md). For a bounded run use --set "
               f"learning_rate={LEARNING_BUDGET_STABLE / (n_hidden * samples):.2g} "
               f"({LEARNING_BUDGET_STABLE:g} / (hidden neurons x samples)); check 'diverged' "
               "in results.json either way")
    warnings.warn(message, LearningRateWarning, stacklevel=2)
    return message


def _check_divergence(state, mode):
    """Warn when states or weights are non-finite or far beyond their bounded size.

    Returns
    -------
    str or None
        The warning's message, or None when states and weights are within bounds.
    """
    def largest_and_input(values):
        """Largest |value| and largest column sum of |values| (inf if not finite)."""
        absolute = np.abs(np.asarray(values))
        if not np.all(np.isfinite(absolute)):
            return float("inf"), float("inf")
        # rows are presynaptic: a weight matrix's column sums are each neuron's
        # summed input weight
        column_sums = absolute.sum(axis=0) if absolute.ndim == 2 else absolute
        return float(absolute.max()), float(column_sums.max())

    largest = largest_and_input(state["state"])[0]
    weights = [largest_and_input(state[key]) for key in
               ("weights_visible_hidden", "weights_hidden_visible", "weights_hidden_hidden")]
    weight, input_weight = max(w for w, _ in weights), max(s for _, s in weights)
    if largest <= RUNAWAY_STATE and input_weight <= RUNAWAY_INPUT_WEIGHT:
        return None
    message = (f"MSTDP {mode}: the dynamics have run away (largest |s| = {largest:.3g}, "
               f"largest |W| = {weight:.3g}, summed |W| into a neuron up to "
               f"{input_weight:.3g}); answers from here on are meaningless. Lower "
               "learning_rate or step_size, use longer phases (clamped_iterations, "
               "free_iterations) so that each phase settles, or the symmetric update "
               "(rate_point=0.5, reverse_term_weight=1), which measured runs kept bounded")
    warnings.warn(message, DivergenceWarning, stacklevel=3)
    return message


def _run_samples(model, state, n_hidden, mode, device_name, images, labels, seed,
                 chunk_slots=100, record_visible=None):
    """Show samples to a copy of ``state`` in ``mode``; return the phase-end records."""
    from .training import chunk_seed
    state = {key: np.array(value) for key, value in state.items()}
    n = len(labels) if labels is not None else len(images)
    network = EnergyNetwork(model, n_hidden, mode, device_name or default_device(),
                            chunk_slots=min(int(chunk_slots), n), record_visible=record_visible)
    ends = []
    try:
        for chunk, start in enumerate(range(0, n, network.chunk_slots)):
            stop = min(start + network.chunk_slots, n)
            result = network.run_chunk(
                state, None if images is None else images[start:stop], 0,
                chunk_seed(seed, 0, chunk),
                labels=None if labels is None else labels[start:stop])
            ends.append(result.extras["phase_ends"])
    finally:
        network.close()
    return np.concatenate(ends)


def generate_digits(model, state, n_hidden, labels, device_name=None, seed=1,
                    chunk_slots=100):
    """Images (n, 784) generated by clamping one-hot ``labels`` from random states.

    Each sample starts from a random state, runs ``test_cycles`` clamped/free
    cycles with only its label clamped, and the image neurons' states at the end
    of the last clamped phase are returned.
    """
    ends = _run_samples(model, state, n_hidden, "generate", device_name, None,
                        np.asarray(labels), seed, chunk_slots, record_visible=True)
    return ends[:, -2, :N_INPUT]


def classify_phase_ends(model, state, n_hidden, images, device_name=None, seed=1,
                        chunk_slots=100):
    """Label neurons' states at each image's start and at every phase end (classify
    mode; the layout of :meth:`EnergyNetwork._phase_ends`)."""
    return _run_samples(model, state, n_hidden, "classify", device_name,
                        np.asarray(images, dtype=float), None, seed, chunk_slots)


def classify_images(model, state, n_hidden, images, device_name=None, seed=1,
                    chunk_slots=100):
    """Predicted class of each image (classify mode, as in the test phase)."""
    ends = classify_phase_ends(model, state, n_hidden, images, device_name, seed, chunk_slots)
    return predict(ends[:, -2])


def fixed_points(model, state, n_hidden, images, labels, device_name=None,
                 seed=1):
    """Visible states in a training loop (the paper's Fig. 1), on a copy of ``state``.

    Returns an array (n, 1 + 2 x train_cycles, 794): the state when each sample
    appears (the previous free fixed point), then the end of every clamped and free
    phase.
    """
    return _run_samples(model, state, n_hidden, "train", device_name,
                        np.asarray(images, dtype=float), np.asarray(labels), seed,
                        chunk_slots=len(labels), record_visible=True)
