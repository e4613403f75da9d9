"""Run some phases of a finished run again, in a copy of its folder.

Two uses, both on the trained state of a run that is kept as it is:

* ``benchmarks/retest.py`` runs the label assignment and test phases again, with a
  test-time setting changed or on another split;
* :func:`retrain` trains a model's later layers again from fresh weights with
  other settings (``benchmarks/retrain.py``), keeping the earlier layers: for
  example the adaptive convolutional network's fully connected layer on the same
  kernels, or the sym-STDP supervised layer on the same hidden layer. It costs
  that layer's training only.

A model whose training has several stages lists, in ``PHASE_STATE``, the arrays
of its state each training phase learns. Fresh arrays are drawn as a new run with
the same seed would draw them, so a retraining with unchanged settings repeats the
original run's later phases.

A rerun checkpoints like any run. Its folder records the request it was prepared
for, so the same request on the same folder resumes an interrupted rerun, and any
other request is refused rather than written over it.
"""

from dataclasses import fields
from pathlib import Path

import numpy as np

from .checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from .datasets import load_dataset
from .training import (CHECKPOINT, MODELS, Run, RunConfig, balanced_draw,
                       config_from_checkpoint, first_validation_image, phases_of)

#: arrays of the online accuracy curve's windows (carried from phase to phase)
_CURVE_ARRAYS = ("window_counts", "window_labels", "previous_window_counts",
                 "previous_window_labels")
#: the label assignment made when a run finished
_ASSIGNMENT_ARRAYS = ("assignments", "class_rates")
#: run settings that a rerun may change (the others define the trained network)
RERUN_FIELDS = ("train_samples", "epochs", "assign_samples", "test_samples", "test_split",
                "vote", "curve_window")


def prepare_rerun(run_dir, out_dir, kinds=None, from_phase=None, overrides=None,
                  changes=None, data_dir=None):
    """Copy ``run_dir``'s checkpoint into the new folder ``out_dir`` with phases to run again.

    Parameters
    ----------
    run_dir, out_dir : str or Path
        A run folder, and a folder that must not exist yet (created only once the
        request has been checked, so a refused one leaves nothing behind), or
        that holds an interrupted rerun of the same request.
    kinds : sequence of str, optional
        Run the phases of these kinds again (e.g. ``('assign', 'test')``).
    from_phase : str, optional
        Or: train again from this training phase on, with the state arrays that it
        and the later training phases learn (``PHASE_STATE`` of the model) drawn
        again as a new run with the run's seed would draw them.
    overrides : dict, optional
        Model-file values (name -> value string) added to the run's overrides.
    changes : dict, optional
        Run settings to change (only :data:`RERUN_FIELDS`).
    data_dir : str, optional
        Where the data are, if not where the run found them (read only to tell
        which images a few-shot run trained on).

    Returns
    -------
    dict
        The dropped records (array name -> array), to compare with the new ones.

    Raises
    ------
    FileNotFoundError
        ``run_dir`` has no checkpoint.
    FileExistsError
        ``out_dir`` exists and was not prepared by the same request (the same
        source run, phases, overrides and changes). If it was, its rerun goes on
        from its last checkpoint: the same command resumes an interrupted rerun.
    ValueError
        A setting that a rerun cannot change, or a phase the run does not have.
    """
    run_dir, out_dir = Path(run_dir), Path(out_dir)
    if not (run_dir / CHECKPOINT).exists():
        raise FileNotFoundError(f"{run_dir}: no {CHECKPOINT} (not a run folder)")
    if (kinds is None) == (from_phase is None):
        raise ValueError("give either kinds or from_phase")
    changes = dict(changes or {})
    request = {"source_run": str(run_dir.resolve()),
               "kinds": sorted(kinds) if kinds is not None else None,
               "from_phase": from_phase, "overrides": dict(overrides or {}),
               "changes": changes}
    # an interrupted rerun of the same request resumes; anything else stays as it is
    resuming = out_dir.exists() and _holds_rerun_of(out_dir, request)
    arrays, meta = load_checkpoint(run_dir / CHECKPOINT)
    unknown = sorted(set(changes) - set(RERUN_FIELDS))
    if unknown:
        raise ValueError(f"a rerun cannot change {', '.join(unknown)} (the trained network "
                         f"depends on it); it may change {', '.join(RERUN_FIELDS)}")
    known = {f.name for f in fields(RunConfig)}
    source = RunConfig(**{k: v for k, v in meta["config"].items() if k in known})
    config = RunConfig(**source.to_dict())
    for name, value in changes.items():
        setattr(config, name, value)
    if overrides:
        config.overrides = {**(config.overrides or {}), **overrides}
    config.validate()
    module = MODELS[config.model]()
    model = module.load_model(config.model_file, config.overrides)
    if from_phase is None:
        names = [p.name for p in phases_of(module, config) if p.kind in kinds]
        fresh_keys = ()
    else:
        names, fresh_keys = retrain_phases(module, config, from_phase)
    meta["config"].update(config.to_dict())
    meta["model_values"] = model.fingerprint()
    stored = {}
    for name in names:
        meta["progress"][name] = {"position": 0, "retries": 0, "chunk": 0, "done": False,
                                  "seconds": 0.0, "slots": 0}
        for key in [k for k in arrays if k.startswith(f"{name}_")]:
            stored[key] = arrays.pop(key)
    for key in _ASSIGNMENT_ARRAYS:
        arrays.pop(key, None)
    if from_phase is not None:
        fresh = module.initial_state(model, config.n_neurons,
                                     np.random.default_rng(config.seed))
        arrays.update({key: fresh[key] for key in fresh_keys})
        _restart_curve(module, source, names, arrays, meta)
        meta["retrained"] = {"source_run": str(run_dir), "from_phase": from_phase,
                             "source_overrides": dict(source.overrides or {}),
                             "overrides": dict(overrides or {}), "changes": changes}
        if config.test_split == "validation":
            # unlabelled, but seen: say so rather than call the split untouched
            kept = [p for p in phases_of(module, source)
                    if p.kind == "train" and p.name not in names]
            meta["retrained"]["kept_phases_saw_validation_images"] = bool(
                kept and _last_training_image(source, data_dir or source.data_dir)
                >= first_validation_image(config))
    if not resuming:
        meta["rerun_request"] = request
        out_dir.mkdir(parents=True)
        save_checkpoint(out_dir / CHECKPOINT, arrays, meta)
    return stored


