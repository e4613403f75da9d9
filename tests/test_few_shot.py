"""benchmarks/few_shot.py --pixel-baseline: 1-NN on the drawn images' pixels."""

import json

import numpy as np
import pytest

from bioplastic.datasets import load_dataset
from bioplastic.training import balanced_subset
from conftest import ROOT, benchmark_script


@pytest.fixture
def few_shot(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))  # it imports accuracy.py
    script = benchmark_script("few_shot")
    monkeypatch.setattr(script, "HERE", tmp_path)
    return script


def _nearest_label_accuracy(images, labels, drawn, scored):
    """Plain numpy 1-NN by cosine similarity: the reference for the script."""
    flat = images.reshape(len(images), -1).astype(float)
    unit = flat / np.linalg.norm(flat, axis=1, keepdims=True)
    nearest = np.argmax(unit[scored] @ unit[drawn].T, axis=1)
    return float(np.mean(labels[drawn][nearest] == labels[scored]))


def test_pixel_baseline_scores_the_networks_draws_on_the_validation_split(
        few_shot, data_dir, tmp_path, monkeypatch):
    result = few_shot.main(["--pixel-baseline", "--sizes", "10", "30", "--seeds", "1", "2",
                            "--test-split", "validation", "--test-samples", "500",
                            "--data-dir", str(data_dir)])
    train = load_dataset("mnist", "train", data_dir)
    scored = np.arange(59500, 60000)
    for size in (10, 30):
        for position, seed in enumerate((1, 2)):
            # the images accuracy.py --balanced trains on, drawn before the split
            drawn = balanced_subset(train.labels[:59500], size, seed)
            assert drawn.max() < 59500 and np.all(np.bincount(train.labels[drawn]) == size // 10)
            expected = _nearest_label_accuracy(train.images, train.labels, drawn, scored)
            assert result["accuracy"][str(size)][position] == pytest.approx(expected)
    assert result["scored_images"] == 500 and result["test_split"] == "validation"
    written = json.loads((tmp_path / "results" /
                          "adaptive_conv_pixel_baseline_few_shot_validation.json").read_text())
    assert written["accuracy"] == result["accuracy"]
    # 30 images of real digits: well above chance
    assert min(result["accuracy"]["30"]) > 0.3
    # and the report puts it beside the few-shot rows of the same size
    report = benchmark_script("report")
    monkeypatch.setattr(report, "RESULTS", tmp_path / "results")
    values = [100 * a for a in result["accuracy"]["30"]]
    column = report._few_shot_pixel_baseline("_validation")
    assert column(30) == report._mean_sd_percent(values) and column(200) == "-"
    assert report._few_shot_pixel_baseline("")(30) == "-"  # no test-set file here


def test_pixel_baseline_refuses_a_split_without_training_images(few_shot, data_dir, capsys):
    with pytest.raises(SystemExit):
        few_shot.main(["--pixel-baseline", "--test-split", "validation", "--test-samples",
                       "60000", "--data-dir", str(data_dir)])
    assert "--test-samples must be in 1..59999, got 60000" in capsys.readouterr().err
