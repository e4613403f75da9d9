"""Sweeps on Dask: config checks, a 2 x 2 x 2-seed grid, killed workers, restarts."""

import csv
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from brian2 import mV

from bioplastic.checkpoint import CheckpointError, load_checkpoint
from bioplastic.cli import main
from bioplastic.sweep import ATTEMPTS_FILE, SWEEP_FILE, SWEEP_LOCK, point_folder, run_sweep
from bioplastic.sweep_config import SweepConfigError, load_sweep_config, parse_sweep_config
from bioplastic.training import Run
from conftest import TRAIN_DEVICE, lock_held_elsewhere, needs_standalone

# A tiny Diehl & Cook network; both sweeps share its compiled projects.
TINY_SETTINGS = f"""
[settings]
neurons = 10
chunk_slots = 20
device = "{TRAIN_DEVICE}"

[protocol]
assign_samples = 20
test_samples = 20
curve_window = 20
"""

GRID = """
model = "diehl-cook"
seeds = [1, 2]

[grid]
theta_plus = ["0.05*mV", "0.1*mV"]
train_samples = [20, 40]
""" + TINY_SETTINGS


def _write(folder, name, text):
    path = folder / name
    path.write_text(text)
    return path


@pytest.fixture(scope="module")
def worker_caches(tmp_path_factory):
    """Compile caches of this module's sweeps: ``worker-0`` is the one the LocalCluster
    workers share, and also the own cache of the worker named ``0`` of an existing
    cluster, which therefore finds the grid's projects there."""
    return tmp_path_factory.mktemp("worker-caches")


def _local_cache(worker_caches):
    return worker_caches / "worker-0"


@pytest.fixture(scope="module")
def grid_sweep(data_dir, worker_caches, tmp_path_factory):
    """The 2 x 2 grid with 2 seeds, run on a LocalCluster with 2 workers."""
    folder = tmp_path_factory.mktemp("grid")
    sweep = load_sweep_config(_write(folder, "grid.toml", GRID), {"data_dir": str(data_dir)})
    outcome = run_sweep(sweep, folder / "out", workers=2,
                        cache_dir=_local_cache(worker_caches), progress=False)
    return sweep, folder / "out", outcome


# ------------------------------------------------------------------ bad configs
BAD = [
    ("model = 'diehl-cook'\ncolour = 1\n", "colour: unknown key"),
    ("model = 'hopfield'\n", "model: expected one of"),
    ("model = 'diehl-cook'\n[grid]\ntheta_pluss = ['0.1*mV']\n",
     "did you mean 'theta_plus'"),
    ("model = 'diehl-cook'\n[grid]\ntheta_plus = ['0.1*ms']\n", "theta_plus"),
    ("model = 'diehl-cook'\n[grid]\ntau_theta = [5]\n", "tau_theta"),
    ("model = 'diehl-cook'\n[settings]\nneurons = 'many'\n",
     "settings.neurons: expected int, got str"),
    ("model = 'diehl-cook'\n[grid]\nseed = [1, 2]\n", "top-level 'seeds' list"),
    ("model = 'diehl-cook'\nseeds = [1, 1]\n", "repeated seed"),
    ("model = 'diehl-cook'\n[grid]\nneurons = []\n", "non-empty list"),
    ("model = 'diehl-cook'\n[protocol]\ntest_samples = 20000\n", "test_samples = 20000"),
    ("model = 'diehl-cook'\n[settings]\ndataset = 'cifar'\n", "dataset must be one of"),
    ("model = 'diehl-cook'\n[settings]\ntrain_samples = 5\n",
     "settings.train_samples: unknown key"),
    ("model = 'diehl-cook'\n[grid\n", "cannot parse"),
]


