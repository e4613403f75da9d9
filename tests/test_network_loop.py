"""The lean C++ standalone time-step loop (bioplastic/network_loop.py)."""

import numpy as np
import pytest

from brian2 import NeuronGroup, ms
from brian2.devices.cpp_standalone.codeobject import CPPStandaloneCodeObject
from brian2.devices.device import all_devices

from bioplastic.network_loop import lean_network_loop
from bioplastic.simulation import CompiledNetwork
from conftest import needs_standalone


def brian2_loop(maximum_run_time=None):
    """network.cpp as the installed Brian2 writes it."""
    return CPPStandaloneCodeObject.templater.network(
        None, None, maximum_run_time=maximum_run_time).cpp_file


def step_loop(source):
    """The body of Network::run's time-step loop."""
    start = source.index("while(clock && clock->running()")
    return source[start:source.index("if(!did_break_early", start)]


def test_this_brian2_loop_gets_all_three_edits():
    """If a Brian2 release rewrites its loop, this fails: the edits would then no
    longer apply (the program stays correct, only slower)."""
    original = brian2_loop()
    lean = lean_network_loop(original)
    assert "std::clock()" in step_loop(original)
    # one read is left in the loop, inside `if (report_func)` (bioplastic reports none)
    assert step_loop(original).count("std::clock()") == 2
    assert step_loop(lean).count("std::clock()") == 1
    # the run time is still measured, once, before it is stored
    assert "current = std::clock();\n    elapsed_realtime" in lean
    assert "clocks.size() == 1 || curclocks.find(obj_clock)" in lean
    assert "one clock is always the next one" in lean
    assert lean_network_loop(lean) == lean  # applied once only


def test_a_maximum_run_time_keeps_the_per_step_clock():
    original = brian2_loop(maximum_run_time=10.0)
    lean = lean_network_loop(original)
    assert step_loop(lean).count("std::clock()") == step_loop(original).count("std::clock()")
    assert "did_break_early = true" in lean


def test_unknown_text_is_left_alone():
    assert lean_network_loop("int main() {}\n") == "int main() {}\n"


def _counter_network(two_clocks):
    """A group counting its steps, and a run_regularly counting its own ticks:
    at every step (one clock) or every 0.7 ms (a second clock)."""
    def build():
        group = NeuronGroup(3, """steps : 1
                                  ticks : 1
                                  seed : integer (shared)""", namespace={})
        group.run_regularly("steps += 1", when="start")
        group.run_regularly("ticks += 1", dt=0.7 * ms if two_clocks else None)
        return {"group": group}
    return build


@needs_standalone
@pytest.mark.usefixtures("numpy_target")  # the runtime side: nothing to compile
@pytest.mark.parametrize("two_clocks", [False, True])
def test_networks_with_one_or_two_clocks_run_every_object_when_due(two_clocks, tmp_path):
    results = {}
    for device_name in ("runtime", "cpp_standalone"):
        network = CompiledNetwork(_counter_network(two_clocks), 10 * ms, 0.1 * ms,
                                  device_name, f"loop-{two_clocks}", ("group", "seed"),
                                  cache_dir=tmp_path)
        try:
            network.run({}, {}, seed=1)
            results[device_name] = (network.get("group.steps"), network.get("group.ticks"))
            if device_name == "cpp_standalone":
                source = (network.directory / "network.cpp").read_text()
                assert "clocks.size() == 1 || curclocks.find" in source
                run_time = float((network.directory / network._results
                                  / "last_run_info.txt").read_text().split()[0])
                assert run_time > 0
        finally:
            network.close()
    # the edit was scoped to bioplastic's build: a user's own project gets Brian2's loop
    assert "generate_network_source" not in vars(all_devices["cpp_standalone"])
    expected_ticks = 15 if two_clocks else 100  # t = 0, 0.7, ..., 9.8 ms
    for steps, ticks in results.values():
        np.testing.assert_array_equal(steps, 100)
        np.testing.assert_array_equal(ticks, expected_ticks)
