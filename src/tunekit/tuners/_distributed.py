"""KerasTuner's distributed mode (a gRPC chief and workers) made safe to use.

KerasTuner runs one search over several processes when
``KERASTUNER_ORACLE_IP``, ``KERASTUNER_ORACLE_PORT`` and
``KERASTUNER_TUNER_ID`` are set: the process whose id contains ``chief``
serves the oracle over gRPC and trains nothing; every other process (a
*worker*) asks it for trials, trains them and reports the results. tunekit
keeps that mechanism and adds what it lacks:

* :func:`check_distributed_environment`: the three variables are checked
  before anything is read or written: a port or a tuner id without an IP
  (the search would silently run alone), a bad port, and a tuner id that
  KerasTuner's substring test would take for the chief (``nonchief``) are
  errors. Only the exact id ``chief`` is the chief.
* a worker never deletes the shared project (:func:`chief_may_overwrite`:
  ``overwrite=True`` acts on the chief only), and before asking for a trial
  it compares its configuration (objective, tuner, settings, budget, search
  space) with the fingerprint ``tunekit.json`` the chief wrote in the shared
  project directory (:func:`check_worker_matches_chief`): a worker started
  with other settings stops with :class:`WorkerMismatchError` instead of
  silently tuning something else.
* ``distribution_strategy`` (``tf.distribute``) passes through on the
  TensorFlow backend; anything else gets a clear error
  (:func:`check_distribution_strategy`).
* every worker keeps a heartbeat file in ``<project>/tunekit_workers/``; the
  chief (:func:`serve_chief`, KerasTuner's own ``OracleServicer`` behind a
  bounded loop) gives the trial of a worker that died back to the queue, so
  that another worker runs it, and lets the search end instead of waiting
  forever for the dead worker (KerasTuner's chief waits until every tuner id
  it has seen asked for a trial and got "stopped"). When the chief itself is
  restarted, trials still running on live workers stay theirs.
* a worker that cannot reach the chief fails with
  :class:`ChiefUnreachableError` naming the address, after
  ``TUNEKIT_ORACLE_TIMEOUT`` seconds (KerasTuner's default: one hour per
  call).

Environment knobs (all optional): ``TUNEKIT_ORACLE_TIMEOUT`` (seconds a
worker's call to the chief may wait, default 3600),
``TUNEKIT_WORKER_TIMEOUT`` (seconds without a heartbeat after which the chief
declares a worker on another host lost, default 600; a worker on the chief's
host is lost as soon as its process is gone), ``TUNEKIT_HEARTBEAT_INTERVAL``
(seconds between heartbeats, default 5).
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from tunekit._errors import (
    ChiefUnreachableError,
    DistributedSetupError,
    WorkerMismatchError,
)
from tunekit._validation import received
from tunekit.tuners._fingerprint import fingerprint_differences, listing
from tunekit.tuners._project_files import FINGERPRINT_FILE, ORACLE_FILE
from tunekit.tuners._state import tuner_state

__all__ = [
    "CHIEF_ID",
    "ChiefUnreachableError",
    "DistributedSetup",
    "DistributedSetupError",
    "WorkerMismatchError",
    "check_distributed_environment",
    "check_distribution_strategy",
    "check_worker_matches_chief",
    "chief_may_overwrite",
    "distributed_role",
    "distributed_search",
    "local_trials",
]

CHIEF_ID = "chief"
IP_VAR = "KERASTUNER_ORACLE_IP"
PORT_VAR = "KERASTUNER_ORACLE_PORT"
ID_VAR = "KERASTUNER_TUNER_ID"
ORACLE_TIMEOUT_VAR = "TUNEKIT_ORACLE_TIMEOUT"
WORKER_TIMEOUT_VAR = "TUNEKIT_WORKER_TIMEOUT"
HEARTBEAT_VAR = "TUNEKIT_HEARTBEAT_INTERVAL"
HEARTBEAT_DIR = "tunekit_workers"

_DEFAULTS = {ORACLE_TIMEOUT_VAR: 3600.0, WORKER_TIMEOUT_VAR: 600.0, HEARTBEAT_VAR: 5.0}
_POLL_S = 0.5  # the chief's loop (KerasTuner's: 1 s, then 20 s)


# --------------------------------------------------------------------------
# The environment
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class DistributedSetup:
    """A valid distributed environment: this process' role and the chief's address."""

    role: str  # "chief" or "worker"
    tuner_id: str
    ip: str
    port: int

    @property
    def address(self) -> str:
        """``ip:port`` of the chief."""
        return f"{self.ip}:{self.port}"


def distributed_role(environ: Mapping[str, str] | None = None) -> str:
    """``"chief"``, ``"worker"`` or ``"single"`` (not distributed) for ``environ``.

    The chief is the process whose ``KERASTUNER_TUNER_ID`` is exactly
    ``chief`` (KerasTuner itself tests for the substring, which
    :func:`check_distributed_environment` refuses). Distributed mode is on
    when ``KERASTUNER_ORACLE_IP`` is set. No validation: see
    :func:`check_distributed_environment`.

    Examples
    --------
    >>> from tunekit.tuners._distributed import distributed_role
    >>> distributed_role({})
    'single'
    >>> env = {"KERASTUNER_ORACLE_IP": "127.0.0.1", "KERASTUNER_ORACLE_PORT": "8000"}
    >>> distributed_role({**env, "KERASTUNER_TUNER_ID": "chief"})
    'chief'
    >>> distributed_role({**env, "KERASTUNER_TUNER_ID": "worker1"})
    'worker'
    """
    environ = os.environ if environ is None else environ
    if IP_VAR not in environ:
        return "single"
    return "chief" if environ.get(ID_VAR) == CHIEF_ID else "worker"


def _setup_error(message: str, name: str, environ: Mapping[str, str]) -> Exception:
    value = environ.get(name, "<unset>")
    return DistributedSetupError(f"{message} Received: {name}={value!r}")


def check_distributed_environment(
    environ: Mapping[str, str] | None = None,
) -> DistributedSetup | None:
    """Check KerasTuner's distributed variables; ``None`` when not distributed.

    Raises
    ------
    DistributedSetupError
        When ``KERASTUNER_ORACLE_PORT`` or the IP is set without the other,
        ``KERASTUNER_TUNER_ID`` is set without them, the port is not an
        integer in 1..65535, the tuner id is missing or empty, or the id
        contains ``chief`` without being exactly ``chief``.

    Examples
    --------
    >>> from tunekit.tuners._distributed import check_distributed_environment
    >>> check_distributed_environment({}) is None
    True
    >>> env = {"KERASTUNER_ORACLE_IP": "127.0.0.1", "KERASTUNER_ORACLE_PORT": "8000",
    ...        "KERASTUNER_TUNER_ID": "worker0"}
    >>> check_distributed_environment(env).role
    'worker'
    >>> check_distributed_environment({**env, "KERASTUNER_TUNER_ID": "nonchief"})
    Traceback (most recent call last):
    ...
    tunekit.tuners._distributed.DistributedSetupError: KERASTUNER_TUNER_ID ...
    """
    environ = os.environ if environ is None else environ
    if IP_VAR not in environ:
        if PORT_VAR in environ:
            raise _setup_error(
                f"{PORT_VAR} is set but {IP_VAR} is not, so KerasTuner would "
                "silently run this process as a single, separate search. Set "
                f"{IP_VAR} to the chief's address (the same on the chief and "
                f"every worker), or unset {PORT_VAR}.",
                IP_VAR,
                environ,
            )
        if ID_VAR in environ:
            raise _setup_error(
                f"{ID_VAR} is set but {IP_VAR} and {PORT_VAR} are not, so "
                "KerasTuner would silently run this process as a single, "
                "separate search instead of a chief or worker of a shared one. "
                f"Set {IP_VAR} and {PORT_VAR} to the chief's address and port "
                f"(the same on the chief and every worker), or unset {ID_VAR} "
                "for a one-process search.",
                ID_VAR,
                environ,
            )
        return None
    ip = environ[IP_VAR].strip()
    if not ip:
        raise _setup_error(
            f"{IP_VAR} is empty: set it to the chief's IP address or host name "
            "(on the chief, the address to listen on, e.g. 0.0.0.0).",
            IP_VAR,
            environ,
        )
    port = _checked_port(environ)
    tuner_id = environ.get(ID_VAR)
    if tuner_id is None or not tuner_id.strip():
        raise _setup_error(
            f"{IP_VAR} is set, so this is a distributed search, but "
            f"{ID_VAR} is not: set it to 'chief' on the chief and to a unique "
            "name (worker0, worker1, ...) on each worker.",
            ID_VAR,
            environ,
        )
    if CHIEF_ID in tuner_id and tuner_id != CHIEF_ID:
        raise _setup_error(
            f"{ID_VAR} must be exactly 'chief' for the chief and must not "
            "contain 'chief' for a worker: KerasTuner takes every id containing "
            f"'chief' for the chief, so {tuner_id!r} would start a second chief "
            "instead of a worker. Rename it, e.g. 'worker1'.",
            ID_VAR,
            environ,
        )
    role = "chief" if tuner_id == CHIEF_ID else "worker"
    return DistributedSetup(role=role, tuner_id=tuner_id, ip=ip, port=port)


def _checked_port(environ: Mapping[str, str]) -> int:
    if PORT_VAR not in environ:
        raise _setup_error(
            f"{IP_VAR} is set but {PORT_VAR} is not: set it to the port the "
            "chief listens on (the same on the chief and every worker).",
            PORT_VAR,
            environ,
        )
    text = environ[PORT_VAR].strip()
    try:
        port = int(text)
    except ValueError:
        port = -1
    if not 1 <= port <= 65535:
        raise _setup_error(
            f"{PORT_VAR} must be an integer port number between 1 and 65535.",
            PORT_VAR,
            environ,
        )
    return port


def _float_knob(name: str, environ: Mapping[str, str] | None = None) -> float:
    environ = os.environ if environ is None else environ
    text = environ.get(name)
    if text is None or not text.strip():
        return _DEFAULTS[name]
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value > 0:
        raise DistributedSetupError(
            f"{name} must be a positive number of seconds. {received(name, text)}"
        )
    return value


def check_distributed_setup(environ: Mapping[str, str] | None = None) -> None:
    """Every check that needs no tuner: the variables and tunekit's knobs."""
    check_distributed_environment(environ)
    for name in _DEFAULTS:
        _float_knob(name, environ)


