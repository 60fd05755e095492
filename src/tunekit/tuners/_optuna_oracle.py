"""An Optuna study as a KerasTuner oracle: the engine of :class:`tunekit.OptunaSearch`.

:class:`OptunaOracle` is a ``keras_tuner.Oracle`` (KerasTuner's extension
point, handed to ``Tuner.__init__``) whose trials are the trials of an Optuna
study. Every process that opens the same study (same ``storage`` and
``study_name``) takes part in the same search with no coordinator:

- ``create_trial`` asks the study (``study.ask()``) and samples the
  KerasTuner space define-by-run (:mod:`tunekit.tuners._optuna_space`); the
  KerasTuner trial id is the Optuna trial number, unique across processes.
- ``max_trials`` counts the study's trials across processes: a trial the
  storage numbered after ``max_trials`` live ones is dropped (told ``FAIL``
  with the user attribute ``tunekit_surplus``) before anything is trained;
  when the remaining trials all run elsewhere, the process waits for them
  (one may die and come back) instead of leaving early.
- A dead worker's trial is failed and handed to another process: by
  Optuna's heartbeat on the database storages (``heartbeat_interval``), and
  at once when tunekit sees that the process that ran it on this machine is
  gone. :class:`optuna.storages.RetryFailedTrialCallback` re-queues it with
  the same parameters.
- ``end_trial`` tells the study the trial's score (KerasTuner's best-epoch
  value), ``PRUNED`` for a pruned trial, ``FAIL`` for a failed one; the
  values the model was built with are the user attribute
  ``"hyperparameters"``.
- ``trials`` / ``get_best_trials`` see every process's trials: read from
  their ``trial.json`` when the project folder is shared, otherwise rebuilt
  from the study.
"""

from __future__ import annotations

import contextlib
import copy
import json
import logging
import math
import os
import socket
import threading
import time
import warnings
from collections.abc import Iterator
from typing import Any

import keras_tuner

from tunekit._atomic import write_json
from tunekit._errors import InvalidParameterError, MissingDependencyError
from tunekit._seeding import derived_seed
from tunekit._validation import invalid_parameter
from tunekit.tuners._optuna_space import optuna_params, suggest_values
from tunekit.tuners._oracles import TunekitOracle, create_trial_or_stop
from tunekit.tuners._project_files import OPTUNA_FILE, ORACLE_FILE, TRIAL_FILE
from tunekit.tuners._pruning import (
    MedianPruning,
    Pruning,
    PruningHistory,
    is_pruned,
    pruned_message,
)

__all__ = [
    "OptunaOracle",
    "OptunaPruning",
    "describe_storage",
    "import_optuna",
    "resolve_pruner",
    "resolve_storage",
]

#: Retries of a trial whose worker died (RetryFailedTrialCallback's max_retry).
DEAD_WORKER_RETRIES = 3
SURPLUS_ATTR = "tunekit_surplus"
WORKER_ATTR = "tunekit_worker"
VALUES_ATTR = "hyperparameters"
FINGERPRINT_ATTR = "tunekit_fingerprint"


def import_optuna() -> Any:
    """``optuna``, or a clear error naming the extra that installs it."""
    try:
        import optuna
    except ImportError as error:
        raise MissingDependencyError(
            "tunekit's Optuna engine (tunekit.OptunaSearch, `tunekit tune "
            "--tuner optuna`) needs Optuna, which is not installed. Install it "
            'with: pip install "keras-tunekit[optuna]"'
        ) from error
    return optuna


@contextlib.contextmanager
def quiet_optuna() -> Iterator[None]:
    """Optuna's INFO lines ("A new study created", "Trial 3 finished") off.

    tunekit prints one line per trial itself; the logger's level is restored.
    Optuna's notices about the features tunekit uses on purpose are dropped:
    "experimental" (heartbeats, ``fail_stale_trials``) and "heartbeat is
    supposed to be used with Study.optimize" (tunekit beats itself).
    """
    logger = logging.getLogger("optuna")
    level = logger.level
    logger.setLevel(max(level, logging.WARNING))
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*experimental.*")
            warnings.filterwarnings("ignore", message="Heartbeat of storage")
            yield
    finally:
        logger.setLevel(level)


