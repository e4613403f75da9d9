"""Vectorised ``exp`` in ``cpp_standalone`` programs (glibc's libmvec).

Brian2 compiles standalone code with ``-ffast-math -fno-finite-math-only``. The
second flag (kept so that ``inf`` and ``nan`` behave) undefines ``__FAST_MATH__``,
and glibc declares the SIMD versions of ``exp`` (libmvec) only under that macro,
so GCC calls the scalar ``exp`` once per neuron and time step. Profiling the
400-neuron Diehl & Cook program (``perf``) put 40% of its time in ``exp``. A
header that declares ``exp`` with GCC's ``simd`` attribute, forced into every
source file of the project, lets the neuron loops call libmvec's 4- or 8-wide
``exp`` instead; the training program then runs 1.6 to 1.75 times as fast
(docs/benchmarks.md).

libmvec's ``exp`` differs from the scalar one by one or two units in the last
place for about 40% of its arguments, so a seeded run may part from one made
without it (spiking networks amplify such differences, as they do any change of
compiler or flags); the 400-neuron MNIST benchmarks of Diehl & Cook and sym-STDP
nevertheless repeated every recorded figure exactly. The
header is used only where a check program, built and run once per compiler and
flag set, shows that the vectorised ``exp`` is there and agrees with the scalar
one to 4 ulp over the whole range, including ``inf``, ``nan`` and underflow;
elsewhere (another compiler or C library, a failed check) the project is
compiled as Brian2 writes it. ``BIOPLASTIC_VECTOR_MATH=0`` switches it off, for
instance to repeat a result recorded without it bit for bit.
"""

import functools
import logging
import os
import sys
from pathlib import Path

from .precompiled import _compiler, _gcc_version, build_once, prelude_flags

logger = logging.getLogger(__name__)

HEADER_NAME = "bioplastic_vector_math.h"

#: Forced into every source file: glibc's own declaration, plus GCC's promise that
#: a SIMD version exists (libmvec, which libm's linker script pulls in as needed).
HEADER = """\
// bioplastic: let GCC vectorise loops that call exp (glibc's libmvec); see
// bioplastic/vector_math.py. Delete the -include of this file to compile without.
#include <cmath>
extern "C" double exp(double) throw() __attribute__((__simd__("notinbranch")));
"""

#: GCC vectorises a loop over several arrays only after checking at run time that
#: they do not overlap; its default limit of 10 such checks leaves the excitatory
#: neurons' loop (7 arrays) scalar.
VECTOR_FLAGS = ["--param", "vect-max-version-for-alias-checks=100"]

#: Compares the vectorised loop with the scalar function over [-750, 710] (both
#: overflow and underflow) and at the special values; exit status 1 on a mismatch.
CHECK_SOURCE = r"""
#include <cmath>
#include <cfloat>
#include <cstdio>
double (*volatile scalar_exp)(double) = exp;  // a call through a pointer stays scalar
static double x[4096], y[4096];
int main() {
    const int n = 4096;
    for (int i = 0; i < n; i++) x[i] = -750.0 + 1460.0 * i / (n - 1);
    x[0] = -INFINITY; x[1] = INFINITY; x[2] = NAN; x[3] = 0.0; x[4] = -0.0; x[5] = 1e-300;
    for (int i = 0; i < n; i++) y[i] = exp(x[i]);  // the loop GCC vectorises
    int wrong = 0;
    for (int i = 0; i < n; i++) {
        const double expected = scalar_exp(x[i]);
        if (std::isnan(expected) || std::isnan(y[i])) {
            wrong += std::isnan(expected) != std::isnan(y[i]);
        } else if (expected != y[i]
                   && !(fabs(expected) < DBL_MIN && fabs(y[i]) < DBL_MIN)  // flushed
                   && !(fabs(y[i] - expected) <= 4 * (nextafter(expected, INFINITY) - expected))) {
            if (wrong++ < 5) printf("exp(%.17g): vectorised %.17g, scalar %.17g\n", x[i], y[i], expected);
        }
    }
    return wrong != 0;
}
"""


def switched_off():
    """True when ``BIOPLASTIC_VECTOR_MATH=0`` asks for the scalar ``exp``."""
    return os.environ.get("BIOPLASTIC_VECTOR_MATH", "1") == "0"


@functools.lru_cache(maxsize=None)  # say it once per process
def _not_vectorised(program):
    logger.info("compiling with the scalar exp: GCC did not vectorise the check loop (%s)",
                program)


def vector_math_available(cache_dir, flags):
    """Whether projects compiled with ``flags`` may use the vectorised ``exp``.

    Builds and runs the check program once per compiler and flag set, in the project
    cache (``cache_dir/vector-math/<digest>``), and remembers the answer there.
    """
    if switched_off() or sys.platform != "linux":
        return False
    compiler = _compiler()
    version = _gcc_version(compiler)
    if version is None:
        return False
    from .simulation import project_key  # simulation imports this module
    folder = (Path(cache_dir) / "vector-math"
              / project_key(version, HEADER, CHECK_SOURCE, *compiler, *flags))
    header, source = folder / HEADER_NAME, folder / "check.cpp"

    def build(output):
        header.write_text(HEADER)
        source.write_text(CHECK_SOURCE)
        return [compiler + [*flags, *VECTOR_FLAGS, "-include", str(header), str(source),
                            "-o", str(output)],
                [str(output)]]

    program = folder / "check"
    if not build_once(program, build, "checking the vectorised exp", "with the scalar exp"):
        return False
    if b"_ZGV" not in program.read_bytes():  # libmvec's vector-function names
        _not_vectorised(program)
        return False
    return True


def use_vector_math(device, directory, cache_dir):
    """Make ``device`` (Brian2's cpp_standalone) compile with the vectorised ``exp``.

    Writes the header into the project ``directory`` and forces it into every source
    file, and raises GCC's limit on alias checks (:data:`VECTOR_FLAGS`), where :func:`vector_math_available`; otherwise, and with ``cache_dir`` None
    (an exported project, which must build on any machine), removes it. Returns
    whether it is used.
    """
    args = device.extra_compile_args
    for position in reversed(range(len(args) - 1)):
        if args[position:position + 2] in (["-include", HEADER_NAME], VECTOR_FLAGS):
            del args[position:position + 2]
    if cache_dir is None or not vector_math_available(cache_dir, prelude_flags(device)):
        return False
    header = Path(directory) / HEADER_NAME
    if not header.is_file() or header.read_text() != HEADER:  # a new time would rebuild all
        header.write_text(HEADER)
    # make compiles from the project folder, where GCC looks for -include files first
    args += ["-include", HEADER_NAME, *VECTOR_FLAGS]
    return True