@pytest.mark.parametrize("text, message", BAD, ids=[m for _, m in BAD])
def test_bad_configs_are_rejected_before_anything_runs(tmp_path, capsys, text, message):
    config = _write(tmp_path, "bad.toml", text)
    out = tmp_path / "out"
    assert main(["-q", "sweep", str(config), "--out", str(out)]) == 2
    error = capsys.readouterr().err
    assert str(config) in error and message in error
    assert not out.exists()  # nothing was started or written


def test_wrong_unit_names_the_point_and_the_model_field(tmp_path):
    with pytest.raises(SweepConfigError) as info:
        parse_sweep_config({"model": "diehl-cook", "grid": {"theta_plus": ["0.05*mV",
                                                                            "3*ms"]}})
    text = str(info.value)
    assert "theta_plus=3*ms" in text and "field 'theta_plus'" in text
    assert "diehl_cook_2015.py" in text


def test_yaml_file_and_explicit_points(tmp_path):
    config = _write(tmp_path, "sweep.yaml", """
model: sym-stdp
seeds: [3, 4]
settings: {hidden: 20}
points:
  - {theta_plus: "0.05*mV", schedule: simultaneous}
  - {theta_plus: "0.1*mV"}
grid:
  train_samples: [10, 30]
""")
    sweep = load_sweep_config(config)
    assert sweep.varied == ("theta_plus", "schedule", "train_samples")
    assert len(sweep.points) == 2 * 2 * 2
    first = sweep.points[0]
    assert first.config.schedule == "simultaneous" and first.config.n_neurons == 20
    assert first.config.overrides == {"theta_plus": "0.05*mV"}
    assert [p.seed for p in sweep.points[:2]] == [3, 4]
    assert len({p.ident for p in sweep.points}) == 8


# ------------------------------------------------------------------ running
@needs_standalone
def test_grid_sweep_on_a_local_cluster(grid_sweep, worker_caches):
    sweep, out, outcome = grid_sweep
    assert (outcome["ran"], outcome["skipped"], outcome["failed"]) == (8, 0, 0)
    rows = list(csv.DictReader(open(out / "points.csv")))
    assert len(rows) == 8 and {r["status"] for r in rows} == {"finished"}
    # each point is an ordinary run with the swept values in its model and config
    for point in sweep.points:
        arrays, meta = load_checkpoint(point_folder(out, point) / "checkpoint.npz")
        values = dict(point.values)
        assert meta["config"]["train_samples"] == values["train_samples"]
        assert meta["config"]["seed"] == point.seed
        expected = 0.05 * mV if values["theta_plus"] == "0.05*mV" else 0.1 * mV
        assert meta["model_values"]["theta_plus"] == repr(expected)
        assert meta["progress"]["train"]["position"] == values["train_samples"]
    # mean and sample sd per configuration, computed again from the results files
    summary = json.loads((out / "summary.json").read_text())["summary"]
    assert len(summary) == 4
    for entry in summary:
        accuracies = [json.loads((point_folder(out, p) / "results.json").read_text())
                      ["accuracy"] for p in sweep.points
                      if dict(p.values) == {k: entry[k] for k in sweep.varied}]
        assert entry["n"] == 2 and entry["seeds"] == [1, 2]
        assert entry["accuracy_mean"] == pytest.approx(np.mean(accuracies))
        assert entry["accuracy_sd"] == pytest.approx(np.std(accuracies, ddof=1))
    table = (out / "summary.md").read_text()
    assert "| theta_plus | train_samples | seeds | accuracy (%)" in table
    assert table.count("| 2/2 |") == 4
    assert (out / "accuracy.png").stat().st_size > 1000
    # the two workers shared one compile cache
    assert sorted(p.name for p in worker_caches.iterdir()) == ["worker-0"]
    if TRAIN_DEVICE == "cpp_standalone":
        # 8 points, 2 networks (theta_plus values) x 2 modes: seeds and sample
        # counts reach the compiled programs at run time, so the sweep compiled
        # these 4 projects once each, whichever worker ran which point
        projects = [p for p in (_local_cache(worker_caches) / "standalone").iterdir()
                    if p.is_dir()]
        assert len(projects) == 4


