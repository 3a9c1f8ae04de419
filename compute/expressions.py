"""Safe parsing of user-typed formulas into SymPy, compiled to vectorized numpy functions.

``parse_expression("sin(x)*cos(y) + 0.1*x^2")`` walks ``ast.parse(text, mode="eval")`` against a
whitelist and builds the SymPy expression node by node; the text never reaches ``eval``,
``sympify`` or ``parse_expr``. Everything not listed below is a ``ValueError``
(:class:`ExpressionError`) naming the offending token and its 1-based column.

Grammar: int/float literals, the given variables (symbols with ``real=True``), ``pi``, ``e``,
binary ``+ - * / **`` (``^`` means ``**``, with its precedence), unary ``- +``, and calls by bare
name of :data:`FUNCTION_NAMES` with positional arguments only. The text may hold only ASCII
letters, digits, spaces and ``+-*/^().,_`` (no quotes, comments, brackets or other operators).

Bounds (module constants, named in the messages):

- ``MAX_LENGTH`` characters, ``MAX_NODES`` sub-expressions, nesting depth
  ``MAX_DEPTH`` (a run of ``+``/``-`` or of ``*``/``/`` counts as one level, so long sums pass);
- a literal ``|v| <= MAX_LITERAL``;
- a constant exponent ``|p| <= MAX_EXPONENT`` (``x**2``, ``x**0.5``, ``2**10``); an exponent with
  variables (``2**x``, ``x**y``) is allowed, its base must then be variable or a positive
  constant;
- every constant sub-expression must be a finite real number (checked in floats as it is
  built, so ``1/0``, ``log(0)``, ``sqrt(-1)``, ``exp(1000)`` are rejected), and an exact rational
  constant must fit in ``MAX_CONSTANT_BITS`` bits, checked *before* SymPy folds a power, so no
  huge integer is ever built (``9**9**9**9``, ``(((2**10)**10)**10)**10``);
- a fractional constant exponent keeps its exact value only up to denominator
  ``MAX_DENOMINATOR`` (beyond, it is used as a float), and numeric roots and logs of numbers
  are sealed in :class:`const` as soon as they appear, so SymPy never merges them into roots of
  ever larger numbers (``(999999*x)**(700001/999998)``, ``exp(log(999999)*7/11)``).
"""

from __future__ import annotations

import ast
import functools
import keyword
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import sympy
from sympy.printing.numpy import SciPyPrinter
from sympy.printing.precedence import precedence

from compute.surfaces import Objective

Array = np.ndarray

MAX_LENGTH = 200
"""Most characters in a formula."""
MAX_DEPTH = 30
"""Deepest nesting of sub-expressions (chains of + - or of * / count once)."""
MAX_NODES = 200
"""Most sub-expressions (numbers, names, operations, calls)."""
MAX_LITERAL = 1e6
"""Largest magnitude of a number literal."""
MAX_EXPONENT = 10
"""Largest magnitude of a constant exponent."""
MAX_CONSTANT_BITS = 1024
"""Most bits (numerator + denominator) of an exact rational constant."""
MAX_DENOMINATOR = 12
"""Largest denominator of an exact fractional exponent (``x**(1/3)``); larger ones become floats."""
MAX_VARIABLES = 8
"""Most variables a formula may be parsed with."""

CONSTANT_NAMES = ("pi", "e")
_CONSTANTS = {"pi": (sympy.pi, math.pi), "e": (sympy.E, math.e)}


# --- functions beyond SymPy's own ------------------------------------------------------------


class sigmoid(sympy.Function):  # noqa: N801 - the name users type and printers dispatch on
    """Logistic function sigma(t) = 1 / (1 + exp(-t)); sigma' = sigma (1 - sigma)."""

    nargs = 1

    @classmethod
    def eval(cls, t):
        if t.is_zero:
            return sympy.S.Half
        return None

    def fdiff(self, argindex=1):
        s = sigmoid(self.args[0])
        return s * (1 - s)

    def _eval_is_extended_real(self):
        return self.args[0].is_extended_real

    def _eval_rewrite_as_exp(self, t, **kwargs):
        return 1 / (1 + sympy.exp(-t))

    def _latex(self, printer, exp=None):
        return _latex_call(r"\sigma", printer, self.args[0], exp)


