"""Adaptive convolutional STDP network: built from ``models/adaptive_conv_stdp.py``.

Groups (in the order of one time step's ``groups`` slot):

``taps``
    one element per shared kernel weight (kernel, row, column): ``w``
    and the summed STDP change ``dw`` of the current batch;
``conv``
    convolution neurons (kernel, x, y); their ``current`` is the summed
    variable ``w_pre x pixel`` of the tap -> conv synapses, whose
    ``pixel`` is the input intensity under that tap at that position;
``conv_stats``
    one element: the largest convolution current of the last step
    (ATB threshold and ALIC inhibition), copied back into every neuron;
``pool``
    2 x 2 max pooling: at most one spike per unit and step;
``fc``
    fully connected voting layer (fc_train and test modes), with its own
    ``fc_stats`` maximum and all-to-all lateral inhibition.

A sample is shown for ``sample_steps`` steps; a ``run_regularly`` at each sample
start loads the next image from a TimedArray into the synapses' ``pixel`` and
resets the potentials. STB-STDP updates run every ``batch_samples`` samples (or
every step without STB) inside the network, so a chunk is one Brian2 run. Each
chunk is a whole number of batches plus one extra step, in which the last
batch's update is applied.

Modes (``MODES``): ``conv_train`` (only the convolution layer, learning),
``fc_train`` (kernels frozen, fully connected layer learning) and ``test``
(everything frozen; the answer is the fully connected spike counts, read out by
label assignment and voting as for Diehl & Cook).
"""

import logging
from dataclasses import dataclass

import numpy as np

from brian2 import NeuronGroup, SpikeMonitor, Synapses, TimedArray, ms, second
from .modelfile import (Field, ModelSpec, check_defined_variables, field_error,
                        find_model_file, load_model_file)
from .network import (COLUMN_NORMALISATION_STATE, ChunkResult, add_column_normalisation,
                      check_mode_and_size, check_synapse_order, quantity)
from .simulation import CompiledNetwork, network_project_key

__all__ = ["MODEL_FILE", "SPEC", "STATE_KEYS", "PHASE_STATE", "MODES", "ABLATION_STEPS",
           "Geometry", "load_model", "initial_state", "normalise_kernels", "convolve", "AdaptiveConvNetwork",
           "Network", "phases"]

MODEL_FILE = "adaptive_conv_stdp.py"

#: The running maximum is written by many synapses onto one neuron; Brian2 warns
#: that the result may depend on their order, which a maximum does not.
_MAX_STATEMENT = "running_max_post = clip(running_max_post, current_pre, inf)"


class _MaxOrderFilter(logging.Filter):
    def filter(self, record):
        message = record.getMessage()
        # (where current is a subexpression, Brian2 shows its definition first)
        return not (_MAX_STATEMENT in message
                    or "first line is: 'current_pre := " in message)


logging.getLogger("brian2.codegen.generators.base").addFilter(_MaxOrderFilter())
IMAGE_SIDE = 28

