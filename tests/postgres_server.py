"""A real PostgreSQL server for the tests, on loopback in a temporary directory.

Not a test module: ``conftest.py`` exposes it as the session fixture
``postgres_url``. :class:`PostgresServer` finds Debian's PostgreSQL binaries
(``PATH`` first, then ``/usr/lib/postgresql/<version>/bin``, the highest
version: Debian's ``postgresql`` package puts them there and not on ``PATH``),
runs ``initdb`` in a fresh temporary data directory, starts the server with
``pg_ctl`` on a free loopback port with its socket in that directory, creates
the database ``tunekit`` and gives a SQLAlchemy URL for it. Durability is off
(``fsync``, ``synchronous_commit``, ``full_page_writes``): the data lives for
one test session. ``stop()`` kills the server and deletes the directory.

PostgreSQL refuses to run as root, so when the tests run as root (CI does)
every PostgreSQL program runs as the user ``nobody``, which owns the data
directory.

Usage::

    with PostgresServer() as server:
        optuna.storages.RDBStorage(server.url)
"""

from __future__ import annotations

import glob
import importlib.util
import os
import re
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

NOBODY = 65534
USER = "postgres"
DATABASE = "tunekit"
DEBIAN_BIN_GLOB = "/usr/lib/postgresql/*/bin"


class PostgresNotFound(RuntimeError):
    """The PostgreSQL server programs (``initdb``, ``pg_ctl``) are not installed."""


def find_bin_dir() -> Path | None:
    """The folder holding ``initdb`` and ``pg_ctl``, or None when not installed.

    ``PATH`` first, then Debian's ``/usr/lib/postgresql/<version>/bin``,
    highest version first.
    """
    on_path = shutil.which("initdb")
    if on_path:
        folder = Path(on_path).resolve().parent
        if (folder / "pg_ctl").exists():
            return folder
    for folder in sorted(glob.glob(DEBIAN_BIN_GLOB), key=_version_key, reverse=True):
        if all(os.access(Path(folder, n), os.X_OK) for n in ("initdb", "pg_ctl")):
            return Path(folder)
    return None


def _version_key(folder: str) -> tuple[int, ...]:
    version = Path(folder).parent.name  # /usr/lib/postgresql/15/bin -> "15"
    return tuple(int(part) for part in re.findall(r"\d+", version)) or (-1,)


def sqlalchemy_driver() -> str:
    """SQLAlchemy's URL scheme for the installed PostgreSQL driver."""
    if importlib.util.find_spec("psycopg2") is not None:
        return "postgresql+psycopg2"
    if importlib.util.find_spec("psycopg") is not None:
        return "postgresql+psycopg"
    raise ModuleNotFoundError(
        "No PostgreSQL driver for SQLAlchemy is installed. "
        'Install the test extras: pip install -e ".[dev]" (psycopg2-binary).'
    )


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (binds port 0)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PostgresServer:
    """One PostgreSQL server in a temporary data directory, on 127.0.0.1.

    Parameters
    ----------
    bin_dir : Path, optional
        Folder of ``initdb`` and ``pg_ctl``; found with :func:`find_bin_dir`
        when omitted.

    Raises
    ------
    PostgresNotFound
        When the PostgreSQL programs are not installed.
    """

    def __init__(self, bin_dir: Path | None = None) -> None:
        self.bin_dir = bin_dir or find_bin_dir()
        if self.bin_dir is None:
            raise PostgresNotFound(
                "PostgreSQL's initdb and pg_ctl were found neither on PATH nor "
                f"in {DEBIAN_BIN_GLOB}. Install Debian's PostgreSQL: "
                "apt-get install postgresql (.ci/run does this when run as root)."
            )
        self.root: Path | None = None
        self.port: int | None = None
        self._as_nobody = os.geteuid() == 0  # PostgreSQL refuses to run as root

    @property
    def url(self) -> str:
        """SQLAlchemy URL of the database ``tunekit``, as optuna takes it."""
        if self.port is None:
            raise RuntimeError("the PostgreSQL server is not started")
        return f"{sqlalchemy_driver()}://{USER}@127.0.0.1:{self.port}/{DATABASE}"

    @property
    def data_dir(self) -> Path:
        assert self.root is not None
        return self.root / "data"

    def start(self) -> PostgresServer:
        """Create the cluster, start the server, create the database."""
        self.root = Path(tempfile.mkdtemp(prefix="tunekit-pg-"))
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        assert self.root is not None
        if self._as_nobody:
            os.chown(self.root, NOBODY, NOBODY)
        self._run(
            "initdb", "-D", str(self.data_dir), "-U", USER, "--auth=trust",
            "--encoding=UTF8", "--locale=C", "--no-sync",
        )  # fmt: skip
        options = (
            f"-c listen_addresses=127.0.0.1 -k {self.root} -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off"
        )
        for attempt in range(3):  # another process may take the free port first
            self.port = free_port()
            try:
                self._run(
                    "pg_ctl", "start", "-D", str(self.data_dir), "-w", "-t", "30",
                    "-l", str(self.root / "server.log"),
                    "-o", f"-p {self.port} {options}",
                )  # fmt: skip
                break
            except RuntimeError:
                if attempt == 2 or "already in use" not in self.log():
                    raise
        self._run(
            "createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", USER, DATABASE
        )

    def stop(self) -> None:
        """Kill the server (no clean shutdown: the data is thrown away) and
        delete its directory."""
        if self.root is None:
            return
        if (self.data_dir / "postmaster.pid").exists():
            self._run(
                "pg_ctl", "stop", "-D", str(self.data_dir), "-m", "immediate", "-w",
                check=False,
            )  # fmt: skip
        shutil.rmtree(self.root, ignore_errors=True)
        self.root = None
        self.port = None

    def log(self) -> str:
        """The server's log so far (empty before it starts)."""
        path = self.root / "server.log" if self.root else None
        return path.read_text(errors="replace") if path and path.exists() else ""

    def _run(self, program: str, *args: str, check: bool = True) -> None:
        assert self.root is not None
        kwargs = {"user": NOBODY, "group": NOBODY, "extra_groups": []}
        result = subprocess.run(
            [str(self.bin_dir / program), *args],
            cwd=self.root,  # nobody may not enter the caller's directory
            env={**os.environ, "LC_ALL": "C", "PGCONNECT_TIMEOUT": "10"},
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=60,
            **(kwargs if self._as_nobody else {}),
        )
        if check and result.returncode != 0:
            raise RuntimeError(
                f"{program} failed (exit {result.returncode}):\n"
                f"{result.stdout}{result.stderr}\n{self.log()}"
            )

    def __enter__(self) -> PostgresServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