def retry_callback(optuna: Any) -> Any:
    """Optuna's callback that re-queues a trial failed by its heartbeat.

    ``RetryHeartbeatStaleTrialCallback`` from Optuna 4.9 (the older name
    ``RetryFailedTrialCallback`` is deprecated there).
    """
    storages = optuna.storages
    maker = getattr(storages, "RetryHeartbeatStaleTrialCallback", None)
    if maker is None:  # Optuna < 4.9
        maker = storages.RetryFailedTrialCallback
    with quiet_optuna():
        return maker(max_retry=DEAD_WORKER_RETRIES)


# --------------------------------------------------------------------------
# storage and pruning arguments
# --------------------------------------------------------------------------

_STORAGE_EXPECTED = (
    "None (a SQLite file in the project folder), a database URL such as "
    "'sqlite:///search.db' or 'postgresql://user@host/db', or an "
    "optuna.storages storage"
)


def check_storage(storage: Any) -> None:
    """Refuse a ``storage`` that is none of the accepted kinds (before training)."""
    if storage is None:
        return
    if isinstance(storage, str):
        try:
            from sqlalchemy.engine import make_url

            make_url(storage)
        except Exception:
            raise invalid_parameter("storage", storage, _STORAGE_EXPECTED) from None
        return
    optuna = import_optuna()
    if not isinstance(storage, optuna.storages.BaseStorage):
        raise invalid_parameter("storage", storage, _STORAGE_EXPECTED)


def describe_storage(storage: Any) -> str:
    """What the fingerprint records of ``storage`` (no password)."""
    if storage is None:
        return "embedded"
    if isinstance(storage, str):
        from sqlalchemy.engine import make_url

        return make_url(storage).render_as_string(hide_password=True)
    return type(storage).__name__


def resolve_storage(
    storage: Any, project_dir: str, heartbeat_interval: int
) -> tuple[Any, str | None]:
    """The Optuna storage to open, and its URL (None for a storage object).

    A URL (or None: SQLite in the project folder) becomes an ``RDBStorage``
    with heartbeats and :class:`RetryFailedTrialCallback`, so a dead
    worker's trial is failed and re-queued.
    """
    optuna = import_optuna()
    if storage is not None and not isinstance(storage, str):
        return storage, None
    url = storage
    if url is None:
        url = "sqlite:///" + os.path.join(os.path.abspath(project_dir), OPTUNA_FILE)
    engine_kwargs: dict[str, Any] = {}
    if url.startswith("sqlite"):
        # Several processes write one file: wait for the lock, don't fail.
        engine_kwargs["connect_args"] = {"timeout": 120}
    options: dict[str, Any] = {
        "engine_kwargs": engine_kwargs,
        "heartbeat_interval": heartbeat_interval,
        "grace_period": 2 * heartbeat_interval,
    }
    import inspect

    parameters = inspect.signature(optuna.storages.RDBStorage).parameters
    callback_name = (
        "heartbeat_stale_trial_callback"
        if "heartbeat_stale_trial_callback" in parameters
        else "failed_trial_callback"
    )
    options[callback_name] = retry_callback(optuna)
    return _rdb_storage(optuna, url, options), url


def _rdb_storage(optuna: Any, url: str, options: dict[str, Any]) -> Any:
    """``RDBStorage(url)``, retried while other workers create the same tables.

    Workers started together on an empty database race to create Optuna's
    tables; the losers get a unique-key violation and succeed a moment later.
    """
    import sqlalchemy.exc

    for attempt in range(8):
        try:
            with quiet_optuna():
                return optuna.storages.RDBStorage(url, **options)
        except (
            sqlalchemy.exc.IntegrityError,  # PostgreSQL: duplicate key
            sqlalchemy.exc.ProgrammingError,
            sqlalchemy.exc.OperationalError,  # SQLite: table already exists
        ):
            if attempt == 7:
                raise
            time.sleep(0.2 * (attempt + 1))
    raise AssertionError("unreachable")  # pragma: no cover


