"""Building blocks shared by the image-presentation networks (Diehl & Cook, sym-STDP).

Both models have the same first two layers: 784 Poisson inputs, all-to-all plastic
synapses onto N excitatory neurons with an adaptive threshold, and a one-to-one
inhibitory layer that inhibits every other excitatory neuron. Their model files
fill the same code fields (``input_eqs``, ``excitatory_eqs``, ``input_on_pre`` ...);
:class:`PresentationNetwork` wires them together and runs the presentation
protocol inside the network:

* The input group holds, in every neuron, the index of the image being shown
  (``sample_in_chunk``), how often it was repeated (``retries``) and how many
  excitatory spikes the current presentation produced (``slot_spikes``, counted by
  excitatory->input synapses). A ``run_regularly`` at the start of each presentation
  slot decides between "next image" and "show again with a higher rate", and reads
  the new rates from a TimedArray. The inputs are Poisson processes drawn per spike,
  not per step (see :data:`POISSON_INPUT_STATE`).
* At each slot start the state is reset (model-file code) and the input->excitatory
  weights are normalised: the column sums are accumulated into ``w_total`` of each
  excitatory neuron by a synaptic ``run_regularly``, and the weights are multiplied
  by the neuron's ``target / w_total``.

Everything respects brian2genn's limits (one run, homogeneous delays, one pre/post
pathway, single clock with slot-rate ``run_regularly`` in the ``start`` slot,
TimedArray only in ``run_regularly``, no variables of other groups read there).
A model module subclasses :class:`PresentationNetwork` to add layers.
"""

from dataclasses import dataclass

import numpy as np

from brian2 import Hz, NeuronGroup, SpikeMonitor, Synapses, TimedArray, mV, ms, second, volt
from .encoding import normalise_intensity_sum
from .modelfile import Field, ModelFileError, quantity_in
from .simulation import CompiledNetwork, network_project_key, synaptic_sum_codeobj_class

N_INPUT = 784


def quantity(unit, low=None, high=None, **options):
    """Spec of a quantity field (shorthand for :class:`~bioplastic.modelfile.Field`)."""
    return Field("quantity", unit, low, high, **options)


#: Fields every presentation-network model file has (the models add their own).
COMMON_FIELDS = {
    "dt": quantity(ms, 0.001, 10, low_exclusive=True),
    "presentation_time": quantity(ms, 0, None, low_exclusive=True),
    "rest_time": quantity(ms, 0, None),
    "max_input_rate": quantity(Hz, 0, 10000, low_exclusive=True),
    "input_intensity_sum": quantity(1, 0, N_INPUT, optional=True),
    "rate_boost": quantity(Hz, 0, 10000),
    "min_spikes": quantity(1, 0, None, integer=True),
    "max_retries": quantity(1, 0, 1000, integer=True),
    "integration_method": Field("method"),
    "v_rest_e": quantity(mV, -200, 100),
    "refractory_e": quantity(ms, 0, None),
    "theta_init": quantity(mV, -100, 200),
    "v_rest_i": quantity(mV, -200, 100),
    "refractory_i": quantity(ms, 0, None),
    "w_init_max": quantity(1, 0, None),
    "input_eqs": Field("equations", optional=True),
    "input_reset": Field("code", optional=True),
    "input_sample_start": Field("code", optional=True),
    "excitatory_eqs": Field("equations"),
    "excitatory_threshold": Field("expression"),
    "excitatory_reset": Field("code"),
    "excitatory_sample_start": Field("code", optional=True),
    "inhibitory_eqs": Field("equations"),
    "inhibitory_threshold": Field("expression"),
    "inhibitory_reset": Field("code"),
    "inhibitory_sample_start": Field("code", optional=True),
    "input_synapse_eqs": Field("equations"),
    "input_on_pre": Field("code"),
    "input_on_post": Field("code", optional=True),
    "input_synapse_sample_start": Field("code", optional=True),
    # heterogeneous input delays (not on genn): the rule with a per-synapse pre trace
    "input_delay_max": quantity(ms, 0, 1000, optional=True),
    "input_synapse_eqs_delayed": Field("equations", optional=True),
    "input_on_pre_delayed": Field("code", optional=True),
    "input_on_post_delayed": Field("code", optional=True),
    "input_synapse_sample_start_delayed": Field("code", optional=True),
    "exc_inh_on_pre": Field("code"),
    "inh_exc_on_pre": Field("code"),
    "excitatory_eqs_test": Field("equations"),
    "excitatory_reset_test": Field("code"),
    "input_on_pre_test": Field("code"),
}

