"""Start a KerasTuner chief and N workers on this machine.

The engine of ``python -m tunekit.distributed``.

:func:`launch` runs the same command N + 1 times with KerasTuner's
distributed variables set: once as the chief (``KERASTUNER_TUNER_ID=chief``)
and N times as a worker (``worker0``, ``worker1``...), all talking over
``127.0.0.1`` on a free port. When the machine has several GPUs (from
``CUDA_VISIBLE_DEVICES``, else ``nvidia-smi -L``), each worker sees only its
own (``CUDA_VISIBLE_DEVICES``) and the chief, which trains nothing, sees none;
otherwise nothing is pinned. The output of every process is printed as it
comes, each line prefixed with its tuner id, and :func:`launch` returns the
chief's exit code. It imports neither Keras nor KerasTuner.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from typing import IO

from tunekit._validation import check_positive_int, invalid_parameter

__all__ = ["detect_gpus", "free_port", "launch", "process_environments"]

LOOPBACK = "127.0.0.1"


def free_port(ip: str = LOOPBACK) -> int:
    """A TCP port that is free on ``ip`` right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((ip, 0))
        return int(probe.getsockname()[1])


def detect_gpus(environ: Mapping[str, str] | None = None) -> list[str]:
    """The GPU ids here: ``CUDA_VISIBLE_DEVICES``, else from ``nvidia-smi -L``.

    Examples
    --------
    >>> from tunekit.tuners._launcher import detect_gpus
    >>> detect_gpus({"CUDA_VISIBLE_DEVICES": "0,2"})
    ['0', '2']
    >>> detect_gpus({"CUDA_VISIBLE_DEVICES": ""})
    []
    """
    environ = os.environ if environ is None else environ
    visible = environ.get("CUDA_VISIBLE_DEVICES")
    if visible is not None:
        return [d.strip() for d in visible.split(",") if d.strip() and d != "-1"]
    tool = shutil.which("nvidia-smi")
    if tool is None:
        return []
    try:
        listing = subprocess.run(
            [tool, "-L"], capture_output=True, text=True, timeout=20, check=False
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    lines = [line for line in listing.splitlines() if line.startswith("GPU ")]
    return [str(i) for i in range(len(lines))]


def process_environments(
    workers: int,
    port: int,
    *,
    ip: str = LOOPBACK,
    gpus: Sequence[str] = (),
    environ: Mapping[str, str] | None = None,
) -> dict[str, dict[str, str]]:
    """The environment of the chief and of each worker, by tuner id.

    Examples
    --------
    >>> from tunekit.tuners._launcher import process_environments
    >>> envs = process_environments(2, 8000, gpus=["0", "1"], environ={})
    >>> sorted(envs)
    ['chief', 'worker0', 'worker1']
    >>> envs["worker1"]["CUDA_VISIBLE_DEVICES"], envs["chief"]["CUDA_VISIBLE_DEVICES"]
    ('1', '')
    >>> "CUDA_VISIBLE_DEVICES" in process_environments(2, 8000, gpus=["0"],
    ...                                                environ={})["worker0"]
    False
    """
    base = dict(os.environ if environ is None else environ)
    base.update(
        KERASTUNER_ORACLE_IP=ip,
        KERASTUNER_ORACLE_PORT=str(port),
        PYTHONUNBUFFERED="1",
    )
    ids = ["chief"] + [f"worker{i}" for i in range(workers)]
    envs = {}
    for index, tuner_id in enumerate(ids):
        env = dict(base, KERASTUNER_TUNER_ID=tuner_id)
        if len(gpus) > 1:  # one GPU per worker; the chief trains nothing
            env["CUDA_VISIBLE_DEVICES"] = (
                "" if index == 0 else str(gpus[(index - 1) % len(gpus)])
            )
        envs[tuner_id] = env
    return envs


def peer_environments(
    workers: int,
    *,
    gpus: Sequence[str] = (),
    environ: Mapping[str, str] | None = None,
) -> dict[str, dict[str, str]]:
    """The environments of ``workers`` peers that share an Optuna study (no chief).

    No ``KERASTUNER_*`` variable (the peers meet in the study's storage);
    with two or more GPUs each peer gets its own.

    Examples
    --------
    >>> from tunekit.tuners._launcher import peer_environments
    >>> outer = {"KERASTUNER_TUNER_ID": "x"}
    >>> envs = peer_environments(3, gpus=["0", "1"], environ=outer)
    >>> sorted(envs), envs["worker2"]["CUDA_VISIBLE_DEVICES"]
    (['worker0', 'worker1', 'worker2'], '0')
    >>> "KERASTUNER_TUNER_ID" in envs["worker0"]
    False
    """
    base = {
        k: v
        for k, v in (os.environ if environ is None else environ).items()
        if not k.startswith("KERASTUNER_")
    }
    base["PYTHONUNBUFFERED"] = "1"
    envs = {}
    for index in range(workers):
        env = dict(base, TUNEKIT_WORKER_INDEX=str(index))
        if len(gpus) > 1:
            env["CUDA_VISIBLE_DEVICES"] = str(gpus[index % len(gpus)])
        envs[f"worker{index}"] = env
    return envs


def runs_optuna(command: Sequence[str]) -> bool:
    """Whether ``command`` is a ``tunekit tune ... --tuner optuna`` (no chief needed).

    Examples
    --------
    >>> runs_optuna(["tunekit", "tune", "data", "--tuner", "optuna"])
    True
    >>> runs_optuna(["tunekit", "tune", "data", "--tuner=random"])
    False
    """
    parts = list(command)
    for index, part in enumerate(parts):
        if part == "--tuner=optuna":
            return True
        if part == "--tuner" and parts[index + 1 : index + 2] == ["optuna"]:
            return True
    return False


class _Merged:
    """Copy each process' output to ``stream``, one prefixed line at a time."""

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream
        self.lock = threading.Lock()
        self.threads: list[threading.Thread] = []

    def follow(self, tuner_id: str, pipe: IO[str]) -> None:
        thread = threading.Thread(target=self._copy, args=(tuner_id, pipe), daemon=True)
        thread.start()
        self.threads.append(thread)

    def say(self, line: str) -> None:
        with self.lock:
            self.stream.write(line.rstrip("\n") + "\n")
            self.stream.flush()

    def _copy(self, tuner_id: str, pipe: IO[str]) -> None:
        with contextlib.suppress(ValueError, OSError):
            for line in pipe:
                self.say(f"[{tuner_id}] {line}")

    def join(self, timeout: float = 5.0) -> None:
        for thread in self.threads:
            thread.join(timeout)


def _stop(processes: Mapping[str, subprocess.Popen], grace: float) -> None:
    """SIGTERM what still runs, then SIGKILL after ``grace`` seconds."""
    alive = [p for p in processes.values() if p.poll() is None]
    for process in alive:
        with contextlib.suppress(OSError):
            process.terminate()
    deadline = time.monotonic() + grace
    for process in alive:
        try:
            process.wait(max(deadline - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            with contextlib.suppress(OSError):
                process.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(5)


def launch(
    command: Sequence[str],
    workers: int,
    *,
    port: int | None = None,
    gpus: Sequence[str] | None = None,
    stream: IO[str] | None = None,
    timeout: float | None = None,
    grace: float = 60.0,
    chief: bool = True,
) -> int:
    """Run ``command`` as a chief and ``workers`` workers; return the chief's code.

    With ``chief=False`` (an :class:`tunekit.OptunaSearch` script, whose
    processes meet in the study's storage), ``command`` runs ``workers``
    times as peers, and the code is the first non-zero one (0 when all
    succeed).

    Parameters
    ----------
    command : sequence of str
        The program every process runs (the same script, as KerasTuner's
        distributed mode expects), e.g. ``["python", "search.py"]``.
    workers : int
        How many workers (>= 1).
    port : int, optional
        The chief's port on 127.0.0.1 (default: a free one).
    gpus : sequence of str, optional
        GPU ids to pin workers to (default: :func:`detect_gpus`); pinning
        happens only with two or more.
    stream : file, optional
        Where the merged output goes (default: ``sys.stdout``).
    timeout : float, optional
        Stop everything after that many seconds (exit code 124).
    grace : float, default=60
        How long the chief may run on once every worker has exited (it
        normally ends within a second), and the workers once the chief ended.

    Returns
    -------
    int
        The chief's exit code; 1 when every worker exited while the chief
        was still waiting for results; 124 on ``timeout``; 130 on Ctrl-C.
    """
    command = [str(part) for part in command]
    if not command:
        raise invalid_parameter("command", command, "the program to run, non-empty")
    workers = check_positive_int("workers", workers)
    stream = sys.stdout if stream is None else stream
    port = free_port() if port is None else port
    gpus = detect_gpus() if gpus is None else list(gpus)
    pinned = f", one GPU each ({', '.join(gpus)})" if len(gpus) > 1 else ""
    merged = _Merged(stream)
    if chief:
        envs = process_environments(workers, port, gpus=gpus)
        merged.say(
            f"tunekit: chief and {workers} worker(s) on {LOOPBACK}:{port}{pinned}"
        )
    else:
        envs = peer_environments(workers, gpus=gpus)
        merged.say(f"tunekit: {workers} worker(s) sharing one Optuna study{pinned}")
    processes: dict[str, subprocess.Popen] = {}
    try:
        for tuner_id, env in envs.items():
            process = subprocess.Popen(
                command,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                bufsize=1,
            )
            processes[tuner_id] = process
            merged.follow(tuner_id, process.stdout)  # type: ignore[arg-type]
        if not chief:
            return _supervise_peers(processes, merged, timeout)
        return _supervise(processes, merged, timeout, grace)
    except KeyboardInterrupt:
        for process in processes.values():
            with contextlib.suppress(OSError):
                process.send_signal(signal.SIGINT)
        _stop(processes, grace=10)
        return 130
    finally:
        _stop(processes, grace=5)
        merged.join()


def _supervise_peers(
    processes: Mapping[str, subprocess.Popen], merged: _Merged, timeout: float | None
) -> int:
    """Wait for every peer; the first non-zero exit code, else 0."""
    start = time.monotonic()
    while any(p.poll() is None for p in processes.values()):
        if timeout is not None and time.monotonic() - start > timeout:
            merged.say(f"tunekit: stopping everything after {timeout:g} s")
            _stop(processes, grace=5)
            return 124
        time.sleep(0.2)
    codes = {name: int(p.returncode) for name, p in processes.items()}
    for name, code in codes.items():
        if code:
            merged.say(f"tunekit: {name} exited with code {code}")
    return next((code for code in codes.values() if code), 0)


def _supervise(
    processes: Mapping[str, subprocess.Popen],
    merged: _Merged,
    timeout: float | None,
    grace: float,
) -> int:
    chief = processes["chief"]
    workers = {k: p for k, p in processes.items() if k != "chief"}
    start = time.monotonic()
    workers_gone_at: float | None = None
    while chief.poll() is None:
        now = time.monotonic()
        if timeout is not None and now - start > timeout:
            merged.say(f"tunekit: stopping everything after {timeout:g} s")
            _stop(processes, grace=5)
            return 124
        if all(p.poll() is not None for p in workers.values()):
            workers_gone_at = workers_gone_at or now
            if now - workers_gone_at > grace:
                merged.say(
                    "tunekit: every worker exited but the chief still waits for "
                    "results; stopping it (completed trials are saved: run the "
                    "same command again to finish the search)"
                )
                _stop({"chief": chief}, grace=10)
                return 1
        time.sleep(0.2)
    deadline = time.monotonic() + grace
    for tuner_id, process in workers.items():
        try:
            code = process.wait(max(deadline - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            merged.say(f"tunekit: {tuner_id} still runs after the chief ended: stopped")
            _stop({tuner_id: process}, grace=5)
            continue
        if code:
            merged.say(f"tunekit: {tuner_id} exited with code {code}")
    return int(chief.returncode)
