"""Drop-in scikit-learn estimators around Keras build functions.

:class:`KerasClassifier` and :class:`KerasRegressor` wrap a function (or a
KerasTuner ``HyperModel``) that builds and compiles a Keras model. They differ
from the wrappers they replace in four ways:

* the build function's arguments *are* estimator parameters, so ``clone``,
  ``get_params``/``set_params`` and ``GridSearchCV`` see them, and a misspelled
  name fails with a did-you-mean hint instead of being silently ignored;
* every ``fit`` starts from a fresh model after ``keras.backend.clear_session()``
  (``warm_start=True`` is the only way to continue training), seeds from
  ``random_state`` and restores every global random state it touched;
* the previous model and the TensorFlow graphs traced for it are released, so
  thousands of fits in one process do not grow memory without bound;
* targets are encoded for whatever loss the build function compiled with, and
  the scikit-learn tags are right on scikit-learn >= 1.6 (``is_classifier``,
  stratified cross-validation).
"""

from __future__ import annotations

import contextlib
import copy
import inspect
import random
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.utils import check_random_state
from sklearn.utils.class_weight import compute_sample_weight
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import (
    _check_sample_weight,
    check_is_fitted,
    column_or_1d,
    validate_data,
)

from tunekit._errors import InvalidParameterError, LabelMismatchError
from tunekit._keras_memory import (
    custom_gradient_names,
    forget_custom_gradients,
    release_traced_graphs,
)
from tunekit._seeding import fresh_session
from tunekit._validation import did_you_mean, invalid_parameter, received
from tunekit._warnings import warn
from tunekit.labels._fit_checks import (
    check_label_class_weight,
    check_model_input,
    check_sample_weight,
)

__all__ = ["KerasClassifier", "KerasRegressor"]

# Values a build function can ask for by naming them as arguments; they are
# computed from the training data in ``fit`` and are not estimator parameters.
_DATA_ARGUMENTS = (
    "n_features_in_",
    "n_classes_",
    "classes_",
    "n_outputs_",
    "input_shape",
)

# Keras' own arguments that ``fit`` and ``predict``/``predict_proba``/``score``
# take for one call, as the old ``tf.keras.wrappers.scikit_learn`` wrappers
# did (``clf.fit(X, y, epochs=3, callbacks=[...])``). The ones that are not
# estimator parameters may also be given to the constructor (the old
# wrapper's ``sk_params``): ``KerasClassifier(build_fn, shuffle=False)``.
_FIT_ARGUMENTS = (
    "batch_size",
    "epochs",
    "verbose",
    "callbacks",
    "validation_split",
    "validation_data",
    "shuffle",
    "class_weight",
    "initial_epoch",
    "steps_per_epoch",
    "validation_steps",
    "validation_batch_size",
    "validation_freq",
)
_PREDICT_ARGUMENTS = ("batch_size", "verbose", "steps", "callbacks")
_OPTIONAL_COUNTS = (
    "steps",
    "steps_per_epoch",
    "validation_steps",
    "validation_batch_size",
)
# Keras 1/2 names that are gone, with what replaced them.
_RENAMED_ARGUMENTS = {"nb_epoch": "epochs"}


def _defines_call(cls: type) -> bool:
    """True when a subclass defines ``__call__`` (the old ``build_fn=None``)."""
    return any(
        "__call__" in vars(klass) for klass in cls.__mro__ if klass is not object
    )


def _is_positive_int(value: Any) -> bool:
    return (
        isinstance(value, (int, np.integer))
        and not isinstance(value, (bool, np.bool_))
        and value >= 1
    )


def _check_keras_argument(name: str, value: Any, *, epochs: Any = None) -> None:
    """Validate one Keras ``fit``/``predict`` argument given to the estimator."""
    if name in ("epochs", "batch_size", "validation_freq"):
        if not _is_positive_int(value):
            raise invalid_parameter(name, value, "an integer >= 1")
    elif name in (
        "steps",
        "steps_per_epoch",
        "validation_steps",
        "validation_batch_size",
    ):
        if value is not None and not _is_positive_int(value):
            raise invalid_parameter(name, value, "None or an integer >= 1")
    elif name == "initial_epoch":
        if (
            isinstance(value, (bool, np.bool_))
            or not isinstance(value, (int, np.integer))
            or value < 0
        ):
            raise invalid_parameter(name, value, "an integer >= 0")
        if _is_positive_int(epochs) and value >= epochs:
            raise invalid_parameter(
                name,
                value,
                f"smaller than epochs={epochs}",
                "Keras trains the epochs from `initial_epoch` up to `epochs`, so "
                "nothing would be trained.",
            )
    elif name == "validation_split":
        if (
            isinstance(value, (bool, np.bool_))
            or not isinstance(value, (int, float, np.number))
            or not 0.0 <= float(value) < 1.0
        ):
            raise invalid_parameter(
                name, value, "a float in [0, 1)", "Use 0.0 for none."
            )
    elif name == "callbacks":
        if value is not None and not isinstance(value, (list, tuple)):
            raise invalid_parameter(
                name, value, "a list of keras.callbacks.Callback or None"
            )
    elif name == "verbose":
        if not (
            isinstance(value, (int, np.integer, str))
            and not isinstance(value, (bool, np.bool_))
        ):
            raise invalid_parameter(name, value, "0, 1, 2 or 'auto'")
    elif name == "shuffle":
        if not isinstance(value, (bool, np.bool_)):
            raise invalid_parameter(name, value, "True or False")
    elif name == "validation_data":
        if value is not None and not (
            isinstance(value, (list, tuple)) and len(value) in (2, 3)
        ):
            raise invalid_parameter(
                name,
                _shown(value),
                "a tuple (X_val, y_val) or (X_val, y_val, sample_weight_val)",
            )


class _Shown(str):
    """A string ``repr`` shows without quotes (for ``Received: ...``)."""

    def __repr__(self) -> str:
        return str(self)


def _shown(value: Any) -> Any:
    shape = getattr(value, "shape", None)
    if shape is not None:
        return _Shown(f"<{type(value).__name__} of shape {tuple(shape)}>")
    return value


def _check_call_names(
    estimator: Any, method: str, kwargs: Mapping[str, Any], allowed: tuple[str, ...]
) -> None:
    """Raise for a keyword ``method`` does not take (with did-you-mean)."""
    for name, value in kwargs.items():
        if name in allowed:
            continue
        hint = did_you_mean(name, allowed)
        if name in _RENAMED_ARGUMENTS:
            hint = f" `{name}` was renamed `{_RENAMED_ARGUMENTS[name]}` in Keras 2."
        raise InvalidParameterError(
            f"{type(estimator).__name__}.{method}() got an unexpected keyword "
            f"argument {name!r}.{hint} It takes these Keras arguments: "
            f"{sorted(allowed)}. {received(name, _shown(value))}"
        )


_SPARSE_LOSSES = {
    "sparse_categorical_crossentropy",
    "sparsecategoricalcrossentropy",
    "sparse_categorical_focal_crossentropy",
}
_CATEGORICAL_LOSSES = {
    "categorical_crossentropy",
    "categoricalcrossentropy",
    "categorical_focal_crossentropy",
    "categoricalfocalcrossentropy",
    "categorical_hinge",
    "categoricalhinge",
    "kl_divergence",
    "kldivergence",
    "kld",
    "poisson",
}
_BINARY_LOSSES = {
    "binary_crossentropy",
    "binarycrossentropy",
    "binary_focal_crossentropy",
    "binaryfocalcrossentropy",
    "hinge",
    "squared_hinge",
    "squaredhinge",
}


