"""Which simulation devices this installation can use, and what each lacks.

``runtime`` and ``cpp_standalone`` come with Brian2; ``genn`` needs the brian2genn
stack (Brian2 2.5) and a GeNN 4.9.0 source folder; ``cuda_standalone`` needs the
brian2cuda stack (Brian2 2.10.1, Python 3.12) and nvcc. Nothing here imports a
device package that is absent: each check returns a sentence saying what is missing.
"""

import importlib
import os
import shutil
from pathlib import Path

import brian2
from brian2 import prefs

from . import vector_math

DEVICES = ("runtime", "cpp_standalone", "genn", "cuda_standalone")

_run_args_supported = tuple(int(x) for x in brian2.__version__.split(".")[:2]) >= (2, 6)


def default_device():
    """``cpp_standalone`` where this Brian2 can rerun a compiled project (>= 2.6,
    ``run_args``), else ``runtime`` (e.g. on the brian2genn stack, Brian2 2.5)."""
    return "cpp_standalone" if _run_args_supported else "runtime"


def _package_version(name):
    """Version of an importable package, or None (not installed, or fails to import)."""
    try:
        from importlib.metadata import version
        importlib.import_module(name)  # fails on a Brian2 it does not support
        return version(name)
    except Exception:
        return None


def genn_path():
    """GeNN source folder: the ``devices.genn.path`` preference or ``GENN_PATH``."""
    try:
        path = prefs["devices.genn.path"]
    except KeyError:  # brian2genn not imported: its preferences do not exist
        path = None
    return path or os.environ.get("GENN_PATH")


def genn_version(path):
    """GeNN's version from ``version.txt`` in its folder, or None."""
    try:
        return (Path(path) / "version.txt").read_text().strip()
    except (OSError, TypeError):
        return None


def device_problem(name):
    """Why device ``name`` cannot be used here (a sentence), or None if it can."""
    if name not in DEVICES:
        return f"unknown device '{name}': expected one of {', '.join(DEVICES)}"
    if name == "cpp_standalone":
        if not _run_args_supported:
            return (f"cpp_standalone needs Brian2 >= 2.6 for run_args (found "
                    f"{brian2.__version__}); use --device runtime or genn with this Brian2")
        if not (shutil.which("g++") or shutil.which("c++") or shutil.which("clang++")):
            return "cpp_standalone needs a C++ compiler (g++, c++ or clang++) on PATH"
    if name == "genn":
        if _package_version("brian2genn") is None:
            return ("genn needs brian2genn 1.7.0 and Brian2 2.5.x: install the GeNN stack "
                    "with  pip install -e \".[genn]\"  in an environment of its own "
                    f"(this one has Brian2 {brian2.__version__}); see docs/installation.md")
        path = genn_path()
        if not path:
            return ("genn needs the GeNN 4.9.0 source: set GENN_PATH to its folder "
                    "(see docs/installation.md)")
        version = genn_version(path)
        if version is None or not version.startswith("4."):
            return (f"genn needs GeNN 4.x (4.9.0 tested) in GENN_PATH={path}, found "
                    f"{version or 'no version.txt'}")
        if genn_use_gpu() and not os.environ.get("CUDA_PATH"):
            return ("genn on a GPU needs CUDA_PATH (the CUDA toolkit folder); set "
                    "BIOPLASTIC_GENN_CPU_ONLY=1 for GeNN's CPU-only mode")
    if name == "cuda_standalone":
        if _package_version("brian2cuda") is None:
            return ("cuda_standalone needs brian2cuda 1.0b1 (Python 3.12, Brian2 2.10.1): "
                    "pip install -e \".[cuda]\" in an environment of its own (this one "
                    f"has Brian2 {brian2.__version__}); see docs/installation.md")
        if not shutil.which("nvcc"):
            return "cuda_standalone needs CUDA's nvcc on PATH"
    return None


def check_device(name):
    """Raise a clear error for an unknown or unavailable device name."""
    problem = device_problem(name)
    if problem is None:
        return
    if name not in DEVICES:
        raise ValueError(problem)
    raise RuntimeError(problem)


def genn_use_gpu():
    """GeNN's CUDA backend unless ``BIOPLASTIC_GENN_CPU_ONLY`` is set (CPU-only mode)."""
    return os.environ.get("BIOPLASTIC_GENN_CPU_ONLY", "") in ("", "0")


def device_report():
    """``[(device, status)]``: which devices work here, their versions, and why not."""
    versions = {
        "runtime": f"Brian2 {brian2.__version__}, target {prefs.codegen.target}",
        "cpp_standalone": "compiled once per network, run per chunk with run_args; " + (
            "scalar exp (BIOPLASTIC_VECTOR_MATH=0)"
            if vector_math.switched_off()
            else "vectorised exp where GCC and glibc allow it"),
        "genn": (f"brian2genn {_package_version('brian2genn')}, GeNN {genn_version(genn_path())}, "
                 + ("GPU" if genn_use_gpu() else "CPU-only mode")
                 + "; built at the first chunk, rebuilt only if the code changes"),
        "cuda_standalone": (f"brian2cuda {_package_version('brian2cuda')}, nvcc -std=c++17; "
                            "compiled once per network, run per chunk with run_args"),
    }
    report = []
    for name in DEVICES:
        problem = device_problem(name)
        report.append((name, f"unavailable: {problem}" if problem
                       else f"available ({versions[name]})"))
    return report


#: What each device cannot do (``bioplastic info`` and the docs list it).
DEVICE_LIMITS = {
    "runtime": "slow for training (Python between time steps)",
    "cpp_standalone": "CPU only; needs Brian2 >= 2.6",
    "genn": ("Brian2 2.5 stack; no run_args (rebuilds when code changes); one clock, "
             "run_regularly only in the 'start' slot, one summed variable per Synapses, "
             "only '+=' on post-synaptic variables in on_pre, no subexpressions in "
             "synaptic code: Diehl & Cook, sym-STDP and MSTDP pass, the adaptive conv "
             "network does not (bioplastic check names the features)"),
    "cuda_standalone": ("brian2cuda 1.0b1 stack (Python 3.12, Brian2 2.10.1); slower than "
                        "cpp_standalone and genn at the sizes measured (H100); agrees with "
                        "cpp_standalone statistically (its own random numbers)"),
}
