"""Shared fixtures: the real data folder, a private Brian2 project cache, tiny runs."""

import importlib.util
import os
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import pytest

from bioplastic.devices import default_device

#: The device training tests use, so the suite also runs on Brian2 2.5.x (GeNN stack).
TRAIN_DEVICE = default_device()

needs_standalone = pytest.mark.skipif(
    TRAIN_DEVICE != "cpp_standalone",
    reason="cpp_standalone needs Brian2 >= 2.6 (run_args); this is the brian2genn stack")

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("BIOPLASTIC_TEST_DATA", ROOT.parent / "shared" / "data"))


def benchmark_script(name):
    """Import ``benchmarks/NAME.py`` (the benchmarks folder is not a package)."""
    spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@contextmanager
def lock_held_elsewhere(lock_path):
    """Hold ``lock_path`` (flock) from another process, as a running one does."""
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, fcntl, time; f = open(sys.argv[1], 'a'); "
         "fcntl.flock(f, fcntl.LOCK_EX); print('held', flush=True); time.sleep(60)",
         str(lock_path)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        yield
    finally:
        holder.kill()
        holder.wait()
        holder.stdout.close()


@pytest.fixture(scope="session")
def data_dir():
    """``../shared/data`` (MNIST and Fashion-MNIST as released)."""
    if not (DATA_DIR / "mnist" / "t10k-labels-idx1-ubyte.gz").exists():
        pytest.skip(f"real data not found in {DATA_DIR} (set BIOPLASTIC_TEST_DATA)")
    return DATA_DIR


@pytest.fixture(scope="session", autouse=True)
def project_cache(tmp_path_factory):
    """Compile standalone projects into a folder private to this test session.

    pytest-xdist's workers share it (their temporary folders have a common parent),
    so a network is compiled once per session; builds of one project are serialised
    by a file lock and every process reads its results from a folder of its own.
    """
    if os.environ.get("PYTEST_XDIST_WORKER"):
        cache = tmp_path_factory.getbasetemp().parent / "bioplastic-cache"
        cache.mkdir(exist_ok=True)
    else:
        cache = tmp_path_factory.mktemp("bioplastic-cache")
    old = os.environ.get("BIOPLASTIC_CACHE")
    os.environ["BIOPLASTIC_CACHE"] = str(cache)
    yield cache
    if old is None:
        os.environ.pop("BIOPLASTIC_CACHE", None)
    else:
        os.environ["BIOPLASTIC_CACHE"] = old


@pytest.fixture(scope="session", autouse=True)
def quick_cython_builds():
    """Compile the runtime device's Cython code without optimisation, in a cache of
    the tests' own.

    The test networks are tiny, so compiling dominates: on a machine whose Cython
    cache is empty (CI) ``-O0`` halves it (the adaptive conv network's code objects:
    86 s against 166 s), and ``-g0`` drops the debug information that Python's own
    compiler flags ask for (``-g``): its test network's 48 modules in 60 s
    instead of 69 s. Brian2's Cython cache does not key on compiler flags, so
    these modules live in ``.test-cython-cache/`` (ignored by git) and never reach
    the user's own cache. Only Cython's flags change: standalone projects, which the
    examples run in processes of their own share, keep the shipped flags.

    On the brian2genn stack the training tests run on the runtime device, and some
    compare a run in this process with one in a subprocess bit for bit (the killed
    and resumed CLI run), which only holds with the same flags: there the shipped
    flags stay.
    """
    if TRAIN_DEVICE != "cpp_standalone":
        yield
        return
    from brian2 import prefs
    # the module (its package exports a class of the same name)
    cython_rt = importlib.import_module("brian2.codegen.runtime.cython_rt.cython_rt")
    shipped = cython_rt.get_compiler_and_args

    def unoptimised():
        compiler, _ = shipped()
        return compiler, ["-w", "-O0", "-g0"]

    old_cache = prefs.codegen.runtime.cython.cache_dir
    prefs.codegen.runtime.cython.cache_dir = str(ROOT / ".test-cython-cache")
    cython_rt.get_compiler_and_args = unoptimised
    yield
    cython_rt.get_compiler_and_args = shipped
    prefs.codegen.runtime.cython.cache_dir = old_cache


@pytest.fixture
def numpy_target():
    """Tiny networks on the runtime device: numpy code generation, no compiler.

    Cython compiles every code object once per machine, which takes minutes on a
    fresh one (as in CI) for networks that run a few thousand time steps. Brian2's
    numpy target cannot run synaptic ``run_regularly`` code (the adaptive conv
    network's), so those tests keep Cython.
    """
    from brian2 import prefs
    old = prefs.codegen.target
    prefs.codegen.target = "numpy"
    yield
    prefs.codegen.target = old


@pytest.fixture(autouse=True)
def runtime_device_after_test():
    """Leave Brian2 on the runtime device whatever a test did."""
    yield
    from brian2 import device, set_device
    if device.__class__.__name__ != "RuntimeDevice":
        device.reinit()
        set_device("runtime")
