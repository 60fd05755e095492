"""Tests for tunekit.check_model_labels: real compiled models, real label arrays."""

from __future__ import annotations

import warnings

import keras
import numpy as np
import pytest

import tunekit
from tunekit import LabelMismatchError

Y_INT3 = np.array([0, 1, 2, 1, 0, 2])
Y_ONEHOT3 = np.eye(3, dtype="float32")[Y_INT3]
Y_BIN = np.array([0, 1, 1, 0, 1, 0])
Y_BIN_COL = Y_BIN.reshape(-1, 1).astype("float32")


def dense_model(units, activation, loss, *, n_features=4, compile=True):
    model = keras.Sequential(
        [
            keras.Input((n_features,)),
            keras.layers.Dense(5, activation="relu"),
            keras.layers.Dense(units, activation=activation, name="head"),
        ]
    )
    if compile:
        model.compile(optimizer="adam", loss=loss)
    return model


# (units, activation, loss, y, expected message fragment, fix fragment)
MISMATCHES = [
    pytest.param(
        1, "softmax", "binary_crossentropy", Y_BIN, "softmax over a single", "sigmoid",
        id="softmax-1-unit",
    ),
    pytest.param(
        3, "sigmoid", "categorical_crossentropy", Y_ONEHOT3, "sigmoid output with 3",
        "activation='softmax'", id="sigmoid-k-categorical",
    ),
    pytest.param(
        3, "sigmoid", "sparse_categorical_crossentropy", Y_INT3,
        "sigmoid output with 3", "activation='softmax'", id="sigmoid-k-sparse",
    ),
    pytest.param(
        3, "softmax", "categorical_crossentropy", Y_INT3, "expects one-hot label rows",
        "sparse_categorical_crossentropy", id="cce-with-int-labels",
    ),
    pytest.param(
        3, "softmax", keras.losses.CategoricalCrossentropy(), Y_INT3.reshape(-1, 1),
        "expects one-hot label rows", "to_categorical", id="cce-object-with-int-col",
    ),
    pytest.param(
        3, "softmax", "sparse_categorical_crossentropy", Y_ONEHOT3,
        "expects integer class indices", "categorical_crossentropy",
        id="sparse-with-onehot",
    ),
    pytest.param(
        3, "softmax", "sparse_categorical_crossentropy", np.array([0, 1, 3, 2]),
        "largest label is 3", "Dense(4", id="label-above-units",
    ),
    pytest.param(
        3, "softmax", keras.losses.SparseCategoricalCrossentropy(),
        np.array([1, 2, 3]), "largest label is 3", "np.unique",
        id="labels-1-based",
    ),
    pytest.param(
        3, "softmax", "sparse_categorical_crossentropy", np.array([-1, 0, 1]),
        "must be >= 0", "np.unique", id="negative-labels",
    ),
    pytest.param(
        3, "softmax", "sparse_categorical_crossentropy", np.array([0.5, 1.0, 2.0]),
        "fractional", "integer class indices", id="fractional-sparse",
    ),
    pytest.param(
        1, "sigmoid", "binary_crossentropy", Y_INT3, "needs labels in {0, 1}",
        "Dense(n_classes, activation='softmax')", id="multiclass-on-1-sigmoid",
    ),
    pytest.param(
        1, "sigmoid", "bce", np.array([1, 2, 1, 2]), "needs labels in {0, 1}",
        "map the labels to 0/1", id="binary-labels-1-2",
    ),
    pytest.param(
        2, "softmax", "binary_crossentropy", Y_BIN, "one value per sample",
        "sparse_categorical_crossentropy", id="bce-1d-labels-2-units",
    ),
    pytest.param(
        1, "sigmoid", "binary_crossentropy", np.eye(2)[Y_BIN], "2 columns",
        "argmax", id="bce-onehot-2-cols-1-unit",
    ),
    pytest.param(
        4, "softmax", "categorical_crossentropy", Y_ONEHOT3, "3 columns",
        "Dense(3", id="onehot-width-mismatch",
    ),
    pytest.param(
        3, "softmax", "categorical_crossentropy",
        np.array([[1, 1, 0], [0, 0, 1], [0, 0, 0]], dtype="float32"),
        "do not sum to 1", "binary_crossentropy", id="multihot-with-cce",
    ),
    pytest.param(
        3, None, "sparse_categorical_crossentropy", Y_INT3,
        "no activation", "from_logits=True", id="linear-head-probability-loss",
    ),
    pytest.param(
        1, "sigmoid", "sparse_categorical_crossentropy", Y_BIN,
        "single output unit", "binary_crossentropy", id="sparse-on-1-unit",
    ),
    pytest.param(
        3, "softmax", "sparse_categorical_crossentropy",
        np.array([0.0, np.nan, 1.0]), "NaN", "Drop or fill", id="nan-labels",
    ),
    pytest.param(
        3, "softmax", "sparse_categorical_crossentropy",
        np.array(["cat", "dog", "cat"]), "string labels", "np.unique",
        id="string-labels",
    ),
]  # fmt: skip


