"""tunekit's checks before any training: at construction and in ``search()``.

Each check raises a tunekit error that names the argument and the fix, before
a folder is written or an epoch trained. A leaf of the tuners area: the tuner
classes and the trial runner import it; it imports neither.
"""

from __future__ import annotations

import copy
import numbers
import os
from typing import TYPE_CHECKING, Any

import keras_tuner

from tunekit._errors import (
    HypermodelBuildError,
    InvalidParameterError,
    MissingObjectiveError,
    StaleProjectError,
    UncopyableCallbackError,
)
from tunekit._validation import did_you_mean, invalid_parameter, received
from tunekit._warnings import warn
from tunekit.tuners._cross_validation import plan_cross_validation
from tunekit.tuners._distributed import known_trials
from tunekit.tuners._fit_args import (
    SearchPlan,
    fit_arguments,
    uses_default_fit,
    uses_default_run_trial,
)
from tunekit.tuners._fit_hyperparameters import (
    check_search_conflicts,
    fit_hyperparameter_names,
)
from tunekit.tuners._objective import (
    discover_logged_keys,
    metric_direction,
    objective_list,
    sample_batch,
    validate_objective,
)
from tunekit.tuners._schedule import HyperbandSchedule
from tunekit.tuners._trial_records import load_record

if TYPE_CHECKING:
    from tunekit.tuners._state import TunerState

__all__ = [
    "check_directory",
    "check_hypermodel",
    "check_kwargs",
    "check_search",
    "project_path",
    "split_search_arguments",
    "uncopyable_callbacks",
]


# search() arguments that stay with a refit (the data-dependent ones do not).
_REFIT_KWARGS = ("batch_size", "shuffle", "class_weight", "verbose")


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


# KerasTuner raises its own FatalTypeError / FatalValueError in these cases
# (and stops a search at once on them): tunekit's errors are raised as both.
class _FatalUncopyableCallbackError(
    UncopyableCallbackError, keras_tuner.errors.FatalValueError
):
    """An :class:`~tunekit.UncopyableCallbackError` KerasTuner treats as fatal."""


class _FatalHypermodelBuildError(
    HypermodelBuildError, keras_tuner.errors.FatalTypeError
):
    """A :class:`~tunekit.HypermodelBuildError` KerasTuner treats as fatal."""


class _FatalMissingObjectiveError(
    MissingObjectiveError, keras_tuner.errors.FatalTypeError
):
    """A :class:`~tunekit.MissingObjectiveError` KerasTuner treats as fatal."""


def uncopyable_callbacks(callbacks: Any, error: Exception) -> UncopyableCallbackError:
    """The error for callbacks KerasTuner could not deep-copy, naming the culprit."""
    culprit = callbacks
    for callback in callbacks if isinstance(callbacks, (list, tuple)) else ():
        try:
            copy.deepcopy(callback)
        except Exception:
            culprit = callback
            break
    return _FatalUncopyableCallbackError(
        f"Callback {type(culprit).__name__} cannot be deep-copied "
        f"({type(error).__name__}: {error}). KerasTuner copies every "
        "callback for each trial, since they are reused across trials, and "
        "would stop the search. All callbacks used during a search should be "
        "deep-copyable: create the callback without unpicklable state (open "
        f"files, locks, lambdas capturing models). {received('callbacks', callbacks)}"
    )


# --------------------------------------------------------------------------
# Construction
# --------------------------------------------------------------------------


def check_hypermodel(hypermodel: Any) -> None:
    """Refuse a hypermodel that is neither a function of ``hp`` nor a HyperModel."""
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


def project_path(directory: Any, project_name: Any) -> str:
    """The project folder KerasTuner will use (its defaults included)."""
    base = "." if directory is None else os.fspath(directory)
    return os.path.join(base or ".", str(project_name or "untitled_project"))


def check_directory(directory: Any, project_name: Any) -> None:
    """Refuse a ``directory``/``project_name`` KerasTuner could not use."""
    if project_name is not None and not isinstance(project_name, str):
        raise invalid_parameter(
            "project_name", project_name, "a folder name (a str) or None"
        )
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


def check_verbose(verbose: Any) -> None:
    """Refuse a ``verbose`` that is neither a bool nor a Keras verbosity level."""
    if not isinstance(verbose, (bool, int)) or verbose < 0:
        raise invalid_parameter(
            "verbose", verbose, "True or False (or a Keras verbosity level 0, 1, 2)"
        )


def check_non_negative(name: str, value: Any) -> None:
    """Refuse a ``value`` for ``name`` that is not a real number >= 0."""
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Real)
        or not float(value) >= 0
    ):
        raise invalid_parameter(name, value, "a number >= 0")


