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

import contextlib
import filecmp
import functools
import gc
import io
import hashlib
import importlib
import itertools
import logging
import os
import re
import shutil
import socket
import tempfile
import time
from pathlib import Path

import numpy as np


import brian2
from brian2 import Network, TimedArray, defaultclock, device, prefs, set_device
from brian2.utils.filelock import FileLock  # vendored by Brian2

from .atomicfile import atomic_open
from .devices import check_device, genn_use_gpu
from .network_loop import writing_lean_network_loop
from .precompiled import use_prelude
from .vector_math import use_vector_math

logger = logging.getLogger(__name__)


def default_cache_dir():
    """Root folder for compiled standalone projects (``BIOPLASTIC_CACHE`` overrides)."""
    root = os.environ.get("BIOPLASTIC_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")), "bioplastic")
    return Path(root)


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
        self.duration = duration
        self.compile_seconds = 0.0
        self.run_seconds = 0.0
        self.runs = 0
        self._seed_variable = seed_variable
        self._build = build
        self._dt = dt
        if _CHECK_ONLY:  # check_compatibility_only(): build the objects, check, no code
            self.device_name, self.directory = "runtime", None
            self.check_compatibility(project_key.rsplit("-", 1)[0], _CHECK_ONLY["device"])
            return
        check_device(device_name)
        self.device_name = device_name
        start = time.perf_counter()
        export = dict(_EXPORT)  # bioplastic codegen: generate into a folder, run nothing
        if export and device_name == "runtime":
            raise ValueError("the runtime device generates no project to export; choose "
                             "cpp_standalone, genn or cuda_standalone")
        if device_name in ("cpp_standalone", "cuda_standalone"):
            folder = "standalone" if device_name == "cpp_standalone" else "cuda"
            self.directory = (export["directory"] / project_key if export else
                              Path(cache_dir or default_cache_dir()) / folder / project_key)
            self.directory.mkdir(parents=True, exist_ok=True)
            if device_name == "cuda_standalone":
                self._prefs_to_restore = _prepare_brian2cuda()
            set_device(device_name, build_on_run=False, directory=str(self.directory))
            self._create()
            device.apply_run_args()
            # Seed the random generators from this chunk's seed variable, which the
            # run arguments (applied just above) have set.
            seed_owner, seed_name = seed_variable
            seed_array = device.get_array_name(self.objects[seed_owner].variables[seed_name])
            if device_name == "cpp_standalone":
                # Linking with -ffast-math makes the program flush subnormal floats to
                # zero. Decaying traces (x *= exp(-dt/tau)) otherwise get stuck at the
                # smallest subnormal number, where arithmetic is ~100x slower.
                if "-ffast-math" not in device.extra_link_args:
                    device.extra_link_args.append("-ffast-math")
                device.insert_code("main", (
                    "for (size_t _i = 0; _i < brian::_random_generators.size(); _i++)\n"
                    f"    brian::_random_generators[_i].seed((unsigned long)"
                    f"brian::{seed_array}[0] * 1000003UL + _i);"))
            else:
                # brian2cuda otherwise seeds cuRAND with time(0): not reproducible
                device.insert_code("main", (
                    "random_number_buffer.set_seed((unsigned long long)"
                    f"brian::{seed_array}[0] * 1000003ULL);"))
            self.network.run(duration, namespace={})
            if device_name == "cpp_standalone":
                # standard headers parsed once per cache, not once per source file;
                # an exported project must build without the cache
                cache = None if export else Path(cache_dir or default_cache_dir())
                # vectorised exp (before the prelude, which is built with its flags)
                use_vector_math(device, self.directory, cache)
                use_prelude(device, cache)
            sort_clock_starts(brian2.get_device())
            logger.info("compiling the C++ standalone project in %s", self.directory)
            # Several processes may share a project (same network, other data): build
            # under a lock, and give each process its own results folder.
            with FileLock(str(self.directory) + ".lock"):
                if device_name == "cpp_standalone" and not export:
                    _seed_from_sibling(self.directory)
                lean_loop = (writing_lean_network_loop(brian2.get_device())
                             if device_name == "cpp_standalone" else contextlib.nullcontext())
                with lean_loop, replacing_static_arrays(brian2.get_device()):
                    device.build(directory=str(self.directory), run=False,
                                 compile=export.get("build", True), with_output=False)
            self._results = f"results-{_HOST}-{os.getpid()}-{id(self):x}"
            _remove_leftovers(self.directory)
        elif device_name == "genn":
            self.directory = (export["directory"] / project_key if export else
                              Path(cache_dir or default_cache_dir()) / "genn" / project_key)
            self.directory.mkdir(parents=True, exist_ok=True)
            # brian2genn has no run_args: each chunk generates the project with its
            # values and builds it only if the code changed (the first chunk builds)
            self._genn_source = None
            self.check_compatibility(project_key.rsplit("-", 1)[0], device_name)
            if export:
                self._genn_generate({}, {}, build=export["build"])
        else:
            set_device("runtime")
            self._create()
            # Generate (and for Cython compile) all code now, so that this step is
            # reported as the compile time; later chunks reuse Brian2's code cache.
            self.network.run(0 * brian2.second, namespace={})
        self.compile_seconds = time.perf_counter() - start

    def check_compatibility(self, network_name, device_name):
        """Build the objects on the runtime device and check them against a device.

        Raises :class:`~bioplastic.compatibility.DeviceCompatibilityError` naming every
        feature the device lacks, before any code is generated.
        """
        from .compatibility import check_network
        set_device("runtime")
        target = prefs.codegen.target
        prefs.codegen.target = "numpy"  # building (connect) needs no compiled code here
        try:
            self._create()
            check_network(list(self.objects.values()), device_name, network_name)
        finally:
            prefs.codegen.target = target
            if self.network is not None:
                for obj in self.network.objects:  # built on purpose, never run
                    obj._network = self.network.id
            self.objects, self.network = {}, None
            gc.collect()

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
        if self.device_name == "genn":
            values.pop(f"{seed_owner}.{seed_name}")  # GeNN seeds its own generators
            with FileLock(str(self.directory) + ".lock"):
                self._genn_generate(values, timed_arrays)
                with contextlib.redirect_stdout(io.StringIO()):  # brian2genn prints
                    device.run(str(self.directory), genn_use_gpu(), with_output=False)
        elif self.device_name in ("cpp_standalone", "cuda_standalone"):
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
            self._assign(values, timed_arrays)
            brian2.seed(int(seed))
            self.network.run(self.duration, namespace={})
        self.run_seconds += time.perf_counter() - start
        self.runs += 1

    def _assign(self, values, timed_arrays, arrays_only=False):
        """Set initial values and TimedArray contents on freshly created objects.

        ``arrays_only`` assigns every value as an array: on a standalone device
        without run_args a scalar would be compiled into the code, an array goes to a
        data file.
        """
        for key, value in values.items():
            owner, name = key.split(".")
            if arrays_only and np.ndim(value) == 0:
                variable = self.objects[owner].variables[name]
                value = np.full(1 if variable.scalar else variable.size, float(value))
            # the trailing underscore assigns SI values without unit checks
            setattr(self.objects[owner], name + "_", value)
        for name, array in timed_arrays.items():
            timed = self.objects[name]
            if timed.values.shape != np.shape(array):
                raise ValueError(f"TimedArray {name} has shape {timed.values.shape}, "
                                 f"got {np.shape(array)}")
            timed.values[:] = array

    def _genn_generate(self, values, timed_arrays, build=True):
        """Generate the GeNN project with these initial values; build it if its code changed.

        brian2genn has no ``run_args``: values set from Python become static-array
        files that the program reads when it starts, and only the code decides
        whether it must be rebuilt. Every value is therefore assigned as an array
        (a scalar would be compiled into the code), and a chunk whose generated
        sources equal the last build's reruns the same program.
        """
        from .genn_device import BioplasticGeNNDevice
        if isinstance(brian2.get_device(), BioplasticGeNNDevice):
            device.reinit()  # brian2genn allows one run() per device state
        # free the last chunk's objects, so that automatic names (and the code) repeat
        self.objects, self.network = {}, None
        gc.collect()
        use_gpu = genn_use_gpu()
        if not hasattr(self, "_prefs_to_restore"):  # brian2genn changes these for good
            self._prefs_to_restore = {name: prefs[name] for name in _GENN_PREFERENCES}
        # brian2genn builds at the end of run() (an explicit build() after it refuses
        # the synapse-creation code); generate only, the build is decided below
        set_device("genn", build_on_run=True, directory=str(self.directory), compile=False,
                   run=False, use_GPU=use_gpu, with_output=False)
        self._create()
        self._assign(values, timed_arrays, arrays_only=True)
        with contextlib.redirect_stdout(io.StringIO()):
            self.network.run(self.duration, namespace={})
        source = _source_digest(self.directory)
        if build and source != self._genn_source:
            start = time.perf_counter()
            changed = sorted(name for name in set(source) | set(self._genn_source or {})
                             if source.get(name) != (self._genn_source or {}).get(name))
            logger.info("building the GeNN project in %s (%s)", self.directory,
                        "first build" if self._genn_source is None
                        else "changed: " + ", ".join(changed))
            with contextlib.redirect_stdout(io.StringIO()):
                device.compile_source(False, str(self.directory), use_gpu)
            self._genn_source = source
            built = time.perf_counter() - start
            self.compile_seconds += built
            self.run_seconds -= built  # run() adds the whole chunk

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
            if not isinstance(key, TimedArray):
                # the program knows a variable by its owner's name: a pathway's
                # delay is 'input_exc.delay', where Brian2 writes 'input_exc_pre.delay'
                name = f"{key.variable.owner.name}.{key.name}"
            if file_name:  # arrays go through a file, single values on the command line
                path = self.directory / "static_arrays" / f"{self._results}-{number}.dat"
                # read by this chunk's program only: no fsync at every chunk
                with atomic_open(path, "wb", durable=False) as out:
                    array.tofile(out)
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
        if self.device_name in ("cpp_standalone", "cuda_standalone"):
            shutil.rmtree(self.directory / self._results, ignore_errors=True)
        if self.device_name != "runtime":
            device.reinit()
            set_device("runtime")
        # give later networks (on any device) Brian2's schedule and C++ flags back
        for name, value in getattr(self, "_prefs_to_restore", {}).items():
            prefs[name] = value
        # Brian2 numbers automatic names (code objects, ...) past those of objects
        # still alive; freeing ours makes the next build of the same network generate
        # identical files, so that a cached standalone project is not recompiled.
        self.objects, self.network = {}, None
        gc.collect()


