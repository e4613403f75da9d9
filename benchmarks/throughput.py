"""Training throughput and peak memory, per device (Diehl & Cook, sym-STDP or MSTDP).

Trains with the papers' timing (D&C and sym-STDP: dt 0.5 ms, 350 ms + 150 ms rest) on
MNIST through the normal training loop (chunks, checkpoints) and reports samples/s
and ms per sample for each device in the same invocation, the compile time, and the
peak resident memory of the Python process and of the compiled simulation. By
default the runtime device trains on the same samples as the compiled devices, so
that the speed-up compares identical work; with a smaller ``--runtime-samples``
(quicker) the speed-up is taken per presentation, the unit both devices simulate,
although early samples, which repeat more often at raised input rates, cost the
compiled program more per presentation than later ones.

Usage (figures in docs/benchmarks.md; ``diehl_cook_throughput.py`` is this script)::

    python benchmarks/diehl_cook_throughput.py --neurons 400
    python benchmarks/diehl_cook_throughput.py --neurons 1600 --devices cpp_standalone \\
        --standalone-samples 1000 --name diehl_cook_throughput_1600
    python benchmarks/diehl_cook_throughput.py --model sym-stdp --neurons 1600 \\
        --devices cpp_standalone --standalone-samples 500

    python benchmarks/throughput.py --model mstdp --neurons 2048 \
        --devices cpp_standalone,runtime --standalone-samples 4 --runtime-samples 1

    # in the GeNN environment (Brian2 2.5, brian2genn; GENN_PATH set), CPU-only mode:
    BIOPLASTIC_GENN_CPU_ONLY=1 python benchmarks/throughput.py --neurons 400 \
        --devices genn,runtime --name diehl_cook_throughput_400_genn_cpu

``--standalone-samples`` applies to every compiled device (cpp_standalone, genn,
cuda_standalone). genn's time excludes the build during its first chunk (listed as
compile time).

``--model sym-stdp`` measures the simultaneous schedule (both weight layers learn);
``--model mstdp`` the train mode with the model file's iteration counts (the paper's
10 cycles of 32 clamped + 32 free iterations per sample unless ``--set`` changes them).
"""

import argparse
import json
import os
import resource
import sys
import tempfile
import threading
import time
from pathlib import Path

from bioplastic.devices import device_report
from bioplastic.training import MODELS, Run, RunConfig, machine_info

HERE = Path(__file__).resolve().parent


def _python_peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class ChildMemoryMonitor(threading.Thread):
    """Poll the peak resident memory (``VmHWM``) of every descendant process.

    ``getrusage(RUSAGE_CHILDREN)`` is not usable here: on Linux a child's maximum
    includes the parent's pages it had between ``fork`` and ``exec``, so it reports
    the Python process's size again.  ``VmHWM`` in ``/proc/<pid>/status`` is the
    child's own high-water mark; it only grows, so polling it every 20 ms misses at
    most the last 20 ms of a process's life.  Peaks are kept per command name
    (``main`` is the compiled simulation, ``cc1plus`` the compiler).
    """

    def __init__(self, interval=0.02):
        super().__init__(daemon=True)
        self.interval = interval
        self.peak_mb = {}
        self._stop_event = threading.Event()

    def _descendants(self):
        children, stack = [], [os.getpid()]
        while stack:
            pid = stack.pop()
            try:
                with open(f"/proc/{pid}/task/{pid}/children") as handle:
                    kids = [int(kid) for kid in handle.read().split()]
            except OSError:
                continue
            children.extend(kids)
            stack.extend(kids)
        return children

    def run(self):
        while not self._stop_event.wait(self.interval):
            for pid in self._descendants():
                try:
                    with open(f"/proc/{pid}/status") as handle:
                        status = dict(line.split(":", 1) for line in handle if ":" in line)
                except OSError:
                    continue
                name = status.get("Name", "?").strip()
                hwm = status.get("VmHWM")
                if hwm:
                    mb = int(hwm.split()[0]) / 1024
                    self.peak_mb[name] = max(self.peak_mb.get(name, 0.0), mb)

    def stop(self):
        self._stop_event.set()
        self.join()


