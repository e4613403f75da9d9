"""Training and evaluation loops with atomic checkpoints and resume.

A run lives in one output folder. It goes through the phases its model lists
(:func:`phases_of`), each a sequence of chunks (one Brian2 run each). For the
Diehl & Cook model:

``train``   plastic network on the training images (``epochs`` x ``train_samples``);
``assign``  frozen network on ``assign_samples`` training images: label assignment;
``test``    frozen network on ``test_samples`` test images: accuracy.

With ``test_split='validation'`` the test phase scores the last ``test_samples``
training images instead, which training and assignment then never see.

Models with more training stages (sym-STDP's layer-by-layer schedule) list several
training phases, each with its own network mode.

After every chunk the whole state (weights, thresholds, spike counts so far, the
position in the phase and a repetition carried over to the next chunk) is written to
``checkpoint.npz`` atomically. Starting the same command again continues from there;
nothing already simulated is lost or repeated. Each chunk's random seed is derived
from ``(seed, phase, chunk index)``, so a resumed run equals an uninterrupted one on
the same device. While it runs, a process holds the folder's ``run.lock``; a second
process asked to run in the same folder is refused instead of overwriting the
first one's checkpoints.
"""

import json
import logging
import os
import platform
import shutil
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from pathlib import Path

import numpy as np

from . import evaluation
from .atomicfile import owned_folder, write_text_atomically
from .checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from .datasets import load_dataset
from .devices import default_device
from .equivalence import equations_equivalent
from .modelfile import parse_quantity

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Phase:
    """One stage of a run.

    Attributes
    ----------
    name : str
        Key in the checkpoint's progress record.
    mode : str
        Network mode (see the model's ``Network.MODES``).
    kind : {'train', 'assign', 'test'}
        Which images it shows: the training set ``epochs`` times, the first
        ``assign_samples`` training images, or the first ``test_samples`` test images.
    """

    name: str
    mode: str
    kind: str


DEFAULT_PHASES = (Phase("train", "train", "train"), Phase("assign", "test", "assign"),
                  Phase("test", "test", "test"))


def phases_of(module, config):
    """The phases of a run of ``config`` (the model module may define its own)."""
    if hasattr(module, "phases"):
        return tuple(module.phases(config))
    return DEFAULT_PHASES


CHECKPOINT = "checkpoint.npz"
#: held by the process that runs in a folder (see ``Run.run``)
LOCK = "run.lock"
RESULTS = "results.json"
#: what a run's test phase may score (see ``RunConfig.test_split``)
TEST_SPLITS = ("test", "validation")
#: images in the training split of MNIST and Fashion-MNIST
TRAINING_IMAGES = 60000

try:  # progress bars are a convenience, not a requirement
    from tqdm.auto import tqdm
except ImportError:  # pragma: no cover
    tqdm = None