_EXPORT = {}
_CHECK_ONLY = {}


@contextlib.contextmanager
def check_compatibility_only(device_name):
    """Networks created inside only build their Brian2 objects and check them.

    Nothing is generated or compiled, and ``device_name`` need not be installed:
    creating a model's network raises
    :class:`~bioplastic.compatibility.DeviceCompatibilityError` if it uses a feature
    the device lacks (``bioplastic check``).
    """
    _CHECK_ONLY.update(device=device_name)
    try:
        yield
    finally:
        _CHECK_ONLY.clear()


@contextlib.contextmanager
def export_projects(directory, build=False):
    """Networks created inside write their projects to ``directory/<project key>``.

    The code is generated (and with ``build`` compiled) but never run; the cache is
    left alone. Used by ``bioplastic codegen`` to hand a project to another machine.
    """
    _EXPORT.update(directory=Path(directory), build=bool(build))
    try:
        yield
    finally:
        _EXPORT.clear()


def _prepare_brian2cuda():
    """Import brian2cuda and set the preferences CUDA 13 needs.

    CUDA 13's Thrust needs C++17, in nvcc's device pass and in its host compiler's
    pass. brian2cuda 1.0b1's makefile asks nvcc for C++11, and nvcc takes the last
    ``-std`` it is given, so the nvcc preference adds ``-std=c++17`` after it. The
    host compiler gets Brian2's C++ flags (``-std=c++11`` by default), which are
    changed to C++17 here and restored when the network is closed. Without a GPU to
    detect (code generation on another machine), ``BIOPLASTIC_CUDA_COMPUTE_CAPABILITY``
    (e.g. ``9.0`` for an H100) names the target.

    Returns
    -------
    dict
        The Brian2 preferences changed, with their previous values.
    """
    importlib.import_module("brian2cuda")  # registers the 'cuda_standalone' device
    backend = prefs.devices.cuda_standalone.cuda_backend
    if "-std=c++17" not in backend.extra_compile_args_nvcc:
        backend.extra_compile_args_nvcc = list(backend.extra_compile_args_nvcc) + ["-std=c++17"]
    capability = os.environ.get("BIOPLASTIC_CUDA_COMPUTE_CAPABILITY")
    if capability:
        backend.detect_gpus = False
        backend.compute_capability = float(capability)
        backend.gpu_id = int(os.environ.get("BIOPLASTIC_CUDA_GPU_ID", "0"))
    host_flags = ("codegen.cpp.extra_compile_args"
                  if prefs["codegen.cpp.extra_compile_args"] is not None
                  else "codegen.cpp.extra_compile_args_gcc")
    saved = {host_flags: prefs[host_flags]}
    prefs[host_flags] = [flag for flag in prefs[host_flags]
                         if not flag.startswith("-std=")] + ["-std=c++17"]
    return saved