_PRUNING_EXPECTED = (
    "None, 'asha', 'hyperband', 'median', an optuna.pruners pruner or a "
    "tunekit.Pruning instance"
)


def resolve_pruner(pruning: Any) -> tuple[Any, Pruning | None, str]:
    """``pruning=`` as (Optuna pruner, tunekit rule or None, description).

    ``"asha"`` is Optuna's ``SuccessiveHalvingPruner`` (asynchronous
    successive halving), ``"hyperband"`` its ``HyperbandPruner``,
    ``"median"`` tunekit's :class:`~tunekit.MedianPruning` (the rule the
    other tuners use); an Optuna pruner is used as given, a tunekit
    :class:`~tunekit.Pruning` decides itself (the study gets a
    ``NopPruner``).
    """
    optuna = import_optuna()
    pruners = optuna.pruners
    if pruning is None or pruning is False:
        return pruners.NopPruner(), None, "none"
    if isinstance(pruning, str):
        makers = {
            "asha": pruners.SuccessiveHalvingPruner,
            "hyperband": pruners.HyperbandPruner,
        }
        if pruning == "median":
            return pruners.NopPruner(), MedianPruning(), "median"
        if pruning not in makers:
            from tunekit._validation import did_you_mean

            hint = did_you_mean(pruning, [*makers, "median"])
            raise invalid_parameter("pruning", pruning, _PRUNING_EXPECTED, hint)
        return makers[pruning](), None, pruning
    if isinstance(pruning, type):
        raise invalid_parameter(
            "pruning",
            pruning,
            "an instance, not a class",
            f"Pass `pruning={pruning.__name__}()`.",
        )
    if isinstance(pruning, pruners.BasePruner):
        return pruning, None, type(pruning).__name__
    if isinstance(pruning, Pruning):
        if isinstance(pruning, MedianPruning):
            pruning._check()
        return pruners.NopPruner(), pruning, repr(pruning)
    raise invalid_parameter("pruning", pruning, _PRUNING_EXPECTED)


class OptunaPruning(Pruning):
    """The tuner's pruning step in an Optuna search (a :class:`~tunekit.Pruning`).

    After every epoch it reports the objective to the running Optuna trial
    (``trial.report(value, epoch)``; with ``cv=`` the first fold's), then
    asks ``rule`` (a tunekit :class:`~tunekit.Pruning`) when one was given,
    otherwise the study's pruner (``trial.should_prune()``).
    """

    def __init__(self, oracle: OptunaOracle, rule: Pruning | None) -> None:
        self.oracle = oracle
        self.rule = rule

    def should_prune(
        self, trial_id: str, epoch: int, value: float, history: PruningHistory
    ) -> bool:
        running = self.oracle.running_trial(trial_id)
        if running is None or history.fold not in (None, 0):
            return False
        if not math.isnan(value):
            self.oracle.report(trial_id, value, epoch)
        if self.rule is not None:
            return self.rule.should_prune(trial_id, epoch, value, history)
        return bool(running.should_prune())

    def explain(
        self, trial_id: str, epoch: int, value: float, history: PruningHistory
    ) -> str:
        if self.rule is not None:
            return self.rule.explain(trial_id, epoch, value, history)
        pruner = type(self.oracle.study.pruner).__name__
        return f"Optuna's {pruner} stopped it after epoch {epoch + 1} ({value:.4g})"

    def __repr__(self) -> str:
        return f"OptunaPruning(rule={self.rule!r})"


# --------------------------------------------------------------------------
# the default sampler: TPE, seeded per trial
# --------------------------------------------------------------------------


