"""Real processes started by a test, logged to files, all killed at the end.

Not a test module: tests/tuners/test_distributed.py and
tests/tuners/test_optuna_search.py start their searches through it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

JOB = Path(__file__).with_name("distributed_job.py")
WAIT_S = 480  # one process imports Keras in ~10 s alone, minutes on a busy box


def _env_of(tuner_id: str, port: int | None = None) -> dict[str, str]:
    """KerasTuner's variables for ``tuner_id`` with the chief on 127.0.0.1:``port``."""
    return {
        "KERASTUNER_TUNER_ID": tuner_id,
        "KERASTUNER_ORACLE_IP": "127.0.0.1",
        "KERASTUNER_ORACLE_PORT": str(port or 8000),
    }


class Processes:
    """Started processes, logged to files; every one is killed at the end."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.started: dict[str, subprocess.Popen] = {}
        self.markers = root / "markers"
        self.markers.mkdir()

    def env(self, tuner_id: str | None = None, port: int | None = None, **extra):
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("KERASTUNER_", "TUNEKIT_"))
        }
        env.update(TF_CPP_MIN_LOG_LEVEL="3", PYTHONUNBUFFERED="1")
        env.update({k: str(v) for k, v in extra.items()})
        if tuner_id is not None:
            env.update(_env_of(tuner_id, port))
        return env

    def start(self, name: str, command: list[str], env: dict[str, str]):
        log = open(self.root / f"{name}.log", "w")
        process = subprocess.Popen(
            command, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=self.root
        )
        log.close()
        self.started[name] = process
        return process

    def job(self, name, directory, *args, tuner_id=None, port=None, **env):
        command = [
            sys.executable, str(JOB), "--directory", str(directory),
            "--epoch-marker", str(self.markers), *map(str, args),
        ]  # fmt: skip
        return self.start(name, command, self.env(tuner_id, port, **env))

    def log(self, name: str) -> str:
        return (self.root / f"{name}.log").read_text(errors="replace")

    def logs(self) -> str:
        return "\n".join(f"--- {n}\n{self.log(n)[-3000:]}" for n in self.started)

    def wait(self, name: str, timeout: float = WAIT_S) -> int:
        try:
            return self.started[name].wait(timeout)
        except subprocess.TimeoutExpired:
            pytest.fail(f"{name} still runs after {timeout} s\n{self.logs()}")

    def wait_until(self, condition, what: str, timeout: float = WAIT_S) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition():
                return
            time.sleep(0.1)
        pytest.fail(f"timed out waiting for {what}\n{self.logs()}")

    def runs(self, tuner_id: str | None = None) -> list[str]:
        prefix = "run-" if tuner_id is None else f"run-{tuner_id}-"
        return sorted(
            p.name for p in self.markers.iterdir() if p.name.startswith(prefix)
        )

    def kill(self, name: str) -> None:
        self.started[name].send_signal(signal.SIGKILL)
        self.started[name].wait(30)

    def close(self) -> None:
        for process in self.started.values():
            if process.poll() is None:
                process.kill()
                try:
                    process.wait(30)
                except subprocess.TimeoutExpired:  # pragma: no cover
                    pass
