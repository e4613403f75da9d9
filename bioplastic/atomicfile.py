"""Atomic file writes: a kill at any moment leaves either the old file or the new one.

The data go to a temporary file next to the target, named ``<target>.<random>.tmp``,
are flushed to disk and renamed over the target. A process killed with SIGKILL
while it writes cannot delete its temporary file; the next process that takes over
the folder removes it with :func:`remove_stale_temporaries`, under the folder's
lock (:func:`owned_folder`), so that no file another process still writes vanishes.
"""

import os
import tempfile
from contextlib import contextmanager
from pathlib import Path

from brian2.utils.filelock import FileLock, Timeout  # vendored by Brian2

__all__ = ["atomic_open", "write_text_atomically", "stale_temporaries",
           "remove_stale_temporaries", "owned_folder"]

SUFFIX = ".tmp"


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextmanager
def atomic_open(path, mode="w", durable=True, **kwargs):
    """Open a temporary file that replaces ``path`` when the block ends without error.

    Parameters
    ----------
    path : str or Path
        The file to write; its folder is created if needed.
    mode : str
        ``"w"`` (text) or ``"wb"`` (binary).
    durable : bool
        Flush the data to disk before the rename (``fsync``), so that a power
        loss cannot leave an empty file. Files that live for one run only skip it.
    **kwargs
        Passed to :func:`open` (``newline=""`` for CSV, for instance).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=path.name + ".", suffix=SUFFIX,
                                         dir=path.parent)
    try:
        # mkstemp makes the file private; the result gets the usual permissions
        os.chmod(temporary, 0o666 & ~_umask())
        with os.fdopen(handle, mode, **kwargs) as out:
            yield out
            if durable:
                out.flush()
                os.fsync(out.fileno())
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


def write_text_atomically(path, text):
    """Replace the text file ``path`` with ``text`` atomically."""
    with atomic_open(path) as out:
        out.write(text)


def stale_temporaries(path):
    """Temporary files that writers of ``path`` left behind when they were killed."""
    path = Path(path)
    if not path.parent.is_dir():
        return []
    return sorted(p for p in path.parent.iterdir()
                  if p.name.startswith(path.name + ".") and p.name.endswith(SUFFIX))


def remove_stale_temporaries(*paths):
    """Delete what :func:`stale_temporaries` finds for each path; returns the files.

    Call it only from the one process that owns the folder (a run resuming, a sweep
    starting): a file another process is still writing would vanish under it.
    """
    removed = []
    for path in paths:
        for stale in stale_temporaries(path):
            stale.unlink(missing_ok=True)
            removed.append(stale)
    return removed


@contextmanager
def owned_folder(lock_path, *targets, error=RuntimeError):
    """Own a folder while the block runs: hold its lock file, then tidy up.

    The lock (``flock``) goes with the process, so a killed process never leaves
    the folder locked. Once it is held, no other process writes here, and the
    temporary files that killed writers of ``targets`` left are removed.

    Parameters
    ----------
    lock_path : str or Path
        The folder's lock file (created if needed).
    *targets : str or Path
        Files written atomically in the folder.
    error : type
        Exception raised, without waiting, when another process holds the lock.

    Yields
    ------
    list of Path
        The temporary files removed.
    """
    lock_path = Path(lock_path)
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(lock_path), timeout=0)
    try:
        lock.acquire()
    except Timeout:
        raise error(f"{lock_path.parent}: another process is running in this folder; "
                    "wait for it to end, or use another --out folder") from None
    try:
        yield remove_stale_temporaries(*targets)
    finally:
        lock.release()
