"""Model files rendered as documentation: parameter tables and LaTeX equations."""

import pytest

from bioplastic import diehl_cook
from bioplastic.modeldoc import (comment_above, equations_latex, expression_latex,
                                 model_page, parameter_rows, section_of_lines,
                                 statement_latex)
from bioplastic.modelfile import find_model_file
from bioplastic.training import MODELS


def test_parameter_rows_keep_file_order_sections_units_and_comments():
    model = diehl_cook.load_model()
    rows = {row.name: row for row in parameter_rows(model)}
    assert list(rows) == list(model.parameters)
    theta_plus = rows["theta_plus"]
    assert (theta_plus.section, theta_plus.value, theta_plus.unit, theta_plus.comment) == (
        "Excitatory neurons", "0.05*mV", "V", "threshold increase per spike")
    assert rows["dt"].section == "Presentation protocol"
    assert rows["nu_post"].unit == "1"
    assert rows["w_exc_inh"].section == "Synaptic conductances"


def test_sections_and_comment_blocks_are_read_from_the_source():
    source = "\n".join(["# ---- first part ----", "a = 1*ms   # x", "# why b", "# is 2",
                        "b = 2", "# --- second ---", "# about c", "c = 3"])
    sections = section_of_lines(source)
    assert sections[2] == "First part" and sections[8] == "Second"
    assert comment_above(source, 5) == "why b is 2"
    assert comment_above(source, 8) == "about c"
    assert comment_above(source, 2) == ""  # a section line is not a comment block


@pytest.mark.parametrize("text, expected", [
    ("dv/dt = (v_rest - v) / tau : volt (unless refractory)",
     [r"\frac{\mathrm{d}v}{\mathrm{d}t} &= \frac{- v + v_{rest}}{\tau} && "
      r"[\mathrm{V}\text{, unless refractory}]"]),
    ("w : 1\nx = 2*w : 1",
     [r"w &: \text{parameter} && [\mathrm{1}]", r"x &= 2 w && [\mathrm{1}]"]),
])
def test_equations_become_latex_with_units(text, expected):
    assert equations_latex(text) == expected


def test_comments_in_code_blocks_are_not_rendered():
    from bioplastic.modeldoc import _code_latex
    assert _code_latex("code", "# reset\nv = v_reset  # after a spike\n") == [
        r"v \leftarrow v_{reset}"]


def test_statements_and_expressions_become_latex():
    assert statement_latex("w = clip(w + nu * x, 0, w_max)") == (
        r"w \leftarrow \operatorname{clip}{\left(\nu x + w,0,w_{max} \right)}")
    assert statement_latex("ge_post += w") == r"ge_{post} \mathrel{+}= w"
    assert expression_latex("v > v_thresh") == r"v > v_{thresh}"


@pytest.mark.parametrize("name", sorted(MODELS))
def test_model_page_documents_every_parameter_and_code_field(name):
    module = MODELS[name]()
    model = module.load_model()
    page = model_page(model, "Title", "models/x.py")
    for parameter in model.parameters:
        assert f"| `{parameter}` |" in page
    for field, text in model.code.items():
        if model.spec.fields.get(field) is not None and \
                model.spec.fields[field].kind == "method":
            assert f"`{text}`" in page
        else:
            assert f"#### `{field}`" in page and text.strip("\n") in page
    assert page.count("```{math}") >= 3


def test_model_page_follows_an_edited_model_file(tmp_path):
    text = find_model_file(diehl_cook.MODEL_FILE).read_text()
    text = text.replace("theta_plus = 0.05*mV             # threshold increase per spike",
                        "theta_plus = 0.1*mV              # doubled for this study")
    text = text.replace("w = clip(w + nu_post * pre_pre * post2_before, 0, w_max)",
                        "w = clip(w + nu_post * pre_pre, 0, w_max)")
    edited = tmp_path / "edited.py"
    edited.write_text(text)
    page = model_page(diehl_cook.load_model(edited), "Edited", "edited.py")
    assert "| `theta_plus` | `0.1*mV` | V | doubled for this study |" in page
    assert r"w \leftarrow \operatorname{clip}{\left(\nu_{post} pre_{pre} + w,0,w_{max} \right)}" \
        in page