def chief_may_overwrite(overwrite: bool, environ: Mapping[str, str] | None = None):
    """``overwrite`` as given, but ``False`` on a worker (the chief owns the project).

    A worker that deleted the shared project directory would wipe the
    chief's oracle and every trial other workers completed.

    Examples
    --------
    >>> from tunekit.tuners._distributed import chief_may_overwrite
    >>> chief_may_overwrite(True, {})
    True
    >>> chief_may_overwrite(True, {"KERASTUNER_ORACLE_IP": "127.0.0.1",
    ...                            "KERASTUNER_ORACLE_PORT": "8000",
    ...                            "KERASTUNER_TUNER_ID": "worker1"})
    False
    """
    return bool(overwrite) and distributed_role(environ) != "worker"


def check_distribution_strategy(strategy: Any, backend: str | None = None) -> None:
    """Accept a ``tf.distribute.Strategy`` on the TensorFlow backend only.

    KerasTuner builds, compiles and loads models inside ``strategy.scope()``
    and reads ``strategy.extended``: only ``tf.distribute`` strategies have
    those, and only on the TensorFlow backend.

    Raises
    ------
    DistributedSetupError
        With another backend, or for anything that is not a
        ``tf.distribute.Strategy`` (e.g. ``keras.distribution.DataParallel``).
    """
    if strategy is None:
        return
    if backend is None:
        import keras

        backend = keras.backend.backend()
    shown = received("distribution_strategy", type(strategy).__name__ + " instance")
    if backend != "tensorflow":
        raise DistributedSetupError(
            "`distribution_strategy` needs the TensorFlow backend: KerasTuner "
            "runs each trial inside a tf.distribute strategy's scope, and the "
            f"Keras backend is {backend!r}. Set KERAS_BACKEND=tensorflow, or drop "
            "`distribution_strategy` (with JAX, use keras.distribution in your "
            f"model-building function). {shown}"
        )
    if not (hasattr(strategy, "scope") and hasattr(strategy, "extended")):
        raise DistributedSetupError(
            "`distribution_strategy` must be a tf.distribute.Strategy (e.g. "
            "tf.distribute.MirroredStrategy()); KerasTuner reads its `scope()` "
            "and `extended`, which keras.distribution objects do not have. "
            f"{shown}"
        )


