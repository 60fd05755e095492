"""Tests for tunekit.KerasClassifier / KerasRegressor (issue 3)."""

from __future__ import annotations

import pickle
import random
import re

import keras
import numpy as np
import pytest
from sklearn.base import clone, is_classifier, is_regressor
from sklearn.model_selection import (
    GridSearchCV,
    StratifiedKFold,
    check_cv,
    cross_val_score,
)
from sklearn.utils.estimator_checks import parametrize_with_checks

from tunekit import InvalidParameterError, KerasClassifier, KerasRegressor
from tunekit._errors import LabelMismatchError

# --------------------------------------------------------------------------
# Build functions (module level, so that n_jobs workers and pickle find them)
# --------------------------------------------------------------------------


def dense_classifier(
    hidden=16, learning_rate=0.05, eager=False, n_features_in_=None, n_classes_=None
):
    """Tiny dense classifier; ``eager`` skips tracing (faster on tiny data)."""
    model = keras.Sequential(
        [
            keras.Input((n_features_in_,)),
            keras.layers.Dense(hidden, activation="relu"),
            keras.layers.Dense(n_classes_, activation="softmax"),
        ]
    )
    model.compile(
        keras.optimizers.Adam(learning_rate),
        "sparse_categorical_crossentropy",
        metrics=["accuracy"],
        run_eagerly=eager,
    )
    return model


def dense_regressor(
    hidden=16, learning_rate=0.05, eager=False, n_features_in_=None, n_outputs_=None
):
    model = keras.Sequential(
        [
            keras.Input((n_features_in_,)),
            keras.layers.Dense(hidden, activation="relu"),
            keras.layers.Dense(n_outputs_),
        ]
    )
    model.compile(keras.optimizers.Adam(learning_rate), "mse", run_eagerly=eager)
    return model