def synaptic_sum_codeobj_class():
    """Code object class for synaptic code that adds into a pre/post-synaptic variable.

    Brian2's devices run a synaptic ``run_regularly`` one synapse after the other,
    but brian2cuda runs it with one thread per synapse and without atomic additions
    (it uses them only in ``on_pre``/``on_post`` pathways), so ``w_total_post += w``
    loses most additions there: on an H200 the column sums came out far too small,
    the normalisation blew the weights up and the network fired about 20x too often.
    brian2cuda's atomics code object turns such an addition into an atomic one (with
    it, an H100 gave cpp_standalone's spike totals within 5%; docs/devices.md).

    Returns
    -------
    type or None
        brian2cuda's ``CUDAStandaloneAtomicsCodeObject`` on ``cuda_standalone``, else
        None (the device's default).
    """
    if type(brian2.get_device()).__name__ != "CUDAStandaloneDevice":
        return None
    from brian2cuda.codeobject import CUDAStandaloneAtomicsCodeObject
    return CUDAStandaloneAtomicsCodeObject


#: Brian2 preferences that brian2genn sets when its device is activated (its own
#: schedule among them) and leaves set; restored when a genn network is closed.
_GENN_PREFERENCES = ("codegen.generators.cpp.restrict_keyword",
                     "codegen.loop_invariant_optimisations", "core.network.default_schedule")


