"""OptunaSearch: a KerasTuner tuner whose oracle is an Optuna study.

:class:`OptunaSearch` is a ``keras_tuner.Tuner`` subclass like tunekit's
other tuners (the same ``search``, ``get_best_models``,
``get_best_hyperparameters``, ``results_summary``, subclassing of
``run_trial`` / ``HyperModel.fit``, and every tunekit check before training);
its oracle, :class:`tunekit.tuners._optuna_oracle.OptunaOracle`, draws the
trials from an Optuna study (``tuner.study``). Optuna is an optional extra:
``pip install "keras-tunekit[optuna]"``.
"""

from __future__ import annotations

import os
from typing import Any, ClassVar

import keras_tuner

from tunekit._constraints import POSITIVE_INT, Rule, Satisfies, declare_constraints
from tunekit._errors import DistributedSetupError, InvalidParameterError
from tunekit._validation import invalid_parameter
from tunekit.tuners._distributed import chief_may_overwrite
from tunekit.tuners._optuna_oracle import (
    OptunaOracle,
    OptunaPruning,
    check_storage,
    describe_storage,
    import_optuna,
    resolve_pruner,
)
from tunekit.tuners._preflight import check_kwargs
from tunekit.tuners._preflight import project_path as _project_dir
from tunekit.tuners._tuners import TUNER_CONSTRAINTS, _TunekitMixin, _validate

__all__ = ["OptunaSearch", "optuna_search"]

_STUDY_NAME = "None (the project name) or a non-empty string"


def _check_sampler(sampler: Any) -> str:
    if sampler is None:
        return "TPESampler"
    optuna = import_optuna()
    if isinstance(sampler, type):
        raise invalid_parameter(
            "sampler",
            sampler,
            "an instance, not a class",
            f"Pass `sampler={sampler.__name__}()`.",
        )
    if not isinstance(sampler, optuna.samplers.BaseSampler):
        raise invalid_parameter(
            "sampler", sampler, "None (TPE) or an optuna.samplers sampler"
        )
    return type(sampler).__name__


def _refuse_kerastuner_distribution() -> None:
    names = [n for n in os.environ if n.startswith("KERASTUNER_")]
    if names:
        raise DistributedSetupError(
            "OptunaSearch needs no chief: every process that runs the search "
            "with the same `storage` and `study_name` joins it. Unset "
            f"{', '.join(sorted(names))} (KerasTuner's chief/worker mode), or "
            "use tunekit.RandomSearch, BayesianOptimization or Hyperband for "
            f"that mode. Received: {names[0]}={os.environ[names[0]]!r}"
        )