#: Variables the builder adds to the groups (usable in model-file code).
COMMON_BUILDER_IDENTIFIERS = {"rate", "spike_hazard", "spike_budget", "slot_start",
                              "sample_in_chunk", "retries", "slot_spikes", "w_total",
                              "w_scale", "rng_seed", "input_split"}

#: Presentation state kept by every group that needs to know which image is shown.
PRESENTATION_STATE = """
slot_start : second           # start of the current presentation slot
sample_in_chunk : 1           # stimulus row being shown
retries : 1                   # repetitions of this row so far
slot_spikes : 1               # excitatory spikes in this presentation
"""

#: Slot-start decision, the same in every group holding a copy of the state:
#: show the image again (fewer than min_spikes spikes) or go to the next one.
PRESENTATION_DECISION = """
decide = int(t > first_slot_end)
again = decide * int(slot_spikes < min_spikes) * int(retries < max_retries)
advance = decide * (1 - again)
sample_in_chunk += advance
retries = (retries + again) * (1 - advance)
slot_spikes = 0
slot_start = t
"""

#: on_pre code of the excitatory -> state-holder counting synapses: a spike counts
#: if it fell in the presentation window of the current slot. ``spike_handling_delay``
#: is the time between a spike and its synaptic processing: 0 in Brian2's schedule,
#: one time step on genn (brian2genn runs synapses before the neurons of a step), where
#: a spike at the last step of the window (or of a slot) would otherwise be counted
#: in the wrong place and the repeat decision would disagree with the recorded spikes.
COUNT_SPIKE = ("slot_spikes_post += int(t - spike_handling_delay >= slot_start_post) * "
               "int(t - spike_handling_delay - slot_start_post < presentation_window)")


#: Poisson inputs drawn per spike, not per step. Brian2's PoissonGroup draws one
#: random number per neuron and step (``rand() < rate*dt``): 784 draws every 0.5 ms,
#: a third of the compiled Diehl & Cook program's time (perf). Here each pixel holds
#: an Exp(1) budget, used up inside the presentation window at the hazard
#: ``-log(1 - rate*dt)`` per step; the pixel fires when the budget is spent and
#: draws a new one. The number of steps to a spike is then geometric with success
#: probability ``rate*dt``: the same process as PoissonGroup's, with one draw per
#: spike (an MNIST pixel fires 8 times a second on average). The budget is
#: memoryless, so it carries over when the rate changes at a slot start.
POISSON_INPUT_STATE = """
rate : Hz                     # Poisson rate of this pixel now
spike_hazard : Hz             # -log(1 - rate*dt) / dt: budget used per second of window
dspike_budget/dt = -spike_hazard * int(t - slot_start < presentation_window) : 1  # until the next spike
"""
# "< 0": a budget drawn as exactly 0 waits for the window instead of firing in the rest
POISSON_INPUT_THRESHOLD = "spike_budget < 0"
POISSON_INPUT_RESET = "spike_budget = -log(1 - rand())\n"
#: Set with the rate at each slot start. A pixel asked to fire above one spike per
#: step fires at every step, as in PoissonGroup; the floor keeps its hazard finite
#: (a budget above ``certain_spike_hazard`` = 50 has probability e**-50).
POISSON_INPUT_HAZARD = """
spike_hazard = -log(clip(1 - rate * dt, exp(-certain_spike_hazard), 1)) / dt
"""
CERTAIN_SPIKE_HAZARD = 50
#: Regular input (``input_regular_test``): the budget is spent at the rate itself
#: (at most one spike per step) and refilled by exactly 1 at each spike, so a pixel
#: fires every 1/rate, from the random phase of its first budget (U[0, 1)), with
#: no shot noise; its mean rate is the Poisson input's.
REGULAR_INPUT_RESET = "spike_budget += 1\n"
REGULAR_INPUT_HAZARD = """
spike_hazard = clip(rate * dt, 0, 1) / dt
"""


