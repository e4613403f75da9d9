"""Training end to end: CLI, checkpoints, resume after a kill, edited model files."""

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from bioplastic.atomicfile import stale_temporaries, write_text_atomically
from bioplastic.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from bioplastic.cli import main
from bioplastic.training import Run, RunConfig
from conftest import TRAIN_DEVICE, lock_held_elsewhere

TINY = dict(model="diehl-cook", n_neurons=20, train_samples=120, assign_samples=100,
            test_samples=100, chunk_slots=40, curve_window=40, seed=5)


def _config(data_dir, **changes):
    return RunConfig(**{**TINY, "device": TRAIN_DEVICE, "data_dir": str(data_dir),
                        **changes})


@pytest.fixture(scope="module")
def reference_run(data_dir, tmp_path_factory):
    """One uninterrupted tiny run, shared by the tests below."""
    out = tmp_path_factory.mktemp("reference")
    results = Run(_config(data_dir), out, progress=False).run()
    arrays, meta = load_checkpoint(out / "checkpoint.npz")
    return out, results, arrays, meta


def test_tiny_end_to_end_run_learns_above_chance(reference_run):
    out, results, arrays, meta = reference_run
    assert results["accuracy_all"] > 0.25 and results["accuracy_proportion"] > 0.25
    assert np.asarray(results["confusion_all"]).sum() == 100
    assert results["phases"]["train"]["samples"] == 120
    assert len(meta["curve"]) == 2  # windows 2 and 3 scored with the previous window
    assert arrays["assignments"].shape == (20,)
    saved = json.loads((out / "results.json").read_text())
    assert saved["accuracy"] == results["accuracy"]