SWITCH = quantity(1, 0, 1, integer=True)
SPEC = ModelSpec(
    model_name="adaptive-conv-stdp",
    fields={
        "dt": quantity(ms, 0, None, low_exclusive=True),
        "integration_method": Field("method"),
        "sample_steps": quantity(1, 3, 100000, integer=True),
        "kernel_size": quantity(1, 1, IMAGE_SIDE, integer=True),
        "kernels": quantity(1, 1, 4096, integer=True),
        "pool_size": quantity(1, 1, IMAGE_SIDE, integer=True),
        "asf_on": SWITCH, "atb_on": SWITCH, "alic_on": SWITCH, "stb_on": SWITCH,
        "leak": quantity(1, 0, 1),
        "beta_thresh": quantity(1, 0, None, low_exclusive=True),
        "threshold_floor": quantity(1, 0, None, low_exclusive=True),
        "threshold_conv": quantity(1, 0, None, low_exclusive=True),
        "theta_init": quantity(1, 0, None, low_exclusive=True),
        "alpha_plus": quantity(1, 0, None),
        "gamma": quantity(1, 0, None, low_exclusive=True),
        "theta_decay": quantity(1, 0, 1),
        "asf_alpha_conv": quantity(1, 0, None, low_exclusive=True),
        "asf_beta_conv": quantity(1),
        "asf_alpha_fc": quantity(1, 0, None, low_exclusive=True),
        "asf_beta_fc": quantity(1),
        "current_floor": quantity(1, 0, None, low_exclusive=True),
        "alpha_inh": quantity(1, 0, None),
        "inhibition_conv": quantity(1, 0, None),
        "inhibition_fc": quantity(1, 0, None),
        "frozen_inhibition_fc": quantity(1, 0, 1),
        "a_plus": quantity(1, 0, None, low_exclusive=True),
        "x_offset": quantity(1, 0, None),
        "tau_plus": quantity(ms, 0, None, low_exclusive=True),
        "learning_rate_conv": quantity(1, 0, 100),
        "learning_rate_fc": quantity(1, 0, 100),
        "batch_samples": quantity(1, 1, 100000, integer=True),
        "fc_w_max": quantity(1, 0, None, low_exclusive=True),
        "fc_column_sum": quantity(1, 0, None, low_exclusive=True),
        "fc_column_norm_order": quantity(1, 1, 2, integer=True, optional=True),
        "w_init_max_fc": quantity(1, 0, None, low_exclusive=True),
        "conv_eqs": Field("equations"),
        "conv_threshold": Field("expression"),
        "conv_reset": Field("code"),
        "fc_eqs": Field("equations"),
        "fc_threshold": Field("expression"),
        "fc_reset": Field("code"),
        "fc_batch_update": Field("code"),
        "pool_eqs": Field("equations"),
        "pool_threshold": Field("expression"),
        "pool_reset": Field("code"),
        "conv_on_post": Field("code"),
        "tap_update": Field("code"),
        "tap_normalise": Field("code"),
        "fc_on_pre": Field("code"),
        "fc_on_post": Field("code"),
        "fc_synapse_update": Field("code"),
        "lateral_on_pre": Field("code"),
    },
    builder_identifiers={"current", "layer_max", "integrating", "learning_on", "pixel",
                         "w", "dw", "elig", "kernel_mean", "kernel_square_mean",
                         "taps_per_kernel", "rng_seed", "w_total", "w_scale"},
)

#: Arrays a run keeps between chunks (and in checkpoints): the kernels (kernels,
#: kernel_size, kernel_size), the fully connected weights (features, neurons) and
#: the adaptive part of the fully connected thresholds.
STATE_KEYS = ("kernels", "fc_weights", "theta_plus")
#: The state each training phase learns (:func:`bioplastic.rerun.retrain` draws it
#: afresh to train a layer again on the layers before it).
PHASE_STATE = {"train_conv": ("kernels",), "train_fc": ("fc_weights", "theta_plus")}

#: The paper's ablation (Fig. 5), one module added at a time: ``(name, switches)``
#: with the model-file switches of each step; the last step is the default model.
ABLATION_STEPS = (("stdp-only", dict(asf_on=0, atb_on=0, alic_on=0, stb_on=0)),
                  ("asf", dict(asf_on=1, atb_on=0, alic_on=0, stb_on=0)),
                  ("asf-atb", dict(asf_on=1, atb_on=1, alic_on=0, stb_on=0)),
                  ("asf-atb-alic", dict(asf_on=1, atb_on=1, alic_on=1, stb_on=0)),
                  ("asf-atb-alic-stb", dict(asf_on=1, atb_on=1, alic_on=1, stb_on=1)))

#: mode -> (convolution learns, fully connected layer present, it learns)
MODES = {"conv_train": (True, False, False), "fc_train": (False, True, True),
         "test": (False, True, False)}

