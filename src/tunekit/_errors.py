"""The exception hierarchy of tunekit.

Every error tunekit raises on purpose derives from :class:`TunekitError`.
Each specific error also derives from the built-in exception a user would
already catch (``ValueError``, ``TypeError``, ``RuntimeError``), so existing
``except ValueError:`` clauses keep working.
"""

from __future__ import annotations

__all__ = [
    "ImageDirectoryError",
    "InvalidParameterError",
    "LabelMismatchError",
    "ObjectiveError",
    "SearchFailedError",
    "StaleProjectError",
    "TunekitError",
]


class TunekitError(Exception):
    """Base class of every error tunekit raises on purpose."""


class InvalidParameterError(TunekitError, ValueError, TypeError):
    """An argument has a wrong type or value.

    Raised before any training starts. The message names the argument, says
    what was expected and ends with ``Received: name=value``.
    """


class ObjectiveError(TunekitError, ValueError):
    """A tuning objective is unknown, points the wrong way or is never logged."""


class StaleProjectError(TunekitError, ValueError):
    """An existing tuner project was written with a different configuration."""


class SearchFailedError(TunekitError, RuntimeError):
    """A search ended without a single completed trial."""


class LabelMismatchError(TunekitError, ValueError):
    """A model's head, loss and labels disagree."""


class ImageDirectoryError(TunekitError, ValueError):
    """An image directory is missing, empty or laid out wrongly."""
