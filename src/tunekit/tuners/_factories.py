"""tunekit's factories: hyperband, bayesian_optimization and random_search.

Each is one call of its tuner class (:mod:`tunekit.tuners._tuners`) after
tunekit's own argument check; the defaults where factories and classes
deliberately differ are listed in ``docs/tuners.md`` ("Classes and
factories") and tested in ``tests/tuners/test_construction.py``.
"""

from __future__ import annotations

import os
from typing import Any

from tunekit._constraints import declare_constraints
from tunekit.tuners._preflight import check_kwargs
from tunekit.tuners._tuners import (
    BayesianOptimization,
    Hyperband,
    RandomSearch,
    tuner_class,
)

__all__ = ["bayesian_optimization", "hyperband", "random_search"]


def _build_tuner(
    kind: str, hypermodel: Any, objective: Any, kwargs: dict[str, Any], **named: Any
) -> Any:
    """What the factories share: their own argument check, then the class."""
    check_kwargs(kind, kind, kwargs)
    return tuner_class(kind)(hypermodel, objective, **named, **kwargs)


@declare_constraints(Hyperband._parameter_constraints)  # checked by the class it builds
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

    Notes
    -----
    One call of :class:`tunekit.Hyperband`, whose defaults are KerasTuner's; this
    factory differs on purpose in ``hypermodel`` (required),
    ``objective="val_accuracy"``, ``max_epochs`` (a required keyword) and
    ``initial_trials="defaults"`` (the class: ``None``, ``None``,
    ``max_epochs=100``, ``None``; the table in ``docs/tuners.md``, "Classes and
    factories").

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


@declare_constraints(
    BayesianOptimization._parameter_constraints
)  # checked by the class it builds
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

    Notes
    -----
    One call of :class:`tunekit.BayesianOptimization`, whose defaults are
    KerasTuner's; this factory differs on purpose in ``hypermodel`` (required),
    ``objective="val_accuracy"``, ``max_trials`` (a required keyword) and
    ``initial_trials="defaults"`` (the class: ``None``, ``None``,
    ``max_trials=10``, ``None``; the table in ``docs/tuners.md``, "Classes and
    factories").

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


@declare_constraints(
    RandomSearch._parameter_constraints
)  # checked by the class it builds
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

    Notes
    -----
    One call of :class:`tunekit.RandomSearch`, whose defaults are KerasTuner's; this
    factory differs on purpose in ``hypermodel`` (required),
    ``objective="val_accuracy"``, ``max_trials`` (a required keyword) and
    ``initial_trials="defaults"`` (the class: ``None``, ``None``,
    ``max_trials=10``, ``None``; the table in ``docs/tuners.md``, "Classes and
    factories").

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
