"""KerasTuner tuners with every objective, callback and project check done up front.

:class:`Hyperband`, :class:`BayesianOptimization` and :class:`RandomSearch`
are real subclasses of the ``keras_tuner`` classes, with KerasTuner's
constructor signature (plus ``verbose``), so ``search``,
``get_best_hyperparameters``, ``get_best_models`` and ``results_summary``
work as usual, and users subclass them and override ``run_trial`` or
``HyperModel.fit`` as KerasTuner documents. The factories :func:`hyperband`,
:func:`bayesian_optimization` and :func:`random_search` return instances of
them (:mod:`tunekit.tuners._factories`). This module imports ``keras_tuner``:
it is only loaded through tunekit's lazy public door. What the classes add:

* at construction: the objective's direction (tunekit's own table), unknown
  constructor arguments, budget warnings, and the stale-project guard (a
  project directory written with another configuration is never resumed
  silently, and never deleted unless ``overwrite=True``);
* at the start of ``search()``, before any epoch is trained: the objective and
  callback monitors against the keys the model really logs (found by
  evaluating the default-hyperparameter model on a few samples), validation
  data, ``validation_freq``, callbacks that cannot be deep-copied, ``epochs=``
  given to Hyperband, and model/label consistency;
* during each trial: with a ``seed``, every execution is seeded from the
  search seed and the trial id (global random state restored afterwards),
  tunekit's loaders restart their shuffled order from that seed, and the
  graphs traced for its models are released (no memory growth across trials
  and searches);
* after the search: :class:`~tunekit.SearchFailedError` when no trial
  completed, instead of "best" hyperparameters with a score of ``None``.
"""

from __future__ import annotations

import contextlib
import copy
import numbers
import os
from collections.abc import Iterator
from typing import Any, ClassVar

import keras_tuner

from tunekit._constraints import (
    BOOL,
    NON_NEGATIVE_INT,
    NON_NEGATIVE_NUMBER,
    POSITIVE_INT,
    SEED,
    Interval,
    Rule,
    validate_params,
)
from tunekit._errors import (
    InvalidParameterError,
)
from tunekit._keras_memory import (
    custom_gradient_names,
    forget_custom_gradients,
    frozen_heap,
    release_traced_graphs,
)
from tunekit._seeding import derived_seed, restored_random_state, seed_all
from tunekit._validation import (
    check_positive_int,
    check_seed,
    invalid_parameter,
)
from tunekit.tuners._distributed import (
    WorkerOracleSlot,
    check_distributed_setup,
    check_distribution_strategy,
    chief_may_overwrite,
    distributed_search,
    serve_chief,
)
from tunekit.tuners._failures import (
    raise_if_nothing_completed as _raise_if_nothing_completed,
)
from tunekit.tuners._failures import search_failed as _search_failed
from tunekit.tuners._fingerprint import check_existing_project
from tunekit.tuners._fingerprint import project_fingerprint as _fingerprint
from tunekit.tuners._fingerprint import report_resume as _report_resume
from tunekit.tuners._fingerprint import warn_budget as _warn_budget
from tunekit.tuners._fingerprint import write_fingerprint as _write_fingerprint
from tunekit.tuners._fit_args import default_run_trial
from tunekit.tuners._fit_args import fit_arguments as _fit_arguments
from tunekit.tuners._fit_args import uses_default_run_trial as _uses_default_run_trial
from tunekit.tuners._kerastuner import maybe_compute_model_size
from tunekit.tuners._objective import (
    validate_objective,
)
from tunekit.tuners._oracles import (
    BayesianOptimizationOracle,
    HyperbandOracle,
    RandomSearchOracle,
)

