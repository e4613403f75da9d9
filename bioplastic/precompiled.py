"""Precompiled C++ standard headers for ``cpp_standalone`` projects.

A Brian2 standalone project is some forty small source files (one per code object),
and each of them parses ``<iostream>``, ``<fstream>``, ``<vector>``, ``<random>`` and
friends again: on the 2-core development machine that parsing is about half of the
20 s it takes to compile a Diehl & Cook project. GCC can load those headers from one
precompiled file instead (``-include prelude.h`` finds ``prelude.h.gch`` next to it),
which halves the compile time of every new network (docs/devices.md, "How a run
is organised").

The prelude holds only standard headers that Brian2's generated code includes
anyway, so the programs are the same with or without it. GCC checks that a
precompiled header matches the compiler and the flags; where it does not, GCC reads
the plain header instead, which is slower but equally correct. The header is built
once per compiler and flag set, in a folder of the project cache named after both,
under a file lock, and written atomically, so concurrent builds (pytest-xdist, Dask
workers) share it. Other compilers (clang, MSVC) do not get it.
``BIOPLASTIC_PRECOMPILED_HEADERS=0`` switches it off.
"""

import functools
import logging
import os
import shlex
import subprocess
import sys
from pathlib import Path

from brian2 import prefs
from brian2.codegen.cpp_prefs import get_compiler_and_args
from brian2.utils.filelock import FileLock  # vendored by Brian2

from .atomicfile import write_text_atomically

logger = logging.getLogger(__name__)

#: Standard headers that Brian2's cpp_standalone templates and brianlib include.
STANDARD_HEADERS = ("algorithm", "climits", "cmath", "csignal", "cstdlib", "ctime",
                    "fstream", "iostream", "iterator", "limits", "map", "random", "set",
                    "string", "tuple", "utility", "vector", "stdint.h", "stdlib.h")

PRELUDE_NAME = "bioplastic_prelude.h"
FAILED_NAME = "build-failed.txt"  # the command and its error output, if building failed


@functools.lru_cache(maxsize=None)  # say it once per process, not at every build
def _earlier_failure(what, fallback, report):
    """Log that an earlier build failed (``report`` says how)."""
    logger.info("compiling %s: %s failed earlier with these flags (%s; delete it to "
                "retry)", fallback, what, report)


def _compiler():
    """The C++ compiler ``make`` will call: ``$CXX``, else ``g++``, as an argument list."""
    return shlex.split(os.environ.get("CXX") or "g++")


def _gcc_version(compiler):
    """``compiler --version``'s first line if it is GCC, else None (clang, missing)."""
    return _gcc_version_of(tuple(compiler))


