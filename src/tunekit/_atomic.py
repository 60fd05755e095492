"""Write the files a user keeps so that a crash never leaves them half written.

Every file tunekit writes for keeps (a saved model, ``tunekit.json``, the
trial records, the HTML report, the decode cache) goes to a temporary file in
the same folder, is flushed to disk, and is then renamed over the target with
:func:`os.replace`, which is atomic on POSIX and Windows. A ``kill -9``, a
full disk or an exception during the write leaves the previous file exactly
as it was (and removes the temporary file, except after ``kill -9``, which
leaves a hidden ``.NAME.*.tmp*`` file next to it).

:func:`replacing` is the one primitive: it yields a temporary path with the
target's suffix (Keras' ``model.save`` insists on ``.keras``) and moves it
into place once the block succeeds. :func:`write_text` and :func:`write_json`
use it for text.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import stat
from collections.abc import Iterator
from typing import Any

from tunekit._errors import UnwritablePathError

__all__ = [
    "check_writable_folder",
    "replacing",
    "temporary_name",
    "unwritable",
    "write_json",
    "write_text",
]


def temporary_name(path: str | os.PathLike[str]) -> str:
    """A fresh hidden name next to ``path`` that keeps its suffix.

    Examples
    --------
    >>> name = temporary_name("/runs/best.keras")
    >>> name.startswith("/runs/.best.keras.") and name.endswith(".tmp.keras")
    True
    """
    folder, name = os.path.split(os.fspath(path))
    suffix = os.path.splitext(name)[1]
    token = f"{os.getpid()}.{secrets.token_hex(4)}"
    return os.path.join(folder, f".{name}.{token}.tmp{suffix}")


def _remove_quietly(path: str) -> None:
    with contextlib.suppress(OSError):
        os.remove(path)


def _fsync_path(path: str, *, folder: bool = False) -> None:
    """Flush ``path`` (a file, or with ``folder=True`` a directory) to disk."""
    flags = os.O_RDONLY
    try:
        fd = os.open(path, flags)
    except OSError:  # pragma: no cover - e.g. folders on Windows
        if folder:
            return
        raise
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover - folders that cannot be synced
        if not folder:
            raise
    finally:
        os.close(fd)


def _keep_mode(temporary: str, target: str) -> None:
    """Give the new file the permission bits of the file it replaces."""
    with contextlib.suppress(OSError):
        os.chmod(temporary, stat.S_IMODE(os.stat(target).st_mode))


@contextlib.contextmanager
def replacing(path: str | os.PathLike[str]) -> Iterator[str]:
    """Yield a temporary path next to ``path``; rename it into place on success.

    The block writes the temporary file (any writer: ``open``, Keras'
    ``model.save``, NumPy). When the block returns, the file is flushed to
    disk and renamed over ``path`` in one step; when it raises (a full disk,
    a bad model), the temporary file is removed and ``path`` is untouched.

    Examples
    --------
    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "notes.txt")
    >>> with replacing(path) as temporary:
    ...     with open(temporary, "w") as handle:
    ...         _ = handle.write("kept")
    >>> open(path).read(), sorted(os.listdir(os.path.dirname(path)))
    ('kept', ['notes.txt'])
    """
    target = os.fspath(path)
    temporary = temporary_name(target)
    try:
        yield temporary
        _fsync_path(temporary)
        _keep_mode(temporary, target)
        os.replace(temporary, target)
    except BaseException:
        _remove_quietly(temporary)
        raise
    _fsync_path(os.path.dirname(os.path.abspath(target)), folder=True)


def write_text(
    path: str | os.PathLike[str], text: str, *, encoding: str = "utf-8"
) -> None:
    """Write ``text`` to ``path`` atomically (see :func:`replacing`).

    Examples
    --------
    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "a.txt")
    >>> write_text(path, "one"); write_text(path, "two")
    >>> open(path).read()
    'two'
    """
    with replacing(path) as temporary:
        # O_EXCL: never write through a file someone else put there; 0o666
        # before the umask, as open() would.
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        with os.fdopen(fd, "w", encoding=encoding, newline="") as handle:
            handle.write(text)


def write_json(path: str | os.PathLike[str], data: Any, **dump_kwargs: Any) -> None:
    """Write ``data`` as JSON to ``path`` atomically; ``dump_kwargs`` go to json."""
    write_text(path, json.dumps(data, **dump_kwargs))


def unwritable(
    path: str | os.PathLike[str], error: OSError, *, way_out: str, source: str
) -> UnwritablePathError:
    """The :class:`~tunekit.UnwritablePathError` for ``path``.

    ``source`` says which argument or variable chose the path (``Received:
    ...``), ``way_out`` what to do instead.

    Examples
    --------
    >>> error = unwritable("/x/r.html", PermissionError(13, "Permission denied"),
    ...                    way_out="Pass another `path`.", source="path='/x/r.html'")
    >>> print(error)
    Cannot write '/x/r.html': Permission denied. Pass another `path`. Received: path='/x/r.html'
    """  # noqa: E501
    reason = error.strerror or str(error) or type(error).__name__
    return UnwritablePathError(
        f"Cannot write {os.fspath(path)!r}: {reason}. {way_out} Received: {source}"
    )


def check_writable_folder(folder: str | os.PathLike[str]) -> OSError | None:
    """Create and delete a file in ``folder``; return the error if that fails.

    A real write, not ``os.access``: it also catches read-only file systems,
    and answers as the file system does for root.

    Examples
    --------
    >>> import tempfile
    >>> check_writable_folder(tempfile.mkdtemp()) is None
    True
    >>> isinstance(check_writable_folder("/no/such/folder"), OSError)
    True
    """
    probe = os.path.join(os.fspath(folder), f".tunekit-probe.{secrets.token_hex(4)}")
    try:
        fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as error:
        return error
    os.close(fd)
    _remove_quietly(probe)
    return None