# The mixin and the factories call these by their former private names.
from tunekit.tuners._preflight import check_directory as _check_directory
from tunekit.tuners._preflight import check_hypermodel as _check_hypermodel
from tunekit.tuners._preflight import check_kwargs as _check_kwargs
from tunekit.tuners._preflight import (
    check_non_negative,
    check_search,
    check_verbose,
    split_search_arguments,
)
from tunekit.tuners._preflight import project_path as _project_dir
from tunekit.tuners._preflight import uncopyable_callbacks as _uncopyable_callbacks
from tunekit.tuners._project_lock import check_project_unlocked
from tunekit.tuners._schedule import (
    SCHEDULE_CONSTRAINTS,
    HyperbandSchedule,
    hyperband_schedule,
)
from tunekit.tuners._session import SearchSession, session_hook, trial_end_scope
from tunekit.tuners._state import TunerState, tuner_state
from tunekit.tuners._trial_runner import (
    finish_tuner,
    prepare_tuner,
)
from tunekit.tuners._trial_runner import run_trial as run_tunekit_trial

__all__ = ["BayesianOptimization", "Hyperband", "RandomSearch", "tuner_class"]


# --------------------------------------------------------------------------
# The tuner classes
# --------------------------------------------------------------------------


#: The simple parameters every tuner class takes (``validate_params``, first
#: thing in ``__init__``); ``hypermodel``, ``objective`` and
#: ``hyperparameters`` have their own checks.
TUNER_CONSTRAINTS: dict[str, Any] = {
    "seed": SEED,
    "tune_new_entries": BOOL,
    "allow_new_entries": BOOL,
    "max_retries_per_trial": NON_NEGATIVE_INT,
    "max_consecutive_failed_trials": POSITIVE_INT,
    "directory": ["path", None],
    "project_name": Rule([str, None], "a folder name (a str) or None"),
    "overwrite": BOOL,
    "verbose": Rule(
        [bool, Interval(numbers.Integral, 0, None, closed="left")],
        "True or False (or a Keras verbosity level 0, 1, 2)",
    ),
}
_MAX_TRIALS = {"max_trials": POSITIVE_INT}


def _validate(cls: type, arguments: dict[str, Any]) -> None:
    """Check a tuner's arguments (its ``__init__``'s ``locals()``) by its table."""
    constraints = cls._parameter_constraints  # type: ignore[attr-defined]
    validate_params(
        constraints,
        {name: arguments[name] for name in constraints if name in arguments},
    )