def check_kwargs(caller: str, kind: str, kwargs: dict[str, Any]) -> None:
    """Refuse keyword arguments KerasTuner's tuners and oracles do not take."""
    allowed = _TUNER_KWARGS | ({"trial_cap"} if kind == "hyperband" else set())
    unknown = sorted(set(kwargs) - allowed)
    if not unknown:
        return
    name = unknown[0]
    hint = did_you_mean(name, allowed)
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


# --------------------------------------------------------------------------
# search()
# --------------------------------------------------------------------------


def _check_hyperband_epochs(config: TunerState, arguments: dict[str, Any]) -> None:
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
        raise uncopyable_callbacks(callbacks, error) from error
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
    callbacks: list[Any], keys: list[str] | None, model: Any, config: TunerState
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
        raise _FatalHypermodelBuildError(
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
    raise _FatalMissingObjectiveError(
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

    config: TunerState = tuner._tunekit
    arguments = fit_arguments(fit_args, fit_kwargs)
    check_fit_weights(arguments)  # class/sample weights, before any model is built
    _check_hyperband_epochs(config, arguments)
    callbacks = _check_callbacks_copyable(arguments.get("callbacks"))
    keys = None
    model = None
    if uses_default_run_trial(tuner) and tuner.hypermodel is not None:
        model = _default_model(tuner)
    if uses_default_fit(tuner):
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


def split_search_arguments(
    fit_args: tuple[Any, ...], fit_kwargs: dict[str, Any]
) -> tuple[tuple[Any, ...], dict[str, Any], tuple[Any, Any] | None]:
    """Pop ``cv`` and ``groups`` from ``search()``'s arguments.

    Returns the arguments for KerasTuner's ``search`` and ``(cv, groups)``,
    or None without ``cv``. With ``cv`` the data arguments are passed by name
    (each fold replaces them).
    """
    if "cv" not in fit_kwargs and "groups" not in fit_kwargs:
        return fit_args, fit_kwargs, None
        fit_kwargs = dict(fit_kwargs)
    cv = fit_kwargs.pop("cv", None)
    groups = fit_kwargs.pop("groups", None)
    if cv is None:
        if groups is not None:
            raise _groups_without_cv(groups)
        return fit_args, fit_kwargs, None
    return (), fit_arguments(fit_args, fit_kwargs), (cv, groups)


def check_search(
    tuner: Any,
    fit_args: tuple[Any, ...],
    fit_kwargs: dict[str, Any],
    request: tuple[Any, Any] | None,
) -> None:
    """tunekit's search checks, plus ``cv`` and tuned fit arguments.

    Runs before any training and stores the :class:`SearchPlan` on the tuner.
    """
    arguments = fit_arguments(fit_args, fit_kwargs)
    state: TunerState = tuner._tunekit
    kind = state.kind
    declared = state.fit_hyperparameters or {}
    space = tuner.oracle.hyperparameters
    names = fit_hyperparameter_names(
        space, declared, default_fit=uses_default_fit(tuner)
    )
    check_search_conflicts(names, arguments, kind, space)
    plan = SearchPlan(
        fit_names=names,
        callbacks=list(arguments.get("callbacks") or []),
        refit_kwargs={k: arguments[k] for k in _REFIT_KWARGS if k in arguments},
    )
    if request is None:
        _check_search(tuner, fit_args, fit_kwargs)
    else:
        cv, groups = request
        plan.cv = plan_cross_validation(
            cv, groups, arguments, kind=kind, seed=state.seed
        )
        # Check as the trials will train: on the first fold.
        _check_search(tuner, (), plan.cv.fold_kwargs(0, arguments))
    _check_same_validation(tuner, plan)
    state.plan = plan


def _check_same_validation(tuner: Any, plan: SearchPlan) -> None:
    """A resumed project keeps its folds: never mix cv and non-cv scores."""
    wanted = None if plan.cv is None else plan.cv.describe()
    for trial in known_trials(tuner.oracle):
        record = load_record(tuner, str(trial.trial_id))
        if record is None or record.cv == wanted:
            continue
        before = "no cv" if record.cv is None else record.cv["splitter"]
        now = "no cv" if wanted is None else wanted["splitter"]
        raise StaleProjectError(
            f"The project at {tuner.project_dir!r} scored trial {trial.trial_id} "
            f"with {before}, but this search uses {now}: the scores would not be "
            "comparable. Search with the same `cv` (and data) as before, pass "
            "`overwrite=True` to start afresh, or choose a new `project_name`."
        )


def _groups_without_cv(groups: Any) -> Exception:
    return invalid_parameter(
        "groups",
        f"<{type(groups).__name__}>",
        "given together with `cv=`",
        "Groups only decide how cross-validation folds are split; pass `cv=5` "
        "(GroupKFold) or a group splitter.",
    )
