"""The ``genn`` device: brian2genn 1.7 with one fix that bioplastic's networks need.

brian2genn runs ``run_regularly`` operations on the host, copying the variables
they read from GeNN before and the ones they write back after. For an operation
of a ``Synapses`` object it only knows the synapses' own variables: one that
reads or writes a variable of the post-synaptic group (the column normalisation
``w_total_post += w`` of the Diehl & Cook and sym-STDP networks) produces C++ that
names a GeNN array which does not exist, and the build fails.

:class:`BioplasticGeNNDevice` takes such group variables out of brian2genn's lists
and copies them itself, in the generated ``engine.cpp``, around the operation:
pulled from GeNN into Brian's array before, pushed back after. Nothing installed
is edited; the device is registered under the name ``genn`` when this module is
imported (by :mod:`bioplastic.simulation` when the ``genn`` device is chosen).

The copies follow brian2genn's own protocol, which matters on a GPU (in GeNN's
CPU-only mode host and device memory are one): the ``run_regularly`` operations of
a time step work on GeNN's host arrays, in their order, and brian2genn pushes what
they wrote to the GPU only after the last of them. Host arrays are brought up to
date from the GPU at the end of the time step before. So a group variable that an
operation reads is added to that end-of-step pull, and is not pulled again just
before the operation: that would overwrite a value which an earlier operation of
the same step wrote on the host but brian2genn had not pushed yet (the slot-start
``w_total = 0``, measured on an H100: the sum then grew from slot to slot and the
weights shrank towards zero). A variable an operation writes is pushed at once.
"""

from brian2.devices.device import all_devices
from brian2genn.device import GeNNDevice


class BioplasticGeNNDevice(GeNNDevice):
    """brian2genn's device with group variables allowed in synaptic ``run_regularly``."""

    def code_object(self, owner, name, abstract_code, variables, template_name,
                    variable_indices, codeobj_class=None, template_kwds=None,
                    override_conditional_write=None, **kwds):
        codeobj = super().code_object(owner, name, abstract_code, variables, template_name,
                                      variable_indices, codeobj_class=codeobj_class,
                                      template_kwds=template_kwds,
                                      override_conditional_write=override_conditional_write,
                                      **kwds)
        access = self.run_regularly_read_write.get(getattr(codeobj, "name", None))
        if access is not None and not hasattr(access, "foreign_read"):
            access = _split_foreign(owner, variables, access)
            self.run_regularly_read_write[codeobj.name] = access
        return codeobj

    def consolidate_pull_operations(self, run_regularly_operations):
        """brian2genn's end-of-step pulls, plus the group variables read by synapses."""
        pull_for_start, pull_for_end = super().consolidate_pull_operations(
            run_regularly_operations)
        for operation in run_regularly_operations:
            access = self.run_regularly_read_write.get(operation["codeobj"].name)
            for group, var, _ in getattr(access, "foreign_read", ()):
                steps = set(pull_for_start.get(f"{var}{group}", [])) | {operation["step"]}
                pull_for_start[f"{var}{group}"] = [1] if 1 in steps else sorted(steps)
        return pull_for_start, pull_for_end

    def generate_engine_source(self, writer, objects):
        super().generate_engine_source(_EngineWriter(writer, self.run_regularly_read_write),
                                       objects)


class _Access(dict):
    """brian2genn's ``{'read': ..., 'write': ...}`` plus the group variables."""


def _split_foreign(owner, variables, access):
    """Move variables owned by another group out of brian2genn's read/write sets."""
    def foreign(name):
        variable = variables[name]
        return (name not in ("t", "dt") and getattr(variable, "owner", None) is not None
                and variable.owner.name != owner.name)

    split = _Access(read={v for v in access["read"] if not foreign(v)},
                    write={v for v in access["write"] if not foreign(v)})
    split.foreign_read = sorted({(variables[v].owner.name, variables[v].name,
                                  variables[v].size) for v in access["read"] if foreign(v)})
    split.foreign_write = sorted({(variables[v].owner.name, variables[v].name,
                                   variables[v].size) for v in access["write"] if foreign(v)})
    return split


class _EngineWriter:
    """Writes ``engine.cpp`` with the group-variable copies inserted."""

    def __init__(self, writer, accesses):
        self._writer = writer
        self._accesses = accesses

    def write(self, filename, contents):
        code = contents.cpp_file
        for name, access in self._accesses.items():
            if not getattr(access, "foreign_read", None) and not getattr(
                    access, "foreign_write", None):
                continue
            call = f"_run_{name}();"
            if call not in code:
                raise RuntimeError(f"brian2genn's engine.cpp has no call {call}: this "
                                   "brian2genn version is not supported (use 1.7.0)")
            # no pull here: see the module docstring
            before = "".join(
                f"std::copy_n({var}{group}, {size}, brian::_array_{group}_{var});\n"
                for group, var, size in access.foreign_read)
            after = "".join(
                f"std::copy_n(brian::_array_{group}_{var}, {size}, {var}{group});\n"
                f"push{var}{group}ToDevice();\n"
                for group, var, size in access.foreign_write)
            code = code.replace(call, before + call + "\n" + after)
        contents.cpp_file = code
        self._writer.write(filename, contents)


all_devices["genn"] = BioplasticGeNNDevice()
