"""Code written for ``tf.keras.wrappers.scikit_learn`` runs with the import swapped.

The contract is the removed Keras 2 wrapper and its tests: Keras keyword
arguments on ``fit``/``predict``/``predict_proba``/``score``, ``sk_params`` in
the constructor, ``build_fn=None`` on a subclass with ``__call__``, a callable
object as ``build_fn``, one-hot targets, ``.model`` and ``fit(...).history``.
Also: the pre-training data and weight checks of issue 10 in the estimators.
"""

from __future__ import annotations

import warnings

import keras
import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.metrics import r2_score
from sklearn.model_selection import GridSearchCV, KFold

from tunekit import InvalidParameterError, KerasClassifier, KerasRegressor

N_FEATURES = 64


def build_fn_clf(hidden_dim=8, n_classes=3):
    """The old wrapper tests' shape: fixed input, categorical loss, accuracy."""
    model = keras.Sequential(
        [
            keras.Input((N_FEATURES,)),
            keras.layers.Dense(hidden_dim, activation="relu"),
            keras.layers.Dense(n_classes, activation="softmax"),
        ]
    )
    model.compile(
        keras.optimizers.Adam(0.05),
        "categorical_crossentropy",
        metrics=["accuracy"],
        run_eagerly=True,
    )
    return model


def build_fn_reg(hidden_dim=8):
    model = keras.Sequential(
        [
            keras.Input((N_FEATURES,)),
            keras.layers.Dense(hidden_dim, activation="relu"),
            keras.layers.Dense(1),
        ]
    )
    model.compile(keras.optimizers.Adam(0.05), "mae", run_eagerly=True)
    return model


def image_model(n_classes_=None):
    model = keras.Sequential(
        [
            keras.Input((8, 8, 1)),
            keras.layers.Conv2D(4, 3, activation="relu"),
            keras.layers.Flatten(),
            keras.layers.Dense(n_classes_, activation="softmax"),
        ]
    )
    model.compile("adam", "sparse_categorical_crossentropy", run_eagerly=True)
    return model


class EpochCounter(keras.callbacks.Callback):
    """Counts the epochs and fits it sees (as given, not copied)."""

    def __init__(self):
        super().__init__()
        self.epochs = 0
        self.fits = 0

    def on_train_begin(self, logs=None):
        self.fits += 1

    def on_epoch_end(self, epoch, logs=None):
        self.epochs += 1


@pytest.fixture(scope="module")
def three_digits():
    """Digits 0, 1, 2 as flat rows: 150 training and 60 test samples."""
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    keep = y < 3
    X, y = (X[keep] / 16.0).astype("float32"), y[keep]
    return X[:150], y[:150], X[150:210], y[150:210]


# --------------------------------------------------------------------------
# The old wrapper's test suite, as written for Keras 2
# --------------------------------------------------------------------------


def assert_classification_works(clf, X, y, X_test, labels):
    returned = clf.fit(X, y, sample_weight=np.ones(len(X)), batch_size=32, epochs=2)
    assert returned is clf
    assert len(returned.history["loss"]) == 2  # the old `fit(...).history`
    score = clf.score(X, y, batch_size=16)
    assert np.isscalar(score) and np.isfinite(score)
    preds = clf.predict(X_test, batch_size=16)
    assert preds.shape == (len(X_test),)
    assert set(np.unique(preds)) <= set(labels)
    proba = clf.predict_proba(X_test, batch_size=16)
    assert proba.shape == (len(X_test), 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)


class ClassBuildFn:
    def __call__(self, hidden_dim):
        return build_fn_clf(hidden_dim)


class InheritClassBuildFn(KerasClassifier):
    def __call__(self, hidden_dim):
        return build_fn_clf(hidden_dim)