# --------------------------------------------------------------------------
# What the build function takes
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class _BuildSpec:
    """The arguments a build function (or HyperModel) takes."""

    defaults: dict[str, Any] = field(default_factory=dict)
    required: tuple[str, ...] = ()
    data_arguments: tuple[str, ...] = ()
    estimator_arguments: tuple[str, ...] = ()
    accepts_any: bool = False
    hypermodel: Any = None

    @property
    def names(self) -> list[str]:
        return [*self.defaults, *self.required]


# HyperModel -> its discovered hyperparameters (building a model is not free).
_HYPERMODEL_SPACES: weakref.WeakKeyDictionary[Any, dict[str, Any]] = (
    weakref.WeakKeyDictionary()
)


class _FunctionHyperModel:
    """Adapts a KerasTuner-style ``build(hp)`` function to the HyperModel API."""

    def __init__(self, function: Callable[[Any], Any]) -> None:
        self.function = function

    def build(self, hp: Any) -> Any:
        return self.function(hp)


def _is_hypermodel(build_fn: Any) -> bool:
    if inspect.isfunction(build_fn) or inspect.ismethod(build_fn):
        return False
    if not callable(getattr(build_fn, "build", None)) or isinstance(build_fn, type):
        return False
    try:
        import keras_tuner
    except ImportError:  # pragma: no cover - keras-tuner is a dependency
        return False
    return isinstance(build_fn, keras_tuner.HyperModel)


def _is_hp_function(build_fn: Any) -> bool:
    """A plain function whose only argument is ``hp`` (KerasTuner style)."""
    if not inspect.isfunction(build_fn):
        return False
    parameters = list(inspect.signature(build_fn).parameters)
    return parameters == ["hp"]


def _hypermodel_space(hypermodel: Any) -> dict[str, Any]:
    """Build ``hypermodel`` once with empty hyperparameters to read its space."""
    try:
        return dict(_HYPERMODEL_SPACES[hypermodel])
    except (KeyError, TypeError):
        pass
    import keras_tuner

    # Building draws random seeds; leave the caller's generators as they were.
    python_state, numpy_state = random.getstate(), np.random.get_state()
    try:
        hp = keras_tuner.HyperParameters()
        hypermodel.build(hp)  # only the hyperparameters it registers matter
    finally:
        random.setstate(python_state)
        np.random.set_state(numpy_state)
    # Every registered hyperparameter, conditional ones included (a
    # conditional one that is inactive for the defaults is not in
    # ``hp.values``, but GridSearchCV may still set it).
    space: dict[str, Any] = {}
    for item in hp.space:
        if item.name not in space:
            space[item.name] = hp.values.get(item.name, item.default)
    with contextlib.suppress(TypeError):
        _HYPERMODEL_SPACES[hypermodel] = space
    return dict(space)


def _build_spec(build_fn: Any, own_names: frozenset[str]) -> _BuildSpec:
    """Describe the arguments ``build_fn`` takes, or raise a clear error."""
    if _is_hp_function(build_fn):
        build_fn = _FunctionHyperModel(build_fn)
        return _BuildSpec(defaults=_hypermodel_space(build_fn), hypermodel=build_fn)
    if _is_hypermodel(build_fn):
        return _BuildSpec(defaults=_hypermodel_space(build_fn), hypermodel=build_fn)
    if not callable(build_fn):
        raise invalid_parameter(
            "build_fn",
            build_fn,
            "a function returning a compiled Keras model, or a KerasTuner HyperModel",
            "Pass e.g. `KerasClassifier(build_fn=create_model)`.",
        )
    try:
        signature = inspect.signature(build_fn)
    except (TypeError, ValueError):  # builtins without a signature
        return _BuildSpec(accepts_any=True)
    defaults: dict[str, Any] = {}
    required: list[str] = []
    data_arguments: list[str] = []
    estimator_arguments: list[str] = []
    accepts_any = False
    for name, parameter in signature.parameters.items():
        if parameter.kind is parameter.VAR_KEYWORD:
            accepts_any = True
        elif parameter.kind is parameter.VAR_POSITIONAL:
            continue
        elif name in _DATA_ARGUMENTS:
            data_arguments.append(name)
        elif name in own_names:
            estimator_arguments.append(name)
        elif parameter.default is parameter.empty:
            required.append(name)
        else:
            defaults[name] = parameter.default
    return _BuildSpec(
        defaults=defaults,
        required=tuple(required),
        data_arguments=tuple(data_arguments),
        estimator_arguments=tuple(estimator_arguments),
        accepts_any=accepts_any,
    )


# --------------------------------------------------------------------------
# Global state: seeding that restores what it found, and releasing models
# --------------------------------------------------------------------------


# Shared with the tuners' trials: tunekit._seeding and tunekit._keras_memory.
_fresh_session = fresh_session
_release_traced_graphs = release_traced_graphs
_custom_gradient_names = custom_gradient_names
_forget_custom_gradients = forget_custom_gradients


# --------------------------------------------------------------------------
# Loss inspection and target encoding
# --------------------------------------------------------------------------


def _loss_name(loss: Any) -> str:
    """Lower-case name of a compiled loss (string, function or Loss object)."""
    if isinstance(loss, str):
        return loss.lower()
    inner = getattr(loss, "fn", None)  # LossFunctionWrapper
    if inner is not None and getattr(inner, "__name__", None):
        return str(inner.__name__).lower()
    if inspect.isfunction(loss) or inspect.isbuiltin(loss):
        return str(loss.__name__).lower()
    return type(loss).__name__.lower()


def _from_logits(loss: Any) -> bool:
    if getattr(loss, "from_logits", False):
        return True
    config = getattr(loss, "_fn_kwargs", None) or {}
    return bool(config.get("from_logits", False))


def _single_loss(model: Any) -> Any:
    loss = getattr(model, "loss", None)
    if isinstance(loss, Mapping):
        values = list(loss.values())
        loss = values[0] if len(values) == 1 else loss
    elif isinstance(loss, (list, tuple)):
        loss = loss[0] if len(loss) == 1 else loss
    return loss


def _output_units(model: Any, sample: np.ndarray) -> int:
    """Size of the model's last axis, building the model on one sample if needed."""
    outputs = getattr(model, "outputs", None)
    try:
        if outputs:
            if len(outputs) != 1:
                raise LabelMismatchError(
                    "KerasClassifier supports models with a single output; the "
                    f"build function returned a model with {len(outputs)} outputs."
                )
            units = outputs[0].shape[-1]
            if units is not None:
                return int(units)
    except (AttributeError, TypeError, ValueError):
        pass
    prediction = np.asarray(model(sample, training=False))
    return int(prediction.shape[-1]) if prediction.ndim > 1 else 1


@dataclass(frozen=True)
class _TargetEncoding:
    """How class indices become the targets the compiled loss expects."""

    kind: str  # "sparse", "one_hot" or "binary"
    from_logits: bool