class _TunekitMixin:
    """tunekit's checks, per-trial seeding and memory release for a KerasTuner tuner.

    Override points, in the order KerasTuner calls them during ``search()``:
    ``run_trial(trial, *fit_args, **fit_kwargs)`` (KerasTuner's semantics,
    Hyperband's epochs included) calls ``_build_and_fit_model`` once per
    execution; tunekit wraps each call in :meth:`_trial_context` (the
    trial's seed, then the release of its traced graphs).
    """

    oracle = WorkerOracleSlot()  # a distributed worker's: tunekit's client
    _tunekit: TunerState  # all of tunekit's state (tunekit.tuners._state)
    _tunekit_kind = ""  # the class's kind of search, copied into the state

    # ---- construction ------------------------------------------------------

    def _tunekit_prepare(
        self,
        hypermodel: Any,
        objective: Any,
        *,
        directory: Any,
        project_name: Any,
        overwrite: Any,
        seed: Any,
        verbose: Any,
        settings: dict[str, Any],
        budget: dict[str, Any],
        kwargs: dict[str, Any],
        schedule: HyperbandSchedule | None = None,
    ) -> Any:
        """Check arguments before KerasTuner writes anything; return the objective."""
        state = self._tunekit = TunerState(kind=self._tunekit_kind)
        _check_hypermodel(hypermodel)
        if hypermodel is None and _uses_default_run_trial(self):
            raise InvalidParameterError(
                "Received `hypermodel=None`. A hypermodel may only be left out "
                "when a subclass overrides `run_trial()` and defines the search "
                "space there; otherwise pass a function of `hp` that returns a "
                "compiled model, or a `keras_tuner.HyperModel`."
            )
        prepare_tuner(self, kwargs)  # pops pruning=, initial_trials=, ...=
        _check_kwargs(type(self).__name__, state.kind, kwargs)
        check_distributed_setup()  # KERASTUNER_* variables, before any file is read
        check_distribution_strategy(kwargs.get("distribution_strategy"))
        if not isinstance(overwrite, bool):
            raise invalid_parameter("overwrite", overwrite, "True or False")
        check_seed(seed)
        check_verbose(verbose)
        _check_directory(directory, project_name)
        # Before KerasTuner reloads or (overwrite=True) deletes the project.
        check_project_unlocked(_project_dir(directory, project_name))
        checked = None if objective is None else validate_objective(objective)
        state.objective, state.verbose, state.seed = checked, bool(verbose), seed
        state.budget, state.settings, state.schedule = budget, settings, schedule
        # BaseTuner.__init__ reloads an existing project before tunekit can
        # compare fingerprints: defer that to _tunekit_finish.
        state.deferring_reload = True
        return checked

    def _tunekit_oracle_options(self) -> dict[str, Any]:
        """What tunekit's oracle takes besides KerasTuner's arguments."""
        return {
            "initial_trials": self._tunekit.initial_trials,
            "stop_condition": self._tunekit.stop_condition,
        }

    def _tunekit_finish(self, kwargs: dict[str, Any], oracle: Any) -> None:
        """After KerasTuner's constructor: the stale-project guard, the fingerprint."""
        config = self._tunekit
        config.deferring_reload = False
        if self._is_worker():  # type: ignore[attr-defined]
            config.pending_reload = False  # the chief holds the state
        finish_tuner(self)  # fit_hyperparameters into the space
        oracle.queue_initial_trials()  # checked against the filled space
        config.fingerprint = _fingerprint(self, config)
        if config.pending_reload:
            config.pending_reload = False
            _guard_existing_project(self, config)
        _write_fingerprint(self, config, required=False)
        _warn_budget(self, config, kwargs)

    def reload(self) -> None:
        """Reload the project (at construction: after the stale-project guard)."""
        state = tuner_state(self)
        if state is not None and state.deferring_reload:
            state.pending_reload = True
            self._populate_initial_space()  # type: ignore[attr-defined]
            return
        super().reload()  # type: ignore[misc]

    # ---- search --------------------------------------------------------------

    def search(self, *fit_args: Any, **fit_kwargs: Any) -> None:
        """Check everything that can be checked, then run KerasTuner's search.

        Raises
        ------
        ObjectiveError, InvalidParameterError
            Before any training, when the objective, callbacks or data would
            make trials fail or optimise the wrong way.
        SearchFailedError
            After the search, when no trial completed.
        ProjectLockedError
            When another live process is searching the same project.
        KeyboardInterrupt
            On Ctrl-C, after one line saying how many trials are complete
            (rerunning the same call resumes).
        """
        fit_args, fit_kwargs, cv = split_search_arguments(fit_args, fit_kwargs)
        state = self._tunekit
        if state.fingerprint_unwritten:  # read-only at construction
            _write_fingerprint(self, state, required=True)
        session = SearchSession(
            self,
            fit_kwargs,
            display=state.verbose,
            arguments=_fit_arguments(fit_args, fit_kwargs),
        )
        # A seeded search leaves the caller's global random state as it was.
        seeded = state.seed is not None
        # the project lock, the display, Ctrl-C; a worker's checks and heartbeat
        with (
            restored_random_state(active=seeded),
            frozen_heap(),  # clear_session()'s gc.collect() skips older objects
            session,
            distributed_search(self) as distributed,
        ):
            check_search(self, fit_args, fit_kwargs, cv)  # + cv, tuned fit args
            session.start()
            try:
                if distributed.is_chief:  # serves the workers, trains nothing
                    serve_chief(self, distributed.setup)
                else:
                    super().search(*fit_args, **session.fit_kwargs)  # type: ignore[misc]
            except RuntimeError as error:
                if "consecutive failures" not in str(error):
                    raise
                raise _search_failed(self, str(error)) from error
        _raise_if_nothing_completed(self)

    # ---- display and Ctrl-C hooks (see tunekit.tuners._session) -------------

    def pre_create_trial(self) -> None:
        super().pre_create_trial()  # type: ignore[misc]
        session_hook(self, "creating_trial")

    def on_trial_begin(self, trial: Any) -> None:
        session_hook(self, "trial_begin", trial)
        super().on_trial_begin(trial)  # type: ignore[misc]

    def on_epoch_end(
        self, trial: Any, model: Any, epoch: int, logs: Any = None
    ) -> None:
        super().on_epoch_end(trial, model, epoch, logs=logs)  # type: ignore[misc]
        session_hook(self, "epoch_end", trial, model, epoch, logs)

    def on_trial_end(self, trial: Any) -> None:
        with trial_end_scope(self, trial):
            super().on_trial_end(trial)  # type: ignore[misc]

    def on_search_end(self) -> None:
        super().on_search_end()  # type: ignore[misc]
        session_hook(self, "search_end")

    # ---- one trial -----------------------------------------------------------

    @default_run_trial
    def run_trial(self, trial: Any, *fit_args: Any, **fit_kwargs: Any) -> Any:
        """Train and evaluate one trial, as KerasTuner documents ``run_trial``.

        Override it in a subclass exactly as for ``keras_tuner.Tuner``; with
        ``super().run_trial(...)`` the trial keeps tunekit's seeding and
        memory release. Returns what KerasTuner's ``run_trial`` returns (one
        ``History`` per execution).
        """
        self._tunekit.execution = 0
        # KerasTuner's run_trial, plus folds, tuned fit arguments and pruning.
        return run_tunekit_trial(self, trial, fit_args, fit_kwargs)

    def _build_and_fit_model(self, trial: Any, *args: Any, **kwargs: Any) -> Any:
        """Build and fit one execution of ``trial`` inside :meth:`_trial_context`."""
        from tunekit.data._trial_order import restarted_orders

        state = self._tunekit
        execution = state.execution
        state.execution = execution + 1
        with (
            self._trial_context(trial, execution),
            # tunekit's loaders restart their shuffled order from the seed
            restarted_orders(args, kwargs, state.trial_seed),
        ):
            return super()._build_and_fit_model(  # type: ignore[misc]
                trial, *args, **kwargs
            )

    @contextlib.contextmanager
    def _trial_context(self, trial: Any, execution: int = 0) -> Iterator[None]:
        """Seed the execution from (search seed, trial id, execution); clean up after.

        With a search ``seed``, Python's, NumPy's, the backend's and Keras'
        generators are seeded for the execution and restored afterwards.
        Every model built inside has its traced graphs released at the end,
        and the custom gradients the execution registered are forgotten.
        """
        state = self._tunekit
        seed = state.seed
        trial_seed = (
            None if seed is None else derived_seed(seed, trial.trial_id, execution)
        )
        before = custom_gradient_names()
        state.trial_seed, state.built = trial_seed, []
        try:
            with restored_random_state(active=trial_seed is not None):
                yield
        finally:
            built, state.built = state.built, None
            state.trial_seed = None
            for model in built or ():
                release_traced_graphs(model)
            forget_custom_gradients(before)

    def _try_build(self, hp: Any) -> Any:
        """KerasTuner's ``_try_build`` without its second full garbage collection.

        KerasTuner calls ``gc.collect()`` right after
        ``keras.backend.clear_session()``, which has already collected: the
        second pass found nothing and cost as much as the first (about 0.45 s
        per trial on a 2-core machine).
        """
        import keras

        keras.backend.clear_session()  # free_memory=True: collects garbage
        model = self._build_hypermodel(hp)
        if not isinstance(model, keras.Model):
            raise keras_tuner.errors.FatalTypeError(
                "Expected the model-building function, or HyperModel.build() "
                "to return a valid Keras Model instance. "
                f"Received: {model} of type {type(model)}."
            )
        size = maybe_compute_model_size(model)
        max_size = getattr(self, "max_model_size", None)
        if max_size and size > max_size:
            raise keras_tuner.errors.FailedTrialError(
                f"Oversized model: {size} parameters. Skip model."
            )
        return model

    def _build_hypermodel(self, hp: Any) -> Any:
        # KerasTuner's _try_build clears the Keras session (and with it Keras'
        # seed) just before this: seed here, right before the model is built.
        state = self._tunekit
        if state.trial_seed is not None:
            seed_all(state.trial_seed)
        if isinstance(self, keras_tuner.Hyperband) and "tuner/trial_id" in hp.values:
            model = _continued_model(self, hp)
        else:
            model = super()._build_hypermodel(hp)  # type: ignore[misc]
        if state.built is not None:
            state.built.append(model)
        return model

    def _configure_tensorboard_dir(
        self, callbacks: list[Any], trial: Any, execution: int = 0
    ) -> None:
        # KerasTuner imports `tensorboard` on the TensorFlow backend for every
        # trial, even without a TensorBoard callback; without the package every
        # trial then fails. Only do that work when a TensorBoard callback exists.
        if not any(type(c).__name__ == "TensorBoard" for c in callbacks):
            return
        super()._configure_tensorboard_dir(  # type: ignore[misc]
            callbacks, trial, execution
        )

    def _deepcopy_callbacks(self, callbacks: Any) -> Any:
        try:
            return copy.deepcopy(callbacks)
        except Exception as error:
            raise _uncopyable_callbacks(callbacks, error) from error

    # ---- results ---------------------------------------------------------------

    def results_summary(self, num_trials: int = 10) -> Any:
        """Print KerasTuner's summary and return :func:`tunekit.summarize`'s report."""
        super().results_summary(num_trials)  # type: ignore[misc]
        from tunekit.tuners._summary import summarize

        return summarize(self)

    def load_model(self, trial: Any) -> Any:
        """Load ``trial``'s best checkpoint, optimizer state included (no warning)."""
        from tunekit.tuners._refit import load_trial_model

        with frozen_heap():
            return load_trial_model(self, trial)

    def refit_best(self, x: Any, y: Any = None, **kwargs: Any) -> Any:
        """Train the best hyperparameters on training + validation data.

        See :func:`tunekit.refit_best` (this is ``tunekit.refit_best(self, ...)``).
        """
        from tunekit.tuners._refit import refit_best

        return refit_best(self, x, y, **kwargs)