@pytest.mark.parametrize("units, activation, loss, y, problem, fix", MISMATCHES)
def test_mismatch_raises_with_fix(units, activation, loss, y, problem, fix):
    model = dense_model(units, activation, loss)
    with pytest.raises(LabelMismatchError) as info:
        tunekit.check_model_labels(model, y)
    message = str(info.value)
    assert problem in message
    assert fix in message
    assert "Received:" in message
    assert isinstance(info.value, ValueError)


# Combinations that train correctly: never a false alarm.
CORRECT = [
    pytest.param(3, "softmax", "sparse_categorical_crossentropy", Y_INT3, id="sparse"),
    pytest.param(
        3, "softmax", "sparse_categorical_crossentropy", Y_INT3.reshape(-1, 1),
        id="sparse-col",
    ),
    pytest.param(
        3, "softmax", "sparse_categorical_crossentropy", Y_INT3.astype("float32"),
        id="sparse-float-ints",
    ),
    pytest.param(
        5, "softmax", "sparse_categorical_crossentropy", Y_INT3,
        id="more-units-than-seen",
    ),
    pytest.param(3, "softmax", "categorical_crossentropy", Y_ONEHOT3, id="cce"),
    pytest.param(
        3, "softmax", "categorical_crossentropy",
        Y_ONEHOT3 * 0.9 + 0.1 / 3, id="cce-smoothed",
    ),
    pytest.param(
        3, "softmax", keras.losses.CategoricalFocalCrossentropy(), Y_ONEHOT3,
        id="focal",
    ),
    pytest.param(1, "sigmoid", "binary_crossentropy", Y_BIN, id="bce"),
    pytest.param(1, "sigmoid", "binary_crossentropy", Y_BIN_COL, id="bce-col"),
    pytest.param(
        1, "sigmoid", "binary_crossentropy", np.array([0.1, 0.9, 0.5]),
        id="bce-soft",
    ),
    pytest.param(
        3, "sigmoid", "binary_crossentropy",
        np.array([[1, 1, 0], [0, 0, 1], [0, 0, 0]], dtype="float32"),
        id="multilabel",
    ),
    pytest.param(3, "sigmoid", "binary_crossentropy", Y_ONEHOT3, id="one-vs-rest"),
    pytest.param(
        3, None, keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        Y_INT3, id="logits-sparse",
    ),
    pytest.param(
        1, None, keras.losses.BinaryCrossentropy(from_logits=True), Y_BIN,
        id="logits-binary",
    ),
    pytest.param(
        3, "softmax", keras.losses.SparseCategoricalCrossentropy(ignore_class=-1),
        np.array([0, 1, -1, 2]), id="ignore-class",
    ),
    pytest.param(1, None, "mse", np.array([3.5, -2.0, 10.0]), id="regression"),
    pytest.param(3, "softmax", lambda t, p: keras.ops.mean(p), Y_INT3, id="custom"),
    pytest.param(3, "softmax", "sparse_categorical_crossentropy", None, id="no-y"),
    pytest.param(
        3, "softmax", "sparse_categorical_crossentropy", [0, 1, 2, 2], id="list"
    ),
    pytest.param(
        3, "softmax", "sparse_categorical_crossentropy",
        np.array([0, 1, 2], dtype=object), id="object-ints",
    ),
]  # fmt: skip


@pytest.mark.parametrize("units, activation, loss, y", CORRECT)
def test_correct_combinations_pass(units, activation, loss, y):
    model = dense_model(units, activation, loss)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert tunekit.check_model_labels(model, y) is None


