"""No TensorFlow / CUDA start-up lines when tunekit is what imports Keras.

Importing TensorFlow writes lines such as ``WARNING: All log messages before
absl::InitializeLog() ...``, ``port.cc ... oneDNN custom operations are on``,
``cudart_stub.cc ... Could not find cuda drivers`` and, at the first device
set-up, ``cuda_platform.cc ... failed call to cuInit``, straight to file
descriptor 2 from C++ code, some of them before TensorFlow reads
``TF_CPP_MIN_LOG_LEVEL``. Jupyter shows them in red.

When a public name's module is first loaded (``tunekit.build_cnn_hypermodel``,
``tunekit.hyperband``, ...) and TensorFlow is not imported yet, tunekit:

* sets ``TF_CPP_MIN_LOG_LEVEL=2`` unless the variable is set (TensorFlow's
  later INFO and WARNING logs; errors still show);
* loads the module with descriptor 2 going through a pipe whose reader drops
  the lines that look like TensorFlow's C++ logs (everything else passes
  unchanged), and, if TensorFlow got imported, lists its devices inside the
  same window, so that CUDA's set-up lines are dropped too.

``TF_CPP_MIN_LOG_LEVEL=0`` (or ``1``) set by the user turns all of this off.
``import tunekit`` itself does none of it; a program that imports Keras
before tunekit gets TensorFlow's lines as usual (import ``tunekit`` objects
first, or see docs/cli.md for the notebook recipe).
"""

from __future__ import annotations

import contextlib
import importlib
import os
import re
import sys
import threading
from collections.abc import Iterator
from types import ModuleType

__all__ = [
    "filtered_stderr",
    "import_module",
    "is_tensorflow_noise",
    "user_wants_tensorflow_logs",
]

#: Lines TensorFlow's C++ code writes to descriptor 2 (absl / glog format).
_NOISE = (
    re.compile(r"^WARNING: All log messages before absl::InitializeLog\(\)"),
    re.compile(r"^[IWE]\d{4} [\d:.]+\s+\d+ [\w./-]+:\d+\] "),
    re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+: [IWE] [\w./-]+:\d+\] "),
    re.compile(r"^To enable the following instructions: .* rebuild TensorFlow"),
)

#: Modules that import Keras only when first used: Keras is imported with
#: them, inside the quiet window (they cannot work without it).
_KERAS_ON_FIRST_USE = frozenset({"tunekit.estimators._estimators"})


def is_tensorflow_noise(line: str) -> bool:
    """Whether ``line`` is one of TensorFlow's C++ start-up log lines.

    Examples
    --------
    >>> is_tensorflow_noise("I0000 00:00:1796169550.879084   21769 "
    ...                     "cudart_stub.cc:31] Could not find cuda drivers")
    True
    >>> is_tensorflow_noise("Found 40 images belonging to 2 classes.")
    False
    """
    return any(pattern.match(line) for pattern in _NOISE)


def user_wants_tensorflow_logs() -> bool:
    """Whether the user asked for TensorFlow's logs (``TF_CPP_MIN_LOG_LEVEL`` 0/1)."""
    return os.environ.get("TF_CPP_MIN_LOG_LEVEL", "").strip() in {"0", "1"}


class _Filter(threading.Thread):
    """Copy lines from ``read_fd`` to ``write_fd``, dropping TensorFlow's noise."""

    def __init__(self, read_fd: int, write_fd: int) -> None:
        super().__init__(name="tunekit-stderr-filter", daemon=True)
        self.read_fd = read_fd
        self.write_fd = write_fd

    def run(self) -> None:
        pending = b""
        while True:
            try:
                chunk = os.read(self.read_fd, 65536)
            except OSError:
                chunk = b""
            if not chunk:
                break
            pending += chunk
            *lines, pending = pending.split(b"\n")
            self._write(lines, final=False)
        if pending:
            self._write([pending], final=True)

    def _write(self, lines: list[bytes], *, final: bool) -> None:
        kept = [
            line
            for line in lines
            if not is_tensorflow_noise(line.decode("utf-8", "replace"))
        ]
        if not kept:
            return
        data = b"\n".join(kept) + (b"" if final else b"\n")
        with contextlib.suppress(OSError):
            os.write(self.write_fd, data)


def flush_standard_streams() -> None:
    """Flush Python's buffered stdout/stderr before descriptors are swapped."""
    for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
        with contextlib.suppress(Exception):
            if stream is not None:
                stream.flush()


@contextlib.contextmanager
def filtered_stderr() -> Iterator[None]:
    """Drop TensorFlow's C++ log lines from descriptor 2 while the block runs.

    Everything else written to descriptor 2 (Python's warnings and errors,
    other libraries' output) passes unchanged. Without a descriptor 2 (a
    detached process) the block runs as it is.

    Examples
    --------
    >>> with filtered_stderr():
    ...     print("kept")
    kept
    """
    try:
        saved = os.dup(2)
    except OSError:
        yield
        return
    read_fd, write_fd = os.pipe()
    flush_standard_streams()
    os.dup2(write_fd, 2)
    os.close(write_fd)
    thread = _Filter(read_fd, saved)
    thread.start()
    try:
        yield
    finally:
        flush_standard_streams()
        os.dup2(saved, 2)  # closes the pipe's last write end: the thread ends
        thread.join(timeout=5)
        os.close(read_fd)
        os.close(saved)


def _set_up_tensorflow_devices() -> None:
    # CUDA's set-up lines (``failed call to cuInit`` on a machine without a
    # GPU) come at the first device query, not at import: make it happen now.
    keras = sys.modules.get("keras")
    tf = sys.modules.get("tensorflow")
    if tf is None or keras is None or keras.backend.backend() != "tensorflow":
        return
    with contextlib.suppress(Exception):
        tf.config.list_physical_devices()


def import_module(name: str) -> ModuleType:
    """Import tunekit module ``name`` without TensorFlow's start-up lines.

    Parameters
    ----------
    name : str
        A module of the package, e.g. ``"tunekit.hypermodels._cnn"``.

    Returns
    -------
    module
        The imported module. Errors raised by the import propagate unchanged.
    """
    if (
        name in sys.modules
        or "tensorflow" in sys.modules
        or user_wants_tensorflow_logs()
    ):
        return importlib.import_module(name)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    with filtered_stderr():
        module = importlib.import_module(name)
        if name in _KERAS_ON_FIRST_USE:
            with contextlib.suppress(ImportError):
                import keras  # noqa: F401
        _set_up_tensorflow_devices()
    return module