class Hyperband(_TunekitMixin, keras_tuner.Hyperband):
    """``keras_tuner.Hyperband`` with tunekit's checks, seeding and memory release.

    Takes KerasTuner's arguments (``hypermodel``, ``objective``,
    ``max_epochs``, ``factor``, ``hyperband_iterations``, ``seed``,
    ``hyperparameters``, ``tune_new_entries``, ``allow_new_entries``,
    ``max_retries_per_trial``, ``max_consecutive_failed_trials`` and the
    ``Tuner`` keywords: ``directory``, ``project_name``, ``overwrite``,
    ``executions_per_trial``, ``max_model_size``, ``optimizer``, ``loss``,
    ``metrics``, ``distribution_strategy``, ``tuner_id``), plus ``verbose``
    (tunekit's messages). Subclass it and override ``run_trial`` or pass a
    ``keras_tuner.HyperModel`` with its own ``fit``, as KerasTuner documents.

    ``objective=None`` follows KerasTuner: ``run_trial`` or
    ``HyperModel.fit`` must then return a float. With ``seed``, every
    trial's initialisation, dropout and shuffling are seeded from the seed
    and the trial id, and the global random state is restored after each.

    Its defaults are KerasTuner's. The factory :func:`tunekit.hyperband` builds
    this class with other defaults, on purpose: ``hypermodel`` (required),
    ``objective="val_accuracy"``, ``max_epochs`` (a required keyword) and
    ``initial_trials="defaults"`` where the class has ``None``, ``None``,
    ``max_epochs=100`` and ``initial_trials=None`` (the table in
    ``docs/tuners.md``, "Classes and factories").

    Examples
    --------
    >>> import tempfile, keras, tunekit
    >>> def build(hp):
    ...     model = keras.Sequential([keras.Input((4,)),
    ...                               keras.layers.Dense(hp.Int("units", 2, 8)),
    ...                               keras.layers.Dense(1)])
    ...     model.compile("adam", "mse")
    ...     return model
    >>> tuner = tunekit.Hyperband(build, "val_loss", max_epochs=3,
    ...                           directory=tempfile.mkdtemp(), verbose=False)
    >>> repr(tuner).startswith("<tunekit.Hyperband object")
    True
    """

    _tunekit_kind = "hyperband"

    _parameter_constraints: ClassVar[dict[str, Any]] = {
        **SCHEDULE_CONSTRAINTS,
        **TUNER_CONSTRAINTS,
    }

    def __init__(
        self,
        hypermodel: Any = None,
        objective: Any = None,
        max_epochs: int = 100,
        factor: int = 3,
        hyperband_iterations: int = 1,
        seed: int | None = None,
        hyperparameters: Any = None,
        tune_new_entries: bool = True,
        allow_new_entries: bool = True,
        max_retries_per_trial: int = 0,
        max_consecutive_failed_trials: int = 3,
        *,
        directory: str | os.PathLike[str] | None = None,
        project_name: str | None = None,
        overwrite: bool = False,
        verbose: bool = True,
        **kwargs: Any,
    ) -> None:
        _validate(type(self), locals())
        max_epochs = check_positive_int("max_epochs", max_epochs)
        trial_cap = kwargs.pop("trial_cap", None)
        if trial_cap is not None:
            trial_cap = check_positive_int("trial_cap", trial_cap)
        schedule = hyperband_schedule(max_epochs, factor, hyperband_iterations)
        budget: dict[str, Any] = {"hyperband_iterations": hyperband_iterations}
        if trial_cap is not None:  # projects without a cap keep their fingerprint
            budget["trial_cap"] = trial_cap
        checked = self._tunekit_prepare(
            hypermodel,
            objective,
            directory=directory,
            project_name=project_name,
            overwrite=overwrite,
            seed=seed,
            verbose=verbose,
            settings={"max_epochs": max_epochs, "factor": factor},
            budget=budget,
            kwargs=kwargs,
            schedule=schedule,
        )
        oracle = HyperbandOracle(
            checked,
            max_epochs=max_epochs,
            factor=factor,
            hyperband_iterations=hyperband_iterations,
            seed=seed,
            hyperparameters=hyperparameters,
            tune_new_entries=tune_new_entries,
            allow_new_entries=allow_new_entries,
            max_retries_per_trial=max_retries_per_trial,
            max_consecutive_failed_trials=max_consecutive_failed_trials,
            trial_cap=trial_cap,
            **self._tunekit_oracle_options(),
        )
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


