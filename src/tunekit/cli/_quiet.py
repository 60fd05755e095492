"""Quiet, scriptable output for the ``tunekit`` command line.

Three things a command-line program may do that the library never does:

* :func:`quiet_startup` silences the start-up lines TensorFlow, XLA and CUDA
  write while TensorFlow is imported and its devices are set up (``WARNING:
  All log messages before absl::InitializeLog() ...``, ``cudart_stub.cc ...
  Could not find cuda drivers``, ``cpu_feature_guard.cc ...``). Setting
  ``TF_CPP_MIN_LOG_LEVEL`` is not enough: those lines come from C++ code
  before TensorFlow reads it, straight to file descriptor 2. So while the
  command runs, descriptor 2 goes through a pipe and a thread drops the lines
  that look like TensorFlow's C++ logs; everything else reaches stderr
  unchanged. ``TF_CPP_MIN_LOG_LEVEL=0`` (or ``1``) set by the user keeps them.
* :func:`json_stdout` reserves stdout for one JSON object: everything printed
  during the command (``Found N images``, Keras bars) goes to stderr, and
  :func:`result_stream` is the real stdout the JSON is written to.
* :func:`cli_warnings` prints Python warnings as ``tunekit CMD: warning:
  ...`` naming the command-line flags (``--overwrite``, ``--max-trials``)
  instead of the Python arguments, without a source line.

Nothing here imports TensorFlow or Keras.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import sys
import warnings
from collections.abc import Iterator
from typing import Any, TextIO

from tunekit._startup import (
    filtered_stderr,
    flush_standard_streams,
    is_tensorflow_noise,
    user_wants_tensorflow_logs,
)

__all__ = [
    "cli_terms",
    "cli_warnings",
    "is_tensorflow_noise",
    "json_stdout",
    "quiet_startup",
    "result_stream",
]

#: Python argument -> the flag of ``tunekit tune`` / ``tunekit demo``.
_FLAGS = {
    "overwrite": "--overwrite",
    "max_trials": "--max-trials",
    "max_epochs": "--max-epochs",
    "project_name": "--project-name",
    "batch_size": "--batch-size",
    "validation_split": "--validation-split",
    "num_initial_points": "--num-initial-points",
    "factor": "--factor",
}

#: Warnings about the Python API that the command line already takes care
#: of (it reports a search without a completed trial as an error itself).
_NOT_FOR_THE_CLI = (re.compile(r"fewer than KerasTuner's consecutive-failure limit"),)

_result_streams: list[TextIO] = []


def _quiet_python_loggers() -> None:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("GRPC_VERBOSITY", "ERROR")
    for name in ("tensorflow", "absl", "h5py"):
        logging.getLogger(name).setLevel(logging.ERROR)


@contextlib.contextmanager
def quiet_startup() -> Iterator[None]:
    """Drop TensorFlow's C++ log lines from stderr while the block runs.

    Call it before TensorFlow is imported. Python loggers of TensorFlow and
    absl are set to ERROR; with ``TF_CPP_MIN_LOG_LEVEL`` set to 0 or 1 by the
    user, nothing is filtered.

    Examples
    --------
    >>> with quiet_startup():
    ...     print("kept")
    kept
    """
    if user_wants_tensorflow_logs():
        yield
        return
    _quiet_python_loggers()
    with filtered_stderr():
        yield


def _is_process_stdout(stream: Any) -> bool:
    try:
        return stream is sys.__stdout__ and stream.fileno() == 1
    except (AttributeError, OSError, ValueError):
        return False


@contextlib.contextmanager
def json_stdout() -> Iterator[TextIO]:
    """Send everything printed in the block to stderr; yield the real stdout.

    Both Python's ``sys.stdout`` and, for the process's own stdout, file
    descriptor 1 are pointed at stderr, so that even C code cannot write
    to stdout. :func:`result_stream` returns the yielded stream inside the
    block.

    Examples
    --------
    >>> import contextlib, io
    >>> out, err = io.StringIO(), io.StringIO()
    >>> with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
    ...     with json_stdout() as result:
    ...         print("Found 4 images belonging to 2 classes.")
    ...         print('{"trials": 1}', file=result_stream())
    >>> out.getvalue(), err.getvalue()
    ('{"trials": 1}\\n', 'Found 4 images belonging to 2 classes.\\n')
    """
    original = sys.stdout
    saved: int | None = None
    result: TextIO = original
    if _is_process_stdout(original):
        original.flush()
        saved = os.dup(1)
        os.dup2(2, 1)
        result = os.fdopen(os.dup(saved), "w", encoding="utf-8", closefd=True)
    _result_streams.append(result)
    try:
        with contextlib.redirect_stdout(sys.stderr):
            yield result
    finally:
        _result_streams.pop()
        flush_standard_streams()
        if saved is not None:
            result.close()
            os.dup2(saved, 1)
            os.close(saved)


def result_stream() -> TextIO:
    """Where a command's JSON result goes: the real stdout.

    Inside :func:`json_stdout` it is the stdout saved there; elsewhere it is
    ``sys.stdout``.

    Examples
    --------
    >>> import sys
    >>> result_stream() is sys.stdout
    True
    """
    return _result_streams[-1] if _result_streams else sys.stdout


def cli_terms(text: str) -> str:
    """Replace Python argument names in ``text`` by the command-line flags.

    Examples
    --------
    >>> cli_terms("pass `overwrite=True` or a new `project_name`")
    'pass `--overwrite` or a new `--project-name`'
    >>> cli_terms("The search runs 2 trial(s) (max_trials=2)")
    'The search runs 2 trial(s) (--max-trials 2)'
    """
    text = text.replace("`search()`", "the search")
    for name, flag in _FLAGS.items():
        text = re.sub(rf"\b{name}=True\b", flag, text)
        text = re.sub(rf"\b{name}=(?=[\w.'\"-])", f"{flag} ", text)
        text = re.sub(rf"(?<![\w-]){name}\b(?!\()", flag, text)
    return text


@contextlib.contextmanager
def cli_warnings(command: str) -> Iterator[None]:
    """Show warnings as ``tunekit COMMAND: warning: ...`` in command-line terms.

    No file name, line number or source line; each distinct message once.

    Examples
    --------
    >>> import contextlib, io, warnings
    >>> err = io.StringIO()
    >>> with contextlib.redirect_stderr(err), cli_warnings("tune"):
    ...     warnings.warn("pass overwrite=True to start again")
    >>> err.getvalue()
    'tunekit tune: warning: pass --overwrite to start again\\n'
    """
    seen: set[str] = set()

    def show(message: Any, category: Any, *args: Any, **kwargs: Any) -> None:
        text = cli_terms(str(message))
        if text in seen or any(p.search(text) for p in _NOT_FOR_THE_CLI):
            return
        seen.add(text)
        print(f"tunekit {command}: warning: {text}", file=sys.stderr)

    with warnings.catch_warnings():
        warnings.simplefilter("default")
        for module in ("tensorflow", "keras", "google", "absl", "jax"):
            warnings.filterwarnings(
                "ignore", category=DeprecationWarning, module=module
            )
        warnings.showwarning = show
        yield
