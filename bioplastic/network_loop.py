"""A leaner time-step loop for Brian2's C++ standalone ``Network::run``.

Brian2's generated loop (``network.cpp``) does three things at every time step
that a single-clock network does not need:

* it reads the process CPU time with ``std::clock()``, a system call, only to
  report the run's duration when the run ends;
* it looks up each code object's clock in a ``std::set`` before calling it;
* it rebuilds the set of clocks due at the next step (``std::set`` insert: a
  memory allocation and release per step).

A Diehl & Cook step at 400 neurons costs about 4 microseconds of compiled code, so
these are a visible share of a training run: without them the program ran 13%
faster (benchmarks/NOTES.md). :func:`writing_lean_network_loop` edits the generated text so
that the clock is read once after the loop, and, when the network has a single
clock (all of bioplastic's training networks), the lookups are skipped. Networks
with several clocks run Brian2's code unchanged, and so does a loop with a
``maximum_run_time`` (it needs the per-step time). Each edit is applied only where
Brian2's text matches exactly (Brian2 2.5 and 2.9 write the same loop); otherwise
the source stays as Brian2 wrote it, which is only slower.
"""

import contextlib
import logging
import re

logger = logging.getLogger(__name__)

#: Per-step CPU-time read after the clocks advance (std::clock variant, no OpenMP).
_STEP_CLOCK = re.compile(
    r"(clock = next_clocks\(\);\n)\s*current = std::clock\(\);\n"
    r"\s*(elapsed_realtime = \(double\)\(current - start\)/\([^;\n]*\);)\n")
_LAST_RUN_TIME = "_last_run_time = elapsed_realtime;"

_CLOCK_LOOKUP = "if (curclocks.find(obj_clock) != curclocks.end())"
_SINGLE_CLOCK_LOOKUP = "if (clocks.size() == 1 || curclocks.find(obj_clock) != curclocks.end())"

_NEXT_CLOCKS = "Clock* Network::next_clocks()\n{\n"
_MARK = "bioplastic: one clock is always the next one"
_SINGLE_NEXT_CLOCK = _NEXT_CLOCKS + """\
    if (clocks.size() == 1)  // MARK
    {
        Clock *only = *clocks.begin();
        if (curclocks.size() != 1 || *curclocks.begin() != only)
        {
            curclocks.clear();
            curclocks.insert(only);
        }
        return only;
    }
""".replace("MARK", _MARK)


def lean_network_loop(source):
    """Return Brian2's ``network.cpp`` text with the edits described above.

    Parameters
    ----------
    source : str
        The ``network.cpp`` file as Brian2's template wrote it.

    Returns
    -------
    str
        The edited text; parts that do not match Brian2's known text are unchanged.
    """
    if _MARK in source:
        return source  # edited already
    edited = source
    step_clock = _STEP_CLOCK.search(source)
    if (step_clock and "did_break_early = true" not in source
            and source.count(_LAST_RUN_TIME) == 1):
        # read the clock once, after the loop, where the run time is stored
        edited = (source[:step_clock.start()] + step_clock.group(1)
                  + source[step_clock.end():])
        edited = edited.replace(_LAST_RUN_TIME, "current = std::clock();\n    "
                                f"{step_clock.group(2)}\n    {_LAST_RUN_TIME}")
    if edited.count(_CLOCK_LOOKUP) == 1:
        edited = edited.replace(_CLOCK_LOOKUP, _SINGLE_CLOCK_LOOKUP)
    if edited.count(_NEXT_CLOCKS) == 1:
        edited = edited.replace(_NEXT_CLOCKS, _SINGLE_NEXT_CLOCK)
    if edited == source:
        logger.debug("network.cpp does not match the known Brian2 loop; left unchanged")
    return edited


class _EditingWriter:
    """Passes files to Brian2's writer, editing ``network.cpp`` on the way."""

    def __init__(self, writer):
        self._writer = writer

    def write(self, filename, contents):
        if filename == "network.*":
            self._writer.write("network.cpp", lean_network_loop(contents.cpp_file))
            self._writer.write("network.h", contents.h_file)
        else:
            self._writer.write(filename, contents)

    def __getattr__(self, name):
        return getattr(self._writer, name)


@contextlib.contextmanager
def writing_lean_network_loop(device):
    """Within this context, ``device`` writes ``network.cpp`` with the lean loop.

    Parameters
    ----------
    device : brian2.devices.cpp_standalone.CPPStandaloneDevice
        The device object itself (``brian2.get_device()``), not Brian2's
        ``device`` proxy, on which an attribute set would not reach the device.
        Afterwards the device writes Brian2's loop again, so that a user's own
        networks in the same process are not affected.
    """
    previous = vars(device).get("generate_network_source")
    original = device.generate_network_source

    def generate_network_source(writer, compiler):
        original(_EditingWriter(writer), compiler)

    device.generate_network_source = generate_network_source
    try:
        yield
    finally:
        if previous is None:
            del device.generate_network_source
        else:
            device.generate_network_source = previous
