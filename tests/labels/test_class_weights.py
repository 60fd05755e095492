"""Tests for tunekit.class_weights and tunekit.sample_weights."""

from __future__ import annotations

import copy

import keras
import numpy as np
import pytest
from sklearn.utils.class_weight import compute_class_weight

import tunekit
from tunekit import ImageDirectoryError, InvalidParameterError


def sklearn_weights(y, classes=None):
    classes = np.unique(y) if classes is None else np.asarray(classes)
    return compute_class_weight("balanced", classes=classes, y=y)


def assert_exact(result, expected_keys, expected_values):
    assert list(result) == list(expected_keys)
    assert all(type(k) is int for k in result)
    assert all(type(v) is float for v in result.values())
    np.testing.assert_array_equal(list(result.values()), expected_values)


Y_IMBALANCED = np.array([0] * 12 + [1] * 5 + [2] * 2 + [5] * 1)


# ---------------------------------------------------------------- sources


def test_integer_labels_match_sklearn_and_keep_label_values_as_keys():
    result = tunekit.class_weights(Y_IMBALANCED)
    assert_exact(result, [0, 1, 2, 5], sklearn_weights(Y_IMBALANCED))


def test_list_bool_and_float_integer_labels():
    y = [1, 0, 0, 0]
    assert tunekit.class_weights(y) == dict(enumerate(sklearn_weights(np.array(y))))
    assert tunekit.class_weights(np.array(y, dtype=bool)) == tunekit.class_weights(y)
    assert tunekit.class_weights(np.array(y, dtype="float32")) == (
        tunekit.class_weights(y)
    )
    # Object arrays of numbers (e.g. from pandas) stay numbers: 10 is not "10".
    mixed = np.array([1, 10, 2, 2], dtype=object)
    assert tunekit.class_weights(mixed) == {1: 4 / 3, 2: 2 / 3, 10: 4 / 3}


def test_string_labels_sorted_mapping_matches_sklearn():
    y = np.array(["dog", "cat", "dog", "bird", "dog", "cat"])
    weights, mapping = tunekit.class_weights(y, return_mapping=True)
    assert mapping == {0: "bird", 1: "cat", 2: "dog"}
    assert_exact(weights, [0, 1, 2], sklearn_weights(y))
    # The mapping is the one LabelEncoder / np.unique use.
    from sklearn.preprocessing import LabelEncoder

    assert list(LabelEncoder().fit(y).classes_) == list(mapping.values())


def test_string_labels_with_explicit_class_order():
    y = ["neg", "pos", "neg", "neg"]
    weights, mapping = tunekit.class_weights(
        y, classes=["pos", "neg"], return_mapping=True
    )
    assert mapping == {0: "pos", 1: "neg"}
    assert weights == {0: 2.0, 1: 4 / 6}


def test_pandas_series_labels():
    pd = pytest.importorskip("pandas")
    y = pd.Series(["a", "b", "b", "b"], index=[10, 11, 12, 13])
    assert tunekit.class_weights(y) == {0: 2.0, 1: 4 / 6}


def test_one_hot_matrix_matches_sklearn_on_argmax():
    one_hot = np.eye(6, dtype="float32")[Y_IMBALANCED][:, [0, 1, 2, 5]]
    result = tunekit.class_weights(one_hot)
    assert_exact(result, [0, 1, 2, 3], sklearn_weights(one_hot.argmax(1)))


def test_probability_matrix_uses_argmax_like_keras():
    rng = np.random.default_rng(0)
    proba = rng.dirichlet([1.0, 1.0, 1.0], size=50)
    result = tunekit.class_weights(proba)
    assert_exact(result, [0, 1, 2], sklearn_weights(proba.argmax(1)))


