"""Refit the best hyperparameters on all the data; load trial models cleanly.

:func:`refit_best` rebuilds the best trial's model (fresh weights) and trains
it on the training and validation data together for the trial's best epoch
count, recorded during the search (``EarlyStopping`` included), optionally
scaled by the data-size ratio; with the search's callbacks minus those that
need validation data, and the trial's tuned fit arguments.

:func:`load_trial_model` is the tuners' ``load_model``: KerasTuner loads a
checkpoint into a model whose optimizer has no variables yet, so Keras 3
warns "Skipping variable loading for optimizer" and drops the optimizer
state; here the optimizer is built first, so the state loads and nothing
warns.

:func:`save_class_names` / :func:`load_class_names` keep the class names
inside a ``.keras`` file, so a saved model predicts labels, not indices.
"""

from __future__ import annotations

import json
import os
import zipfile
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from tunekit._atomic import replacing, unwritable
from tunekit._constraints import (
    BOOL,
    POSITIVE_INT,
    declare_constraints,
    validate_params,
)
from tunekit._errors import InvalidParameterError
from tunekit._validation import invalid_parameter, received
from tunekit._warnings import warn
from tunekit.tuners._cross_validation import is_in_memory
from tunekit.tuners._fit_args import current_plan
from tunekit.tuners._fit_args import samples as sample_count
from tunekit.tuners._state import tuner_state
from tunekit.tuners._trial_records import load_record

__all__ = [
    "load_class_names",
    "load_trial_model",
    "refit_best",
    "save_class_names",
    "save_model_file",
]

CLASS_NAMES_ENTRY = "tunekit_class_names.json"


# --------------------------------------------------------------------------
# loading a trial's model
# --------------------------------------------------------------------------


def _without_tuner_values(hyperparameters: Any) -> Any:
    """A copy without Hyperband's ``tuner/*`` values (no checkpoint to resume)."""
    copied = hyperparameters.copy()
    copied.values = {
        k: v for k, v in hyperparameters.values.items() if not k.startswith("tuner/")
    }
    return copied


def _build_optimizer(model: Any) -> None:
    optimizer = getattr(model, "optimizer", None)
    if optimizer is None or getattr(optimizer, "built", True):
        return
    optimizer.build(model.trainable_variables)


def load_trial_model(tuner: Any, trial: Any) -> Any:
    """Build ``trial``'s model and load its best checkpoint, optimizer included."""
    from tunekit.tuners._kerastuner import config, utils

    # Hyperband's build would first load the previous round's checkpoint.
    model = tuner._try_build(_without_tuner_values(trial.hyperparameters))
    if config.multi_backend() and not model.built:
        model.build_from_config(
            utils.load_json(tuner._get_build_config_fname(trial.trial_id))
        )
    load_checkpoint(tuner, model, trial.trial_id)
    return model


def load_checkpoint(tuner: Any, model: Any, trial_id: str) -> None:
    """Load ``trial_id``'s best checkpoint into ``model``, optimizer state included.

    The optimizer is built first, so its saved variables (step count, Adam
    moments, a schedule's position) load instead of Keras 3 warning
    "Skipping variable loading for optimizer" and starting it afresh.
    """
    _build_optimizer(model)
    model.load_weights(tuner._get_checkpoint_fname(trial_id))


# --------------------------------------------------------------------------
# refit
# --------------------------------------------------------------------------


def _needs_validation(callback: Any) -> bool:
    monitor = getattr(callback, "monitor", None)
    return isinstance(monitor, str) and monitor.startswith("val_")


def _refit_callbacks(callbacks: Sequence[Any]) -> tuple[list[Any], list[str]]:
    import copy

    kept, dropped = [], []
    for callback in callbacks:
        if _needs_validation(callback):
            dropped.append(f"{type(callback).__name__}(monitor={callback.monitor!r})")
        else:
            kept.append(copy.deepcopy(callback))
    return kept, dropped


def _pick_trial(tuner: Any, trial: Any) -> Any:
    oracle = tuner.oracle
    if trial is None:
        best = [t for t in oracle.get_best_trials(1) if t.status == "COMPLETED"]
        if not best:
            raise InvalidParameterError(
                "`refit_best` needs a completed trial, but the search has none "
                f"({len(oracle.trials)} trial(s)). Run `search()` first."
            )
        return best[0]
    trial_id = getattr(trial, "trial_id", trial)
    if str(trial_id) not in oracle.trials:
        raise invalid_parameter(
            "trial",
            trial,
            f"a trial (or trial id) of this search, one of {sorted(oracle.trials)}",
        )
    return oracle.trials[str(trial_id)]