def create_model(units=32, dropout_rate=0.2, loss="categorical_crossentropy"):
    """The seed's build function shape: fixed 64 inputs, 10-way softmax."""
    model = keras.Sequential(
        [
            keras.Input((64,)),
            keras.layers.Dense(units, activation="relu"),
            keras.layers.Dropout(dropout_rate),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )
    model.compile(optimizer="adam", loss=loss, metrics=["accuracy"])
    return model


def binary_model(n_features_in_, learning_rate=0.05, from_logits=False):
    model = keras.Sequential(
        [
            keras.Input((n_features_in_,)),
            keras.layers.Dense(1, activation=None if from_logits else "sigmoid"),
        ]
    )
    model.compile(
        keras.optimizers.Adam(learning_rate),
        keras.losses.BinaryCrossentropy(from_logits=from_logits),
    )
    return model


def small_cnn(filters=4, input_shape=None, n_classes_=None):
    model = keras.Sequential(
        [
            keras.Input(input_shape),
            keras.layers.Conv2D(filters, 3, activation="relu"),
            keras.layers.Flatten(),
            keras.layers.Dense(n_classes_, activation="softmax"),
        ]
    )
    model.compile("adam", "sparse_categorical_crossentropy")
    return model


def _hypermodel():
    import keras_tuner

    class TinyHyperModel(keras_tuner.HyperModel):
        def build(self, hp):
            units = hp.Int("dense_units", 8, 64, step=8, default=16)
            rate = hp.Choice("learning_rate", [0.01, 0.05], default=0.05)
            model = keras.Sequential(
                [
                    keras.Input((64,)),
                    keras.layers.Dense(units, activation="relu"),
                    keras.layers.Dense(10, activation="softmax"),
                ]
            )
            model.compile(
                keras.optimizers.Adam(rate), "sparse_categorical_crossentropy"
            )
            return model

    return TinyHyperModel()


@pytest.fixture(scope="module")
def flat_digits():
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    return (X / 16.0).astype("float32"), y.astype("int64")


# --------------------------------------------------------------------------
# scikit-learn's estimator checks
# --------------------------------------------------------------------------

_SAMPLE_WEIGHT_REASON = (
    "Fitting with integer sample weights is compared with fitting on repeated "
    "rows at rtol=1e-7; repeating rows changes the number and composition of "
    "Keras' mini-batches, so the float32 models differ slightly."
)
EXPECTED_FAILED_CHECKS = {
    "check_sample_weight_equivalence_on_dense_data": _SAMPLE_WEIGHT_REASON,
}

# The slowest checks (many fits each, or repeats of a check on read-only or
# float32 copies of the data) run in the slow job; the bulk runs by default.
_SLOW_CHECKS = {
    "check_fit_idempotent",
    "check_methods_sample_order_invariance",
    "check_methods_subset_invariance",
    "check_sample_weights_invariance",
    "check_estimators_overwrite_params",
    "check_classifiers_classes",
    "check_supervised_y_2d",
    "check_fit_check_is_fitted",
    "check_estimators_dtypes",
    "check_classifier_data_not_an_array",
    "check_regressor_data_not_an_array",
    "check_pipeline_consistency",
}


def _check_name(check):
    return getattr(check, "func", check).__name__


def _is_slow(check):
    keywords = getattr(check, "keywords", {}) or {}
    return _check_name(check) in _SLOW_CHECKS or bool(keywords)


def _with_slow_marks(decorator):
    """Mark the slow checks of a parametrize_with_checks decorator."""
    mark = decorator.mark
    params = []
    for value in mark.args[1]:
        values = getattr(value, "values", value)
        marks = list(getattr(value, "marks", ()))
        if _is_slow(values[1]):
            marks.append(pytest.mark.slow)
        params.append(pytest.param(*values, marks=marks, id=getattr(value, "id", None)))
    kwargs = dict(mark.kwargs)
    ids = kwargs.get("ids")
    if callable(ids):
        # without the build function's address: the same id in every process
        # (pytest-xdist workers must collect identical ids)
        kwargs["ids"] = lambda obj: re.sub(r"\s*at\s*0x[0-9a-f]+", "", str(ids(obj)))
    return pytest.mark.parametrize(mark.args[0], params, **kwargs)


_CHECK_ESTIMATORS = [
    KerasClassifier(dense_classifier, epochs=3, eager=True),
    KerasRegressor(dense_regressor, epochs=3, eager=True),
]


@_with_slow_marks(
    parametrize_with_checks(
        _CHECK_ESTIMATORS,
        expected_failed_checks=lambda estimator: EXPECTED_FAILED_CHECKS,
    )
)
def test_sklearn_estimator_checks(estimator, check, monkeypatch):
    # scikit-learn's array-API check (NumPy namespace only, since the estimators
    # do not claim array-API support) skips itself unless this is set.
    monkeypatch.setenv("SCIPY_ARRAY_API", "1")
    check(estimator)


# --------------------------------------------------------------------------
# Parameters: build-function arguments are estimator parameters
# --------------------------------------------------------------------------


def test_get_params_exposes_build_function_arguments_with_defaults():
    est = KerasClassifier(create_model, units=64)
    params = est.get_params()
    assert params["units"] == 64
    assert params["dropout_rate"] == 0.2  # default read from the signature
    assert params["loss"] == "categorical_crossentropy"
    assert {"epochs", "batch_size", "random_state", "class_weight"} <= set(params)
    assert est.units == 64


def test_clone_keeps_build_parameters_and_set_params_updates_them():
    est = KerasClassifier(create_model, units=64, epochs=3)
    copy = clone(est)
    assert copy.get_params()["units"] == 64
    assert copy.get_params()["epochs"] == 3
    copy.set_params(units=128, dropout_rate=0.5)
    assert (copy.units, copy.dropout_rate) == (128, 0.5)
    assert est.units == 64  # the original is untouched


@pytest.mark.parametrize(
    "make",
    [
        lambda: KerasClassifier(create_model, unit=64),
        lambda: KerasClassifier(create_model).set_params(dropout=0.1),
    ],
)
def test_unknown_parameter_raises_with_did_you_mean(make):
    with pytest.raises(InvalidParameterError, match="Did you mean"):
        make()


def test_data_dependent_arguments_cannot_be_set():
    with pytest.raises(InvalidParameterError, match="n_classes_"):
        KerasClassifier(dense_classifier, n_classes_=3)


def test_hypermodel_hyperparameters_become_parameters(flat_digits):
    X, y = flat_digits
    est = KerasClassifier(_hypermodel(), epochs=1, random_state=0)
    params = est.get_params()
    assert params["dense_units"] == 16
    assert params["learning_rate"] == 0.05
    with pytest.raises(InvalidParameterError, match="dense_units"):
        est.set_params(dense_unit=8)
    grid = GridSearchCV(est, {"dense_units": [8, 24]}, cv=2).fit(X[:200], y[:200])
    assert (
        grid.best_estimator_.model_.layers[0].units == grid.best_params_["dense_units"]
    )


def test_build_cnn_hypermodel_as_build_fn(digits):
    from tunekit import build_cnn_hypermodel

    X, y = digits
    hypermodel = build_cnn_hypermodel((8, 8, 1), 10)
    est = KerasClassifier(hypermodel, epochs=1, random_state=0)
    assert "dense_units" in est.get_params()
    est.fit(X[:200], y[:200])
    assert est.predict_proba(X[:5]).shape == (5, 10)


# --------------------------------------------------------------------------
# Fresh model per fit, seeding, reproducibility
# --------------------------------------------------------------------------


def test_every_fit_builds_a_fresh_model_in_a_clear_session(flat_digits):
    X, y = flat_digits
    est = KerasClassifier(dense_classifier, epochs=1, random_state=0, eager=True)
    est.fit(X[:200], y[:200])
    first = est.model_
    est.fit(X[:200], y[:200])
    assert est.model_ is not first
    assert est.model_.layers[0].name == "dense"  # names restart: session cleared
    assert len(est.history_["loss"]) == 1


def test_warm_start_continues_training(flat_digits):
    X, y = flat_digits
    est = KerasClassifier(dense_classifier, epochs=1, random_state=0, warm_start=True)
    est.fit(X[:200], y[:200])
    model, weights = est.model_, est.model_.get_weights()[0].copy()
    est.fit(X[:200], y[:200])
    assert est.model_ is model
    assert len(est.history_["loss"]) == 2
    assert not np.array_equal(weights, est.model_.get_weights()[0])


def test_same_random_state_gives_identical_models(flat_digits):
    X, y = flat_digits
    est = KerasClassifier(create_model, units=16, epochs=1, random_state=7)
    a = clone(est).fit(X[:300], y[:300]).predict_proba(X[300:400])
    b = clone(est).fit(X[:300], y[:300]).predict_proba(X[300:400])
    c = clone(est).set_params(random_state=8).fit(X[:300], y[:300])
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c.predict_proba(X[300:400]))