def per_trial_seeded_tpe(seed: int) -> Any:
    """Optuna's TPE whose random draws are seeded by (seed, trial number).

    One ``TPESampler(seed=seed)`` shared by several processes would draw the
    same random start-up configurations in each of them; seeding by trial
    number keeps a single-process search reproducible and gives every
    process its own draws.
    """
    optuna = import_optuna()

    class PerTrialSeededTPE(optuna.samplers.BaseSampler):
        def __init__(self) -> None:
            self._number: int | None = None
            self._sampler = optuna.samplers.TPESampler(seed=seed)

        def _for(self, trial: Any) -> Any:
            if trial.number != self._number:
                self._number = trial.number
                self._sampler = optuna.samplers.TPESampler(
                    seed=derived_seed(seed, str(trial.number), 0)
                )
            return self._sampler

        def infer_relative_search_space(self, study: Any, trial: Any) -> Any:
            return self._for(trial).infer_relative_search_space(study, trial)

        def sample_relative(self, study: Any, trial: Any, search_space: Any) -> Any:
            return self._for(trial).sample_relative(study, trial, search_space)

        def sample_independent(
            self, study: Any, trial: Any, name: str, distribution: Any
        ) -> Any:
            sampler = self._for(trial)
            return sampler.sample_independent(study, trial, name, distribution)

        def before_trial(self, study: Any, trial: Any) -> None:
            self._for(trial).before_trial(study, trial)

        def after_trial(self, study: Any, trial: Any, state: Any, values: Any) -> None:
            self._for(trial).after_trial(study, trial, state, values)

        def __repr__(self) -> str:
            return f"TPESampler(seed={seed}, per trial)"

    return PerTrialSeededTPE()


# --------------------------------------------------------------------------
# the oracle
# --------------------------------------------------------------------------


def _worker() -> dict[str, Any]:
    return {"host": socket.gethostname(), "pid": os.getpid()}


def _pid_alive(pid: int) -> bool:
    from tunekit.tuners._project_lock import _pid_alive as alive

    return alive(pid)


def _jsonable(values: dict[str, Any]) -> dict[str, Any]:
    return json.loads(json.dumps(values, default=str))


class _Heartbeat:
    """Records a running trial's heartbeat every ``interval`` seconds (a thread)."""

    def __init__(self, storage: Any, trial_id: int, interval: float) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, args=(storage, trial_id, interval), daemon=True
        )
        self._thread.start()

    def _run(self, storage: Any, trial_id: int, interval: float) -> None:
        while not self._stop.wait(interval):
            with contextlib.suppress(Exception):  # the next beat tries again
                storage.record_heartbeat(trial_id)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