def test_from_logits_with_softmax_warns():
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    model = dense_model(3, "softmax", loss)
    with pytest.warns(UserWarning, match="applied twice"):
        tunekit.check_model_labels(model, Y_INT3)


def test_separate_softmax_layer_is_recognised():
    model = keras.Sequential(
        [keras.Input((4,)), keras.layers.Dense(1), keras.layers.Softmax()]
    )
    model.compile(loss="binary_crossentropy")
    with pytest.raises(LabelMismatchError, match="softmax over a single"):
        tunekit.check_model_labels(model, Y_BIN)


def test_activation_layer_is_recognised():
    model = keras.Sequential(
        [keras.Input((4,)), keras.layers.Dense(3), keras.layers.Activation("sigmoid")]
    )
    model.compile(loss="categorical_crossentropy")
    with pytest.raises(LabelMismatchError, match="sigmoid output with 3"):
        tunekit.check_model_labels(model, Y_ONEHOT3)


def test_uncompiled_model_with_explicit_loss():
    model = dense_model(3, "softmax", None, compile=False)
    tunekit.check_model_labels(model, Y_ONEHOT3)  # no loss known: silent
    with pytest.raises(LabelMismatchError, match="one-hot"):
        tunekit.check_model_labels(model, Y_INT3, loss="categorical_crossentropy")


@pytest.mark.filterwarnings("ignore:You are using a softmax over axis")
def test_unbuilt_and_subclassed_models_pass_silently():
    unbuilt = keras.Sequential([keras.layers.Dense(1, activation="softmax")])
    unbuilt.compile(loss="binary_crossentropy")
    tunekit.check_model_labels(unbuilt, Y_INT3)

    class Net(keras.Model):
        def __init__(self):
            super().__init__()
            self.out = keras.layers.Dense(1, activation="softmax")

        def call(self, x):
            return self.out(x)

    net = Net()
    net.compile(loss="categorical_crossentropy")
    net(np.zeros((2, 4), "float32"))
    tunekit.check_model_labels(net, Y_INT3)


def test_custom_loss_subclass_passes_silently():
    class MyLoss(keras.losses.CategoricalCrossentropy):
        def call(self, y_true, y_pred):  # accepts integer labels itself
            y_true = keras.ops.one_hot(keras.ops.cast(y_true, "int32"), 3)
            return super().call(y_true, y_pred)

    model = dense_model(3, "softmax", MyLoss())
    tunekit.check_model_labels(model, Y_INT3)


def test_sequence_output_is_not_analysed():
    model = keras.Sequential(
        [
            keras.Input((5, 4)),
            keras.layers.Dense(3, activation="softmax"),
        ]
    )
    model.compile(loss="sparse_categorical_crossentropy")
    # (N, T) integer targets for a (N, T, 3) output: correct, must not alarm.
    tunekit.check_model_labels(model, np.zeros((4, 5), dtype="int64"))


def _two_output_model():
    inputs = keras.Input((4,))
    hidden = keras.layers.Dense(5, activation="relu")(inputs)
    kind = keras.layers.Dense(3, activation="softmax", name="kind")(hidden)
    flag = keras.layers.Dense(1, activation="sigmoid", name="flag")(hidden)
    return keras.Model(inputs, [kind, flag])


def test_multi_output_dict_is_checked_per_output():
    model = _two_output_model()
    model.compile(
        loss={"kind": "sparse_categorical_crossentropy", "flag": "binary_crossentropy"}
    )
    tunekit.check_model_labels(model, {"kind": Y_INT3, "flag": Y_BIN})
    with pytest.raises(LabelMismatchError, match="'flag'"):
        tunekit.check_model_labels(model, {"kind": Y_INT3, "flag": Y_INT3})


def test_multi_output_list_and_unmatched_structure():
    model = _two_output_model()
    model.compile(loss=["categorical_crossentropy", "binary_crossentropy"])
    with pytest.raises(LabelMismatchError, match="one-hot label rows"):
        tunekit.check_model_labels(model, [Y_INT3, Y_BIN])
    tunekit.check_model_labels(model, [Y_ONEHOT3, Y_BIN])
    tunekit.check_model_labels(model, Y_INT3)  # cannot pair: silent