def test_cross_val_score_is_reproducible(flat_digits):
    X, y = flat_digits
    est = KerasClassifier(dense_classifier, epochs=1, random_state=0, eager=True)
    first = cross_val_score(est, X[:300], y[:300], cv=3)
    second = cross_val_score(est, X[:300], y[:300], cv=3)
    np.testing.assert_array_equal(first, second)


def test_seeding_restores_global_random_state(flat_digits):
    X, y = flat_digits
    keras.utils.set_random_seed(123)
    python_state, numpy_state = random.getstate(), np.random.get_state()
    KerasClassifier(dense_classifier, epochs=1, random_state=0).fit(X[:100], y[:100])
    assert random.getstate() == python_state
    restored = np.random.get_state()
    assert restored[0] == numpy_state[0]
    np.testing.assert_array_equal(restored[1], numpy_state[1])
    from keras.src.backend.common import global_state

    assert global_state.get_global_attribute("global_random_seed") == 123
    # SciKeras' leak: an unseeded fit afterwards must still work.
    KerasClassifier(dense_classifier, epochs=1).fit(X[:100], y[:100])
    keras.layers.Dropout(0.5)(np.ones((4, 4), "float32"), training=True)


def test_traced_graphs_are_released_between_fits(flat_digits):
    pytest.importorskip("tensorflow")
    if keras.backend.backend() != "tensorflow":
        pytest.skip("TensorFlow graphs only exist on the TensorFlow backend")
    from tensorflow.python.eager import context
    from tensorflow.python.framework import ops

    X, y = flat_digits
    est = KerasClassifier(create_model, loss="sparse_categorical_crossentropy")
    functions, gradients = [], []
    for _ in range(3):
        clone(est).fit(X[:100], y[:100]).predict(X[:10])
        functions.append(len(context.context().list_function_names()))
        gradients.append(len(ops._gradient_registry._registry))
    # Without the release, each fit leaves ~20 functions registered in the
    # eager context and a custom gradient (holding the traced graph) behind.
    assert functions[2] <= functions[1] <= functions[0] + 2
    assert gradients[2] == gradients[1] == gradients[0]


