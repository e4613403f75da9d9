"""Compile a Brian2 network once and run it on many chunks of samples.

Training and evaluation run as one Brian2 ``run()`` per chunk: samples are switched,
state is reset and weights are normalised by ``run_regularly`` code inside the
network, with no Python between samples. Between chunks the state (weights,
thresholds, the stimulus table and a random seed) is handed over:

* ``runtime``: the network is built once; before each chunk it is restored to its
  initial snapshot (``t = 0``, empty monitors) and the new values are assigned.
* ``cpp_standalone``: the project is generated and compiled once; each chunk runs the
  same binary with Brian2's ``run_args`` (new initial values and TimedArray contents,
  no recompilation). The random generators are seeded from a variable that is itself
  a run argument, so each chunk gets its own reproducible random stream.
"""

import gc
import hashlib
import logging
import os
import re
import shutil
import socket
import time
from pathlib import Path

import numpy as np


import brian2
from brian2 import Network, TimedArray, defaultclock, device, prefs, set_device
from brian2.utils.filelock import FileLock  # vendored by Brian2

logger = logging.getLogger(__name__)

DEVICES = ("runtime", "cpp_standalone")

_run_args_supported = tuple(int(x) for x in brian2.__version__.split(".")[:2]) >= (2, 6)


def default_cache_dir():
    """Root folder for compiled standalone projects (``BIOPLASTIC_CACHE`` overrides)."""
    root = os.environ.get("BIOPLASTIC_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")), "bioplastic")
    return Path(root)


def default_device():
    """``cpp_standalone`` where this Brian2 can rerun a compiled project (>= 2.6,
    ``run_args``), else ``runtime`` (e.g. on the brian2genn stack, Brian2 2.5)."""
    return "cpp_standalone" if _run_args_supported else "runtime"


def check_device(name):
    """Raise a clear error for an unknown or unavailable device name."""
    if name not in DEVICES:
        raise ValueError(f"unknown device '{name}': expected one of {', '.join(DEVICES)}")
    if name == "cpp_standalone" and not _run_args_supported:
        raise RuntimeError(
            f"the cpp_standalone device needs Brian2 >= 2.6 for run_args (found "
            f"{brian2.__version__}); use --device runtime with this Brian2")


