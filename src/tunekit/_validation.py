"""Small argument-checking helpers shared by every tunekit module.

Messages follow Keras' convention: say what is wrong and how to fix it, then
end with ``Received: name=value``.
"""

from __future__ import annotations

import difflib
import numbers
from collections.abc import Iterable
from typing import Any

from tunekit._errors import InvalidParameterError

__all__ = [
    "VALIDATION_SPLIT_WORDING",
    "check_in",
    "check_positive_int",
    "check_seed",
    "check_validation_split",
    "did_you_mean",
    "invalid_parameter",
    "received",
]


#: The one wording of every ``validation_split`` (also ``tunekit._constraints``).
VALIDATION_SPLIT_WORDING = "a float in [0, 1), e.g. 0.2 (0 for none)"


def received(name: str, value: Any) -> str:
    """Return the ``Received: name=value`` tail of an error message."""
    return f"Received: {name}={value!r}"


def did_you_mean(name: str, candidates: Iterable[str]) -> str:
    """Return ``" Did you mean 'x'?"`` for the closest candidate, or ``""``."""
    matches = difflib.get_close_matches(str(name), list(candidates), n=1, cutoff=0.6)
    return f" Did you mean {matches[0]!r}?" if matches else ""


def invalid_parameter(
    name: str, value: Any, expected: str, hint: str = ""
) -> InvalidParameterError:
    """Build the standard error for argument ``name``.

    The message reads ``"`name` must be <expected>. <hint> Received: name=value"``.
    """
    hint = f" {hint.strip()}" if hint else ""
    return InvalidParameterError(
        f"`{name}` must be {expected}.{hint} {received(name, value)}"
    )


def check_in(name: str, value: Any, allowed: Iterable[Any]) -> Any:
    """Return ``value`` if it is one of ``allowed``; raise a clear error otherwise."""
    allowed = list(allowed)
    if value not in allowed:
        options = ", ".join(repr(a) for a in allowed)
        hint = did_you_mean(value, [a for a in allowed if isinstance(a, str)])
        raise invalid_parameter(name, value, f"one of {options}", hint)
    return value


def check_positive_int(name: str, value: Any, *, minimum: int = 1) -> int:
    """Return ``value`` as an ``int`` if it is an integer ``>= minimum``."""
    integral = isinstance(value, numbers.Integral) and not isinstance(value, bool)
    if not integral or value < minimum:
        raise invalid_parameter(name, value, f"an integer >= {minimum}")
    return int(value)


def check_seed(seed: Any) -> int | None:
    """Return ``seed`` as an ``int`` (or None); the one rule for every ``seed``.

    Examples
    --------
    >>> check_seed(3), check_seed(None)
    (3, None)
    >>> try:
    ...     check_seed(1.5)
    ... except ValueError as error:
    ...     print(error)
    `seed` must be an integer or None. Received: seed=1.5
    """
    if seed is None:
        return None
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise invalid_parameter("seed", seed, "an integer or None")
    return int(seed)


def check_validation_split(value: Any) -> float:
    """Return ``validation_split`` as a float in [0, 1); the one rule and wording.

    Examples
    --------
    >>> check_validation_split(0.2)
    0.2
    >>> try:  # doctest: +ELLIPSIS
    ...     check_validation_split(1)
    ... except ValueError as error:
    ...     print(error)
    `validation_split` must be a float in [0, 1), e.g. 0.2 (0 for none). Received: ...
    """
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Real)
        or not 0.0 <= float(value) < 1.0
    ):
        raise invalid_parameter("validation_split", value, VALIDATION_SPLIT_WORDING)
    return float(value)