class softplus(sympy.Function):  # noqa: N801
    """softplus(t) = log(1 + exp(t)); softplus' = sigmoid."""

    nargs = 1

    def fdiff(self, argindex=1):
        return sigmoid(self.args[0])

    def _eval_is_extended_real(self):
        return self.args[0].is_extended_real

    def _eval_rewrite_as_exp(self, t, **kwargs):
        return sympy.log(1 + sympy.exp(t))

    def _latex(self, printer, exp=None):
        return _latex_call(r"\operatorname{softplus}", printer, self.args[0], exp)


class step(sympy.Function):  # noqa: N801
    """Unit step 1[t > 0], the derivative of relu (0 at t = 0, as torch); derivative 0 a.e."""

    nargs = 1

    def fdiff(self, argindex=1):
        return sympy.S.Zero

    def _eval_is_extended_real(self):
        return self.args[0].is_extended_real

    def _latex(self, printer, exp=None):
        return _latex_call(r"\operatorname{step}", printer, self.args[0], exp)


class relu(sympy.Function):  # noqa: N801
    """relu(t) = max(0, t); relu' = step (torch's convention: 0 at t = 0)."""

    nargs = 1

    def fdiff(self, argindex=1):
        return step(self.args[0])

    def _eval_is_extended_real(self):
        return self.args[0].is_extended_real

    def _latex(self, printer, exp=None):
        return _latex_call(r"\operatorname{relu}", printer, self.args[0], exp)


class const(sympy.Function):  # noqa: N801
    """A sealed number such as ``sqrt(2)`` or ``log(3)``: exact, but opaque to SymPy.

    SymPy merges numeric powers as it builds (``12**(1/3) * 12**(1/5)``,
    ``(c**a)**b``, ``exp(r*log(c))``) and takes exact roots of the merged powers, at a cost that
    grows with the exponent's denominator without bound. A sealed number takes part in no merge.
    """

    nargs = 1

    def fdiff(self, argindex=1):
        return sympy.S.Zero

    def _eval_derivative(self, s):
        return sympy.S.Zero

    def _eval_is_extended_real(self):
        return True

    def _eval_is_finite(self):
        return True

    def _eval_is_extended_positive(self):
        return self.args[0].is_extended_positive

    def _eval_is_extended_negative(self):
        return self.args[0].is_extended_negative

    def _eval_is_zero(self):
        return self.args[0].is_zero

    def _eval_is_integer(self):
        return self.args[0].is_integer

    def _eval_is_rational(self):
        return self.args[0].is_rational

    def _eval_evalf(self, prec):
        return self.args[0]._eval_evalf(prec)

    @property
    def precedence(self) -> int:  # printers parenthesize it as what it holds
        return precedence(self.args[0])

    def _latex(self, printer, exp=None):
        inner = printer._print(self.args[0])
        return inner if exp is None else rf"\left({inner}\right)^{{{exp}}}"


def _is_sealable(expr: sympy.Basic) -> bool:
    """A numeric root (``Rational ** non-integer Rational``) or the log of a number."""
    if expr.is_Pow:
        base, exponent = expr.args
        return base.is_Rational and exponent.is_Rational and not exponent.is_Integer
    return isinstance(expr, sympy.log) and not expr.free_symbols


def _seal(expr: sympy.Expr) -> sympy.Expr:
    """Wrap every numeric root and log of a number in ``expr`` (outside ``const``) in ``const``."""
    found: dict[sympy.Basic, sympy.Basic] = {}
    stack = [expr]
    while stack:
        node = stack.pop()
        if node.is_Atom or isinstance(node, const) or node in found:
            continue
        if _is_sealable(node):
            found[node] = const(node)
        else:
            stack.extend(node.args)
    return expr.xreplace(found) if found else expr


def _latex_call(name: str, printer, arg, exp) -> str:
    call = rf"{name}\left({printer._print(arg)}\right)"
    return call if exp is None else rf"{call}^{{{exp}}}"


def _sigmoid_value(t: float) -> float:
    if t >= 0:
        return 1.0 / (1.0 + math.exp(-t))
    z = math.exp(t)
    return z / (1.0 + z)


def _softplus_value(t: float) -> float:
    return max(t, 0.0) + math.log1p(math.exp(-abs(t)))


@dataclass(frozen=True)
class _Function:
    build: Callable[..., sympy.Expr]  # SymPy constructor
    value: Callable[..., float]  # float value for constant arguments; may raise
    arity: int


