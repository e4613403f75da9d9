"""Checkpoints: one ``.npz`` file per run directory, written atomically.

A checkpoint holds arrays (weights, thresholds, spike counts, assignments ...) and
one JSON document (configuration, model file text and values, progress, timings).
It is written with :func:`bioplastic.atomicfile.atomic_open`, so a kill at any moment
leaves either the old or the new file.
"""

import json
from pathlib import Path

import numpy as np

from .atomicfile import atomic_open

__all__ = ["save_checkpoint", "load_checkpoint", "CheckpointError"]

_META_KEY = "__meta__"


class CheckpointError(RuntimeError):
    """A checkpoint cannot be read or does not match the requested run."""


def save_checkpoint(path, arrays, meta):
    """Write ``arrays`` (name -> ndarray) and ``meta`` (JSON-able dict) atomically."""
    payload = {k: np.asarray(v) for k, v in arrays.items()}
    payload[_META_KEY] = np.frombuffer(json.dumps(meta, sort_keys=True).encode(),
                                       dtype=np.uint8)
    with atomic_open(path, "wb") as out:
        np.savez(out, **payload)


def load_checkpoint(path):
    """Read a checkpoint; returns ``(arrays, meta)``."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files if k != _META_KEY}
            if _META_KEY not in data.files:
                raise CheckpointError(f"{path}: not a bioplastic checkpoint (no metadata)")
            meta = json.loads(bytes(data[_META_KEY]).decode())
    except (OSError, ValueError) as exc:
        raise CheckpointError(f"{path}: cannot read checkpoint ({exc})") from None
    return arrays, meta