class BayesianOptimization(_TunekitMixin, keras_tuner.BayesianOptimization):
    """``keras_tuner.BayesianOptimization`` with tunekit's checks and seeding.

    Takes KerasTuner's arguments (``hypermodel``, ``objective``,
    ``max_trials``, ``num_initial_points``, ``alpha``, ``beta``, ``seed``,
    ``hyperparameters``, ``tune_new_entries``, ``allow_new_entries``,
    ``max_retries_per_trial``, ``max_consecutive_failed_trials`` and the
    ``Tuner`` keywords), plus ``verbose``. See :class:`tunekit.Hyperband`
    for ``objective=None``, ``seed`` and subclassing.

    Its defaults are KerasTuner's. The factory
    :func:`tunekit.bayesian_optimization` builds this class with other
    defaults, on purpose: ``hypermodel`` (required),
    ``objective="val_accuracy"``, ``max_trials`` (a required keyword) and
    ``initial_trials="defaults"`` where the class has ``None``, ``None``,
    ``max_trials=10`` and ``initial_trials=None`` (the table in
    ``docs/tuners.md``, "Classes and factories").

    Examples
    --------
    >>> import tempfile, keras, tunekit
    >>> def build(hp):
    ...     model = keras.Sequential([keras.Input((4,)),
    ...                               keras.layers.Dense(hp.Int("units", 2, 8)),
    ...                               keras.layers.Dense(1)])
    ...     model.compile("adam", "mse")
    ...     return model
    >>> tuner = tunekit.BayesianOptimization(
    ...     build, "val_loss", max_trials=5, num_initial_points=2,
    ...     directory=tempfile.mkdtemp(), verbose=False)
    >>> tuner.oracle.max_trials
    5
    """

    _tunekit_kind = "bayesian_optimization"

    _parameter_constraints: ClassVar[dict[str, Any]] = {
        **_MAX_TRIALS,
        "num_initial_points": [*POSITIVE_INT, None],
        "alpha": NON_NEGATIVE_NUMBER,
        "beta": NON_NEGATIVE_NUMBER,
        **TUNER_CONSTRAINTS,
    }

    def __init__(
        self,
        hypermodel: Any = None,
        objective: Any = None,
        max_trials: int = 10,
        num_initial_points: int | None = None,
        alpha: float = 1e-4,
        beta: float = 2.6,
        seed: int | None = None,
        hyperparameters: Any = None,
        tune_new_entries: bool = True,
        allow_new_entries: bool = True,
        max_retries_per_trial: int = 0,
        max_consecutive_failed_trials: int = 3,
        *,
        directory: str | os.PathLike[str] | None = None,
        project_name: str | None = None,
        overwrite: bool = False,
        verbose: bool = True,
        **kwargs: Any,
    ) -> None:
        _validate(type(self), locals())
        max_trials = check_positive_int("max_trials", max_trials)
        if num_initial_points is not None:
            num_initial_points = check_positive_int(
                "num_initial_points", num_initial_points
            )
        check_non_negative("alpha", alpha)
        check_non_negative("beta", beta)
        checked = self._tunekit_prepare(
            hypermodel,
            objective,
            directory=directory,
            project_name=project_name,
            overwrite=overwrite,
            seed=seed,
            verbose=verbose,
            settings={
                "num_initial_points": num_initial_points,
                "alpha": alpha,
                "beta": beta,
            },
            budget={"max_trials": max_trials},
            kwargs=kwargs,
        )
        oracle = BayesianOptimizationOracle(
            objective=checked,
            max_trials=max_trials,
            num_initial_points=num_initial_points,
            alpha=alpha,
            beta=beta,
            seed=seed,
            hyperparameters=hyperparameters,
            tune_new_entries=tune_new_entries,
            allow_new_entries=allow_new_entries,
            max_retries_per_trial=max_retries_per_trial,
            max_consecutive_failed_trials=max_consecutive_failed_trials,
            **self._tunekit_oracle_options(),
        )
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