def _source_digest(directory):
    """Digest of a generated project's source files (not its data or build output).

    brian2genn emits some independent statements (pushes to the GPU, declarations)
    in an order that varies from one generation to the next, and repeats an
    idempotent assignment (``dt``) a varying number of times, so each file counts as
    the set of its stripped lines: the network's structure is fixed by the project
    key, and a chunk's new values only change the data files.
    """
    digests = {}
    for path in sorted(list(directory.glob("*.cpp")) + list(directory.glob("*.h"))
                       + list(directory.glob("code_objects/*"))):
        lines = sorted({line.strip() for line in path.read_bytes().splitlines()})
        digests[path.name] = hashlib.sha256(b"\n".join(lines)).hexdigest()
    return digests


_HOST = re.sub(r"[^A-Za-z0-9_.-]+", "_", socket.gethostname())


def _seed_from_sibling(directory):
    """Start a new project from the files of its newest compiled sibling.

    Siblings share the project name up to the digest (model, mode, size), so they
    differ only in some parameter values, the samples per chunk or the compiler
    flags. Brian2 rewrites only the generated files whose contents changed, and
    ``make`` then recompiles only those (their copies keep the sibling's older
    modification times): a sweep over one parameter compiles one or two code
    objects per point instead of the whole project. Other flags change the makefile,
    on which every object file depends, so nothing stale survives. The copy is made
    under the sibling's lock, so it is never taken in the middle of a build.
    """
    if (directory / "main").exists():
        return
    prefix = directory.name.rsplit("-", 1)[0] + "-"  # up to the digest (no dashes)
    siblings = [path for path in directory.parent.glob(prefix + "*")
                if path != directory and (path / "main").is_file()]
    if not siblings:
        return
    sibling = max(siblings, key=lambda path: (path / "main").stat().st_mtime)
    with FileLock(str(sibling) + ".lock"):
        if not (sibling / "main").is_file():
            return
        shutil.copytree(sibling, directory, dirs_exist_ok=True, copy_function=shutil.copy2,
                        ignore=shutil.ignore_patterns("results*", "static_arrays"))
    logger.info("project %s starts from the compiled files of %s", directory.name,
                sibling.name)