def test_directory_iterator_class_mode(make_image_folder):
    from keras.src.legacy.preprocessing.image import ImageDataGenerator

    root = make_image_folder({"a": 2, "b": 2, "c": 2}, size=(8, 8))
    gen = ImageDataGenerator()
    categorical = gen.flow_from_directory(root, target_size=(8, 8), batch_size=2)
    sparse = gen.flow_from_directory(
        root, target_size=(8, 8), batch_size=2, class_mode="sparse"
    )
    model = dense_model(3, "softmax", "sparse_categorical_crossentropy")
    tunekit.check_model_labels(model, sparse)
    with pytest.raises(LabelMismatchError, match="class_mode='categorical'"):
        tunekit.check_model_labels(model, categorical)


@pytest.mark.filterwarnings("ignore:You are using a softmax over axis")
def test_real_fit_of_flagged_model_collapses(digits):
    """The check is not pedantic: the flagged model really fails to learn."""
    x, y = digits
    x = x.reshape(len(x), -1)[:600]
    y = (y[:600] % 3).astype("int64")
    model = keras.Sequential([keras.Input((64,)), keras.layers.Dense(1, "softmax")])
    model.compile(optimizer="adam", loss="binary_crossentropy")
    with pytest.raises(LabelMismatchError):
        tunekit.check_model_labels(model, y)
    if keras.backend.backend() == "torch":
        # torch's binary cross-entropy refuses labels outside [0, 1] loudly.
        with pytest.raises(RuntimeError, match="between 0 and 1"):
            model.fit(x, y, epochs=1, batch_size=64, verbose=0)
    else:
        model.fit(x, y, epochs=1, batch_size=64, verbose=0)
    # A one-unit softmax outputs 1 (up to float rounding) whatever it learned.
    np.testing.assert_allclose(model.predict(x[:50], verbose=0), 1.0, atol=1e-6)


def test_tf_dataset_label_spec_is_checked():
    tf = pytest.importorskip("tensorflow")
    x = np.zeros((6, 4), "float32")
    sparse_model = dense_model(3, "softmax", "sparse_categorical_crossentropy")
    cce_model = dense_model(3, "softmax", "categorical_crossentropy")
    ints = tf.data.Dataset.from_tensor_slices((x, Y_INT3)).batch(2)
    one_hot = tf.data.Dataset.from_tensor_slices((x, Y_ONEHOT3)).batch(2)
    tunekit.check_model_labels(sparse_model, ints)
    tunekit.check_model_labels(cce_model, one_hot)
    tunekit.check_model_labels(cce_model, one_hot.unbatch())
    with pytest.raises(LabelMismatchError, match=r"tf\.data\.Dataset with labels"):
        tunekit.check_model_labels(cce_model, ints)
    with pytest.raises(LabelMismatchError, match="one-hot"):
        tunekit.check_model_labels(sparse_model, one_hot)


def test_image_dataset_default_int_labels_with_categorical_loss(make_image_folder):
    """pitfalls §7: image_dataset_from_directory yields int labels by default."""
    pytest.importorskip("tensorflow")
    root = make_image_folder({"a": 2, "b": 2, "c": 2}, size=(6, 6))
    ds = tunekit.image_dataset_from_directory(root, image_size=(6, 6), batch_size=2)
    model = keras.Sequential(
        [
            keras.Input((6, 6, 3)),
            keras.layers.Flatten(),
            keras.layers.Dense(3, activation="softmax"),
        ]
    )
    model.compile(loss="categorical_crossentropy")
    with pytest.raises(LabelMismatchError, match="sparse_categorical_crossentropy"):
        tunekit.check_model_labels(model, ds)


def test_dict_outputs_keyed_differently_from_layer_names():
    inputs = keras.Input((4,))
    outputs = {
        "a": keras.layers.Dense(3, activation="softmax", name="zzz")(inputs),
        "b": keras.layers.Dense(1, activation="sigmoid", name="yyy")(inputs),
    }
    model = keras.Model(inputs, outputs)
    model.compile(loss={"a": "sparse_categorical_crossentropy", "b": "bce"})
    tunekit.check_model_labels(model, {"a": Y_INT3, "b": Y_BIN})
    with pytest.raises(LabelMismatchError, match="largest label is 3"):
        tunekit.check_model_labels(model, {"a": Y_INT3 + 1, "b": Y_BIN})