_FUNCTIONS: dict[str, _Function] = {
    "sin": _Function(sympy.sin, math.sin, 1),
    "cos": _Function(sympy.cos, math.cos, 1),
    "tan": _Function(sympy.tan, math.tan, 1),
    "asin": _Function(sympy.asin, math.asin, 1),
    "acos": _Function(sympy.acos, math.acos, 1),
    "atan": _Function(sympy.atan, math.atan, 1),
    "sinh": _Function(sympy.sinh, math.sinh, 1),
    "cosh": _Function(sympy.cosh, math.cosh, 1),
    "tanh": _Function(sympy.tanh, math.tanh, 1),
    "exp": _Function(sympy.exp, math.exp, 1),
    "log": _Function(sympy.log, math.log, 1),
    "ln": _Function(sympy.log, math.log, 1),
    "sqrt": _Function(sympy.sqrt, math.sqrt, 1),
    "abs": _Function(sympy.Abs, abs, 1),
    "erf": _Function(sympy.erf, math.erf, 1),
    "sigmoid": _Function(sigmoid, _sigmoid_value, 1),
    "relu": _Function(relu, lambda t: max(t, 0.0), 1),
    "softplus": _Function(softplus, _softplus_value, 1),
    "min": _Function(sympy.Min, min, 2),
    "max": _Function(sympy.Max, max, 2),
}
FUNCTION_NAMES: tuple[str, ...] = tuple(_FUNCTIONS)
"""Functions a formula may call; ``log`` and ``ln`` are natural logs, ``min``/``max`` take two."""

_ALLOWED_CHARACTERS = frozenset(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 +-*/^().,_"
)
_SUGGESTIONS = {"arcsin": "asin", "arccos": "acos", "arctan": "atan", "E": "e"}
_BAD = (sympy.zoo, sympy.nan, sympy.oo, -sympy.oo, sympy.I)


# --- errors ----------------------------------------------------------------------------------


class ExpressionError(ValueError):
    """A formula that is not allowed; ``column`` is 1-based in the text, or ``None``."""

    def __init__(self, message: str, column: int | None = None):
        super().__init__(message)
        self.column = column


def _describe(node: ast.AST) -> str:
    if isinstance(node, ast.Attribute):
        return f"attribute access '.{node.attr}'"
    if isinstance(node, ast.Constant):
        value = node.value
        if isinstance(value, str):
            return "a string"
        if isinstance(value, bytes):
            return "bytes"
        if isinstance(value, complex):
            return "a complex number"
        return f"the constant {value!r}"
    names = {
        ast.Subscript: "indexing with [...]",
        ast.Lambda: "lambda",
        ast.ListComp: "a comprehension",
        ast.SetComp: "a comprehension",
        ast.DictComp: "a comprehension",
        ast.GeneratorExp: "a comprehension",
        ast.IfExp: "'if ... else'",
        ast.Compare: "a comparison",
        ast.BoolOp: "'and'/'or'",
        ast.NamedExpr: "assignment ':='",
        ast.Starred: "a starred argument",
        ast.List: "a list",
        ast.Tuple: "a tuple (a stray comma?)",
        ast.Set: "a set",
        ast.Dict: "a dict",
        ast.JoinedStr: "an f-string",
        ast.Await: "await",
        ast.Yield: "yield",
        ast.YieldFrom: "yield",
        ast.Slice: "a slice",
    }
    return names.get(type(node), f"'{type(node).__name__}'")


_BINOP_SYMBOLS = {
    ast.Mod: "%",
    ast.FloorDiv: "//",
    ast.MatMult: "@",
    ast.LShift: "<<",
    ast.RShift: ">>",
    ast.BitOr: "|",
    ast.BitAnd: "&",
    ast.BitXor: "^",
}
_UNARY_SYMBOLS = {ast.Not: "not", ast.Invert: "~"}
_CHAINS = ((ast.Add, ast.Sub), (ast.Mult, ast.Div))


# --- parsing ---------------------------------------------------------------------------------