class OptunaOracle(TunekitOracle, keras_tuner.Oracle):
    """A KerasTuner oracle whose trials are an Optuna study's (see the module).

    Parameters
    ----------
    objective : keras_tuner.Objective
        One objective (its direction becomes the study's).
    max_trials : int
        Complete trials the whole study (every process) runs.
    project_dir : str
        The project folder (the embedded storage lives there).
    sampler, pruner : optuna objects
        The study's; ``sampler=None`` is TPE, seeded per trial by ``seed``.
    storage : None, str or optuna storage
        See :func:`resolve_storage`.
    study_name : str
        The study every process joins.
    heartbeat_interval : int
        Seconds between a running trial's heartbeats (database storages); a
        trial silent for twice as long is failed and re-queued.
    **kwargs
        KerasTuner's ``Oracle`` arguments and :class:`TunekitOracle`'s.
    """

    def __init__(
        self,
        objective: Any,
        max_trials: int,
        *,
        project_dir: str,
        sampler: Any = None,
        pruner: Any = None,
        storage: Any = None,
        study_name: str,
        heartbeat_interval: int = 10,
        seed: int | None = None,
        fresh: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            objective=objective, max_trials=max_trials, seed=seed, **kwargs
        )
        self.seed_given = seed  # KerasTuner's `seed` is random when None
        self.fresh = fresh  # overwrite=True: an existing study is deleted
        self.study_name = study_name
        self.heartbeat_interval = heartbeat_interval
        self._given = {"sampler": sampler, "pruner": pruner, "storage": storage}
        self._project = project_dir
        self._study: Any = None
        self.created_study = False
        self._running: dict[str, Any] = {}  # trial id -> optuna.Trial (ours)
        self._reported: dict[str, set[int]] = {}
        self._beats: dict[str, _Heartbeat] = {}
        self.poll_seconds = 1.0

    # ---- the study -------------------------------------------------------

    @property
    def study(self) -> Any:
        """The Optuna study (opened, or created, on first use)."""
        if self._study is None:
            self._study = self._open_study()
        return self._study

    def _open_study(self) -> Any:
        optuna = import_optuna()
        os.makedirs(self._project, exist_ok=True)
        storage, _ = resolve_storage(
            self._given["storage"], self._project, self.heartbeat_interval
        )
        sampler = self._given["sampler"]
        if sampler is None:
            sampler = (
                optuna.samplers.TPESampler()
                if self.seed_given is None
                else per_trial_seeded_tpe(self.seed_given)
            )
        direction = "maximize" if self.objective.direction == "max" else "minimize"
        options = {
            "storage": storage,
            "sampler": sampler,
            "pruner": self._given["pruner"],
            "study_name": self.study_name,
        }
        with quiet_optuna():
            if self.fresh:  # overwrite=True: the old study goes with the folder
                with contextlib.suppress(KeyError):
                    optuna.delete_study(study_name=self.study_name, storage=storage)
            try:
                study = optuna.create_study(direction=direction, **options)
                self.created_study = True
            except optuna.exceptions.DuplicatedStudyError:
                study = optuna.load_study(**options)
        if study.direction.name.lower() != direction:
            raise InvalidParameterError(
                f"The Optuna study {self.study_name!r} in this storage "
                f"optimises the other way ({study.direction.name.lower()}), "
                f"but the objective {self.objective.name!r} is to be "
                f"{direction}d. Choose another `study_name` or objective. "
                f"Received: study_name={self.study_name!r}"
            )
        return study

    def check_fingerprint(self, fingerprint: dict[str, Any]) -> None:
        """Refuse to join a study started with another configuration.

        The first process records its fingerprint (space, objective, budget,
        settings) on the study; a process with another one, even on another
        machine with its own project folder, raises ``StaleProjectError``
        instead of mixing its trials in.
        """
        from tunekit._errors import StaleProjectError
        from tunekit.tuners._fingerprint import fingerprint_differences, listing

        recorded = self.study.user_attrs.get(FINGERPRINT_ATTR)
        if recorded is None:
            self.study.set_user_attr(FINGERPRINT_ATTR, _jsonable(fingerprint))
            return
        differences = fingerprint_differences(recorded, _jsonable(fingerprint))
        if differences:
            raise StaleProjectError(
                f"The Optuna study {self.study_name!r} was started with a "
                "different configuration, so joining it would mix trials of "
                f"two searches:{listing(differences)}\nUse the same arguments as "
                "the other workers, another `study_name`, or `overwrite=True` "
                "(this deletes the study)."
            )

    # ---- initial trials ---------------------------------------------------

    def queue_initial_trials(self) -> None:
        """Queue ``initial_trials`` in the study, once, by the process that made it."""
        super().queue_initial_trials()
        queue, self._tunekit_queue = self._tunekit_queue, []
        study = self.study
        if not self.created_study:
            return
        with quiet_optuna():
            for values in queue:
                params = optuna_params(self.hyperparameters, values)
                study.enqueue_trial(params, skip_if_exists=True)

    # ---- trials across processes -------------------------------------------

    def _trial_id(self, number: int) -> str:
        return f"{number:0{len(str(self.max_trials))}d}"

    def _live(self, frozen: Any) -> bool:
        return not frozen.user_attrs.get(SURPLUS_ATTR)

    def _fail_dead_local_workers(self) -> None:
        """Fail (and re-queue) the RUNNING trials of dead processes on this host."""
        optuna = import_optuna()
        host = socket.gethostname()
        running = optuna.trial.TrialState.RUNNING
        for frozen in self.study.get_trials(deepcopy=False, states=(running,)):
            worker = frozen.user_attrs.get(WORKER_ATTR) or {}
            pid = worker.get("pid")
            if worker.get("host") != host or not isinstance(pid, int):
                continue
            if pid == os.getpid() or _pid_alive(pid):
                continue
            self._fail_and_retry(frozen)

    def _fail_and_retry(self, frozen: Any) -> None:
        optuna = import_optuna()
        try:
            with quiet_optuna():
                self.study.tell(frozen.number, state=optuna.trial.TrialState.FAIL)
        except Exception:  # another process got there first
            return
        retry = retry_callback(optuna)
        with quiet_optuna():
            retry(self.study, copy.deepcopy(frozen))  # it appends to retry_history

    def _counts(self) -> tuple[int, int, int]:
        """(finished, running elsewhere, waiting) live trials of the study."""
        optuna = import_optuna()
        states = optuna.trial.TrialState
        finished = running = waiting = 0
        for frozen in self.study.get_trials(deepcopy=False):
            if not self._live(frozen):
                continue
            if frozen.state in (states.COMPLETE, states.PRUNED):
                finished += 1
            elif frozen.state == states.RUNNING:
                running += 1
            elif frozen.state == states.WAITING:
                waiting += 1
        return finished, running, waiting

    def _surplus(self, trial: Any) -> bool:
        """Whether ``max_trials`` live trials were numbered before ``trial``."""
        optuna = import_optuna()
        fail = optuna.trial.TrialState.FAIL
        before = sum(
            1
            for frozen in self.study.get_trials(deepcopy=False)
            if frozen.number < trial.number
            and frozen.state != fail
            and self._live(frozen)
        )
        return before >= self.max_trials

    def _stale_check(self) -> None:
        optuna = import_optuna()
        self._fail_dead_local_workers()
        with quiet_optuna():
            optuna.storages.fail_stale_trials(self.study)

    def _heartbeats(self) -> bool:
        interval = getattr(self.study._storage, "get_heartbeat_interval", None)
        return callable(interval) and interval() is not None

    # ---- KerasTuner's Oracle API ------------------------------------------

    def populate_space(self, trial_id: str) -> dict[str, Any]:
        """Not used: :meth:`create_trial` asks the study directly."""
        raise NotImplementedError("OptunaOracle samples in create_trial().")

    @keras_tuner.synchronized
    def create_trial(self, tuner_id: str) -> Any:
        """The next trial from the study, or ``STOPPED`` once the study is done."""
        return create_trial_or_stop(self, self.stop_condition, self._next, tuner_id)

    def _next(self, tuner_id: str) -> Any:
        from tunekit.tuners._kerastuner import trial_module

        if tuner_id in self.ongoing_trials:
            return self.ongoing_trials[tuner_id]
        self.tuner_ids.add(tuner_id)
        if self._retry_queue:  # KerasTuner's max_retries_per_trial: same trial
            trial = self.trials[self._retry_queue.pop()]
            trial.status = trial_module.TrialStatus.RUNNING
            self.ongoing_trials[tuner_id] = trial
            self.save()
            self._display.on_trial_begin(trial)
            return trial
        while True:
            self._stale_check()
            finished, running, waiting = self._counts()
            if finished >= self.max_trials:
                break
            if finished + running >= self.max_trials and not waiting:
                if not running or not self._heartbeats():
                    break  # nobody can come back to hand us a trial
                time.sleep(self.poll_seconds)  # a dead worker's trial may return
                continue
            with quiet_optuna():
                optuna_trial = self.study.ask()
            if self._surplus(optuna_trial):
                self._drop(optuna_trial)
                continue
            return self._start(tuner_id, optuna_trial)
        self.tuner_ids.discard(tuner_id)
        return trial_module.Trial(
            self.hyperparameters.copy(), status=trial_module.TrialStatus.STOPPED
        )

    def _drop(self, optuna_trial: Any) -> None:
        optuna = import_optuna()
        optuna_trial.set_user_attr(SURPLUS_ATTR, True)
        with quiet_optuna():
            self.study.tell(optuna_trial, state=optuna.trial.TrialState.FAIL)

    def _start(self, tuner_id: str, optuna_trial: Any) -> Any:
        from tunekit.tuners._kerastuner import trial_module

        values = suggest_values(optuna_trial, self.hyperparameters)
        trial_id = self._trial_id(optuna_trial.number)
        hyperparameters = self.hyperparameters.copy()
        hyperparameters.values = values
        trial = trial_module.Trial(
            hyperparameters=hyperparameters,
            trial_id=trial_id,
            status=trial_module.TrialStatus.RUNNING,
        )
        optuna_trial.set_user_attr(VALUES_ATTR, _jsonable(values))
        optuna_trial.set_user_attr(WORKER_ATTR, _worker())
        self._running[trial_id] = optuna_trial
        if self._heartbeats():
            self._beats[trial_id] = _Heartbeat(
                self.study._storage, optuna_trial._trial_id, self.heartbeat_interval
            )
        self.ongoing_trials[tuner_id] = trial
        self.trials[trial_id] = trial
        self.start_order.append(trial_id)
        self._save_trial(trial)
        self.save()
        self._display.on_trial_begin(trial)
        return trial

    def running_trial(self, trial_id: str) -> Any:
        """The Optuna trial this process runs as ``trial_id`` (None if none)."""
        return self._running.get(str(trial_id))

    def report(self, trial_id: str, value: float, step: int) -> None:
        """Report an intermediate objective value (once per step)."""
        steps = self._reported.setdefault(str(trial_id), set())
        running = self.running_trial(trial_id)
        if running is None or step in steps:
            return
        steps.add(step)
        running.report(float(value), int(step))

    @keras_tuner.synchronized
    def end_trial(self, trial: Any) -> None:
        """KerasTuner's bookkeeping, then the trial's result told to the study."""
        try:
            super().end_trial(trial)
        finally:
            self._tell(trial.trial_id)

    def _tell(self, trial_id: str) -> None:
        optuna = import_optuna()
        trial = self.trials[trial_id]
        if trial.status == "INVALID":  # KerasTuner retries it: stays running
            return
        optuna_trial = self._running.pop(trial_id, None)
        beat = self._beats.pop(trial_id, None)
        if beat is not None:
            beat.stop()
        if optuna_trial is None:
            return
        try:
            self._record_result(optuna, trial, optuna_trial)
        except optuna.exceptions.UpdateFinishedTrialError:
            # Another process failed it (its heartbeat looked stale, e.g. on an
            # overloaded machine) and re-queued it: the study keeps its verdict.
            warnings.warn(
                f"Trial {trial_id} was already ended in the study by another "
                "process (its heartbeat looked stale) and re-queued there; its "
                "result here is kept in the project folder only. Raise "
                "`heartbeat_interval` if the machines are busy.",
                RuntimeWarning,
                stacklevel=2,
            )

    def _record_result(self, optuna: Any, trial: Any, optuna_trial: Any) -> None:
        """The values, best step, message and final state, told to the study."""
        states = optuna.trial.TrialState
        optuna_trial.set_user_attr(VALUES_ATTR, _jsonable(trial.hyperparameters.values))
        if trial.best_step is not None:
            optuna_trial.set_user_attr("best_step", int(trial.best_step))
        if trial.message:
            optuna_trial.set_user_attr("message", str(trial.message)[:2000])
        score = trial.score
        with quiet_optuna():
            if trial.status == "COMPLETED" and is_pruned(trial):
                self.study.tell(optuna_trial, state=states.PRUNED)
            elif trial.status == "COMPLETED" and score is not None:
                self.study.tell(optuna_trial, float(score))
            else:
                self.study.tell(optuna_trial, state=states.FAIL)

    def remaining_trials(self) -> int:
        finished, _, _ = self._counts()
        return max(self.max_trials - finished, 0)

    def get_best_trials(self, num_trials: int = 1) -> list[Any]:
        """The best trials of the whole study (every process), pruned ones last."""
        self.refresh_trials()
        return super().get_best_trials(num_trials)

    # ---- every process's trials -------------------------------------------

    def refresh_trials(self) -> None:
        """Bring ``trials`` up to date with the study (other processes' trials)."""
        optuna = import_optuna()
        states = optuna.trial.TrialState
        for frozen in self.study.get_trials(deepcopy=False):
            if not self._live(frozen) or frozen.state == states.WAITING:
                continue
            trial_id = self._trial_id(frozen.number)
            if trial_id in self._running:
                continue
            known = self.trials.get(trial_id)
            finished = frozen.state.is_finished()
            if known is not None and (not finished or known.status != "RUNNING"):
                continue
            self.trials[trial_id] = self._trial_of(frozen, trial_id)

    def _trial_of(self, frozen: Any, trial_id: str) -> Any:
        from tunekit.tuners._kerastuner import trial_module

        optuna = import_optuna()
        states = optuna.trial.TrialState
        path = os.path.join(self._project, f"trial_{trial_id}", TRIAL_FILE)
        loaded = None
        if os.path.exists(path):
            with contextlib.suppress(Exception):
                loaded = trial_module.Trial.load(path)
        if loaded is not None and (
            loaded.status != "RUNNING" or not frozen.state.is_finished()
        ):
            return loaded
        hyperparameters = self.hyperparameters.copy()
        hyperparameters.values = dict(frozen.user_attrs.get(VALUES_ATTR) or {})
        status = {
            states.COMPLETE: "COMPLETED",
            states.PRUNED: "COMPLETED",
            states.FAIL: "FAILED",
        }.get(frozen.state, "RUNNING")
        trial = trial_module.Trial(hyperparameters, trial_id=trial_id, status=status)
        if frozen.state == states.PRUNED:
            trial.message = pruned_message("Optuna's pruner stopped it")
            values = list(frozen.intermediate_values.values())
            trial.score = values[-1] if values else None
        elif frozen.state == states.COMPLETE:
            trial.score = frozen.value
        elif frozen.state == states.FAIL:
            trial.message = frozen.user_attrs.get(
                "message", "its worker stopped (no heartbeat): retried elsewhere"
            )
        trial.best_step = frozen.user_attrs.get("best_step", 0)
        return trial

    # ---- saved state -------------------------------------------------------

    def _save_trial(self, trial: Any) -> None:
        # KerasTuner's, written atomically: other processes read these files.
        folder = os.path.join(self._project, f"trial_{trial.trial_id}")
        os.makedirs(folder, exist_ok=True)
        write_json(os.path.join(folder, TRIAL_FILE), trial.get_state())

    def get_state(self) -> dict[str, Any]:
        """The space (new entries included) and display; the trials are the study's."""
        return {
            "hyperparameters": self.hyperparameters.get_config(),
            "seed": self.seed,
            "study_name": self.study_name,
            "display": self._display.get_state(),
        }

    def set_state(self, state: dict[str, Any]) -> None:
        self.hyperparameters = keras_tuner.HyperParameters.from_config(
            state["hyperparameters"]
        )
        self.seed = state.get("seed", self.seed)
        with contextlib.suppress(Exception):
            self._display.set_state(state["display"])

    def save(self) -> None:
        """Write ``oracle.json`` atomically (several processes share the folder)."""
        os.makedirs(self._project, exist_ok=True)
        write_json(os.path.join(self._project, ORACLE_FILE), self.get_state())

    def reload(self) -> None:
        """Read the space back from ``oracle.json``; the trials come from the study."""
        path = os.path.join(self._project, ORACLE_FILE)
        if os.path.exists(path):
            with open(path, encoding="utf-8") as handle:
                self.set_state(json.load(handle))
        self.refresh_trials()
