"""Diehl & Cook 2015 training throughput and peak memory, per device.

Trains with the paper's timing (dt 0.5 ms, 350 ms presentation + 150 ms rest) on
MNIST through the normal training loop (chunks, checkpoints) and reports samples/s
and ms per sample for each device in the same invocation, the compile time, and the
peak resident memory of the Python process and of the compiled simulation.

Usage (figures in docs/benchmarks.md)::

    python benchmarks/diehl_cook_throughput.py --neurons 400
    python benchmarks/diehl_cook_throughput.py --neurons 1600 --devices cpp_standalone \\
        --standalone-samples 1000 --name diehl_cook_throughput_1600
"""

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

from bioplastic.training import Run, RunConfig, machine_info

HERE = Path(__file__).resolve().parent


def _peak_rss_mb():
    self_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return self_kb / 1024, children_kb / 1024


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--neurons", type=int, default=400)
    parser.add_argument("--devices", default="cpp_standalone,runtime")
    parser.add_argument("--standalone-samples", type=int, default=3000)
    parser.add_argument("--runtime-samples", type=int, default=300)
    parser.add_argument("--data-dir", default=str(HERE.parent.parent / "shared" / "data"))
    parser.add_argument("--name", default=None)
    args = parser.parse_args(argv)
    name = args.name or f"diehl_cook_throughput_{args.neurons}"
    figures = {"neurons": args.neurons, "machine": machine_info(), "devices": {},
               "command": "python benchmarks/diehl_cook_throughput.py "
                          + " ".join(sys.argv[1:] if argv is None else argv),
               "date": time.strftime("%Y-%m-%d")}
    for device in args.devices.split(","):
        samples = args.standalone_samples if device == "cpp_standalone" else args.runtime_samples
        config = RunConfig(model="diehl-cook", n_neurons=args.neurons, train_samples=samples,
                           assign_samples=0, test_samples=0, device=device,
                           data_dir=args.data_dir, chunk_slots=min(500, samples))
        with tempfile.TemporaryDirectory() as out:
            run = Run(config, out, progress=False)
            run.run(phases=("train",))
            progress = run.meta["progress"]["train"]
        python_mb, simulation_mb = _peak_rss_mb()
        figures["devices"][device] = {
            "samples": samples, "seconds": progress["seconds"],
            "presentations": progress["slots"],
            "samples_per_second": samples / progress["seconds"],
            "ms_per_sample": 1000 * progress["seconds"] / samples,
            "compile_seconds": run.meta["compile_seconds"]["train"],
            "peak_rss_python_mb": python_mb, "peak_rss_simulation_mb": simulation_mb}
        info = figures["devices"][device]
        print(f"{device:>15}: {info['samples_per_second']:.1f} samples/s, "
              f"{info['ms_per_sample']:.1f} ms/sample ({samples} samples, "
              f"{info['presentations']} presentations), compile {info['compile_seconds']:.1f} s, "
              f"peak RSS python {python_mb:.0f} MB / child processes (compiler, simulation) {simulation_mb:.0f} MB")
    devices = figures["devices"]
    if "cpp_standalone" in devices and "runtime" in devices:
        figures["speedup"] = (devices["cpp_standalone"]["samples_per_second"]
                              / devices["runtime"]["samples_per_second"])
        print(f"cpp_standalone / runtime: {figures['speedup']:.1f}x")
    print(f"machine: {figures['machine']}")
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / f"{name}.json").write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