class RandomSearch(_TunekitMixin, keras_tuner.RandomSearch):
    """``keras_tuner.RandomSearch`` with tunekit's checks and seeding.

    Takes KerasTuner's arguments (``hypermodel``, ``objective``,
    ``max_trials``, ``seed``, ``hyperparameters``, ``tune_new_entries``,
    ``allow_new_entries``, ``max_retries_per_trial``,
    ``max_consecutive_failed_trials`` and the ``Tuner`` keywords), plus
    ``verbose``. See :class:`tunekit.Hyperband` for ``objective=None``,
    ``seed`` and subclassing.

    Its defaults are KerasTuner's. The factory :func:`tunekit.random_search` builds
    this class with other defaults, on purpose: ``hypermodel`` (required),
    ``objective="val_accuracy"``, ``max_trials`` (a required keyword) and
    ``initial_trials="defaults"`` where the class has ``None``, ``None``,
    ``max_trials=10`` and ``initial_trials=None`` (the table in
    ``docs/tuners.md``, "Classes and factories").

    Examples
    --------
    >>> import tempfile, tunekit
    >>> class Quadratic(tunekit.RandomSearch):
    ...     def run_trial(self, trial, *args, **kwargs):
    ...         x = trial.hyperparameters.Float("x", -2.0, 2.0)
    ...         return (x - 1.0) ** 2  # objective=None: the float is minimized
    >>> tuner = Quadratic(max_trials=3, seed=1, directory=tempfile.mkdtemp(),
    ...                   verbose=False)
    >>> tuner.search(verbose=0)
    >>> len(tuner.oracle.trials)
    3
    """

    _tunekit_kind = "random_search"

    _parameter_constraints: ClassVar[dict[str, Any]] = {
        **_MAX_TRIALS,
        **TUNER_CONSTRAINTS,
    }

    def __init__(
        self,
        hypermodel: Any = None,
        objective: Any = None,
        max_trials: int = 10,
        seed: int | None = None,
        hyperparameters: Any = None,
        tune_new_entries: bool = True,
        allow_new_entries: bool = True,
        max_retries_per_trial: int = 0,
        max_consecutive_failed_trials: int = 3,
        *,
        directory: str | os.PathLike[str] | None = None,
        project_name: str | None = None,
        overwrite: bool = False,
        verbose: bool = True,
        **kwargs: Any,
    ) -> None:
        _validate(type(self), locals())
        max_trials = check_positive_int("max_trials", max_trials)
        checked = self._tunekit_prepare(
            hypermodel,
            objective,
            directory=directory,
            project_name=project_name,
            overwrite=overwrite,
            seed=seed,
            verbose=verbose,
            settings={},
            budget={"max_trials": max_trials},
            kwargs=kwargs,
        )
        self.seed = seed  # as keras_tuner.RandomSearch
        oracle = RandomSearchOracle(
            objective=checked,
            max_trials=max_trials,
            seed=seed,
            hyperparameters=hyperparameters,
            tune_new_entries=tune_new_entries,
            allow_new_entries=allow_new_entries,
            max_retries_per_trial=max_retries_per_trial,
            max_consecutive_failed_trials=max_consecutive_failed_trials,
            **self._tunekit_oracle_options(),
        )
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


