"""KerasTuner tuners with every objective, callback and project check done up front.

:class:`Hyperband`, :class:`BayesianOptimization` and :class:`RandomSearch`
are real subclasses of the ``keras_tuner`` classes, with KerasTuner's
constructor signature (plus ``verbose``), so ``search``,
``get_best_hyperparameters``, ``get_best_models`` and ``results_summary``
work as usual, and users subclass them and override ``run_trial`` or
``HyperModel.fit`` as KerasTuner documents. The factories :func:`hyperband`,
:func:`bayesian_optimization` and :func:`random_search` return instances of
them. This module imports ``keras_tuner``: it is only loaded through
tunekit's lazy public door. What the classes add:

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
import inspect
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import keras_tuner
import numpy as np

from tunekit._atomic import write_text
from tunekit._errors import (
    InvalidParameterError,
    ObjectiveError,
    SearchFailedError,
    StaleProjectError,
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
    did_you_mean,
    invalid_parameter,
    received,
)
from tunekit._warnings import warn
from tunekit.tuners._distributed import (
    adopt_worker_client,
    check_distributed_setup,
    check_distribution_strategy,
    chief_may_overwrite,
    distributed_search,
    local_trials,
    serve_chief,
)
from tunekit.tuners._objective import (
    discover_logged_keys,
    metric_direction,
    objective_list,
    sample_batch,
    validate_objective,
)
from tunekit.tuners._oracles import (
    BayesianOptimizationOracle,
    HyperbandOracle,
    RandomSearchOracle,
)
from tunekit.tuners._project_files import check_project_files, unwritable_project
from tunekit.tuners._project_lock import check_project_unlocked
from tunekit.tuners._schedule import HyperbandSchedule, hyperband_schedule
from tunekit.tuners._session import SearchSession, session_hook, trial_end_scope
from tunekit.tuners._trial_runner import (
    check_search,
    finish_tuner,
    prepare_tuner,
    split_search_arguments,
)
from tunekit.tuners._trial_runner import run_trial as run_tunekit_trial

__all__ = [
    "BayesianOptimization",
    "Hyperband",
    "RandomSearch",
    "bayesian_optimization",
    "hyperband",
    "random_search",
]

FINGERPRINT_FILE = "tunekit.json"
_FINGERPRINT_VERSION = 1

# Keyword arguments keras_tuner's Tuner/oracles accept besides the factory's own.
_TUNER_KWARGS = frozenset(
    {
        "hyperparameters",
        "tune_new_entries",
        "allow_new_entries",
        "max_retries_per_trial",
        "max_consecutive_failed_trials",
        "max_model_size",
        "optimizer",
        "loss",
        "metrics",
        "distribution_strategy",
        "tuner_id",
        "executions_per_trial",
        "logger",
        # tunekit's own (tunekit.tuners._trial_runner.prepare_tuner pops them)
        "pruning",
        "fit_hyperparameters",
        "initial_trials",
        "stop_condition",
    }
)
_DEFAULT_FAILURE_LIMIT = 3  # keras_tuner's max_consecutive_failed_trials default


@dataclass
class _Config:
    kind: str
    objective: Any
    verbose: bool
    budget: dict[str, Any]
    settings: dict[str, Any]
    schedule: HyperbandSchedule | None = None
    fingerprint: dict[str, Any] = field(default_factory=dict)
    seed: int | None = None


# --------------------------------------------------------------------------
# The tuner classes
# --------------------------------------------------------------------------


class _TunekitMixin:
    """tunekit's checks, per-trial seeding and memory release for a KerasTuner tuner.

    Override points, in the order KerasTuner calls them during ``search()``:
    ``run_trial(trial, *fit_args, **fit_kwargs)`` (KerasTuner's semantics,
    Hyperband's epochs included) calls ``_build_and_fit_model`` once per
    execution; tunekit wraps each call in :meth:`_trial_context` (the
    trial's seed, then the release of its traced graphs).
    """

    _tunekit: _Config
    _tunekit_kind = ""
    _tunekit_deferring_reload = False
    _tunekit_pending_reload = False
    _tunekit_trial_seed: int | None = None
    _tunekit_built: list[Any] | None = None
    _tunekit_fingerprint_unwritten = False

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
        _check_hypermodel(hypermodel)
        if hypermodel is None and _uses_default_run_trial(self):
            raise InvalidParameterError(
                "Received `hypermodel=None`. A hypermodel may only be left out "
                "when a subclass overrides `run_trial()` and defines the search "
                "space there; otherwise pass a function of `hp` that returns a "
                "compiled model, or a `keras_tuner.HyperModel`."
            )
        prepare_tuner(self, kwargs)  # pops pruning=, initial_trials=, ...=
        _check_kwargs(type(self).__name__, self._tunekit_kind, kwargs)
        check_distributed_setup()  # KERASTUNER_* variables, before any file is read
        check_distribution_strategy(kwargs.get("distribution_strategy"))
        if not isinstance(overwrite, bool):
            raise invalid_parameter("overwrite", overwrite, "True or False")
        _check_seed(seed)
        _check_directory(directory, project_name)
        # Before KerasTuner reloads or (overwrite=True) deletes the project.
        check_project_unlocked(_project_dir(directory, project_name))
        checked = None if objective is None else validate_objective(objective)
        self._tunekit = _Config(
            kind=self._tunekit_kind,
            objective=checked,
            verbose=bool(verbose),
            budget=budget,
            settings=settings,
            schedule=schedule,
            seed=seed,
        )
        # BaseTuner.__init__ reloads an existing project before tunekit can
        # compare fingerprints: defer that to _tunekit_finish.
        self._tunekit_deferring_reload = True
        return checked

    def _tunekit_oracle_options(self) -> dict[str, Any]:
        """What tunekit's oracle takes besides KerasTuner's arguments."""
        return {
            "initial_trials": self._tunekit_initial_trials,
            "stop_condition": self._tunekit_stop_condition,
        }

    def _tunekit_finish(self, kwargs: dict[str, Any], oracle: Any) -> None:
        """After KerasTuner's constructor: the stale-project guard, the fingerprint."""
        config = self._tunekit
        self._tunekit_deferring_reload = False
        adopt_worker_client(self)  # a distributed worker: no reload of its own
        finish_tuner(self)  # fit_hyperparameters into the space
        oracle.queue_initial_trials()  # checked against the filled space
        config.fingerprint = _fingerprint(self, config)
        if self._tunekit_pending_reload:
            self._tunekit_pending_reload = False
            _guard_existing_project(self, config)
        _write_fingerprint(self, config, required=False)
        _warn_budget(self, config, kwargs)

    def reload(self) -> None:
        """Reload the project (at construction: after the stale-project guard)."""
        if self._tunekit_deferring_reload:
            self._tunekit_pending_reload = True
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
        if self._tunekit_fingerprint_unwritten:  # read-only at construction
            _write_fingerprint(self, self._tunekit, required=True)
        session = SearchSession(
            self,
            fit_kwargs,
            display=getattr(getattr(self, "_tunekit", None), "verbose", True),
            arguments=_fit_arguments(fit_args, fit_kwargs),
        )
        # A seeded search leaves the caller's global random state as it was.
        seeded = getattr(getattr(self, "_tunekit", None), "seed", None) is not None
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

    def run_trial(self, trial: Any, *fit_args: Any, **fit_kwargs: Any) -> Any:
        """Train and evaluate one trial, as KerasTuner documents ``run_trial``.

        Override it in a subclass exactly as for ``keras_tuner.Tuner``; with
        ``super().run_trial(...)`` the trial keeps tunekit's seeding and
        memory release. Returns what KerasTuner's ``run_trial`` returns (one
        ``History`` per execution).
        """
        self._tunekit_execution = 0
        # KerasTuner's run_trial, plus folds, tuned fit arguments and pruning.
        return run_tunekit_trial(self, trial, fit_args, fit_kwargs)

    def _build_and_fit_model(self, trial: Any, *args: Any, **kwargs: Any) -> Any:
        """Build and fit one execution of ``trial`` inside :meth:`_trial_context`."""
        from tunekit.data._trial_order import restarted_orders

        execution = getattr(self, "_tunekit_execution", 0)
        self._tunekit_execution = execution + 1
        with (
            self._trial_context(trial, execution),
            # tunekit's loaders restart their shuffled order from the seed
            restarted_orders(args, kwargs, self._tunekit_trial_seed),
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
        seed = getattr(getattr(self, "_tunekit", None), "seed", None)
        trial_seed = (
            None if seed is None else derived_seed(seed, trial.trial_id, execution)
        )
        before = custom_gradient_names()
        self._tunekit_trial_seed, self._tunekit_built = trial_seed, []
        try:
            with restored_random_state(active=trial_seed is not None):
                yield
        finally:
            built, self._tunekit_built = self._tunekit_built, None
            self._tunekit_trial_seed = None
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
        from keras_tuner.src.engine.tuner import maybe_compute_model_size

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
        if self._tunekit_trial_seed is not None:
            seed_all(self._tunekit_trial_seed)
        if isinstance(self, keras_tuner.Hyperband) and "tuner/trial_id" in hp.values:
            model = _continued_model(self, hp)
        else:
            model = super()._build_hypermodel(hp)  # type: ignore[misc]
        if self._tunekit_built is not None:
            self._tunekit_built.append(model)
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
        max_trials = check_positive_int("max_trials", max_trials)
        if num_initial_points is not None:
            num_initial_points = check_positive_int(
                "num_initial_points", num_initial_points
            )
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
    from keras_tuner.src import utils
    from keras_tuner.src.backend import config

    from tunekit.tuners._refit import load_checkpoint

    previous = hp.values["tuner/trial_id"]
    model = keras_tuner.Tuner._build_hypermodel(tuner, hp)
    if config.multi_backend():
        model.build_from_config(
            utils.load_json(tuner._get_build_config_fname(previous))
        )
    load_checkpoint(tuner, model, previous)
    return model


def _tuner_class(kind: str) -> type:
    return _CLASSES[kind]


class UncopyableCallbackError(
    InvalidParameterError, keras_tuner.errors.FatalValueError
):
    """A search callback cannot be deep-copied.

    Also KerasTuner's ``FatalValueError``, which KerasTuner raises there.
    """


class HypermodelBuildError(InvalidParameterError, keras_tuner.errors.FatalTypeError):
    """The hypermodel did not return a Keras model.

    Also KerasTuner's ``FatalTypeError``, which KerasTuner raises there.
    """


class MissingObjectiveError(ObjectiveError, keras_tuner.errors.FatalTypeError):
    """``objective=None`` with a fit that returns a History, not a float.

    Also KerasTuner's ``FatalTypeError``, which KerasTuner raises there.
    """


def _uncopyable_callbacks(callbacks: Any, error: Exception) -> UncopyableCallbackError:
    culprit = callbacks
    for callback in callbacks if isinstance(callbacks, (list, tuple)) else ():
        try:
            copy.deepcopy(callback)
        except Exception:
            culprit = callback
            break
    return UncopyableCallbackError(
        f"Callback {type(culprit).__name__} cannot be deep-copied "
        f"({type(error).__name__}: {error}). KerasTuner copies every "
        "callback for each trial, since they are reused across trials, and "
        "would stop the search. All callbacks used during a search should be "
        "deep-copyable: create the callback without unpicklable state (open "
        f"files, locks, lambdas capturing models). {received('callbacks', callbacks)}"
    )


# --------------------------------------------------------------------------
# Construction: static checks and the stale-project guard
# --------------------------------------------------------------------------


def _check_hypermodel(hypermodel: Any) -> None:
    import keras

    if hypermodel is None or isinstance(hypermodel, keras_tuner.HyperModel):
        return  # None: KerasTuner's rule (only with an overridden run_trial)
    if isinstance(hypermodel, keras.Model):
        raise InvalidParameterError(
            "`hypermodel` must build a new model for each trial: a function of "
            "`hp` that returns a compiled Keras model, or a "
            "`keras_tuner.HyperModel`, not a model instance (KerasTuner would "
            "call the model on the hyperparameters and every trial would fail). "
            "Wrap the code that creates the model in `def build(hp): ...`. "
            f"{received('hypermodel', type(hypermodel).__name__ + ' instance')}"
        )
    if not callable(hypermodel):
        raise invalid_parameter(
            "hypermodel",
            hypermodel,
            "a function of `hp` that returns a compiled Keras model, or a "
            "`keras_tuner.HyperModel`",
        )


def _project_dir(directory: Any, project_name: Any) -> str:
    """The project folder KerasTuner will use (its defaults included)."""
    base = "." if directory is None else os.fspath(directory)
    return os.path.join(base or ".", str(project_name or "untitled_project"))


def _check_directory(directory: Any, project_name: Any) -> None:
    if directory is None:
        return
    try:
        path = os.fspath(directory)
    except TypeError:
        raise invalid_parameter(
            "directory", directory, "a path (str or os.PathLike) or None"
        ) from None
    if os.path.isfile(path):
        raise InvalidParameterError(
            f"`directory` must be a folder for the tuner's project, but "
            f"{path!r} is an existing file. Pass another `directory`. "
            f"{received('directory', directory)}"
        )
    project = os.path.join(path, str(project_name or "untitled_project"))
    if os.path.isfile(project):
        raise InvalidParameterError(
            f"The project folder {project!r} is an existing file. Pass another "
            f"`project_name` or `directory`. {received('project_name', project_name)}"
        )


def _check_kwargs(caller: str, kind: str, kwargs: dict[str, Any]) -> None:
    allowed = _TUNER_KWARGS | ({"trial_cap"} if kind == "hyperband" else set())
    unknown = sorted(set(kwargs) - allowed)
    if not unknown:
        return
    name = unknown[0]
    hint = did_you_mean(name, _TUNER_KWARGS)
    if kind == "hyperband" and name in ("max_trials", "epochs"):
        hint = (
            " Hyperband has no `max_trials` or `epochs`: its budget is "
            "`max_epochs`, `factor` and `hyperband_iterations` (see "
            "tunekit.hyperband_schedule)."
        )
    elif name == "max_epochs":
        hint = " Only Hyperband has `max_epochs`; pass `epochs=` to `search()`."
    raise InvalidParameterError(
        f"`{caller}()` got unexpected keyword argument(s) {unknown}.{hint} "
        f"{received(name, kwargs[name])}"
    )


def _space_signature(hyperparameters: Any) -> dict[str, Any]:
    signature = {}
    for hp in hyperparameters.space:
        config = dict(hp.get_config())
        config.pop("name", None)
        config.pop("default", None)
        config["class_name"] = type(hp).__name__
        signature[hp.name] = json.loads(json.dumps(config, default=str))
    return signature


def _objective_signature(objective: Any) -> list[list[str]]:
    if objective is None:
        return []
    return sorted([o.name, o.direction] for o in objective_list(objective))


def _fingerprint(tuner: Any, config: _Config) -> dict[str, Any]:
    fingerprint = {
        "version": _FINGERPRINT_VERSION,
        "tuner": config.kind,
        "objective": _objective_signature(config.objective),
        "settings": config.settings,
        "budget": config.budget,
        "search_space": _space_signature(tuner.oracle.hyperparameters),
    }
    # Not compared on resume: read by `tunekit report` to flag collapsed trials.
    n_classes = getattr(getattr(tuner, "hypermodel", None), "num_classes", None)
    if isinstance(n_classes, int) and not isinstance(n_classes, bool):
        fingerprint["n_classes"] = n_classes
    return fingerprint


def _read_json(path: str) -> Any:
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def _best_values(metrics: dict[str, Any]) -> dict[tuple[str, str], float]:
    best = {}
    for name, record in metrics.items():
        direction = record.get("direction") if isinstance(record, dict) else None
        values = (
            [
                float(np.mean(o["value"]))
                for o in (record.get("observations") or [])
                if isinstance(o, dict) and "value" in o
            ]
            if direction in ("min", "max")
            else []
        )
        if values:
            key = (str(name), str(direction))
            best[key] = max(values) if direction == "max" else min(values)
    return best


def _stored_objective(project_dir: str) -> list[list[str]] | None:
    """The objective(s) a plain KerasTuner project may have scored with.

    KerasTuner does not store the objective, but each completed trial.json
    keeps its ``score``: the metrics whose best value equals it in every
    completed trial are the candidates.
    """
    import glob

    candidates: set[tuple[str, str]] | None = None
    pattern = os.path.join(project_dir, "trial_*", "trial.json")
    for path in sorted(glob.glob(pattern)):
        try:
            trial = _read_json(path)
            score = trial.get("score")
            metrics = trial["metrics"]["metrics"]
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if trial.get("status") != "COMPLETED" or score is None:
            continue
        matching = {
            key
            for key, value in _best_values(metrics).items()
            if np.isclose(value, float(score), rtol=1e-6, atol=1e-9)
        }
        candidates = matching if candidates is None else candidates & matching
    if not candidates:
        return None
    return sorted([name, direction] for name, direction in candidates)


def _plain_kerastuner_fingerprint(project_dir: str) -> dict[str, Any]:
    """Rebuild what can be known of a project written without tunekit."""
    import keras_tuner

    state = _read_json(os.path.join(project_dir, "oracle.json"))
    if "brackets" in state:
        kind = "hyperband"
        settings = {k: state.get(k) for k in ("max_epochs", "factor")}
        budget = {"hyperband_iterations": state.get("hyperband_iterations")}
    elif "num_initial_points" in state:
        kind = "bayesian_optimization"
        settings = {k: state.get(k) for k in ("num_initial_points", "alpha", "beta")}
        budget = {}
    else:
        kind = "random_search"
        settings, budget = {}, {}
    space = keras_tuner.HyperParameters.from_config(state["hyperparameters"])
    return {
        "tuner": kind,
        "objective_candidates": _stored_objective(project_dir),
        "settings": settings,
        "budget": budget,
        "search_space": _space_signature(space),
    }


def _differences(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    found = []
    if old.get("tuner") != new["tuner"]:
        found.append(f"tuner: {old.get('tuner')!r} -> {new['tuner']!r}")
    if old.get("objective") is not None and old["objective"] != new["objective"]:
        found.append(f"objective: {old['objective']} -> {new['objective']}")
    candidates = old.get("objective_candidates")
    if candidates and not all(o in candidates for o in new["objective"]):
        shown = candidates[0] if len(candidates) == 1 else f"one of {candidates}"
        found.append(
            f"objective: the stored scores are those of {shown} -> {new['objective']}"
        )
    if old.get("tuner") == new["tuner"]:
        for key, value in new["settings"].items():
            if key in old.get("settings", {}) and old["settings"][key] != value:
                found.append(f"{key}: {old['settings'][key]!r} -> {value!r}")
        old_iterations = old.get("budget", {}).get("hyperband_iterations")
        new_iterations = new["budget"].get("hyperband_iterations")
        if old_iterations and new_iterations and new_iterations < old_iterations:
            found.append(
                f"hyperband_iterations: {old_iterations!r} -> {new_iterations!r} "
                "(it may only grow)"
            )
    old_space, new_space = old.get("search_space", {}), new["search_space"]
    for name in sorted(set(old_space) | set(new_space)):
        if name not in new_space:
            found.append(f"search space: {name!r} was removed")
        elif name not in old_space:
            found.append(f"search space: {name!r} is new")
        elif old_space[name] != new_space[name]:
            changed = sorted(
                key
                for key in set(old_space[name]) | set(new_space[name])
                if old_space[name].get(key) != new_space[name].get(key)
            )
            detail = ", ".join(
                f"{key} {old_space[name].get(key)!r} -> {new_space[name].get(key)!r}"
                for key in changed
            )
            found.append(f"search space: {name!r} changed ({detail})")
    return found


def _guard_existing_project(tuner: Any, config: _Config) -> None:
    """Resume a matching project, refuse a stale one. Never deletes anything."""
    project_dir = tuner.project_dir
    check_project_files(project_dir)  # a truncated file: say which, not JSONDecodeError
    new = config.fingerprint
    path = os.path.join(project_dir, FINGERPRINT_FILE)
    if os.path.exists(path):
        old, origin = _read_json(path), "tunekit"
    else:
        try:
            old, origin = _plain_kerastuner_fingerprint(project_dir), "KerasTuner"
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise StaleProjectError(
                f"Found an existing project at {project_dir!r} whose state cannot "
                f"be read ({error!r}). To start afresh, pass `overwrite=True` "
                "(this deletes it), or choose a new `project_name`."
            ) from error
    differences = _differences(old, new)
    if differences:
        listing = "\n  - ".join(differences)
        raise StaleProjectError(
            f"The project at {project_dir!r} (written by {origin}) was created "
            "with a different configuration, so resuming it would reuse old "
            "trials, scores and search space:\n  - "
            f"{listing}\nTo start afresh, pass `overwrite=True` (this deletes it), "
            "or choose a new `project_name`."
        )
    tuner._tunekit_deferring_reload = False
    super(_TunekitMixin, tuner).reload()  # keeps the new hyperband_iterations
    _report_resume(tuner, config)


def _remaining(tuner: Any, config: _Config) -> tuple[int, int | None]:
    done = len(tuner.oracle.trials)
    if config.schedule is not None:
        return done, max(config.schedule.total_trials - done, 0)
    remaining = tuner.oracle.remaining_trials()
    return done, None if remaining is None else max(remaining, 0)


def _report_resume(tuner: Any, config: _Config) -> None:
    started, remaining = _remaining(tuner, config)
    statuses = [t.status for t in tuner.oracle.trials.values()]
    completed = statuses.count("COMPLETED")
    # A trial interrupted by Ctrl-C or a kill is not done: KerasTuner reruns it.
    interrupted = sum(s not in ("COMPLETED", "FAILED", "INVALID") for s in statuses)
    rerun = f", {interrupted} interrupted to run again" if interrupted else ""
    _say(
        config,
        f"tunekit: resuming project {tuner.project_dir!r}: "
        f"{started - interrupted} trial(s) done ({completed} completed){rerun}, "
        f"{remaining} remaining.",
    )
    if remaining == 0 and not interrupted:
        knob = (
            "a larger `hyperband_iterations`"
            if config.kind == "hyperband"
            else "a larger `max_trials`"
        )
        warn(
            f"The project at {tuner.project_dir!r} has no trials left to run: "
            f"`search()` will train nothing and return the old results. Pass "
            f"{knob} to continue it, `overwrite=True` to start afresh, or a new "
            "`project_name`.",
            UserWarning,
        )


def _write_fingerprint(tuner: Any, config: _Config, *, required: bool) -> None:
    """Write ``tunekit.json`` when its content changes (atomically).

    A finished project on a read-only share opens for reading, so at
    construction (``required=False``) a failed write is only remembered;
    ``search()`` writes again (``required=True``) and raises
    :class:`~tunekit.UnwritablePathError` if it still cannot.
    """
    if tuner._is_worker():
        return
    path = os.path.join(tuner.project_dir, FINGERPRINT_FILE)
    text = json.dumps(config.fingerprint, indent=2, sort_keys=True)
    try:
        with open(path, encoding="utf-8") as handle:
            unchanged = handle.read() == text
    except (OSError, UnicodeDecodeError):
        unchanged = False
    if unchanged:
        tuner._tunekit_fingerprint_unwritten = False
        return
    try:
        os.makedirs(tuner.project_dir, exist_ok=True)
        write_text(path, text)
    except OSError as error:
        if required:
            raise unwritable_project(tuner.project_dir, error) from error
        tuner._tunekit_fingerprint_unwritten = True
        return
    tuner._tunekit_fingerprint_unwritten = False


def _say(config: _Config, message: str) -> None:
    if config.verbose:
        print(message)


def _warn_budget(tuner: Any, config: _Config, kwargs: dict[str, Any]) -> None:
    limit = kwargs.get("max_consecutive_failed_trials", _DEFAULT_FAILURE_LIMIT)
    trials = config.budget.get("max_trials")
    if config.schedule is not None:
        trials = config.schedule.total_trials
    if trials is not None and limit and trials < limit:
        warn(
            f"The search runs {trials} trial(s), fewer than KerasTuner's "
            f"consecutive-failure limit (max_consecutive_failed_trials={limit}): "
            "if every trial fails, KerasTuner returns normally with no result. "
            "tunekit raises SearchFailedError in that case; look at "
            "`tunekit.summarize(tuner)` for the failures.",
            UserWarning,
        )
    if config.kind == "bayesian_optimization":
        dims = len(tuner.oracle.hyperparameters.space)
        initial = config.settings.get("num_initial_points") or max(3 * dims, 3)
        if config.budget["max_trials"] <= initial:
            warn(
                f"max_trials={config.budget['max_trials']} is not larger than "
                f"the {initial} random initial points (num_initial_points="
                f"{config.settings.get('num_initial_points')}, KerasTuner's "
                f"default is max(3 * {dims} hyperparameters, 3)): the Gaussian "
                "process would never run and this is a random search. Raise "
                "`max_trials` or lower `num_initial_points`.",
                UserWarning,
            )


def _build_tuner(
    kind: str, hypermodel: Any, objective: Any, kwargs: dict[str, Any], **named: Any
) -> Any:
    """What the factories share: their own argument check, then the class."""
    _check_kwargs(kind, kind, kwargs)
    return _tuner_class(kind)(hypermodel, objective, **named, **kwargs)


def _check_seed(seed: Any) -> None:
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise invalid_parameter("seed", seed, "an integer or None")


def hyperband(
    hypermodel: Any,
    objective: Any = "val_accuracy",
    *,
    max_epochs: int,
    factor: int = 3,
    hyperband_iterations: int = 1,
    directory: str | os.PathLike[str] | None = None,
    project_name: str | None = None,
    overwrite: bool = False,
    seed: int | None = None,
    verbose: bool = True,
    initial_trials: Any = "defaults",
    **kwargs: Any,
) -> Any:
    """Create a ``keras_tuner.Hyperband`` tuner with tunekit's checks.

    Parameters
    ----------
    hypermodel : callable or keras_tuner.HyperModel
        A function of ``hp`` that returns a compiled model, or a HyperModel.
    objective : str, tuple, keras_tuner.Objective or list, default="val_accuracy"
        Checked by :func:`tunekit.validate_objective`; a custom metric needs a
        direction, e.g. ``("val_my_metric", "max")``.
    max_epochs : int
        The longest any model is trained; with ``factor`` and
        ``hyperband_iterations`` it fixes the whole budget (see
        :func:`tunekit.hyperband_schedule`). ``epochs=`` in ``search()`` is
        ignored by KerasTuner, so tunekit rejects a value that differs.
    factor : int, default=3
        Reduction factor between rounds (>= 2).
    hyperband_iterations : int, default=1
        Number of full Hyperband iterations. May be raised when resuming.
    directory, project_name : str, optional
        Where KerasTuner keeps the project (``./untitled_project`` by default).
    overwrite : bool, default=False
        Delete an existing project first. With False, an existing project is
        resumed only if it was written with the same configuration, otherwise
        :class:`~tunekit.StaleProjectError` is raised.
    seed : int, optional
        Random seed of the oracle.
    verbose : bool, default=True
        Print tunekit's messages (schedule, resume summary).
    initial_trials : "defaults", dict, list or None, default="defaults"
        Configurations tried before any random one, in order: ``"defaults"``
        is the search space's default values (for
        :func:`tunekit.build_cnn_hypermodel` a known-good model), a dict
        gives some values (the rest default), a list queues several, None
        draws every configuration at random as KerasTuner does. Checked
        against the space when the tuner is created; a configuration the
        project already tried is skipped. The tuner classes default to None.
    **kwargs
        Other ``keras_tuner.Hyperband`` arguments (``hyperparameters``,
        ``executions_per_trial``, ``max_consecutive_failed_trials``...), and
        tunekit's ``trial_cap`` (at most that many trials; part of the
        project's fingerprint) and ``stop_condition`` (see
        :mod:`tunekit.tuners._oracles`).

    Returns
    -------
    keras_tuner.Hyperband
        A subclass whose ``search()`` checks objective, data and callbacks
        before training and raises :class:`~tunekit.SearchFailedError` when no
        trial completed.

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
    >>> tuner = tunekit.hyperband(build, "val_accuracy", max_epochs=2,
    ...                           directory=tempfile.mkdtemp(), verbose=False)
    >>> isinstance(tuner, __import__("keras_tuner").Hyperband)
    True
    >>> tunekit.hyperband(build, "val_f1_score", max_epochs=2, factor=3,
    ...                   directory=tempfile.mkdtemp(), verbose=False,
    ...                   max_trials=5)
    Traceback (most recent call last):
    ...
    tunekit._errors.InvalidParameterError: `hyperband()` got unexpected ...
    """
    return _build_tuner(
        "hyperband",
        hypermodel,
        objective,
        kwargs,
        max_epochs=max_epochs,
        factor=factor,
        hyperband_iterations=hyperband_iterations,
        directory=directory,
        project_name=project_name,
        overwrite=overwrite,
        seed=seed,
        verbose=verbose,
        initial_trials=initial_trials,
    )


def bayesian_optimization(
    hypermodel: Any,
    objective: Any = "val_accuracy",
    *,
    max_trials: int,
    num_initial_points: int | None = None,
    alpha: float = 1e-4,
    beta: float = 2.6,
    directory: str | os.PathLike[str] | None = None,
    project_name: str | None = None,
    overwrite: bool = False,
    seed: int | None = None,
    verbose: bool = True,
    initial_trials: Any = "defaults",
    **kwargs: Any,
) -> Any:
    """Create a ``keras_tuner.BayesianOptimization`` tuner with tunekit's checks.

    Parameters
    ----------
    hypermodel : callable or keras_tuner.HyperModel
        A function of ``hp`` that returns a compiled model, or a HyperModel.
    objective : str, tuple, keras_tuner.Objective or list, default="val_accuracy"
        Checked by :func:`tunekit.validate_objective`.
    max_trials : int
        Total number of trials. A warning is given when it does not exceed
        the random initial points (the Gaussian process would never run).
    num_initial_points : int, optional
        Random trials before the Gaussian process; KerasTuner's default is
        ``max(3 * number_of_hyperparameters, 3)``.
    alpha, beta : float
        Gaussian-process noise and exploration settings.
    directory, project_name, overwrite, seed, verbose, initial_trials, **kwargs
        As for :func:`tunekit.hyperband`.

    Returns
    -------
    keras_tuner.BayesianOptimization
        A subclass with tunekit's search-time checks.

    Examples
    --------
    >>> import tempfile, keras, keras_tuner, tunekit
    >>> def build(hp):
    ...     model = keras.Sequential([keras.Input((4,)),
    ...                               keras.layers.Dense(hp.Int("units", 2, 8)),
    ...                               keras.layers.Dense(1)])
    ...     model.compile("adam", "mse")
    ...     return model
    >>> tuner = tunekit.bayesian_optimization(
    ...     build, "val_loss", max_trials=5, num_initial_points=2,
    ...     directory=tempfile.mkdtemp(), verbose=False)
    >>> isinstance(tuner, keras_tuner.BayesianOptimization)
    True
    """
    return _build_tuner(
        "bayesian_optimization",
        hypermodel,
        objective,
        kwargs,
        max_trials=max_trials,
        num_initial_points=num_initial_points,
        alpha=alpha,
        beta=beta,
        directory=directory,
        project_name=project_name,
        overwrite=overwrite,
        seed=seed,
        verbose=verbose,
        initial_trials=initial_trials,
    )


def random_search(
    hypermodel: Any,
    objective: Any = "val_accuracy",
    *,
    max_trials: int,
    directory: str | os.PathLike[str] | None = None,
    project_name: str | None = None,
    overwrite: bool = False,
    seed: int | None = None,
    verbose: bool = True,
    initial_trials: Any = "defaults",
    **kwargs: Any,
) -> Any:
    """Create a ``keras_tuner.RandomSearch`` tuner with tunekit's checks.

    Parameters
    ----------
    hypermodel : callable or keras_tuner.HyperModel
        A function of ``hp`` that returns a compiled model, or a HyperModel.
    objective : str, tuple, keras_tuner.Objective or list, default="val_accuracy"
        Checked by :func:`tunekit.validate_objective`.
    max_trials : int
        Total number of trials (may be raised when resuming a project).
    directory, project_name, overwrite, seed, verbose, initial_trials, **kwargs
        As for :func:`tunekit.hyperband`.

    Returns
    -------
    keras_tuner.RandomSearch
        A subclass with tunekit's search-time checks.

    Examples
    --------
    >>> import tempfile, keras, tunekit
    >>> def build(hp):
    ...     model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    ...     model.compile(keras.optimizers.Adam(hp.Choice("lr", [1e-2, 1e-3])),
    ...                   "mse", metrics=["mae"])
    ...     return model
    >>> tuner = tunekit.random_search(build, "val_mae", max_trials=4,
    ...                               directory=tempfile.mkdtemp(), verbose=False)
    >>> tuner.oracle.objective.direction
    'min'
    >>> tunekit.random_search(build, ("val_mae", "maximize"), max_trials=4,
    ...                       directory=tempfile.mkdtemp(), verbose=False)
    Traceback (most recent call last):
    ...
    tunekit._errors.ObjectiveError: The direction of objective 'val_mae' must be ...
    """
    return _build_tuner(
        "random_search",
        hypermodel,
        objective,
        kwargs,
        max_trials=max_trials,
        directory=directory,
        project_name=project_name,
        overwrite=overwrite,
        seed=seed,
        verbose=verbose,
        initial_trials=initial_trials,
    )


# --------------------------------------------------------------------------
# search(): dynamic checks, before any epoch is trained
# --------------------------------------------------------------------------


def _fit_arguments(fit_args: tuple[Any, ...], fit_kwargs: dict[str, Any]) -> dict:
    """Name the arguments as ``Model.fit`` would receive them."""
    import keras

    try:
        bound = inspect.signature(keras.Model.fit).bind(None, *fit_args, **fit_kwargs)
    except TypeError:
        return dict(fit_kwargs)
    arguments = dict(bound.arguments)
    arguments.pop("self", None)
    arguments.update(arguments.pop("kwargs", {}))
    return arguments


def _uses_default_run_trial(tuner: Any) -> bool:
    """True unless a subclass overrides ``run_trial`` (then it may build anything)."""
    return type(tuner).run_trial in (
        _TunekitMixin.run_trial,
        keras_tuner.Tuner.run_trial,
        keras_tuner.Hyperband.run_trial,
    )


def _uses_default_fit(tuner: Any) -> bool:
    """True when each trial is ``model.fit`` of the built model, as KerasTuner does.

    Only then do the objective and the logged keys follow from the model; a
    custom ``run_trial`` or ``HyperModel.fit`` returns what it likes.
    """
    hypermodel = tuner.hypermodel
    return (
        _uses_default_run_trial(tuner)
        and hypermodel is not None
        and type(hypermodel).fit is keras_tuner.HyperModel.fit
    )


def _check_hyperband_epochs(config: _Config, arguments: dict[str, Any]) -> None:
    if config.kind != "hyperband" or "epochs" not in arguments:
        return
    epochs = arguments["epochs"]
    max_epochs = config.settings["max_epochs"]
    if epochs == max_epochs:
        warn(
            f"Hyperband ignores `epochs={epochs}` in `search()`: each trial "
            "trains the epochs of its bracket and round, up to "
            f"max_epochs={max_epochs}. `max_epochs` is the knob; drop `epochs`.",
            UserWarning,
        )
        return
    raise InvalidParameterError(
        f"Hyperband overrides `epochs` in `search()` with the epochs of each "
        f"bracket and round, so `epochs={epochs}` would be silently ignored. "
        f"`max_epochs` (={max_epochs}) is the knob: pass max_epochs={epochs} to "
        f"`tunekit.hyperband` instead, and drop `epochs`. "
        f"{received('epochs', epochs)}"
    )


def _has_validation(arguments: dict[str, Any]) -> bool:
    if arguments.get("validation_data") is not None:
        return True
    split = arguments.get("validation_split")
    return split is not None and float(split) > 0


def _check_validation_freq(arguments: dict[str, Any], objective: Any) -> None:
    freq = arguments.get("validation_freq", 1)
    if freq == 1 or objective is None:
        return
    uses_val = any(o.name.startswith("val_") for o in objective_list(objective))
    if uses_val:
        raise InvalidParameterError(
            "`validation_freq` must be 1 when the objective is a validation "
            "metric: the validation metrics are then missing on some epochs and "
            "KerasTuner fails the trial with a KeyError. "
            f"{received('validation_freq', freq)}"
        )


def _monitor_callbacks(callbacks: list[Any]) -> list[Any]:
    import keras

    kinds = (
        keras.callbacks.EarlyStopping,
        keras.callbacks.ModelCheckpoint,
        keras.callbacks.ReduceLROnPlateau,
    )
    found = []
    for callback in callbacks:
        if not isinstance(callback, kinds):
            continue
        if isinstance(callback, keras.callbacks.ModelCheckpoint) and not getattr(
            callback, "save_best_only", False
        ):
            continue
        found.append(callback)
    return found


def _check_callbacks_copyable(callbacks: Any) -> list[Any]:
    if callbacks is None:
        return []
    if not isinstance(callbacks, (list, tuple)):
        raise invalid_parameter(
            "callbacks", callbacks, "a list of keras.callbacks.Callback objects"
        )
    try:
        copy.deepcopy(list(callbacks))
    except Exception as error:
        raise _uncopyable_callbacks(callbacks, error) from error
    return list(callbacks)


def _callback_direction(callback: Any, model: Any) -> str | None:
    """The direction Keras itself will use for a monitor callback on ``model``."""
    if callback.mode in ("min", "max"):
        return callback.mode
    probe = copy.copy(callback)
    probe.monitor_op = None
    probe.set_model(model)
    set_op = getattr(probe, "_set_monitor_op", None)
    if set_op is None:
        return None
    try:
        set_op()
    except ValueError as error:
        raise InvalidParameterError(
            f"{type(callback).__name__}(monitor={callback.monitor!r}, mode='auto') "
            "cannot tell whether to minimize or maximize that key and Keras would "
            f"fail every trial: {error} "
            f"{received('mode', callback.mode)}"
        ) from error
    import keras

    return "max" if probe.monitor_op is keras.ops.greater else "min"


def _check_monitors(
    callbacks: list[Any], keys: list[str] | None, model: Any, config: _Config
) -> None:
    for callback in _monitor_callbacks(callbacks):
        name = type(callback).__name__
        monitor = callback.monitor
        if keys is not None and monitor not in keys:
            raise InvalidParameterError(
                f"{name} monitors {monitor!r}, which the model does not log, so "
                f"it would never act (Keras only warns).{did_you_mean(monitor, keys)}"
                f" The model logs: {keys}. {received('monitor', monitor)}"
            )
        expected = metric_direction(monitor)
        actual = (
            callback.mode if model is None else _callback_direction(callback, model)
        )
        if expected is not None and actual in ("min", "max") and actual != expected:
            raise InvalidParameterError(
                f"{name} monitors {monitor!r} with mode={actual!r}, but that key "
                f"should be {'maximized' if expected == 'max' else 'minimized'}: "
                f"pass mode={expected!r}. {received('mode', callback.mode)}"
            )
        if config.schedule is not None and isinstance(
            callback, _early_stopping_class()
        ):
            _check_patience(callback, config.schedule)


def _early_stopping_class() -> type:
    import keras

    return keras.callbacks.EarlyStopping


def _check_patience(callback: Any, schedule: HyperbandSchedule) -> None:
    patience = callback.patience
    first = schedule.first_round_epochs
    if patience >= schedule.max_epochs:
        warn(
            f"EarlyStopping(patience={patience}) can never stop a Hyperband trial: "
            f"no trial trains more than max_epochs={schedule.max_epochs} epochs. "
            "Lower `patience` or remove the callback.",
            UserWarning,
        )
    elif patience + 1 < first:
        warn(
            f"EarlyStopping(patience={patience}) may stop trials before "
            f"Hyperband's first round of {first} epochs ends, so the bracket "
            "compares models trained for different budgets. Consider "
            f"patience >= {first - 1}.",
            UserWarning,
        )


def _default_model(tuner: Any) -> Any:
    """The model of the default hyperparameters, or None when it is too large."""
    hp = tuner.oracle.get_space()
    try:
        return tuner._try_build(hp)
    except keras_tuner.errors.FailedTrialError:
        return None  # max_model_size: KerasTuner fails such trials one by one
    except keras_tuner.errors.FatalTypeError as error:
        raise HypermodelBuildError(
            "The hypermodel must return a Keras model: building it with the "
            "default hyperparameters returned something else, so every trial "
            "would fail. Expected the model-building function, or "
            "HyperModel.build(), to return a valid Keras Model instance (did "
            f"it forget `return model`?). {error}"
        ) from error
    except Exception as error:
        raise InvalidParameterError(
            "Building the model with the default hyperparameters failed, so "
            f"every trial would fail: {type(error).__name__}: {error}"
        ) from error


def _check_objective_given(objective: Any) -> None:
    if objective is not None:
        return
    raise MissingObjectiveError(
        "`objective` is None, so KerasTuner scores each trial by the float that "
        "`run_trial` or `HyperModel.fit` returns, but this search uses the "
        "default fit, which returns a History: every trial would fail. Pass "
        "the metric to optimize, e.g. objective='val_loss' or "
        "objective='val_accuracy', or return a float from a custom "
        "`HyperModel.fit`. Received: objective=None"
    )


def _logged_keys(model: Any, arguments: dict[str, Any]) -> list[str] | None:
    batch = sample_batch(
        arguments.get("x"), arguments.get("y"), arguments.get("sample_weight")
    )
    if batch is None:
        return None
    is_array = hasattr(arguments.get("x"), "shape")
    model.run_eagerly = True  # a throwaway model: skip graph tracing, ~2x faster
    try:
        return discover_logged_keys(model, batch)
    except Exception as error:
        if not is_array:
            return None  # an unbatched dataset or exotic input: skip this check
        raise InvalidParameterError(
            "The model built with the default hyperparameters cannot evaluate a "
            "few samples of the search data, so every trial would fail: "
            f"{type(error).__name__}: {error}"
        ) from error


def _check_labels(model: Any, arguments: dict[str, Any]) -> None:
    y = arguments.get("y")
    if y is None and hasattr(arguments.get("x"), "class_mode"):
        y = arguments["x"]  # a DirectoryIterator carries its labels
    if y is None or not (hasattr(y, "shape") or isinstance(y, (dict, list, tuple))):
        return  # datasets and generators are not read here
    try:
        from tunekit.labels._model_checks import check_model_labels
    except ImportError:
        return
    check_model_labels(model, y)


def _check_search(tuner: Any, fit_args: tuple, fit_kwargs: dict[str, Any]) -> None:
    from tunekit.labels._fit_checks import check_fit_weights, check_search_data

    config: _Config = tuner._tunekit
    arguments = _fit_arguments(fit_args, fit_kwargs)
    check_fit_weights(arguments)  # class/sample weights, before any model is built
    _check_hyperband_epochs(config, arguments)
    callbacks = _check_callbacks_copyable(arguments.get("callbacks"))
    keys = None
    model = None
    if _uses_default_run_trial(tuner) and tuner.hypermodel is not None:
        model = _default_model(tuner)
    if _uses_default_fit(tuner):
        _check_objective_given(config.objective)
        validation = _has_validation(arguments)
        _check_validation_freq(arguments, config.objective)
        validate_objective(config.objective, validation=validation)
        if model is not None:
            check_search_data(model, arguments)  # input shapes, unlabelled datasets
            _check_labels(model, arguments)
            train_keys = _logged_keys(model, arguments)
            if train_keys is not None:
                validate_objective(config.objective, train_keys, validation=validation)
                keys = sorted(
                    set(train_keys)
                    | ({f"val_{k}" for k in train_keys} if validation else set())
                )
    _check_monitors(callbacks, keys, model, config)
    if config.schedule is not None and config.verbose:
        print(config.schedule)


# --------------------------------------------------------------------------
# After the search
# --------------------------------------------------------------------------


def _failures(tuner: Any) -> list[Any]:
    trials = local_trials(tuner.oracle)
    if trials is None:  # a distributed worker: the chief holds the trials
        return []
    ordered = [trials[i] for i in tuner.oracle.end_order if i in trials]
    ordered += [t for t in trials.values() if t not in ordered]
    return [t for t in ordered if t.status in ("FAILED", "INVALID")]


def _search_failed(tuner: Any, detail: str = "") -> SearchFailedError:
    failures = _failures(tuner)
    first = failures[0].message if failures and failures[0].message else detail
    trials = local_trials(tuner.oracle)
    if trials is None:  # a distributed worker: the chief holds the trials
        message = (
            "The search stopped after too many consecutive failed trials (the "
            "chief's count). The first failure was:\n"
            + (first or "(no message recorded)").strip()
        )
    else:
        completed = sum(t.status == "COMPLETED" for t in trials.values())
        message = (
            f"The search ended with {completed} completed trial(s) out of "
            f"{len(trials)}; {len(failures)} failed. The first failure "
            "was:\n" + (first or "(no message recorded)").strip()
        )
    error = SearchFailedError(message)
    error.first_failure = first  # type: ignore[attr-defined]
    error.failed_trials = [t.trial_id for t in failures]  # type: ignore[attr-defined]
    return error


def _raise_if_nothing_completed(tuner: Any) -> None:
    trials = local_trials(tuner.oracle)
    if trials is None:  # a distributed worker: the chief holds the trials
        return
    from keras_tuner.src.distribute import utils as dist_utils

    if dist_utils.is_chief_oracle():
        return
    if any(t.status == "COMPLETED" for t in trials.values()):
        return
    raise _search_failed(tuner)
