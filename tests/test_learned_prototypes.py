"""benchmarks/learned_prototypes.py: a run's weight columns read out as prototypes."""

import json

import numpy as np
import pytest

from bioplastic.checkpoint import load_checkpoint, save_checkpoint
from bioplastic.datasets import load_dataset
from bioplastic.encoding import intensities
from bioplastic.training import CHECKPOINT, Run, RunConfig
from conftest import ROOT, benchmark_script


@pytest.fixture
def script(monkeypatch, tmp_path):
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    module = benchmark_script("learned_prototypes")
    monkeypatch.setattr(module, "HERE", tmp_path)
    return module


def test_class_mean_columns_are_scored_on_the_runs_own_images(script, data_dir, tmp_path,
                                                               monkeypatch):
    """A run whose ten neurons hold the ten class means of its assignment images
    (bright and dim ones: the cosine ignores a column's norm): each image goes to
    the most similar mean, scored on the run's validation split."""
    config = RunConfig(model="diehl-cook", n_neurons=10, train_samples=100,
                       assign_samples=3000, test_samples=2000, test_split="validation",
                       data_dir=str(data_dir))
    folder = tmp_path / "run"
    Run(config, folder, progress=False)  # a fresh run's checkpoint, nothing trained
    train = load_dataset("mnist", "train", data_dir)
    assign_x, assign_y = intensities(train.images[:3000]), train.labels[:3000]
    means = np.stack([assign_x[assign_y == k].mean(axis=0) for k in range(10)], axis=1)
    means *= np.arange(1, 11)  # column norms differ tenfold
    arrays, meta = load_checkpoint(folder / CHECKPOINT)
    arrays["weights"] = means.ravel()  # Brian2's order: pre-synaptic index first
    save_checkpoint(folder / CHECKPOINT, arrays, meta)

    result = script.main([str(folder), "--name", "means", "--data-dir", str(data_dir),
                          "--temperatures", "1e-6", "0.05"])
    held_out_x, held_out_y = intensities(train.images[-2000:]), train.labels[-2000:]
    cosine = (held_out_x / np.linalg.norm(held_out_x, axis=1, keepdims=True)) @ (
        means / np.linalg.norm(means, axis=0))
    expected = np.mean(np.argmax(cosine, axis=1) == held_out_y)
    run = result["runs"][0]
    assert run["prototype_accuracy"] == pytest.approx(expected, abs=1e-12)
    assert expected > 0.7  # nearest class mean: well above chance (0.1)
    # T -> 0: each image's response is all on its best column, so the package's
    # vote (one neuron per class here) answers as the nearest prototype does
    sharp, soft = run["soft_vote"]
    assert sharp == {"temperature": 1e-6, "all": pytest.approx(expected, abs=1e-12),
                     "proportion": pytest.approx(expected, abs=1e-12)}
    assert soft["temperature"] == 0.05 and 0.1 < soft["proportion"] < 1
    assert run["test_split"] == "validation" and run["test_samples"] == 2000
    assert run["network_accuracy"] == {}  # never scored as a network
    stored = json.loads((tmp_path / "results" / "learned_prototypes_means.json").read_text())
    assert stored["runs"] == result["runs"]
    assert "learned_prototypes.py" in stored["benchmark"]["command"]
    report = benchmark_script("report")
    monkeypatch.setattr(report, "RESULTS", tmp_path / "results")
    table = "\n".join(report.learned_prototype_section())
    assert f"| diehl-cook | mnist | 10 | 1 | - | 2000 validation images | - | " \
           f"{100 * expected:.2f}% | 1e-06: {100 * expected:.2f}/{100 * expected:.2f}%; " \
           f"0.05: {100 * soft['all']:.2f}/{100 * soft['proportion']:.2f}% |" in table
    assert "* `python benchmarks/learned_prototypes.py " in table  # the command, once


def test_a_non_positive_temperature_is_refused(script, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        script.main([str(tmp_path), "--name", "x", "--temperatures", "0.01", "0"])
    assert exit_info.value.code == 2
    assert "--temperatures must all be positive, got [0.01, 0.0]" in capsys.readouterr().err


def test_a_folder_without_a_run_is_refused(script, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        script.main([str(tmp_path / "nothing"), "--name", "x"])
    assert exit_info.value.code == 2
    assert "nothing/checkpoint.npz: cannot read checkpoint" in capsys.readouterr().err
    assert not (tmp_path / "results").exists()
