"""Compiled standalone projects shared by processes (bioplastic/simulation.py)."""

import gc

import numpy as np
from brian2 import NeuronGroup, Synapses, ms

from bioplastic.simulation import CompiledNetwork, sort_clock_starts
from conftest import needs_standalone


def _wired(sources, targets):
    """Three neurons counting their incoming synapses, made from index arrays (which
    Brian2 stores as static arrays of the project)."""
    def build():
        group = NeuronGroup(3, """incoming : 1
                                  seed : integer (shared)""", namespace={})
        wiring = Synapses(group, group, "incoming_post = 1 : 1 (summed)", name="wiring",
                          namespace={})
        wiring.connect(i=np.asarray(sources), j=np.asarray(targets))
        return {"group": group, "wiring": wiring}
    return build


def _build_and_run(build, key, variable, cache):
    """Build (or reuse) the project ``key`` in ``cache``, run it for 1 ms and return
    its folder and the value of ``variable``."""
    network = CompiledNetwork(build, 1 * ms, 0.1 * ms, "cpp_standalone", key,
                              ("group", "seed"), cache_dir=cache)
    try:
        network.run({}, {}, seed=1)
        return network.directory, network.get(variable)
    finally:
        network.close()


def _incoming(build, cache):
    return _build_and_run(build, "wired-abc123", "group.incoming", cache)


def _arrays(directory):
    return {path.name: path for path in (directory / "static_arrays").iterdir()
            if "wiring" in path.name}


@needs_standalone
def test_a_build_never_rewrites_static_arrays_another_process_may_be_reading(tmp_path):
    """A second process building a cached project (same network) used to truncate
    and rewrite its static arrays while a first one's program read them. Unchanged
    arrays are now left untouched, and changed ones replaced in one rename, so that
    a reader holding the old file still reads it whole."""
    directory, incoming = _incoming(_wired([0, 1, 2], [1, 2, 2]), tmp_path)
    np.testing.assert_array_equal(incoming, [0, 1, 2])
    before = {name: path.stat() for name, path in _arrays(directory).items()}
    assert len(before) >= 2  # the sources and the targets
    sources = next(path for name, path in _arrays(directory).items() if "sources" in name)
    with open(sources, "rb") as reader:  # as a running program holds it
        _, incoming = _incoming(_wired([0, 1, 2], [1, 2, 2]), tmp_path)
        np.testing.assert_array_equal(incoming, [0, 1, 2])
        after = {name: path.stat() for name, path in _arrays(directory).items()}
        for name, stat in before.items():
            assert (after[name].st_ino, after[name].st_mtime_ns) == (stat.st_ino,
                                                                      stat.st_mtime_ns), name
        # the same project with other wiring: the changed array is a new file
        _, incoming = _incoming(_wired([2, 2, 0], [0, 1, 1]), tmp_path)
        np.testing.assert_array_equal(incoming, [1, 2, 0])
        assert sources.stat().st_ino != before[sources.name].st_ino
        np.testing.assert_array_equal(np.frombuffer(reader.read(), dtype=np.int32),
                                      [0, 1, 2])
    assert not [path for path in directory.iterdir() if "-static-" in path.name]


def _clocked_group():
    """A group with three operations on clocks of their own, besides the default one."""
    group = NeuronGroup(2, """x : 1
                              seed : integer (shared)""", name="clocked", namespace={})
    for k, dt in enumerate((0.2, 0.3, 0.5)):
        group.run_regularly(f"x += {k + 1}", dt=dt * ms, name=f"every_{k}")
    return {"group": group}


@needs_standalone
def test_clock_starts_are_written_in_one_order_whatever_the_set_order(tmp_path):
    """Brian2 queues each clock's start values while iterating over a set, whose order
    changes from process to process; sorted, they make the same main.cpp."""
    import brian2
    from brian2 import Network, device, set_device
    set_device("cpp_standalone", build_on_run=False, directory=str(tmp_path / "p"))
    try:
        Network(*_clocked_group().values()).run(1 * ms, namespace={})
        queue = brian2.get_device().main_queue
        clock_entries = [k for k, entry in enumerate(queue)
                         if entry[0] == "set_by_single_value"
                         and entry[1][0].endswith(("clock_t", "clock_timestep"))]
        assert len(clock_entries) == 2 * 4  # t and timestep of four clocks
        # they form one run in the queue, as Brian2 writes them
        assert clock_entries == list(range(clock_entries[0], clock_entries[-1] + 1))
        orders = []
        for permutation in (lambda part: part, lambda part: part[::-1],
                            lambda part: part[1::2] + part[::2]):
            first, last = clock_entries[0], clock_entries[-1] + 1
            queue[first:last] = permutation(queue[first:last])
            sort_clock_starts(brian2.get_device())
            orders.append(list(queue))
        assert orders[0] == orders[1] == orders[2]
    finally:
        device.reinit()
        device.activate()
        queue = None
        gc.collect()  # the clocks, whose names a later network would otherwise avoid


@needs_standalone
def test_building_a_compiled_project_again_compiles_and_links_nothing(tmp_path):
    """A second process's build of a cached project (same network) leaves the program
    and its sources as they were: no g++ -MM, no compile, no link."""
    directory, first = _build_and_run(_clocked_group, "clocked-abc123", "group.x", tmp_path)
    watched = ["main", "main.cpp", "main.o", "make.deps"]
    before = {name: (directory / name).stat().st_mtime_ns for name in watched}
    _, again = _build_and_run(_clocked_group, "clocked-abc123", "group.x", tmp_path)
    np.testing.assert_array_equal(again, first)
    assert {name: (directory / name).stat().st_mtime_ns for name in watched} == before
