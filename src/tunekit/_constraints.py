"""Declarative parameter constraints: one table, one wording per parameter.

In the spirit of scikit-learn's ``_parameter_constraints``: a public entry
point declares, for each simple parameter, the list of constraints a valid
value satisfies, and checks its arguments with one call of
:func:`validate_params`. A value that satisfies none of the constraints raises
:class:`~tunekit.InvalidParameterError` worded from the constraints, joined
with " or "::

    `epochs` must be an integer >= 1. Received: epochs=0

A constraint is a :class:`Constraint` or a shorthand:

- ``None``: the value ``None``;
- ``bool``: ``True`` or ``False`` (and only those: ``0`` and ``1`` are not);
- ``str``: any string;
- ``"callable"``: anything callable;
- ``"path"``: a ``str`` or ``os.PathLike``;
- any other class: an instance of it.

``bool`` is never an integer or a number here, and NumPy's integer and float
scalars are (they register as :class:`numbers.Integral` / :class:`numbers.Real`).

Examples
--------
>>> import numbers
>>> constraints = {
...     "epochs": [Interval(numbers.Integral, 1, None, closed="left")],
...     "seed": [Interval(numbers.Integral, None, None), None],
... }
>>> validate_params(constraints, {"epochs": 3, "seed": None})
>>> try:
...     validate_params(constraints, {"epochs": 0, "seed": 1})
... except ValueError as error:
...     print(error)
`epochs` must be an integer >= 1. Received: epochs=0
>>> try:
...     validate_params(constraints, {"epochs": 1, "seed": True})
... except ValueError as error:
...     print(error)
`seed` must be an integer or None. Received: seed=True
"""

from __future__ import annotations

import numbers
import os
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from tunekit._validation import (
    VALIDATION_SPLIT_WORDING,
    did_you_mean,
    invalid_parameter,
)

__all__ = [
    "BOOL",
    "FLAG",
    "NON_NEGATIVE_INT",
    "NON_NEGATIVE_NUMBER",
    "POSITIVE_INT",
    "SEED",
    "VALIDATION_SPLIT",
    "Constraint",
    "InstanceOf",
    "Interval",
    "Options",
    "Rule",
    "Satisfies",
    "declare_constraints",
    "describe",
    "invalid_value",
    "make_constraint",
    "satisfies",
    "validate_params",
]

_NAN = float("nan")


class Constraint:
    """One way a value may be valid: a test, a wording, and bad examples."""

    def is_satisfied_by(self, value: Any) -> bool:
        raise NotImplementedError

    def __str__(self) -> str:
        raise NotImplementedError

    def invalid_candidates(self) -> list[Any]:
        """Values this constraint refuses (the guardrail test feeds them)."""
        return []

    def hint(self, value: Any) -> str:
        """An extra sentence for the error message (e.g. "Did you mean ...?")."""
        return ""

    def __repr__(self) -> str:
        return f"<{type(self).__name__}: {self}>"


class _NoneConstraint(Constraint):
    def is_satisfied_by(self, value: Any) -> bool:
        return value is None

    def __str__(self) -> str:
        return "None"

    def invalid_candidates(self) -> list[Any]:
        return ["x"]


class _Boolean(Constraint):
    def is_satisfied_by(self, value: Any) -> bool:
        kind = type(value)  # numpy.bool_ too (named "bool" in NumPy 2)
        return isinstance(value, bool) or (
            kind.__module__ == "numpy" and kind.__name__ in ("bool", "bool_")
        )

    def __str__(self) -> str:
        return "True or False"

    def invalid_candidates(self) -> list[Any]:
        return ["yes"]


class _Callable(Constraint):
    def is_satisfied_by(self, value: Any) -> bool:
        return callable(value)

    def __str__(self) -> str:
        return "a callable"

    def invalid_candidates(self) -> list[Any]:
        return [3]


class _PathLike(Constraint):
    def is_satisfied_by(self, value: Any) -> bool:
        return isinstance(value, (str, os.PathLike))

    def __str__(self) -> str:
        return "a path (str or os.PathLike)"

    def invalid_candidates(self) -> list[Any]:
        return [3]


class InstanceOf(Constraint):
    """An instance of ``types``; ``bool`` never counts as an int or a number.

    Examples
    --------
    >>> str(InstanceOf(str))
    'a string'
    >>> InstanceOf(int).is_satisfied_by(True)
    False
    """

    _WORDS = {str: "a string", int: "an integer", float: "a float", dict: "a dict"}

    def __init__(self, *types: type, description: str | None = None) -> None:
        self.types = types
        self.description = description or " or ".join(
            self._WORDS.get(t, f"a {t.__name__}") for t in types
        )

    def is_satisfied_by(self, value: Any) -> bool:
        if isinstance(value, bool) and bool not in self.types:
            return False
        return isinstance(value, self.types)

    def __str__(self) -> str:
        return self.description

    def invalid_candidates(self) -> list[Any]:
        return [3, "x", object()]