class OptunaSearch(_TunekitMixin, keras_tuner.Tuner):
    """A KerasTuner tuner whose trials come from an Optuna study.

    Parameters
    ----------
    hypermodel : callable or keras_tuner.HyperModel, optional
        A function of ``hp`` that returns a compiled model, or a HyperModel
        (None when a subclass overrides ``run_trial``).
    objective : str, tuple or keras_tuner.Objective, optional
        One objective (checked by :func:`tunekit.validate_objective`); its
        direction is the study's.
    max_trials : int, default=10
        Complete (or pruned) trials of the whole study, every process
        counted.
    sampler : optuna.samplers.BaseSampler, optional
        None is Optuna's TPE, seeded by ``seed`` (per trial number, so that
        several processes do not draw the same start-up configurations).
    pruning : str, optuna.pruners.BasePruner or tunekit.Pruning, optional
        ``"asha"`` (asynchronous successive halving, Optuna's
        ``SuccessiveHalvingPruner``), ``"hyperband"`` (``HyperbandPruner``),
        ``"median"`` (tunekit's :class:`~tunekit.MedianPruning`), any Optuna
        pruner or tunekit :class:`~tunekit.Pruning`. The objective is
        reported every epoch; pruned trials rank after complete ones.
    storage : None, str or optuna storage, optional
        None: a SQLite file (``optuna.db``) in the project folder, shared by
        every process on this machine. A URL (``"sqlite:///path.db"``,
        ``"postgresql://user@host/db"``) uses that database; PostgreSQL is the
        choice for several machines (``docs/distributed.md``).
    study_name : str, optional
        The study to create or join; the project name by default.
    seed : int, optional
        Seeds the sampler and every trial (initialisation, shuffling).
    heartbeat_interval : int, default=10
        Seconds between a running trial's heartbeats; a trial whose worker
        is silent for twice as long is failed and retried by another worker.
    directory, project_name, overwrite, verbose
        As for :class:`tunekit.RandomSearch`. Every process joining a search
        must use ``overwrite=False``.
    **kwargs
        KerasTuner's ``hyperparameters``, ``tune_new_entries``,
        ``allow_new_entries``, ``max_retries_per_trial``,
        ``max_consecutive_failed_trials``, the ``Tuner`` keywords
        (``executions_per_trial``...), and tunekit's ``initial_trials``
        (queued once with ``enqueue_trial``), ``fit_hyperparameters`` and
        ``stop_condition``.

    Attributes
    ----------
    study : optuna.Study
        The study, for Optuna's own tools (``optuna.visualization``,
        ``optuna-dashboard``).

    Examples
    --------
    >>> import tempfile, keras, tunekit
    >>> def build(hp):
    ...     model = keras.Sequential([keras.Input((4,)),
    ...                               keras.layers.Dense(hp.Int("units", 2, 8)),
    ...                               keras.layers.Dense(1)])
    ...     model.compile("adam", "mse")
    ...     return model
    >>> tuner = tunekit.OptunaSearch(build, "val_loss", max_trials=3, seed=1,
    ...                              pruning="asha", directory=tempfile.mkdtemp(),
    ...                              verbose=False)
    >>> type(tuner.study.pruner).__name__
    'SuccessiveHalvingPruner'
    """

    _tunekit_kind = "optuna"

    #: ``sampler``, ``pruning`` and ``storage`` (objects or names) have their
    #: own checks in :mod:`tunekit.tuners._optuna_oracle`.
    _parameter_constraints: ClassVar[dict[str, Any]] = {
        "max_trials": POSITIVE_INT,
        "heartbeat_interval": POSITIVE_INT,
        "study_name": Rule(
            [Satisfies(lambda v: isinstance(v, str) and v != "", _STUDY_NAME), None],
            _STUDY_NAME,
        ),
        **TUNER_CONSTRAINTS,
    }

    def __init__(
        self,
        hypermodel: Any = None,
        objective: Any = None,
        max_trials: int = 10,
        sampler: Any = None,
        pruning: Any = None,
        storage: Any = None,
        study_name: str | None = None,
        seed: int | None = None,
        hyperparameters: Any = None,
        tune_new_entries: bool = True,
        allow_new_entries: bool = True,
        max_retries_per_trial: int = 0,
        max_consecutive_failed_trials: int = 3,
        *,
        heartbeat_interval: int = 10,
        directory: str | os.PathLike[str] | None = None,
        project_name: str | None = None,
        overwrite: bool = False,
        verbose: bool = True,
        **kwargs: Any,
    ) -> None:
        import_optuna()  # the missing extra is named before anything else
        _validate(type(self), locals())
        _refuse_kerastuner_distribution()
        sampler_name = _check_sampler(sampler)
        check_storage(storage)
        pruner, rule, pruning_name = resolve_pruner(pruning)
        checked = self._tunekit_prepare(
            hypermodel,
            objective,
            directory=directory,
            project_name=project_name,
            overwrite=overwrite,
            seed=seed,
            verbose=verbose,
            settings={
                "sampler": sampler_name,
                "pruning": pruning_name,
                "storage": describe_storage(storage),
            },
            budget={"max_trials": max_trials},
            kwargs=kwargs,
        )
        if isinstance(checked, (list, tuple)) or type(checked).__name__ == (
            "MultiObjective"
        ):
            raise InvalidParameterError(
                "OptunaSearch optimises one objective; pass one metric name, "
                f"e.g. 'val_accuracy'. Received: objective={objective!r}"
            )
        project = os.fspath(_project_dir(directory, project_name))
        oracle = OptunaOracle(
            checked,
            max_trials,
            project_dir=project,
            sampler=sampler,
            pruner=pruner,
            storage=storage,
            study_name=study_name or project_name or "untitled_project",
            heartbeat_interval=heartbeat_interval,
            seed=seed,
            fresh=overwrite is True,
            hyperparameters=hyperparameters,
            tune_new_entries=tune_new_entries,
            allow_new_entries=allow_new_entries,
            max_retries_per_trial=max_retries_per_trial,
            max_consecutive_failed_trials=max_consecutive_failed_trials,
            **self._tunekit_oracle_options(),
        )
        state = self._tunekit
        state.pruning = OptunaPruning(oracle, rule)
        state.shared_project = True
        keras_tuner.Tuner.__init__(  # KerasTuner's extension point: our oracle
            self,
            oracle,
            hypermodel,
            directory=directory,
            project_name=project_name,
            overwrite=chief_may_overwrite(overwrite),
            **kwargs,
        )
        self._tunekit_finish(
            {**kwargs, "max_consecutive_failed_trials": max_consecutive_failed_trials},
            oracle,
        )
        oracle.check_fingerprint(state.fingerprint)  # other workers, other folders

    @property
    def study(self) -> Any:
        """The Optuna study behind this search (for Optuna's own tools)."""
        return self.oracle.study

    def save(self) -> None:
        """Save the oracle and this tuner's file, atomically (shared folder)."""
        from tunekit._atomic import write_json

        self.oracle.save()
        write_json(self._get_tuner_fname(), self.get_state())


