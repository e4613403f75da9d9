"""Read and validate model files.

A model file (``models/*.py``) is written in Python syntax so that it reads like a
Brian2 example, but it is **never executed or eval'ed**: it is parsed with :mod:`ast`
and only a small, safe subset is accepted:

* the module docstring (the model's header: what it is, references, deviations);
* ``name = <quantity>`` where the right-hand side is built from numbers, Brian2 unit
  names (``mV``, ``ms``, ``Hz`` ...), earlier parameters, ``+ - * / **`` and
  parentheses;
* ``name = '''...'''`` string constants holding equations or ``on_pre``/``on_post``
  code.

The trailing ``# comment`` of each assignment is kept as that field's description
(used by ``bioplastic info`` and the documentation).

Each model module in :mod:`bioplastic` declares a :class:`ModelSpec` with the fields
the Python code needs (their dimensions and allowed ranges). Validation then checks
the file against it: unknown or unused names, wrong dimensions, out-of-range values
and identifiers in equations that are defined nowhere all raise
:class:`ModelFileError`, which names the file, the line and the field.
"""

import ast
import difflib
import io
import math
import re
import tokenize
from dataclasses import dataclass, field
from pathlib import Path

import brian2
from brian2 import DEFAULT_CONSTANTS, DEFAULT_FUNCTIONS, Equations
from brian2.units.fundamentalunits import (
    DIMENSIONLESS,
    Quantity,
    get_dimensions,
    get_unit,
)
from brian2.utils.stringtools import get_identifiers

__all__ = [
    "ModelFileError",
    "Field",
    "ModelSpec",
    "ModelFile",
    "load_model_file",
    "models_directory",
    "find_model_file",
    "check_defined_variables",
    "field_error",
]


class ModelFileError(ValueError):
    """A model file is malformed; the message names the file, line and field."""

    def __init__(self, path, message, field=None, lineno=None):
        location = str(path)
        if lineno is not None:
            location += f", line {lineno}"
        if field is not None:
            location += f", field '{field}'"
        super().__init__(f"{location}: {message}")
        self.path = path
        self.field = field
        self.lineno = lineno


def _unit_table():
    """All Brian2 unit names (``mV``, ``ms``, ``nS`` ...) mapped to their units."""
    table = {}
    for module in (brian2.units.allunits, brian2.units.stdunits):
        for name, value in vars(module).items():
            if isinstance(value, brian2.Unit):
                table[name] = value
    return table


UNITS = _unit_table()

# Identifiers Brian2 provides in any code string.
_BRIAN_BUILTINS = (
    set(DEFAULT_FUNCTIONS)
    | set(DEFAULT_CONSTANTS)
    | {"t", "dt", "t_in_timesteps", "i", "j", "N", "N_pre", "N_post", "N_incoming",
       "N_outgoing", "lastspike", "not_refractory", "True", "False", "and", "or", "not",
       "lastupdate"}
)


@dataclass
class Field:
    """Declaration of one field a model module reads from its model file.

    Parameters
    ----------
    kind : {'quantity', 'equations', 'code', 'expression', 'method'}
        A number with units, a Brian2 ``Equations`` string, a block of statements
        (``on_pre``/``on_post``/reset code), a single expression (threshold) or the
        name of a Brian2 integration method.
    unit : brian2.Unit or None
        Expected unit of a quantity (``None`` or ``1`` for dimensionless).
    low, high : float or None
        Inclusive range of the value in that unit.
    integer : bool
        Whether the value must be a whole number.
    optional : bool
        Whether the field may be absent (code fields default to empty).
    """

    kind: str
    unit: object = None
    low: float = None
    high: float = None
    integer: bool = False
    optional: bool = False
    low_exclusive: bool = False


@dataclass
class ModelSpec:
    """What a model module expects from its model file."""

    model_name: str
    fields: dict
    #: Variables the Python builder adds to the groups (usable in code strings).
    builder_identifiers: set = field(default_factory=set)


