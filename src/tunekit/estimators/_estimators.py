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

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
from sklearn.base import ClassifierMixin, RegressorMixin
from sklearn.utils.class_weight import compute_sample_weight
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, column_or_1d

from tunekit._constraints import Options, Rule
from tunekit._errors import InvalidParameterError
from tunekit._validation import received
from tunekit.estimators._base import KerasEstimatorBase, floatx
from tunekit.estimators._keras_arguments import (
    FIT_ARGUMENTS,
    check_same_length,
    shown,
    unpack_validation,
)
from tunekit.estimators._targets import (
    TargetEncoding,
    class_probabilities,
    classifier_encoding,
    encode_classes,
    is_label_matrix,
    one_hot_indices,
    output_units,
    single_loss,
)
from tunekit.labels._fit_checks import check_label_class_weight, check_sample_weight

__all__ = ["KerasClassifier", "KerasRegressor"]

# Classifiers pickled before the target encoding moved to ``_targets`` name
# its class by this path; it keeps them loadable.
_TargetEncoding = TargetEncoding


class KerasClassifier(ClassifierMixin, KerasEstimatorBase):
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
    _encoding: TargetEncoding

    _parameter_constraints = {
        **KerasEstimatorBase._parameter_constraints,
        "class_weight": Rule(
            [Options(["balanced"]), Mapping, None],
            '"balanced", a dict {class label: weight} or None',
            hint="Turn an array from compute_class_weight into a dict with "
            "`dict(zip(classes, weights))`.",
        ),
    }

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
        if is_label_matrix(y):
            rows = np.asarray(y)
            indices = one_hot_indices(rows, argname)
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
                f"{received(argname, shown(labels))}"
            )
        return np.searchsorted(self.classes_, labels)

    def _validation_for_fit(self, validation_data: Any) -> Callable[[], tuple] | None:
        """Check ``validation_data`` now; encode its labels once the model exists."""
        if validation_data is None:
            return None
        X_val, y_val, w_val = unpack_validation(validation_data)
        X_val = self._validation_inputs(X_val)
        indices = self._label_indices(y_val, "validation_data")
        check_same_length(X_val, indices)
        w_val = check_sample_weight(
            w_val, len(X_val), argname="validation_data (sample weights)"
        )

        def validation() -> tuple:
            encoded = encode_classes(indices, self._encoding, self.n_classes_)
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
        one_hot = is_label_matrix(y)
        X, y = self._validate_X_y(
            X, y, reset=not continue_training, multi_output=one_hot
        )
        if one_hot:
            indices: np.ndarray = one_hot_indices(np.asarray(y), "y")
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
        X = X.astype(floatx(), copy=False)

        def make_model() -> Any:
            # The encoding depends on the compiled loss and the head's size.
            model = self._build_model(X)
            self._encoding = classifier_encoding(
                single_loss(model), output_units(model, X[:1]), self.n_classes_
            )
            _check_model_labels(model, targets())
            return model

        def targets() -> Any:
            return encode_classes(indices, self._encoding, self.n_classes_)

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
        return class_probabilities(self._predict_raw(X, options), self._encoding)

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
        if is_label_matrix(y):
            y = self.classes_[self._label_indices(y, "y")]
        predictions = self.classes_[np.argmax(self._proba(X, "score", kwargs), axis=1)]
        return float(accuracy_score(y, predictions, sample_weight=sample_weight))


def _check_model_labels(model: Any, y: Any) -> None:
    """Run tunekit's head/loss/labels check when it is available."""
    try:
        from tunekit.labels._model_checks import check_model_labels
    except ImportError:  # pragma: no cover - shipped together
        return
    check_model_labels(model, y)


class KerasRegressor(RegressorMixin, KerasEstimatorBase):
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
    _fit_arguments = tuple(name for name in FIT_ARGUMENTS if name != "class_weight")

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
        X_val, y_val, w_val = unpack_validation(validation_data)
        X_val = self._validation_inputs(X_val)
        y_val = np.asarray(y_val, dtype=floatx())
        y_val = y_val.reshape(len(y_val), -1)
        check_same_length(X_val, y_val)
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
        y = np.asarray(y, dtype=floatx())
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
        X = X.astype(floatx(), copy=False)
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
