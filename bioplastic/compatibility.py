"""Check a built network against a device's limits before any code is generated.

brian2genn supports a subset of Brian2 (see ``docs/devices.md``). Its own checks
run late, some only when the generated C++ fails to compile, and some features it
drops without a word (a ``run_regularly`` whose name lacks ``_run_regularly_``).
:func:`check_network` inspects the Brian2 objects of a network built on the
runtime device and raises :class:`DeviceCompatibilityError` listing every feature
the device lacks, naming the object and the statement, so that a user learns at
once which part of which model file to change. There is no silent fallback to
another device.
"""

import re

import numpy as np
from brian2 import NeuronGroup, Synapses, TimedArray
from brian2.core.clocks import defaultclock
from brian2.equations.equations import SUBEXPRESSION
from brian2.groups.group import CodeRunner
from brian2.utils.stringtools import get_identifiers


class DeviceCompatibilityError(RuntimeError):
    """A network uses features that the chosen device does not support."""

    def __init__(self, device_name, network_name, problems):
        self.device_name = device_name
        self.problems = list(problems)
        listing = "\n".join(f"  - {problem}" for problem in self.problems)
        super().__init__(f"the {network_name} network cannot run on the '{device_name}' "
                         f"device; it uses {len(self.problems)} feature(s) that the "
                         f"device lacks:\n{listing}")


_ASSIGNMENT = re.compile(r"^\s*([A-Za-z_]\w*)\s*(\+=|-=|\*=|/=|=)(?!=)")


def _assignments(code):
    """``(variable, operator)`` of each assignment statement in abstract code."""
    for line in str(code).splitlines():
        match = _ASSIGNMENT.match(line.split("#", 1)[0])
        if match:
            yield match.group(1), match.group(2)


def _reads(code):
    """Identifiers that abstract code reads (right-hand sides, and in-place targets)."""
    read = set()
    for line in str(code).splitlines():
        line = line.split("#", 1)[0]
        match = _ASSIGNMENT.match(line)
        if match:
            read |= get_identifiers(line[match.end():])
            if match.group(2) != "=":
                read.add(match.group(1))
        else:
            read |= get_identifiers(line)
    return read


def _subexpressions(group):
    equations = getattr(group, "equations", None)
    if equations is None:
        return set()
    return {eq.varname for eq in equations.values() if eq.type == SUBEXPRESSION}


def _run_regularly_operations(objects):
    for obj in objects:
        for contained in getattr(obj, "contained_objects", []):
            # run_regularly makes plain CodeRunners (state updaters etc. subclass it)
            if type(contained) is CodeRunner:
                yield obj, contained


def genn_problems(objects):
    """The brian2genn limits that ``objects`` (Brian2 groups and synapses) break."""
    problems = []
    groups = [o for o in objects if isinstance(o, (NeuronGroup, Synapses))]
    timed_arrays = {o.name for o in objects if isinstance(o, TimedArray)}
    for group in groups:
        if group.clock is not defaultclock and group.clock.name != "defaultclock":
            problems.append(f"{group.name} has its own clock (brian2genn: one clock only)")
        if getattr(group, "_linked_variables", None):
            problems.append(f"{group.name} has linked variables "
                            f"({', '.join(sorted(group._linked_variables))})")
        # TimedArrays may be read only by run_regularly code (it runs on the host)
        equations = str(getattr(group, "equations", ""))
        used = get_identifiers(equations) & timed_arrays
        if used:
            problems.append(f"{group.name} reads TimedArray {', '.join(sorted(used))} in "
                            "its equations (brian2genn: only in run_regularly code)")
    for group, operation in _run_regularly_operations(groups):
        shared = {name for name, variable in group.variables.items()
                  if getattr(variable, "scalar", False) and not variable.constant
                  and not name.startswith("_") and name not in ("t", "dt", "N", "t_in_timesteps")}
        read = _reads(operation.abstract_code) & shared
        if read:
            problems.append(
                f"run_regularly '{operation.name}' of {group.name} reads the shared "
                f"variable(s) {', '.join(sorted(read))}; brian2genn cannot copy shared "
                "variables from GeNN for host code (it may only write them)")
        if operation.when != "start":
            problems.append(
                f"run_regularly '{operation.name}' of {group.name} runs in the "
                f"'{operation.when}' slot (brian2genn runs run_regularly only at the "
                "start of a time step)")
        if "_run_regularly_" not in operation.name + "_":
            problems.append(f"run_regularly '{operation.name}' of {group.name}: brian2genn "
                            "recognises run_regularly operations by '_run_regularly' in "
                            "their name and would leave this one out")
    for synapses in (o for o in objects if isinstance(o, Synapses)):
        problems.extend(_synapse_problems(synapses))
    return problems


def _synapse_problems(synapses):
    problems = []
    name = synapses.name
    pathways = {p.prepost: p for p in synapses._pathways}
    for prepost in ("pre", "post"):
        if sum(1 for p in synapses._pathways if p.prepost == prepost) > 1:
            problems.append(f"{name} has several {prepost}-synaptic pathways")
    for pathway in synapses._pathways:
        delay = pathway.variables["delay"]
        if not delay.scalar and np.ptp(np.asarray(pathway.delay_[:])) > 0:
            problems.append(f"{name} has a different delay on each synapse "
                            f"({pathway.prepost} pathway); brian2genn needs one delay "
                            "for all (model files: input_delay_max = 0*ms)")
    summed = list(getattr(synapses, "summed_updaters", {}).keys())
    if len(summed) > 1:
        problems.append(f"{name} has {len(summed)} summed variables ({', '.join(summed)}); "
                        "brian2genn allows one per Synapses")
    on_pre = pathways.get("pre")
    if on_pre is not None:
        post_writes = [(var, op) for var, op in _assignments(on_pre.code)
                       if var.endswith("_post")]
        for var, op in post_writes:
            if op != "+=":
                problems.append(f"{name} on_pre sets '{var} {op} ...': GeNN only supports "
                                "'+=' on post-synaptic variables")
        if summed and post_writes:
            problems.append(f"{name} combines the summed variable {summed[0]} with the "
                            f"post-synaptic write '{post_writes[0][0]}' in on_pre")
    # subexpressions of the synapses or of either group, used in synaptic code
    subexpressions = set(_subexpressions(synapses))
    subexpressions |= {f"{sub}_pre" for sub in _subexpressions(synapses.source)}
    subexpressions |= {f"{sub}_post" for sub in _subexpressions(synapses.target)}
    code = [str(p.code) for p in synapses._pathways]
    code += [str(eq) for eq in synapses.equations.values() if eq.type != SUBEXPRESSION]
    used = set().union(*(get_identifiers(c) for c in code)) & subexpressions if code else set()
    if used:
        problems.append(f"{name} uses the subexpression(s) {', '.join(sorted(used))} in its "
                        "synaptic code; brian2genn supports no subexpressions there "
                        "(store them as state variables)")
    return problems


def check_network(objects, device_name, network_name):
    """Raise :class:`DeviceCompatibilityError` if ``device_name`` cannot run these objects."""
    if device_name != "genn":
        return
    problems = genn_problems(list(objects))
    if problems:
        raise DeviceCompatibilityError(device_name, network_name, problems)