# --------------------------------------------------------------------------
# Workers: the oracle client, the fingerprint check, the heartbeat
# --------------------------------------------------------------------------


def local_trials(oracle: Any) -> dict[str, Any] | None:
    """The oracle's trials by id; ``None`` on a distributed worker.

    A worker's ``tuner.oracle`` is a client of the chief: it has no
    ``trials`` (nor ``end_order``, ``ongoing_trials``...), only the calls
    ``get_space``, ``update_space``, ``create_trial``, ``update_trial``,
    ``end_trial``, ``get_trial`` and ``get_best_trials``. Code that reads the
    trials asks this first and, on a worker, asks the chief
    (``get_best_trials``: its completed trials) or leaves the job to it.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> from tunekit.tuners._distributed import local_trials
    >>> local_trials(SimpleNamespace(trials={}))
    {}
    >>> local_trials(SimpleNamespace()) is None
    True
    """
    trials = getattr(oracle, "trials", None)
    return trials if isinstance(trials, dict) else None


def known_trials(oracle: Any) -> list[Any]:
    """The oracle's trials; a distributed worker asks the chief for completed ones."""
    trials = local_trials(oracle)
    if trials is not None:
        return list(trials.values())
    return list(oracle.get_best_trials(num_trials=1_000_000))


def _client_class() -> type:
    import grpc
    import keras_tuner

    from tunekit.tuners._kerastuner import protos, trial_module

    service = protos.get_service()

    class TunekitOracleClient:
        """A worker's client of the chief's oracle (as KerasTuner's, by composition).

        It makes KerasTuner's seven calls to the chief with a bounded timeout
        (``TUNEKIT_ORACLE_TIMEOUT``) and a reconnect backoff of seconds, and
        reads ``hyperparameters`` and the oracle settings from the worker's
        local oracle (built from the same hypermodel), as KerasTuner's client
        already does for ``objective`` and ``max_trials``.
        """

        _LOCAL = frozenset(
            {
                "objective",
                "max_trials",
                "allow_new_entries",
                "tune_new_entries",
                "hyperparameters",
                "seed",
                "max_retries_per_trial",
                "max_consecutive_failed_trials",
                "verbose",
                "_display",
            }
        )

        def __init__(self, local_oracle: Any) -> None:
            self.local_oracle = local_oracle
            self.tuner_id = os.environ[ID_VAR]
            self.timeout = _float_knob(ORACLE_TIMEOUT_VAR)
            # As KerasTuner's client: set by a multi-worker distribution strategy.
            self.multi_worker = False
            self.should_report = True
            # Reconnect within seconds once a restarted chief is back (gRPC's
            # default backoff grows to two minutes).
            channel = grpc.insecure_channel(
                f"{os.environ[IP_VAR]}:{os.environ[PORT_VAR]}",
                options=[
                    ("grpc.initial_reconnect_backoff_ms", 500),
                    ("grpc.max_reconnect_backoff_ms", 3000),
                ],
            )
            self.stub = protos.get_service_grpc().OracleStub(channel)

        def _call(self, method: str, request: Any) -> Any:
            rpc = getattr(self.stub, method)
            return rpc(request, wait_for_ready=True, timeout=self.timeout)

        def get_space(self) -> Any:
            """The chief's search space."""
            response = self._call("GetSpace", service.GetSpaceRequest())
            return keras_tuner.HyperParameters.from_proto(response.hyperparameters)

        def update_space(self, hyperparameters: Any) -> None:
            """Send new entries of the space to the chief."""
            if self.should_report:
                request = service.UpdateSpaceRequest(
                    hyperparameters=hyperparameters.to_proto()
                )
                self._call("UpdateSpace", request)

        def create_trial(self, tuner_id: str) -> Any:
            """The chief's next trial; ``STOPPED`` once this worker's budget is up."""
            from tunekit.tuners._oracles import create_trial_or_stop

            condition = getattr(self.local_oracle, "stop_condition", None)
            return create_trial_or_stop(self, condition, self._create_trial, tuner_id)

        def _create_trial(self, tuner_id: str) -> Any:
            request = service.CreateTrialRequest(tuner_id=tuner_id)
            response = self._call("CreateTrial", request)
            return trial_module.Trial.from_proto(response.trial)

        def update_trial(self, trial_id: str, metrics: Any, step: int = 0) -> Any:
            """Report a trial's metrics to the chief."""
            if self.should_report:
                request = service.UpdateTrialRequest(
                    trial_id=trial_id, metrics=metrics, step=step
                )
                response = self._call("UpdateTrial", request)
                if not self.multi_worker:
                    return trial_module.Trial.from_proto(response.trial)
            return trial_module.Trial(self.get_space(), status="RUNNING")

        def end_trial(self, trial: Any) -> None:
            """Report an ended trial to the chief."""
            if self.should_report:
                request = service.EndTrialRequest(trial=trial.to_proto())
                self._call("EndTrial", request)

        def get_trial(self, trial_id: str) -> Any:
            """The chief's record of ``trial_id``."""
            request = service.GetTrialRequest(trial_id=trial_id)
            response = self._call("GetTrial", request)
            return trial_module.Trial.from_proto(response.trial)

        def get_best_trials(self, num_trials: int = 1) -> list[Any]:
            """The chief's best completed trials."""
            request = service.GetBestTrialsRequest(num_trials=num_trials)
            response = self._call("GetBestTrials", request)
            return [trial_module.Trial.from_proto(t) for t in response.trials]

        def __getattr__(self, name: str) -> Any:
            if name in self._LOCAL:
                return getattr(self.local_oracle, name)
            raise AttributeError(
                f"`OracleClient` object has no attribute {name!r} (a worker "
                "only asks the chief for trials; read results on the chief)"
            )

    return TunekitOracleClient