def _classifier_encoding(loss: Any, units: int, n_classes: int) -> _TargetEncoding:
    name = _loss_name(loss)
    logits = _from_logits(loss)
    if units == 1:
        if n_classes != 2:
            raise LabelMismatchError(
                f"The model ends in 1 unit but y has {n_classes} classes. Use "
                f"`Dense({n_classes}, activation='softmax')` with a categorical "
                "loss, or a 1-unit sigmoid head only for two classes. "
                f"Received: loss={name!r}, n_classes={n_classes}"
            )
        return _TargetEncoding("binary", logits)
    if units != n_classes:
        raise LabelMismatchError(
            f"The model ends in {units} units but y has {n_classes} classes; "
            f"the output layer needs one unit per class (or 1 unit with a "
            "sigmoid for two classes). Ask for `n_classes_` in the build "
            "function to size the head from the data. "
            f"Received: units={units}, n_classes={n_classes}"
        )
    if name in _CATEGORICAL_LOSSES or name in _BINARY_LOSSES:
        return _TargetEncoding("one_hot", logits)
    # Sparse losses and unknown custom losses get class indices.
    return _TargetEncoding("sparse", logits)


def _encode_classes(indices: np.ndarray, encoding: _TargetEncoding, k: int) -> Any:
    if encoding.kind == "binary":
        return indices.astype("float32").reshape(-1, 1)
    if encoding.kind == "one_hot":
        return np.eye(k, dtype="float32")[indices]
    return indices.astype("int32")


def _probabilities(raw: np.ndarray, encoding: _TargetEncoding) -> np.ndarray:
    raw = np.asarray(raw, dtype=np.float64)
    if raw.ndim == 1:
        raw = raw.reshape(-1, 1)
    if encoding.kind == "binary":
        positive = raw[:, 0]
        if encoding.from_logits:
            positive = 1.0 / (1.0 + np.exp(-positive))
        positive = np.clip(positive, 0.0, 1.0)
        return np.column_stack([1.0 - positive, positive])
    if encoding.from_logits:
        shifted = raw - raw.max(axis=1, keepdims=True)
        raw = np.exp(shifted)
    raw = np.clip(raw, 0.0, None)
    totals = raw.sum(axis=1, keepdims=True)
    totals[totals == 0] = 1.0
    return raw / totals


# --------------------------------------------------------------------------
# The estimators
# --------------------------------------------------------------------------