def _holds_rerun_of(out_dir, request):
    """True if ``out_dir`` was prepared for ``request``; FileExistsError if not."""
    try:
        _, meta = load_checkpoint(out_dir / CHECKPOINT)
    except CheckpointError:  # no checkpoint, or not one
        meta = {}
    if meta.get("rerun_request") != request:
        # never write over another rerun or a run folder
        raise FileExistsError(f"{out_dir} exists and holds no rerun of this request; "
                              "choose another output folder")
    return True


def _last_training_image(config, data_dir):
    """Index of the last training-set image that ``config``'s training phases show."""
    if config.balanced:
        labels = load_dataset(config.dataset, "train", data_dir).labels
        return int(balanced_draw(config, labels).max())
    return int(config.train_samples) - 1


def _restart_curve(module, source, names, arrays, meta):
    """Keep the accuracy curve of the training phases kept, drop the rest."""
    seen = sum(meta["progress"][p.name]["position"] for p in phases_of(module, source)
               if p.kind == "train" and p.name not in names)
    meta["curve"] = [point for point in meta["curve"] if point["samples"] <= seen]
    meta.pop("curve_pending", None)
    for key in _CURVE_ARRAYS:
        arrays.pop(key, None)
    if meta.get("diverged", {}).get("phase") in names:
        meta.pop("diverged")


def retrain_phases(module, config, first):
    """The phases from training phase ``first`` on, and the state arrays they learn."""
    names = [p.name for p in phases_of(module, config)]
    stages = getattr(module, "PHASE_STATE", None)
    if not stages:
        raise ValueError(f"model '{config.model}' trains in one stage; train it again with "
                         "'bioplastic train' instead")
    if first not in stages or first not in names:
        expected = ", ".join(n for n in names if n in stages)
        raise ValueError(f"'{first}' is not a training phase of this {config.model} run: "
                         f"expected one of {expected}")
    later = names[names.index(first):]
    return later, [key for name in later for key in stages.get(name, ())]


def retrain(run_dir, out_dir, from_phase, overrides=None, changes=None, data_dir=None,
            progress=False):
    """Train ``run_dir``'s layers from phase ``from_phase`` on again in ``out_dir``.

    The earlier phases' state is kept; the state the later training phases learn
    starts again from the values a new run with the same seed starts from.
    ``overrides`` (model-file values) and ``changes`` (run settings, e.g.
    ``{'test_split': 'validation', 'train_samples': 50000}``) apply to the phases
    run again. Returns the new results, with a ``retrained`` record of what was
    kept and changed.
    """
    prepare_rerun(run_dir, out_dir, from_phase=from_phase, overrides=overrides,
                  changes=changes, data_dir=data_dir)
    config = config_from_checkpoint(out_dir)
    if data_dir:
        config.data_dir = data_dir
    return Run(config, out_dir, progress=progress).run()


__all__ = ["prepare_rerun", "retrain_phases", "retrain", "RERUN_FIELDS"]
