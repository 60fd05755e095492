"""tunekit's warnings point at the user's line, not at tunekit's internals.

A warning raised deep inside tunekit (a tuner's constructor, a callback during
``fit``, an estimator run by ``GridSearchCV``) is reported at the first caller
outside tunekit and the libraries that drive it (Keras, KerasTuner,
scikit-learn, joblib, TensorFlow), which is the line the user wrote. A fixed
``stacklevel`` cannot do that: the same check runs at different depths through
the factories, the classes and the command line.
"""

from __future__ import annotations

import sys
import warnings
from types import FrameType

__all__ = ["warn"]

#: Top-level packages whose frames are skipped: tunekit itself and the
#: libraries that call back into it.
_LIBRARY_PACKAGES = frozenset(
    {"tunekit", "keras", "keras_tuner", "sklearn", "joblib", "tensorflow"}
)


def _is_library(frame: FrameType) -> bool:
    module = frame.f_globals.get("__name__") or ""
    return module.partition(".")[0] in _LIBRARY_PACKAGES


def _is_import_machinery(frame: FrameType) -> bool:
    # warnings.warn does not count these frames either (warnings._is_internal_frame).
    filename = frame.f_code.co_filename
    return "importlib" in filename and "_bootstrap" in filename


def user_stacklevel(depth: int = 1) -> int:
    """The ``stacklevel`` that makes a warning point at the user's line.

    Parameters
    ----------
    depth : int, default=1
        How many frames above this call ``warnings.warn`` is called from:
        1 when the function calling ``user_stacklevel`` calls ``warnings.warn``.

    Returns
    -------
    int
        The level of the first frame outside tunekit and the libraries that
        call it, or of the outermost frame when there is none (``python -m
        tunekit``, a worker process).
    """
    frame = sys._getframe(depth)  # the frame that calls warnings.warn
    level = 1
    while _is_library(frame):
        outer = frame.f_back
        while outer is not None and _is_import_machinery(outer):
            outer = outer.f_back
        if outer is None:
            break
        frame, level = outer, level + 1
    return level


def warn(message: str, category: type[Warning] = UserWarning) -> None:
    """Issue ``message`` as a warning attributed to the user's calling line.

    Parameters
    ----------
    message : str
        The warning text.
    category : type, default=UserWarning
        The warning class.
    """
    warnings.warn(message, category, stacklevel=user_stacklevel())
