"""The base both estimators share: parameters, checks, building, fitting, pickling."""

from __future__ import annotations

import copy
import inspect
import numbers
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils import check_random_state
from sklearn.utils.validation import (
    _check_sample_weight,
    check_is_fitted,
    validate_data,
)

from tunekit._constraints import (
    BOOL,
    POSITIVE_INT,
    VALIDATION_SPLIT,
    Interval,
    Options,
    Rule,
    validate_params,
)
from tunekit._errors import InvalidParameterError
from tunekit._keras_memory import (
    custom_gradient_names,
    forget_custom_gradients,
    release_traced_graphs,
)
from tunekit._seeding import fresh_session
from tunekit._validation import (
    did_you_mean,
    invalid_parameter,
    received,
)
from tunekit._warnings import warn
from tunekit.estimators._build_fn import BuildSpec, build_spec, defines_call, describe
from tunekit.estimators._keras_arguments import (
    DATA_ARGUMENTS,
    FIT_ARGUMENTS,
    PREDICT_ARGUMENTS,
    RENAMED_ARGUMENTS,
    check_call_names,
    check_keras_argument,
)
from tunekit.estimators._targets import shape_of
from tunekit.labels._fit_checks import check_model_input, check_sample_weight

__all__ = ["KerasEstimatorBase", "floatx"]


class KerasEstimatorBase(BaseEstimator):
    """Parameters, validation, model building and fitting shared by both."""

    # Names of this estimator's own parameters (the rest go to the build fn).
    _own_parameters: tuple[str, ...] = ()
    # Keras arguments ``fit`` takes per call (see ``FIT_ARGUMENTS``).
    _fit_arguments: tuple[str, ...] = FIT_ARGUMENTS

    # The estimator's own simple parameters, checked in `fit` (scikit-learn's
    # contract: `__init__` only stores); `build_fn` has its own checks.
    _parameter_constraints: dict[str, Any] = {
        "epochs": POSITIVE_INT,
        "batch_size": POSITIVE_INT,
        "validation_split": VALIDATION_SPLIT,
        "callbacks": Rule(
            [list, tuple, None], "a list of keras.callbacks.Callback or None"
        ),
        "verbose": Rule(
            [Interval(numbers.Integral, 0, None, closed="left"), Options(["auto"])],
            "0, 1, 2 or 'auto'",
        ),
        "random_state": Rule(
            [Interval(numbers.Integral, None, None), np.random.RandomState, None],
            "None, an int or a numpy.random.RandomState",
        ),
        "warm_start": BOOL,
    }

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

    def _spec(self) -> BuildSpec | None:
        """What ``build_fn`` takes; None while it is unset or not callable.

        An unusable ``build_fn`` is reported by ``fit``, not by ``get_params``
        or ``set_params``, so that scikit-learn can always clone the estimator.
        """
        build_fn = self._build_function()
        if build_fn is None or not (
            callable(build_fn) or callable(getattr(build_fn, "build", None))
        ):
            return None
        return build_spec(build_fn, self._own_names())

    def _build_function(self) -> Any:
        """``build_fn``, or this object's own ``__call__`` when it is None.

        As with the old Keras wrapper, a subclass that defines ``__call__``
        can leave ``build_fn=None``: its ``__call__`` builds the model.
        """
        if self.build_fn is not None:
            return self.build_fn
        if defines_call(type(self)):
            return self.__call__
        return None

    @classmethod
    def _keras_parameter_names(cls) -> frozenset[str]:
        """Keras fit/predict arguments that may be estimator parameters too."""
        return frozenset((*cls._fit_arguments, *PREDICT_ARGUMENTS)) - cls._own_names()

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
            if name in RENAMED_ARGUMENTS:
                raise InvalidParameterError(
                    f"`{name}` was renamed `{RENAMED_ARGUMENTS[name]}` in Keras 2: "
                    f"pass `{RENAMED_ARGUMENTS[name]}=...`. "
                    f"Received: {name}={names[name]!r}"
                )
            if name in DATA_ARGUMENTS:
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
                f"argument of build_fn {describe(build_fn)}.{hint} Valid parameters: "
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

    def set_params(self, **params: Any) -> KerasEstimatorBase:
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
        build_spec(build_fn, self._own_names())  # raises if unusable
        constraints = self._parameter_constraints
        validate_params(
            constraints, {name: getattr(self, name) for name in constraints}
        )

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
        return X_val.astype(floatx(), copy=False)

    # -- Keras arguments per call ----------------------------------------------

    def _fit_options(self, kwargs: Mapping[str, Any]) -> dict[str, Any]:
        """Keras ``fit`` arguments for this call, validated; nothing is modified.

        The estimator's parameters come first, then Keras arguments given to
        the constructor, then the ones given to this call (``None`` there
        means "the estimator's value").
        """
        check_call_names(self, "fit", kwargs, self._fit_arguments)
        given = {k: v for k, v in kwargs.items() if v is not None}
        options: dict[str, Any] = {
            "epochs": self.epochs,
            "batch_size": self.batch_size,
            "validation_split": self.validation_split,
            "verbose": self.verbose,
        }
        options.update(
            {k: v for k, v in self._keras_parameters().items() if k in FIT_ARGUMENTS}
        )
        options.update(given)
        for name, value in options.items():
            check_keras_argument(name, value, epochs=options["epochs"])
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
        check_call_names(self, method, kwargs, PREDICT_ARGUMENTS)
        options = {
            k: v
            for k, v in self._keras_parameters().items()
            if k in PREDICT_ARGUMENTS and v is not None
        }
        options.update({k: v for k, v in kwargs.items() if v is not None})
        for name, value in options.items():
            check_keras_argument(name, value)
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

    def _build_arguments(self, spec: BuildSpec, X: np.ndarray) -> dict[str, Any]:
        self._check_build_param_names(self._build_params)
        missing = [name for name in spec.required if name not in self._build_params]
        if missing:
            name = missing[0]
            raise InvalidParameterError(
                f"build_fn {describe(self._build_function())} needs a value for "
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
        spec = build_spec(build_fn, self._own_names())
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
            release_traced_graphs(model)
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
        custom_gradients = custom_gradient_names()
        if not continue_training:
            self._discard_model()
            self.history_ = {}
        with fresh_session(seed, clear=not continue_training):
            model = self.model_ if continue_training else make_model()
            if validation is not None:
                options = {**options, "validation_data": validation()}
            history = model.fit(X, targets(), sample_weight=sample_weight, **options)
        for key, values in history.history.items():
            self.history_.setdefault(key, []).extend(float(v) for v in values)
        # The step functions are traced again on demand (warm start); keeping
        # them would keep their graphs alive for as long as the model lives.
        release_traced_graphs(model)
        forget_custom_gradients(custom_gradients)
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
            release_traced_graphs(self.model_)
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
        if shape_of(sample_weight):
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


def floatx() -> str:
    """Keras' float type, the dtype inputs and targets are given in."""
    import keras

    return keras.config.floatx()