class Interval(Constraint):
    """A number of ``kind`` between ``left`` and ``right`` (``None``: unbounded).

    Parameters
    ----------
    kind : numbers.Integral or numbers.Real
        ``numbers.Integral`` accepts ints and NumPy integers; ``numbers.Real``
        also floats and NumPy floats. ``bool`` is refused by both.
    left, right : number or None
        The bounds; ``None`` for no bound on that side.
    closed : {"left", "right", "both", "neither"}
        Which bounds belong to the interval.
    description : str, optional
        The wording, when the default one ("an integer >= 1", "a number in
        [0, 1)") is not the clearest.

    Examples
    --------
    >>> import numbers
    >>> str(Interval(numbers.Integral, 1, None, closed="left"))
    'an integer >= 1'
    >>> str(Interval(numbers.Real, 0, 1, closed="left"))
    'a number in [0, 1)'
    >>> Interval(numbers.Real, 0, 1, closed="left").is_satisfied_by(1)
    False
    """

    def __init__(
        self,
        kind: type,
        left: float | None,
        right: float | None,
        *,
        closed: str = "both",
        description: str | None = None,
    ) -> None:
        if kind not in (numbers.Integral, numbers.Real):
            raise ValueError(f"kind must be numbers.Integral or numbers.Real: {kind}")
        if closed not in ("left", "right", "both", "neither"):
            raise ValueError(f"closed must be left, right, both or neither: {closed}")
        self.kind, self.left, self.right, self.closed = kind, left, right, closed
        self.description = description

    @property
    def _left_closed(self) -> bool:
        return self.closed in ("left", "both")

    @property
    def _right_closed(self) -> bool:
        return self.closed in ("right", "both")

    def is_satisfied_by(self, value: Any) -> bool:
        if isinstance(value, bool) or not isinstance(value, self.kind):
            return False
        if value != value:  # NaN is in no interval
            return False
        if self.left is not None:
            if value < self.left or (value == self.left and not self._left_closed):
                return False
        if self.right is not None:
            if value > self.right or (value == self.right and not self._right_closed):
                return False
        return True

    def __str__(self) -> str:
        if self.description:
            return self.description
        noun = "an integer" if self.kind is numbers.Integral else "a number"
        left, right = self.left, self.right
        if left is None and right is None:
            return noun
        if right is None:
            return f"{noun} {'>=' if self._left_closed else '>'} {left:g}"
        if left is None:
            return f"{noun} {'<=' if self._right_closed else '<'} {right:g}"
        low = "[" if self._left_closed else "("
        high = "]" if self._right_closed else ")"
        return f"{noun} in {low}{left:g}, {right:g}{high}"

    def invalid_candidates(self) -> list[Any]:
        candidates: list[Any] = []
        step = 1 if self.kind is numbers.Integral else 0.5
        if self.left is not None:
            candidates.append(self.left - step)
        if self.right is not None:
            candidates.append(self.right + step)
        if self.kind is numbers.Integral:
            candidates.append(1.5)
        candidates += ["x", True]
        return candidates


class Options(Constraint):
    """One of a fixed set of values (in the wording's order).

    Examples
    --------
    >>> rule = Options(["int", "categorical"])
    >>> str(rule)
    "one of 'int', 'categorical'"
    >>> rule.hint("categorial")
    "Did you mean 'categorical'?"
    """

    def __init__(self, options: Iterable[Any]) -> None:
        self.options = list(options)

    def is_satisfied_by(self, value: Any) -> bool:
        try:
            return any(
                value == option
                and isinstance(value, bool) == isinstance(option, bool)
                and (option is not None or value is None)
                for option in self.options
            )
        except (TypeError, ValueError):  # e.g. an array
            return False

    def __str__(self) -> str:
        return "one of " + ", ".join(repr(option) for option in self.options)

    def hint(self, value: Any) -> str:
        if not isinstance(value, str):
            return ""
        strings = [option for option in self.options if isinstance(option, str)]
        return did_you_mean(value, strings).strip()

    def invalid_candidates(self) -> list[Any]:
        return ["not-an-option", 3]


class Satisfies(Constraint):
    """A value ``predicate`` accepts; for rules the other constraints miss.

    Examples
    --------
    >>> pair = Satisfies(
    ...     lambda v: isinstance(v, tuple) and len(v) == 2, "a pair", invalid=[(1,)]
    ... )
    >>> pair.is_satisfied_by((1, 2)), str(pair)
    (True, 'a pair')
    """

    def __init__(
        self,
        predicate: Callable[[Any], bool],
        description: str,
        *,
        invalid: Iterable[Any] = (),
    ) -> None:
        self.predicate = predicate
        self.description = description
        self.invalid = list(invalid)

    def is_satisfied_by(self, value: Any) -> bool:
        try:
            return bool(self.predicate(value))
        except Exception:
            return False

    def __str__(self) -> str:
        return self.description

    def invalid_candidates(self) -> list[Any]:
        return list(self.invalid)


