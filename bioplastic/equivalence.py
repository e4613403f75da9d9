"""Whether two versions of a model file's equations compute the same thing.

A run resumes from its checkpoint only with the model it started with, so
:class:`bioplastic.training.Run` compares the model file's fields with the
checkpoint's. Text alone is too strict for equations: a model file that gains
an option (a term multiplied by a parameter that is off, a subexpression split
out of an equation) computes what it did before. Here the same parameter
values are put into both versions, subexpressions are substituted, and the
variables both versions define must follow the same expression (sympy decides)
and have the same kind, dimensions and flags.
"""

import numpy as np
import sympy
from brian2 import Equations
from brian2.equations.equations import SUBEXPRESSION
from brian2.parsing.sympytools import str_to_sympy

__all__ = ["equations_equivalent"]


def _constant_integers(expression):
    """``int(True)`` -> 1 and ``int(False)`` -> 0 (sympy keeps Brian2's int_ symbolic)."""
    return expression.replace(
        lambda e: (isinstance(e, sympy.Function) and e.func.__name__ == "int_"
                   and e.args[0] in (sympy.true, sympy.false)),
        lambda e: sympy.Integer(1 if e.args[0] == sympy.true else 0))


def _resolved(text, numbers):
    """{variable: (kind, dimensions, flags, sympy expression or None)} of ``text``."""
    equations = Equations(text)
    subexpressions = {eq.varname: str_to_sympy(eq.expr.code) for eq in equations.values()
                      if eq.type == SUBEXPRESSION}

    def resolve(expression):
        for _ in range(len(subexpressions) + 1):  # subexpressions may use each other
            inner = {s: subexpressions[s.name] for s in expression.free_symbols
                     if s.name in subexpressions}
            if not inner:
                break
            expression = expression.subs(inner)
        expression = expression.subs({s: numbers[s.name] for s in expression.free_symbols
                                      if s.name in numbers})
        return _constant_integers(expression)

    return {eq.varname: (eq.type, eq.dim, frozenset(eq.flags),
                         None if eq.expr is None else resolve(str_to_sympy(eq.expr.code)))
            for eq in equations.values()}


def _same(first, second):
    difference = sympy.expand(first - second)
    return difference == 0 or sympy.simplify(difference) == 0


def equations_equivalent(old_text, new_text, numbers):
    """Whether two Brian2 equations strings compute the same thing.

    Parameters
    ----------
    old_text, new_text : str
        The two versions of an equations field.
    numbers : dict
        ``{parameter: value}`` (quantities or plain numbers) put in place of the
        parameters' names in both texts, e.g. the values a run started with.

    Returns
    -------
    bool
        True when every variable defined in both versions has the same kind
        (differential equation, subexpression, parameter), dimensions, flags
        and, with subexpressions and parameter values substituted, the same
        expression. Variables defined in only one version are not compared:
        they matter only through a shared variable's expression.
    """
    # exact rationals (0.4 -> 2/5), so that 0.4 / 0.001 and 400 compare equal
    exact = {name: sympy.Rational(repr(float(np.asarray(value))))
             for name, value in numbers.items()}
    old, new = _resolved(old_text, exact), _resolved(new_text, exact)
    for name in set(old) & set(new):
        (old_kind, old_dim, old_flags, old_expr) = old[name]
        (new_kind, new_dim, new_flags, new_expr) = new[name]
        if (old_kind, old_dim, old_flags) != (new_kind, new_dim, new_flags):
            return False
        if old_expr is not None and not _same(old_expr, new_expr):
            return False
    return True
