"""Sweep benchmark: run a sweep file on a Dask LocalCluster, keep its summary.

Prints the summary table and the machine; writes ``benchmarks/results/sweep_<name>.json``
(the sweep's ``summary.json`` plus the command and the wall time), from which
``report.py`` builds the multi-seed table in docs/benchmarks.md.

Usage (the figures in docs/benchmarks.md came from this command)::

    python benchmarks/sweep.py benchmarks/sweeps/diehl_cook_100_seeds.toml

The sweep folder (``--out``, default ``runs/sweep-<name>``) holds every point's
checkpoint: killing and restarting the same command skips the finished points and
resumes the others.
"""

import argparse
import json
import sys
import time
from pathlib import Path

from bioplastic.sweep import run_sweep, usable_cores
from bioplastic.sweep_config import load_sweep_config
from bioplastic.sweep_results import markdown_table

HERE = Path(__file__).resolve().parent


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("config", help="sweep file (benchmarks/sweeps/*.toml)")
    parser.add_argument("--data-dir", default=str(HERE.parent.parent / "shared" / "data"))
    parser.add_argument("--out", default=None, help="sweep folder (default runs/sweep-NAME)")
    parser.add_argument("--workers", type=int, default=None,
                        help="LocalCluster workers (default: one per core)")
    args = parser.parse_args(argv)
    sweep = load_sweep_config(args.config, {"data_dir": args.data_dir})
    out = Path(args.out or f"runs/sweep-{sweep.name}")
    start = time.time()
    outcome = run_sweep(sweep, out, workers=args.workers)
    wall = time.time() - start
    document = json.loads((out / "summary.json").read_text())
    document["benchmark"] = {
        "command": "python benchmarks/sweep.py " + " ".join(
            a for a in (argv if argv is not None else sys.argv[1:])
            if not a.startswith("--data-dir") and a != args.data_dir),
        "wall_seconds_this_invocation": wall, "workers": args.workers or min(
            usable_cores(), len(sweep.points)),
        "ran": outcome["ran"], "skipped": outcome["skipped"],
        "date": time.strftime("%Y-%m-%d")}
    document["table"] = markdown_table(outcome["summary"], sweep.varied)
    path = HERE / "results" / f"sweep_{sweep.name}.json"
    path.write_text(json.dumps(document, indent=2))
    print(document["table"])
    machine = document["machine"]
    print(f"{outcome['ran']} points ran, {outcome['skipped']} skipped, {outcome['failed']} "
          f"failed in {wall:.0f} s on {machine['cpu']} ({machine['cores']} cores)")
    print(f"wrote {path}")
    return 1 if outcome["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