OptunaSearch.__module__ = "tunekit"


@declare_constraints(OptunaSearch._parameter_constraints)  # checked by the class
def optuna_search(
    hypermodel: Any,
    objective: Any = "val_accuracy",
    *,
    max_trials: int,
    sampler: Any = None,
    pruning: Any = None,
    storage: Any = None,
    study_name: str | None = None,
    seed: int | None = None,
    directory: str | os.PathLike[str] | None = None,
    project_name: str | None = None,
    overwrite: bool = False,
    verbose: bool = True,
    initial_trials: Any = "defaults",
    **kwargs: Any,
) -> OptunaSearch:
    """Create a :class:`tunekit.OptunaSearch` with the factories' defaults.

    Parameters
    ----------
    hypermodel, sampler, pruning, storage, study_name, seed
        See :class:`tunekit.OptunaSearch`.
    objective : str, tuple or keras_tuner.Objective, default="val_accuracy"
        One objective.
    max_trials : int
        Complete trials of the whole study (a required keyword).
    directory, project_name, overwrite, verbose
        As for :func:`tunekit.random_search`.
    initial_trials : "defaults", dict, list or None, default="defaults"
        Configurations tried first (queued once in the study): ``"defaults"``
        is the space's default values. The class defaults to None.
    **kwargs
        Other :class:`tunekit.OptunaSearch` arguments.

    Returns
    -------
    OptunaSearch

    Notes
    -----
    Like the other factories, it differs from its class on purpose in
    ``hypermodel`` (required), ``objective="val_accuracy"``, ``max_trials``
    (a required keyword) and ``initial_trials="defaults"``.

    Examples
    --------
    >>> import tempfile, keras, tunekit
    >>> def build(hp):
    ...     model = keras.Sequential([keras.Input((4,)),
    ...                               keras.layers.Dense(hp.Int("units", 2, 8)),
    ...                               keras.layers.Dense(3, "softmax")])
    ...     model.compile("adam", "sparse_categorical_crossentropy",
    ...                   metrics=["accuracy"])
    ...     return model
    >>> tuner = tunekit.optuna_search(build, max_trials=4, seed=0,
    ...                               directory=tempfile.mkdtemp(), verbose=False)
    >>> tuner.study.direction.name
    'MAXIMIZE'
    """
    check_kwargs("optuna_search", "optuna", _without_own(kwargs))
    return OptunaSearch(
        hypermodel,
        objective,
        max_trials=max_trials,
        sampler=sampler,
        pruning=pruning,
        storage=storage,
        study_name=study_name,
        seed=seed,
        directory=directory,
        project_name=project_name,
        overwrite=overwrite,
        verbose=verbose,
        initial_trials=initial_trials,
        **kwargs,
    )


_OWN = ("heartbeat_interval",)


def _without_own(kwargs: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in kwargs.items() if k not in _OWN}