@pytest.mark.parametrize(
    "make",
    [
        lambda: KerasClassifier(
            build_fn=build_fn_clf, hidden_dim=8, batch_size=16, epochs=1
        ),
        lambda: KerasClassifier(
            build_fn=ClassBuildFn(), hidden_dim=8, batch_size=16, epochs=1
        ),
        lambda: InheritClassBuildFn(build_fn=None, hidden_dim=8, batch_size=16),
    ],
    ids=["function", "callable_object", "subclass_call"],
)
def test_old_wrapper_classification_suite(three_digits, make):
    X, y, X_test, _ = three_digits
    clf = make()
    assert_classification_works(clf, X, y, X_test, range(3))
    names = np.array(["cls0", "cls1", "cls2"])
    assert_classification_works(clf, X, names[y], X_test, names)
    assert clone(clf).get_params()["hidden_dim"] == 8


class InheritRegressor(KerasRegressor):
    def __call__(self, hidden_dim=8):
        return build_fn_reg(hidden_dim)


@pytest.mark.parametrize(
    "make",
    [
        lambda: KerasRegressor(build_fn=build_fn_reg, hidden_dim=4, batch_size=16),
        lambda: InheritRegressor(build_fn=None, hidden_dim=4, batch_size=16),
    ],
    ids=["function", "subclass_call"],
)
def test_old_wrapper_regression_suite(three_digits, make):
    X, y, X_test, _ = three_digits
    reg = make()
    reg.fit(X, y.astype("float32"), batch_size=16, epochs=2)
    score = reg.score(X, y, batch_size=16)
    assert np.isscalar(score) and np.isfinite(score)
    assert reg.predict(X_test, batch_size=16).shape == (len(X_test),)
    assert reg.predict(X_test[:1], batch_size=16).shape == (1,)
    assert reg.predict(X_test[:0], batch_size=16).shape == (0,)


def test_build_fn_returning_the_same_model_object_twice(three_digits):
    """The old tests cache the compiled model in the build function."""
    X, y, X_test, _ = three_digits
    cache = {}

    def cached(hidden_dim=8):
        if hidden_dim not in cache:
            cache[hidden_dim] = build_fn_clf(hidden_dim)
        return cache[hidden_dim]

    clf = KerasClassifier(cached, epochs=1, batch_size=16)
    clf.fit(X, y)
    clf.fit(X, y)
    assert clf.model is cache[8]
    assert clf.predict(X_test).shape == (len(X_test),)


# --------------------------------------------------------------------------
# Keras arguments per call and in the constructor (sk_params)
# --------------------------------------------------------------------------


def test_fit_arguments_apply_to_that_call_only(three_digits):
    X, y, _, _ = three_digits
    clf = KerasClassifier(build_fn_clf, epochs=1, batch_size=32)
    before = clf.get_params()
    clf.fit(X, y, epochs=3, batch_size=8, verbose=0, shuffle=False)
    assert len(clf.history["loss"]) == 3
    assert clf.get_params() == before  # nothing stored
    clf.fit(X, y)
    assert len(clf.history_["loss"]) == 1


def test_validation_data_with_original_labels(three_digits):
    X, y, X_test, y_test = three_digits
    names = np.array(["zero", "one", "two"])
    clf = KerasClassifier(build_fn_clf, epochs=2, batch_size=16)
    clf.fit(X, names[y], validation_data=(X_test, names[y_test]))
    assert len(clf.history["val_loss"]) == 2
    assert len(clf.history["val_accuracy"]) == 2


def test_sk_params_style_constructor(three_digits):
    X, y, _, _ = three_digits
    clf = KerasClassifier(
        build_fn=build_fn_clf, epochs=3, batch_size=8, verbose=0, initial_epoch=2
    )
    assert clf.get_params()["initial_epoch"] == 2
    assert clone(clf).get_params()["initial_epoch"] == 2
    clf.fit(X, y)
    assert len(clf.history["loss"]) == 1  # epochs 2 -> 3 only
    clf.set_params(initial_epoch=0, shuffle=False)
    assert len(clf.fit(X, y).history["loss"]) == 3
    with pytest.raises(InvalidParameterError, match="Did you mean 'shuffle'"):
        KerasClassifier(build_fn_clf, suffle=False)