for _cls in (Hyperband, BayesianOptimization, RandomSearch):
    _cls.__module__ = "tunekit"  # reprs and tracebacks show tunekit.Hyperband
del _cls

_CLASSES: dict[str, type] = {
    "hyperband": Hyperband,
    "bayesian_optimization": BayesianOptimization,
    "random_search": RandomSearch,
}


def _continued_model(tuner: Any, hp: Any) -> Any:
    """Hyperband's next round: the model, its weights *and* optimizer state.

    What ``keras_tuner.Hyperband._build_hypermodel`` does, except that the
    optimizer is built before the previous round's checkpoint is loaded, so
    the trial continues with the optimizer it had (Keras 3 would otherwise
    skip the optimizer's variables with a warning and restart it).
    """
    from tunekit.tuners._kerastuner import config, utils
    from tunekit.tuners._refit import load_checkpoint

    previous = hp.values["tuner/trial_id"]
    model = keras_tuner.Tuner._build_hypermodel(tuner, hp)
    if config.multi_backend():
        model.build_from_config(
            utils.load_json(tuner._get_build_config_fname(previous))
        )
    load_checkpoint(tuner, model, previous)
    return model


def tuner_class(kind: str) -> type:
    """The tuner class of ``kind`` (``\"hyperband\"``, ``\"random_search\"``...)."""
    return _CLASSES[kind]


# --------------------------------------------------------------------------
# Construction: static checks and the stale-project guard
# --------------------------------------------------------------------------


def _guard_existing_project(tuner: Any, config: TunerState) -> None:
    """Refuse a differently configured project, then let KerasTuner reload it."""
    check_existing_project(tuner, config)
    config.deferring_reload = False
    super(_TunekitMixin, tuner).reload()  # keeps the new hyperband_iterations
    _report_resume(tuner, config)


# --------------------------------------------------------------------------
# search(): dynamic checks, before any epoch is trained
# --------------------------------------------------------------------------
