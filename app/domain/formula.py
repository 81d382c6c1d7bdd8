"""Formula KPIs (SPEC §7): an arithmetic expression over named inputs.

Checked when saved (``Formula.parse``): the text must be one expression made of numbers, the
input names, ``+ - * /``, parentheses and the functions ``min``, ``max`` and ``abs``; anything
else (an attribute, a string, a comparison, a call of anything else, two statements) is
refused with the reason and the column where it is. Evaluated by simpleeval, a well-kept
safe evaluator (never ``eval``), with every number a ``Decimal`` so that money and rates
keep their exactness. Division by zero or a missing input gives no value and a stated reason
(``FormulaError``), which the engine records instead of a measurement.
"""

from __future__ import annotations

import ast
import operator
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from simpleeval import SimpleEval

from app.domain.errors import ValidationError

NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,39}$")
MAX_LENGTH = 500
FUNCTIONS = {"min": min, "max": max, "abs": abs}
_BINARY = (ast.Add, ast.Sub, ast.Mult, ast.Div)
_UNARY = (ast.USub, ast.UAdd)
_OPERATORS: dict[type, Any] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.USub: operator.neg,
    ast.UAdd: operator.pos,
}


class FormulaError(ValidationError):
    """A formula that cannot be saved, or that gives no value for these inputs."""


class _DecimalEval(SimpleEval):  # type: ignore[misc]
    @staticmethod
    def _eval_constant(node: ast.Constant) -> Any:
        return Decimal(str(node.value))


def _where(node: ast.AST) -> str:
    col = getattr(node, "col_offset", None)
    return f" at character {col + 1}" if col is not None else ""


def _check(node: ast.AST, names: set[str]) -> None:
    if isinstance(node, ast.Expression):
        _check(node.body, names)
    elif isinstance(node, ast.BinOp):
        if not isinstance(node.op, _BINARY):
            raise FormulaError(f"Only + - * / are allowed{_where(node)}.")
        _check(node.left, names)
        _check(node.right, names)
    elif isinstance(node, ast.UnaryOp):
        if not isinstance(node.op, _UNARY):
            raise FormulaError(f"Only + - * / are allowed{_where(node)}.")
        _check(node.operand, names)
    elif isinstance(node, ast.Constant):
        if isinstance(node.value, bool) or not isinstance(node.value, int | float):
            raise FormulaError(f"Only numbers and input names are allowed{_where(node)}.")
    elif isinstance(node, ast.Name):
        names.add(node.id)
    elif isinstance(node, ast.Call):
        func = node.func
        if not isinstance(func, ast.Name) or func.id not in FUNCTIONS:
            allowed = ", ".join(FUNCTIONS)
            raise FormulaError(f"Only the functions {allowed} may be called{_where(node)}.")
        if node.keywords or not node.args:
            raise FormulaError(f"{func.id}() takes one or more values{_where(node)}.")
        if func.id == "abs" and len(node.args) != 1:
            raise FormulaError(f"abs() takes exactly one value{_where(node)}.")
        for arg in node.args:
            _check(arg, names)
    else:
        raise FormulaError(f"Only arithmetic is allowed in a formula{_where(node)}.")


@dataclass(frozen=True)
class Formula:
    text: str
    #: The input names the expression uses, sorted.
    names: tuple[str, ...]
    _tree: ast.Expression

    @classmethod
    def parse(cls, text: str, known: Mapping[str, object] | None = None) -> Formula:
        """Check ``text``; with ``known`` given, every name it uses must be one of those."""
        source = (text or "").strip()
        if not source:
            raise FormulaError("The formula is empty.")
        if len(source) > MAX_LENGTH:
            raise FormulaError(f"The formula is longer than {MAX_LENGTH} characters.")
        try:
            tree = ast.parse(source, mode="eval")
        except SyntaxError as exc:
            at = f" at character {exc.offset}" if exc.offset else ""
            raise FormulaError(f"The formula is not a valid expression{at}.") from None
        used: set[str] = set()
        _check(tree, used)
        clash = sorted(used & set(FUNCTIONS))
        if clash:
            raise FormulaError(f"{clash[0]} is a function; call it with parentheses.")
        if known is not None:
            unknown = sorted(used - set(known))
            if unknown:
                raise FormulaError(
                    f"Unknown name{'s' if len(unknown) > 1 else ''} in the formula: "
                    f"{', '.join(unknown)}."
                )
        return cls(source, tuple(sorted(used)), tree)

    def evaluate(self, values: Mapping[str, Decimal | None]) -> Decimal:
        """The value for these inputs; FormulaError says why there is none."""
        missing = [n for n in self.names if values.get(n) is None]
        if missing:
            raise FormulaError(f"No value for {', '.join(missing)}.")
        inputs = {n: Decimal(values[n]) for n in self.names}  # type: ignore[arg-type]
        evaluator = _DecimalEval(operators=_OPERATORS, functions=FUNCTIONS, names=inputs)
        try:
            result = evaluator.eval(self.text, previously_parsed=self._tree.body)
        except ZeroDivisionError:
            raise FormulaError("Division by zero.") from None
        except InvalidOperation:
            raise FormulaError("Division by zero.") from None
        if not isinstance(result, Decimal) or not result.is_finite():
            raise FormulaError("The formula gave no number.")
        return result


def check_input_name(name: str) -> None:
    if not NAME_RE.match(name or ""):
        raise FormulaError(
            f"{name!r} is not a valid input name: use letters, digits and _ (not first), "
            "up to 40 characters."
        )
    if name in FUNCTIONS:
        raise FormulaError(f"{name!r} is the name of a function; choose another input name.")
