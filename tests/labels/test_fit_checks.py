"""Tests of tunekit.labels._fit_checks: data and weight checks before training."""

from __future__ import annotations

import warnings

import keras
import numpy as np
import pytest

from tunekit import InvalidParameterError
from tunekit.labels._fit_checks import (
    check_dataset_has_labels,
    check_fit_weights,
    check_keras_class_weight,
    check_label_class_weight,
    check_model_input,
    check_sample_weight,
)

# --------------------------------------------------------------------------
# Sample weights
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "weights, match",
    [
        ([1.0, np.nan, 1.0], r"NaN or infinite, the first at flat index 1"),
        ([1.0, 1.0, np.inf], "NaN or infinite"),
        ([1.0, -0.5, 2.0], r"1 value\(s\) are negative.*-0.5"),
        ([0.0, 0.0, 0.0], "all zero"),
        ([1.0, 1.0], r"one weight per sample \(3 samples\)"),
        ([[1.0], [1.0], [1.0]], r"shape \(n_samples,\)"),
        (["a", "b", "c"], "an array of numbers"),
    ],
)
def test_bad_sample_weights_are_refused(weights, match):
    with pytest.raises(InvalidParameterError, match=match) as info:
        check_sample_weight(weights, 3)
    assert "Received: sample_weight=" in str(info.value)


def test_sample_weights_are_copied_and_may_be_temporal():
    original = np.array([1.0, 2.0, 0.0])
    checked = check_sample_weight(original, 3)
    checked[0] = 9.0
    assert original[0] == 1.0
    assert check_sample_weight(None, 3) is None
    temporal = check_sample_weight(np.ones((3, 5)), 3, allow_2d=True)
    assert temporal.shape == (3, 5)


# --------------------------------------------------------------------------
# class_weight keyed by the original labels (the estimators)
# --------------------------------------------------------------------------


def test_label_class_weight_string_keys_for_integer_labels():
    with pytest.raises(InvalidParameterError, match="write 0, not '0'") as info:
        check_label_class_weight({"0": 1.0, "1": 5.0}, [0, 1])
    assert "Received: class_weight={'0': 1.0, '1': 5.0}" in str(info.value)


def test_label_class_weight_integer_keys_for_string_labels():
    with pytest.raises(InvalidParameterError, match="write '0', not 0"):
        check_label_class_weight({0: 1.0}, ["0", "1"])


def test_label_class_weight_unknown_class():
    with pytest.raises(InvalidParameterError, match=r"\['fish'\] are not classes"):
        check_label_class_weight({"cat": 1.0, "fish": 2.0}, ["cat", "dog"])


def test_label_class_weight_missing_classes_warn_once_and_get_one():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        full = check_label_class_weight({"b": 3}, ["a", "b", "c"])
    assert full == {"a": 1.0, "b": 3.0, "c": 1.0}
    assert len(caught) == 1
    assert "['a', 'c']" in str(caught[0].message)
    assert caught[0].filename == __file__  # points at the caller


def test_label_class_weight_only_warns_for_present_classes():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        full = check_label_class_weight({0: 2.0}, [0, 1, 2], present=[0])
    assert full == {0: 2.0, 1: 1.0, 2: 1.0}


@pytest.mark.parametrize(
    "class_weight, match",
    [
        ({0: -1.0, 1: 1.0}, "non-negative"),
        ({0: float("nan"), 1: 1.0}, "non-negative"),
        ({0: "heavy", 1: 1.0}, "finite"),
        ([1.0, 2.0], "a dict"),
        ("balance", "a dict"),
    ],
)
def test_label_class_weight_bad_values(class_weight, match):
    with pytest.raises(InvalidParameterError, match=match):
        check_label_class_weight(class_weight, [0, 1])


def test_label_class_weight_passes_none_and_balanced_through():
    assert check_label_class_weight(None, [0, 1]) is None
    assert check_label_class_weight("balanced", [0, 1]) == "balanced"


# --------------------------------------------------------------------------
# class_weight in Keras' form (the tuners)
# --------------------------------------------------------------------------


def test_keras_class_weight_refuses_string_keys():
    with pytest.raises(InvalidParameterError, match="Keras silently ignores"):
        check_keras_class_weight({"0": 1.0, "1": 2.0}, np.array([0, 1, 1]))


def test_keras_class_weight_refuses_arrays():
    with pytest.raises(InvalidParameterError, match=r"dict\(enumerate\(weights\)\)"):
        check_keras_class_weight(np.array([1.0, 2.0]), np.array([0, 1]))


def test_keras_class_weight_keys_must_be_classes_of_y():
    with pytest.raises(InvalidParameterError, match=r"\[5\] are not classes of y"):
        check_keras_class_weight({0: 1.0, 5: 2.0}, np.array([0, 1, 1]))
    one_hot = np.eye(3)[[0, 1, 1]]
    with pytest.raises(InvalidParameterError, match="one-hot labels have 3 columns"):
        check_keras_class_weight({0: 1.0, 3: 2.0}, one_hot)
    # A column of the one-hot label space without samples may have a weight.
    assert check_keras_class_weight({0: 1.0, 1: 1.0, 2: 4.0}, one_hot)[2] == 4.0


def test_keras_class_weight_missing_class_warns():
    with pytest.warns(UserWarning, match=r"classes \[2\]"):
        weights = check_keras_class_weight({0: 1.0, 1.0: 2.0}, np.array([0, 1, 2]))
    assert weights == {0: 1.0, 1: 2.0}