@functools.lru_cache(maxsize=None)  # asked at every build; the answer does not change
def _gcc_version_of(compiler):
    try:
        output = subprocess.run([*compiler, "--version"], capture_output=True, text=True,
                                timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    # clang (also as "g++" on macOS) names itself; GCC's notice names the FSF
    if "clang" in output.lower() or "Free Software Foundation" not in output:
        return None
    return output.splitlines()[0]


def prelude_flags(device):
    """The flags ``device``'s standalone makefile gets, less include folders and files."""
    _, default_args = get_compiler_and_args()
    macros = []
    for macro in list(device.define_macros) + list(prefs["codegen.cpp.define_macros"]):
        name, value = macro if isinstance(macro, (tuple, list)) else (macro, None)
        macros.append(f"-D{name}" if value is None else f"-D{name}={value}")
    args = list(device.extra_compile_args)
    for position in reversed(range(len(args) - 1)):
        if args[position] == "-include":  # the prelude itself, the vector-math header
            del args[position:position + 2]
    return macros + args + list(default_args)


def precompiled_prelude(cache_dir, flags):
    """Path of the prelude header, with its precompiled form beside it, or None.

    Parameters
    ----------
    cache_dir : Path
        Root of the project cache; the header goes to ``cache_dir/prelude/<digest>``.
    flags : list of str
        Compiler flags of the project (:func:`prelude_flags`); the precompiled
        header is only valid for the same ones.

    Returns
    -------
    Path or None
        None where the compiler is not GCC, on Windows, when switched off with
        ``BIOPLASTIC_PRECOMPILED_HEADERS=0``, or if building the header failed (a
        warning says why, and a file in its folder records it, so that later builds
        with the same compiler and flags do not try again); the project then
        compiles as Brian2 writes it.
    """
    if os.environ.get("BIOPLASTIC_PRECOMPILED_HEADERS", "1") == "0" or sys.platform == "win32":
        return None
    compiler = _compiler()
    version = _gcc_version(compiler)
    if version is None:
        return None
    text = "".join(f"#include <{name}>\n" for name in STANDARD_HEADERS)
    from .simulation import project_key  # simulation imports this module
    folder = Path(cache_dir) / "prelude" / project_key(version, text, *compiler, *flags)
    header = folder / PRELUDE_NAME

    def build(output):
        header.write_text(text)
        return [compiler + ["-Wno-write-strings", *flags, "-x", "c++-header", str(header),
                            "-o", str(output)]]

    built = build_once(folder / (PRELUDE_NAME + ".gch"), build,
                       "precompiling the standard headers", "without them")
    return header if built else None


def build_once(product, build, what, fallback):
    """Build ``product`` once per cache folder, remembering a failure; True if built.

    The pattern shared by the helpers that compile something once per compiler and
    flag set: the product is made under a file lock and moved into place atomically,
    so concurrent builds (pytest-xdist, Dask workers) share it; if the command
    fails, its folder records the command and the compiler's complaint in
    :data:`FAILED_NAME`, one warning says so, and later calls with the same folder
    return False without trying again (delete the record to retry).

    Parameters
    ----------
    product : Path
        The file to build; its folder names the compiler and flags.
    build : callable
        ``build(output) -> list of commands`` (each a list of str): prepares the
        sources and returns the commands, run in order, that write the product to
        ``output`` (and check it); the first that fails stops the build.
    what : str
        What is built, for the messages ("precompiling the standard headers").
    fallback : str
        What the build does without it ("without them").
    """
    folder = product.parent
    failed = folder / FAILED_NAME
    if product.is_file():
        return True
    if failed.is_file():
        _earlier_failure(what, fallback, failed)
        return False
    folder.mkdir(parents=True, exist_ok=True)
    with FileLock(str(folder) + ".lock"):
        if product.is_file():  # another process built it meanwhile
            return True
        if failed.is_file():
            _earlier_failure(what, fallback, failed)
            return False
        partial = folder / f"{product.name}.{os.getpid()}.partial"
        for command in build(partial):
            result = subprocess.run(command, capture_output=True, text=True)
            if result.returncode != 0:
                break
        if result.returncode != 0:
            partial.unlink(missing_ok=True)
            report = f"{shlex.join(command)}\n{(result.stdout + result.stderr).strip()[-2000:]}\n"
            # same compiler and flags fail the same way: remember it, so that later
            # builds do not pay for the attempt again (delete the file to retry)
            write_text_atomically(failed, report)
            logger.warning("%s failed, compiling %s (%s): %s; later builds with these flags "
                           "skip the attempt (delete %s to retry)", what, fallback,
                           shlex.join(command), (result.stdout + result.stderr).strip()[-500:],
                           failed)
            return False
        os.replace(partial, product)
    logger.info("%s: built %s", what, product)
    return True


def use_prelude(device, cache_dir):
    """Make ``device`` (Brian2's cpp_standalone) include the precompiled prelude.

    Replaces a prelude of an earlier build (another cache, other flags) in the
    device's compile flags; with ``cache_dir`` None (an exported project, which must
    build on its own) only removes it. Returns the header's path or None.
    """
    args = device.extra_compile_args
    for position in reversed(range(len(args) - 1)):
        if args[position] == "-include" and PRELUDE_NAME in args[position + 1]:
            del args[position:position + 2]
    if cache_dir is None:
        return None
    header = precompiled_prelude(cache_dir, prelude_flags(device))
    if header is not None:
        # the makefile's shell reads the flags: quote the path (it may hold spaces)
        args[:0] = ["-include", shlex.quote(str(header))]
    return header
