"""benchmarks/retest.py: the test phase of a finished run, run again with the same seed."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from bioplastic.datasets import load_dataset
from bioplastic.training import Run, RunConfig
from conftest import ROOT, TRAIN_DEVICE, benchmark_script


@pytest.fixture(scope="module")
def retest():
    return benchmark_script("retest")


@pytest.fixture(scope="module")
def trained(data_dir, tmp_path_factory):
    """A tiny finished sym-STDP run (read only: each test re-tests it into its own folder)."""
    # the size and chunk length of test_sym_stdp's runs: their compiled projects are reused
    config = RunConfig(model="sym-stdp", n_neurons=30, train_samples=200, assign_samples=50,
                       test_samples=100, chunk_slots=100, curve_window=100, seed=4,
                       device=TRAIN_DEVICE, data_dir=str(data_dir))
    run_dir = tmp_path_factory.mktemp("retest") / "run"
    Run(config, run_dir, progress=False).run()
    return run_dir


def test_retest_repeats_the_test_phase_of_a_trained_run(retest, trained, data_dir, tmp_path):
    shutil.copytree(trained, tmp_path / "run")
    stored = json.loads((tmp_path / "run" / "results.json").read_text())
    figures = retest.retest(tmp_path / "run", tmp_path / "again")
    assert figures["repeated_exactly"] == {"test_counts": True, "test_labels": True,
                                           "test_outputs": True, "test_first_spikes": True}
    assert figures["stored_accuracy"] == stored["accuracy"]
    for key in ("accuracy_supervised", "accuracy_supervised_count_only", "accuracy_all"):
        assert figures["accuracies"][key] == stored[key], key
    # the same request on its folder goes on from the checkpoint (here: nothing left)
    assert retest.retest(tmp_path / "run", tmp_path / "again") == figures
    with pytest.raises(FileExistsError, match="holds no rerun of this request"):
        retest.retest(tmp_path / "run", tmp_path / "again", test_split="validation")
    # a value that only acts at test time: the hidden layer's spikes repeat, the SL's change
    lower = retest.retest(tmp_path / "run", tmp_path / "lower",
                          test_overrides={"v_thresh_supervised": "-64*mV"})
    assert lower["repeated_exactly"]["test_counts"]
    assert lower["repeated_exactly"]["assign_counts"]  # assigned again, same hidden spikes
    assert not lower["repeated_exactly"]["test_outputs"]
    assert lower["test_overrides"] == {"v_thresh_supervised": "-64*mV"}
    # the same network scored on a validation split: the last 100 training images
    held_out = retest.retest(tmp_path / "run", tmp_path / "validation", test_split="validation")
    assert held_out["test_split"] == "validation"
    assert not held_out["repeated_exactly"]["test_labels"]
    assert held_out["repeated_exactly"]["assign_counts"]  # assignment images unchanged
    arrays = np.load(tmp_path / "validation" / "checkpoint.npz")
    train = load_dataset("mnist", "train", data_dir)
    assert np.array_equal(arrays["test_labels"], train.labels[-100:])
    # labels assigned from fewer training images: the test images' spikes repeat
    fewer = retest.retest(tmp_path / "run", tmp_path / "assign30", assign_samples=30)
    assert fewer["assign_samples"] == 30 and held_out["assign_samples"] == 50
    assert fewer["repeated_exactly"]["test_counts"]
    assert not fewer["repeated_exactly"]["assign_labels"]
    arrays = np.load(tmp_path / "assign30" / "checkpoint.npz")
    assert np.array_equal(arrays["assign_labels"], train.labels[:30])


def test_retest_workers_give_the_figures_of_one_process_in_the_order_named(trained, tmp_path):
    """``--workers 2``: two runs at once, each in its own process, one results file;
    each repeats the stored test phase exactly, as one process does (test above)."""
    for name in ("run_b", "run_a"):
        shutil.copytree(trained, tmp_path / name)
    stored = json.loads((trained / "results.json").read_text())
    command = [sys.executable, str(ROOT / "benchmarks" / "retest.py"),
               str(tmp_path / "run_b"), str(tmp_path / "run_a"), "--out",
               str(tmp_path / "pool"), "--name", "pooled", "--results-dir", str(tmp_path),
               "--workers", "2"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    figures = json.loads((tmp_path / "pooled.json").read_text())
    assert [Path(run["run"]).name for run in figures["runs"]] == ["run_b", "run_a"]
    for run in figures["runs"]:
        assert run["stored_accuracy"] == stored["accuracy"]
        assert run["accuracies"] == {key: stored[key] for key in run["accuracies"]}
        assert run["repeated_exactly"] == {"test_counts": True, "test_labels": True,
                                           "test_outputs": True, "test_first_spikes": True}
    assert figures["command"].endswith("--workers 2")
    refused = subprocess.run(command[:3] + command[2:], capture_output=True, text=True)
    assert refused.returncode == 2 and "same name: run_b" in refused.stderr
