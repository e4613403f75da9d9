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

logger = logging.getLogger(__name__)

#: Standard headers that Brian2's cpp_standalone templates and brianlib include.
STANDARD_HEADERS = ("algorithm", "climits", "cmath", "csignal", "cstdlib", "ctime",
                    "fstream", "iostream", "iterator", "limits", "map", "random", "set",
                    "string", "tuple", "utility", "vector", "stdint.h", "stdlib.h")

PRELUDE_NAME = "bioplastic_prelude.h"
FAILED_NAME = "precompiling-failed.txt"  # the command and GCC's error, if building failed


@functools.lru_cache(maxsize=None)  # say it once per process, not at every build
def _earlier_failure(report):
    """Log that an earlier build of this prelude failed (``report`` says how); None."""
    logger.info("compiling without precompiled standard headers: building them failed "
                "earlier with these flags (%s; delete it to retry)", report)


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
    """The flags ``device``'s standalone makefile gets, less its include folders."""
    _, default_args = get_compiler_and_args()
    macros = []
    for macro in list(device.define_macros) + list(prefs["codegen.cpp.define_macros"]):
        name, value = macro if isinstance(macro, (tuple, list)) else (macro, None)
        macros.append(f"-D{name}" if value is None else f"-D{name}={value}")
    return macros + list(device.extra_compile_args) + list(default_args)


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
    header, compiled = folder / PRELUDE_NAME, folder / (PRELUDE_NAME + ".gch")
    failed = folder / FAILED_NAME
    if compiled.is_file():
        return header
    if failed.is_file():
        return _earlier_failure(failed)
    folder.mkdir(parents=True, exist_ok=True)
    with FileLock(str(folder) + ".lock"):
        if compiled.is_file():  # another process built it meanwhile
            return header
        if failed.is_file():
            return _earlier_failure(failed)
        header.write_text(text)
        partial = folder / f"{PRELUDE_NAME}.gch.{os.getpid()}.partial"
        command = compiler + ["-Wno-write-strings", *flags, "-x", "c++-header",
                              str(header), "-o", str(partial)]
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode != 0:
            partial.unlink(missing_ok=True)
            report = f"{shlex.join(command)}\n{result.stderr.strip()[-2000:]}\n"
            # same compiler and flags fail the same way: remember it, so that later
            # builds do not pay for the attempt again (delete the file to retry)
            partial_report = folder / f"{FAILED_NAME}.{os.getpid()}.partial"
            partial_report.write_text(report)
            os.replace(partial_report, failed)
            logger.warning("precompiling the standard headers failed, compiling without "
                           "them (%s): %s; later builds with these flags skip the attempt "
                           "(delete %s to retry)", shlex.join(command),
                           result.stderr.strip()[-500:], failed)
            return None
        os.replace(partial, compiled)
    logger.info("precompiled the standard headers into %s", compiled)
    return header


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