@dataclass
class RunConfig:
    """Everything that defines a run (stored in its checkpoint).

    Parameters
    ----------
    model : str
        Model name (``'diehl-cook'`` or ``'sym-stdp'``).
    n_neurons : int
        Excitatory (hidden) layer size.
    dataset : {'mnist', 'fashion-mnist'}
    train_samples : int
        Training images per epoch (the first ones of the training set).
    epochs : int
    assign_samples : int
        Training images shown to the frozen network for label assignment.
    test_samples : int
        Test images (the first ones of the test set).
    device : {'runtime', 'cpp_standalone', 'genn', 'cuda_standalone'}
        Default: ``cpp_standalone``, or ``runtime`` on Brian2 < 2.6 (the GeNN stack).
    seed : int
        Seeds the initial weights and every chunk's random numbers.
    chunk_slots : int
        Presentations per Brian2 run. A run whose phases are all shorter uses the
        length of its longest phase instead (a chunk simulates all its slots).
    curve_window : int
        Training samples per point of the accuracy-vs-samples curve.
    vote : {'all', 'proportion'}
        Voting used for the headline accuracy (both are reported).
    model_file : str or None
        Path of an edited model file (default: the shipped one).
    overrides : dict
        ``{parameter: 'value with units'}`` applied on top of the model file.
    data_dir : str or None
        Where the data files are (see :mod:`bioplastic.datasets`).
    schedule : str or None
        Training schedule of models that have several (sym-STDP: ``'simultaneous'``
        or ``'layer-by-layer'``); None for the others.
    balanced : bool
        Few-shot training: ``train_samples`` images drawn at random (with ``seed``)
        with the same number from every class, instead of the first ones; label
        assignment then uses the same images (the only labelled ones), and
        ``assign_samples`` is ignored.
    test_split : {'test', 'validation'}
        What the test phase scores: the first ``test_samples`` images of the test
        set, or (to choose settings without looking at the test set) the last
        ``test_samples`` images of the training set, a validation split. Training
        and label assignment must then stop short of it; a balanced draw is made
        from the images before it.
    """

    model: str = "diehl-cook"
    n_neurons: int = 100
    dataset: str = "mnist"
    train_samples: int = 60000
    epochs: int = 1
    assign_samples: int = 10000
    test_samples: int = 10000
    device: str = field(default_factory=default_device)
    seed: int = 1
    chunk_slots: int = 500
    curve_window: int = 10000
    vote: str = "all"
    model_file: str = None
    overrides: dict = field(default_factory=dict)
    data_dir: str = None
    schedule: str = None
    balanced: bool = False
    test_split: str = "test"

    # fields that may differ between the original command and a resumed one
    _RESUMABLE = ("device", "data_dir", "chunk_slots")

    def validate(self):
        """Raise ValueError naming the first bad field."""
        from .datasets import DATASETS
        from .devices import check_device
        positive = ("n_neurons", "train_samples", "epochs", "chunk_slots", "curve_window")
        for name in positive:
            if int(getattr(self, name)) < 1:
                raise ValueError(f"{name} must be a positive integer, got {getattr(self, name)}")
        for name in ("assign_samples", "test_samples"):
            if int(getattr(self, name)) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")
        if self.dataset not in DATASETS:
            raise ValueError(f"dataset must be one of {', '.join(DATASETS)}, got '{self.dataset}'")
        if self.vote not in evaluation.VOTES:
            raise ValueError(f"vote must be one of {', '.join(evaluation.VOTES)}, got '{self.vote}'")
        if self.model not in MODELS:
            raise ValueError(f"unknown model '{self.model}': expected one of {', '.join(MODELS)}")
        check_device(self.device)
        module = MODELS[self.model]()
        if self.schedule is None:
            self.schedule = getattr(module, "DEFAULT_SCHEDULE", None)
        schedules = getattr(module, "SCHEDULES", (None,))
        if schedules == (None,) and self.schedule is not None:
            raise ValueError(f"model '{self.model}' has one training schedule; leave out "
                             f"schedule (got '{self.schedule}')")
        if self.schedule not in schedules:
            expected = ", ".join(str(s) for s in schedules)
            raise ValueError(f"schedule must be one of {expected} for model '{self.model}', "
                             f"got '{self.schedule}'")
        if self.balanced and int(self.train_samples) % 10:
            raise ValueError(f"balanced (few-shot) training needs train_samples divisible by "
                             f"the 10 classes, got {self.train_samples}")
        limits = {"train_samples": TRAINING_IMAGES, "assign_samples": TRAINING_IMAGES,
                  "test_samples": 10000}
        for name, limit in limits.items():
            if int(getattr(self, name)) > limit:
                raise ValueError(f"{name} = {getattr(self, name)} exceeds the {limit} images "
                                 f"of the {self.dataset} split")
        if self.test_split not in TEST_SPLITS:
            raise ValueError(f"test_split must be one of {', '.join(TEST_SPLITS)}, "
                             f"got '{self.test_split}'")
        if self.test_split == "validation":
            first = first_validation_image(self)
            # a balanced run assigns labels with its training images (see _phase_data)
            checked = ("train_samples",) if self.balanced else ("train_samples",
                                                                "assign_samples")
            for name in checked:
                if int(getattr(self, name)) > first:
                    raise ValueError(
                        f"{name} = {getattr(self, name)} overlaps the validation split "
                        f"(training images {first}-{TRAINING_IMAGES - 1}, test_samples = "
                        f"{self.test_samples}): expected at most {first}")
        return self

    def to_dict(self):
        return {f.name: getattr(self, f.name) for f in fields(self)}