def _concatenate(a: Any, b: Any) -> Any:
    if isinstance(a, Mapping):
        return {key: _concatenate(a[key], b[key]) for key in a}
    if isinstance(a, (list, tuple)) and a and hasattr(a[0], "shape"):
        return type(a)(_concatenate(p, q) for p, q in zip(a, b))
    return np.concatenate([np.asarray(a), np.asarray(b)])


def _is_array_data(data: Any) -> bool:
    return data is not None and is_in_memory(data)


def _chained(first: Any, second: Any) -> Any:
    """One PyDataset yielding the batches of ``first`` then of ``second``."""
    import keras

    class _Chained(keras.utils.PyDataset):
        def __init__(self) -> None:
            super().__init__()
            self.parts = (first, second)

        def __len__(self) -> int:
            return len(first) + len(second)

        def __getitem__(self, index: int) -> Any:
            if index < len(first):
                return first[index]
            return second[index - len(first)]

        def on_epoch_end(self) -> None:
            for part in self.parts:
                part.on_epoch_end()

    chained = _Chained()
    chained.samples = (_count(first) or 0) + (_count(second) or 0)
    return chained


def _count(data: Any) -> int | None:
    return sample_count(data)


def _joined_data(
    x: Any, y: Any, validation_data: Any, sample_weight: Any
) -> tuple[Any, Any, Any]:
    if validation_data is None:
        return x, y, sample_weight
    if isinstance(validation_data, tuple):
        vx, vy, vw = (*validation_data, None, None)[:3]
    else:
        vx, vy, vw = validation_data, None, None
    if _is_array_data(x) and y is not None and vy is not None:
        if (sample_weight is None) != (vw is None):
            raise InvalidParameterError(
                "Give sample weights for both the training and the validation "
                "data, or for neither: they are refit together."
            )
        weights = None if sample_weight is None else _concatenate(sample_weight, vw)
        return _concatenate(x, vx), _concatenate(y, vy), weights
    try:
        import keras

        if isinstance(x, keras.utils.PyDataset) and isinstance(
            vx, keras.utils.PyDataset
        ):
            return _chained(x, vx), None, None
    except ImportError:  # pragma: no cover
        pass
    if hasattr(x, "concatenate") and hasattr(vx, "element_spec"):
        return x.concatenate(vx), None, None  # tf.data
    raise InvalidParameterError(
        "`refit_best` joins the training and validation data itself for arrays "
        "(x, y), PyDatasets (such as DirectoryIterator) and tf.data datasets, "
        f"but got x of type {type(x).__name__} and validation data of type "
        f"{type(vx).__name__}. Join them yourself and pass "
        "`validation_data=None`. "
        f"{received('validation_data', type(validation_data).__name__)}"
    )


def _epochs(
    record: Any, trial: Any, epochs: Any, scale_epochs: bool, samples: int | None
) -> int:
    if epochs is not None:
        if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
            raise invalid_parameter("epochs", epochs, "an integer >= 1 or None")
        return epochs
    if record is None or record.refit_epochs is None:
        raise InvalidParameterError(
            f"Trial {trial.trial_id} has no recorded best epoch (it was not run by "
            "a tunekit tuner, or its objective was never logged per epoch), so "
            f"`refit_best` cannot tell how long to train. Pass `epochs=`. "
            f"{received('epochs', epochs)}"
        )
    count = record.refit_epochs
    if scale_epochs:
        searched = record.train_samples
        if not searched or not samples:
            raise InvalidParameterError(
                "`scale_epochs=True` needs the number of samples of the search and "
                "of the refit, and one of them is unknown for this data. Pass "
                f"`epochs=` instead. {received('scale_epochs', scale_epochs)}"
            )
        count = max(1, round(count * samples / searched))
    return count


#: ``refit_best``'s simple parameters; the tuner, data, callbacks and trial
#: have their own checks.
REFIT_CONSTRAINTS: dict[str, Any] = {
    "epochs": [*POSITIVE_INT, None],
    "scale_epochs": BOOL,
}


