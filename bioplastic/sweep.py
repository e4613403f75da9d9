"""Run the points of a sweep as ordinary training runs on Dask distributed.

Each point (one configuration and one seed, see :mod:`bioplastic.sweep_config`) is
one :class:`bioplastic.training.Run` in its own folder ``OUT/points/<ident>``, with
its own checkpoint. The points are submitted as Dask tasks to a ``LocalCluster``
(one single-threaded worker process per core: Brian2's device is global to a
process) or to an existing cluster given by its scheduler address.

Fault tolerance comes from the two layers together:

* a worker that dies (killed, out of memory) makes the scheduler hand its task to
  another worker, up to ``allowed_failures`` times; the new attempt opens the
  point's checkpoint and continues from its last chunk;
* a task that raises is retried ``retries`` times, again from the checkpoint;
* a sweep started again skips points whose ``results.json`` matches their
  configuration and resumes the others from their checkpoints.

The workers of a ``LocalCluster`` share one compile cache (this machine's, or
``cache_dir``): builds of one project are serialised by a file lock and each
process reads its results from a folder of its own, so a network is compiled once
for the whole sweep, and points that differ only in seed, dataset or test protocol,
which reach the compiled program as run-time arguments, reuse it. On an existing
cluster, whose workers may sit on other machines, every worker compiles into a
cache of its own (``<cache>/workers/worker-<name>``). A model-file value is
compiled into the code, so each distinct value is compiled once (per worker on an
existing cluster) and kept for later sweeps.

The folders of a sweep must be visible to every worker (a shared file system when
the cluster spans several machines). While a sweep runs, its process holds the
folder's ``sweep.lock``: a second sweep into the same folder is refused at once
rather than rewriting the tables under the first.
"""

import json
import logging
import os
import re
import socket
import sys
import time
from pathlib import Path

from .atomicfile import owned_folder, write_text_atomically
from .checkpoint import CheckpointError, load_checkpoint
from .training import CHECKPOINT, RESULTS, Run, RunConfig

logger = logging.getLogger(__name__)

__all__ = ["run_sweep", "run_point", "point_folder", "point_finished",
           "CompileCachePlugin", "SWEEP_FILE", "ATTEMPTS_FILE"]

SWEEP_FILE = "sweep.json"
SWEEP_LOCK = "sweep.lock"
ATTEMPTS_FILE = "attempts.jsonl"

try:
    from distributed import WorkerPlugin
except ImportError:  # pragma: no cover - dask is a dependency; this keeps import errors clear
    WorkerPlugin = object


class CompileCachePlugin(WorkerPlugin):
    """Point each Dask worker at a Brian2 compile cache.

    Parameters
    ----------
    root : str or None
        The shared cache folder, or the folder holding one cache per worker. None
        means, as seen by the worker: its usual caches when shared,
        ``<BIOPLASTIC_CACHE>/workers`` otherwise.
    shared : bool
        One cache for all workers (the workers of a LocalCluster, on this machine)
        or one per worker (an existing cluster, whose workers may sit on other
        machines and whose file locks need not reach each other).
    """

    name = "bioplastic-compile-cache"

    def __init__(self, root=None, shared=False):
        self.root = None if root is None else str(root)
        self.shared = bool(shared)

    def setup(self, worker):
        from brian2 import prefs

        from .simulation import default_cache_dir
        if self.shared:
            if self.root is None:
                return  # the machine's caches, as for any other run here
            folder = Path(self.root)
        else:
            root = Path(self.root) if self.root else default_cache_dir() / "workers"
            folder = root / ("worker-" + re.sub(r"[^A-Za-z0-9._-]+", "_", str(worker.name)))
        folder.mkdir(parents=True, exist_ok=True)
        # read by bioplastic.simulation when a standalone project is built
        os.environ["BIOPLASTIC_CACHE"] = str(folder)
        prefs.codegen.runtime.cython.cache_dir = str(folder / "cython")


def point_folder(out_dir, point):
    """Run folder of one point."""
    return Path(out_dir) / "points" / point.ident


def _same_run(stored, config):
    """Whether a stored run configuration is the one asked for (device etc. may differ)."""
    wanted = config.to_dict()
    return all(stored.get(k) == v for k, v in wanted.items()
               if k not in RunConfig._RESUMABLE)


def point_finished(out_dir, point):
    """Whether the point's ``results.json`` exists and belongs to its configuration."""
    path = point_folder(out_dir, point) / RESULTS
    try:
        stored = json.loads(path.read_text())["config"]
    except (OSError, ValueError, KeyError):
        return False
    return _same_run(stored, point.config)


def _positions(folder):
    """Progress of each phase in a point's checkpoint (empty before its first chunk)."""
    try:
        _, meta = load_checkpoint(Path(folder) / CHECKPOINT)
    except (CheckpointError, OSError):
        return {}
    return {phase: state["position"] for phase, state in meta["progress"].items()}


