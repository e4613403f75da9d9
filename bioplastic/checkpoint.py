"""Checkpoints: one ``.npz`` file per run directory, written atomically.

A checkpoint holds arrays (weights, thresholds, spike counts, assignments ...) and
one JSON document (configuration, model file text and values, progress, timings).
It is written to a temporary file in the same folder, flushed to disk and renamed
over the old one, so a kill at any moment leaves either the old or the new file.
"""

import json
import os
import tempfile
from pathlib import Path

import numpy as np

__all__ = ["save_checkpoint", "load_checkpoint", "CheckpointError"]

_META_KEY = "__meta__"


class CheckpointError(RuntimeError):
    """A checkpoint cannot be read or does not match the requested run."""


def save_checkpoint(path, arrays, meta):
    """Write ``arrays`` (name -> ndarray) and ``meta`` (JSON-able dict) atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp",
                                         dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            payload = {k: np.asarray(v) for k, v in arrays.items()}
            payload[_META_KEY] = np.frombuffer(json.dumps(meta, sort_keys=True).encode(),
                                               dtype=np.uint8)
            np.savez(out, **payload)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


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