@needs_standalone
def test_restarted_finished_sweep_recomputes_nothing(grid_sweep, monkeypatch):
    sweep, out, _ = grid_sweep
    stamps = {p.ident: (point_folder(out, p) / "results.json").stat().st_mtime_ns
              for p in sweep.points}

    def no_cluster(*args, **kwargs):
        raise AssertionError("a finished sweep must not start workers")

    monkeypatch.setattr("bioplastic.sweep._start_client", no_cluster)
    # what a sweep killed while it wrote its tables leaves behind
    left = [out / "points.csv.k1lled.tmp", out / f"{SWEEP_FILE}.x7.tmp"]
    for path in left:
        path.write_text("partial")
    outcome = run_sweep(sweep, out, progress=False)
    assert (outcome["ran"], outcome["skipped"]) == (0, 8)
    assert not any(path.exists() for path in left)
    assert stamps == {p.ident: (point_folder(out, p) / "results.json").stat().st_mtime_ns
                      for p in sweep.points}


def test_a_second_sweep_into_a_running_sweeps_folder_is_refused(data_dir, tmp_path,
                                                                capsys):
    config = _write(tmp_path, "grid.toml", GRID)
    sweep = load_sweep_config(config, {"data_dir": str(data_dir)})
    out = tmp_path / "out"
    out.mkdir()
    stale = out / "summary.csv.w0rk1ng.tmp"
    stale.write_text("being written")
    with lock_held_elsewhere(out / SWEEP_LOCK):
        with pytest.raises(RuntimeError, match=f"{out}: another process is running in "
                                               "this folder"):
            run_sweep(sweep, out, progress=False)
        assert main(["-q", "sweep", str(config), "--out", str(out)]) == 2
        assert "another process is running in this folder" in capsys.readouterr().err
    # nothing was started, written or removed under the other sweep
    assert sorted(p.name for p in out.iterdir()) == sorted([SWEEP_LOCK, stale.name])


@needs_standalone
def test_sweep_on_an_existing_scheduler(grid_sweep, data_dir, worker_caches, tmp_path):
    from distributed import LocalCluster
    config = _write(tmp_path, "more.toml", GRID.replace("seeds = [1, 2]", "seeds = [3]")
                    .replace('["0.05*mV", "0.1*mV"]', '["0.05*mV"]')
                    .replace("[20, 40]", "[20]"))
    sweep = load_sweep_config(config, {"data_dir": str(data_dir)})
    projects = sorted((_local_cache(worker_caches) / "standalone").iterdir())
    with LocalCluster(n_workers=1, threads_per_worker=1, dashboard_address=":0") as cluster:
        outcome = run_sweep(sweep, tmp_path / "out", scheduler=cluster.scheduler_address,
                            cache_dir=worker_caches, progress=False)
        # the cluster is the caller's: the sweep leaves it running
        assert cluster.status.name == "running"
    assert (outcome["ran"], outcome["failed"]) == (1, 0)
    folder = point_folder(tmp_path / "out", sweep.points[0])
    assert _attempts(folder)[0]["worker"] == "0"
    assert json.loads((folder / "results.json").read_text())["config"]["seed"] == 3
    # the worker named 0 used its own cache, <cache>/worker-0, and found the
    # grid's network there: nothing new was compiled
    assert sorted(p.name for p in worker_caches.iterdir()) == ["worker-0"]
    assert sorted((_local_cache(worker_caches) / "standalone").iterdir()) == projects


def _position(folder):
    try:
        _, meta = load_checkpoint(folder / "checkpoint.npz")
    except (CheckpointError, OSError):
        return 0, False
    train = meta["progress"]["train"]
    return train["position"], train["done"]


def _attempts(folder):
    path = folder / ATTEMPTS_FILE
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line]