class Rule:
    """Constraints with one wording of their own instead of the joined one.

    For a parameter whose well-known message says more than its constraints
    do, e.g. ``validation_split``'s "a float in [0, 1), e.g. 0.2 (0 for none)".

    Examples
    --------
    >>> import numbers
    >>> rule = Rule([Interval(numbers.Real, 0, 1, closed="left")], "a fraction")
    >>> describe(rule)
    'a fraction'
    """

    def __init__(
        self, constraints: Iterable[Any], wording: str, *, hint: str = ""
    ) -> None:
        self.constraints = [make_constraint(c) for c in constraints]
        self.wording = wording
        self.hint = hint

    def __iter__(self):
        return iter(self.constraints)


def make_constraint(constraint: Any) -> Constraint:
    """Return the :class:`Constraint` a shorthand stands for."""
    if isinstance(constraint, Constraint):
        return constraint
    if constraint is None:
        return _NoneConstraint()
    if constraint is bool:
        return _Boolean()
    if constraint == "callable":
        return _Callable()
    if constraint == "path":
        return _PathLike()
    if isinstance(constraint, type):
        return InstanceOf(constraint)
    raise TypeError(f"Unknown constraint: {constraint!r}")


def _constraints_of(entry: Any) -> list[Constraint]:
    return (
        list(entry) if isinstance(entry, Rule) else [make_constraint(c) for c in entry]
    )


def satisfies(entry: Any, value: Any) -> bool:
    """True when ``value`` satisfies one of the constraints of ``entry``."""
    return any(c.is_satisfied_by(value) for c in _constraints_of(entry))


def describe(entry: Any) -> str:
    """The one wording of a parameter's constraints ("... or ...")."""
    if isinstance(entry, Rule):
        return entry.wording
    words = [str(c) for c in _constraints_of(entry)]
    if len(words) > 2:
        return ", ".join(words[:-1]) + " or " + words[-1]
    return " or ".join(words)


def _hint(entry: Any, value: Any) -> str:
    if isinstance(entry, Rule) and entry.hint:
        return entry.hint
    hints = (c.hint(value) for c in _constraints_of(entry))
    return next((h for h in hints if h), "")


#: The shared entries: the wordings of ``tunekit._validation``'s helpers.
POSITIVE_INT = [Interval(numbers.Integral, 1, None, closed="left")]
NON_NEGATIVE_INT = [Interval(numbers.Integral, 0, None, closed="left")]
NON_NEGATIVE_NUMBER = [Interval(numbers.Real, 0, None, closed="left")]
SEED = [Interval(numbers.Integral, None, None), None]
BOOL = [bool]
#: A loader's on/off flag: True/False, or 0/1 as Keras 2 code often passes.
FLAG = Rule([bool, Options([0, 1])], "True or False")
VALIDATION_SPLIT = Rule(
    [Interval(numbers.Real, 0, 1, closed="left")], VALIDATION_SPLIT_WORDING
)


def validate_params(constraints: Mapping[str, Any], values: Mapping[str, Any]) -> None:
    """Raise for the first value that satisfies none of its constraints.

    Parameters
    ----------
    constraints : mapping
        Parameter name -> list of constraints (or a :class:`Rule`).
    values : mapping
        Parameter name -> the value received; every name must have an entry
        in ``constraints``.

    Raises
    ------
    InvalidParameterError
        ``"`name` must be <wording>. Received: name=value"``.
    """
    for name, value in values.items():
        entry = constraints[name]
        if not satisfies(entry, value):
            raise invalid_parameter(name, value, describe(entry), _hint(entry, value))


def invalid_value(entry: Any) -> Any:
    """A value none of the constraints of ``entry`` accepts (for tests).

    Examples
    --------
    >>> import numbers
    >>> invalid_value([Interval(numbers.Integral, 1, None, closed="left")])
    0
    >>> invalid_value([Interval(numbers.Integral, None, None), None])
    1.5
    """
    candidates = [x for c in _constraints_of(entry) for x in c.invalid_candidates()]
    candidates += ["not-an-option", -1, 1.5, _NAN, object()]
    for candidate in candidates:
        if not satisfies(entry, candidate):
            return candidate
    raise ValueError(f"No invalid value known for {describe(entry)}")


def declare_constraints(
    constraints: Mapping[str, Any],
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Attach ``constraints`` to a function as ``_parameter_constraints``.

    The function is returned unchanged (it still calls :func:`validate_params`
    itself, where its checks belong); the table is what the guardrail test,
    ``tests/test_parameter_constraints.py``, reads.
    """

    def attach(function: Callable[..., Any]) -> Callable[..., Any]:
        function._parameter_constraints = constraints  # type: ignore[attr-defined]
        return function

    return attach