@declare_constraints(REFIT_CONSTRAINTS)
def refit_best(
    tuner: Any,
    x: Any,
    y: Any = None,
    *,
    validation_data: Any = None,
    epochs: int | None = None,
    scale_epochs: bool = False,
    callbacks: Sequence[Any] | None = None,
    trial: Any = None,
    sample_weight: Any = None,
    **fit_kwargs: Any,
) -> Any:
    """Train the best hyperparameters on training + validation data; return the model.

    The model is rebuilt from the best trial's hyperparameters (fresh
    weights, seeded from the tuner's ``seed``) and trained on ``x, y`` joined
    with ``validation_data`` for the trial's best epoch count: the mean over
    the trial's models (folds, executions) of ``best_epoch + 1``, the epoch
    KerasTuner scored it at, with or without ``EarlyStopping``.

    Parameters
    ----------
    tuner : tunekit.RandomSearch, tunekit.BayesianOptimization or tunekit.Hyperband
        A tuner after ``search()`` (or reloaded from its project).
    x, y : array-like, PyDataset or tf.data.Dataset
        The training data of the search (for a ``cv`` search: all its data).
    validation_data : tuple or dataset, optional
        The search's validation data, joined to ``x, y`` (arrays are
        concatenated, PyDatasets such as ``DirectoryIterator`` chained,
        tf.data datasets concatenated). None: train on ``x, y`` as given.
    epochs : int, optional
        Train this many epochs instead of the recorded count.
    scale_epochs : bool, default=False
        Multiply the epoch count by the data-size ratio (refit samples /
        samples each searched model trained on, e.g. 1.25 after an 80/20
        split), the common heuristic for more data. By default the count is
        kept: each epoch already has more steps.
    callbacks : list of keras.callbacks.Callback, optional
        Default: the callbacks given to the last ``search()``. Callbacks that
        monitor a validation metric (``monitor="val_..."``) are left out,
        with a warning when you passed them here.
    trial : keras_tuner Trial or str, optional
        Refit this trial instead of the best one.
    sample_weight : array-like, optional
        Weights of ``x`` (give the validation weights in ``validation_data``).
    **fit_kwargs
        Other ``fit`` arguments. Default: the search's ``batch_size``,
        ``shuffle``, ``class_weight`` and ``verbose``, then the trial's tuned
        fit arguments (a tuned ``class_weight`` strategy is recomputed on
        the joined labels).

    Returns
    -------
    keras.Model
        The refit model; ``model.history`` holds its training history.

    Examples
    --------
    >>> import tempfile, keras, numpy as np, tunekit
    >>> from sklearn.datasets import load_digits
    >>> digits = load_digits()
    >>> x, y = (digits.data / 16).astype("float32")[:200], digits.target[:200]
    >>> def build(hp):
    ...     model = keras.Sequential([keras.Input((64,)),
    ...                               keras.layers.Dense(10, "softmax")])
    ...     model.compile(keras.optimizers.Adam(hp.Choice("lr", [1e-2, 3e-2])),
    ...                   "sparse_categorical_crossentropy", metrics=["accuracy"])
    ...     return model
    >>> tuner = tunekit.RandomSearch(build, "val_accuracy", max_trials=2, seed=0,
    ...                              directory=tempfile.mkdtemp(), verbose=False)
    >>> tuner.search(x[:150], y[:150], validation_data=(x[150:], y[150:]),
    ...              epochs=3, verbose=0)
    >>> model = tunekit.refit_best(tuner, x[:150], y[:150],
    ...                            validation_data=(x[150:], y[150:]), verbose=0)
    >>> len(model.history.history["loss"]) <= 3
    True
    """
    from tunekit._seeding import derived_seed, restored_random_state, seed_all
    from tunekit.tuners._fit_hyperparameters import class_weight_for

    validate_params(REFIT_CONSTRAINTS, {"epochs": epochs, "scale_epochs": scale_epochs})
    chosen = _pick_trial(tuner, trial)
    record = load_record(tuner, str(chosen.trial_id))
    data_x, data_y, weights = _joined_data(x, y, validation_data, sample_weight)
    count = _epochs(record, chosen, epochs, scale_epochs, _count(data_x))
    plan = current_plan(tuner)
    given_callbacks = callbacks is not None
    kept, dropped = _refit_callbacks(plan.callbacks if callbacks is None else callbacks)
    if dropped and given_callbacks:
        warn(
            f"refit_best leaves out {dropped}: they monitor validation metrics and "
            "the refit has no validation data.",
            UserWarning,
        )
    kwargs: dict[str, Any] = dict(plan.refit_kwargs)
    tuned = dict(record.fit_arguments) if record is not None else {}
    tuned.pop("epochs", None)
    if "class_weight" in tuned:
        tuned["class_weight"] = class_weight_for(tuned["class_weight"], data_x, data_y)
    kwargs.update(tuned)
    kwargs.update(fit_kwargs)
    for name in ("validation_data", "validation_split", "initial_epoch"):
        if name in kwargs:
            raise invalid_parameter(
                name, kwargs[name], "left out", "A refit has no validation data."
            )
    if weights is not None:
        kwargs["sample_weight"] = weights
    state = tuner_state(tuner)
    seed = None if state is None else state.seed
    refit_seed = None if seed is None else derived_seed(seed, chosen.trial_id, "refit")
    hyperparameters = _without_tuner_values(chosen.hyperparameters)
    with restored_random_state(active=refit_seed is not None):
        import keras

        keras.backend.clear_session()
        if refit_seed is not None:
            seed_all(refit_seed)
        model = tuner._build_hypermodel(hyperparameters)
        fit_args = (data_x,) if data_y is None else (data_x, data_y)
        model.fit(*fit_args, epochs=count, callbacks=kept, **kwargs)
    return model