def test_grid_search_routes_fit_parameters(three_digits):
    X, y, _, _ = three_digits
    counter = EpochCounter()
    grid = GridSearchCV(
        KerasClassifier(build_fn_clf, epochs=1, batch_size=16),
        {"hidden_dim": [4, 8], "epochs": [1, 2]},
        cv=KFold(2),
    )
    grid.fit(X, y, callbacks=[counter])
    # 4 candidates x 2 folds, then the refit of the best candidate.
    assert counter.fits == 9
    # Per fold: 1 + 2 epochs for each hidden_dim; then the refit.
    assert counter.epochs == 2 * 2 * (1 + 2) + grid.best_params_["epochs"]
    assert grid.best_estimator_.model.layers[0].units == grid.best_params_["hidden_dim"]


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda c, X, y: c.fit(X, y, epoch=3), "Did you mean 'epochs'"),
        (lambda c, X, y: c.fit(X, y, nb_epoch=3), "renamed `epochs`"),
        (lambda c, X, y: c.fit(X, y, epochs=0), "epochs"),
        (lambda c, X, y: c.fit(X, y, initial_epoch=1), "smaller than epochs=1"),
        (lambda c, X, y: c.fit(X, y, shuffle="yes"), "shuffle"),
        (lambda c, X, y: c.fit(X, y, validation_data=(X,)), "validation_data"),
        (lambda c, X, y: c.fit(X, y, callbacks="early"), "callbacks"),
        (
            lambda c, X, y: c.fit(X, y, validation_data=(X[:, :32], y)),
            r"`validation_data` has samples of shape \(32,\)",
        ),
        (
            lambda c, X, y: c.fit(X, y, validation_data=(X, y + 7)),
            "not classes of y",
        ),
    ],
)
def test_bad_fit_arguments_fail_before_training(three_digits, call, match):
    X, y, _, _ = three_digits
    clf = KerasClassifier(build_fn_clf, epochs=1)
    with pytest.raises(InvalidParameterError, match=match):
        call(clf, X, y)
    assert not hasattr(clf, "model_")


def test_predict_arguments_are_checked_by_name(three_digits):
    X, y, X_test, y_test = three_digits
    clf = KerasClassifier(build_fn_clf, epochs=1).fit(X, y)
    with pytest.raises(InvalidParameterError, match="Did you mean 'batch_size'"):
        clf.predict(X_test, batch=8)
    with pytest.raises(InvalidParameterError, match="predict_proba"):
        clf.predict_proba(X_test, epochs=2)
    with pytest.raises(InvalidParameterError, match="score"):
        clf.score(X_test, y_test, shuffle=True)
    counter = EpochCounter()
    predictions = clf.predict(X_test, batch_size=7, verbose=0, callbacks=[counter])
    np.testing.assert_array_equal(predictions, clf.predict(X_test))
    reg = KerasRegressor(build_fn_reg)
    with pytest.raises(InvalidParameterError, match="class_weight"):
        reg.fit(X, y, class_weight={0: 1.0})


# --------------------------------------------------------------------------
# Targets, scores and the old read-only names
# --------------------------------------------------------------------------


def test_one_hot_targets_are_decoded(three_digits):
    X, y, X_test, y_test = three_digits
    one_hot = np.eye(3, dtype="float32")
    clf = KerasClassifier(build_fn_clf, epochs=3, batch_size=16, random_state=0)
    clf.fit(X, one_hot[y], validation_data=(X_test, one_hot[y_test]))
    np.testing.assert_array_equal(clf.classes_, [0, 1, 2])
    predictions = clf.predict(X_test)
    assert set(predictions) <= {0, 1, 2}
    assert clf.score(X_test, one_hot[y_test]) == clf.score(X_test, y_test)
    assert clf.score(X_test, y_test) > 0.6
    multi_hot = one_hot[y].copy()
    multi_hot[0] = [1, 1, 0]
    with pytest.raises(InvalidParameterError, match="one-hot rows"):
        clone(clf).fit(X, multi_hot)


