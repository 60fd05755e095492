"""One process at a time per tuner project directory.

Two processes searching the same project train the same trial ids, overwrite
each other's ``trial.json`` files and report different "best" scores.
:class:`ProjectLock` prevents that: while a search runs, the project directory
holds a lock file, ``tunekit.lock``, naming the owner (pid, host, start time,
command). A second process that opens the project gets a
:class:`~tunekit.ProjectLockedError` before anything is read or deleted.

Liveness is decided by the operating system where it can be: on POSIX the
owner holds an exclusive ``flock`` on the lock file for the whole search and
the kernel drops it when the process dies, however it dies (``SIGKILL``
included). A lock file left behind by a dead process is therefore *stale*: it
is taken over with one warning. Where ``flock`` is unavailable (Windows, some
network file systems) the owner's pid is checked instead (same host only).

KerasTuner's distributed mode (``KERASTUNER_ORACLE_IP``/``_PORT``/
``KERASTUNER_TUNER_ID``) is the supported way to share a project: there only
the chief locks the project and the workers neither lock nor check it.
"""

from __future__ import annotations

import datetime
import errno
import json
import os
import socket
import sys
from dataclasses import asdict, dataclass
from typing import Any

from tunekit._errors import ProjectLockedError
from tunekit._warnings import warn
from tunekit.tuners._project_files import LOCK_FILE, unwritable_project

try:  # POSIX
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

__all__ = [
    "LOCK_FILE",
    "LockOwner",
    "ProjectLock",
    "check_project_unlocked",
    "lock_state",
    "locking_applies",
]


# Processes of this interpreter that hold a lock: realpath -> ProjectLock.
_HELD: dict[str, ProjectLock] = {}


@dataclass(frozen=True)
class LockOwner:
    """Who holds (or held) a project lock, as written in the lock file."""

    pid: int
    host: str
    started: str
    command: str = ""

    @classmethod
    def current(cls) -> LockOwner:
        """The owner record of this process."""
        return cls(
            pid=os.getpid(),
            host=socket.gethostname(),
            started=datetime.datetime.now(datetime.timezone.utc).isoformat(
                timespec="seconds"
            ),
            command=" ".join(sys.argv)[:200],
        )

    def describe(self) -> str:
        """A short human description, e.g. ``pid 123 on host 'a' since ...``."""
        command = f", command {self.command!r}" if self.command else ""
        return f"pid {self.pid} on host {self.host!r} since {self.started}{command}"

    def is_this_process(self) -> bool:
        """True when the record names this very process."""
        return self.pid == os.getpid() and self.host == socket.gethostname()


def locking_applies() -> bool:
    """False for a worker of KerasTuner's distributed mode (only the chief locks)."""
    if "KERASTUNER_ORACLE_IP" not in os.environ:
        return True
    return "chief" in os.environ.get("KERASTUNER_TUNER_ID", "")


def _lock_path(project_dir: str | os.PathLike[str]) -> str:
    return os.path.join(os.fspath(project_dir), LOCK_FILE)


