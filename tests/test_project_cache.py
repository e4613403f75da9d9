"""Compiled standalone projects shared by processes (bioplastic/simulation.py)."""

import numpy as np
from brian2 import NeuronGroup, Synapses, ms

from bioplastic.simulation import CompiledNetwork
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


def _incoming(build, cache):
    network = CompiledNetwork(build, 1 * ms, 0.1 * ms, "cpp_standalone", "wired-abc123",
                              ("group", "seed"), cache_dir=cache)
    try:
        network.run({}, {}, seed=1)
        return network.directory, network.get("group.incoming")
    finally:
        network.close()


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