def spike_handling_delay(model, device_name):
    """Delay from a spike to its ``on_pre`` code on ``device_name`` (see COUNT_SPIKE)."""
    return model["dt"] if device_name == "genn" else 0 * model["dt"]


def check_mode_and_size(modes, mode, n_neurons):
    """Raise ValueError for a mode the network lacks or a non-positive size."""
    if mode not in modes:
        raise ValueError(f"mode must be one of {', '.join(modes)}, got '{mode}'")
    if int(n_neurons) < 1:
        raise ValueError(f"n_neurons must be a positive integer, got {n_neurons}")


def check_protocol(model):
    """Presentation and rest must be whole numbers of time steps; theta must exist."""
    dt = model["dt"]
    for name in ("presentation_time", "rest_time", "presentation_time_test"):
        if name not in model:
            continue
        steps = float(model[name] / dt)
        if abs(steps - round(steps)) > 1e-6:
            raise ModelFileError(model.path, f"must be a whole number of time steps "
                                 f"(dt = {dt!r}), got {model[name]!r}", field=name,
                                 lineno=model.linenos.get(name))
    check_delayed_fields(model)
    if "theta" not in model["excitatory_eqs"]:
        raise ModelFileError(model.path, "the excitatory equations must define 'theta' "
                             "(the adaptive threshold saved in checkpoints)",
                             field="excitatory_eqs", lineno=model.linenos.get("excitatory_eqs"))


#: State arrays a run has only with some settings (``input_delay_max`` > 0).
OPTIONAL_STATE_KEYS = ("input_delays",)

#: Fields replaced by their ``*_delayed`` version when the input synapses have delays.
DELAYED_FIELDS = ("input_synapse_eqs", "input_on_pre", "input_on_post",
                  "input_synapse_sample_start")


def input_delay_max(model):
    """Largest input->excitatory delay in seconds (0: no delays, the default)."""
    return quantity_in(model.values.get("input_delay_max", 0), second)


def check_delayed_fields(model):
    """With input delays on, the model file must give the rule's delayed variant."""
    if input_delay_max(model) <= 0:
        return
    for name in DELAYED_FIELDS[:3]:
        if not model[name + "_delayed"]:
            raise ModelFileError(
                model.path, f"input_delay_max is {model['input_delay_max']!r}, so the "
                "input synapses need a rule whose pre trace lives in each synapse "
                f"(delays differ per synapse): add {name}_delayed, or set "
                "input_delay_max = 0*ms", field=name + "_delayed",
                lineno=model.linenos.get("input_delay_max"))


def input_synapse_field(model, name):
    """The input-synapse code field ``name``, or its delayed variant when delays are on."""
    return model[name + "_delayed"] if input_delay_max(model) > 0 else model[name]


def hidden_initial_state(model, n_neurons, rng):
    """Input weights ``w_init_max x U[0, 1]`` (784 x N) and theta = ``theta_init`` (volts)."""
    weights = float(model["w_init_max"]) * rng.random((N_INPUT, n_neurons))
    theta = np.full(n_neurons, quantity_in(model["theta_init"], 1))
    return {"weights": weights, "theta": theta}


def add_input_delays(model, state, rng):
    """With ``input_delay_max`` > 0, add ``input_delays`` (784 x N, seconds) from
    U(0, input_delay_max) to ``state``. Call it after every other draw, so that a
    run with delays starts from the same weights as one without."""
    if input_delay_max(model) > 0:
        shape = np.shape(state["weights"])
        state["input_delays"] = rng.uniform(0, input_delay_max(model), shape)
    return state