def test_interrupted_run_resumes_to_the_identical_result(reference_run, data_dir, tmp_path,
                                                         monkeypatch):
    from bioplastic import diehl_cook
    _, reference, ref_arrays, _ = reference_run
    calls = {"n": 0}
    original = diehl_cook.DiehlCookNetwork.run_chunk

    def flaky(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt  # the user pressed Ctrl-C in the third chunk
        return original(self, *args, **kwargs)

    monkeypatch.setattr(diehl_cook.DiehlCookNetwork, "run_chunk", flaky)
    with pytest.raises(KeyboardInterrupt):
        Run(_config(data_dir), tmp_path, progress=False).run()
    _, meta = load_checkpoint(tmp_path / "checkpoint.npz")
    assert 0 < meta["progress"]["train"]["position"] < 120
    monkeypatch.setattr(diehl_cook.DiehlCookNetwork, "run_chunk", original)
    resumed = Run(_config(data_dir), tmp_path, progress=False).run()
    arrays, _ = load_checkpoint(tmp_path / "checkpoint.npz")
    np.testing.assert_array_equal(arrays["weights"], ref_arrays["weights"])
    np.testing.assert_array_equal(arrays["test_counts"], ref_arrays["test_counts"])
    assert resumed["accuracy_all"] == reference["accuracy_all"]


def test_killed_process_resumes_with_nothing_lost(reference_run, data_dir, tmp_path):
    """SIGKILL the CLI mid-training, run the same command again: same final weights."""
    _, reference, ref_arrays, _ = reference_run
    command = [sys.executable, "-m", "bioplastic", "-q", "train", "diehl-cook",
               "--neurons", "20", "--train-samples", "120", "--assign-samples", "100",
               "--test-samples", "100", "--chunk-slots", "40", "--curve-window", "40",
               "--seed", "5", "--device", TRAIN_DEVICE, "--data-dir", str(data_dir),
               "--out", str(tmp_path)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               env=dict(os.environ), start_new_session=True)
    checkpoint = tmp_path / "checkpoint.npz"
    deadline = time.time() + 300
    killed = False
    while time.time() < deadline and process.poll() is None:
        if checkpoint.exists():
            try:
                _, meta = load_checkpoint(checkpoint)
            except CheckpointError:
                meta = None
            if meta and meta["progress"]["train"]["position"] > 0:
                os.killpg(process.pid, signal.SIGKILL)
                killed = True
                break
        time.sleep(0.05)
    process.wait()
    assert killed, "the run finished before it could be killed"
    # the kill may land while the next checkpoint is being written: its temporary
    # file stays, and the checkpoint it was to replace is intact
    load_checkpoint(checkpoint)
    completed = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert completed.returncode == 0, completed.stderr
    assert not [p for p in tmp_path.iterdir() if p.suffix == ".tmp"]
    assert "test accuracy" in completed.stdout
    arrays, _ = load_checkpoint(checkpoint)
    np.testing.assert_array_equal(arrays["weights"], ref_arrays["weights"])
    assert json.loads((tmp_path / "results.json").read_text())["accuracy_all"] == \
        reference["accuracy_all"]


def test_resume_with_other_settings_is_refused(reference_run, data_dir, tmp_path):
    from bioplastic.diehl_cook import MODEL_FILE
    from bioplastic.modelfile import find_model_file
    out = reference_run[0]
    with pytest.raises(CheckpointError, match="n_neurons=20.*n_neurons=30"):
        Run(_config(data_dir, n_neurons=30), out, progress=False)
    with pytest.raises(CheckpointError, match="overrides=.*tau_theta"):
        Run(_config(data_dir, overrides={"tau_theta": "2e7*ms"}), out, progress=False)
    # editing the model file of an unfinished run is caught as well
    edited = tmp_path / "model.py"
    edited.write_text(find_model_file(MODEL_FILE).read_text())
    Run(_config(data_dir, model_file=str(edited)), tmp_path / "run", progress=False)
    edited.write_text(edited.read_text().replace("tau_theta = 1e7*ms", "tau_theta = 2e7*ms"))
    with pytest.raises(CheckpointError, match="model file changed.*tau_theta"):
        Run(_config(data_dir, model_file=str(edited)), tmp_path / "run", progress=False)


def test_resume_accepts_a_field_added_at_its_shipped_value(data_dir, tmp_path):
    """A checkpoint made before a model-file field existed resumes while the new
    field holds the shipped value, and is refused once it is edited."""
    from bioplastic.diehl_cook import MODEL_FILE
    from bioplastic.modelfile import find_model_file
    edited = tmp_path / "model.py"
    edited.write_text(find_model_file(MODEL_FILE).read_text())
    config = _config(data_dir, model_file=str(edited))
    checkpoint = tmp_path / "run" / "checkpoint.npz"
    Run(config, tmp_path / "run", progress=False)
    arrays, meta = load_checkpoint(checkpoint)
    del meta["model_values"]["tau_theta"]       # as if the field was added later
    save_checkpoint(checkpoint, arrays, meta)
    resumed = Run(config, tmp_path / "run", progress=False)
    assert "tau_theta" in resumed.meta["model_values"]
    edited.write_text(edited.read_text().replace("tau_theta = 1e7*ms", "tau_theta = 2e7*ms"))
    with pytest.raises(CheckpointError, match="model file changed.*tau_theta"):
        Run(config, tmp_path / "run", progress=False)


def test_resume_accepts_equations_rewritten_to_compute_the_same(data_dir, tmp_path):
    """A checkpoint whose model file's equations were later rewritten without
    changing what they compute (an option added as a term that is off) resumes;
    a rewrite that changes the model is refused, naming the field."""
    from bioplastic.diehl_cook import MODEL_FILE
    from bioplastic.modelfile import find_model_file
    edited = tmp_path / "model.py"
    text = find_model_file(MODEL_FILE).read_text()
    assert "dtheta/dt = -theta / tau_theta" in text
    edited.write_text(text)
    config = _config(data_dir, model_file=str(edited))
    Run(config, tmp_path / "run", progress=False)
    # the same equation with a term that vanishes at the file's values
    assert "spike_block_time = 0*ms" in text
    edited.write_text(text.replace("dtheta/dt = -theta / tau_theta",
                                   "dtheta/dt = -theta / tau_theta"
                                   " - spike_block_time * theta / tau_theta**2"))
    Run(config, tmp_path / "run", progress=False)
    edited.write_text(text.replace("dtheta/dt = -theta / tau_theta",
                                   "dtheta/dt = -2 * theta / tau_theta"))
    with pytest.raises(CheckpointError, match=r"model file changed.*\(fields excitatory_eqs\)"):
        Run(config, tmp_path / "run", progress=False)
    # a rewritten equation and an edited parameter: only what changed is named
    rewritten = text.replace("dtheta/dt = -theta / tau_theta",
                             "dtheta/dt = -theta / tau_theta - spike_block_time * theta"
                             " / tau_theta**2")
    edited.write_text(rewritten.replace("tau_theta = 1e7*ms", "tau_theta = 2e7*ms"))
    with pytest.raises(CheckpointError, match=r"model file changed.*\(fields tau_theta\)"):
        Run(config, tmp_path / "run", progress=False)


def test_edited_model_file_changes_the_next_training(data_dir, tmp_path):
    """theta_plus = 0 in an edited copy: thresholds can only decay."""
    from bioplastic.diehl_cook import MODEL_FILE
    from bioplastic.modelfile import find_model_file
    edited = tmp_path / "no_adaptation.py"
    text = find_model_file(MODEL_FILE).read_text()
    assert "theta_plus = 0.05*mV" in text
    edited.write_text(text.replace("theta_plus = 0.05*mV", "theta_plus = 0*mV"))
    config = _config(data_dir, train_samples=40, assign_samples=0, test_samples=0,
                     model_file=str(edited))
    Run(config, tmp_path / "run", progress=False).run()
    arrays, meta = load_checkpoint(tmp_path / "run" / "checkpoint.npz")
    assert meta["model_values"]["theta_plus"] == repr(0 * 1e-3 * __import__("brian2").volt)
    assert np.all(arrays["theta"] <= 0.02)
    default = Run(_config(data_dir, train_samples=40, assign_samples=0, test_samples=0),
                  tmp_path / "default", progress=False)
    default.run()
    assert np.any(default.arrays["theta"] > 0.02)


def test_cli_plot_info_and_errors(reference_run, capsys, tmp_path):
    out = reference_run[0]
    assert main(["plot", "--out", str(out), "--figures", str(tmp_path)]) == 0
    pngs = sorted(p.name for p in tmp_path.glob("*.png"))
    assert pngs == ["accuracy_curve.png", "confusion.png", "receptive_fields.png",
                    "theta_histogram.png"]
    assert all((tmp_path / p).stat().st_size > 5000 for p in pngs)
    assert main(["info", "--model", "diehl-cook"]) == 0
    text = capsys.readouterr().out
    assert "cpp_standalone" in text and "tau_theta" in text and "1e7*ms" in text
    assert main(["train", "diehl-cook", "--out", str(tmp_path / "x"), "--neurons", "0"]) == 2
    assert "n_neurons must be a positive integer" in capsys.readouterr().err
    assert main(["train", "diehl-cook", "--out", str(tmp_path / "y"), "--set", "tau_e=3*mV",
                 "--data-dir", str(tmp_path)]) == 2
    assert "field 'tau_e'" in capsys.readouterr().err


def test_checkpoint_write_is_atomic(tmp_path, monkeypatch):
    path = tmp_path / "checkpoint.npz"
    save_checkpoint(path, {"weights": np.ones(3)}, {"step": 1})

    def broken_savez(handle, **arrays):
        handle.write(b"partial")
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", broken_savez)
    with pytest.raises(OSError, match="disk full"):
        save_checkpoint(path, {"weights": np.zeros(3)}, {"step": 2})
    arrays, meta = load_checkpoint(path)
    assert meta == {"step": 1} and arrays["weights"].tolist() == [1, 1, 1]
    assert [p.name for p in tmp_path.iterdir()] == ["checkpoint.npz"]
    path.write_bytes(b"garbage")
    with pytest.raises(CheckpointError, match="cannot read checkpoint"):
        load_checkpoint(path)


def test_atomic_writes_get_the_usual_permissions(tmp_path):
    mask = os.umask(0o027)
    try:
        write_text_atomically(tmp_path / "results.json", "{}")
        save_checkpoint(tmp_path / "checkpoint.npz", {"weights": np.ones(3)}, {})
    finally:
        os.umask(mask)
    for name in ("results.json", "checkpoint.npz"):
        assert (tmp_path / name).stat().st_mode & 0o777 == 0o640


def test_resume_removes_what_a_killed_writer_left(data_dir, tmp_path):
    """A SIGKILL during a write leaves ``<file>.<random>.tmp``; the next run deletes it."""
    out = tmp_path / "run"
    Run(_config(data_dir), out, progress=False)
    left = [out / "checkpoint.npz.k1lled.tmp", out / "results.json.tmp",
            out / "results.json.x7.tmp"]
    kept = [out / "notes.tmp", out / "checkpoint.npz.bak"]
    for path in left + kept:
        path.write_bytes(b"partial")
    assert stale_temporaries(out / "checkpoint.npz") == left[:1]
    resumed = Run(_config(data_dir), out, progress=False)
    # another process may still be writing until the folder's lock is held
    assert all(path.exists() for path in left)
    assert resumed.run(phases=()) is None
    assert not any(path.exists() for path in left)
    assert all(path.exists() for path in kept)
    load_checkpoint(out / "checkpoint.npz")


def test_a_second_process_in_the_same_folder_is_refused(data_dir, tmp_path, capsys):
    out = tmp_path / "run"
    Run(_config(data_dir), out, progress=False)
    stale = out / "checkpoint.npz.w0rk1ng.tmp"
    stale.write_bytes(b"being written")
    with lock_held_elsewhere(out / "run.lock"):
        with pytest.raises(CheckpointError, match="another process is running in this "
                                                  "folder"):
            Run(_config(data_dir), out, progress=False).run()
        assert stale.exists()  # not removed under the other process
        command = ["train", "diehl-cook", "--neurons", "20", "--train-samples", "120",
                   "--assign-samples", "100", "--test-samples", "100", "--chunk-slots",
                   "40", "--curve-window", "40", "--seed", "5", "--device", TRAIN_DEVICE,
                   "--data-dir", str(data_dir), "--out", str(out)]
        assert main(command) == 2
        assert "another process is running" in capsys.readouterr().err
    assert Run(_config(data_dir), out, progress=False).run(phases=()) is None
    assert not stale.exists()


def test_small_runs_get_chunks_no_larger_than_their_longest_phase(tmp_path):
    small = Run(RunConfig(model="diehl-cook", n_neurons=5, train_samples=30, epochs=2,
                          assign_samples=10, test_samples=50, chunk_slots=500),
                tmp_path / "small", progress=False)
    assert [small.phase_size(phase) for phase in small.phases] == [60, 10, 50]
    assert small.chunk_slots == 60
    few_shot = Run(RunConfig(model="adaptive-conv", n_neurons=5, train_samples=20,
                             balanced=True, epochs=3, test_samples=10),
                   tmp_path / "few", progress=False)
    assert max(few_shot.phase_size(phase) for phase in few_shot.phases) == 60
    assert few_shot.chunk_slots == 60
    large = Run(RunConfig(model="diehl-cook", n_neurons=5, train_samples=1000,
                          chunk_slots=40), tmp_path / "large", progress=False)
    assert large.chunk_slots == 40


def test_machine_info_names_the_gpu_that_nvidia_smi_lists(tmp_path, monkeypatch):
    """Benchmark results say which GPU they ran on (read from nvidia-smi, if any)."""
    from bioplastic.training import machine_info
    fake = tmp_path / "nvidia-smi"
    fake.write_text("#!/bin/sh\necho 'NVIDIA H100 80GB HBM3, 81559 MiB, 580.159.04'\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    assert machine_info()["gpu"] == "NVIDIA H100 80GB HBM3, 81559 MiB, 580.159.04"
    fake.write_text("#!/bin/sh\necho 'NVIDIA-SMI has failed' >&2\nexit 9\n")
    assert "gpu" not in machine_info()