class _KerasEstimatorBase(BaseEstimator):
    """Parameters, validation, model building and fitting shared by both."""

    # Names of this estimator's own parameters (the rest go to the build fn).
    _own_parameters: tuple[str, ...] = ()
    # Keras arguments ``fit`` takes per call (see ``_FIT_ARGUMENTS``).
    _fit_arguments: tuple[str, ...] = _FIT_ARGUMENTS

    # Fitted attributes (annotations only: they exist after `fit`).
    model_: Any
    history_: dict[str, list[float]]
    input_shape_: tuple[int, ...]
    n_features_in_: int

    def __init__(
        self,
        build_fn: Any = None,
        *,
        epochs: int = 1,
        batch_size: int = 32,
        validation_split: float = 0.0,
        callbacks: list[Any] | None = None,
        verbose: int | str = 0,
        random_state: Any = None,
        warm_start: bool = False,
        **build_params: Any,
    ) -> None:
        self.build_fn = build_fn
        self.epochs = epochs
        self.batch_size = batch_size
        self.validation_split = validation_split
        self.callbacks = callbacks
        self.verbose = verbose
        self.random_state = random_state
        self.warm_start = warm_start
        self._build_params = dict(build_params)
        self._check_build_param_names(build_params, eager_only=True)

    # -- parameters ---------------------------------------------------------

    @classmethod
    def _own_names(cls) -> frozenset[str]:
        return frozenset(cls._own_parameters)

    def _spec(self) -> _BuildSpec | None:
        """What ``build_fn`` takes; None while it is unset or not callable.

        An unusable ``build_fn`` is reported by ``fit``, not by ``get_params``
        or ``set_params``, so that scikit-learn can always clone the estimator.
        """
        build_fn = self._build_function()
        if build_fn is None or not (
            callable(build_fn) or callable(getattr(build_fn, "build", None))
        ):
            return None
        return _build_spec(build_fn, self._own_names())

    def _build_function(self) -> Any:
        """``build_fn``, or this object's own ``__call__`` when it is None.

        As with the old Keras wrapper, a subclass that defines ``__call__``
        can leave ``build_fn=None``: its ``__call__`` builds the model.
        """
        if self.build_fn is not None:
            return self.build_fn
        if _defines_call(type(self)):
            return self.__call__
        return None

    @classmethod
    def _keras_parameter_names(cls) -> frozenset[str]:
        """Keras fit/predict arguments that may be estimator parameters too."""
        return frozenset((*cls._fit_arguments, *_PREDICT_ARGUMENTS)) - cls._own_names()

    def _keras_parameters(self) -> dict[str, Any]:
        """Keras arguments given to the constructor or ``set_params``."""
        names = self._keras_parameter_names()
        return {k: v for k, v in self._build_params.items() if k in names}

    def _check_build_param_names(
        self, names: Mapping[str, Any], *, eager_only: bool = False
    ) -> None:
        """Raise for a name the build function does not take (did-you-mean)."""
        build_fn = self._build_function()
        if not names or build_fn is None:
            return
        if eager_only and not (
            inspect.isfunction(build_fn)
            or inspect.ismethod(build_fn)
            or (callable(build_fn) and not hasattr(build_fn, "build"))
        ):
            return  # HyperModels are inspected lazily (that means building one)
        spec = self._spec()
        if spec is None or spec.accepts_any:
            return
        accepted = set(spec.names) | self._keras_parameter_names()
        for name in names:
            if name in accepted:
                continue
            if name in _RENAMED_ARGUMENTS:
                raise InvalidParameterError(
                    f"`{name}` was renamed `{_RENAMED_ARGUMENTS[name]}` in Keras 2: "
                    f"pass `{_RENAMED_ARGUMENTS[name]}=...`. "
                    f"Received: {name}={names[name]!r}"
                )
            if name in _DATA_ARGUMENTS:
                raise invalid_parameter(
                    name,
                    names[name],
                    "computed from the training data, not passed in",
                    f"`{name}` is filled in by `fit` when the build function "
                    "names it as an argument.",
                )
            candidates = sorted(accepted | self._own_names())
            hint = did_you_mean(name, candidates)
            raise InvalidParameterError(
                f"{type(self).__name__} got parameter {name!r}, which is neither "
                f"one of its own parameters, a Keras fit/predict argument nor an "
                f"argument of build_fn {_describe(build_fn)}.{hint} Valid parameters: "
                f"{candidates}. Received: {name}={names[name]!r}"
            )

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """Get parameters: the estimator's own plus the build function's.

        Parameters
        ----------
        deep : bool, default=True
            Also return the parameters of nested estimators.

        Returns
        -------
        params : dict
            Parameter names mapped to their values. The build function's
            arguments appear with their defaults unless set explicitly.
        """
        params: dict[str, Any] = {
            name: getattr(self, name) for name in self._own_parameters
        }
        spec = self._spec()
        if spec is not None:
            for name, default in spec.defaults.items():
                params[name] = self._build_params.get(name, default)
        for name, value in self._build_params.items():
            params[name] = value
        if deep:
            for name, value in list(params.items()):
                if hasattr(value, "get_params") and not isinstance(value, type):
                    for sub, sub_value in value.get_params().items():
                        params[f"{name}__{sub}"] = sub_value
        return params

    def set_params(self, **params: Any) -> _KerasEstimatorBase:
        """Set parameters, including the build function's arguments.

        Parameters
        ----------
        **params : dict
            Estimator parameters or build-function arguments. A name that is
            neither raises :class:`~tunekit.InvalidParameterError` with a
            did-you-mean suggestion.

        Returns
        -------
        self : estimator
            This estimator.
        """
        if not params:
            return self
        own = self._own_names()
        if "build_fn" in params:
            self.build_fn = params["build_fn"]
        nested: dict[str, dict[str, Any]] = {}
        build: dict[str, Any] = {}
        for key, value in params.items():
            if key == "build_fn":
                continue
            name, delimiter, sub = key.partition("__")
            if delimiter and name in own:
                nested.setdefault(name, {})[sub] = value
            elif key in own:
                setattr(self, key, value)
            else:
                build[key] = value
        self._check_build_param_names(build)
        self._build_params = {**self._build_params, **build}
        for name, sub_params in nested.items():
            getattr(self, name).set_params(**sub_params)
        return self

    def __getattr__(self, name: str) -> Any:
        # Build-function parameters read like attributes: `est.units`.
        if not name.startswith("_") and not name.endswith("_"):
            build_params = self.__dict__.get("_build_params")
            if build_params is not None and name in build_params:
                return build_params[name]
        if name in ("model", "history"):
            from sklearn.exceptions import NotFittedError

            raise NotFittedError(
                f"This {type(self).__name__} instance is not fitted yet: "
                f"`.{name}` exists after `fit`."
            )
        raise AttributeError(
            f"{type(self).__name__!r} object has no attribute {name!r}"
        )

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        return tags

    # -- the old Keras wrapper's read-only names ------------------------------

    @property
    def model(self) -> Any:
        """The trained ``keras.Model``: ``model_`` under the old wrapper's name.

        Read-only; it exists after ``fit``.
        """
        check_is_fitted(self, "model_")
        return self.model_

    @property
    def history(self) -> dict[str, list[float]]:
        """Keras' training history, ``history_`` (``{"loss": [...], ...}``).

        ``fit`` returns the estimator (scikit-learn's contract), so code
        written for the old wrapper, whose ``fit`` returned a Keras
        ``History``, keeps working: ``clf.fit(X, y).history["loss"]``.
        """
        check_is_fitted(self, "history_")
        return self.history_

    # -- validation -----------------------------------------------------------

    def _check_own_params(self) -> None:
        build_fn = self._build_function()
        if build_fn is None:
            raise invalid_parameter(
                "build_fn",
                None,
                "a function returning a compiled Keras model, or a KerasTuner "
                "HyperModel",
                "Pass e.g. `KerasClassifier(build_fn=create_model)`, or define "
                "`__call__` in a subclass.",
            )
        _build_spec(build_fn, self._own_names())  # raises if unusable
        for name in ("epochs", "batch_size"):
            value = getattr(self, name)
            if (
                isinstance(value, bool)
                or not isinstance(value, (int, np.integer))
                or value < 1
            ):
                raise invalid_parameter(name, value, "an integer >= 1")
        split = self.validation_split
        if (
            isinstance(split, bool)
            or not isinstance(split, (int, float, np.number))
            or not 0.0 <= float(split) < 1.0
        ):
            raise invalid_parameter(
                "validation_split", split, "a float in [0, 1)", "Use 0.0 for none."
            )
        if self.callbacks is not None and not isinstance(self.callbacks, (list, tuple)):
            raise invalid_parameter(
                "callbacks",
                self.callbacks,
                "a list of keras.callbacks.Callback or None",
            )
        if not isinstance(self.warm_start, (bool, np.bool_)):
            raise invalid_parameter("warm_start", self.warm_start, "True or False")
        if not (
            isinstance(self.verbose, (int, np.integer, str))
            and not isinstance(self.verbose, bool)
        ):
            raise invalid_parameter("verbose", self.verbose, "0, 1, 2 or 'auto'")

    def _seed(self) -> int | None:
        if self.random_state is None:
            return None
        try:
            generator = check_random_state(self.random_state)
        except ValueError as error:
            raise invalid_parameter(
                "random_state",
                self.random_state,
                "None, an int or a numpy.random.RandomState",
            ) from error
        if isinstance(self.random_state, (int, np.integer)):
            return int(self.random_state)
        return int(generator.randint(np.iinfo(np.int32).max))

    def _validate_X_y(self, X: Any, y: Any, *, reset: bool, multi_output: bool) -> Any:
        X, y = validate_data(
            self,
            X,
            y,
            reset=reset,
            allow_nd=True,
            dtype=[np.float32, np.float64],
            multi_output=multi_output,
            y_numeric=multi_output,
        )
        if reset:
            self.input_shape_ = tuple(int(d) for d in X.shape[1:])
        else:
            self._check_input_shape(X)
        return X, y

    def _validate_X(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "model_")
        X = validate_data(
            self,
            X,
            reset=False,
            allow_nd=True,
            dtype=[np.float32, np.float64],
            ensure_min_samples=0,  # the old wrapper predicted on empty arrays
        )
        self._check_input_shape(X)
        return X

    def _validation_inputs(self, X_val: Any) -> np.ndarray:
        """Validate the inputs of ``validation_data`` against the training ones."""
        from sklearn.utils import check_array

        X_val = check_array(
            X_val,
            allow_nd=True,
            dtype=[np.float32, np.float64],
            input_name="validation_data",
        )
        shape = tuple(int(d) for d in X_val.shape[1:])
        if shape != self.input_shape_:
            raise InvalidParameterError(
                f"`validation_data` has samples of shape {shape}, but the training "
                f"samples (and the model's input) have shape {self.input_shape_}. "
                "Resize or reshape the validation inputs like the training ones. "
                f"{received('validation_data[0].shape', X_val.shape)}"
            )
        return X_val.astype(_floatx(), copy=False)

    # -- Keras arguments per call ----------------------------------------------

    def _fit_options(self, kwargs: Mapping[str, Any]) -> dict[str, Any]:
        """Keras ``fit`` arguments for this call, validated; nothing is modified.

        The estimator's parameters come first, then Keras arguments given to
        the constructor, then the ones given to this call (``None`` there
        means "the estimator's value").
        """
        _check_call_names(self, "fit", kwargs, self._fit_arguments)
        given = {k: v for k, v in kwargs.items() if v is not None}
        options: dict[str, Any] = {
            "epochs": self.epochs,
            "batch_size": self.batch_size,
            "validation_split": self.validation_split,
            "verbose": self.verbose,
        }
        options.update(
            {k: v for k, v in self._keras_parameters().items() if k in _FIT_ARGUMENTS}
        )
        options.update(given)
        for name, value in options.items():
            _check_keras_argument(name, value, epochs=options["epochs"])
        if "callbacks" in given:
            options["callbacks"] = list(given["callbacks"])  # used as given
        else:
            options["callbacks"] = self._fit_callbacks()
        options["epochs"] = int(options["epochs"])
        options["batch_size"] = int(options["batch_size"])
        options["validation_split"] = float(options["validation_split"])
        return options

    def _predict_options(self, method: str, kwargs: Mapping[str, Any]) -> dict:
        """Keras ``predict`` arguments for this call, validated."""
        _check_call_names(self, method, kwargs, _PREDICT_ARGUMENTS)
        options = {
            k: v
            for k, v in self._keras_parameters().items()
            if k in _PREDICT_ARGUMENTS and v is not None
        }
        options.update({k: v for k, v in kwargs.items() if v is not None})
        for name, value in options.items():
            _check_keras_argument(name, value)
        return options

    def _check_input_shape(self, X: np.ndarray) -> None:
        shape = tuple(int(d) for d in X.shape[1:])
        if shape != self.input_shape_:
            raise ValueError(
                f"X has samples of shape {shape}, but {type(self).__name__} is "
                f"expecting samples of shape {self.input_shape_} as input."
            )

    # -- building and fitting -------------------------------------------------

    def _data_values(self, X: np.ndarray) -> dict[str, Any]:
        return {"n_features_in_": self.n_features_in_, "input_shape": self.input_shape_}

    def _build_arguments(self, spec: _BuildSpec, X: np.ndarray) -> dict[str, Any]:
        self._check_build_param_names(self._build_params)
        missing = [name for name in spec.required if name not in self._build_params]
        if missing:
            name = missing[0]
            raise InvalidParameterError(
                f"build_fn {_describe(self._build_function())} needs a value for "
                f"`{name}`, "
                f"which has no default. Pass it to the estimator, e.g. "
                f"`{type(self).__name__}(build_fn=..., {name}=...)`. "
                f"Received: {name}=<missing>"
            )
        keras_names = self._keras_parameter_names()
        given = {
            k: v
            for k, v in self._build_params.items()
            if k not in keras_names or k in spec.names
        }
        arguments = {**spec.defaults, **given}
        data = self._data_values(X)
        for name in spec.data_arguments:
            if name not in data:
                raise InvalidParameterError(
                    f"build_fn asks for `{name}`, which {type(self).__name__} does "
                    f"not provide. Available: {sorted(data)}. Received: {name}"
                )
            arguments[name] = data[name]
        for name in spec.estimator_arguments:
            arguments[name] = getattr(self, name)
        return arguments

    def _build_model(self, X: np.ndarray) -> Any:
        build_fn = self._build_function()
        spec = _build_spec(build_fn, self._own_names())
        arguments = self._build_arguments(spec, X)
        if spec.hypermodel is not None:
            import keras_tuner

            hp = keras_tuner.HyperParameters()
            for name, value in arguments.items():
                hp.Fixed(name, value)
            model = spec.hypermodel.build(hp)
        else:
            model = build_fn(**arguments)
        if not (hasattr(model, "fit") and hasattr(model, "compile")):
            raise InvalidParameterError(
                f"build_fn must return a compiled keras.Model. "
                f"Received: build_fn returned {type(model).__name__}"
            )
        if not getattr(
            model, "compiled", getattr(model, "optimizer", None) is not None
        ):
            raise InvalidParameterError(
                "build_fn must return a compiled model: call "
                "`model.compile(optimizer=..., loss=...)` before returning it. "
                f"Received: an uncompiled {type(model).__name__}"
            )
        check_model_input(model, X, argname="X")  # images vs. a flat Input
        return model

    def _fit_callbacks(self) -> list[Any] | None:
        if not self.callbacks:
            return None
        try:
            # Fresh copies: callbacks keep state (best score, patience) and a
            # reference to the model; neither may leak between fits.
            return copy.deepcopy(list(self.callbacks))
        except Exception:
            warn(
                "The callbacks could not be deep-copied, so the same callback "
                "objects are reused across fits; their state carries over.",
                UserWarning,
            )
            return list(self.callbacks)

    def _discard_model(self) -> None:
        """Drop the previous model and the graphs traced for it.

        The full garbage collection follows in ``clear_session``.
        """
        model = self.__dict__.pop("model_", None)
        if model is not None:
            _release_traced_graphs(model)
            del model

    def _fit_keras(
        self,
        X: np.ndarray,
        targets: Callable[[], Any],
        sample_weight: np.ndarray | None,
        *,
        continue_training: bool,
        make_model: Callable[[], Any],
        options: dict[str, Any],
        validation: Callable[[], tuple] | None = None,
    ) -> None:
        seed = self._seed()
        custom_gradients = _custom_gradient_names()
        if not continue_training:
            self._discard_model()
            self.history_ = {}
        with _fresh_session(seed, clear=not continue_training):
            model = self.model_ if continue_training else make_model()
            if validation is not None:
                options = {**options, "validation_data": validation()}
            history = model.fit(X, targets(), sample_weight=sample_weight, **options)
        for key, values in history.history.items():
            self.history_.setdefault(key, []).extend(float(v) for v in values)
        # The step functions are traced again on demand (warm start); keeping
        # them would keep their graphs alive for as long as the model lives.
        _release_traced_graphs(model)
        _forget_custom_gradients(custom_gradients)
        model.history = None
        self.model_ = model

    def _predict_raw(
        self, X: np.ndarray, options: Mapping[str, Any] | None = None
    ) -> np.ndarray:
        import keras

        options = dict(options or {})
        X = X.astype(keras.config.floatx(), copy=False)
        if options.get("steps") or options.get("callbacks") or options.get("verbose"):
            # Keras' own predict loop (progress bar, callbacks, steps).
            raw = self.model_.predict(
                X,
                batch_size=int(options.get("batch_size", self.batch_size)),
                verbose=options.get("verbose", 0),
                steps=options.get("steps"),
                callbacks=options.get("callbacks"),
            )
            _release_traced_graphs(self.model_)
            return np.asarray(raw)
        batch = int(options.get("batch_size") or max(int(self.batch_size), 256))
        outputs = [
            keras.ops.convert_to_numpy(
                self.model_(X[start : start + batch], training=False)
            )
            for start in range(0, len(X), batch)
        ]
        if not outputs:
            return np.empty((0, 1))
        return np.concatenate(outputs, axis=0)

    def _sample_weight(self, sample_weight: Any, X: np.ndarray) -> np.ndarray | None:
        if sample_weight is None:
            return None
        if _shape_of(sample_weight):
            # NaN, infinite, negative or all-zero weights: a tunekit error.
            check_sample_weight(sample_weight, len(X))
        weights = np.array(
            _check_sample_weight(sample_weight, X, dtype=np.float32), copy=True
        )  # a copy: the caller's array is never modified
        check_sample_weight(weights, len(X))
        return weights

    # -- pickling ---------------------------------------------------------------

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        model = state.pop("model_", None)
        if model is not None:
            state["_model_bytes"] = _model_to_bytes(model)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        state = dict(state)
        model_bytes = state.pop("_model_bytes", None)
        self.__dict__.update(state)
        if model_bytes is not None:
            self.model_ = _model_from_bytes(model_bytes)