def test_one_hot_column_without_samples_is_left_out_with_a_warning():
    one_hot = np.eye(4)[[0, 0, 0, 2]]
    with pytest.warns(UserWarning, match=r"No sample of classes \[1, 3\]"):
        result = tunekit.class_weights(one_hot)
    assert_exact(result, [0, 2], sklearn_weights(np.array([0, 0, 0, 2])))
    with pytest.raises(InvalidParameterError, match="No sample of"):
        tunekit.class_weights(one_hot, classes=["a", "b", "c", "d"])


def test_binary_column_n_by_1():
    y = np.array([[0.0], [1.0], [0.0], [0.0], [0.0]])
    assert_exact(tunekit.class_weights(y), [0, 1], sklearn_weights(y[:, 0]))


def test_keras_legacy_directory_iterator(make_image_folder):
    from keras.src.legacy.preprocessing.image import ImageDataGenerator

    root = make_image_folder({"cat": 7, "dog": 2, "owl": 3}, size=(8, 8))
    gen = ImageDataGenerator(validation_split=0.3)
    train = gen.flow_from_directory(
        root, target_size=(8, 8), subset="training", batch_size=4
    )
    weights, mapping = tunekit.class_weights(train, return_mapping=True)
    assert mapping == {0: "cat", 1: "dog", 2: "owl"}
    assert_exact(weights, [0, 1, 2], sklearn_weights(train.classes))


def test_tunekit_directory_iterator(make_image_folder):
    root = make_image_folder({"a": 5, "b": 2}, size=(8, 8))
    iterator = tunekit.flow_from_directory(
        root, target_size=(8, 8), batch_size=3, verbose=False
    )
    assert_exact(tunekit.class_weights(iterator), [0, 1], sklearn_weights(
        iterator.classes
    ))  # fmt: skip


def test_directory_path_counts_files_in_loader_order(make_image_folder):
    root = make_image_folder({"10": 4, "2": 1, "cat": 3}, size=(6, 6))
    # Not an image at all: proves that nothing is decoded.
    (root / "cat" / "broken.png").write_bytes(b"not a png")
    weights, mapping = tunekit.class_weights(root, return_mapping=True)
    assert mapping == {0: "10", 1: "2", 2: "cat"}  # Keras order: '10' < '2'
    labels = np.array([0] * 4 + [1] * 1 + [2] * 4)
    assert_exact(weights, [0, 1, 2], sklearn_weights(labels))
    # As a string, and restricted to some classes like the loaders' `classes=`.
    only = tunekit.class_weights(str(root), classes=["2", "cat"])
    assert_exact(only, [0, 1], sklearn_weights(np.array([0] + [1] * 4)))


def test_directory_and_iterator_agree(make_image_folder):
    root = make_image_folder({"x": 3, "y": 6, "z": 1}, size=(6, 6))
    iterator = tunekit.flow_from_directory(root, target_size=(6, 6), verbose=False)
    assert tunekit.class_weights(root) == tunekit.class_weights(iterator)


def test_tf_dataset_batched_and_unbatched():
    tf = pytest.importorskip("tensorflow")
    x = np.zeros((len(Y_IMBALANCED), 3), "float32")
    expected = sklearn_weights(Y_IMBALANCED)
    unbatched = tf.data.Dataset.from_tensor_slices((x, Y_IMBALANCED))
    assert_exact(tunekit.class_weights(unbatched), [0, 1, 2, 5], expected)
    batched = unbatched.batch(3)
    assert_exact(tunekit.class_weights(batched), [0, 1, 2, 5], expected)
    dropped = unbatched.batch(4, drop_remainder=True)  # known batch dimension
    assert_exact(tunekit.class_weights(dropped), [0, 1, 2, 5], expected)
    one_hot = np.eye(6, dtype="float32")[Y_IMBALANCED]
    with_weights = tf.data.Dataset.from_tensor_slices(
        (x, one_hot, np.ones(len(x), "float32"))
    ).batch(5)
    with pytest.warns(UserWarning, match=r"No sample of classes \[3, 4\]"):
        result = tunekit.class_weights(with_weights)
    assert result == {
        0: expected[0], 1: expected[1], 2: expected[2], 5: expected[3]
    }  # fmt: skip