def _check_variables(variables: Sequence[str]) -> tuple[str, ...]:
    if isinstance(variables, str):
        raise TypeError("variables must be a sequence of names, e.g. ('x', 'y'), not a string")
    names = tuple(variables)
    if not 1 <= len(names) <= MAX_VARIABLES:
        raise ValueError(f"variables must number 1 to {MAX_VARIABLES}; got {len(names)}")
    for name in names:
        if (
            not isinstance(name, str)
            or not re.fullmatch(r"[A-Za-z][A-Za-z0-9]{0,15}", name)
            or keyword.iskeyword(name)
            or name in _FUNCTIONS
            or name in _CONSTANTS
        ):
            raise ValueError(
                f"variable {name!r} is not allowed; use 1-16 ASCII letters/digits starting with "
                f"a letter, other than {', '.join(CONSTANT_NAMES + FUNCTION_NAMES)}"
            )
    if len(set(names)) != len(names):
        raise ValueError(f"variables must be distinct; got {names}")
    return names


def _rewrite_carets(text: str) -> tuple[str, list[int]]:
    """Drop leading spaces and replace ``^`` by ``**``; return the new text and, per new index
    (and one past the end), the index in ``text``."""
    parts: list[str] = []
    columns: list[int] = []
    start = len(text) - len(text.lstrip(" "))  # Python would read them as an indent
    for i, ch in enumerate(text[start:], start):
        if ch == "^":
            parts.append("**")
            columns += [i, i]
        else:
            parts.append(ch)
            columns.append(i)
    columns.append(len(text))
    return "".join(parts), columns