def _wait_mid_training(folder, driver, timeout=240):
    """Block until the point's training has checkpointed some chunks but not finished."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        assert driver.poll() is None, driver.stdout.read()
        position, done = _position(folder)
        if done:
            pytest.fail(f"{folder.name} finished before it could be interrupted")
        if position >= 40:
            return position
        time.sleep(0.02)
    pytest.fail(f"{folder.name} did not start training in {timeout} s")


@needs_standalone
def test_killed_worker_and_killed_sweep_lose_nothing(grid_sweep, data_dir, worker_caches,
                                                     tmp_path, monkeypatch):
    """A worker killed mid-point, then the whole sweep killed mid-point, then restarted."""
    config = _write(tmp_path, "kill.toml", """
model = "diehl-cook"
seeds = [1, 2]

[parameters]
theta_plus = "0.05*mV"
""" + TINY_SETTINGS.replace("[protocol]", "[protocol]\ntrain_samples = 600"))
    out = tmp_path / "out"
    sweep = load_sweep_config(config, {"data_dir": str(data_dir)})
    first, second = (point_folder(out, p) for p in sweep.points)
    driver = subprocess.Popen(
        [sys.executable, "-m", "bioplastic", "-q", "sweep", str(config), "--out", str(out),
         "--workers", "1", "--cache-dir", str(_local_cache(worker_caches)),
         "--data-dir", str(data_dir)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True)
    try:
        # 1. kill the worker running the first point; its nanny starts a new one
        killed_at = _wait_mid_training(first, driver)
        os.kill(_attempts(first)[-1]["pid"], signal.SIGKILL)
        # 2. kill the whole sweep (driver, scheduler, workers) in the second point
        _wait_mid_training(second, driver)
        os.killpg(driver.pid, signal.SIGKILL)
        driver.wait(timeout=30)
    finally:
        if driver.poll() is None:
            os.killpg(driver.pid, signal.SIGKILL)
    assert _position(first) == (600, True)  # the new worker finished it
    tries = _attempts(first)
    assert len(tries) == 2 and tries[1]["pid"] != tries[0]["pid"]
    assert tries[1]["resumed_at"]["train"] >= killed_at  # work before the kill was kept
    # 3. start the sweep again: the first point is skipped, the second resumed
    outcome = run_sweep(sweep, out, workers=1, cache_dir=_local_cache(worker_caches),
                        progress=False)
    assert (outcome["ran"], outcome["skipped"], outcome["failed"]) == (1, 1, 0)
    assert len(_attempts(first)) == 2
    assert _attempts(second)[-1]["resumed_at"]["train"] >= 40
    # both equal uninterrupted runs of the same configuration
    monkeypatch.setenv("BIOPLASTIC_CACHE", str(_local_cache(worker_caches)))
    for point, folder in zip(sweep.points, (first, second)):
        reference = tmp_path / f"reference-{point.seed}"
        Run(point.config, reference, progress=False).run()
        got, _ = load_checkpoint(folder / "checkpoint.npz")
        want, _ = load_checkpoint(reference / "checkpoint.npz")
        for key in ("weights", "theta", "test_counts", "assign_counts"):
            np.testing.assert_array_equal(got[key], want[key], err_msg=key)


def test_point_folders_do_not_depend_on_resumable_settings(tmp_path):
    document = {"model": "diehl-cook", "seeds": [1, 2],
                "grid": {"theta_plus": ["0.05*mV", "0.1*mV"]}}
    here = parse_sweep_config(document, overrides={"data_dir": "/data/a"})
    there = parse_sweep_config(document, overrides={"data_dir": "/mnt/b",
                                                    "device": "runtime"})
    assert [p.ident for p in here.points] == [p.ident for p in there.points]
    other = parse_sweep_config({**document, "protocol": {"test_samples": 100}})
    assert not {p.ident for p in here.points} & {p.ident for p in other.points}
