"""Model files as documentation: parameter tables and equations in LaTeX.

A model file is the single source of a model's documentation: its header (what it
is, the reference, deviations from the paper), its ``# ---- Section ----`` comment
lines, each parameter's trailing comment and the comment block above each equation.
This module turns a validated :class:`~bioplastic.modelfile.ModelFile` into

* parameter rows grouped by section (``bioplastic info --model``), and
* a Markdown page with a parameter table, every equation and synapse rule rendered
  as LaTeX next to its Brian2 source (the Sphinx model pages).

Nothing here evaluates the file: equations are converted with Brian2's own parser
(:func:`brian2.parsing.sympytools.str_to_sympy`) and SymPy's LaTeX printer.
"""

import re
from dataclasses import dataclass

import sympy
from brian2 import Equations, get_unit
from brian2.equations.equations import DIFFERENTIAL_EQUATION, SUBEXPRESSION
from brian2.parsing.sympytools import str_to_sympy

__all__ = ["ParameterRow", "section_of_lines", "comment_above", "parameter_rows",
           "expression_latex", "statement_latex", "equations_latex", "model_page"]

#: ``# ---- Presentation protocol ----`` (any number of dashes, at least three)
SECTION = re.compile(r"^#\s*-{3,}\s*(.+?)\s*-*\s*$")
#: ``x = expr``, ``x += expr`` ... (one statement of a code block)
STATEMENT = re.compile(r"^\s*([A-Za-z_]\w*)\s*(\+=|-=|\*=|/=|=)\s*(.+?)\s*$")
OPERATORS = {"=": r"\leftarrow", "+=": r"\mathrel{+}=", "-=": r"\mathrel{-}=",
             "*=": r"\mathrel{\times}=", "/=": r"\mathrel{/}="}


@dataclass
class ParameterRow:
    """One parameter of a model file as a person reads it."""

    section: str
    name: str
    value: str   #: the right-hand side as written in the file (``350*ms``)
    unit: str    #: the SI unit of the value (``V``, ``s``; ``1`` for a plain number)
    comment: str


def section_of_lines(source):
    """Map each line number (1-based) to the title of the section it lies in."""
    sections, current = {}, ""
    for lineno, line in enumerate(source.splitlines(), start=1):
        match = SECTION.match(line)
        if match:
            current = match.group(1).strip()
            current = current[:1].upper() + current[1:]
        sections[lineno] = current
    return sections


def comment_above(source, lineno):
    """The block of ``#`` comment lines right above line ``lineno`` (not sections)."""
    lines = source.splitlines()
    block = []
    index = lineno - 2
    while index >= 0 and lines[index].lstrip().startswith("#") \
            and not SECTION.match(lines[index]):
        block.insert(0, lines[index].lstrip()[1:].strip())
        index -= 1
    return " ".join(block)


def _unit_text(value):
    dimensions = getattr(value, "dim", None)
    if dimensions is None or dimensions.is_dimensionless:
        return "1"
    return str(get_unit(dimensions))


def parameter_rows(model):
    """The quantity fields of ``model`` in file order, with section and comment.

    Parameters
    ----------
    model : bioplastic.modelfile.ModelFile

    Returns
    -------
    list of ParameterRow
    """
    source = model.path.read_text()
    sections = section_of_lines(source)
    rows = []
    for name, value in model.parameters.items():
        lineno = model.linenos.get(name)
        rows.append(ParameterRow(section=sections.get(lineno, "") if lineno else "",
                                 name=name, value=model.sources.get(name, str(value)),
                                 unit=_unit_text(value),
                                 comment=model.comments.get(name, "")))
    return rows


def expression_latex(expression):
    """LaTeX of one Brian2 expression (``v > v_thresh_e - theta_offset + theta``)."""
    return sympy.latex(str_to_sympy(expression))


def statement_latex(line):
    """LaTeX of one statement of a code block (``w = clip(w + dw, 0, w_max)``)."""
    match = STATEMENT.match(line)
    if match is None:
        return expression_latex(line)
    target, operator, expression = match.groups()
    return (f"{sympy.latex(sympy.Symbol(target))} {OPERATORS[operator]} "
            f"{expression_latex(expression)}")


