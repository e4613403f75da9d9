"""Tables of a sweep: one row per point, mean ± sd per configuration.

Written into the sweep folder as the points finish:

``points.csv``
    one row per point (status, varied values, seed, accuracies, timings);
``summary.csv``
    one row per configuration: number of seeds, mean and sample
    standard deviation (ddof = 1) of every accuracy, mean training time;
``summary.md``
    the same as a Markdown table (accuracies in %);
``summary.json``
    the same with the machine and sweep description, for reports;
``accuracy.png``
    accuracy against the first varied key, with error bars (sd).
"""

import csv
import json
from pathlib import Path

import numpy as np

from .atomicfile import atomic_open, write_text_atomically
from .training import RESULTS

__all__ = ["point_rows", "summarize", "write_tables", "markdown_table", "TABLE_FILES"]

#: the tables :func:`write_tables` writes into a sweep folder
TABLE_FILES = ("points.csv", "summary.csv", "summary.md", "summary.json")


def _accuracy_keys(results):
    return [k for k in results if k.startswith("accuracy")]


def point_rows(sweep, out_dir, failures=None):
    """One dict per point, in sweep order (finished, failed or pending)."""
    from .sweep import point_finished, point_folder
    failures = failures or {}
    rows = []
    for point in sweep.points:
        folder = point_folder(out_dir, point)
        row = {"point": point.ident, **dict(point.values), "seed": point.seed}
        if point_finished(out_dir, point):
            results = json.loads((folder / RESULTS).read_text())
            row["status"] = "finished"
            for key in _accuracy_keys(results):
                row[key] = results[key]
            phases = results["phases"]
            row["train_seconds"] = sum(p["seconds"] for name, p in phases.items()
                                       if name.startswith("train"))
            row["total_seconds"] = sum(p["seconds"] for p in phases.values())
            row["machine"] = results.get("machine", {}).get("cpu")
        elif point.ident in failures:
            row["status"] = "failed"
            row["error"] = failures[point.ident]
        else:
            row["status"] = "pending"
        rows.append(row)
    return rows


def _mean_sd(values):
    values = np.asarray(values, dtype=float)
    # one seed has no spread: None (empty in the tables, null in JSON)
    sd = float(np.std(values, ddof=1)) if len(values) > 1 else None
    return float(np.mean(values)), sd


def summarize(rows, varied):
    """Mean and sd over seeds of each configuration's finished points."""
    groups = {}
    for row in rows:
        key = tuple(row.get(name) for name in varied)
        groups.setdefault(key, []).append(row)
    summary = []
    for key, members in groups.items():
        done = [r for r in members if r["status"] == "finished"]
        entry = {**dict(zip(varied, key)), "seeds": [r["seed"] for r in done],
                 "n": len(done), "of": len(members)}
        keys = sorted({k for r in done for k in r if k.startswith("accuracy")})
        for name in keys:
            values = [r[name] for r in done if name in r]
            entry[f"{name}_mean"], entry[f"{name}_sd"] = _mean_sd(values)
        if done:
            entry["train_seconds_mean"] = float(np.mean([r["train_seconds"] for r in done]))
        summary.append(entry)
    return summary


def _write_csv(path, rows):
    columns = []
    for row in rows:
        columns += [k for k in row if k not in columns]
    with atomic_open(path, "w", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=columns)
        writer.writeheader()
        for row in rows:
            writer.writerow({k: (";".join(map(str, v)) if isinstance(v, list) else v)
                             for k, v in row.items()})


def _percent(mean, sd):
    if sd is None:
        return f"{100 * mean:.2f}"
    return f"{100 * mean:.2f} ± {100 * sd:.2f}"


def markdown_table(summary, varied):
    """The summary as a Markdown table (accuracies in %, mean ± sd over seeds)."""
    accuracy_names = sorted({k[:-5] for entry in summary for k in entry
                             if k.startswith("accuracy") and k.endswith("_mean")})
    if "accuracy" in accuracy_names:  # the headline first
        accuracy_names.remove("accuracy")
        accuracy_names.insert(0, "accuracy")
    header = list(varied) + ["seeds"] + [f"{n} (%)" for n in accuracy_names] + [
        "train time (s)"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for entry in summary:
        cells = [str(entry.get(name)) for name in varied]
        cells.append(f"{entry['n']}/{entry['of']}")
        for name in accuracy_names:
            if f"{name}_mean" in entry:
                cells.append(_percent(entry[f"{name}_mean"], entry[f"{name}_sd"]))
            else:
                cells.append("")
        seconds = entry.get("train_seconds_mean")
        cells.append("" if seconds is None else f"{seconds:.1f}")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def write_tables(sweep, out_dir, failures=None):
    """Write points.csv, summary.csv/.md/.json and accuracy.png.

    Returns
    -------
    tuple
        ``(paths written, rows, summary)``.
    """
    from .plotting import sweep_accuracy
    from .training import machine_info
    out_dir = Path(out_dir)
    rows = point_rows(sweep, out_dir, failures)
    summary = summarize(rows, sweep.varied)
    paths = [out_dir / name for name in TABLE_FILES]
    _write_csv(paths[0], rows)
    _write_csv(paths[1], summary)
    done = sum(r["status"] == "finished" for r in rows)
    failed = sum(r["status"] == "failed" for r in rows)
    text = (f"# Sweep {sweep.name}: {sweep.model}\n\n"
            f"{done} of {len(rows)} points finished, {failed} failed; mean ± sample sd "
            f"over seeds {', '.join(map(str, sweep.seeds))}.\n\n"
            + markdown_table(summary, sweep.varied))
    write_text_atomically(paths[2], text)
    document = {"sweep": sweep.to_dict(), "machine": machine_info(), "summary": summary,
                "points": rows}
    write_text_atomically(paths[3], json.dumps(document, indent=2, default=str))
    if any("accuracy_mean" in entry for entry in summary):
        paths.append(sweep_accuracy(summary, sweep.varied, out_dir / "accuracy.png",
                                    title=f"{sweep.name} ({sweep.model})"))
    return [str(p) for p in paths], rows, summary