#: Options that act only while nothing learns (label assignment, test): each one's
#: model-file field, the value that leaves the paper's network unchanged, and the
#: SI unit that value is in.
TEST_TIME_OPTIONS = {
    "presentation_time_test": (quantity(ms, 0, None, optional=True), 0.0, second),  # 0: as trained
    "input_split_test": (quantity(1, 1, 100, optional=True), 1.0, 1),
    "theta_test_spread": (quantity(1, 0, 1, optional=True), 1.0, 1),
    "threshold_raise_test": (quantity(mV, 0, 100, optional=True), 0.0, volt),
    "input_regular_test": (quantity(1, 0, 1, integer=True, optional=True), 0.0, 1),  # 1: regular
}
#: Their fields, for a model's spec (a model file may have any of them).
TEST_TIME_FIELDS = {name: option[0] for name, option in TEST_TIME_OPTIONS.items()}


def option_in_mode(model, name, acting):
    """The model file's test-time option ``name`` (a float in the SI unit of
    :data:`TEST_TIME_OPTIONS`) where it acts in this mode (``acting``: as a rule,
    nothing learns); its neutral value elsewhere or where the file does not set it."""
    _, neutral, unit = TEST_TIME_OPTIONS[name]
    if not acting or name not in model.values:
        return neutral
    return float(quantity_in(model.values[name], unit))


def presentation_time(model, frozen=False):
    """How long each image is shown: ``presentation_time_test``, where the model
    file sets it above 0, in a mode in which nothing learns (``frozen``: label
    assignment and test), else ``presentation_time``."""
    if option_in_mode(model, "presentation_time_test", frozen) > 0:
        return model["presentation_time_test"]
    return model["presentation_time"]


@dataclass
class Protocol:
    """Presentation timing in integer time steps."""

    dt: float
    slot_steps: int
    presentation_steps: int
    min_spikes: int
    max_retries: int

    @classmethod
    def from_model(cls, model, frozen=False):
        """The model file's timing; ``frozen``: see :func:`presentation_time`."""
        dt = model["dt"]
        presentation = int(round(float(presentation_time(model, frozen) / dt)))
        rest = int(round(float(model["rest_time"] / dt)))
        return cls(float(dt), presentation + rest, presentation,
                   int(model["min_spikes"]), int(model["max_retries"]))

    @property
    def slot_duration(self):
        return self.slot_steps * self.dt * second


@dataclass
class ChunkResult:
    """What one chunk did.

    Attributes
    ----------
    rows : ndarray of int
        Stimulus row shown in each presentation slot.
    retries : ndarray of int
        Repetition number of each slot (0 = first showing).
    counts : ndarray, shape (slots, n_neurons)
        Excitatory spikes in each slot's presentation window.
    completed_rows : int
        Number of stimulus rows whose presentation finished in this chunk.
    next_retries : int
        Retry number with which the first unfinished row must be shown next.
    final_counts : ndarray, shape (completed_rows, n_neurons)
        Counts of the last presentation of each completed row.
    final_outputs : ndarray, shape (completed_rows, n_outputs), or None
        Output-layer spike counts of the same presentations (models with one).
    final_first_spikes : ndarray, shape (completed_rows, n_outputs), or None
        Time step (from the presentation's start) of each output neuron's first
        spike in the same presentations; ``presentation_steps`` where it did not
        fire (models with a spiking output layer).
    extras : dict or None
        Further per-sample records of a model (e.g. the MSTDP network's visible
        states at the ends of its clamped and free phases).
    diverged : str or None
        Why the network's dynamics are judged to have run away by the end of this
        chunk (the MSTDP network's state bound), else None.
    """

    rows: np.ndarray
    retries: np.ndarray
    counts: np.ndarray
    completed_rows: int
    next_retries: int
    final_counts: np.ndarray
    final_outputs: np.ndarray = None
    extras: dict = None
    final_first_spikes: np.ndarray = None
    diverged: str = None


def schedule_from_counts(slot_totals, initial_retries, protocol):
    """Replay the in-network presentation rule from per-slot spike totals.

    Returns the row and retry number of every slot, and the decision after the
    last slot (``(rows, retries, last_done)``).
    """
    n_slots = len(slot_totals)
    rows = np.zeros(n_slots, dtype=np.int64)
    retries = np.zeros(n_slots, dtype=np.int64)
    row, retry = 0, initial_retries
    for k in range(n_slots):
        if k > 0:
            if slot_totals[k - 1] < protocol.min_spikes and retry < protocol.max_retries:
                retry += 1
            else:
                row, retry = row + 1, 0
        rows[k], retries[k] = row, retry
    last_done = not (slot_totals[-1] < protocol.min_spikes and retry < protocol.max_retries)
    return rows, retries, last_done