def equations_latex(text):
    """LaTeX lines (one per equation) of a Brian2 equations string, with units."""
    lines = []
    for equation in Equations(text).values():  # in the order of the file
        symbol = sympy.latex(sympy.Symbol(equation.varname))
        unit = _unit_text(equation)
        flags = rf"\text{{, {', '.join(equation.flags)}}}" if equation.flags else ""
        if equation.type == DIFFERENTIAL_EQUATION:
            left = rf"\frac{{\mathrm{{d}}{symbol}}}{{\mathrm{{d}}t}}"
        else:
            left = symbol
        if equation.type in (DIFFERENTIAL_EQUATION, SUBEXPRESSION):
            right = expression_latex(str(equation.expr))
            lines.append(rf"{left} &= {right} && [\mathrm{{{unit}}}{flags}]")
        else:
            lines.append(rf"{left} &: \text{{parameter}} && [\mathrm{{{unit}}}{flags}]")
    return lines


def _code_latex(kind, text):
    if kind == "equations":
        return equations_latex(text)
    if kind == "expression":
        return [expression_latex(text)]
    statements = (line.split("#", 1)[0] for line in text.splitlines())  # drop comments
    return [statement_latex(line) for line in statements if line.strip()]


def _header_markdown(header):
    """The model file's docstring, with its underlined titles as Markdown headings."""
    lines = header.strip("\n").splitlines()
    out = []
    for line in lines:
        if re.fullmatch(r"-{3,}", line.strip()) and out:
            out[-1] = "### " + out[-1]
            continue
        out.append(line)
    return "\n".join(out)


def _table_cell(text):
    return text.replace("|", r"\|")


def model_page(model, title, source_name):
    """A Markdown (MyST) page documenting ``model``.

    Parameters
    ----------
    model : bioplastic.modelfile.ModelFile
        A validated model file (its spec says which fields are equations or code).
    title : str
        Page title.
    source_name : str
        How the page names the file (e.g. ``models/diehl_cook_2015.py``).

    Returns
    -------
    str
    """
    source = model.path.read_text()
    sections = section_of_lines(source)
    summary, _, rest = model.header.strip().partition("\n\n")
    page = [f"# {title}", "", summary.strip(), "",
            f"Everything below is read from `{source_name}` when these pages are "
            "built, so it is what the code runs. Edit a copy of the file and pass it as "
            "`--model-file`, or change one value with `--set NAME=VALUE` "
            "(see {doc}`/model-files`).", "", _header_markdown(rest), "",
            "## Parameters", ""]
    current = None
    for row in parameter_rows(model):
        if row.section != current:
            current = row.section
            page += ["", f"### {current or 'General'}", "",
                     "| parameter | value | SI unit | meaning |", "|---|---|---|---|"]
        page.append(f"| `{row.name}` | `{_table_cell(row.value)}` | {row.unit} | "
                    f"{_table_cell(row.comment)} |")
    page += ["", "## Equations and synapse rules", "",
             "Each field is shown as LaTeX (by Brian2's parser and SymPy) and as the "
             "Brian2 string it is. In code blocks `x ← e` is an assignment; variables "
             "with the suffix `_pre`/`_post` belong to the pre- or postsynaptic neuron.",
             ""]
    current = None
    for name, text in model.code.items():
        kind = model.spec.fields[name].kind if name in model.spec.fields else "code"
        if kind == "method":
            continue
        lineno = model.linenos.get(name)
        section = sections.get(lineno, "") if lineno else ""
        if section != current:
            current = section
            page += [f"### {current or 'General'}", ""]
        page += [f"#### `{name}`", ""]
        comment = comment_above(source, lineno) if lineno else ""
        if comment:
            page += [comment, ""]
        latex = _code_latex(kind, text)
        if latex:
            body = r" \\ ".join(latex) if kind == "equations" else r" \\ ".join(
                rf"&{line}" for line in latex)
            page += ["```{math}", rf"\begin{{aligned}}{body}\end{{aligned}}", "```", ""]
        page += ["```python", text.strip("\n"), "```", ""]
    methods = [name for name in model.code if name in model.spec.fields
               and model.spec.fields[name].kind == "method"]
    for name in methods:
        page += [f"Integration method (`{name}`): `{model[name]}`.", ""]
    return "\n".join(page)