class _Builder:
    """Turns a checked ``ast`` into SymPy, tracking float values of constant sub-expressions."""

    def __init__(self, text: str, source: str, columns: list[int], variables: tuple[str, ...]):
        self.text = text
        self.source = source
        self.columns = columns
        self.symbols = {name: sympy.Symbol(name, real=True) for name in variables}

    # positions and messages

    def column(self, offset: int) -> int:
        return self.columns[min(max(offset, 0), len(self.columns) - 1)] + 1

    def segment(self, node: ast.AST) -> str:
        start = self.columns[node.col_offset]
        end = self.columns[min(node.end_col_offset or node.col_offset, len(self.columns) - 1)]
        snippet = self.text[start:end]
        return snippet if len(snippet) <= 40 else snippet[:37] + "..."

    def error(self, message: str, node: ast.AST | None = None, offset: int | None = None):
        if offset is None and node is not None:
            offset = node.col_offset
        if offset is None:
            return ExpressionError(message.replace(" {at}", ""))
        col = self.column(offset)
        return ExpressionError(message.replace("{at}", f"at column {col}"), col)

    def hint(self) -> str:
        names = ", ".join((*self.symbols, *CONSTANT_NAMES))
        return f"use numbers, {names}, + - * / ^ ** and {', '.join(FUNCTION_NAMES)}"

    # bounds

    def check_size(self, tree: ast.Expression) -> None:
        n_nodes = sum(isinstance(node, ast.expr) for node in ast.walk(tree))
        if n_nodes > MAX_NODES:
            raise ExpressionError(
                f"expression must have at most {MAX_NODES} parts (numbers, names, operations); "
                f"got {n_nodes}"
            )
        depth = 0
        stack: list[tuple[ast.AST, int]] = [(tree.body, 1)]
        while stack:
            node, level = stack.pop()
            depth = max(depth, level)
            for child in ast.iter_child_nodes(node):
                same_chain = (
                    isinstance(node, ast.BinOp)
                    and isinstance(child, ast.BinOp)
                    and child is node.left
                    and any(isinstance(node.op, g) and isinstance(child.op, g) for g in _CHAINS)
                )
                # operators, contexts and the callee's name add no level of nesting
                flat = same_chain or not isinstance(child, ast.expr)
                flat = flat or (isinstance(node, ast.Call) and child is node.func)
                stack.append((child, level if flat else level + 1))
        if depth > MAX_DEPTH:
            raise ExpressionError(
                f"expression must nest at most {MAX_DEPTH} levels deep; got {depth}"
            )

    # building; each returns (sympy expression, float value or None when it has variables)

    def build(self, node: ast.AST) -> tuple[sympy.Expr, float | None]:
        handler = {
            ast.Constant: self._constant,
            ast.Name: self._name,
            ast.BinOp: self._binop,
            ast.UnaryOp: self._unaryop,
            ast.Call: self._call,
        }.get(type(node))
        if handler is None:
            raise self.error(f"{_describe(node)} {{at}} is not allowed; {self.hint()}", node)
        expr, value = handler(node)
        self._check_result(node, expr, value)
        return _seal(expr), value

    def _check_result(self, node: ast.AST, expr: sympy.Expr, value: float | None) -> None:
        seg = self.segment(node)
        if (value is not None and not math.isfinite(value)) or expr.has(*_BAD):
            raise self.error(
                f"'{seg}' {{at}} is undefined, infinite or not real; "
                "constants must be finite real numbers",
                node,
            )
        if value is not None and expr.is_Rational and _bits(expr) > MAX_CONSTANT_BITS:
            raise self.error(
                f"constant '{seg}' {{at}} is too large to compute exactly; exact constants must "
                f"fit in {MAX_CONSTANT_BITS} bits",
                node,
            )

    def _constant(self, node: ast.Constant):
        value = node.value
        if type(value) not in (int, float):  # bool is an int subclass: excluded by type()
            raise self.error(f"{_describe(node)} {{at}} is not allowed; {self.hint()}", node)
        if not abs(value) <= MAX_LITERAL:  # also catches inf (1e309) and nan
            raise self.error(
                f"number {self.segment(node)} {{at}} is too large; numbers must satisfy "
                f"|v| <= {MAX_LITERAL:.0e}".replace("e+0", "e"),
                node,
            )
        if type(value) is int:
            return sympy.Integer(value), float(value)
        return sympy.Float(value), value

    def _name(self, node: ast.Name):
        name = node.id
        if name in self.symbols:
            return self.symbols[name], None
        if name in _CONSTANTS:
            return _CONSTANTS[name]
        if name in _FUNCTIONS:
            raise self.error(
                f"function '{name}' {{at}} must be called with an argument, e.g. {name}(x)", node
            )
        suggestion = _SUGGESTIONS.get(name, name.lower())
        allowed = (*self.symbols, *CONSTANT_NAMES, *FUNCTION_NAMES)
        did_you_mean = f" (did you mean '{suggestion}'?)" if suggestion in allowed else ""
        shown = name if len(name) <= 40 else name[:37] + "..."
        raise self.error(f"name '{shown}' {{at}} is not allowed{did_you_mean}; {self.hint()}", node)

    def _binop(self, node: ast.BinOp):
        op = type(node.op)
        if op not in (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow):
            symbol = _BINOP_SYMBOLS.get(op, op.__name__)
            at = self.source.find(symbol, node.left.end_col_offset or 0, node.right.col_offset)
            raise self.error(
                f"operator '{symbol}' {{at}} is not allowed; {self.hint()}",
                node,
                offset=at if at >= 0 else None,
            )
        left, lv = self.build(node.left)
        right, rv = self.build(node.right)
        constant = lv is not None and rv is not None
        if op is ast.Add:
            return left + right, lv + rv if constant else None
        if op is ast.Sub:
            return left - right, lv - rv if constant else None
        if op is ast.Mult:
            return left * right, lv * rv if constant else None
        if op is ast.Div:
            if rv == 0.0:
                raise self.error(f"division by zero in '{self.segment(node)}' {{at}}", node)
            return left / right, lv / rv if constant else None
        return self._power(node, left, lv, right, rv)

    def _power(self, node: ast.BinOp, base, bv, exponent, ev):
        seg = self.segment(node)
        if ev is None:
            # a variable exponent: b**x = exp(x log b) needs b > 0 to stay real
            if bv is not None and not bv > 0:
                raise self.error(
                    f"'{seg}' {{at}}: a power with a variable exponent needs a positive "
                    f"base; got {bv:g}",
                    node,
                )
            return base**exponent, None
        if not abs(ev) <= MAX_EXPONENT:
            raise self.error(
                f"exponent in '{seg}' {{at}} is {ev:g}; constant exponents must satisfy "
                f"|p| <= {MAX_EXPONENT}",
                node,
            )
        if exponent.is_Rational and not exponent.is_Integer and exponent.q > MAX_DENOMINATOR:
            # SymPy takes exact roots of the numbers in the base, at a cost growing with q
            exponent = sympy.Float(ev)
        if bv is None:
            return base**exponent, None
        # constant ** constant: SymPy folds Rational**Rational exactly, so bound the size first
        if base.is_Rational and exponent.is_Rational:
            bits = _bits(base) * (abs(int(exponent.p)) + int(exponent.q) - 1)
            if bits > MAX_CONSTANT_BITS:
                raise self.error(
                    f"constant '{seg}' {{at}} is too large to compute exactly; exact constants "
                    f"must fit in {MAX_CONSTANT_BITS} bits",
                    node,
                )
        try:
            value = math.pow(bv, ev)  # raises for 0**-1, (-8)**(1/3) and overflow
        except (ValueError, OverflowError):
            raise self.error(
                f"'{seg}' {{at}} is undefined or overflows; constants must be finite real numbers",
                node,
            ) from None
        return base**exponent, value

    def _unaryop(self, node: ast.UnaryOp):
        if isinstance(node.op, ast.USub):
            expr, value = self.build(node.operand)
            return -expr, None if value is None else -value
        if isinstance(node.op, ast.UAdd):
            return self.build(node.operand)
        symbol = _UNARY_SYMBOLS.get(type(node.op), type(node.op).__name__)
        raise self.error(f"operator '{symbol}' {{at}} is not allowed; {self.hint()}", node)

    def _call(self, node: ast.Call):
        if not isinstance(node.func, ast.Name):
            raise self.error(
                f"calling '{self.segment(node.func)}' {{at}} is not allowed; only functions "
                f"called by name: {', '.join(FUNCTION_NAMES)}",
                node,
            )
        name = node.func.id
        if name not in _FUNCTIONS:
            if name in self.symbols or name in _CONSTANTS:
                raise self.error(
                    f"'{name}' {{at}} is not a function; write products with *, e.g. {name}*(...)",
                    node,
                )
            self._name(node.func)  # raises with the name's message
        if node.keywords:
            raise self.error(
                f"keyword arguments {{at}} are not allowed in {name}(...)", node.keywords[0]
            )
        function = _FUNCTIONS[name]
        if len(node.args) != function.arity:
            plural = "s" if function.arity > 1 else ""
            raise self.error(
                f"{name} {{at}} takes {function.arity} argument{plural}; got {len(node.args)}",
                node,
            )
        built = [self.build(arg) for arg in node.args]  # Starred is rejected in build
        args = [expr for expr, _ in built]
        values = [value for _, value in built]
        value = None
        if all(v is not None for v in values):
            try:
                value = float(function.value(*values))
            except (ValueError, OverflowError, ZeroDivisionError):
                raise self.error(
                    f"'{self.segment(node)}' {{at}} is undefined or overflows; "
                    "constants must be finite real numbers",
                    node,
                ) from None
        return function.build(*args), value


