"""Model-file parsing and validation: the shipped file loads, bad files fail clearly."""

import re
import shutil
from pathlib import Path

import pytest
from brian2 import mV, ms

from bioplastic import diehl_cook
from bioplastic.modelfile import ModelFileError, find_model_file, parse_quantity
from bioplastic.training import MODELS

INVALID = sorted((Path(__file__).parent / "invalid").glob("*.py"))


def _expectation(path):
    """``# expect: [model=NAME; ]field=FIELD; message=TEXT`` (model: diehl-cook)."""
    match = re.search(r"# expect: (?:model=(\S+); )?field=(\S+); message=(.*)",
                      path.read_text())
    assert match, f"{path} lacks an '# expect:' line"
    field = None if match.group(2) == "None" else match.group(2)
    return match.group(1) or "diehl-cook", field, match.group(3).strip()


def test_shipped_sym_stdp_file_loads_with_units():
    from bioplastic import sym_stdp
    model = sym_stdp.load_model()
    assert model["tau_theta"] == 6e6 * ms
    assert model["v_thresh_const"] == -72 * mV
    assert float(model["w_init_max_supervised"]) == pytest.approx(2.4)  # 0.3 x w_max
    assert "Hao" in model.header and "deviations" in model.header.lower()


def test_shipped_model_file_loads_with_units():
    model = diehl_cook.load_model()
    assert model["tau_theta"] == 1e7 * ms
    assert model["v_thresh_e"] == -52 * mV
    assert model.comments["theta_plus"] == "threshold increase per spike"
    assert "Diehl" in model.header and "deviations" in model.header.lower()
    assert "w = clip(w - nu_pre * post1_post, 0, w_max)" in model["input_on_pre"]


@pytest.mark.parametrize("path", INVALID, ids=[p.stem for p in INVALID])
def test_invalid_model_files_raise_clear_errors(path, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # a file that were executed would write here
    model, field, message = _expectation(path)
    with pytest.raises(ModelFileError) as error:
        MODELS[model]().load_model(path)
    text = str(error.value)
    assert str(path) in text, "the error must name the file"
    assert message in text
    assert error.value.field == field
    if field is not None:
        assert f"field '{field}'" in text
    assert not (tmp_path / "bioplastic-was-executed").exists(), "model file was executed"


def test_every_invalid_case_is_covered():
    kinds = {p.stem for p in INVALID}
    assert {"wrong_dimension", "out_of_range", "unknown_identifier", "code_execution",
            "missing_field", "misspelled_parameter"} <= kinds


def test_added_parameter_used_by_an_equation_is_accepted(tmp_path):
    text = find_model_file(diehl_cook.MODEL_FILE).read_text()
    text = text.replace("nu_post = 0.01 ", "nu_post = 0.01 * potentiation_scale ")
    text = text.replace("# ---- Plasticity", "potentiation_scale = 2.0  # new knob\n# ---- Plasticity")
    edited = tmp_path / "edited.py"
    edited.write_text(text)
    model = diehl_cook.load_model(edited)
    assert float(model["nu_post"]) == pytest.approx(0.02)


def test_input_delays_need_the_delayed_rule(tmp_path):
    """With input_delay_max > 0 the synapse-held pre trace is required: a file
    without input_on_pre_delayed is refused, naming that field and the delay."""
    text = find_model_file(diehl_cook.MODEL_FILE).read_text()
    start = text.index("input_on_pre_delayed = ")
    end = text.index("\'\'\'", text.index("\'\'\'", start) + 3) + 3
    edited = tmp_path / "no_delayed_rule.py"
    edited.write_text(text[:start] + text[end:])
    diehl_cook.load_model(edited)  # fine without delays
    with pytest.raises(ModelFileError) as error:
        diehl_cook.load_model(edited, overrides={"input_delay_max": "10*ms"})
    assert error.value.field == "input_on_pre_delayed"
    assert str(edited) in str(error.value) and "input_delay_max" in str(error.value)


def test_overrides_are_parsed_and_validated():
    model = diehl_cook.load_model(overrides={"tau_theta": "2e7*ms", "nu_post": "0.02"})
    assert model["tau_theta"] == 2e7 * ms
    with pytest.raises(ModelFileError, match="field 'tau_theta'.*units"):
        diehl_cook.load_model(overrides={"tau_theta": "5*mV"})
    with pytest.raises(ModelFileError, match="field 'tau_thetaa': unknown field \\(did you mean 'tau_theta'"):
        diehl_cook.load_model(overrides={"tau_thetaa": "5*ms"})
    with pytest.raises(ModelFileError, match="whole number of time steps"):
        diehl_cook.load_model(overrides={"presentation_time": "350.2*ms"})


def test_parse_quantity_is_not_eval():
    assert parse_quantity("2*(3 + 4)*ms", {}) == 14 * ms
    for text in ("__import__('os')", "open('x')", "[1, 2]", "ms.__class__"):
        with pytest.raises(ModelFileError):
            parse_quantity(text, {})


def test_model_file_copy_can_be_edited_and_validated_from_cli(tmp_path, capsys):
    from bioplastic.cli import main
    edited = tmp_path / "dc.py"
    shutil.copy(find_model_file(diehl_cook.MODEL_FILE), edited)
    assert main(["validate", str(edited)]) == 0
    assert "valid diehl-cook-2015 model file" in capsys.readouterr().out
    edited.write_text(edited.read_text().replace("tau_e = 100*ms", "tau_e = 100*mV"))
    assert main(["validate", str(edited)]) == 2
    err = capsys.readouterr().err
    assert str(edited) in err and "field 'tau_e'" in err
