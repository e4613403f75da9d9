"""benchmarks/pixel_prototypes.py: k-means prototypes of the pixels, and their table."""

import json

import pytest

from conftest import ROOT, benchmark_script


def test_pixel_prototypes_score_the_test_set_and_reach_the_report(data_dir, tmp_path,
                                                                   monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    script, report = benchmark_script("pixel_prototypes"), benchmark_script("report")
    monkeypatch.setattr(script, "HERE", tmp_path)
    monkeypatch.setattr(report, "RESULTS", tmp_path / "results")
    result = script.main(["--dataset", "mnist", "--prototypes", "10", "40", "--seeds", "1",
                          "2", "--fit-samples", "10000", "--assign-samples", "2000",
                          "--data-dir", str(data_dir)])
    stored = json.loads((tmp_path / "results" / "pixel_prototypes_mnist.json").read_text())
    assert stored["accuracy"] == result["accuracy"]
    assert set(stored["accuracy"]) == {"10", "40"}
    ten, forty = stored["accuracy"]["10"], stored["accuracy"]["40"]
    assert len(ten) == 2 and min(ten) > 0.4  # chance is 0.1
    assert sum(forty) > sum(ten)  # more prototypes, finer classes
    assert stored["config"]["test_samples"] == 10000
    assert stored["config"]["fit_samples"] == 10000
    table = "\n".join(report.prototype_section())
    assert "| mnist | 40 |" in table and "python benchmarks/pixel_prototypes.py" in table


def test_assign_samples_out_of_range_is_refused(data_dir, capsys, monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    script = benchmark_script("pixel_prototypes")
    with pytest.raises(SystemExit):
        script.main(["--assign-samples", "70000", "--data-dir", str(data_dir)])
    assert "--assign-samples must be in 1..60000, got 70000" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        script.main(["--fit-samples", "0", "--data-dir", str(data_dir)])
    assert "--fit-samples must be in 1..60000, got 0" in capsys.readouterr().err