def test_tf_dataset_from_image_folder_keeps_class_names(make_image_folder):
    pytest.importorskip("tensorflow")
    root = make_image_folder({"b": 2, "a": 5}, size=(6, 6))
    ds = tunekit.image_dataset_from_directory(
        root, image_size=(6, 6), batch_size=3, shuffle=True, seed=1
    )
    weights, mapping = tunekit.class_weights(ds, return_mapping=True)
    assert mapping == {0: "a", 1: "b"}
    assert_exact(weights, [0, 1], sklearn_weights(np.array([0] * 5 + [1] * 2)))


def test_tf_dataset_errors():
    tf = pytest.importorskip("tensorflow")
    ds = tf.data.Dataset.from_tensor_slices((np.zeros((4, 2)), np.array([0, 1, 1, 0])))
    with pytest.raises(InvalidParameterError, match="repeats forever"):
        tunekit.class_weights(ds.repeat())
    only_x = tf.data.Dataset.from_tensor_slices(np.zeros((4, 2)))
    with pytest.raises(InvalidParameterError, match=r"\(x, y\)"):
        tunekit.class_weights(only_x)


# ---------------------------------------------------------------- strategies


def test_effective_number_tends_to_balanced():
    balanced = tunekit.class_weights(Y_IMBALANCED)
    nearly = tunekit.class_weights(Y_IMBALANCED, strategy="effective", beta=1 - 1e-9)
    np.testing.assert_allclose(
        list(nearly.values()), list(balanced.values()), rtol=1e-5
    )


def test_smoothed_strategies_are_milder_and_keep_loss_scale():
    counts = {0: 12, 1: 5, 2: 2, 5: 1}
    balanced = tunekit.class_weights(Y_IMBALANCED)
    for strategy in ("effective", "sqrt"):
        kwargs = {"beta": 0.9} if strategy == "effective" else {}
        weights = tunekit.class_weights(Y_IMBALANCED, strategy=strategy, **kwargs)
        # normalize="samples": the mean weight per sample is 1.
        total = sum(weights[c] * n for c, n in counts.items())
        assert total == pytest.approx(len(Y_IMBALANCED))
        # Rarer classes weigh more, but less extremely than "balanced".
        assert weights[5] > weights[2] > weights[1] > weights[0]
        assert weights[5] / weights[0] < balanced[5] / balanced[0]
    sqrt = tunekit.class_weights(Y_IMBALANCED, strategy="sqrt", normalize=None)
    assert sqrt == {c: 1 / np.sqrt(n) for c, n in counts.items()}
    effective = tunekit.class_weights(
        Y_IMBALANCED, strategy="effective", beta=0.9, normalize=None
    )
    assert effective[5] == pytest.approx(1.0)  # (1 - b) / (1 - b**1)
    assert effective[0] == pytest.approx(0.1 / (1 - 0.9**12))


def test_normalize_min_uniform_and_max_weight():
    weights = tunekit.class_weights(Y_IMBALANCED, strategy="sqrt", normalize="min")
    assert min(weights.values()) == pytest.approx(1.0)
    assert tunekit.class_weights(Y_IMBALANCED, strategy="uniform") == {
        0: 1.0, 1: 1.0, 2: 1.0, 5: 1.0
    }  # fmt: skip
    capped = tunekit.class_weights(Y_IMBALANCED, max_weight=2.0)
    assert max(capped.values()) == 2.0
    assert capped[0] == tunekit.class_weights(Y_IMBALANCED)[0]


# ---------------------------------------------------------------- errors