def sort_clock_starts(standalone_device):
    """Write the clocks' start values into ``main.cpp`` in a fixed order.

    Brian2 queues them while it iterates over a set of clocks, whose order changes
    from process to process. ``main.cpp`` then differed at every build of a cached
    project, and ``make`` ran ``g++ -MM`` on every source, compiled ``main.cpp`` and
    linked the program again (about 3 s per project and process, and a new program
    file under the feet of another process about to start it). Each queued value
    sets an array of its own, so their order within a run of them does not matter.

    Parameters
    ----------
    standalone_device : brian2.devices.cpp_standalone.CPPStandaloneDevice
        The device object itself (``brian2.get_device()``), after the network's run.
    """
    clock_arrays = {standalone_device.get_array_name(clock.variables[name])
                    for clock in standalone_device.clocks for name in ("t", "timestep")}

    def sets_a_clock(entry):
        return entry[0] == "set_by_single_value" and entry[1][0] in clock_arrays

    ordered = []
    for clock_values, entries in itertools.groupby(standalone_device.main_queue,
                                                   key=sets_a_clock):
        ordered.extend(sorted(entries, key=lambda entry: entry[1][0]) if clock_values
                       else entries)
    standalone_device.main_queue[:] = ordered


@contextlib.contextmanager
def replacing_static_arrays(standalone_device):
    """Within this context, a build leaves other processes' runs of the project alone.

    Brian2 rewrites every static array (initial values, synapse indices) in place at
    each build, so a process that builds a cached project (same network, other
    data) truncated the files that another process's running program was reading:
    that program then created no synapses or read stale values, silently. Here the
    arrays are written to a scratch folder first; a file whose contents changed
    replaces the old one in one rename, and an unchanged one is not touched.

    Parameters
    ----------
    standalone_device : brian2.devices.cpp_standalone.CPPStandaloneDevice
        The device object itself (``brian2.get_device()``), not Brian2's proxy.
    """
    previous = vars(standalone_device).get("write_static_arrays")
    original = standalone_device.write_static_arrays

    def write_static_arrays(directory):
        # named as this process's results, so that a killed build's scratch folder
        # is removed with them (_remove_leftovers)
        scratch = Path(tempfile.mkdtemp(prefix=f"results-{_HOST}-{os.getpid()}-static-",
                                        dir=directory))
        try:
            (scratch / "static_arrays").mkdir()
            original(str(scratch))
            target = Path(directory) / "static_arrays"
            for written in (scratch / "static_arrays").iterdir():
                old = target / written.name
                if not (old.exists() and filecmp.cmp(written, old, shallow=False)):
                    os.replace(written, old)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)

    standalone_device.write_static_arrays = write_static_arrays
    try:
        yield
    finally:
        if previous is None:
            del standalone_device.write_static_arrays
        else:
            standalone_device.write_static_arrays = previous


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


def project_key(*parts):
    """Short stable key for a compiled project from text parts."""
    digest = hashlib.sha256("\x00".join(str(p) for p in parts).encode()).hexdigest()
    return digest[:16]


def network_project_key(model_key, model, mode, n_neurons, chunk_slots, *options):
    """Name of a model network's compiled project: readable prefix, then a digest.

    The digest covers the structure (mode, size, samples per chunk, ``options``),
    every model-file value, so an edited model file gets a project of its own, the
    code that generates the network (:func:`generator_digest`), and the C++ compiler
    and its flags (Brian2's ``codegen.cpp`` preferences): make does not rebuild a
    project whose flags changed, so other flags need another folder.
    """
    from brian2.codegen.cpp_prefs import get_compiler_and_args
    digest = project_key(model_key, mode, n_neurons, chunk_slots, *options,
                         sorted(model.fingerprint().items()), get_compiler_and_args(),
                         generator_digest())
    return f"{model_key}-{mode}-{n_neurons}-{digest}"


@functools.lru_cache(maxsize=None)
def generator_digest():
    """Digest of bioplastic's own modules and Brian2's version.

    A process runs its compiled program once per chunk without holding the
    project's lock. Another version of bioplastic (an upgrade, a second checkout)
    building the same network into the same folder would replace that program in
    the middle of the run: measured, a run then failed on a variable its program
    lacked, and could as well have trained on with another network. So each
    version of the code gets folders of its own (which start from a sibling's
    compiled files, so only changed code objects are recompiled).
    """
    digest = hashlib.sha256(brian2.__version__.encode())
    for path in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(path.name.encode() + b"\x00" + path.read_bytes())
    return digest.hexdigest()


def clear_cache(cache_dir=None):
    """Delete all compiled standalone projects."""
    shutil.rmtree(Path(cache_dir or default_cache_dir()) / "standalone", ignore_errors=True)