class CompiledNetwork:
    """A Brian2 network built (and for standalone, compiled) once, run per chunk.

    Parameters
    ----------
    build : callable
        ``build() -> dict`` creating all Brian2 objects (groups, synapses, monitors,
        TimedArrays) and returning them by name. Called after the device is active.
    duration : Quantity
        Simulated time of one chunk.
    dt : Quantity
        Integration time step.
    device_name : {'runtime', 'cpp_standalone'}
    project_key : str
        Identifies the network structure; compiled projects are cached under it.
    seed_variable : tuple of (str, str)
        ``(object name, variable name)`` of an integer shared variable whose value
        seeds the random generators of each chunk.
    cache_dir : Path, optional
        Where standalone projects live (default :func:`default_cache_dir`).
    """

    def __init__(self, build, duration, dt, device_name, project_key, seed_variable,
                 cache_dir=None):
        check_device(device_name)
        self.device_name = device_name
        self.duration = duration
        self.compile_seconds = 0.0
        self.run_seconds = 0.0
        self.runs = 0
        self._seed_variable = seed_variable
        self._build = build
        self._dt = dt
        start = time.perf_counter()
        if device_name == "cpp_standalone":
            self.directory = Path(cache_dir or default_cache_dir()) / "standalone" / project_key
            self.directory.mkdir(parents=True, exist_ok=True)
            set_device("cpp_standalone", build_on_run=False, directory=str(self.directory))
            # Linking with -ffast-math makes the program flush subnormal floats to
            # zero. Decaying traces (x *= exp(-dt/tau)) otherwise get stuck at the
            # smallest subnormal number, where arithmetic is ~100x slower.
            if "-ffast-math" not in device.extra_link_args:
                device.extra_link_args.append("-ffast-math")
            self._create()
            seed_owner, seed_name = seed_variable
            seed_array = device.get_array_name(self.objects[seed_owner].variables[seed_name])
            device.apply_run_args()
            device.insert_code("main", (
                "for (size_t _i = 0; _i < brian::_random_generators.size(); _i++)\n"
                f"    brian::_random_generators[_i].seed((unsigned long)"
                f"brian::{seed_array}[0] * 1000003UL + _i);"))
            self.network.run(duration, namespace={})
            logger.info("compiling the C++ standalone project in %s", self.directory)
            # Several processes may share a project (same network, other data): build
            # under a lock, and give each process its own results folder.
            with FileLock(str(self.directory) + ".lock"):
                device.build(directory=str(self.directory), run=False, compile=True,
                             with_output=False)
            self._results = f"results-{_HOST}-{os.getpid()}-{id(self):x}"
            _remove_leftovers(self.directory)
        else:
            set_device("runtime")
            self._create()
            # Generate (and for Cython compile) all code now, so that this step is
            # reported as the compile time; later chunks reuse Brian2's code cache.
            self.network.run(0 * brian2.second, namespace={})
        self.compile_seconds = time.perf_counter() - start

    def _create(self):
        brian2.start_scope()
        defaultclock.dt = self._dt
        self.objects = self._build()
        self.network = Network(*[o for o in self.objects.values()
                                 if not isinstance(o, TimedArray)])

    def _variable_view(self, key):
        owner, name = key.split(".")
        return getattr(self.objects[owner], name)

    def run(self, values, timed_arrays, seed):
        """Run one chunk.

        Parameters
        ----------
        values : dict
            ``{'object.variable': array_or_scalar}`` initial values for this chunk.
        timed_arrays : dict
            ``{'timed_array_name': 2d array}`` with the compiled shape.
        seed : int
            Seed for this chunk's random numbers.
        """
        start = time.perf_counter()
        seed_owner, seed_name = self._seed_variable
        values = dict(values)
        values[f"{seed_owner}.{seed_name}"] = int(seed) % (2 ** 31 - 1)
        if self.device_name == "cpp_standalone":
            run_args = {}
            for key, value in values.items():
                view = self._variable_view(key)
                # values travel as SI floats; give them the variable's dimensions
                run_args[view] = brian2.Quantity(np.asarray(value, dtype=view.dtype),
                                                 dim=view.dim)
            for name, array in timed_arrays.items():
                run_args[self.objects[name]] = np.asarray(array, dtype=float)
            arguments, files = self._run_arg_files(run_args)
            try:
                device.run(results_directory=self._results, run_args=arguments,
                           with_output=False)
            finally:
                for path in files:
                    path.unlink(missing_ok=True)
        else:
            # A fresh network per chunk starts at t = 0 with empty monitors; the
            # generated code comes from Brian2's cache.
            self._create()
            for key, value in values.items():
                owner, name = key.split(".")
                # the trailing underscore assigns SI values without unit checks
                setattr(self.objects[owner], name + "_", value)
            for name, array in timed_arrays.items():
                timed = self.objects[name]
                if timed.values.shape != np.shape(array):
                    raise ValueError(f"TimedArray {name} has shape {timed.values.shape}, "
                                     f"got {np.shape(array)}")
                timed.values[:] = array
            brian2.seed(int(seed))
            self.network.run(self.duration, namespace={})
        self.run_seconds += time.perf_counter() - start
        self.runs += 1

    def _run_arg_files(self, run_args):
        """Write the run arguments to files of this process; ``(arguments, files)``.

        Brian2 names run-argument files after their content and shares them between
        processes: one process deletes a file another is about to read, and a process
        killed while writing leaves a truncated file that the next run with the same
        content reads. The compiled program then reports a size mismatch on stderr
        and silently keeps the compiled-in values. Files named after this network
        object, written atomically and removed after the run, avoid both.
        """
        arguments, files = [], []
        for number, (key, value) in enumerate(run_args.items()):
            prepare = (device._prepare_timed_array_run_arg if isinstance(key, TimedArray)
                       else device._prepare_variableview_run_arg)
            name, text, file_name, array = prepare(key, value)
            if file_name:  # arrays go through a file, single values on the command line
                path = self.directory / "static_arrays" / f"{self._results}-{number}.dat"
                partial = path.with_suffix(".partial")
                array.tofile(partial)
                os.replace(partial, path)
                files.append(path)
                text = os.path.join("static_arrays", path.name)
            arguments.append(f"{name}={text}")
        return arguments, files

    def get(self, key):
        """Current value of ``'object.variable'`` as a numpy array."""
        return np.asarray(self._variable_view(key)[:])

    def spikes(self, monitor):
        """``(indices, time steps)`` recorded by a SpikeMonitor in the last chunk."""
        mon = self.objects[monitor]
        steps = np.round(np.asarray(mon.t_[:]) / float(defaultclock.dt_)).astype(np.int64)
        return np.asarray(mon.i[:]), steps

    def close(self):
        """Release the device so that another network can be built."""
        if self.device_name == "cpp_standalone":
            shutil.rmtree(self.directory / self._results, ignore_errors=True)
            device.reinit()
            set_device("runtime")
        # Brian2 numbers automatic names (code objects, ...) past those of objects
        # still alive; freeing ours makes the next build of the same network generate
        # identical files, so that a cached standalone project is not recompiled.
        self.objects, self.network = {}, None
        gc.collect()


