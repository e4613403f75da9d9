"""Vectorised exp in cpp_standalone builds (bioplastic/vector_math.py)."""

import platform
import subprocess
from types import SimpleNamespace

import numpy as np
import pytest

from bioplastic import precompiled, vector_math

FLAGS = ["-w", "-O3", "-ffast-math", "-fno-finite-math-only", "-march=native", "-std=c++11"]

needs_gcc_glibc = pytest.mark.skipif(
    precompiled._gcc_version(precompiled._compiler()) is None
    or platform.system() != "Linux" or platform.libc_ver()[0] != "glibc",
    reason="the vectorised exp comes from glibc's libmvec through GCC; this machine has "
           "another compiler or C library")


def fake_device(*args):
    return SimpleNamespace(extra_compile_args=list(args), define_macros=[])


@needs_gcc_glibc
def test_the_check_passes_here_and_its_answer_is_kept(tmp_path, monkeypatch):
    """On this machine (GCC, glibc, x86-64) the check program vectorises exp, agrees
    with the scalar exp, and is built once per flag set."""
    assert vector_math.vector_math_available(tmp_path, FLAGS)
    program, = (tmp_path / "vector-math").rglob("check")
    assert b"_ZGV" in program.read_bytes()  # calls libmvec
    assert subprocess.run([str(program)]).returncode == 0
    monkeypatch.setattr(precompiled.subprocess, "run", lambda *args, **kwargs: pytest.fail(
        "the check was built again for the same flags"))
    assert vector_math.vector_math_available(tmp_path, FLAGS)


@needs_gcc_glibc
def test_a_loop_over_neurons_calls_the_vector_exp_and_matches_numpy(tmp_path):
    """The header turns a Brian2-style state-update loop into libmvec calls; its
    results equal numpy's exp to a few ulp, also at -inf, inf and underflow."""
    header = tmp_path / vector_math.HEADER_NAME
    header.write_text(vector_math.HEADER)
    source = tmp_path / "loop.cpp"
    source.write_text(r"""
        #include <cstdio>
        int main() {
            const int n = 1000;
            double v[n], ge[n];
            for (int i = 0; i < n; i++) { ge[i] = -0.75 * i + 10.0; v[i] = -0.065; }
            ge[0] = INFINITY; ge[1] = -INFINITY;
            for (int i = 0; i < n; i++) v[i] = v[i] * exp(ge[i] * 1.0);
            for (int i = 0; i < n; i++) printf("%.17g\n", v[i]);
        }
    """)
    program = tmp_path / "loop"
    subprocess.run(precompiled._compiler() + [*FLAGS, *vector_math.VECTOR_FLAGS, "-include",
                                              str(header), str(source), "-o", str(program)],
                   check=True)
    assert b"_ZGV" in program.read_bytes()
    printed = subprocess.run([str(program)], capture_output=True, text=True, check=True).stdout
    got = np.array(printed.split(), dtype=float)
    ge = -0.75 * np.arange(1000) + 10.0
    ge[0], ge[1] = np.inf, -np.inf
    with np.errstate(over="ignore"):
        expected = -0.065 * np.exp(ge)
    np.testing.assert_array_max_ulp(got[np.abs(expected) > 1e-300],
                                    expected[np.abs(expected) > 1e-300], maxulp=4)
    assert np.all(np.abs(got[np.abs(expected) <= 1e-300]) <= 1e-300)  # underflow
    assert got[0] == -np.inf and got[1] == 0


def test_switched_off_or_failing_it_is_not_used(tmp_path, monkeypatch, caplog):
    device = fake_device("-DKEEP", "-include", vector_math.HEADER_NAME, *vector_math.VECTOR_FLAGS)
    monkeypatch.setenv("BIOPLASTIC_VECTOR_MATH", "0")
    assert not vector_math.use_vector_math(device, tmp_path, tmp_path)
    assert device.extra_compile_args == ["-DKEEP"]  # an earlier build's flags removed
    monkeypatch.delenv("BIOPLASTIC_VECTOR_MATH")
    if precompiled._gcc_version(precompiled._compiler()) is not None:
        with caplog.at_level("WARNING", logger="bioplastic.precompiled"):
            assert not vector_math.vector_math_available(tmp_path, ["-fno-such-flag"])
        assert "checking the vectorised exp failed, compiling with the scalar exp" in caplog.text
    monkeypatch.setenv("CXX", str(tmp_path / "no-such-compiler"))
    assert not vector_math.vector_math_available(tmp_path / "other", FLAGS)
    assert not (tmp_path / "other").exists()


def test_use_vector_math_writes_the_header_once_and_export_drops_it(tmp_path, monkeypatch):
    monkeypatch.setattr(vector_math, "vector_math_available", lambda cache, flags: True)
    project = tmp_path / "project"
    project.mkdir()
    device = fake_device("-DKEEP")
    assert vector_math.use_vector_math(device, project, tmp_path)
    assert device.extra_compile_args == ["-DKEEP", "-include", vector_math.HEADER_NAME,
                                         *vector_math.VECTOR_FLAGS]
    header = project / vector_math.HEADER_NAME
    assert header.read_text() == vector_math.HEADER
    written = header.stat().st_mtime_ns
    assert vector_math.use_vector_math(device, project, tmp_path)  # no duplicate flags
    assert device.extra_compile_args.count(vector_math.HEADER_NAME) == 1
    # an unchanged header keeps its time: make, which tracks it, rebuilds nothing
    assert header.stat().st_mtime_ns == written
    assert not vector_math.use_vector_math(device, project, None)  # exported project
    assert device.extra_compile_args == ["-DKEEP"]
    # the precompiled prelude is built without the forced includes
    device = fake_device("-include", vector_math.HEADER_NAME, *vector_math.VECTOR_FLAGS)
    assert precompiled.prelude_flags(device)[:2] == vector_math.VECTOR_FLAGS
    assert "-include" not in precompiled.prelude_flags(device)


def test_bioplastic_info_says_which_exp_cpp_standalone_uses(monkeypatch):
    from bioplastic.devices import device_problem, device_report
    if device_problem("cpp_standalone"):  # the brian2genn stack (Brian2 2.5)
        pytest.skip(f"cpp_standalone is unavailable here: {device_problem('cpp_standalone')}")
    assert "vectorised exp" in dict(device_report())["cpp_standalone"]
    monkeypatch.setenv("BIOPLASTIC_VECTOR_MATH", "0")
    assert "scalar exp (BIOPLASTIC_VECTOR_MATH=0)" in dict(device_report())["cpp_standalone"]
