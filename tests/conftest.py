"""Shared fixtures: the real data folder, a private Brian2 project cache, tiny runs."""

import importlib.util
import os
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


@pytest.fixture(autouse=True)
def runtime_device_after_test():
    """Leave Brian2 on the runtime device whatever a test did."""
    yield
    from brian2 import device, set_device
    if device.__class__.__name__ != "RuntimeDevice":
        device.reinit()
        set_device("runtime")