ERRORS = [
    pytest.param([], {}, "non-empty", id="empty"),
    pytest.param(np.array([0.0, np.nan, 1.0]), {}, "missing labels", id="nan"),
    pytest.param(
        np.array(["a", None, "b"], dtype=object), {}, "missing labels", id="none"
    ),
    pytest.param(
        np.array([0, 1, 1]), {"classes": [0, 1, 2]}, r"No sample of \[2\]",
        id="class-absent-from-data",
    ),
    pytest.param(
        np.array([0, 1, 3]), {"classes": [0, 1]}, r"also contains \[3\]",
        id="label-not-in-classes",
    ),
    pytest.param(
        np.array(["a", "b"]), {"classes": ["a", "b", "c"]}, r"No sample of \['c'\]",
        id="string-class-absent",
    ),
    pytest.param(
        np.zeros((4, 3, 2)), {}, "3-D", id="3d-targets",
    ),
    pytest.param(
        np.array([[1, 1, 0], [0, 0, 1]]), {}, "multi-hot", id="multi-hot",
    ),
    pytest.param(
        np.array([[0, 1, 0], [0, 0, 0]]), {}, "sum to 1", id="all-zero-row",
    ),
    pytest.param(np.array([-1, 1, 1]), {}, ">= 0", id="negative"),
    pytest.param(np.array([0.2, 0.7]), {}, "fractional", id="fractional"),
    pytest.param(Y_IMBALANCED, {"strategy": "balance"}, "Did you mean 'balanced'",
                 id="strategy-typo"),
    pytest.param(Y_IMBALANCED, {"strategy": "effective", "beta": 1.0}, "beta",
                 id="beta-one"),
    pytest.param(Y_IMBALANCED, {"normalize": "max"}, "normalize", id="normalize"),
    pytest.param(Y_IMBALANCED, {"max_weight": 0}, "max_weight", id="max-weight"),
    pytest.param({"out": Y_IMBALANCED}, {}, "multi-output", id="dict-source"),
    pytest.param(
        np.eye(2)[[0, 1]], {"classes": ["a"]}, "one name per column",
        id="matrix-classes-length",
    ),
]  # fmt: skip


@pytest.mark.parametrize("source, kwargs, message", ERRORS)
def test_errors_are_clear(source, kwargs, message):
    with pytest.raises(InvalidParameterError, match=message) as info:
        tunekit.class_weights(source, **kwargs)
    assert "Received:" in str(info.value)


def test_directory_errors(make_image_folder, tmp_path):
    root = make_image_folder({"a": 2, "b": 1}, size=(6, 6))
    (root / "empty").mkdir()
    with pytest.raises(InvalidParameterError, match=r"No sample of \['empty'\]"):
        tunekit.class_weights(root)
    with pytest.raises(ImageDirectoryError, match="does not exist"):
        tunekit.class_weights(tmp_path / "nope")
    with pytest.raises(ImageDirectoryError, match="do not exist"):
        tunekit.class_weights(root, classes=["a", "zebra"])


def test_iterator_classes_must_match(make_image_folder):
    root = make_image_folder({"a": 2, "b": 1}, size=(6, 6))
    iterator = tunekit.flow_from_directory(root, target_size=(6, 6), verbose=False)
    assert tunekit.class_weights(iterator, classes=["a", "b"])
    with pytest.raises(InvalidParameterError, match="flow_from_directory"):
        tunekit.class_weights(iterator, classes=["b", "a"])


def test_inputs_are_not_mutated():
    y = np.array([[0.0], [1.0], [1.0]])
    before = y.copy()
    classes = [0, 1]
    tunekit.class_weights(y, classes=classes)
    np.testing.assert_array_equal(y, before)
    assert classes == [0, 1]


# ---------------------------------------------------------------- Keras fit


def _imbalanced_digits(digits):
    """Digit 8 (27 train samples) against 1, 3, 5, 9: a 16:1 binary problem."""
    x, y = digits
    x = x.reshape(len(x), -1)
    negatives = np.flatnonzero(np.isin(y, [1, 3, 5, 9]))
    positives = np.flatnonzero(y == 8)[:40]
    order = np.concatenate([negatives, positives])
    np.random.default_rng(0).shuffle(order)
    x, y = x[order], (y[order] == 8).astype("int64")
    cut = int(0.6 * len(x))
    return (x[:cut], y[:cut]), (x[cut:], y[cut:])