class WorkerOracleSlot:
    """A tunekit tuner's ``oracle`` attribute: on a worker, tunekit's client.

    ``BaseTuner.__init__`` stores the oracle it is given, then, on a
    distributed worker, stores KerasTuner's ``OracleClient`` of the chief in
    its place. Through this descriptor (a class attribute of tunekit's tuner
    classes) that second value is tunekit's :class:`TunekitOracleClient` of
    the same local oracle instead: the tuner gets the right client when
    KerasTuner installs it, and nothing replaces it afterwards.
    """

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, instance: Any, owner: type | None = None) -> Any:
        if instance is None:
            return self
        try:
            return instance.__dict__[self.name]
        except KeyError:
            raise AttributeError(self.name) from None

    def __set__(self, instance: Any, value: Any) -> None:
        local = instance.__dict__.get(self.name)
        if local is not None and distributed_role() == "worker":
            from tunekit.tuners._kerastuner import oracle_client

            if isinstance(value, oracle_client.OracleClient):
                value = _client_class()(local)
        instance.__dict__[self.name] = value


def check_worker_matches_chief(
    project_dir: str | os.PathLike[str], fingerprint: Mapping[str, Any], tuner_id: str
) -> None:
    """Raise :class:`WorkerMismatchError` unless the chief's fingerprint equals ours.

    Call it once the chief answered (it writes ``tunekit.json`` before it
    starts serving).

    Raises
    ------
    WorkerMismatchError
        When ``tunekit.json`` is missing (the project directory is not the
        chief's, or not shared) or records another objective, tuner,
        settings, budget or search space.
    """
    path = os.path.join(os.fspath(project_dir), FINGERPRINT_FILE)
    try:
        with open(path, encoding="utf-8") as handle:
            chief = json.load(handle)
    except FileNotFoundError:
        raise WorkerMismatchError(
            f"Worker {tuner_id!r} found no {FINGERPRINT_FILE} in {project_dir!r}, "
            "which the chief writes there before it serves trials: this worker's "
            "`directory`/`project_name` is not the chief's, or the directory is "
            "not shared between the machines. Give every process the same "
            "`directory` and `project_name` on a shared file system."
        ) from None
    except (OSError, ValueError) as error:
        raise WorkerMismatchError(
            f"Worker {tuner_id!r} cannot read the chief's {path!r} ({error})."
        ) from error
    differences = fingerprint_differences(
        chief, fingerprint, exact=True, sides=("chief", "this worker")
    )
    if differences:
        raise WorkerMismatchError(
            f"Worker {tuner_id!r} was started with another configuration than "
            f"the chief of {project_dir!r}; it would run the chief's trials with "
            f"other settings and report wrong scores:{listing(differences)}\n"
            "Start every worker with exactly the chief's tuner arguments and "
            "search space."
        )