class PresentationNetwork:
    """Input, excitatory and inhibitory layers compiled for one mode and size.

    Parameters
    ----------
    model : ModelFile
        Validated model file.
    n_neurons : int
        Excitatory (and inhibitory) layer size.
    mode : str
        One of :attr:`MODES`; test-like modes use the file's frozen variants (no
        plasticity, constant theta).
    device_name : {'runtime', 'cpp_standalone'}
    chunk_slots : int
        Presentation slots simulated per Brian2 run.
    cache_dir : Path, optional
        Compiled-project cache.
    """

    #: mode -> (input->excitatory layer learns and theta adapts, output layer learns)
    MODES = {"train": (True, False), "test": (False, False)}
    #: name of the model (compiled-project keys)
    model_key = "presentation-network"

    def __init__(self, model, n_neurons, mode="train", device_name="runtime",
                 chunk_slots=200, cache_dir=None):
        check_mode_and_size(self.MODES, mode, n_neurons)
        self.model = model
        self.n_neurons = int(n_neurons)
        self.mode = mode
        self.hidden_plastic, self.output_plastic = self.MODES[mode]
        # nothing learns (label assignment, test): the file's test-time options act
        self.frozen = not (self.hidden_plastic or self.output_plastic)
        self.theta_test_spread = option_in_mode(model, "theta_test_spread", self.frozen)
        self.threshold_raise = option_in_mode(model, "threshold_raise_test",
                                              self._thresholds_raised())
        self.protocol = Protocol.from_model(model, frozen=self.frozen)
        # factor on the input rates and divisor of the input weights
        self.input_split = option_in_mode(model, "input_split_test", self.frozen)
        self.input_regular = option_in_mode(model, "input_regular_test", self.frozen) > 0
        self.chunk_slots = int(chunk_slots)
        self.device_name = device_name
        self.network = CompiledNetwork(
            self._build, duration=self.chunk_slots * self.protocol.slot_duration,
            dt=model["dt"], device_name=device_name,
            project_key=network_project_key(self.model_key, model, mode, self.n_neurons,
                                            self.chunk_slots),
            seed_variable=("input", "rng_seed"), cache_dir=cache_dir)
        self._order_checked = False

    # ------------------------------------------------------------------ building
    def column_sum_target(self):
        """Sum of the input weights into each excitatory neuron after normalisation."""
        return self.model["column_sum_target"]

    def _build(self):
        model, n = self.model, self.n_neurons
        plastic = self.hidden_plastic
        slot = self.protocol.slot_duration
        stimulus = TimedArray(np.zeros((self.chunk_slots, N_INPUT)), dt=1 * second,
                              name="stimulus")
        namespace = model.namespace
        namespace.update(
            stimulus=stimulus, stimulus_row=1 * second,
            # half a step below the edge so float rounding cannot move it
            presentation_window=(self.protocol.presentation_steps - 0.5) * model["dt"],
            spike_handling_delay=spike_handling_delay(model, self.device_name),
            input_split=self.input_split,
            first_slot_end=0 * second, column_sum_target=self.column_sum_target(),
            certain_spike_hazard=CERTAIN_SPIKE_HAZARD)

        inp = NeuronGroup(
            N_INPUT, model["input_eqs"] + PRESENTATION_STATE + POISSON_INPUT_STATE + """
            rng_seed : integer (shared)   # seeds this chunk's random numbers
            """,
            threshold=POISSON_INPUT_THRESHOLD,
            reset=(REGULAR_INPUT_RESET if self.input_regular else POISSON_INPUT_RESET)
            + (model["input_reset"] or ""),
            # not "exact": the budget's window factor depends on t
            method="exponential_euler", name="input", namespace=namespace)
        inp.run_regularly(PRESENTATION_DECISION + """
            rate = stimulus(sample_in_chunk * stimulus_row, i) * (max_input_rate + retries * rate_boost) * input_split
            """ + (REGULAR_INPUT_HAZARD if self.input_regular else POISSON_INPUT_HAZARD)
            + model["input_sample_start"], dt=slot, when="start",
            order=0, name="input_run_regularly_presentation")

        exc = NeuronGroup(
            n, (model["excitatory_eqs"] if plastic else model["excitatory_eqs_test"])
            + COLUMN_NORMALISATION_STATE,
            threshold=model["excitatory_threshold"],
            reset=model["excitatory_reset"] if plastic else model["excitatory_reset_test"],
            refractory=model["refractory_e"], method=model["integration_method"],
            name="excitatory", namespace=namespace)
        exc.v = model["v_rest_e"]
        exc.theta = model["theta_init"]
        inh = NeuronGroup(
            n, model["inhibitory_eqs"], threshold=model["inhibitory_threshold"],
            reset=model["inhibitory_reset"], refractory=model["refractory_i"],
            method=model["integration_method"], name="inhibitory", namespace=namespace)
        inh.v = model["v_rest_i"]

        delayed = input_delay_max(model) > 0
        input_exc = Synapses(
            inp, exc, input_synapse_field(model, "input_synapse_eqs") if plastic
            else model["input_synapse_eqs"],
            on_pre=input_synapse_field(model, "input_on_pre") if plastic
            else model["input_on_pre_test"],
            on_post=(input_synapse_field(model, "input_on_post") or None) if plastic else None,
            name="input_exc", namespace=namespace)
        input_exc.connect()
        if delayed:
            # one delay per synapse, set for each chunk from the run's state; this
            # placeholder spread makes the delay an array of the compiled project
            input_exc.delay = np.linspace(0, input_delay_max(model), N_INPUT * n) * second
        exc_inh = Synapses(exc, inh, on_pre=model["exc_inh_on_pre"], name="exc_inh",
                           namespace=namespace)
        exc_inh.connect(j="i")
        inh_exc = Synapses(inh, exc, on_pre=model["inh_exc_on_pre"], name="inh_exc",
                           namespace=namespace)
        inh_exc.connect(condition="i != j")
        # Every excitatory spike is counted by each input neuron's copy of the
        # presentation state (all 784 copies take the same decision).
        counter = Synapses(exc, inp, on_pre=COUNT_SPIKE, name="spike_counter",
                           namespace=namespace)
        counter.connect()

        # Slot start, in this order: reset state, sum each column, rescale it.
        sample_start = model["excitatory_sample_start"]
        if plastic:
            sample_start = (sample_start or "") + "\nw_total = 0"
            add_column_normalisation(input_exc, "column_sum_target", slot,
                                     input_synapse_field(model, "input_synapse_sample_start"),
                                     order=int(model.values.get("column_norm_order", 1)))
        if sample_start:
            exc.run_regularly(sample_start, dt=slot, when="start", order=-3,
                              name="excitatory_run_regularly_sample_start")
        if model["inhibitory_sample_start"]:
            inh.run_regularly(model["inhibitory_sample_start"], dt=slot, when="start",
                              order=-3, name="inhibitory_run_regularly_sample_start")
        spikes = SpikeMonitor(exc, name="excitatory_spikes")
        objects = {"input": inp, "excitatory": exc, "inhibitory": inh,
                   "input_exc": input_exc, "exc_inh": exc_inh, "inh_exc": inh_exc,
                   "spike_counter": counter, "excitatory_spikes": spikes,
                   "stimulus": stimulus}
        objects.update(self._build_more(objects, namespace))
        return objects

    def _build_more(self, objects, namespace):
        """Hook for subclasses: create further layers, return them by name."""
        return {}

    # ------------------------------------------------------------------ running
    @property
    def compile_seconds(self):
        return self.network.compile_seconds

    def _more_values(self, state, labels, initial_retries):
        """Hook: further ``{'object.variable': value}`` initial values of a chunk."""
        return {}

    def _more_tables(self, labels):
        """Hook: further ``{'timed_array': values}`` of a chunk."""
        return {}

    def _read_more(self, state):
        """Hook: copy further learned variables into ``state`` after a chunk."""

    def _outputs(self):
        """Hook: per-slot output-layer ``(spike counts, first-spike steps)``, or
        ``(None, None)`` without such a layer."""
        return None, None

    def _thresholds_raised(self):
        """Hook: whether ``threshold_raise_test`` acts in this mode (here: while
        nothing learns)."""
        return self.frozen

    def _thresholds(self, theta):
        """The adaptive thresholds to run with: as learned while anything learns;
        while nothing does, pulled towards their mean by ``theta_test_spread``; and
        raised by ``threshold_raise_test`` (volts) where :meth:`_thresholds_raised`."""
        theta = np.asarray(theta, dtype=float)
        if self.theta_test_spread != 1:
            theta = theta.mean() + self.theta_test_spread * (theta - theta.mean())
        return theta + self.threshold_raise  # + 0.0 leaves it bit for bit

    def run_chunk(self, state, intensities, initial_retries, seed, labels=None):
        """Present up to ``chunk_slots`` presentations of the given images.

        Parameters
        ----------
        state : dict
            ``weights`` (784 x N), ``theta`` (N, volts) and any further arrays of the
            model. Updated in place by the modes that learn.
        intensities : ndarray, shape (<= chunk_slots, 784)
            Pixel intensities in [0, 1], row 0 shown first (blank rows pad the end).
        initial_retries : int
            Repetition number of row 0 (a repeat carried over from the last chunk).
        seed : int
            Random seed of this chunk.
        labels : ndarray of int, optional
            Label of each row (used by models with a teacher).

        Returns
        -------
        ChunkResult
        """
        table = np.zeros((self.chunk_slots, N_INPUT))
        table[: len(intensities)] = normalise_intensity_sum(
            intensities, quantity_in(self.model.values.get("input_intensity_sum", 0), 1))
        first_budget = np.random.default_rng(seed)
        values = {
            # input_split times the spikes at 1/input_split the weight: the same drive
            "input_exc.w": np.asarray(state["weights"], dtype=float).ravel() / self.input_split,
            "excitatory.theta": self._thresholds(state["theta"]),
            "input.retries": float(initial_retries),
            "input.sample_in_chunk": 0.0,
            "input.slot_spikes": 0.0,
            "input.slot_start": 0.0,
            # each pixel's first budget (see POISSON_INPUT_STATE): Exp(1), or the
            # random phase U[0, 1) of a regular train
            "input.spike_budget": (first_budget.random(size=N_INPUT) if self.input_regular
                                   else first_budget.exponential(size=N_INPUT)),
        }
        if input_delay_max(self.model) > 0:
            if "input_delays" not in state:
                raise ValueError("the model file sets input_delay_max > 0 but this run's "
                                 "state has no input_delays (a run started without delays)")
            values["input_exc.delay"] = np.asarray(state["input_delays"], dtype=float).ravel()
        values.update(self._more_values(state, labels, initial_retries))
        tables = {"stimulus": table}
        tables.update(self._more_tables(labels))
        self.network.run(values, tables, seed)
        if not self._order_checked:
            check_synapse_order(self.network, "input_exc", N_INPUT, self.n_neurons)
            self._order_checked = True
        counts = self._slot_counts("excitatory_spikes", self.n_neurons)
        rows, retries, last_done = schedule_from_counts(counts.sum(axis=1), initial_retries,
                                                        self.protocol)
        network_row = self.network.get("input.sample_in_chunk")[0]
        if int(round(network_row)) != rows[-1]:
            raise RuntimeError(
                f"presentation schedule mismatch: the network is at row {network_row}, "
                f"the spike record implies row {rows[-1]}")
        completed = int(rows[-1]) + (1 if last_done else 0)
        next_retries = 0 if last_done else int(retries[-1]) + 1
        # the last slot of each completed row is its final presentation
        last_slot = np.searchsorted(rows, np.arange(completed), side="right") - 1
        if self.hidden_plastic:
            state["weights"] = self.network.get("input_exc.w").reshape(N_INPUT, self.n_neurons)
            state["theta"] = self.network.get("excitatory.theta")
        self._read_more(state)
        outputs, first_spikes = self._outputs()
        return ChunkResult(rows, retries, counts, completed, next_retries,
                           counts[last_slot],
                           None if outputs is None else outputs[last_slot],
                           final_first_spikes=(None if first_spikes is None
                                               else first_spikes[last_slot]))

    def _window_spikes(self, monitor):
        """``(slot, neuron, step from the slot's start)`` of the spikes in presentation windows."""
        neuron, step = self.network.spikes(monitor)
        slot = step // self.protocol.slot_steps
        offset = step - slot * self.protocol.slot_steps
        in_window = offset < self.protocol.presentation_steps
        return slot[in_window], neuron[in_window], offset[in_window]

    def _slot_counts(self, monitor, n, first_spikes=False):
        """Spikes of each neuron in each slot's presentation window.

        With ``first_spikes``, also the step (from the slot's start) of each
        neuron's first spike there, ``presentation_steps`` where it did not fire.
        """
        slot, neuron, offset = self._window_spikes(monitor)
        counts = np.zeros((self.chunk_slots, n), dtype=np.int32)
        np.add.at(counts, (slot, neuron), 1)
        if not first_spikes:
            return counts
        first = np.full((self.chunk_slots, n), self.protocol.presentation_steps, dtype=np.int32)
        np.minimum.at(first, (slot, neuron), offset)
        return counts, first

    def close(self):
        self.network.close()