def _bits(q: sympy.Rational) -> int:
    return abs(int(q.p)).bit_length() + int(q.q).bit_length()


def parse_expression(text: str, variables: Sequence[str] = ("x", "y")) -> sympy.Expr:
    """Parse a formula typed by a user into SymPy, safely (see the module docstring).

    Variables become ``sympy.Symbol(name, real=True)``. Raises :class:`ExpressionError` (a
    ``ValueError``) naming the offending token, its column and the bound it breaks.
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a str; got {type(text).__name__}")
    names = _check_variables(variables)
    if len(text) > MAX_LENGTH:
        raise ExpressionError(
            f"expression must be at most {MAX_LENGTH} characters; got {len(text)}"
        )
    for i, ch in enumerate(text):
        if ch not in _ALLOWED_CHARACTERS:
            raise ExpressionError(
                f"character {ch!r} at column {i + 1} is not allowed; use letters, digits, "
                "spaces and + - * / ^ ( ) . , _",
                i + 1,
            )
    if not text.strip():
        raise ExpressionError("expression is empty; type a formula such as sin(x)*cos(y)")
    source, columns = _rewrite_carets(text)
    builder = _Builder(text, source, columns, names)
    try:
        tree = ast.parse(source, mode="eval")
    except SyntaxError as exc:
        offset = exc.offset or 0
        column = builder.column(offset - 1) if 0 < offset <= len(source) else len(text) + 1
        raise ExpressionError(
            f"invalid syntax at column {column}: {exc.msg}; write products with * (2*x) and "
            "powers with ^ or **",
            column,
        ) from None
    except (ValueError, MemoryError, RecursionError, Warning):
        raise ExpressionError("expression could not be parsed") from None
    builder.check_size(tree)
    expr, _ = builder.build(tree.body)
    return expr


# --- compiling to numpy ----------------------------------------------------------------------


class _Printer(SciPyPrinter):
    """SciPy/NumPy code printer that knows the extra functions and SymPy's step functions."""

    def _print_const(self, expr):
        return f"({self._print(expr.args[0])})"

    def _print_sigmoid(self, expr):
        return f"{self._module_format('scipy.special.expit')}({self._print(expr.args[0])})"

    def _print_softplus(self, expr):
        logaddexp = self._module_format("numpy.logaddexp")
        return f"{logaddexp}(0.0, {self._print(expr.args[0])})"

    def _print_relu(self, expr):
        return f"{self._module_format('numpy.maximum')}({self._print(expr.args[0])}, 0.0)"

    def _print_step(self, expr):
        return f"{self._module_format('numpy.heaviside')}({self._print(expr.args[0])}, 0.0)"

    def _print_Heaviside(self, expr):
        h0 = expr.args[1] if len(expr.args) > 1 else sympy.S.Half
        heaviside = self._module_format("numpy.heaviside")
        return f"{heaviside}({self._print(expr.args[0])}, {self._print(h0)})"