def _model_to_bytes(model: Any) -> bytes:
    import io
    import os
    import tempfile

    import keras

    with tempfile.TemporaryDirectory() as directory:
        path = os.path.join(directory, "model.keras")
        keras.saving.save_model(model, path)
        with open(path, "rb") as handle:
            buffer = io.BytesIO(handle.read())
    return buffer.getvalue()


def _model_from_bytes(data: bytes) -> Any:
    import os
    import tempfile

    import keras

    with tempfile.TemporaryDirectory() as directory:
        path = os.path.join(directory, "model.keras")
        with open(path, "wb") as handle:
            handle.write(data)
        return keras.saving.load_model(path, compile=True)


def _describe(build_fn: Any) -> str:
    name = getattr(build_fn, "__qualname__", None) or type(build_fn).__name__
    return f"{name!s}"


class KerasClassifier(ClassifierMixin, _KerasEstimatorBase):
    """A scikit-learn classifier that builds and trains a fresh Keras model.

    Parameters
    ----------
    build_fn : callable or keras_tuner.HyperModel, default=None
        Returns a *compiled* Keras model. Its arguments are estimator
        parameters (``KerasClassifier(build_fn=create_model, units=64)``),
        so ``GridSearchCV`` can search over them; it may also name
        ``n_features_in_``, ``n_classes_``, ``classes_``, ``n_outputs_`` or
        ``input_shape`` to receive those values from the training data. A
        KerasTuner ``HyperModel`` (or a ``build(hp)`` function) works too:
        each of its hyperparameters becomes a parameter with a fixed value.
    epochs : int, default=1
        Epochs per ``fit`` (as in ``keras.Model.fit``).
    batch_size : int, default=32
        Mini-batch size for training.
    validation_split : float, default=0.0
        Fraction of the training data Keras holds out for validation metrics.
    callbacks : list of keras.callbacks.Callback, default=None
        Deep-copied for every fit, so no state leaks between fits.
    class_weight : dict, "balanced" or None, default=None
        Weights keyed by the *original* class labels, or ``"balanced"``;
        multiplied into ``sample_weight``.
    verbose : int or "auto", default=0
        Keras' verbosity during training.
    random_state : int, RandomState or None, default=None
        Seeds Python, NumPy, TensorFlow and Keras for the fit and restores
        them afterwards; the same value gives identical models on CPU.
    warm_start : bool, default=False
        Continue training the existing model on the next ``fit`` instead of
        building a fresh one.
    **build_params
        Arguments of ``build_fn``. A name it does not take raises
        :class:`~tunekit.InvalidParameterError`.

    Attributes
    ----------
    model_ : keras.Model
        The trained model.
    classes_ : ndarray of shape (n_classes,)
        The class labels seen in ``fit``.
    n_classes_ : int
        Number of classes.
    n_features_in_ : int
        Size of the second axis of ``X``.
    input_shape_ : tuple of int
        Shape of one sample of ``X``.
    history_ : dict
        Keras' training history (extended across warm-started fits).

    Examples
    --------
    >>> import keras
    >>> import numpy as np
    >>> from tunekit import KerasClassifier
    >>> def create_model(units=8, n_features_in_=None, n_classes_=None):
    ...     model = keras.Sequential([
    ...         keras.Input((n_features_in_,)),
    ...         keras.layers.Dense(units, activation="relu"),
    ...         keras.layers.Dense(n_classes_, activation="softmax"),
    ...     ])
    ...     model.compile("adam", "categorical_crossentropy")
    ...     return model
    >>> X = np.random.default_rng(0).normal(size=(40, 4)).astype("float32")
    >>> y = np.where(X[:, 0] > 0, "yes", "no")
    >>> clf = KerasClassifier(create_model, units=4, random_state=0).fit(X, y)
    >>> clf.get_params()["units"], clf.classes_.tolist()
    (4, ['no', 'yes'])
    >>> clf.predict_proba(X[:2]).shape
    (2, 2)
    """

    _own_parameters = (
        "build_fn",
        "epochs",
        "batch_size",
        "validation_split",
        "callbacks",
        "class_weight",
        "verbose",
        "random_state",
        "warm_start",
    )
    classes_: np.ndarray
    n_classes_: int
    _encoding: _TargetEncoding

    def __init__(
        self,
        build_fn: Any = None,
        *,
        epochs: int = 1,
        batch_size: int = 32,
        validation_split: float = 0.0,
        callbacks: list[Any] | None = None,
        class_weight: dict[Any, float] | str | None = None,
        verbose: int | str = 0,
        random_state: Any = None,
        warm_start: bool = False,
        **build_params: Any,
    ) -> None:
        self.class_weight = class_weight
        super().__init__(
            build_fn,
            epochs=epochs,
            batch_size=batch_size,
            validation_split=validation_split,
            callbacks=callbacks,
            verbose=verbose,
            random_state=random_state,
            warm_start=warm_start,
            **build_params,
        )

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = True
        tags.target_tags.multi_output = False
        return tags

    def _data_values(self, X: np.ndarray) -> dict[str, Any]:
        return {
            **super()._data_values(X),
            "n_classes_": self.n_classes_,
            "classes_": self.classes_,
            "n_outputs_": 1,
        }

    def _label_indices(self, y: Any, argname: str) -> np.ndarray:
        """Class indices of labels (or one-hot rows) against ``classes_``."""
        if _is_label_matrix(y):
            rows = np.asarray(y)
            indices = _one_hot_indices(rows, argname)
            if rows.shape[1] != self.n_classes_:
                raise InvalidParameterError(
                    f"`{argname}` has one-hot rows of {rows.shape[1]} columns, but "
                    f"the model has {self.n_classes_} classes. "
                    f"{received(argname + '.shape', rows.shape)}"
                )
            return indices
        labels = column_or_1d(np.asarray(y), warn=True)
        known = np.isin(labels, self.classes_)
        if not known.all():
            unseen = sorted({str(v) for v in labels[~known]})[:10]
            raise InvalidParameterError(
                f"`{argname}` has labels that are not classes of y: {unseen}; the "
                f"classes are {self.classes_.tolist()!r}. "
                f"{received(argname, _shown(labels))}"
            )
        return np.searchsorted(self.classes_, labels)

    def _validation_for_fit(self, validation_data: Any) -> Callable[[], tuple] | None:
        """Check ``validation_data`` now; encode its labels once the model exists."""
        if validation_data is None:
            return None
        X_val, y_val, w_val = _unpack_validation(validation_data)
        X_val = self._validation_inputs(X_val)
        indices = self._label_indices(y_val, "validation_data")
        _check_same_length(X_val, indices)
        w_val = check_sample_weight(
            w_val, len(X_val), argname="validation_data (sample weights)"
        )

        def validation() -> tuple:
            encoded = _encode_classes(indices, self._encoding, self.n_classes_)
            if w_val is None:
                return (X_val, encoded)
            return (X_val, encoded, w_val.astype(np.float32))

        return validation

    def _class_sample_weights(
        self, class_weight: Any, indices: np.ndarray
    ) -> np.ndarray | None:
        present = self.classes_[np.unique(indices)].tolist()
        class_weight = check_label_class_weight(
            class_weight, self.classes_.tolist(), present=present
        )
        if class_weight is None:
            return None
        if isinstance(class_weight, str):  # "balanced"
            return compute_sample_weight("balanced", indices).astype(np.float32)
        table = np.array(
            [class_weight[label] for label in self.classes_.tolist()], dtype=np.float32
        )
        return table[indices]

    def fit(
        self, X: Any, y: Any, sample_weight: Any = None, **fit_params: Any
    ) -> KerasClassifier:
        """Build a fresh model (unless ``warm_start``) and train it.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            Training inputs: feature rows or images ``(N, H, W, C)``.
        y : array-like of shape (n_samples,) or (n_samples, n_classes)
            Class labels of any type (integers, strings, ...), or one-hot
            rows (then ``classes_`` is ``0 .. n_classes - 1``).
        sample_weight : array-like of shape (n_samples,), default=None
            Per-sample weights; never modified. NaN, infinite, negative or
            all-zero weights raise :class:`~tunekit.InvalidParameterError`.
        **fit_params
            Keras ``fit`` arguments for this call only: ``epochs``,
            ``batch_size``, ``verbose``, ``callbacks`` (used as given),
            ``validation_split``, ``validation_data`` (labels as in ``y``),
            ``shuffle``, ``class_weight``, ``initial_epoch``,
            ``steps_per_epoch``, ``validation_steps``,
            ``validation_batch_size``, ``validation_freq``. They override the
            estimator's parameters for this call; scikit-learn passes them on
            from ``GridSearchCV(...).fit(X, y, callbacks=[...])``.

        Returns
        -------
        self : KerasClassifier
            The fitted estimator; ``self.history`` is Keras' history.
        """
        self._check_own_params()
        options = self._fit_options(fit_params)
        class_weight = options.pop("class_weight", self.class_weight)
        validation_data = options.pop("validation_data", None)
        continue_training = bool(self.warm_start) and hasattr(self, "model_")
        one_hot = _is_label_matrix(y)
        X, y = self._validate_X_y(
            X, y, reset=not continue_training, multi_output=one_hot
        )
        if one_hot:
            indices: np.ndarray = _one_hot_indices(np.asarray(y), "y")
            if continue_training and y.shape[1] != self.n_classes_:
                raise ValueError(
                    f"y has one-hot rows of {y.shape[1]} columns, but the "
                    f"warm-started model has {self.n_classes_} classes."
                )
            if not continue_training:
                self.classes_ = np.arange(y.shape[1])
                self.n_classes_ = int(y.shape[1])
        else:
            y = column_or_1d(y, warn=True)
            check_classification_targets(y)
            if continue_training:
                unseen = np.setdiff1d(np.unique(y), self.classes_)
                if unseen.size:
                    raise ValueError(
                        f"warm_start=True cannot learn new classes "
                        f"{unseen.tolist()!r}; the model was built for "
                        f"{self.classes_.tolist()!r}."
                    )
                indices = np.searchsorted(self.classes_, y)
            else:
                classes, indices = np.unique(y, return_inverse=True)
                if len(classes) < 2:
                    raise ValueError(
                        f"y has only one class ({classes[0]!r}); a classifier "
                        "needs samples of at least 2 classes."
                    )
                self.classes_ = classes
                self.n_classes_ = len(classes)
        weights = self._sample_weight(sample_weight, X)
        class_weights = self._class_sample_weights(class_weight, indices)
        if class_weights is not None:
            weights = class_weights if weights is None else weights * class_weights
        if weights is not None and np.all(weights == 1):
            weights = None
        validation = self._validation_for_fit(validation_data)
        X = X.astype(_floatx(), copy=False)

        def make_model() -> Any:
            # The encoding depends on the compiled loss and the head's size.
            model = self._build_model(X)
            self._encoding = _classifier_encoding(
                _single_loss(model), _output_units(model, X[:1]), self.n_classes_
            )
            _check_model_labels(model, targets())
            return model

        def targets() -> Any:
            return _encode_classes(indices, self._encoding, self.n_classes_)

        self._fit_keras(
            X,
            targets,
            weights,
            continue_training=continue_training,
            make_model=make_model,
            options=options,
            validation=validation,
        )
        return self

    def _proba(self, X: Any, method: str, kwargs: Mapping[str, Any]) -> np.ndarray:
        options = self._predict_options(method, kwargs)
        X = self._validate_X(X)
        if not len(X):
            return np.empty((0, self.n_classes_))
        return _probabilities(self._predict_raw(X, options), self._encoding)

    def predict_proba(self, X: Any, **kwargs: Any) -> np.ndarray:
        """Class probabilities, one column per entry of ``classes_``.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            Inputs shaped like the training inputs.
        **kwargs
            Keras ``predict`` arguments: ``batch_size``, ``verbose``,
            ``steps``, ``callbacks``.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Rows sum to 1. A one-unit sigmoid head gives two columns.
        """
        return self._proba(X, "predict_proba", kwargs)

    def predict(self, X: Any, **kwargs: Any) -> np.ndarray:
        """Predicted class labels (the original labels, e.g. strings).

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            Inputs shaped like the training inputs.
        **kwargs
            Keras ``predict`` arguments: ``batch_size``, ``verbose``,
            ``steps``, ``callbacks``.

        Returns
        -------
        y : ndarray of shape (n_samples,)
            One label from ``classes_`` per sample (class indices when ``y``
            was one-hot).
        """
        probabilities = self._proba(X, "predict", kwargs)
        return self.classes_[np.argmax(probabilities, axis=1)]

    def score(self, X: Any, y: Any, sample_weight: Any = None, **kwargs: Any) -> float:
        """Mean accuracy on ``(X, y)``, as scikit-learn's classifiers score.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            Inputs shaped like the training inputs.
        y : array-like of shape (n_samples,) or (n_samples, n_classes)
            True labels, or one-hot rows.
        sample_weight : array-like of shape (n_samples,), default=None
            Per-sample weights.
        **kwargs
            Keras ``predict`` arguments: ``batch_size``, ``verbose``,
            ``steps``, ``callbacks``.

        Returns
        -------
        score : float
            The fraction of correctly classified samples (weighted). Unlike
            the old wrapper, it needs no ``accuracy`` metric in ``compile``.
        """
        from sklearn.metrics import accuracy_score

        check_is_fitted(self, "model_")
        if _is_label_matrix(y):
            y = self.classes_[self._label_indices(y, "y")]
        predictions = self.classes_[np.argmax(self._proba(X, "score", kwargs), axis=1)]
        return float(accuracy_score(y, predictions, sample_weight=sample_weight))