def _minority_recall(class_weight, train, test):
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [keras.Input((64,)), keras.layers.Dense(1, activation="sigmoid")]
    )
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="binary_crossentropy")
    model.fit(*train, epochs=5, batch_size=32, shuffle=False, verbose=0,
              class_weight=class_weight)  # fmt: skip
    predicted = model.predict(test[0], verbose=0)[:, 0] >= 0.5
    return float(np.mean(predicted[test[1] == 1]))


def test_real_fit_with_returned_dict_improves_minority_recall(digits):
    train, test = _imbalanced_digits(digits)
    weights = tunekit.class_weights(train[1])
    assert weights[1] > 10 * weights[0]
    unweighted = _minority_recall(None, train, test)
    weighted = _minority_recall(weights, train, test)
    assert weighted >= unweighted + 0.4, (unweighted, weighted)


# ---------------------------------------------------------------- sample_weights


def test_sample_weights_match_keras_class_weight_conversion():
    from keras.src.trainers.data_adapters.data_adapter_utils import (
        class_weight_to_sample_weights,
    )

    weights = tunekit.class_weights(Y_IMBALANCED)
    one_hot = np.eye(6, dtype="float32")[Y_IMBALANCED]
    for y in (Y_IMBALANCED, Y_IMBALANCED.reshape(-1, 1), one_hot):
        ours = tunekit.sample_weights(y, weights)
        assert ours.dtype == np.float32
        np.testing.assert_array_equal(ours, class_weight_to_sample_weights(y, weights))


def test_sample_weights_accept_sklearn_array_and_refuse_string_keys():
    y = np.array([0, 0, 0, 1])
    array = compute_class_weight("balanced", classes=np.array([0, 1]), y=y)
    np.testing.assert_allclose(
        tunekit.sample_weights(y, array), [2 / 3, 2 / 3, 2 / 3, 2.0]
    )
    with pytest.raises(InvalidParameterError, match="silently ignores string keys"):
        tunekit.sample_weights(y, {"0": 1.0, "1": 3.0})
    with pytest.raises(InvalidParameterError, match="no weight"):
        tunekit.sample_weights(y, {0: 1.0})
    np.testing.assert_array_equal(
        tunekit.sample_weights(y, {0: 2.0}, default=1.0), [2, 2, 2, 1]
    )
    with pytest.raises(InvalidParameterError, match="non-negative"):
        tunekit.sample_weights(y, {0: 1.0, 1: -2.0})
    with pytest.raises(InvalidParameterError, match="Encode string labels"):
        tunekit.sample_weights(np.array(["a", "b"]), {0: 1.0, 1: 1.0})


def test_sample_weights_for_sequences():
    y_seq = np.array([[0, 1, 1], [2, 0, 0]])
    cw = {0: 1.0, 1: 2.0, 2: 4.0}
    np.testing.assert_array_equal(
        tunekit.sample_weights(y_seq, cw), [[1, 2, 2], [4, 1, 1]]
    )
    one_hot_seq = np.eye(3)[y_seq]  # (N, T, k)
    np.testing.assert_array_equal(
        tunekit.sample_weights(one_hot_seq, cw), [[1, 2, 2], [4, 1, 1]]
    )
    with pytest.raises(InvalidParameterError, match="one-hot"):
        tunekit.sample_weights(np.zeros((2, 3, 4)), cw)