def _heartbeat_path(project_dir: str, tuner_id: str) -> str:
    return os.path.join(project_dir, HEARTBEAT_DIR, f"{tuner_id}.json")


class WorkerHeartbeat:
    """Keep ``<project>/tunekit_workers/<tuner_id>.json`` fresh while a worker runs."""

    def __init__(self, project_dir: str, tuner_id: str, interval: float) -> None:
        self.path = _heartbeat_path(project_dir, tuner_id)
        self.interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> WorkerHeartbeat:
        os.makedirs(os.path.dirname(self.path), exist_ok=True)
        record = {"pid": os.getpid(), "host": socket.gethostname()}
        tmp = f"{self.path}.{os.getpid()}.tmp"
        with open(tmp, "w", encoding="utf-8") as handle:
            json.dump(record, handle)
        os.replace(tmp, self.path)
        self._thread = threading.Thread(
            target=self._beat, name="tunekit-heartbeat", daemon=True
        )
        self._thread.start()
        return self

    def _beat(self) -> None:
        while not self._stop.wait(self.interval):
            with contextlib.suppress(OSError):
                os.utime(self.path)

    def __exit__(self, *exc_info: Any) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        record = {"pid": os.getpid(), "host": socket.gethostname(), "exited": True}
        with contextlib.suppress(OSError), open(self.path, "w") as handle:
            json.dump(record, handle)  # the chief stops waiting for this worker


