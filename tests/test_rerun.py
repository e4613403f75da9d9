"""Layers trained again on kept earlier layers (bioplastic.rerun), and validation splits."""

import json
import sys

import numpy as np
import pytest

from bioplastic.checkpoint import load_checkpoint
from bioplastic.cli import main
from bioplastic.datasets import load_dataset
from bioplastic.rerun import prepare_rerun, retrain
from bioplastic.training import Run, RunConfig, balanced_subset
from conftest import ROOT, TRAIN_DEVICE, benchmark_script

# the network size and chunk length of test_adaptive_conv's few-shot run (shared projects)
CONV = dict(model="adaptive-conv", n_neurons=30, train_samples=50, epochs=2,
            assign_samples=50, test_samples=100, chunk_slots=50, curve_window=50, seed=2)


@pytest.fixture(scope="module")
def conv_run(data_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("conv") / "run"
    config = RunConfig(**CONV, device=TRAIN_DEVICE, data_dir=str(data_dir))
    results = Run(config, out, progress=False).run()
    arrays, _ = load_checkpoint(out / "checkpoint.npz")
    return out, results, arrays


def _state(out):
    arrays, meta = load_checkpoint(out / "checkpoint.npz")
    return arrays, meta


def test_retraining_with_unchanged_settings_repeats_the_run(conv_run, tmp_path):
    # the convolution network draws no random numbers and fresh weights come from
    # the run's seed, so the retrained layer and every figure repeat exactly
    run, stored, arrays = conv_run
    results = retrain(run, tmp_path / "same", "train_fc")
    again, meta = _state(tmp_path / "same")
    for key in ("kernels", "fc_weights", "theta_plus", "test_counts", "assign_counts"):
        assert np.array_equal(again[key], arrays[key]), key
    for key in ("accuracy_all", "accuracy_proportion"):
        assert results[key] == stored[key]
    assert results["retrained"] == {"source_run": str(run), "from_phase": "train_fc",
                                    "source_overrides": {}, "overrides": {}, "changes": {}}
    # the kept phase is not simulated again
    assert results["phases"]["train_conv"] == stored["phases"]["train_conv"]


def test_retraining_with_a_changed_value_keeps_the_earlier_layer(conv_run, tmp_path):
    run, _, arrays = conv_run
    results = retrain(run, tmp_path / "capped", "train_fc", overrides={"fc_w_max": "0.2"})
    again, meta = _state(tmp_path / "capped")
    assert np.array_equal(again["kernels"], arrays["kernels"])
    assert not np.array_equal(again["fc_weights"], arrays["fc_weights"])
    assert not np.array_equal(again["test_counts"], arrays["test_counts"])
    assert results["config"]["overrides"] == {"fc_w_max": "0.2"}
    assert results["retrained"]["overrides"] == {"fc_w_max": "0.2"}
    assert meta["model_values"]["fc_w_max"] != load_checkpoint(
        run / "checkpoint.npz")[1]["model_values"]["fc_w_max"]


def test_retraining_scored_on_a_validation_split(conv_run, data_dir, tmp_path):
    run, _, _ = conv_run
    results = retrain(run, tmp_path / "validation", "train_fc",
                      changes={"test_split": "validation"})
    again, _ = _state(tmp_path / "validation")
    train = load_dataset("mnist", "train", data_dir)
    assert np.array_equal(again["test_labels"], train.labels[-100:])
    assert results["config"]["test_split"] == "validation"
    # the kept kernels learned from the first 50 images, far from the split
    assert results["retrained"]["kept_phases_saw_validation_images"] is False


def test_a_few_shot_run_is_checked_for_validation_images(data_dir, tmp_path):
    """A balanced run's images come from anywhere in the training set: whether its
    kept layer saw the validation split is read from its draw, not its size."""
    source = tmp_path / "few"
    config = RunConfig(**{**CONV, "balanced": True, "seed": 4}, device=TRAIN_DEVICE,
                       data_dir=str(data_dir))
    Run(config, source, progress=False).run()
    labels = load_dataset("mnist", "train", data_dir).labels
    drawn = balanced_subset(labels, config.train_samples, config.seed)
    assert drawn.max() >= 59900  # this seed draws from the last 100 images
    # the flag is set when the rerun is prepared: no need to train the layer again
    prepare_rerun(source, tmp_path / "again", from_phase="train_fc",
                  changes={"test_split": "validation"})
    _, meta = load_checkpoint(tmp_path / "again" / "checkpoint.npz")
    assert meta["retrained"]["kept_phases_saw_validation_images"] is True


def test_refused_reruns_say_why_and_leave_nothing(conv_run, data_dir, tmp_path):
    run, _, _ = conv_run
    out = tmp_path / "refused"
    with pytest.raises(ValueError, match="'assign' is not a training phase.*train_conv, "
                                         "train_fc"):
        retrain(run, out, "assign")
    with pytest.raises(ValueError, match="cannot change n_neurons"):
        retrain(run, out, "train_fc", changes={"n_neurons": 10})
    with pytest.raises(ValueError, match="train_samples = 55000 overlaps the validation "
                                         "split.*expected at most 50000"):
        retrain(run, out, "train_fc", changes={"test_split": "validation",
                                               "train_samples": 55000,
                                               "test_samples": 10000})
    assert not out.exists()
    with pytest.raises(FileExistsError, match="exists"):
        retrain(run, tmp_path, "train_fc")
    # a model trained in one stage: train it again instead
    single = tmp_path / "dc"
    Run(RunConfig(model="diehl-cook", n_neurons=5, train_samples=10, device=TRAIN_DEVICE,
                  data_dir=str(data_dir)), single, progress=False)
    with pytest.raises(ValueError, match="trains in one stage"):
        prepare_rerun(single, tmp_path / "dc-again", from_phase="train")


def test_test_split_is_checked():
    with pytest.raises(ValueError, match="test_split must be one of test, validation, "
                                         "got 'val'"):
        RunConfig(test_split="val").validate()
    with pytest.raises(ValueError, match="train_samples = 60000 overlaps"):
        RunConfig(test_split="validation").validate()
    with pytest.raises(ValueError, match="assign_samples = 50001 overlaps"):
        RunConfig(test_split="validation", train_samples=100, assign_samples=50001).validate()
    RunConfig(test_split="validation", train_samples=50000, assign_samples=50000).validate()
    # a balanced run assigns with its own images: assign_samples does not count
    RunConfig(test_split="validation", train_samples=100, balanced=True).validate()


def test_a_balanced_draw_stays_out_of_the_validation_split(data_dir, tmp_path):
    """Few-shot settings can be chosen on a validation split: the images drawn for
    training and label assignment all come from before it."""
    labels = load_dataset("mnist", "train", data_dir).labels
    drawn = {}
    for split in ("test", "validation"):
        config = RunConfig(model="adaptive-conv", n_neurons=10, train_samples=100, epochs=2,
                           balanced=True, test_split=split, test_samples=10000,
                           device=TRAIN_DEVICE, data_dir=str(data_dir), seed=3)
        run = Run(config, tmp_path / split, progress=False)
        index = {p.kind: run._phase_data(p)[1] for p in run.phases}
        assert len(index["train"]) == 200 and np.array_equal(index["train"][:100],
                                                             index["assign"])
        assert np.bincount(labels[index["assign"]], minlength=10).tolist() == [10] * 10
        drawn[split] = index
    # the split is images 50000-59999; a draw from all 60000 would reach it (p = 1 - 1e-8)
    assert drawn["validation"]["assign"].max() < 50000 <= drawn["test"]["assign"].max()
    assert np.array_equal(drawn["validation"]["test"], np.arange(50000, 60000))
    # without a split the draw is the one the recorded few-shot results were made with
    assert np.array_equal(drawn["test"]["assign"], balanced_subset(labels, 100, 3))
    with pytest.raises(ValueError, match="class .* has .* images, 10 wanted"):
        balanced_subset(labels[:50], 100, 3)


def test_cli_trains_and_scores_on_the_validation_split(data_dir, tmp_path, capsys):
    out = tmp_path / "run"
    code = main(["-q", "train", "diehl-cook", "--neurons", "20", "--train-samples", "120",
                 "--assign-samples", "100", "--test-samples", "100", "--chunk-slots", "40",
                 "--curve-window", "40", "--seed", "5", "--device", TRAIN_DEVICE,
                 "--data-dir", str(data_dir), "--test-split", "validation",
                 "--out", str(out)])
    assert code == 0
    printed = capsys.readouterr().out
    assert "validation (last 100 training images) accuracy:" in printed
    assert "test accuracy" not in printed
    arrays, _ = load_checkpoint(out / "checkpoint.npz")
    train = load_dataset("mnist", "train", data_dir)
    assert np.array_equal(arrays["test_labels"], train.labels[59900:])
    results = json.loads((out / "results.json").read_text())
    assert results["config"]["test_split"] == "validation"


def test_retrain_script_writes_its_figures(conv_run, tmp_path, monkeypatch):
    script = benchmark_script("retrain")
    results_dir = tmp_path / "benchmarks"
    monkeypatch.setattr(script, "HERE", results_dir)
    run, stored, _ = conv_run
    script.main([str(run), "--from", "train_fc", "--out", str(tmp_path / "copies"),
                 "--name", "retrain_test"])
    figures = json.loads((results_dir / "results" / "retrain_test.json").read_text())
    (entry,) = figures["runs"]
    assert entry["accuracies"]["accuracy_all"] == stored["accuracy_all"]
    assert entry["test_split"] == "test" and entry["retrained"]["from_phase"] == "train_fc"
    assert figures["command"].startswith("python benchmarks/retrain.py ")


def test_an_interrupted_rerun_resumes_with_the_same_command(conv_run, tmp_path,
                                                           monkeypatch):
    from bioplastic import adaptive_conv
    run, stored, arrays = conv_run
    script = benchmark_script("retrain")
    monkeypatch.setattr(script, "HERE", tmp_path / "benchmarks")
    command = [str(run), "--from", "train_fc", "--out", str(tmp_path / "copies"),
               "--name", "resumed"]
    original = adaptive_conv.AdaptiveConvNetwork.run_chunk
    calls = {"n": 0}

    def flaky(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt  # Ctrl-C in the second chunk of train_fc
        return original(self, *args, **kwargs)

    monkeypatch.setattr(adaptive_conv.AdaptiveConvNetwork, "run_chunk", flaky)
    with pytest.raises(KeyboardInterrupt):
        script.main(command)
    copy = tmp_path / "copies" / run.name
    _, meta = _state(copy)
    assert 0 < meta["progress"]["train_fc"]["position"] < 100
    monkeypatch.setattr(adaptive_conv.AdaptiveConvNetwork, "run_chunk", original)
    script.main(command)
    figures = json.loads((tmp_path / "benchmarks" / "results" / "resumed.json").read_text())
    (entry,) = figures["runs"]
    assert entry["accuracies"]["accuracy_all"] == stored["accuracy_all"]
    again, _ = _state(copy)
    assert np.array_equal(again["fc_weights"], arrays["fc_weights"])
    # the folder is kept for its own request: another one is refused
    with pytest.raises(FileExistsError, match="holds no rerun of this request"):
        retrain(run, copy, "train_fc", overrides={"fc_w_max": "0.2"})
    with pytest.raises(FileExistsError, match="holds no rerun of this request"):
        prepare_rerun(run, copy, kinds=("test",))


def test_scripts_report_a_refused_rerun_in_one_line(conv_run, tmp_path, capsys):
    run, _, _ = conv_run
    taken = tmp_path / "copies" / run.name
    taken.mkdir(parents=True)
    for name, extra in (("retrain", ["--from", "train_fc"]), ("retest", [])):
        script = benchmark_script(name)
        with pytest.raises(SystemExit) as stop:
            script.main([str(run), *extra, "--out", str(tmp_path / "copies")])
        assert stop.value.code == 2
        message = capsys.readouterr().err
        assert (f"error: {taken} exists and holds no rerun of this request; choose "
                "another output folder") in message
        assert "Traceback" not in message
        with pytest.raises(SystemExit) as stop:
            script.main([str(tmp_path), *extra, "--out", str(tmp_path / "elsewhere")])
        assert stop.value.code == 2
        assert f"{tmp_path}: no checkpoint.npz (not a run folder)" in capsys.readouterr().err
    assert not (tmp_path / "elsewhere").exists()


def test_few_shot_settings_are_screened_on_the_validation_split(data_dir, tmp_path,
                                                                 monkeypatch):
    """``few_shot.py --test-split validation`` names its results apart from the test
    rows, and the report lists them in their own table, not next to the paper."""
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    monkeypatch.chdir(tmp_path)
    few_shot, report = benchmark_script("few_shot"), benchmark_script("report")
    results = tmp_path / "results"
    monkeypatch.setattr(sys.modules["accuracy"], "HERE", tmp_path)
    monkeypatch.setattr(report, "RESULTS", results)
    # 120 presentations asked for: 3 epochs of 50 images, so 150 shown
    few_shot.main(["--neurons", "30", "--sizes", "50", "--seeds", "2", "--presentations",
                   "120", "--test-split", "validation", "--test-samples", "100",
                   "--chunk-slots", "50", "--device", TRAIN_DEVICE, "--data-dir", str(data_dir)])
    (written,) = results.glob("*.json")
    assert written.name == "adaptive_conv_few_shot_50_seed2_presentations-120_validation.json"
    stored = json.loads(written.read_text())
    assert stored["config"]["test_split"] == "validation" and stored["config"]["balanced"]
    assert stored["config"]["epochs"] == 3 and stored["benchmark"]["presentations"] == 120
    assert report._few_shot_groups() == {}
    (runs,) = report._few_shot_groups("validation").values()
    # the command that repeats the run: the number asked for, not the one shown
    assert report._few_shot_command(runs).endswith(
        "--presentations 120 --test-split validation")
    section = "\n".join(report.conv_section())
    assert "validation accuracy, mean ± sd" in section
    assert f"{100 * stored['accuracy_all']:.2f}%" in section