def test_sample_weights_do_not_mutate_inputs():
    y = {
        "a": np.array([0, 1, 1]),
        "b": np.array([[1.0, 0.0], [0.0, 1.0]] * 1 + [[1.0, 0.0]]),
    }
    cw = {"a": {0: 3.0, 1: 1.0}, "b": {0: 1.0, 1: 5.0}}
    y_before, cw_before = copy.deepcopy(y), copy.deepcopy(cw)
    result = tunekit.sample_weights(y, cw)
    np.testing.assert_array_equal(result["a"], [3, 1, 1])
    np.testing.assert_array_equal(result["b"], [1, 5, 1])
    assert cw == cw_before
    for name in y:
        np.testing.assert_array_equal(y[name], y_before[name])


def test_sample_weights_multi_output_real_fit():
    """Keras refuses class_weight with two outputs; the sample weights work."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 4)).astype("float32")
    kind = (x[:, 0] > 0.8).astype("int64") + (x[:, 1] > 1.0).astype("int64")
    flag = (x[:, 2] > 0).astype("float32")
    inputs = keras.Input((4,))
    outputs = {
        "kind": keras.layers.Dense(3, activation="softmax", name="kind")(inputs),
        "flag": keras.layers.Dense(1, activation="sigmoid", name="flag")(inputs),
    }
    model = keras.Model(inputs, outputs)
    model.compile(
        optimizer="adam",
        loss={"kind": "sparse_categorical_crossentropy", "flag": "binary_crossentropy"},
    )
    y = {"kind": kind, "flag": flag}
    with pytest.raises(ValueError, match="single output"):
        model.fit(x, y, class_weight={0: 1.0, 1: 2.0, 2: 3.0}, epochs=1, verbose=0)
    weights = tunekit.sample_weights(
        y, {"kind": tunekit.class_weights(kind), "flag": None}
    )
    assert weights["kind"].shape == (40,)
    history = model.fit(x, y, sample_weight=weights, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    listed = tunekit.sample_weights([kind, flag], [tunekit.class_weights(kind), None])
    np.testing.assert_array_equal(listed[0], weights["kind"])
    with pytest.raises(
        InvalidParameterError, match=r"one class-weight dict \(or None\) per"
    ):
        tunekit.sample_weights([kind, flag], tunekit.class_weights(kind))
    with pytest.raises(
        InvalidParameterError, match="one class-weight dict per output name"
    ):
        tunekit.sample_weights(y, {0: 1.0, 1: 1.0})


# ---------------------------------------------------------------- pitfalls §8


def _tiny_classifier():
    model = keras.Sequential(
        [keras.Input((4,)), keras.layers.Dense(3, activation="softmax")]
    )
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    return model


def test_sklearn_array_fails_in_keras_but_returned_dict_fits():
    x = np.random.default_rng(0).normal(size=(20, 4)).astype("float32")
    y = np.array([0] * 14 + [1] * 4 + [2] * 2)
    array = compute_class_weight("balanced", classes=np.unique(y), y=y)
    model = _tiny_classifier()
    with pytest.raises(AttributeError, match="has no attribute 'get'"):
        model.fit(x, y, class_weight=array, epochs=1, verbose=0)
    history = model.fit(
        x, y, class_weight=tunekit.class_weights(y), epochs=1, verbose=0
    )
    assert np.isfinite(history.history["loss"][0])


@pytest.mark.filterwarnings("ignore:`shuffle=True` was passed")
def test_tf_data_fit_with_labels_above_sklearn_style_keys():
    """tf.data gathers a table of length max(key)+1: every label needs a key."""
    tf = pytest.importorskip("tensorflow")
    x = np.random.default_rng(0).normal(size=(20, 4)).astype("float32")
    y = np.array([0] * 14 + [1] * 4 + [2] * 2)
    ds = tf.data.Dataset.from_tensor_slices((x, y)).batch(5)
    model = _tiny_classifier()
    with pytest.raises(Exception, match="not in"):
        model.fit(ds, class_weight={0: 1.0, 1: 2.0}, epochs=1, verbose=0)
    history = model.fit(ds, class_weight=tunekit.class_weights(ds), epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])