# --------------------------------------------------------------------------
# class names inside a .keras file
# --------------------------------------------------------------------------


def save_class_names(path: str | os.PathLike[str], class_names: Sequence[str]) -> None:
    """Store ``class_names`` inside the ``.keras`` file at ``path``.

    Keras ignores the extra archive entry when loading; read it back with
    :func:`tunekit.load_class_names`.
    """
    names = [str(name) for name in class_names]
    with zipfile.ZipFile(os.fspath(path), "a") as archive:
        if CLASS_NAMES_ENTRY in archive.namelist():
            raise InvalidParameterError(
                f"{os.fspath(path)!r} already holds class names; save the model "
                "again before storing new ones."
            )
        archive.writestr(CLASS_NAMES_ENTRY, json.dumps({"class_names": names}))


def save_model_file(
    model: Any,
    path: str | os.PathLike[str],
    class_names: Sequence[str] | None = None,
    *,
    argument: str = "path",
) -> None:
    """Save ``model`` (and ``class_names``) to the ``.keras`` file at ``path``.

    The model is written to a temporary ``.keras`` file in the same folder and
    renamed into place, so a kill, a full disk or an error during the save
    leaves the previous file at ``path`` as it was.

    Raises
    ------
    UnwritablePathError
        When the folder cannot be written; ``argument`` names the option that
        chose ``path`` (``--save-model``).

    Examples
    --------
    >>> import tempfile, os, keras, tunekit
    >>> from tunekit.tuners._refit import save_model_file
    >>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(2)])
    >>> path = os.path.join(tempfile.mkdtemp(), "model.keras")
    >>> save_model_file(model, path, ["cat", "dog"])
    >>> tunekit.load_class_names(path), os.listdir(os.path.dirname(path))
    (['cat', 'dog'], ['model.keras'])
    """
    try:
        with replacing(path) as temporary:
            model.save(temporary)
            if class_names is not None:
                save_class_names(temporary, class_names)
    except OSError as error:
        raise unwritable(
            path,
            error,
            way_out=f"Pass a `{argument}` in a folder you can write to.",
            source=f"{argument}={os.fspath(path)!r}",
        ) from error


def load_class_names(path: str | os.PathLike[str]) -> list[str] | None:
    """The class names stored in a ``.keras`` file (index ``i`` is class ``i``).

    Returns None when the file holds none. ``tunekit tune --save-model``
    stores them, so ``names[model.predict(x).argmax(-1)]`` gives labels.

    Examples
    --------
    >>> import tempfile, os, keras, tunekit
    >>> from tunekit.tuners._refit import save_class_names
    >>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(2)])
    >>> path = os.path.join(tempfile.mkdtemp(), "model.keras")
    >>> model.save(path)
    >>> save_class_names(path, ["cat", "dog"])
    >>> tunekit.load_class_names(path)
    ['cat', 'dog']
    >>> keras.models.load_model(path).output_shape
    (None, 2)
    """
    try:
        with zipfile.ZipFile(os.fspath(path)) as archive:
            if CLASS_NAMES_ENTRY not in archive.namelist():
                return None
            data = json.loads(archive.read(CLASS_NAMES_ENTRY))
    except (OSError, zipfile.BadZipFile) as error:
        raise invalid_parameter(
            "path", os.fspath(path), "a .keras file saved by Keras 3", str(error)
        ) from error
    return [str(name) for name in data.get("class_names", [])]
