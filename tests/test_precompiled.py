"""Precompiled standard headers for cpp_standalone builds (bioplastic/precompiled.py)."""

import shlex
import subprocess

import pytest

from bioplastic import precompiled

FLAGS = ["-w", "-O0", "-std=c++11"]

needs_gcc = pytest.mark.skipif(precompiled._gcc_version(precompiled._compiler()) is None,
                               reason="the precompiled prelude is built for GCC only, "
                                      "and $CXX (or g++) here is not GCC")


@needs_gcc
def test_gcc_loads_the_precompiled_prelude(tmp_path):
    """The header is built once per flag set and GCC reads the .gch, not the text
    (``-H`` marks a precompiled header it used with '!')."""
    header = precompiled.precompiled_prelude(tmp_path, FLAGS)
    assert header.with_name(header.name + ".gch").is_file()
    assert precompiled.precompiled_prelude(tmp_path, FLAGS) == header  # reused
    other = precompiled.precompiled_prelude(tmp_path, ["-w", "-O1", "-std=c++11"])
    assert other.parent != header.parent  # other flags, other header
    source = tmp_path / "uses_vector.cpp"
    source.write_text("#include <vector>\nint main() { return std::vector<int>(3).size() - 3; }\n")
    result = subprocess.run(precompiled._compiler() + [*FLAGS, "-include", str(header), "-H",
                                                       str(source), "-o", str(tmp_path / "a.out")],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines()[0] == f"! {header}.gch"
    assert subprocess.run([str(tmp_path / "a.out")]).returncode == 0


def test_switched_off_or_without_gcc_there_is_no_prelude(tmp_path, monkeypatch):
    monkeypatch.setenv("BIOPLASTIC_PRECOMPILED_HEADERS", "0")
    assert precompiled.precompiled_prelude(tmp_path, FLAGS) is None
    monkeypatch.delenv("BIOPLASTIC_PRECOMPILED_HEADERS")
    monkeypatch.setenv("CXX", str(tmp_path / "no-such-compiler"))
    assert precompiled.precompiled_prelude(tmp_path, FLAGS) is None
    assert not (tmp_path / "prelude").exists()


@needs_gcc
def test_a_failing_build_warns_once_and_leaves_no_header(tmp_path, caplog, monkeypatch):
    with caplog.at_level("WARNING", logger="bioplastic.precompiled"):
        assert precompiled.precompiled_prelude(tmp_path, ["-fno-such-flag"]) is None
    assert "precompiling the standard headers failed" in caplog.text
    assert "-fno-such-flag" in caplog.text
    assert not list((tmp_path / "prelude").rglob("*.gch*"))
    report, = (tmp_path / "prelude").rglob(precompiled.FAILED_NAME)
    assert "-fno-such-flag" in report.read_text()  # the command and GCC's complaint
    # the same flags again (here or in another process): no second attempt
    monkeypatch.setattr(precompiled.subprocess, "run", lambda *args, **kwargs: pytest.fail(
        "the compiler was called again for flags that failed"))
    caplog.clear()
    with caplog.at_level("WARNING", logger="bioplastic.precompiled"):
        assert precompiled.precompiled_prelude(tmp_path, ["-fno-such-flag"]) is None
    assert not caplog.text
    report.unlink()  # deleting the record allows a new attempt
    with pytest.raises(pytest.fail.Exception, match="called again"):
        precompiled.precompiled_prelude(tmp_path, ["-fno-such-flag"])


def test_use_prelude_replaces_an_earlier_one_and_export_drops_it(tmp_path, monkeypatch):
    from types import SimpleNamespace
    device = SimpleNamespace(extra_compile_args=["-include", "/old/cache/" + precompiled.PRELUDE_NAME,
                                                 "-DKEEP"], define_macros=[])
    monkeypatch.setattr(precompiled, "precompiled_prelude",
                        lambda cache, flags: (cache / precompiled.PRELUDE_NAME
                                              if "-include" not in flags else None))
    header = precompiled.use_prelude(device, tmp_path / "a cache")
    # quoted for the makefile's shell: the path may hold spaces
    assert device.extra_compile_args == ["-include", shlex.quote(str(header)), "-DKEEP"]
    assert precompiled.use_prelude(device, tmp_path) == tmp_path / precompiled.PRELUDE_NAME
    assert device.extra_compile_args == ["-include", str(tmp_path / precompiled.PRELUDE_NAME),
                                         "-DKEEP"]
    assert precompiled.use_prelude(device, None) is None
    assert device.extra_compile_args == ["-DKEEP"]