#: State of a group whose incoming weights :func:`add_column_normalisation` rescales.
COLUMN_NORMALISATION_STATE = """
w_total : 1   # sum of the incoming weights, or of their squares (for normalisation)
w_scale : 1   # the factor every incoming weight is multiplied by
"""

#: ``column_norm_order`` -> (what a synapse adds to ``w_total_post``, the neuron's
#: scale factor): the weights sum to ``target`` (1) or their Euclidean norm is
#: ``target`` (2).
COLUMN_NORMS = {1: ("w", "{target} / w_total"),
                2: ("w * w", "{target} / sqrt(w_total)")}


def add_column_normalisation(synapses, target, slot, extra_code="", order=1):
    """Rescale the weights into every post-synaptic neuron to a norm of ``target``.

    Three ``run_regularly`` operations at each slot start, after the post-synaptic
    group's own slot-start code has zeroed ``w_total`` (order -3): the synapses add
    each weight (or its square) to ``w_total_post`` (order -2), the group computes
    ``w_scale = target / w_total`` (or ``target / sqrt(w_total)``, order -1), and
    the synapses multiply by ``w_scale_post`` (order 0). One division per neuron, not per synapse: the
    per-synapse division took 8% of the compiled Diehl & Cook 400 program (perf),
    and training ran 7% faster without it. The group needs
    :data:`COLUMN_NORMALISATION_STATE`. ``order`` (a key of :data:`COLUMN_NORMS`):
    1 rescales the weights' sum to ``target``, 2 their Euclidean norm.
    """
    name, group = synapses.name, synapses.target
    summand, scale = COLUMN_NORMS[order]
    synapses.run_regularly(f"w_total_post += {summand}\n" + (extra_code or ""), dt=slot,
                           when="start", order=-2, name=f"{name}_run_regularly_column_sum",
                           codeobj_class=synaptic_sum_codeobj_class())
    group.run_regularly(f"w_scale = {scale.format(target=target)}", dt=slot, when="start",
                        order=-1, name=f"{group.name}_run_regularly_{name}_scale")
    synapses.run_regularly("w = w * w_scale_post", dt=slot, when="start", order=0,
                           name=f"{name}_run_regularly_normalise")


def check_synapse_order(network, name, n_pre, n_post):
    """Weights are exchanged as flat arrays: insist on Brian2's row-major order."""
    i = network.get(f"{name}.i")
    j = network.get(f"{name}.j")
    if not (np.array_equal(i, np.repeat(np.arange(n_pre), n_post))
            and np.array_equal(j, np.tile(np.arange(n_post), n_pre))):
        raise RuntimeError(f"unexpected synapse order for {name} weights")