def _rpc_error_class() -> type:
    try:
        import grpc
    except ImportError:  # pragma: no cover - keras_tuner requires grpcio
        return type("NoRpcError", (Exception,), {})
    return grpc.RpcError


def _chief_unreachable(setup: DistributedSetup, error: Exception) -> Exception:
    code = getattr(error, "code", lambda: None)()
    detail = getattr(error, "details", lambda: None)() or str(error)
    timeout = _float_knob(ORACLE_TIMEOUT_VAR)
    return ChiefUnreachableError(
        f"Worker {setup.tuner_id!r} lost its chief at {setup.address} "
        f"({getattr(code, 'name', code)}: {detail}). The chief is not running, "
        f"or did not answer within {timeout:g} s ({ORACLE_TIMEOUT_VAR}). Every "
        "completed trial is saved in the project: restart the chief with the "
        "same arguments, then this worker (with the same KERASTUNER_TUNER_ID)."
    )


@dataclass
class _SearchPlan:
    """What ``search()`` does in this process (see :func:`distributed_search`)."""

    setup: DistributedSetup | None

    @property
    def is_chief(self) -> bool:
        return self.setup is not None and self.setup.role == "chief"


@contextlib.contextmanager
def distributed_search(tuner: Any) -> Iterator[_SearchPlan]:
    """Wrap one ``search()``: checks, heartbeat and clear errors on a worker.

    Single process: nothing happens. Worker (whose ``tuner.oracle`` is
    tunekit's client, see :class:`WorkerOracleSlot`): the chief is waited
    for, its fingerprint compared with ours, a heartbeat is kept, and gRPC errors become
    :class:`ChiefUnreachableError`. Chief: the caller runs :func:`serve_chief`
    instead of KerasTuner's server loop (``plan.is_chief``).
    """
    setup = check_distributed_environment()
    plan = _SearchPlan(setup)
    if setup is None or setup.role == "chief":
        yield plan
        return
    rpc_error = _rpc_error_class()
    project_dir = os.fspath(tuner.project_dir)
    try:
        tuner.oracle.get_space()  # waits for the chief, which wrote tunekit.json
    except rpc_error as error:
        raise _chief_unreachable(setup, error) from error
    state = tuner_state(tuner)
    fingerprint = None if state is None else state.fingerprint
    if fingerprint:
        check_worker_matches_chief(project_dir, fingerprint, setup.tuner_id)
    with WorkerHeartbeat(project_dir, setup.tuner_id, _float_knob(HEARTBEAT_VAR)):
        try:
            yield plan
        except rpc_error as error:
            raise _chief_unreachable(setup, error) from error


# --------------------------------------------------------------------------
# The chief
# --------------------------------------------------------------------------


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


def worker_alive(project_dir: str, tuner_id: str, timeout: float) -> bool | None:
    """Whether worker ``tuner_id`` runs: True, False, or None (no heartbeat: unknown).

    A worker on this host is alive while its process exists; one on another
    host while its heartbeat file is younger than ``timeout`` seconds.
    """
    path = _heartbeat_path(project_dir, tuner_id)
    try:
        with open(path, encoding="utf-8") as handle:
            record = json.load(handle)
        age = time.time() - os.stat(path).st_mtime
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        return None
    if record.get("exited"):
        return False
    if record.get("host") == socket.gethostname():
        return _pid_alive(int(record.get("pid", -1)))
    return age <= timeout