def run_point(config, folder):
    """Train and evaluate one point (runs on a Dask worker).

    Parameters
    ----------
    config : dict
        ``RunConfig`` fields.
    folder : str
        The point's run folder; an existing checkpoint there is resumed.

    Returns
    -------
    dict
        The point's accuracies and timings.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    attempt = {"pid": os.getpid(), "host": socket.gethostname(),
               "started": time.strftime("%Y-%m-%dT%H:%M:%S"),
               "resumed_at": _positions(folder)}
    try:
        from distributed import get_worker
        attempt["worker"] = str(get_worker().name)
    except (ImportError, ValueError):
        attempt["worker"] = None
    # one line per attempt, so a retry after a lost worker can be seen afterwards
    with open(folder / ATTEMPTS_FILE, "a") as log:
        log.write(json.dumps(attempt) + "\n")
    results = Run(RunConfig(**config), folder, progress=False).run()
    return {k: v for k, v in results.items() if k.startswith("accuracy")}


def _preload_data(points):
    """Read (or download and check) every dataset once, before workers race for it."""
    from .datasets import load_dataset
    for dataset, data_dir in sorted({(p.config.dataset, p.config.data_dir) for p in points},
                                    key=str):
        for split in ("train", "test"):
            load_dataset(dataset, split, data_dir)


def _start_client(scheduler, workers, allowed_failures, dashboard):
    import dask
    from distributed import Client, LocalCluster
    if not logger.isEnabledFor(logging.INFO):
        # the scheduler of a LocalCluster logs every worker event at INFO level
        logging.getLogger("distributed").setLevel(logging.WARNING)
    if scheduler:
        return Client(scheduler), None
    # the scheduler of a LocalCluster runs here and reads this when it starts
    with dask.config.set({"distributed.scheduler.allowed-failures": int(allowed_failures)}):
        # without a requested address, any free port (None means the default :8787)
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                               dashboard_address=dashboard or ":0")
    return Client(cluster), cluster


def usable_cores():
    """Cores this process may use (its CPU affinity where the OS reports it)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - macOS, Windows
        return os.cpu_count() or 1


def run_sweep(sweep, out_dir, scheduler=None, workers=None, cache_dir=None, retries=1,
              allowed_failures=3, dashboard=None, progress=True):
    """Run every unfinished point of ``sweep`` and write its tables and figure.

    Parameters
    ----------
    sweep : bioplastic.sweep_config.SweepConfig
    out_dir : str or Path
        Sweep folder: ``sweep.json``, ``points/<ident>/`` run folders, the tables
        (``points.csv``, ``summary.csv``, ``summary.md``, ``summary.json``) and
        ``accuracy.png``.
    scheduler : str, optional
        Address of a running Dask scheduler (``tcp://host:8786``); default: start a
        LocalCluster.
    workers : int, optional
        LocalCluster workers (default: one per usable core, at most one per point).
    cache_dir : str, optional
        Compile cache of the workers: shared by the workers of a LocalCluster
        (default: this machine's, ``BIOPLASTIC_CACHE``), one subfolder
        ``worker-<name>`` per worker on an existing cluster (default
        ``<BIOPLASTIC_CACHE>/workers``).
    retries : int
        Extra attempts for a point whose training raised an error.
    allowed_failures : int
        Worker deaths a point may cause before it counts as failed (LocalCluster;
        an existing scheduler uses its own ``distributed.scheduler.allowed-failures``).
    dashboard : str, optional
        Address for the LocalCluster's dashboard (e.g. ``":8787"``; needs bokeh).
    progress : bool
        Show a progress bar over points.

    Returns
    -------
    dict
        ``{'rows': [...], 'summary': [...], 'ran': n, 'skipped': n, 'failed': n,
        'files': [...]}``.

    Raises
    ------
    RuntimeError
        When another process is running a sweep in ``out_dir``.
    """
    from . import sweep_results

    out_dir = Path(out_dir)
    with owned_folder(out_dir / SWEEP_LOCK, out_dir / SWEEP_FILE,
                      *(out_dir / name for name in sweep_results.TABLE_FILES)):
        write_text_atomically(out_dir / SWEEP_FILE, json.dumps(sweep.to_dict(), indent=2,
                                                               default=str))
        pending = [p for p in sweep.points if not point_finished(out_dir, p)]
        skipped = len(sweep.points) - len(pending)
        if skipped:
            logger.info("%d of %d points already finished", skipped, len(sweep.points))
        failures = {}
        if pending:
            _preload_data(pending)
            failures = _run_pending(pending, out_dir, scheduler, workers, cache_dir,
                                    retries, allowed_failures, dashboard, progress, sweep)
        files, rows, summary = sweep_results.write_tables(sweep, out_dir, failures)
    return {"rows": rows, "summary": summary,
            "ran": len(pending) - len(failures), "skipped": skipped,
            "failed": len(failures), "files": files}


def _run_pending(pending, out_dir, scheduler, workers, cache_dir, retries,
                 allowed_failures, dashboard, progress, sweep):
    from distributed import as_completed

    from . import sweep_results
    if workers is None:
        workers = max(1, min(usable_cores(), len(pending)))
    client, cluster = _start_client(scheduler, workers, allowed_failures, dashboard)
    failures = {}
    bar = None
    try:
        client.register_plugin(CompileCachePlugin(cache_dir, shared=cluster is not None))
        futures = {}
        for index, point in enumerate(pending):
            # points run in the sweep's order, also when a dead worker's points are
            # handed out again (otherwise the order depends on their keys), so an
            # interrupted point is resumed before a new one starts
            future = client.submit(run_point, point.config.to_dict(),
                                   str(point_folder(out_dir, point)), retries=retries,
                                   key=f"bioplastic-point-{point.ident}",
                                   priority=len(pending) - index)
            futures[future] = point
        if progress:
            from tqdm.auto import tqdm
            bar = tqdm(total=len(pending), unit="point", desc=f"sweep {sweep.name}",
                       file=sys.stderr)
        for future in as_completed(futures):
            point = futures[future]
            error = future.exception()
            if error is not None:
                failures[point.ident] = f"{type(error).__name__}: {error}"
                logger.error("point %s failed: %s", point.ident, failures[point.ident])
            # the tables grow as points finish, so a long sweep can be watched
            sweep_results.write_tables(sweep, out_dir, failures)
            if bar is not None:
                bar.update(1)
    finally:
        if bar is not None:
            bar.close()
        client.close()
        if cluster is not None:
            cluster.close()
    return failures