@dataclass
class ModelFile:
    """A parsed and validated model file."""

    path: Path
    header: str
    values: dict
    comments: dict
    linenos: dict
    spec: ModelSpec = None
    #: Parameter names referenced by other parameters' definitions.
    references: set = field(default_factory=set)
    #: The right-hand side of each quantity as written in the file (``1e7*ms``).
    sources: dict = field(default_factory=dict)

    def __getitem__(self, name):
        return self.values[name]

    def __contains__(self, name):
        return name in self.values

    @property
    def parameters(self):
        """Quantity-valued fields (the namespace of every Brian2 group)."""
        return {k: v for k, v in self.values.items() if not isinstance(v, str)}

    @property
    def namespace(self):
        """Parameters for Brian2 groups (``dt`` is the clock's, not a constant)."""
        return {k: v for k, v in self.parameters.items() if k != "dt"}

    @property
    def code(self):
        """String-valued fields (equations and code blocks)."""
        return {k: v for k, v in self.values.items() if isinstance(v, str)}

    def with_overrides(self, overrides):
        """Return a copy with some parameters replaced (re-validated).

        Parameters
        ----------
        overrides : dict
            ``{name: value}``; values may be quantities or strings such as ``'2e7*ms'``.
        """
        values = dict(self.values)
        for name, value in overrides.items():
            if name not in values:
                _unknown(self.path, name, values, None)
            if isinstance(value, str) and not isinstance(values[name], str):
                value = parse_quantity(value, self.parameters, self.path, name)
            values[name] = value
        sources = dict(self.sources)
        sources.update({k: str(v) for k, v in overrides.items()})
        result = ModelFile(self.path, self.header, values, dict(self.comments),
                           dict(self.linenos), self.spec, set(self.references), sources)
        if self.spec is not None:
            validate(result, self.spec)
        return result

    def fingerprint(self):
        """A stable text form of every value, for checkpoints and caches."""
        return {k: (v if isinstance(v, str) else repr(v)) for k, v in sorted(self.values.items())}


def _unknown(path, name, known, lineno):
    close = difflib.get_close_matches(name, list(known), n=1)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    raise ModelFileError(path, f"unknown field{hint}", field=name, lineno=lineno)


_ALLOWED_BINOPS = {ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b,
                   ast.Mult: lambda a, b: a * b, ast.Div: lambda a, b: a / b,
                   ast.Pow: lambda a, b: a ** b}


def _evaluate_quantity(node, known, path, name):
    """Evaluate a restricted arithmetic expression tree without ``eval``."""
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) \
            and not isinstance(node.value, bool):
        return node.value
    if isinstance(node, ast.Name):
        if node.id in known:
            value = known[node.id]
            if isinstance(value, str):
                raise ModelFileError(path, f"'{node.id}' is a code string, not a number",
                                     field=name, lineno=node.lineno)
            return value
        if node.id in UNITS:
            return UNITS[node.id]
        raise ModelFileError(path, f"unknown identifier '{node.id}' (not a Brian2 unit "
                             "or an earlier parameter)", field=name, lineno=node.lineno)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        value = _evaluate_quantity(node.operand, known, path, name)
        return -value if isinstance(node.op, ast.USub) else value
    if isinstance(node, ast.BinOp) and type(node.op) in _ALLOWED_BINOPS:
        left = _evaluate_quantity(node.left, known, path, name)
        right = _evaluate_quantity(node.right, known, path, name)
        try:
            return _ALLOWED_BINOPS[type(node.op)](left, right)
        except Exception as exc:  # dimension mismatch, division by zero ...
            raise ModelFileError(path, f"cannot compute value: {exc}", field=name,
                                 lineno=node.lineno) from None
    raise ModelFileError(path, "only numbers, Brian2 units, earlier parameters and "
                         f"+ - * / ** are allowed here, found '{ast.unparse(node)}'",
                         field=name, lineno=getattr(node, "lineno", None))


def parse_quantity(text, known, path="<override>", name=None):
    """Parse ``'100*ms'``-style text safely (used for command-line overrides)."""
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        raise ModelFileError(path, f"cannot parse value '{text}': {exc.msg}",
                             field=name) from None
    return _evaluate_quantity(tree.body, known, path, name)


def _comments_by_line(source):
    comments = {}
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT:
            comments[token.start[0]] = token.string.lstrip("#").strip()
    return comments