def _oracle_lock(oracle: Any) -> Any:
    from tunekit.tuners._kerastuner import oracle_module

    return oracle_module.LOCKS[oracle]


def _say(message: str) -> None:
    print(f"tunekit chief: {message}", flush=True)


class _ChiefState:
    """The lost-worker bookkeeping of :func:`serve_chief`."""

    def __init__(self, tuner: Any) -> None:
        self.tuner = tuner
        self.oracle = tuner.oracle
        self.project_dir = os.fspath(tuner.project_dir)
        self.timeout = _float_knob(WORKER_TIMEOUT_VAR)
        self.reported = len(self.oracle.end_order)
        self.failure: str | None = None  # too many consecutive failed trials

    def restore_live_trials(self, previous: Mapping[str, str]) -> None:
        """After a chief restart: trials still running on live workers stay theirs."""
        oracle = self.oracle
        with _oracle_lock(oracle):
            for tuner_id, trial_id in previous.items():
                if trial_id not in oracle._retry_queue or trial_id not in oracle.trials:
                    continue
                if not worker_alive(self.project_dir, tuner_id, self.timeout):
                    continue
                oracle._retry_queue.remove(trial_id)
                oracle.ongoing_trials[tuner_id] = oracle.trials[trial_id]
                oracle.tuner_ids.add(tuner_id)
                _say(f"trial {trial_id} is still running on {tuner_id!r}")
            oracle.save()

    def requeue_lost_workers(self) -> None:
        """Give the trials of dead workers back to the queue; forget those workers."""
        oracle = self.oracle
        with _oracle_lock(oracle):
            changed = False
            for tuner_id in sorted(set(oracle.tuner_ids) | set(oracle.ongoing_trials)):
                if worker_alive(self.project_dir, tuner_id, self.timeout) is not False:
                    continue
                trial = oracle.ongoing_trials.pop(tuner_id, None)
                oracle.tuner_ids.discard(tuner_id)
                changed = True
                if trial is None:
                    _say(f"worker {tuner_id!r} is gone")
                    continue
                if trial.trial_id not in oracle._retry_queue:
                    oracle._retry_queue.append(trial.trial_id)
                _say(
                    f"worker {tuner_id!r} is gone; its trial {trial.trial_id} goes "
                    "back to the queue for another worker"
                )
            if changed:
                oracle.save()

    def forget_rerun(self, trial_id: str) -> None:
        """A trial that ended is not run again (a chief restart queued it)."""
        with _oracle_lock(self.oracle):
            queue = self.oracle._retry_queue
            trial = self.oracle.trials.get(trial_id)
            if trial is not None and trial.status == "COMPLETED" and trial_id in queue:
                queue.remove(trial_id)

    def fail(self, trial_id: str, error: RuntimeError) -> None:
        """The oracle's consecutive-failure limit was reached ending ``trial_id``.

        KerasTuner's ``end_trial`` raised before it saved the trial and
        released the oracle's lock: save both, drop the trial from the running
        ones, and stop the search (every worker's next request gets "stop").
        """
        from tunekit.tuners._kerastuner import oracle_module

        oracle = self.oracle
        if oracle_module.THREADS.get(oracle) == threading.current_thread().name:
            oracle_module.THREADS[oracle] = None
            oracle_module.LOCKS[oracle].release()
        with _oracle_lock(oracle):
            trial = oracle.trials.get(trial_id)
            if trial is not None:
                oracle._save_trial(trial)
            for tuner_id, running in list(oracle.ongoing_trials.items()):
                if running.trial_id == trial_id:
                    oracle.ongoing_trials.pop(tuner_id)
            oracle.save()
        if self.failure is None:
            first = str(error).strip().splitlines()[0]
            self.failure = (
                f"{first} The trials failed on the workers, and KerasTuner does "
                "not send a trial's error to the chief: each worker printed the "
                "errors of its own trials."
            )
            _say(f"stopping the search: {first}")

    def stop_worker(self, tuner_id: str) -> Any:
        """A "stop" answer to ``tuner_id``'s request for a trial."""
        from tunekit.tuners._kerastuner import trial_module

        with _oracle_lock(self.oracle):
            self.oracle.tuner_ids.discard(tuner_id)
            return trial_module.Trial(
                self.oracle.get_space(), status=trial_module.TrialStatus.STOPPED
            )

    def report_ended(self) -> None:
        order = list(self.oracle.end_order)
        for trial_id in order[self.reported :]:
            trial = self.oracle.trials.get(trial_id)
            if trial is None:
                continue
            score = "" if trial.score is None else f", score {trial.score:.4g}"
            _say(f"trial {trial_id} {trial.status.lower()}{score} ({len(order)} ended)")
        self.reported = len(order)

    def finished(self) -> bool:
        with _oracle_lock(self.oracle):
            return not self.oracle.ongoing_trials and not self.oracle.tuner_ids