def _drop_deltas(expr: sympy.Expr) -> sympy.Expr:
    """Second derivatives of abs/sign/min/max hold DiracDelta; it is 0 almost everywhere."""
    return expr.replace(sympy.DiracDelta, lambda *args: sympy.S.Zero)


def _jacobian_program(
    exprs: Sequence[sympy.Expr], symbols: Sequence[sympy.Symbol]
) -> tuple[list[tuple[sympy.Symbol, sympy.Expr]], list[list[sympy.Expr]]]:
    """Straight-line code for d exprs[i] / d symbols[j]: (assignments, outputs[i][j]).

    Forward-mode differentiation: every operation of ``exprs`` (shared ones once) becomes an
    assignment ``t = op(a_1, ..., a_k)`` of atoms and earlier temporaries, followed by
    ``dt/ds = sum_i d op / d a_i * d a_i / ds``. The program grows linearly with the size of
    ``exprs``, where differentiating the expanded expressions again can grow by a power (the
    Hessian of ``x**y**x**...`` expands to ~20k operations and takes seconds to build).
    """
    temps = sympy.numbered_symbols("_t", cls=sympy.Dummy, real=True)
    program: list[tuple[sympy.Symbol, sympy.Expr]] = []
    derivatives: dict[sympy.Basic, list[sympy.Expr]] = {
        s: [sympy.S.One if s == r else sympy.S.Zero for r in symbols] for s in symbols
    }
    names: dict[sympy.Basic, sympy.Basic] = {}

    def assign(expr: sympy.Expr) -> sympy.Basic:
        if expr.is_Atom:
            return expr
        name = next(temps)
        program.append((name, expr))
        return name

    def visit(expr: sympy.Basic) -> sympy.Basic:
        if expr.is_Atom:
            return expr
        if expr in names:
            return names[expr]
        if not expr.free_symbols:  # a constant: one assignment, derivative 0
            names[expr] = assign(expr)
            return names[expr]
        step = expr.func(*(visit(arg) for arg in expr.args))
        name = assign(step)
        if name.is_Atom and name not in derivatives:
            inner = [a for a in step.args if a in derivatives]
            row = []
            for j in range(len(symbols)):
                terms = (_partial(step, a) * derivatives[a][j] for a in inner)
                row.append(assign(_drop_deltas(sympy.Add(*terms))))
            derivatives[name] = row
        names[expr] = name
        return name

    outputs = []
    for expr in exprs:
        top = visit(expr)
        zero = [sympy.S.Zero] * len(symbols)
        outputs.append(list(derivatives.get(top, zero)))
    return program, outputs


def _partial(step: sympy.Expr, arg: sympy.Basic) -> sympy.Expr:
    """d step / d arg for one program step; sums and products of atoms without ``diff``."""
    if all(a.is_Atom for a in step.args) and step.args.count(arg) == 1:
        if step.is_Add:
            return sympy.S.One
        if step.is_Mul:  # a k-factor product would cost k^2 calls to diff
            return sympy.Mul(*(a for a in step.args if a != arg))
        if step.is_Pow:
            base, exponent = step.args
            return exponent * base ** (exponent - 1) if arg == base else step * sympy.log(base)
    return step.diff(arg)