def _floatx() -> str:
    import keras

    return keras.config.floatx()


def _shape_of(values: Any) -> tuple[int, ...]:
    """Shape of array-likes without numpy functions (``_NotAnArray`` refuses them)."""
    shape = getattr(values, "shape", None)
    if shape is None:
        try:
            shape = np.asarray(values).shape
        except Exception:  # ragged lists: let validation report them
            return ()
    return tuple(shape)


def _is_label_matrix(y: Any) -> bool:
    """True for 2-D targets with several columns (one-hot rows or worse)."""
    shape = _shape_of(y)
    return len(shape) == 2 and shape[1] > 1


def _one_hot_indices(rows: np.ndarray, argname: str) -> np.ndarray:
    """Class index of each one-hot row; a clear error for anything else."""
    numeric = rows.dtype.kind in "biuf"
    if not (numeric and np.isin(rows, (0, 1)).all() and np.all(rows.sum(axis=1) == 1)):
        example = rows[0].tolist() if len(rows) else []
        raise InvalidParameterError(
            f"`{argname}` has shape {rows.shape}: KerasClassifier takes one label "
            "per sample, as class labels of shape (n_samples,) or as one-hot rows "
            "(a single 1 per row). Multi-label or soft targets are not "
            f"supported. Received: {argname} with rows like {example!r}"
        )
    return np.argmax(rows, axis=1)


