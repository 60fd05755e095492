"""Small argument-checking helpers shared by every tunekit module.

Messages follow Keras' convention: say what is wrong and how to fix it, then
end with ``Received: name=value``.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import Any

from tunekit._errors import InvalidParameterError

__all__ = [
    "check_in",
    "check_positive_int",
    "did_you_mean",
    "invalid_parameter",
    "received",
]


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
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise invalid_parameter(name, value, f"an integer >= {minimum}")
    return int(value)
