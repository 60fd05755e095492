"""The tuners refuse silent data and weight mistakes at search() start (issue 10).

Each check must fire before any epoch: a callback counts epochs (a class
attribute, since KerasTuner deep-copies callbacks) and no trial may exist.
"""

from __future__ import annotations

import keras
import numpy as np
import pytest

import tunekit
from tunekit import InvalidParameterError


class EpochSpy(keras.callbacks.Callback):
    epochs = 0

    def on_epoch_begin(self, epoch, logs=None):
        type(self).epochs += 1


@pytest.fixture(autouse=True)
def _reset_spy():
    EpochSpy.epochs = 0
    yield


def flat_classifier(hp):
    model = keras.Sequential(
        [
            keras.Input((64,)),
            keras.layers.Dense(hp.Choice("units", [4, 8]), activation="relu"),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )
    model.compile(
        "adam",
        "sparse_categorical_crossentropy",
        metrics=["accuracy"],
        run_eagerly=True,
    )
    return model


def image_classifier(hp):
    model = keras.Sequential(
        [
            keras.Input((8, 8, 1)),
            keras.layers.Conv2D(hp.Choice("filters", [2, 4]), 3, activation="relu"),
            keras.layers.Flatten(),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )
    model.compile(
        "adam",
        "sparse_categorical_crossentropy",
        metrics=["accuracy"],
        run_eagerly=True,
    )
    return model


@pytest.fixture(scope="module")
def data(digits):
    images, y = digits
    return images[:120], y[:120], images[120:180], y[120:180]


def make_tuner(tmp_path, build=flat_classifier):
    return tunekit.random_search(
        build,
        "val_accuracy",
        max_trials=1,
        directory=tmp_path,
        project_name="p",
        verbose=False,
    )


def assert_refused_before_training(tuner, match, **search_kwargs):
    with pytest.raises(InvalidParameterError, match=match) as info:
        tuner.search(epochs=1, verbose=0, callbacks=[EpochSpy()], **search_kwargs)
    assert EpochSpy.epochs == 0
    assert len(tuner.oracle.trials) == 0
    assert "Received: " in str(info.value)
    return str(info.value)


def flat(x):
    return x.reshape(len(x), -1)


def test_class_weight_with_string_keys(tmp_path, data):
    x, y, vx, vy = data
    assert_refused_before_training(
        make_tuner(tmp_path),
        "Keras silently ignores string keys",
        x=flat(x),
        y=y,
        validation_data=(flat(vx), vy),
        class_weight={str(c): 1.0 for c in range(10)},
    )


def test_class_weight_naming_classes_not_in_y(tmp_path, data):
    x, y, vx, vy = data
    keep = y < 5
    assert_refused_before_training(
        make_tuner(tmp_path),
        r"\[7\] are not classes of y",
        x=flat(x[keep]),
        y=y[keep],
        validation_data=(flat(vx), vy),
        class_weight={0: 1.0, 1: 1.0, 2: 1.0, 3: 1.0, 4: 1.0, 7: 2.0},
    )


def test_class_weight_missing_classes_warns_and_searches(tmp_path, data):
    x, y, vx, vy = data
    tuner = make_tuner(tmp_path)
    missing = r"no weight for the classes \[5, 6, 7, 8, 9\]"
    with pytest.warns(UserWarning, match=missing):
        tuner.search(
            flat(x),
            y,
            validation_data=(flat(vx), vy),
            class_weight={c: 2.0 for c in range(5)},
            epochs=1,
            verbose=0,
            callbacks=[EpochSpy()],
        )
    assert EpochSpy.epochs == 1


@pytest.mark.parametrize(
    "weights, match",
    [
        (lambda n: np.r_[np.ones(n - 1), -2.0], "negative"),
        (lambda n: np.r_[np.nan, np.ones(n - 1)], "NaN"),
        (lambda n: np.ones(n + 3), "one weight per sample"),
    ],
)
def test_bad_sample_weight(tmp_path, data, weights, match):
    x, y, vx, vy = data
    message = assert_refused_before_training(
        make_tuner(tmp_path),
        match,
        x=flat(x),
        y=y,
        validation_data=(flat(vx), vy),
        sample_weight=weights(len(x)),
    )
    assert "sample_weight" in message


def test_images_to_a_flat_model(tmp_path, data):
    x, y, vx, vy = data
    message = assert_refused_before_training(
        make_tuner(tmp_path),
        "model's Input is flat",
        x=x,
        y=y,
        validation_data=(flat(vx), vy),
    )
    assert "Received: x.shape=(120, 8, 8, 1)" in message


def test_flat_rows_to_an_image_model(tmp_path, data):
    x, y, vx, vy = data
    assert_refused_before_training(
        make_tuner(tmp_path, image_classifier),
        "expects images",
        x=flat(x),
        y=y,
        validation_data=(vx, vy),
    )


def test_validation_images_of_another_size(tmp_path, data):
    x, y, vx, vy = data
    bigger = np.pad(vx, ((0, 0), (1, 1), (1, 1), (0, 0)))  # 10x10 images
    message = assert_refused_before_training(
        make_tuner(tmp_path, image_classifier),
        r"`validation_data` has samples of shape \(10, 10, 1\)",
        x=x,
        y=y,
        validation_data=(bigger, vy),
    )
    assert "(8, 8, 1)" in message


def test_dataset_without_labels(tmp_path, data):
    tf = pytest.importorskip("tensorflow")
    x, y, vx, vy = data
    images_only = tf.data.Dataset.from_tensor_slices(x).batch(32)
    labelled = tf.data.Dataset.from_tensor_slices((vx, vy)).batch(32)
    assert_refused_before_training(
        make_tuner(tmp_path, image_classifier),
        "`x` is a tf.data.Dataset whose elements have no labels",
        x=images_only,
        validation_data=labelled,
    )
    assert_refused_before_training(
        make_tuner(tmp_path / "v", image_classifier),
        "`validation_data` is a tf.data.Dataset",
        x=tf.data.Dataset.from_tensor_slices((x, y)).batch(32),
        validation_data=tf.data.Dataset.from_tensor_slices(vx).batch(32),
    )