# --------------------------------------------------------------------------
# Targets, losses, class weights, inputs
# --------------------------------------------------------------------------


def test_categorical_loss_works_with_integer_labels_not_starting_at_zero(flat_digits):
    X, y = flat_digits
    est = KerasClassifier(create_model, epochs=2, random_state=0)
    est.fit(X[:600], y[:600] + 5)
    np.testing.assert_array_equal(est.classes_, np.arange(5, 15))
    predictions = est.predict(X[600:900])
    assert set(predictions) <= set(range(5, 15))
    # Twice chance level; a label mix-up (e.g. an offset of 5) gives ~0.
    assert np.mean(predictions == y[600:900] + 5) > 0.2


def test_string_labels_with_binary_sigmoid_head():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3)).astype("float32")
    y = np.where(X[:, 0] + X[:, 1] > 0, "spam", "ham")
    est = KerasClassifier(binary_model, epochs=10, random_state=0).fit(X, y)
    proba = est.predict_proba(X)
    assert proba.shape == (200, 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert set(est.predict(X)) <= {"ham", "spam"}
    assert est.score(X, y) > 0.8


def test_logits_are_turned_into_probabilities():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(120, 2)).astype("float32")
    y = (X[:, 0] > 0).astype(int)
    est = KerasClassifier(binary_model, from_logits=True, epochs=5, random_state=0)
    proba = est.fit(X, y).predict_proba(X)
    assert proba.min() >= 0.0 and proba.max() <= 1.0


def test_head_that_does_not_match_the_classes_fails_before_training(flat_digits):
    X, y = flat_digits
    est = KerasClassifier(create_model)  # 10-unit head
    with pytest.raises(LabelMismatchError, match="10 units"):
        est.fit(X[:100], np.where(y[:100] > 4, 1, 0))
    assert not hasattr(est, "model_")


def test_images_with_input_shape_argument(digits):
    X, y = digits
    est = KerasClassifier(small_cnn, epochs=1, random_state=0).fit(X[:200], y[:200])
    assert est.input_shape_ == (8, 8, 1)
    assert est.predict(X[:10]).shape == (10,)
    with pytest.raises(ValueError, match="expecting samples of shape"):
        est.predict(X[:10, :, :4])


def test_class_weight_and_sample_weight_never_modify_inputs(flat_digits):
    X, y = flat_digits
    X_before, sample_weight = X[:200].copy(), np.ones(200)
    for class_weight in ("balanced", {c: 2.0 for c in range(10)}):
        est = KerasClassifier(
            dense_classifier, epochs=1, class_weight=class_weight, eager=True
        )
        est.fit(X[:200], y[:200], sample_weight=sample_weight)
    np.testing.assert_array_equal(sample_weight, np.ones(200))
    np.testing.assert_array_equal(X[:200], X_before)


def test_class_weight_with_unknown_class_is_rejected(flat_digits):
    X, y = flat_digits
    est = KerasClassifier(dense_classifier, class_weight={"3": 2.0})
    with pytest.raises(InvalidParameterError, match="class_weight"):
        est.fit(X[:100], y[:100])


@pytest.mark.parametrize(
    "params, match",
    [
        ({"epochs": 0}, "epochs"),
        ({"batch_size": 2.5}, "batch_size"),
        ({"validation_split": 1.0}, "validation_split"),
        ({"callbacks": "early"}, "callbacks"),
        ({"build_fn": None}, "build_fn"),
        ({"build_fn": 3}, "build_fn"),
    ],
)
def test_bad_parameters_fail_before_training(flat_digits, params, match):
    X, y = flat_digits
    est = KerasClassifier(dense_classifier).set_params(**params)
    with pytest.raises(InvalidParameterError, match=match):
        est.fit(X[:50], y[:50])
    assert not hasattr(est, "model_")


def test_required_build_argument_must_be_given(flat_digits):
    X, y = flat_digits

    def needs_units(units, n_classes_):
        return create_model(units)

    with pytest.raises(InvalidParameterError, match="units"):
        KerasClassifier(needs_units).fit(X[:50], y[:50])