def test_model_and_history_are_the_old_read_only_names(three_digits):
    X, y, _, _ = three_digits
    clf = KerasClassifier(build_fn_clf, epochs=2)
    with pytest.raises(NotFittedError, match="model"):
        _ = clf.model
    assert not hasattr(clf, "history")
    history = clf.fit(X, y)  # the old wrapper returned a History here
    assert history.history["loss"] == clf.history_["loss"]
    assert isinstance(clf.model, keras.Model) and clf.model is clf.model_
    with pytest.raises(AttributeError):
        clf.model = None


def test_regressor_score_is_r2_not_minus_the_loss(three_digits):
    X, _, X_test, _ = three_digits
    target = X[:, :8].sum(axis=1)
    reg = KerasRegressor(build_fn_reg, epochs=5, batch_size=16, random_state=0)
    reg.fit(X, target)
    test_target = X_test[:, :8].sum(axis=1)
    expected = r2_score(test_target, reg.predict(X_test))
    assert reg.score(X_test, test_target) == pytest.approx(expected)
    loss = reg.model.evaluate(X_test, test_target, verbose=0)
    assert reg.score(X_test, test_target) != pytest.approx(-loss)


# --------------------------------------------------------------------------
# No silent data or weight mistakes (issue 10), before any epoch
# --------------------------------------------------------------------------


def test_class_weight_with_string_keys_for_integer_labels(three_digits):
    X, y, _, _ = three_digits
    clf = KerasClassifier(build_fn_clf, class_weight={"0": 1.0, "1": 2.0, "2": 1.0})
    with pytest.raises(InvalidParameterError, match="write 0, not '0'"):
        clf.fit(X, y)
    assert not hasattr(clf, "model_")


def test_class_weight_naming_a_class_not_in_y(three_digits):
    X, y, _, _ = three_digits
    clf = KerasClassifier(build_fn_clf, class_weight={0: 1.0, 1: 2.0, 7: 3.0})
    with pytest.raises(InvalidParameterError, match=r"\[7\] are not classes of y"):
        clf.fit(X, y)


def test_class_weight_missing_classes_warns_once_and_uses_one(three_digits):
    X, y, X_test, _ = three_digits
    partial = KerasClassifier(
        build_fn_clf, class_weight={0: 3.0}, epochs=1, random_state=0
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        partial.fit(X, y)
    messages = [str(w.message) for w in caught if "class_weight" in str(w.message)]
    assert len(messages) == 1 and "[1, 2]" in messages[0]
    assert "weight 1.0" in messages[0]
    full = clone(partial).set_params(class_weight={0: 3.0, 1: 1.0, 2: 1.0})
    np.testing.assert_array_equal(
        partial.predict_proba(X_test), full.fit(X, y).predict_proba(X_test)
    )


@pytest.mark.parametrize(
    "weights, match",
    [
        (lambda n: np.r_[np.ones(n - 1), np.nan], "NaN or infinite"),
        (lambda n: np.r_[np.ones(n - 1), -1.0], "negative"),
        (lambda n: np.zeros(n), "all zero"),
        (lambda n: np.ones(n - 1), "one weight per sample"),
    ],
)
def test_bad_sample_weight_fails_before_training(three_digits, weights, match):
    X, y, _, _ = three_digits
    for est, target in (
        (KerasClassifier(build_fn_clf), y),
        (KerasRegressor(build_fn_reg), y.astype("float32")),
    ):
        with pytest.raises(InvalidParameterError, match=match):
            est.fit(X, target, sample_weight=weights(len(X)))
        assert not hasattr(est, "model_")


def test_images_given_to_a_flat_model_and_back(digits):
    images, y = digits
    flat = KerasClassifier(build_fn_clf, n_classes=10)
    with pytest.raises(InvalidParameterError, match="model's Input is flat") as info:
        flat.fit(images[:60], y[:60])
    assert "reshape(len(X), -1)" in str(info.value)
    assert "Received: X.shape=(60, 8, 8, 1)" in str(info.value)
    assert not hasattr(flat, "model_")
    conv = KerasClassifier(image_model)
    with pytest.raises(InvalidParameterError, match="expects images"):
        conv.fit(images[:60].reshape(60, -1), y[:60])