def test_keras_class_weight_without_labels_checks_keys_only():
    assert check_keras_class_weight({0: 1, 1: 2}, None) == {0: 1.0, 1: 2.0}
    # Regression targets are not class indices: only the keys are checked.
    assert check_keras_class_weight({0: 1}, np.array([0.5, 1.5])) == {0: 1.0}


def test_fit_weights_refuses_class_and_sample_weight_together():
    with pytest.raises(InvalidParameterError, match="not both"):
        check_fit_weights(
            {
                "x": np.zeros((3, 2)),
                "y": np.array([0, 1, 1]),
                "class_weight": {0: 1.0, 1: 1.0},
                "sample_weight": np.ones(3),
            }
        )
    with pytest.raises(InvalidParameterError, match="validation_data"):
        check_fit_weights(
            {
                "x": np.zeros((3, 2)),
                "validation_data": (np.zeros((2, 2)), np.zeros(2), [1.0, -1.0]),
            }
        )


# --------------------------------------------------------------------------
# Inputs against the model's Input
# --------------------------------------------------------------------------


def dense_model(shape):
    model = keras.Sequential([keras.Input(shape), keras.layers.Dense(2)])
    return model


def test_images_to_a_flat_input():
    with pytest.raises(InvalidParameterError, match="model's Input is flat") as info:
        check_model_input(dense_model((64,)), np.zeros((5, 8, 8, 1)))
    message = str(info.value)
    assert "x.reshape(len(x), -1)" in message
    assert message.endswith("Received: x.shape=(5, 8, 8, 1)")


def test_flat_rows_to_an_image_input():
    with pytest.raises(InvalidParameterError, match="expects images") as info:
        check_model_input(dense_model((8, 8, 1)), np.zeros((5, 64)))
    assert "reshape(-1, *(8, 8, 1))" in str(info.value)


def test_images_of_another_size():
    with pytest.raises(InvalidParameterError, match="Resize the images to"):
        check_model_input(
            dense_model((8, 8, 3)), np.zeros((2, 12, 12, 3)), argname="validation_data"
        )


@pytest.mark.parametrize(
    "shape, x_shape",
    [
        ((64,), (5, 64)),
        ((64,), (5, 64, 1)),  # Keras squeezes a trailing axis of 1
        ((8, 8, 1), (5, 8, 8)),  # ... or adds it
        ((None, None, 3), (5, 12, 9, 3)),  # unknown sizes accept anything
    ],
)
def test_compatible_inputs_pass(shape, x_shape):
    check_model_input(dense_model(shape), np.zeros(x_shape))


def test_multi_input_models_are_checked_per_input():
    a, b = keras.Input((4,), name="a"), keras.Input((8, 8, 1), name="b")
    joined = keras.layers.Concatenate()([a, keras.layers.Flatten()(b)])
    model = keras.Model([a, b], keras.layers.Dense(1)(joined))
    check_model_input(model, [np.zeros((2, 4)), np.zeros((2, 8, 8, 1))])
    with pytest.raises(InvalidParameterError, match=r"`x\[1\]`"):
        check_model_input(model, [np.zeros((2, 4)), np.zeros((2, 64))])
    with pytest.raises(InvalidParameterError, match=r"`x\['b'\]`"):
        check_model_input(model, {"a": np.zeros((2, 4)), "b": np.zeros((2, 9, 9, 1))})


def test_unbuilt_models_and_unknown_inputs_are_not_checked():
    check_model_input(keras.Sequential([keras.layers.Dense(2)]), np.zeros((2, 64)))
    check_model_input(dense_model((64,)), iter([]))


def test_iterators_with_image_shape_are_checked(make_image_folder):
    from tunekit import flow_from_directory

    root = make_image_folder({"a": 2, "b": 2}, size=(12, 12))
    iterator = flow_from_directory(root, target_size=(12, 12), batch_size=2)
    check_model_input(dense_model((12, 12, 3)), iterator)
    with pytest.raises(InvalidParameterError, match=r"shape \(12, 12, 3\)"):
        check_model_input(dense_model((8, 8, 3)), iterator)


# --------------------------------------------------------------------------
# tf.data datasets without labels (TensorFlow only)
# --------------------------------------------------------------------------


def test_datasets_without_labels_are_refused():
    tf = pytest.importorskip("tensorflow")
    images = np.zeros((4, 8, 8, 1), "float32")
    unlabelled = tf.data.Dataset.from_tensor_slices(images).batch(2)
    with pytest.raises(InvalidParameterError, match="have no labels") as info:
        check_dataset_has_labels(unlabelled)
    assert "Received: x=<Dataset element_spec=" in str(info.value)
    as_dict = tf.data.Dataset.from_tensor_slices({"image": images}).batch(2)
    with pytest.raises(InvalidParameterError, match="no labels"):
        check_dataset_has_labels(as_dict, argname="validation_data")
    labelled = tf.data.Dataset.from_tensor_slices((images, np.zeros(4))).batch(2)
    check_dataset_has_labels(labelled)
    check_dataset_has_labels(np.zeros((2, 2)))  # not a dataset: not checked
    with pytest.raises(InvalidParameterError, match="must be batched"):
        check_model_input(
            dense_model((8, 8, 1)),
            tf.data.Dataset.from_tensor_slices((images, np.zeros(4))),
        )
    check_model_input(dense_model((8, 8, 1)), labelled)