_HOST = re.sub(r"[^A-Za-z0-9_.-]+", "_", socket.gethostname())


def _remove_leftovers(directory):
    """Delete run-argument files and results of processes on this host that died.

    Names carry host and process id (``results-<host>-<pid>-...``); those of live
    processes and of other hosts (a cache on a shared file system) are kept.
    """
    pattern = re.compile(rf"^results-{re.escape(_HOST)}-(\d+)-")
    for path in list(directory.glob("results-*")) + list(
            (directory / "static_arrays").glob("results-*")):
        match = pattern.match(path.name)
        if not match:
            continue
        try:
            os.kill(int(match.group(1)), 0)
            continue  # alive
        except ProcessLookupError:
            pass
        except PermissionError:  # alive, another user's
            continue
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)


def device_report():
    """``[(device, status)]``: which devices work here and why not."""
    report = [("runtime", f"available (Brian2 {brian2.__version__}, target "
                          f"{prefs.codegen.target})")]
    if not _run_args_supported:
        report.append(("cpp_standalone", f"unavailable: needs Brian2 >= 2.6 for run_args "
                                         f"(found {brian2.__version__})"))
    elif not (shutil.which("g++") or shutil.which("c++") or shutil.which("clang++")):
        report.append(("cpp_standalone", "unavailable: no C++ compiler on PATH"))
    else:
        report.append(("cpp_standalone", "available (compiled once per network, "
                                         "run per chunk with run_args)"))
    return report


def project_key(*parts):
    """Short stable key for a compiled project from text parts."""
    digest = hashlib.sha256("\x00".join(str(p) for p in parts).encode()).hexdigest()
    return digest[:16]


def network_project_key(model_key, model, mode, n_neurons, chunk_slots, *options):
    """Name of a model network's compiled project: readable prefix, then a digest.

    The digest covers the structure (mode, size, samples per chunk, ``options``) and
    every model-file value, so an edited model file gets a project of its own.
    """
    digest = project_key(model_key, mode, n_neurons, chunk_slots, *options,
                         sorted(model.fingerprint().items()))
    return f"{model_key}-{mode}-{n_neurons}-{digest}"


def clear_cache(cache_dir=None):
    """Delete all compiled standalone projects."""
    shutil.rmtree(Path(cache_dir or default_cache_dir()) / "standalone", ignore_errors=True)