def parse_model_file(path):
    """Parse a model file into a :class:`ModelFile` (no spec checks yet)."""
    path = Path(path)
    try:
        source = path.read_text()
    except OSError as exc:
        raise ModelFileError(path, f"cannot read model file: {exc.strerror}") from None
    try:
        tree = ast.parse(source, filename=str(path))
    except SyntaxError as exc:
        raise ModelFileError(path, f"syntax error: {exc.msg}", lineno=exc.lineno) from None
    comments = _comments_by_line(source)
    header = ast.get_docstring(tree) or ""
    values, field_comments, linenos, references, sources = {}, {}, {}, set(), {}
    body = tree.body[1:] if header else tree.body
    for statement in body:
        if not (isinstance(statement, ast.Assign) and len(statement.targets) == 1
                and isinstance(statement.targets[0], ast.Name)):
            raise ModelFileError(path, "only 'name = value' assignments are allowed, found "
                                 f"'{ast.unparse(statement).splitlines()[0]}'",
                                 lineno=statement.lineno)
        name = statement.targets[0].id
        if name in values:
            raise ModelFileError(path, f"defined twice (first on line {linenos[name]})",
                                 field=name, lineno=statement.lineno)
        if name in UNITS or (name in _BRIAN_BUILTINS and name != "dt"):
            raise ModelFileError(path, "this name is reserved (a Brian2 unit or built-in)",
                                 field=name, lineno=statement.lineno)
        node = statement.value
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            values[name] = node.value
        else:
            values[name] = _evaluate_quantity(node, values, path, name)
            references |= {n.id for n in ast.walk(node)
                           if isinstance(n, ast.Name) and n.id in values}
            sources[name] = ast.get_source_segment(source, node)
        field_comments[name] = comments.get(statement.lineno, "")
        linenos[name] = statement.lineno
    return ModelFile(path, header, values, field_comments, linenos, references=references,
                     sources=sources)


def _check_quantity(model, name, decl):
    value = model.values[name]
    lineno = model.linenos.get(name)
    unit = decl.unit if decl.unit is not None else 1
    expected_dim = get_dimensions(unit)
    if get_dimensions(value) is not expected_dim:
        # get_unit names a plain number "radian"; say what it is
        actual = ("no units" if get_dimensions(value) is DIMENSIONLESS
                  else f"units of {get_unit(get_dimensions(value))!r}")
        wanted = "a plain number" if expected_dim is DIMENSIONLESS else repr(unit)
        raise ModelFileError(
            model.path, f"has {actual} but {wanted} was expected (value {value!r})",
            field=name, lineno=lineno)
    number = float(value / unit) if expected_dim is not DIMENSIONLESS else float(value)
    if math.isnan(number) or math.isinf(number):
        raise ModelFileError(model.path, f"must be finite, got {value!r}", field=name,
                             lineno=lineno)
    if decl.integer and number != int(number):
        raise ModelFileError(model.path, f"must be a whole number, got {value!r}",
                             field=name, lineno=lineno)
    too_low = decl.low is not None and (number < decl.low or (decl.low_exclusive and number == decl.low))
    too_high = decl.high is not None and number > decl.high
    if too_low or too_high:
        low = "-inf" if decl.low is None else f"{decl.low:g}"
        high = "inf" if decl.high is None else f"{decl.high:g}"
        bracket = "(" if decl.low_exclusive else "["
        raise ModelFileError(
            model.path,
            f"value {value!r} is out of range: expected {bracket}{low}, {high}] "
            f"in units of {unit!r}", field=name, lineno=lineno)


def _code_identifiers(model, name, kind):
    text = model.values[name]
    lineno = model.linenos.get(name)
    if kind == "equations":
        try:
            equations = Equations(text)
        except Exception as exc:
            raise ModelFileError(model.path, f"invalid Brian2 equations: {exc}",
                                 field=name, lineno=lineno) from None
        defined = set(equations.names)
        used = set()
        for eq in equations.values():
            if eq.expr is not None:
                used |= get_identifiers(eq.expr.code)
        return defined, used
    # code blocks and expressions: check they parse as Python statements/expressions
    mode = "exec" if kind == "code" else "eval"
    try:
        ast.parse(text.strip(), mode=mode)
    except SyntaxError as exc:
        raise ModelFileError(model.path, f"invalid {kind}: {exc.msg}", field=name,
                             lineno=lineno) from None
    defined = set()
    if kind == "code":
        for line in text.strip().splitlines():
            match = re.match(r"\s*([A-Za-z_]\w*)\s*=[^=]", line)
            if match:  # a temporary variable defined in this block
                defined.add(match.group(1))
    return defined, get_identifiers(text)


def _strip_suffix(identifier):
    for suffix in ("_pre", "_post"):
        if identifier.endswith(suffix):
            return identifier[: -len(suffix)]
    return identifier


def validate(model, spec):
    """Check a parsed model file against a spec; raise :class:`ModelFileError`.

    Order: the values that are present (type, units, range, integration method),
    then names that are not fields, then identifiers in code, then missing fields,
    so the first error reported is the one nearest to what was edited.
    """
    model.spec = spec
    for name, decl in spec.fields.items():
        if name in model.values:
            _check_field(model, name, decl)
    for name in model.values:
        if name not in spec.fields and isinstance(model.values[name], str):
            _unknown(model.path, name, spec.fields, model.linenos.get(name))
    _check_identifiers(model, spec)
    for name, decl in spec.fields.items():
        if name not in model.values:
            if not decl.optional:
                raise ModelFileError(model.path, f"missing: the {spec.model_name} model "
                                     f"needs this {decl.kind} field", field=name)
            if decl.kind in ("code", "equations"):
                model.values[name] = ""
    return model


