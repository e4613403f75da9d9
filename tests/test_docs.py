"""The Sphinx documentation builds without warnings and shows what it promises."""

import html
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bioplastic.cli import build_parser
from conftest import benchmark_script

try:
    import tomllib
except ImportError:  # Python < 3.11 (setup.cfg installs tomli there)
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def built_docs(tmp_path_factory):
    """Build the HTML pages once, warnings as errors (as a user would with -W)."""
    out = tmp_path_factory.mktemp("html")
    command = [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-b", "html",
               "-d", str(out / ".doctrees"), str(ROOT / "docs"), str(out)]
    build = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
    assert build.returncode == 0, f"sphinx-build failed:\n{build.stdout[-3000:]}\n{build.stderr}"
    return out


def _text(path):
    """Visible text of an HTML page (tags removed, entities decoded)."""
    return html.unescape(re.sub(r"<[^>]+>", "", path.read_text()))


def _report():
    return benchmark_script("report")


def test_model_pages_are_generated_from_the_model_files(built_docs):
    from bioplastic.training import MODELS
    for name, load in MODELS.items():
        module = load()
        model = module.load_model()
        page = _text(built_docs / "_generated" / "models" / f"{Path(module.MODEL_FILE).stem}.html")
        for parameter in model.parameters:
            assert parameter in page, f"{name}: parameter {parameter} missing from its page"
        assert "\\begin{aligned}" in page  # equations rendered as LaTeX (MathJax)


def test_benchmark_page_is_up_to_date_with_the_results_and_notes():
    # docs/benchmarks.md is generated; a result file or a NOTES.md edit without a
    # rerun of the report would leave the page telling an older story
    page = (ROOT / "docs" / "benchmarks.md").read_text()
    assert page == _report().render(), (
        "docs/benchmarks.md is out of date: run `python benchmarks/report.py`")


def test_reproduction_table_lists_every_benchmark_result(built_docs):
    rows = _report().reproduction_rows()
    assert len(rows) >= 10
    page = _text(built_docs / "_generated" / "reproduction.html")
    for row in rows:
        assert row["command"] in page and row["ours"] in page


def test_troubleshooting_shows_the_error_of_every_invalid_model_file(built_docs):
    page = _text(built_docs / "troubleshooting.html")
    for path in sorted((ROOT / "tests" / "invalid").glob("*.py")):
        assert f"tests/invalid/{path.name}" in page
    assert "field 'tau_e': has units of" in page  # a real message, not a placeholder


def test_cli_reference_covers_every_subcommand_and_option(built_docs):
    page = _text(built_docs / "cli.html")
    parser = build_parser()
    subcommands = next(a for a in parser._actions if a.dest == "command").choices
    for name, sub in subcommands.items():
        assert f"bioplastic {name}" in page
        for action in sub._actions:
            for flag in action.option_strings:
                if flag not in ("-h", "--help"):
                    assert flag in page, f"{name} {flag} missing from the CLI reference"


def test_gallery_and_api_pages_exist(built_docs):
    gallery = _text(built_docs / "auto_examples" / "index.html")
    examples = sorted((ROOT / "examples").glob("*.py"))
    assert len(examples) >= 8
    for path in examples:
        title = path.read_text().split('"""')[1].strip().splitlines()[0]
        assert title in gallery, f"{path.name} is not in the gallery"
    api = _text(built_docs / "api.html")
    for name in ("bioplastic.training.RunConfig", "bioplastic.datasets.load_dataset",
                 "bioplastic.modelfile.load_model_file", "bioplastic.sweep.run_sweep"):
        assert name in api


def _benchmark_results():
    for path in sorted((ROOT / "benchmarks" / "results").glob("*.json")):
        yield path, json.loads(path.read_text())


def test_every_recorded_benchmark_command_can_be_run_from_the_repository():
    """Each result's command names scripts and sweep files that are committed."""
    checked = 0
    for path, result in _benchmark_results():
        command = result.get("benchmark", {}).get("command") or result.get("command")
        assert command, f"{path.name}: no command recorded"
        for word in command.split():
            if word.startswith(("benchmarks/", "examples/", "models/")):
                assert (ROOT / word).is_file(), (
                    f"{path.name}: its command names {word}, which is not in the repository")
                checked += 1
    assert checked >= 30


def test_sweep_results_match_their_sweep_files():
    """A sweep's recorded settings are those of the file its command names."""
    sweeps = [(path, result) for path, result in _benchmark_results() if "sweep" in result]
    assert sweeps
    for path, result in sweeps:
        source = ROOT / result["sweep"]["source"]
        document = dict(tomllib.loads(source.read_text()))
        recorded = dict(result["sweep"]["document"])
        document.setdefault("name", source.stem)
        recorded.setdefault("name", source.stem)
        assert document == recorded, f"{path.name} was not produced by {source}"


def test_a_kept_result_names_the_model_values_it_was_made_with():
    """A result kept after the shipped file changed lists its day's values in the table."""
    report = _report()
    cfg = {"model": "adaptive-conv", "overrides": {"alpha_plus": "0.8"}}
    name = report._run_name(cfg, {"earlier_model_values": {"fc_w_max": "1"}})
    assert name == "adaptive-conv `alpha_plus=0.8` (model file of its day: `fc_w_max=1`)"
    assert report._run_name(cfg, {}) == "adaptive-conv `alpha_plus=0.8`"


def test_a_validation_sweep_is_no_test_figure(tmp_path, monkeypatch):
    """A sweep scored on the validation split screens settings: the report says so,
    gives it no verdict against a target, and keeps it out of the reproduction table."""
    report = _report()
    source = ROOT / "benchmarks" / "results" / "sweep_diehl_cook_100_input_delays.json"
    result = json.loads(source.read_text())
    result["sweep"]["document"]["protocol"]["test_split"] = "validation"
    (tmp_path / source.name).write_text(json.dumps(result))
    monkeypatch.setattr(report, "RESULTS", tmp_path)
    section = "\n".join(report.sweep_section())
    assert "Scored on the validation split: the last 10000 training images" in section
    assert "Target 82.0%" not in section
    assert report.reproduction_rows() == []
    result["sweep"]["document"]["protocol"]["test_split"] = "test"
    (tmp_path / source.name).write_text(json.dumps(result))
    assert "Target 82.0%: not met" in "\n".join(report.sweep_section())
    assert len(report.reproduction_rows()) == 1


def test_few_shot_presentations_come_from_the_request_or_else_the_images_shown():
    """few_shot.py records the number asked for (500 is shown as 3 x 200 = 600); a
    few-shot result written by accuracy.py alone falls back to the number shown."""
    config, report = {"train_samples": 200, "epochs": 3}, _report()
    assert report._presentations({"config": config,
                                  "benchmark": {"presentations": 500}}) == 500
    assert report._presentations({"config": config, "benchmark": {}}) == 600