def _unpack_validation(validation_data: Any) -> tuple[Any, Any, Any]:
    parts = [*validation_data, None]
    return parts[0], parts[1], parts[2]


def _check_same_length(X_val: np.ndarray, y_val: Any) -> None:
    if len(X_val) != len(y_val):
        raise InvalidParameterError(
            f"`validation_data` has {len(X_val)} inputs but {len(y_val)} labels. "
            f"Received: validation_data with lengths ({len(X_val)}, {len(y_val)})"
        )


def _check_model_labels(model: Any, y: Any) -> None:
    """Run tunekit's head/loss/labels check when it is available."""
    try:
        from tunekit.labels._model_checks import check_model_labels
    except ImportError:  # pragma: no cover - shipped together
        return
    check_model_labels(model, y)


class KerasRegressor(RegressorMixin, _KerasEstimatorBase):
    """A scikit-learn regressor that builds and trains a fresh Keras model.

    Parameters
    ----------
    build_fn : callable or keras_tuner.HyperModel, default=None
        Returns a *compiled* Keras model; its arguments are estimator
        parameters. It may name ``n_features_in_``, ``n_outputs_`` or
        ``input_shape`` to receive those values from the training data.
    epochs : int, default=1
        Epochs per ``fit``.
    batch_size : int, default=32
        Mini-batch size for training.
    validation_split : float, default=0.0
        Fraction of the training data held out for validation metrics.
    callbacks : list of keras.callbacks.Callback, default=None
        Deep-copied for every fit.
    verbose : int or "auto", default=0
        Keras' verbosity during training.
    random_state : int, RandomState or None, default=None
        Seeds the fit and restores every global generator afterwards.
    warm_start : bool, default=False
        Continue training the existing model on the next ``fit``.
    **build_params
        Arguments of ``build_fn``.

    Attributes
    ----------
    model_ : keras.Model
        The trained model.
    n_outputs_ : int
        Number of target columns.
    n_features_in_ : int
        Size of the second axis of ``X``.
    input_shape_ : tuple of int
        Shape of one sample of ``X``.
    history_ : dict
        Keras' training history.

    Examples
    --------
    >>> import keras
    >>> import numpy as np
    >>> from tunekit import KerasRegressor
    >>> def create_model(units=8, n_features_in_=None, n_outputs_=None):
    ...     model = keras.Sequential([
    ...         keras.Input((n_features_in_,)),
    ...         keras.layers.Dense(units, activation="relu"),
    ...         keras.layers.Dense(n_outputs_),
    ...     ])
    ...     model.compile("adam", "mse")
    ...     return model
    >>> X = np.random.default_rng(0).normal(size=(40, 3)).astype("float32")
    >>> reg = KerasRegressor(create_model, units=4, random_state=0)
    >>> reg.fit(X, X.sum(axis=1)).predict(X[:3]).shape
    (3,)
    """

    _own_parameters = (
        "build_fn",
        "epochs",
        "batch_size",
        "validation_split",
        "callbacks",
        "verbose",
        "random_state",
        "warm_start",
    )

    # ``class_weight`` is a classifier's argument.
    _fit_arguments = tuple(name for name in _FIT_ARGUMENTS if name != "class_weight")

    n_outputs_: int
    _y_ndim: int

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags

    def _data_values(self, X: np.ndarray) -> dict[str, Any]:
        return {**super()._data_values(X), "n_outputs_": self.n_outputs_}

    def _validation_for_fit(self, validation_data: Any) -> Callable[[], tuple] | None:
        if validation_data is None:
            return None
        X_val, y_val, w_val = _unpack_validation(validation_data)
        X_val = self._validation_inputs(X_val)
        y_val = np.asarray(y_val, dtype=_floatx())
        y_val = y_val.reshape(len(y_val), -1)
        _check_same_length(X_val, y_val)
        if y_val.shape[1] != self.n_outputs_:
            raise InvalidParameterError(
                f"`validation_data` has {y_val.shape[1]} target columns, but y "
                f"has {self.n_outputs_}. "
                f"{received('validation_data[1].shape', y_val.shape)}"
            )
        w_val = check_sample_weight(
            w_val, len(X_val), argname="validation_data (sample weights)"
        )
        if w_val is None:
            return lambda: (X_val, y_val)
        return lambda: (X_val, y_val, w_val.astype(np.float32))

    def fit(
        self, X: Any, y: Any, sample_weight: Any = None, **fit_params: Any
    ) -> KerasRegressor:
        """Build a fresh model (unless ``warm_start``) and train it.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            Training inputs.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Numeric targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Per-sample weights; never modified. NaN, infinite, negative or
            all-zero weights raise :class:`~tunekit.InvalidParameterError`.
        **fit_params
            Keras ``fit`` arguments for this call only (``epochs``,
            ``batch_size``, ``callbacks``, ``validation_data``, ...; see
            :meth:`KerasClassifier.fit`; ``class_weight`` is refused).

        Returns
        -------
        self : KerasRegressor
            The fitted estimator; ``self.history`` is Keras' history.
        """
        self._check_own_params()
        options = self._fit_options(fit_params)
        validation_data = options.pop("validation_data", None)
        continue_training = bool(self.warm_start) and hasattr(self, "model_")
        X, y = self._validate_X_y(X, y, reset=not continue_training, multi_output=True)
        y = np.asarray(y, dtype=_floatx())
        outputs = 1 if y.ndim == 1 else int(y.shape[1])
        if continue_training and outputs != self.n_outputs_:
            raise ValueError(
                f"y has {outputs} target columns, but the warm-started model "
                f"predicts {self.n_outputs_}."
            )
        self.n_outputs_ = outputs
        self._y_ndim = y.ndim
        targets = y.reshape(len(y), -1)
        weights = self._sample_weight(sample_weight, X)
        if weights is not None and np.all(weights == 1):
            weights = None
        validation = self._validation_for_fit(validation_data)
        X = X.astype(_floatx(), copy=False)
        self._fit_keras(
            X,
            lambda: targets,
            weights,
            continue_training=continue_training,
            make_model=lambda: self._build_model(X),
            options=options,
            validation=validation,
        )
        return self

    def _predict_values(
        self, X: Any, method: str, kwargs: Mapping[str, Any]
    ) -> np.ndarray:
        options = self._predict_options(method, kwargs)
        X = self._validate_X(X)
        if not len(X):
            raw = np.empty((0, self.n_outputs_))
        else:
            raw = np.asarray(self._predict_raw(X, options), dtype=np.float64)
            raw = raw.reshape(len(raw), -1)
        return raw.ravel() if self._y_ndim == 1 else raw

    def predict(self, X: Any, **kwargs: Any) -> np.ndarray:
        """Predicted targets.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            Inputs shaped like the training inputs.
        **kwargs
            Keras ``predict`` arguments: ``batch_size``, ``verbose``,
            ``steps``, ``callbacks``.

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            Float64 predictions, 1-D when ``y`` was 1-D in ``fit``.
        """
        return self._predict_values(X, "predict", kwargs)

    def score(self, X: Any, y: Any, sample_weight: Any = None, **kwargs: Any) -> float:
        """Coefficient of determination R² of the predictions, as scikit-learn's.

        The old Keras wrapper returned minus the loss here; R² is what
        ``GridSearchCV`` and every scikit-learn regressor use (higher is
        better, 1.0 is perfect). For the loss, pass ``scoring=`` (e.g.
        ``"neg_mean_squared_error"``) or call ``est.model.evaluate``.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            Inputs shaped like the training inputs.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            True targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Per-sample weights.
        **kwargs
            Keras ``predict`` arguments: ``batch_size``, ``verbose``,
            ``steps``, ``callbacks``.

        Returns
        -------
        score : float
            R² (averaged uniformly over outputs).
        """
        from sklearn.metrics import r2_score

        predictions = self._predict_values(X, "score", kwargs)
        return float(r2_score(y, predictions, sample_weight=sample_weight))