def _check_field(model, name, decl):
    value = model.values[name]
    lineno = model.linenos.get(name)
    if decl.kind == "quantity":
        if isinstance(value, str):
            raise ModelFileError(model.path, "expected a number with units, got a string",
                                 field=name, lineno=lineno)
        _check_quantity(model, name, decl)
    elif not isinstance(value, str):
        raise ModelFileError(model.path, f"expected a string of Brian2 {decl.kind}, got "
                             f"{value!r}", field=name, lineno=lineno)
    elif decl.kind == "method":
        from brian2.stateupdaters.base import StateUpdateMethod
        methods = sorted(StateUpdateMethod.stateupdaters)
        if value not in methods:
            raise ModelFileError(model.path, f"unknown integration method '{value}': "
                                 f"expected one of {', '.join(methods)}", field=name,
                                 lineno=lineno)


def _check_identifiers(model, spec):
    """Every identifier in code must be defined somewhere; extra parameters used."""
    parameters = set(model.parameters)
    defined_everywhere = set(spec.builder_identifiers)
    uses = {}
    for name, decl in spec.fields.items():
        if decl.kind in ("quantity", "method") or not model.values.get(name):
            continue
        defined, used = _code_identifiers(model, name, decl.kind)
        defined_everywhere |= defined
        uses[name] = (defined, used)
    known = parameters | defined_everywhere | _BRIAN_BUILTINS | set(UNITS)
    used_anywhere = set()
    for name, (defined, used) in uses.items():
        for identifier in sorted(used):
            base = _strip_suffix(identifier)
            used_anywhere.add(base)
            if identifier not in known and base not in known and identifier not in defined:
                close = difflib.get_close_matches(base, sorted(known - set(UNITS)), n=1)
                hint = f" (did you mean '{close[0]}'?)" if close else ""
                raise ModelFileError(model.path, f"unknown identifier '{identifier}'{hint}",
                                     field=name, lineno=model.linenos.get(name))
    # Extra parameters are welcome (a user may add a term to a rule) but must be used.
    for name in model.values:
        if name in spec.fields or name in used_anywhere or name in model.references:
            continue
        close = difflib.get_close_matches(name, list(spec.fields), n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        raise ModelFileError(model.path, f"is not a field of the {spec.model_name} model "
                             f"and no equation uses it{hint}", field=name,
                             lineno=model.linenos.get(name))


def models_directory():
    """Directory holding the shipped model files.

    Installed packages carry them as ``bioplastic/models``; in a source checkout
    (editable install) they live in the top-level ``models/`` folder.
    """
    package_dir = Path(__file__).resolve().parent
    for candidate in (package_dir / "models", package_dir.parent / "models"):
        if candidate.is_dir() and any(candidate.glob("*.py")):
            return candidate
    raise FileNotFoundError(f"no model files found next to {package_dir}")


def find_model_file(filename):
    """Path of a shipped model file such as ``'diehl_cook_2015.py'``."""
    path = models_directory() / filename
    if not path.is_file():
        raise FileNotFoundError(f"model file {path} does not exist")
    return path


def load_model_file(path, spec, overrides=None):
    """Parse, validate and (optionally) override a model file.

    Parameters
    ----------
    path : str or Path
        The model file.
    spec : ModelSpec
        The fields the model's Python code needs.
    overrides : dict, optional
        Parameter values replacing those in the file (e.g. from ``--set``).

    Returns
    -------
    ModelFile
    """
    model = validate(parse_model_file(path), spec)
    if overrides:
        model = model.with_overrides(overrides)
    return model


def field_error(model, field, message):
    """A ModelFileError about ``field`` of ``model``, naming its file and line."""
    return ModelFileError(model.path, message, field=field, lineno=model.linenos.get(field))


def check_defined_variables(model, required, purpose):
    """Raise ModelFileError if an equations field lacks a variable the code needs.

    ``required`` maps an equations field to the variable names it must define;
    ``purpose`` says who uses them (it ends the error message).
    """
    for name, variables in required.items():
        defined = set(Equations(model[name]).names)
        for variable in variables:
            if variable not in defined:
                raise field_error(model, name, f"must define '{variable}' ({purpose})")


def quantity_in(value, unit):
    """A model quantity as a float in ``unit`` (``Quantity`` or plain number)."""
    if isinstance(value, Quantity):
        return float(value / unit)
    return float(value)