# --------------------------------------------------------------------------
# scikit-learn integration
# --------------------------------------------------------------------------


def test_tags_make_cross_validation_stratified():
    clf = KerasClassifier(create_model)
    assert is_classifier(clf) and not is_regressor(clf)
    assert is_regressor(KerasRegressor(dense_regressor))
    assert isinstance(
        check_cv(3, np.arange(30) % 3, classifier=is_classifier(clf)), StratifiedKFold
    )


def test_pickle_round_trip_predicts_identically(flat_digits):
    X, y = flat_digits
    est = KerasClassifier(create_model, units=16, epochs=1, random_state=0)
    est.fit(X[:300], y[:300])
    restored = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(
        restored.predict_proba(X[300:]), est.predict_proba(X[300:])
    )
    assert restored.get_params()["units"] == 16


def test_a_classifier_pickled_before_the_module_split_still_loads(flat_digits):
    """Pickles name classes by module path: the estimator's stays the same, and
    the target encoding's old path (``_estimators._TargetEncoding``) resolves."""
    X, y = flat_digits
    est = KerasClassifier(create_model, units=16, epochs=1, random_state=0)
    est.fit(X[:300], y[:300])
    data = pickle.dumps(est, protocol=2)  # protocol 2 spells paths out as text
    assert b"ctunekit.estimators._estimators\nKerasClassifier\n" in data
    moved = b"ctunekit.estimators._targets\nTargetEncoding\n"
    assert moved in data
    before = data.replace(moved, b"ctunekit.estimators._estimators\n_TargetEncoding\n")
    restored = pickle.loads(before)
    np.testing.assert_array_equal(
        restored.predict_proba(X[300:]), est.predict_proba(X[300:])
    )


def test_regressor_multi_output(flat_digits):
    X, _ = flat_digits
    targets = np.column_stack([X[:, :8].sum(axis=1), X[:, 8:16].mean(axis=1)])
    reg = KerasRegressor(dense_regressor, epochs=5, random_state=0).fit(
        X[:400], targets[:400]
    )
    assert reg.n_outputs_ == 2
    assert reg.predict(X[400:410]).shape == (10, 2)
    assert reg.score(X[400:], targets[400:]) > 0.0


def test_grid_search_over_build_parameters_with_two_jobs(flat_digits):
    X, y = flat_digits
    grid = GridSearchCV(
        KerasClassifier(dense_classifier, epochs=5, random_state=0),
        {"hidden": [8, 16]},
        cv=2,
        n_jobs=2,
    )
    grid.fit(X[:300], y[:300])
    assert grid.best_params_["hidden"] in (8, 16)
    assert grid.best_estimator_.model_.layers[0].units == grid.best_params_["hidden"]
    assert grid.best_score_ > 0.5


def test_seed_grid_search_example_runs_unchanged(flat_digits):
    """The seed's GridSearchCV example, with only the class name changed."""
    pytest.importorskip("tensorflow")
    from tensorflow import keras  # as in the seed

    X_train, y_train = flat_digits[0][:900], flat_digits[1][:900]

    def create_model(units=128, dropout_rate=0.2):
        model = keras.Sequential(
            [
                keras.layers.Dense(
                    units, activation="relu", input_shape=(X_train.shape[1],)
                ),
                keras.layers.Dropout(dropout_rate),
                keras.layers.Dense(10, activation="softmax"),
            ]
        )  # Example architecture
        model.compile(
            optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"]
        )
        return model

    keras_clf = KerasClassifier(build_fn=create_model)
    param_grid = {"units": [64, 128, 256], "dropout_rate": [0.2, 0.5]}
    grid = GridSearchCV(
        keras_clf, param_grid, cv=3, scoring="accuracy", verbose=1, n_jobs=-1
    )
    grid.fit(X_train, y_train)

    print(f"Best Hyperparameters: {grid.best_params_}")
    print(f"Best Score: {grid.best_score_}")
    assert set(grid.best_params_) == {"units", "dropout_rate"}
    assert len(grid.cv_results_["mean_test_score"]) == 6
    assert grid.best_score_ > 0.6