def _compile(
    symbols: Sequence[sympy.Symbol],
    exprs: Sequence[sympy.Expr],
    program: Sequence[tuple[sympy.Symbol, sympy.Expr]] | None = None,
) -> Callable:
    """Vectorized float64 callable returning one array per expression, each of the broadcast
    shape of the inputs (constants included), with floating-point warnings silenced.

    ``program`` gives assignments the expressions refer to; without it SymPy's ``cse`` is used.
    """
    printer = _Printer(
        {"fully_qualified_modules": False, "inline": True, "allow_unknown_functions": False}
    )
    cse = True if program is None else (lambda exprs: (list(program), exprs))
    raw = sympy.lambdify(
        list(symbols),
        list(exprs),
        modules=["scipy", "numpy"],
        printer=printer,
        dummify=True,
        cse=cse,
    )

    def evaluate(*args) -> tuple[Array, ...]:
        arrays = [np.asarray(a, dtype=np.float64) for a in args]
        shape = np.broadcast_shapes(*(a.shape for a in arrays))
        with np.errstate(all="ignore"):
            outs = raw(*arrays)
            return tuple(_real(out, shape) for out in outs)

    return evaluate


def _real(out, shape: tuple[int, ...]) -> Array:
    out = np.asarray(out)
    if np.iscomplexobj(out):  # defensive: real input should never give a complex value
        out = np.where(out.imag == 0, out.real, np.nan)
    # a fresh float64 array of the input shape: never a view of an input, constants broadcast
    return np.array(np.broadcast_to(out, shape), dtype=np.float64)


@functools.lru_cache(maxsize=64)
def expression_objective(text: str) -> Objective:
    """Objective f(x, y) from a formula: f, grad = (df/dx, df/dy), hess = (fxx, fxy, fyy).

    Derivatives are symbolic (``sympy.diff``), compiled with ``lambdify`` to numpy; every output
    is float64 of shape ``np.broadcast_shapes(x.shape, y.shape)``. Cached by text.
    """
    expr = parse_expression(text, ("x", "y"))
    x, y = sympy.Symbol("x", real=True), sympy.Symbol("y", real=True)
    fx, fy = expr.diff(x), expr.diff(y)
    program, ((fxx, fxy), (_, fyy)) = _jacobian_program((fx, fy), (x, y))
    f_all = _compile((x, y), (expr,))
    grad_all = _compile((x, y), (fx, fy))
    hess_all = _compile((x, y), (fxx, fxy, fyy), program)

    def f(x: Array, y: Array) -> Array:
        return f_all(x, y)[0]

    def grad(x: Array, y: Array) -> tuple[Array, Array]:
        return grad_all(x, y)

    def hess(x: Array, y: Array) -> tuple[Array, Array, Array]:
        return hess_all(x, y)

    return Objective(
        name="expression",
        latex=sympy.latex(expr),
        f=f,
        grad=grad,
        hess=hess,
        x_range=(-3.0, 3.0),
        y_range=(-3.0, 3.0),
        params={},
        gradient_latex=(sympy.latex(fx), sympy.latex(fy)),
    )


@dataclass(frozen=True)
class Function1D:
    """f(t) of one variable from a formula, with f' and f'' (all vectorized); LaTeX of f and f'.

    (No LaTeX for f'': expanded, it can run to 10^5 characters for a 200-character formula.)

    ``f(t)``, ``df(t)``, ``d2f(t)`` return float64 arrays of ``np.shape(t)``.
    """

    variable: str
    expr: sympy.Expr
    f: Callable[[Array], Array]
    df: Callable[[Array], Array]
    d2f: Callable[[Array], Array]
    latex: str
    derivative_latex: str


@functools.lru_cache(maxsize=64)
def expression_function_1d(text: str, variable: str = "x") -> Function1D:
    """Function1D from a formula in one variable; derivatives by ``sympy.diff``. Cached."""
    expr = parse_expression(text, (variable,))
    t = sympy.Symbol(variable, real=True)
    d1 = expr.diff(t)
    program, ((d2,),) = _jacobian_program((d1,), (t,))
    compiled = [_compile((t,), (expr,)), _compile((t,), (d1,)), _compile((t,), (d2,), program)]

    def unpack(fn: Callable) -> Callable[[Array], Array]:
        return lambda t: fn(t)[0]

    return Function1D(
        variable=variable,
        expr=expr,
        f=unpack(compiled[0]),
        df=unpack(compiled[1]),
        d2f=unpack(compiled[2]),
        latex=sympy.latex(expr),
        derivative_latex=sympy.latex(d1),
    )