def _servicer(oracle: Any, state: _ChiefState) -> Any:
    from tunekit.tuners._kerastuner import oracle_chief, protos

    class TunekitServicer(oracle_chief.OracleServicer):
        """KerasTuner's servicer; lost workers are checked before each new trial."""

        def CreateTrial(self, request: Any, context: Any) -> Any:
            state.requeue_lost_workers()
            if state.failure is None:
                return super().CreateTrial(request, context)
            self.stop_triggered = True
            trial = state.stop_worker(request.tuner_id)
            return protos.get_service().CreateTrialResponse(trial=trial.to_proto())

        def EndTrial(self, request: Any, context: Any) -> Any:
            try:
                response = super().EndTrial(request, context)
            except RuntimeError as error:
                if "consecutive failures" not in str(error):
                    raise
                state.fail(request.trial.trial_id, error)
                return protos.get_service().EndTrialResponse()
            state.forget_rerun(request.trial.trial_id)
            # KerasTuner saves the oracle before it drops the trial from the
            # running ones: saved as is, a restart would run it again.
            with _oracle_lock(oracle):
                oracle.save()
            return response

    return TunekitServicer(oracle)


def _previous_ongoing(project_dir: str) -> dict[str, str]:
    try:
        with open(os.path.join(project_dir, ORACLE_FILE), encoding="utf-8") as f:
            return dict(json.load(f).get("ongoing_trials") or {})
    except (OSError, ValueError, AttributeError, TypeError):
        return {}


def serve_chief(tuner: Any, setup: DistributedSetup | None = None) -> None:
    """Serve ``tuner``'s oracle to the workers until the search is over.

    KerasTuner's ``OracleServicer`` behind a loop that polls every 0.5 s,
    gives dead workers' trials back to the queue, prints one line per ended
    trial and stops the server when no trial is running and every worker
    was told to stop.

    Raises
    ------
    DistributedSetupError
        When the port cannot be bound (another chief, or another program,
        uses it).
    RuntimeError
        KerasTuner's "consecutive failures" error, once the workers' trials
        reached ``max_consecutive_failed_trials`` (every worker was told to
        stop first); ``search()`` turns it into ``SearchFailedError``.
    """
    from concurrent import futures

    import grpc

    from tunekit.tuners._kerastuner import protos

    setup = setup or check_distributed_environment()
    assert setup is not None and setup.role == "chief"
    state = _ChiefState(tuner)
    previous = _previous_ongoing(state.project_dir)
    tuner.save()
    if previous:
        state.restore_live_trials(previous)
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=1),
        options=[("grpc.so_reuseport", 0)],
    )
    servicer = _servicer(tuner.oracle, state)
    protos.get_service_grpc().add_OracleServicer_to_server(servicer, server)
    try:
        bound = server.add_insecure_port(setup.address)
    except RuntimeError:
        bound = 0
    if not bound:
        raise DistributedSetupError(
            f"The chief cannot listen on {setup.address}: the port is in use "
            "(another chief, or another program) or the address is not this "
            "machine's. Pick a free port, or on the chief set "
            f"{IP_VAR}=0.0.0.0. {received(PORT_VAR, str(setup.port))}"
        )
    server.start()
    _say(f"serving {tuner.project_dir!r} on {setup.address}")
    try:
        while True:
            time.sleep(_POLL_S)
            state.requeue_lost_workers()
            state.report_ended()
            if servicer.stop_triggered and state.finished():
                break
    finally:
        server.stop(grace=1).wait(5)
        state.report_ended()
        tuner.oracle.save()
    if state.failure is not None:
        raise RuntimeError(state.failure)  # search() raises SearchFailedError
    waiting = list(tuner.oracle._retry_queue)
    if waiting:
        print(
            f"tunekit chief: trial(s) {waiting} were not finished (their worker "
            "was lost after the others had stopped); run the chief and one "
            "worker again with the same arguments to finish them.",
            file=sys.stderr,
            flush=True,
        )