#: Variables the builder and the synapse code rely on, by equations field.
REQUIRED_VARIABLES = {"conv_eqs": ("u", "threshold", "inhibition"),
                      "fc_eqs": ("u", "current", "incoming", "input_current", "threshold",
                                 "inhibition", "theta_plus", "batch_spikes"),
                      "pool_eqs": ("hits", "trace")}


@dataclass(frozen=True)
class Geometry:
    """Sizes of the layers for a kernel size, kernel count and pooling window."""

    kernel_size: int
    kernels: int
    pool_size: int

    @classmethod
    def from_model(cls, model):
        return cls(int(model["kernel_size"]), int(model["kernels"]), int(model["pool_size"]))

    @property
    def taps_per_kernel(self):
        return self.kernel_size ** 2

    @property
    def conv_side(self):
        return IMAGE_SIDE - self.kernel_size + 1

    @property
    def pool_side(self):
        return self.conv_side // self.pool_size

    @property
    def n_taps(self):
        return self.kernels * self.taps_per_kernel

    @property
    def n_conv(self):
        return self.kernels * self.conv_side ** 2

    @property
    def n_features(self):
        """Pooled units, the inputs of the fully connected layer."""
        return self.kernels * self.pool_side ** 2

    def tap_synapses(self):
        """``(tap, conv neuron, pixel)`` of every tap -> convolution synapse.

        Tap (c, a, b) = c k^2 + a k + b; neuron (c, x, y) = c S^2 + x S + y with S the
        convolution side; pixel (x + a, y + b) of the 28 x 28 image, row-major.
        """
        k, side = self.kernel_size, self.conv_side
        c, a, b, x, y = np.meshgrid(np.arange(self.kernels), np.arange(k), np.arange(k),
                                    np.arange(side), np.arange(side), indexing="ij")
        tap = (c * k + a) * k + b
        neuron = (c * side + x) * side + y
        pixel = (x + a) * IMAGE_SIDE + (y + b)
        return tap.ravel(), neuron.ravel(), pixel.ravel()

    def pool_synapses(self):
        """``(conv neuron, pooled unit)`` of every neuron inside a pooling window."""
        side, pool, pside = self.conv_side, self.pool_size, self.pool_side
        c, x, y = np.meshgrid(np.arange(self.kernels), np.arange(pside * pool),
                              np.arange(pside * pool), indexing="ij")
        neuron = (c * side + x) * side + y
        unit = (c * pside + x // pool) * pside + y // pool
        return neuron.ravel(), unit.ravel()

    def lateral_synapses(self):
        """``(source, target)``: convolution neurons at one position, other kernels."""
        positions = self.conv_side ** 2
        source, target = np.meshgrid(np.arange(self.kernels), np.arange(self.kernels),
                                     indexing="ij")
        keep = source != target
        source, target = source[keep], target[keep]
        offset = np.arange(positions)
        return ((source[:, None] * positions + offset).ravel(),
                (target[:, None] * positions + offset).ravel())

    def kernel_pairs(self):
        """``(tap, tap)`` pairs within each kernel (for the kernel means)."""
        t = self.taps_per_kernel
        kernel = np.arange(self.n_taps) // t
        source = np.repeat(np.arange(self.n_taps), t)
        target = kernel[source] * t + np.tile(np.arange(t), self.n_taps)
        return source, target


def load_model(path=None, overrides=None):
    """Load and validate an adaptive convolutional STDP model file."""
    model = load_model_file(path or find_model_file(MODEL_FILE), SPEC, overrides)
    geometry = Geometry.from_model(model)
    if geometry.pool_side < 1:
        raise field_error(model, "pool_size", f"pooling window {geometry.pool_size} is "
                          f"larger than the convolution output ({geometry.conv_side} x "
                          f"{geometry.conv_side})")
    check_defined_variables(model, REQUIRED_VARIABLES,
                            "the builder or the synapse code uses it")
    return model


def normalise_kernels(kernels):
    """Each kernel to zero mean and unit L2 norm (eq. 11, A_conv = 1)."""
    kernels = np.asarray(kernels, dtype=float)
    flat = kernels.reshape(len(kernels), -1)
    centred = flat - flat.mean(axis=1, keepdims=True)
    norm = np.sqrt(np.maximum(np.sum(centred ** 2, axis=1, keepdims=True), 1e-12))
    return (centred / norm).reshape(kernels.shape)


def convolve(images, kernels):
    """Input currents of the convolution layer: valid cross-correlation.

    ``images`` (n, 28, 28) or (28, 28), ``kernels`` (K, k, k) -> (n, K, S, S).
    """
    from scipy.signal import correlate2d
    images = np.asarray(images, dtype=float)
    single = images.ndim == 2
    images = images[None] if single else images
    out = np.array([[correlate2d(image, kernel, mode="valid") for kernel in kernels]
                    for image in images])
    return out[0] if single else out


def initial_state(model, n_neurons, rng, options=None):
    """Kernels ~ U(0, 1) then normalised; fully connected weights ~ U(0, w_init_max_fc)."""
    geometry = Geometry.from_model(model)
    k = geometry.kernel_size
    return {
        "kernels": normalise_kernels(rng.uniform(0, 1, (geometry.kernels, k, k))),
        "fc_weights": rng.uniform(0, float(model["w_init_max_fc"]),
                                  (geometry.n_features, int(n_neurons))),
        "theta_plus": np.zeros(int(n_neurons)),
    }


def phases(config):
    """Layer-wise training (kernels, then fully connected), assignment and test."""
    from .training import Phase
    return (Phase("train_conv", "conv_train", "train"), Phase("train_fc", "fc_train", "train"),
            Phase("assign", "test", "assign"), Phase("test", "test", "test"))


class AdaptiveConvNetwork:
    """The network compiled for one mode and fully connected size.

    Parameters
    ----------
    model : ModelFile
    n_neurons : int
        Neurons of the fully connected voting layer.
    mode : {'conv_train', 'fc_train', 'test'}
    device_name : {'runtime', 'cpp_standalone'}
    chunk_slots : int
        Samples per Brian2 run, rounded up to a whole number of batches.
    cache_dir : Path, optional
    record_conv : bool
        Record the convolution layer's spikes (:meth:`conv_counts`).
    """

    model_key = "adaptive-conv-stdp"

    def __init__(self, model, n_neurons, mode="conv_train", device_name="runtime",
                 chunk_slots=100, cache_dir=None, record_conv=False):
        check_mode_and_size(MODES, mode, n_neurons)
        self.record_conv = bool(record_conv)
        self.model = model
        self.n_neurons = int(n_neurons)
        self.mode = mode
        self.conv_learns, self.has_fc, self.fc_learns = MODES[mode]
        self.geometry = Geometry.from_model(model)
        self.sample_steps = int(model["sample_steps"])
        self.stb = bool(int(model["stb_on"]))
        batch = int(model["batch_samples"]) if self.stb else 1
        self.chunk_slots = -(-int(chunk_slots) // batch) * batch
        # batch period in steps: batch_samples whole samples, or every step without STB
        self.batch_steps = batch * self.sample_steps if self.stb else 1
        self.dt = model["dt"]
        steps = self.chunk_slots * self.sample_steps + 1
        self.network = CompiledNetwork(
            self._build, duration=steps * self.dt, dt=self.dt, device_name=device_name,
            project_key=network_project_key(self.model_key, model, mode, self.n_neurons,
                                            self.chunk_slots, self.record_conv),
            seed_variable=("conv_stats", "rng_seed"), cache_dir=cache_dir)
        self._order_checked = False

    @property
    def compile_seconds(self):
        return self.network.compile_seconds

    # ------------------------------------------------------------------ building
    def _build(self):
        model, geometry = self.model, self.geometry
        method = model["integration_method"]
        sample_duration = self.sample_steps * self.dt
        batch_period = self.batch_steps * self.dt
        samples = TimedArray(np.zeros((self.chunk_slots, IMAGE_SIDE ** 2)), dt=1 * second,
                             name="samples")
        sample_flags = TimedArray(np.zeros(self.chunk_slots), dt=1 * second,
                                  name="sample_flags")
        namespace = model.namespace
        namespace.update(samples=samples, sample_flags=sample_flags, sample_row=1 * second,
                         sample_duration=sample_duration,
                         taps_per_kernel=geometry.taps_per_kernel,
                         last_row=self.chunk_slots - 1)
        # the extra step after the last sample keeps the last row (clip)
        row = "clip(floor(t / sample_duration + 0.5), 0, last_row) * sample_row"
        # neurons integrate from a sample's second step on (the maxima lag one step)
        timing = """
        step = floor(t / dt + 0.5) : 1
        integrating = int(step - sample_steps * floor(step / sample_steps) >= 0.5) : 1
        learning_on : 1 (shared)      # 1 while this sample teaches the layer
        layer_max : 1                 # largest current of the layer, previous step
        """
        flags = f"learning_on = {int(self.conv_learns)} * sample_flags({row})\n"
        objects = {"samples": samples, "sample_flags": sample_flags}

        taps = NeuronGroup(geometry.n_taps, """
            w : 1                         # shared kernel weight
            dw : 1                        # summed STDP change of this batch
            kernel_mean : 1               # mean weight of this tap's kernel
            kernel_square_mean : 1        # mean squared weight of this tap's kernel
            """, method=method, order=-20, name="taps", namespace=namespace)
        conv = NeuronGroup(
            geometry.n_conv, model["conv_eqs"] + timing + "current : 1",
            threshold=model["conv_threshold"], reset=model["conv_reset"], method=method,
            order=0, name="conv", namespace=namespace)
        conv.run_regularly(flags + "u = 0\n", dt=sample_duration, when="start", order=-10,
                           name="conv_run_regularly_sample_start")
        tap_source, conv_target, pixel_index = geometry.tap_synapses()
        tap_conv = Synapses(
            taps, conv, """
            pixel_index : integer (constant)  # input pixel under this tap here
            pixel : 1                         # its intensity in this sample
            current_post = w_pre * pixel : 1 (summed)
            """, on_post=model["conv_on_post"] if self.conv_learns else None,
            method=method, name="tap_conv", namespace=namespace)
        tap_conv.connect(i=tap_source, j=conv_target)
        tap_conv.pixel_index = pixel_index
        tap_conv.run_regularly(f"pixel = samples({row}, pixel_index)", dt=sample_duration,
                               when="start", order=-10, name="tap_conv_run_regularly_sample_start")
        objects.update(taps=taps, conv=conv, tap_conv=tap_conv)
        if self.conv_learns:
            source, target = geometry.kernel_pairs()
            kernel_stats = Synapses(taps, taps, """
                kernel_mean_post = w_pre / taps_per_kernel : 1 (summed)
                kernel_square_mean_post = w_pre ** 2 / taps_per_kernel : 1 (summed)
                """, name="kernel_stats", namespace=namespace)
            kernel_stats.connect(i=source, j=target)
            taps.run_regularly(model["tap_update"], dt=batch_period, when="start", order=0,
                               name="taps_run_regularly_update")
            # after the kernel means (summed at order -21), before the conv current
            taps.run_regularly(model["tap_normalise"], dt=batch_period, when="groups",
                               order=-19, name="taps_run_regularly_normalise")
            objects["kernel_stats"] = kernel_stats
        objects.update(self._layer_max(conv, "conv", namespace, pools=geometry.kernels))
        lateral_source, lateral_target = geometry.lateral_synapses()
        conv_lateral = Synapses(conv, conv, on_pre=model["lateral_on_pre"], method=method,
                                name="conv_lateral", namespace=namespace)
        conv_lateral.connect(i=lateral_source, j=lateral_target)
        objects["conv_lateral"] = conv_lateral
        if self.record_conv:
            objects["conv_spikes"] = SpikeMonitor(conv, name="conv_spikes")
        if self.has_fc:
            objects.update(self._build_fc(conv, namespace, timing, row, batch_period))
        return objects

    def _layer_max(self, group, prefix, namespace, pools=1):
        """A group that keeps the largest ``current`` of each pool of neurons.

        Neuron n belongs to pool ``n * pools // len(group)`` (the convolution layer
        has one pool per kernel, the fully connected layer one in all). Every step
        each neuron reports its current after it was summed (synaptic
        ``run_regularly`` in the ``thresholds`` slot); at the step's end the running
        maximum becomes ``stats_max``, which a summed variable copies back into the
        neurons' ``layer_max`` at the next step.
        """
        stats = NeuronGroup(pools, """
            running_max : 1               # largest current reported in this step
            stats_max : 1                 # largest current of the last full step
            rng_seed : integer (shared)   # seeds this chunk's random numbers
            """, name=f"{prefix}_stats", namespace=namespace)
        stats.running_max = -np.inf
        stats.run_regularly("stats_max = running_max\nrunning_max = -inf", when="end",
                            name=f"{prefix}_stats_run_regularly_end")
        members = np.arange(len(group))
        pool_of = members * pools // len(group)
        report = Synapses(group, stats, name=f"{prefix}_report", namespace=namespace)
        report.connect(i=members, j=pool_of)
        report.run_regularly(_MAX_STATEMENT, when="thresholds", order=-1,
                             name=f"{prefix}_report_run_regularly_max")
        broadcast = Synapses(stats, group, "layer_max_post = stats_max_pre : 1 (summed)",
                             name=f"{prefix}_broadcast", namespace=namespace)
        broadcast.connect(i=pool_of, j=members)
        return {stats.name: stats, report.name: report, broadcast.name: broadcast}

    def _build_fc(self, conv, namespace, timing, row, batch_period):
        model, geometry = self.model, self.geometry
        method = model["integration_method"]
        sample_duration = self.sample_steps * self.dt
        pool = NeuronGroup(geometry.n_features, model["pool_eqs"],
                           threshold=model["pool_threshold"], reset=model["pool_reset"],
                           method=method, order=1, name="pool", namespace=namespace)
        pool.run_regularly("hits = 0\npooled = 0\ntrace = 0", dt=sample_duration,
                           when="start", order=-10, name="pool_run_regularly_sample_start")
        conv_neuron, pooled_unit = geometry.pool_synapses()
        conv_pool = Synapses(conv, pool, on_pre="hits_post += 1", name="conv_pool",
                             namespace=namespace)
        conv_pool.connect(i=conv_neuron, j=pooled_unit)
        fc = NeuronGroup(
            self.n_neurons, model["fc_eqs"] + timing + COLUMN_NORMALISATION_STATE,
            threshold=model["fc_threshold"], reset=model["fc_reset"], method=method,
            order=2, name="fc", namespace=namespace)
        fc_flags = f"learning_on = {int(self.fc_learns)} * sample_flags({row})\n"
        fc.run_regularly(fc_flags + "u = 0\ninput_current = 0\nincoming = 0\n",
                         dt=sample_duration, when="start", order=-10, name="fc_run_regularly_sample_start")
        learns = self.fc_learns
        pool_fc = Synapses(
            pool, fc, "w : 1\nelig : 1" if learns else "w : 1",
            on_pre=model["fc_on_pre"], on_post=model["fc_on_post"] if learns else None,
            method=method, name="pool_fc", namespace=namespace)
        pool_fc.connect()
        objects = {"pool": pool, "conv_pool": conv_pool, "fc": fc, "pool_fc": pool_fc}
        if learns:
            fc.run_regularly(model["fc_batch_update"] + "w_total = 0\n", dt=batch_period,
                             when="start", order=-4, name="fc_run_regularly_batch")
            pool_fc.run_regularly(model["fc_synapse_update"], dt=batch_period, when="start",
                                  order=-3, name="pool_fc_run_regularly_update")
            add_column_normalisation(pool_fc, "fc_column_sum", batch_period,
                                     order=int(model.values.get("fc_column_norm_order", 1)))
        objects.update(self._layer_max(fc, "fc", namespace))
        fc_lateral = Synapses(fc, fc, on_pre=model["lateral_on_pre"], method=method,
                              name="fc_lateral", namespace=namespace)
        fc_lateral.connect(condition="i != j")
        objects["fc_lateral"] = fc_lateral
        objects["fc_spikes"] = SpikeMonitor(fc, name="fc_spikes")
        return objects

    # ------------------------------------------------------------------ running
    def run_chunk(self, state, intensities, initial_retries=0, seed=0, labels=None):
        """Show up to ``chunk_slots`` images (one Brian2 run).

        Parameters
        ----------
        state : dict
            Arrays of :data:`STATE_KEYS`, updated in place by the learning layer.
        intensities : ndarray, shape (n, 784)
            Pixel intensities in [0, 1] (the input currents).
        initial_retries : int
            Unused (images are never repeated in this model).
        seed : int
            Random seed of the chunk (the model itself draws no random numbers).
        labels : ndarray, optional
            Unused (the network is unsupervised).

        Returns
        -------
        ChunkResult
            ``final_counts``: spikes of every fully connected neuron for each image
            (None in conv_train mode, which has no such layer).
        """
        intensities = np.asarray(intensities, dtype=float)
        n = len(intensities)
        if n > self.chunk_slots:
            raise ValueError(f"{n} samples given, the network holds {self.chunk_slots}")
        if intensities.shape[1:] != (IMAGE_SIDE ** 2,):
            raise ValueError(f"images must have {IMAGE_SIDE ** 2} pixels, got shape "
                             f"{intensities.shape}")
        table = np.zeros((self.chunk_slots, IMAGE_SIDE ** 2))
        table[:n] = intensities
        flags = np.zeros(self.chunk_slots)
        flags[:n] = 1.0
        values = {"taps.w": np.asarray(state["kernels"], dtype=float).ravel()}
        if self.has_fc:
            values["pool_fc.w"] = np.asarray(state["fc_weights"], dtype=float).ravel()
            values["fc.theta_plus"] = np.asarray(state["theta_plus"], dtype=float)
        self.network.run(values, {"samples": table, "sample_flags": flags}, seed)
        if self.has_fc and not self._order_checked:
            # the weights travel as a flat (features x neurons) array
            check_synapse_order(self.network, "pool_fc", self.geometry.n_features,
                                self.n_neurons)
            self._order_checked = True
        counts = None
        if self.conv_learns:
            state["kernels"] = self.network.get("taps.w").reshape(np.shape(state["kernels"]))
        if self.has_fc:
            if self.fc_learns:
                state["fc_weights"] = self.network.get("pool_fc.w").reshape(
                    self.geometry.n_features, self.n_neurons)
                state["theta_plus"] = self.network.get("fc.theta_plus")
            counts = self._counts_per_sample("fc_spikes", n, self.n_neurons)
        return ChunkResult(np.arange(n), np.zeros(n, dtype=int), counts, n, 0, counts)

    def _counts_per_sample(self, monitor, n, size):
        """Spikes of each neuron in each of the chunk's first ``n`` samples."""
        neurons, steps = self.network.spikes(monitor)
        sample = steps // self.sample_steps
        keep = sample < n  # the extra last step belongs to no sample
        counts = np.zeros((n, size), dtype=np.int64)
        np.add.at(counts, (sample[keep], neurons[keep]), 1)
        return counts

    def conv_counts(self, n):
        """Convolution spikes of the last chunk, shape (n, kernels, side, side)."""
        if not self.record_conv:
            raise ValueError("build the network with record_conv=True to count conv spikes")
        counts = self._counts_per_sample("conv_spikes", n, self.geometry.n_conv)
        side = self.geometry.conv_side
        return counts.reshape(n, self.geometry.kernels, side, side)

    def get(self, key):
        """Current value of ``'object.variable'`` after the last chunk."""
        return self.network.get(key)

    def close(self):
        self.network.close()


#: The network class the training loop uses for this model.
Network = AdaptiveConvNetwork