def _read_owner(path: str) -> LockOwner | None:
    """The owner recorded in ``path``; ``None`` when absent, empty or unreadable."""
    try:
        with open(path, encoding="utf-8") as handle:
            record = json.load(handle)
        return LockOwner(
            pid=int(record["pid"]),
            host=str(record["host"]),
            started=str(record.get("started", "?")),
            command=str(record.get("command", "")),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _pid_alive(pid: int) -> bool:
    """Whether a process with this pid exists on this host (True when unsure)."""
    if pid <= 0:
        return False
    if os.name == "nt":  # pragma: no cover - Windows
        try:
            import psutil
        except ImportError:
            return True
        return bool(psutil.pid_exists(pid))
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by another user
        return True
    return True


def _locked_error(project_dir: str, owner: LockOwner | None) -> ProjectLockedError:
    who = owner.describe() if owner is not None else "another process"
    return ProjectLockedError(
        f"The project at {project_dir!r} is being searched by another process "
        f"({who}). Two processes searching one project would train the same "
        "trial ids and overwrite each other's trials. Wait for that search to "
        "end, use another `project_name` or `directory`, or share the project "
        "with KerasTuner's distributed mode (KERASTUNER_TUNER_ID, "
        "KERASTUNER_ORACLE_IP, KERASTUNER_ORACLE_PORT). If that process is "
        f"gone, delete {_lock_path(project_dir)!r}."
    )


def _warn_stale(project_dir: str, owner: LockOwner) -> None:
    warn(
        f"Taking over the stale lock of the project at {project_dir!r}: its "
        f"owner ({owner.describe()}) is no longer running; its last trial may "
        "have been interrupted and will be run again.",
        UserWarning,
    )


def _try_flock(fd: int) -> bool | None:
    """True: locked; False: held by another process; None: flock unsupported."""
    if fcntl is None:  # pragma: no cover - Windows
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    except OSError as error:  # pragma: no cover - e.g. some network file systems
        if error.errno in (errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOSYS):
            return None
        if error.errno in (errno.EAGAIN, errno.EACCES):
            return False
        raise
    return True


def check_project_unlocked(project_dir: str | os.PathLike[str]) -> None:
    """Raise :class:`~tunekit.ProjectLockedError` if another live process holds it.

    Reads nothing but the lock file and changes nothing, so it can run before
    a tuner reloads (or, with ``overwrite=True``, deletes) the project.

    Examples
    --------
    >>> import tempfile
    >>> from tunekit.tuners._project_lock import ProjectLock, check_project_unlocked
    >>> project = tempfile.mkdtemp()
    >>> check_project_unlocked(project)  # nobody holds it: returns None
    >>> with ProjectLock(project):
    ...     check_project_unlocked(project)  # this process holds it: fine too
    """
    if not locking_applies():
        return
    project_dir = os.fspath(project_dir)
    path = _lock_path(project_dir)
    if not os.path.exists(path) or os.path.realpath(path) in _HELD:
        return
    owner = _read_owner(path)
    if owner is not None and owner.is_this_process():
        return
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return
    try:
        locked = _try_flock(fd)
        if locked is False:
            raise _locked_error(project_dir, owner)
        if locked is None and owner is not None and _owner_alive(owner):
            raise _locked_error(project_dir, owner)
    finally:
        os.close(fd)  # closing drops the probe's flock


def lock_state(
    project_dir: str | os.PathLike[str],
) -> tuple[str, LockOwner | None]:
    """Whether a live process searches the project, read from its lock file.

    Changes nothing (a probe ``flock`` is taken and dropped at once), so a
    report can ask about a project another process is searching.

    Parameters
    ----------
    project_dir : str or path-like
        The tuner's project directory.

    Returns
    -------
    state : str
        ``"held"``: a live process (this one included) holds the lock;
        ``"stale"``: a lock file is left by a process that is gone (it was
        killed mid-search); ``"none"``: no lock file (no tunekit search runs
        there now, or the project was written without tunekit).
    owner : LockOwner or None
        The process the lock file names, when it can be read.

    Examples
    --------
    >>> import tempfile
    >>> from tunekit.tuners._project_lock import ProjectLock, lock_state
    >>> project = tempfile.mkdtemp()
    >>> lock_state(project)
    ('none', None)
    >>> with ProjectLock(project):
    ...     lock_state(project)[0]
    'held'
    """
    path = _lock_path(project_dir)
    if not os.path.exists(path):
        return "none", None
    owner = _read_owner(path)
    if os.path.realpath(path) in _HELD or (
        owner is not None and owner.is_this_process()
    ):
        return "held", owner
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return "none", None
    try:
        locked = _try_flock(fd)
    finally:
        os.close(fd)  # closing drops the probe's flock
    if locked is False:
        return "held", owner
    if locked is None and owner is not None and _owner_alive(owner):
        return "held", owner
    return "stale", owner


def _owner_alive(owner: LockOwner) -> bool:
    if owner.host != socket.gethostname():
        return True  # cannot tell: assume it runs
    return _pid_alive(owner.pid)


class ProjectLock:
    """Hold a project directory for this process (a context manager).

    Parameters
    ----------
    project_dir : str or path-like
        The tuner's project directory (``tuner.project_dir``); created if
        missing.

    Raises
    ------
    ProjectLockedError
        From :meth:`acquire` when another live process holds the project.

    Notes
    -----
    Re-entrant within one process: a second acquisition of a project this
    process already holds is counted, and the lock file is removed only when
    the last one is released. A stale lock (its owner is dead) is taken over
    with a ``UserWarning``.

    Examples
    --------
    >>> import os, tempfile
    >>> from tunekit.tuners._project_lock import LOCK_FILE, ProjectLock
    >>> project = tempfile.mkdtemp()
    >>> with ProjectLock(project):
    ...     os.path.exists(os.path.join(project, LOCK_FILE))
    True
    >>> os.path.exists(os.path.join(project, LOCK_FILE))
    False
    """

    def __init__(
        self, project_dir: str | os.PathLike[str], *, shared: bool = False
    ) -> None:
        self.project_dir = os.fspath(project_dir)
        self.shared = shared  # a project several processes search together
        self._fd: int | None = None
        self._path: str | None = None
        self._depth = 0  # acquisitions counted on the object holding the file
        self._holder: ProjectLock | None = None  # who holds the file for us

    # -- context manager ---------------------------------------------------

    def __enter__(self) -> ProjectLock:
        self.acquire()
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.release()

    # -- acquire / release -------------------------------------------------

    def acquire(self) -> None:
        """Take the lock (no-op for distributed workers and shared projects).

        Raises
        ------
        ProjectLockedError
            When another live process holds the project.
        """
        if self._holder is not None or self.shared or not locking_applies():
            return
        try:
            os.makedirs(self.project_dir, exist_ok=True)
        except OSError as error:
            raise unwritable_project(self.project_dir, error) from error
        path = os.path.realpath(_lock_path(self.project_dir))
        holder = _HELD.get(path)
        if holder is None:
            for _ in range(10):  # retry if the file is replaced under us
                try:
                    acquired = self._acquire_once(path)
                except OSError as error:  # a read-only project
                    raise unwritable_project(self.project_dir, error) from error
                if acquired:
                    break
            else:  # pragma: no cover - a pathological race
                raise _locked_error(self.project_dir, _read_owner(path))
            self._path = path
            _HELD[path] = self
            holder = self
        holder._depth += 1
        self._holder = holder

    def _acquire_once(self, path: str) -> bool:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            locked = _try_flock(fd)
            previous = _read_owner(path)
            if locked is False:
                raise _locked_error(self.project_dir, previous)
            if locked is None and previous is not None:
                if not previous.is_this_process() and _owner_alive(previous):
                    raise _locked_error(self.project_dir, previous)
            if not _same_file(fd, path):
                os.close(fd)  # the holder removed it meanwhile: start over
                return False
        except BaseException:
            _close_quietly(fd)
            raise
        if previous is not None and not previous.is_this_process():
            _warn_stale(self.project_dir, previous)
        _write_owner(fd, LockOwner.current())
        self._fd = fd
        return True

    def release(self) -> None:
        """Give the lock back; the lock file goes when the last holder leaves."""
        holder, self._holder = self._holder, None
        if holder is None:
            return
        holder._depth -= 1
        if holder._depth <= 0:
            holder._remove_file()

    def _remove_file(self) -> None:
        path, fd = self._path, self._fd
        self._path, self._fd = None, None
        if path is not None:
            _HELD.pop(path, None)
            try:
                if fd is not None and _same_file(fd, path):
                    os.unlink(path)  # while still holding the flock
            except OSError:
                pass
        if fd is not None:
            _close_quietly(fd)

    @property
    def held(self) -> bool:
        """Whether this object currently holds the lock."""
        return self._holder is not None


def _same_file(fd: int, path: str) -> bool:
    try:
        return os.fstat(fd).st_ino == os.stat(path).st_ino
    except OSError:
        return False


def _close_quietly(fd: int) -> None:
    try:
        os.close(fd)
    except OSError:  # pragma: no cover
        pass


def _write_owner(fd: int, owner: LockOwner) -> None:
    data = (json.dumps(asdict(owner), indent=2) + "\n").encode("utf-8")
    os.ftruncate(fd, 0)
    os.lseek(fd, 0, os.SEEK_SET)
    os.write(fd, data)
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