def _diehl_cook():
    from . import diehl_cook
    return diehl_cook


def _sym_stdp():
    from . import sym_stdp
    return sym_stdp


def _mstdp():
    from . import mstdp
    return mstdp


def _adaptive_conv():
    from . import adaptive_conv
    return adaptive_conv


MODELS = {"diehl-cook": _diehl_cook, "sym-stdp": _sym_stdp, "mstdp": _mstdp,
          "adaptive-conv": _adaptive_conv}


def machine_info():
    """A short description of this machine and the software versions."""
    import brian2
    cpu = platform.processor() or platform.machine()
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    info = {"cpu": cpu, "cores": os.cpu_count(), "platform": platform.platform(),
            "python": platform.python_version(), "brian2": brian2.__version__,
            "numpy": np.__version__}
    gpus = _nvidia_gpus()
    if gpus:
        info["gpu"] = gpus
    return info


def _nvidia_gpus():
    """Names and driver versions of the NVIDIA GPUs here, or ``None`` (no driver)."""
    if shutil.which("nvidia-smi") is None:
        return None
    try:  # a driver in a bad state can make nvidia-smi hang or fail
        query = subprocess.run(["nvidia-smi", "--query-gpu=name,memory.total,driver_version",
                                "--format=csv,noheader"], capture_output=True, text=True,
                               timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return None
    lines = [line.strip() for line in query.stdout.splitlines() if line.strip()]
    return "; ".join(lines) if query.returncode == 0 and lines else None


def balanced_subset(labels, size, seed, classes=10):
    """Indices of ``size`` images, ``size / classes`` of each class, drawn with ``seed``.

    The draw is sorted by index, so that the classes are interleaved as in the
    training set.
    """
    labels = np.asarray(labels)
    per_class = int(size) // classes
    rng = np.random.default_rng([int(seed), 7919])
    chosen = []
    for label in range(classes):
        members = np.flatnonzero(labels == label)
        if len(members) < per_class:
            raise ValueError(f"class {label} has {len(members)} images, {per_class} wanted")
        chosen.append(rng.choice(members, per_class, replace=False))
    return np.sort(np.concatenate(chosen))


def first_validation_image(config):
    """Index of the first training image of ``config``'s validation split (60,000
    when it scores the test set)."""
    if config.test_split == "validation":
        return TRAINING_IMAGES - int(config.test_samples)
    return TRAINING_IMAGES


def balanced_draw(config, labels):
    """Training-set indices of a balanced (few-shot) run's images.

    With a validation split they are drawn from the images before it only.
    """
    return balanced_subset(labels[:first_validation_image(config)], config.train_samples,
                           config.seed)


def chunk_seed(seed, phase_index, chunk):
    """Seed of one chunk, derived from (seed, phase, chunk index)."""
    return int(np.random.SeedSequence([int(seed), int(phase_index), int(chunk)])
               .generate_state(1)[0])


class Run:
    """One training/evaluation run in an output folder (resumable).

    Parameters
    ----------
    config : RunConfig
    out_dir : str or Path
    progress : bool
        Show progress bars (tqdm) on stderr.
    """

    def __init__(self, config, out_dir, progress=True):
        self.config = config.validate()
        self.out_dir = Path(out_dir)
        self.progress = progress and tqdm is not None
        self.module = MODELS[config.model]()
        self.model = self.module.load_model(config.model_file, config.overrides)
        self.phases = phases_of(self.module, self.config)
        self.phase_names = tuple(p.name for p in self.phases)
        self.arrays, self.meta = {}, {}
        self._datasets = {}
        self._load_or_start()

    # ----------------------------------------------------------- checkpointing
    @property
    def checkpoint_path(self):
        return self.out_dir / CHECKPOINT

    def _load_or_start(self):
        if self.checkpoint_path.exists():
            self.arrays, self.meta = load_checkpoint(self.checkpoint_path)
            stored = self.meta["config"]
            defaults = {f.name: f.default for f in fields(RunConfig)}
            for name, value in self.config.to_dict().items():
                if name in RunConfig._RESUMABLE:
                    continue
                # fields added after a run started take their default
                if stored.get(name, defaults.get(name)) != value:
                    raise CheckpointError(
                        f"{self.checkpoint_path}: it was made with {name}={stored.get(name)!r},"
                        f" this command asks for {name}={value!r}; use another --out folder "
                        "or the same settings to resume")
            changed = self._changed_model_fields()
            if changed:
                raise CheckpointError(
                    f"{self.checkpoint_path}: the model file changed since this run started "
                    f"(fields {', '.join(changed)}); use another --out folder")
            # a field added to the model file since then is stored from now on
            self.meta["model_values"] = self.model.fingerprint()
            logger.info("resuming from %s", self.checkpoint_path)
            return
        rng = np.random.default_rng(self.config.seed)
        self.arrays = dict(self.module.initial_state(self.model, self.config.n_neurons, rng))
        self.meta = {
            "config": self.config.to_dict(),
            "model_file": str(self.model.path),
            "model_header": self.model.header,
            "model_values": self.model.fingerprint(),
            "progress": {phase: {"position": 0, "retries": 0, "chunk": 0, "done": False,
                                 "seconds": 0.0, "slots": 0}
                         for phase in self.phase_names},
            "curve": [],
            "compile_seconds": {},
            "machine": machine_info(),
        }
        self._save()

    def _changed_model_fields(self):
        """Model-file fields whose value differs from the checkpoint's.

        A field missing from the checkpoint was added to the model file after the
        run started; it counts as unchanged when it holds the shipped model file's
        value, which by the package's convention leaves the model as it was. An
        equations field whose text changed counts as unchanged when both texts
        compute the same thing with the run's parameter values
        (:func:`bioplastic.equivalence.equations_equivalent`).
        """
        stored = self.meta["model_values"]
        current = self.model.fingerprint()
        reference = dict(stored)
        if set(current) - set(stored):
            shipped = self.module.load_model().fingerprint()
            reference.update({k: v for k, v in shipped.items() if k not in stored})
        changed = sorted(k for k in set(current) | set(stored)
                         if reference.get(k) != current.get(k))
        rewritten = [k for k in changed if k in stored and k in current
                     and self.model.spec.fields[k].kind == "equations"]
        if rewritten:
            fields = self.model.spec.fields
            numbers = {k: parse_quantity(v, {}, self.checkpoint_path, k)
                       for k, v in reference.items() if fields.get(k) and
                       fields[k].kind == "quantity"}
            # both texts with the run's values: a changed value is named by itself
            changed = [k for k in changed if k not in rewritten or not equations_equivalent(
                reference[k], current[k], numbers)]
        return changed

    def _save(self):
        save_checkpoint(self.checkpoint_path, self.arrays, self.meta)

    # ----------------------------------------------------------------- data
    def _data(self, split):
        if split not in self._datasets:
            self._datasets[split] = load_dataset(self.config.dataset, split,
                                                 self.config.data_dir)
        return self._datasets[split]

    def _phase_data(self, phase):
        cfg = self.config
        if cfg.balanced and phase.kind in ("train", "assign"):
            data = self._data("train")
            subset = balanced_draw(cfg, data.labels)
            return data, np.tile(subset, cfg.epochs) if phase.kind == "train" else subset
        if phase.kind == "train":
            data = self._data("train")
            n = cfg.train_samples
            index = np.arange(n * cfg.epochs) % n
        elif phase.kind == "assign":
            data = self._data("train")
            index = np.arange(cfg.assign_samples)
        elif cfg.test_split == "validation":
            data = self._data("train")
            index = np.arange(first_validation_image(cfg), TRAINING_IMAGES)
        else:
            data = self._data("test")
            index = np.arange(cfg.test_samples)
        return data, index

    def phase_images(self, kind):
        """Pixels (uint8) and labels of the images the ``'assign'`` or ``'test'``
        phase shows (the test set or the validation split for ``'test'``)."""
        if kind not in ("assign", "test"):
            raise ValueError(f"kind must be 'assign' or 'test', got {kind!r}")
        phase = next(p for p in self.phases if p.kind == kind)
        data, index = self._phase_data(phase)
        return data.images[index], data.labels[index]

    # -------------------------------------------------------------- running
    def run(self, phases=None):
        """Run (or finish) the given phases (default: all), then write ``results.json``.

        ``phases`` may name phases or kinds (``("train",)`` runs every training phase).

        Raises
        ------
        CheckpointError
            When another process is running in the same folder.
        """
        with self._owning_folder():
            for phase in self.phases:
                if phases is not None and phase.name not in phases and \
                        phase.kind not in phases:
                    continue
                if not self.meta["progress"][phase.name]["done"]:
                    self._run_phase(phase)
            if all(self.meta["progress"][p]["done"] for p in self.phase_names):
                return self.finish()
        return None

    @contextmanager
    def _owning_folder(self):
        """Hold the run folder's lock while running.

        Two processes training into one folder would overwrite each other's
        checkpoints. The lock (``flock``) goes with the process, so a killed run
        never leaves the folder locked.
        """
        with owned_folder(self.out_dir / LOCK, self.checkpoint_path,
                          self.out_dir / RESULTS, error=CheckpointError) as removed:
            for stale in removed:
                logger.info("removed %s, left by a process killed while it wrote", stale)
            yield

    def phase_size(self, phase):
        """Number of presentations of ``phase`` (before any repetition)."""
        cfg = self.config
        if phase.kind == "train":
            return cfg.train_samples * cfg.epochs
        if phase.kind == "assign":
            return cfg.train_samples if cfg.balanced else cfg.assign_samples
        return cfg.test_samples

    @property
    def chunk_slots(self):
        """Samples per chunk: ``chunk_slots``, or the largest phase if that is smaller.

        A chunk always simulates all of its slots, so a small run gets networks no
        larger than it needs (one size for all its phases, so they share projects).
        """
        largest = max(self.phase_size(phase) for phase in self.phases)
        return max(1, min(self.config.chunk_slots, largest))

    def _network(self, mode):
        cfg = self.config
        network = self.module.Network(self.model, cfg.n_neurons, mode, cfg.device,
                                      chunk_slots=self.chunk_slots)
        self.meta["compile_seconds"][mode] = network.compile_seconds
        message = (f"Brian2 {cfg.device}: {mode} network with {cfg.n_neurons} neurons "
                   + (f"built/compiled in {network.compile_seconds:.1f} s"
                      if cfg.device != "genn" else "generated (GeNN builds it with the "
                      "first chunk, and again only if the code changes)"))
        logger.info(message)
        if self.progress:
            print(message, file=sys.stderr)
        return network

    def _run_phase(self, phase):
        cfg = self.config
        progress = self.meta["progress"][phase.name]
        phase_index = self.phase_names.index(phase.name)
        data, index = self._phase_data(phase)
        total = len(index)
        if total == 0:
            progress["done"] = True
            self._save()
            return
        if phase.kind == "train" and hasattr(self.module, "check_training"):
            # model-specific warnings about settings known to fail
            self.module.check_training(self.model, cfg.n_neurons, total)
        network = self._network(phase.mode)
        # optional state (the input delays) is absent when its setting is off
        optional = getattr(self.module, "OPTIONAL_STATE_KEYS", ())
        state = {key: self.arrays[key] for key in self.module.STATE_KEYS
                 if key in self.arrays or key not in optional}
        bar = tqdm(total=total, initial=progress["position"], unit="sample",
                   desc=f"{phase.name} ({cfg.device})", file=sys.stderr) if self.progress else None
        try:
            while progress["position"] < total:
                start = progress["position"]
                rows = index[start: start + network.chunk_slots]
                images = data.images[rows].reshape(len(rows), -1) / 255.0
                tic, compiled = time.perf_counter(), network.compile_seconds
                result = network.run_chunk(state, images, progress["retries"],
                                           chunk_seed(cfg.seed, phase_index, progress["chunk"]),
                                           labels=data.labels[rows])
                # a build during the chunk (genn's first) is compile time, not training
                elapsed = time.perf_counter() - tic - (network.compile_seconds - compiled)
                done = min(result.completed_rows, len(rows))
                labels = data.labels[rows[:done]]
                if done < result.completed_rows:  # blank padding rows at the very end
                    result.next_retries = 0
                self._record(phase, result, done, labels)
                self.arrays.update(state)
                progress["position"] = start + done
                progress["retries"] = result.next_retries if start + done < total else 0
                progress["chunk"] += 1
                progress["seconds"] += elapsed
                progress["slots"] += len(result.rows)
                if progress["position"] >= total:
                    progress["done"] = True
                if result.diverged and "diverged" not in self.meta:
                    # the first chunk whose dynamics ran away; results.json names it
                    self.meta["diverged"] = {"phase": phase.name, "samples": start + done,
                                             "message": result.diverged}
                self._save()
                if bar is not None:
                    bar.update(done)
                    bar.set_postfix(samples_per_s=f"{done / elapsed:.1f}")
        finally:
            if bar is not None:
                bar.close()
            # the genn device builds during the first chunk (no run_args)
            self.meta["compile_seconds"][phase.mode] = network.compile_seconds
            network.close()
        logger.info("%s phase finished: %d samples in %.1f s", phase.name, total,
                    progress["seconds"])

    def _record(self, phase, result, done, labels):
        if result.final_counts is None and result.final_outputs is None:
            return  # a stage that trains a layer without a readout (conv kernels)
        if result.final_counts is None:  # a model without a spiking hidden layer
            self._record_outputs(phase, result, done, labels)
            return
        counts = result.final_counts[:done].astype(np.uint16)
        if phase.kind == "train":
            self._update_curve(phase, counts, labels)
            return
        recorded = {"counts": counts, "labels": labels}
        if result.final_outputs is not None:
            recorded["outputs"] = result.final_outputs[:done].astype(np.uint16)
        if result.final_first_spikes is not None:
            recorded["first_spikes"] = result.final_first_spikes[:done].astype(np.uint16)
        self._append(phase, recorded)

    def _append(self, phase, recorded):
        for name, values in recorded.items():
            key = f"{phase.name}_{name}"
            previous = self.arrays.get(key, np.zeros((0,) + values.shape[1:], values.dtype))
            self.arrays[key] = np.concatenate([previous, values])

    def _record_outputs(self, phase, result, done, labels):
        """Models whose answer is an output value per class (MSTDP's label neurons).

        Test phases keep the outputs; training phases add to the accuracy curve the
        fraction of training samples whose outputs (read after the free phase) name
        their label.
        """
        outputs = np.asarray(result.final_outputs[:done], dtype=np.float32)
        if phase.kind != "train":
            self._append(phase, {"outputs": outputs, "labels": labels})
            return
        pending = self.meta.setdefault("curve_pending", {"samples": 0, "correct": 0})
        predictions = np.argmax(outputs, axis=1)
        window = self.config.curve_window
        seen = sum(self.meta["progress"][p.name]["position"] for p in self.phases
                   if p.kind == "train")
        for k in range(done):
            pending["samples"] += 1
            pending["correct"] += int(predictions[k] == labels[k])
            if pending["samples"] == window:
                self.meta["curve"].append({"samples": int(seen + k + 1),
                                           "free_phase": pending["correct"] / window})
                pending["samples"], pending["correct"] = 0, 0

    def _update_curve(self, phase, counts, labels):
        """Online accuracy: window k is predicted with assignments from window k-1."""
        window = self.config.curve_window
        current = self.arrays.get("window_counts", np.zeros((0, counts.shape[1]), np.uint16))
        current_labels = self.arrays.get("window_labels", np.zeros(0, np.uint8))
        current = np.concatenate([current, counts])
        current_labels = np.concatenate([current_labels, labels])
        while len(current) >= window:
            block, block_labels = current[:window], current_labels[:window]
            seen = (sum(self.meta["progress"][p.name]["position"] for p in self.phases
                        if p.kind == "train")
                    + len(counts) - (len(current) - window))
            if "previous_window_counts" in self.arrays:
                assignments, rates = evaluation.assign_labels(
                    self.arrays["previous_window_counts"], self.arrays["previous_window_labels"])
                point = {"samples": int(seen)}
                for vote in evaluation.VOTES:
                    predictions, _ = evaluation.predict(block, assignments, rates, vote)
                    point[vote] = evaluation.accuracy(predictions, block_labels)
                self.meta["curve"].append(point)
            self.arrays["previous_window_counts"] = block
            self.arrays["previous_window_labels"] = block_labels
            current, current_labels = current[window:], current_labels[window:]
        self.arrays["window_counts"], self.arrays["window_labels"] = current, current_labels

    # ------------------------------------------------------------- results
    def finish(self):
        """Assign labels, score the test set and write ``results.json``."""
        cfg = self.config
        results = {"config": cfg.to_dict(), "machine": self.meta["machine"],
                   "compile_seconds": self.meta["compile_seconds"],
                   "curve": self.meta["curve"], "phases": {}}
        for key in ("diverged", "retrained"):
            if key in self.meta:
                results[key] = self.meta[key]
        for phase in self.phase_names:
            progress = self.meta["progress"][phase]
            samples = progress["position"]
            results["phases"][phase] = {
                "samples": samples, "seconds": progress["seconds"],
                "samples_per_second": samples / progress["seconds"] if progress["seconds"] else None,
                "ms_per_sample": 1000 * progress["seconds"] / samples if samples else None,
                "presentations": progress["slots"]}
        if cfg.test_samples and "assign_counts" in self.arrays:
            assignments, rates = evaluation.assign_labels(self.arrays["assign_counts"],
                                                          self.arrays["assign_labels"])
            self.arrays["assignments"], self.arrays["class_rates"] = assignments, rates
            labels = self.arrays["test_labels"]
            for vote in evaluation.VOTES:
                predictions, _ = evaluation.predict(self.arrays["test_counts"], assignments,
                                                    rates, vote)
                results[f"accuracy_{vote}"] = evaluation.accuracy(predictions, labels)
                results[f"confusion_{vote}"] = evaluation.confusion_matrix(
                    predictions, labels).tolist()
            results["accuracy"] = results[f"accuracy_{cfg.vote}"]
            results["silent_neurons"] = int(np.sum(assignments < 0))
            self._save()
        if cfg.test_samples and "test_outputs" in self.arrays:
            # models with an output layer: its most active neuron is the answer
            labels = self.arrays["test_labels"]
            predict = getattr(self.module, "predict", evaluation.predict_from_outputs)
            key = getattr(self.module, "OUTPUT_KEY", "supervised")
            first_spikes = self.arrays.get("test_first_spikes")
            if first_spikes is not None and len(first_spikes) == len(labels):
                # ties between the most active neurons go to the first to fire; the
                # answer without that (ties to the lowest class index, as in runs
                # made before first spikes were recorded) is kept for comparison. A
                # test phase begun before then has first spikes for its later
                # chunks only, and is scored by counts alone.
                results[f"accuracy_{key}_count_only"] = evaluation.accuracy(
                    predict(self.arrays["test_outputs"]), labels)
                predictions = predict(self.arrays["test_outputs"], first_spikes)
            else:
                predictions = predict(self.arrays["test_outputs"])
            results[f"accuracy_{key}"] = evaluation.accuracy(predictions, labels)
            results[f"confusion_{key}"] = evaluation.confusion_matrix(
                predictions, labels).tolist()
            results["silent_outputs"] = float(np.mean(predictions < 0))
            results["accuracy"] = results[f"accuracy_{key}"]
        write_text_atomically(self.out_dir / RESULTS, json.dumps(results, indent=2))
        return results


def divergence_note(results):
    """One line saying where a run's dynamics ran away, or None if they did not."""
    diverged = results.get("diverged")
    if not diverged:
        return None
    return (f"the dynamics ran away in phase {diverged['phase']} (first seen after "
            f"{diverged['samples']} samples): these answers are meaningless")


def config_from_checkpoint(out_dir):
    """The RunConfig stored in a run folder (to resume or evaluate it)."""
    _, meta = load_checkpoint(Path(out_dir) / CHECKPOINT)
    known = {f.name for f in fields(RunConfig)}
    return RunConfig(**{k: v for k, v in meta["config"].items() if k in known})


__all__ = ["RunConfig", "Run", "Phase", "phases_of", "config_from_checkpoint", "TEST_SPLITS",
           "machine_info", "balanced_subset", "balanced_draw", "first_validation_image",
           "chunk_seed"]