def main(argv=None, script="throughput.py"):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="diehl-cook", choices=sorted(MODELS))
    parser.add_argument("--neurons", type=int, default=400)
    parser.add_argument("--devices", default="cpp_standalone,runtime")
    parser.add_argument("--standalone-samples", type=int, default=3000)
    parser.add_argument("--runtime-samples", type=int, default=None,
                        help="samples for the runtime device (default: --standalone-samples)")
    parser.add_argument("--data-dir", default=str(HERE.parent.parent / "shared" / "data"))
    parser.add_argument("--name", default=None)
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                        help="override a model-file parameter")
    args = parser.parse_args(argv)
    overrides = dict(item.split("=", 1) for item in args.set)
    name = args.name or f"{args.model.replace('-', '_')}_throughput_{args.neurons}"
    figures = {"model": args.model, "neurons": args.neurons, "overrides": overrides,
               "machine": machine_info(), "devices": {},
               "command": f"python benchmarks/{script} "
                          + " ".join(sys.argv[1:] if argv is None else argv),
               "date": time.strftime("%Y-%m-%d")}
    for device in args.devices.split(","):
        samples = args.standalone_samples
        if device == "runtime" and args.runtime_samples is not None:
            samples = args.runtime_samples
        config = RunConfig(model=args.model, n_neurons=args.neurons, train_samples=samples,
                           schedule="simultaneous" if args.model == "sym-stdp" else None,
                           assign_samples=0, test_samples=0, device=device,
                           data_dir=args.data_dir, chunk_slots=min(500, samples),
                           overrides=overrides)
        monitor = ChildMemoryMonitor()
        monitor.start()
        with tempfile.TemporaryDirectory() as out:
            run = Run(config, out, progress=False)
            run.run(phases=("train",))
            progress = run.meta["progress"]["train"]
        monitor.stop()
        python_mb = _python_peak_rss_mb()
        simulation_mb = monitor.peak_mb.get("main", 0.0)
        compiler_mb = max((mb for name, mb in monitor.peak_mb.items() if name != "main"),
                          default=0.0)
        compile_seconds = run.meta["compile_seconds"]["train"]
        seconds = progress["seconds"]  # without genn's build in its first chunk
        figures["devices"][device] = {
            "samples": samples, "seconds": seconds,
            "presentations": progress["slots"],
            "samples_per_second": samples / seconds,
            "presentations_per_second": progress["slots"] / seconds,
            "ms_per_sample": 1000 * seconds / samples,
            "compile_seconds": compile_seconds,
            "status": dict(device_report())[device],
            "peak_rss_python_mb": python_mb, "peak_rss_simulation_mb": simulation_mb,
            "peak_rss_compiler_mb": compiler_mb,
            "peak_rss_children_mb": dict(sorted(monitor.peak_mb.items()))}
        info = figures["devices"][device]
        print(f"{device:>15}: {info['samples_per_second']:.1f} samples/s, "
              f"{info['ms_per_sample']:.1f} ms/sample ({samples} samples, "
              f"{info['presentations']} presentations), compile {info['compile_seconds']:.1f} s, "
              f"peak RSS: python {python_mb:.0f} MB, simulation {simulation_mb:.0f} MB, "
              f"compiler {compiler_mb:.0f} MB")
    devices = figures["devices"]
    if "cpp_standalone" in devices and "runtime" in devices:
        # With the same samples on both devices the two ratios nearly coincide
        # (their random streams differ, so a few presentations may too); otherwise
        # compare the same unit of simulated work: one presentation (350 ms + rest,
        # 1000 time steps at dt 0.5 ms).
        figures["speedup"] = (devices["cpp_standalone"]["presentations_per_second"]
                              / devices["runtime"]["presentations_per_second"])
        figures["speedup_samples"] = (devices["cpp_standalone"]["samples_per_second"]
                                      / devices["runtime"]["samples_per_second"])
        print(f"cpp_standalone / runtime: {figures['speedup']:.1f}x per presentation "
              f"({figures['speedup_samples']:.1f}x per sample)")
    print(f"machine: {figures['machine']}")
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / f"{name}.json").write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
