"""Tests of tunekit.build_cnn_hypermodel / CNNHyperModel (real models, real data)."""

from __future__ import annotations

import math

import keras
import keras_tuner
import numpy as np
import pytest

import tunekit
from tunekit import CNNHyperModel, InvalidParameterError, build_cnn_hypermodel

SMALL_SHAPES = [(8, 8, 1), (28, 28, 1)]
# Each sample is a new model. TensorFlow trains it eagerly in ~0.1 s; JAX and
# torch compile every new model (seconds), so they check fewer samples.
ON_TENSORFLOW = keras.backend.backend() == "tensorflow"
N_SAMPLES = 30 if ON_TENSORFLOW else 4


def space_of(hypermodel: CNNHyperModel) -> dict[str, tuple[str, dict]]:
    """name -> (KerasTuner class name, config without name/conditions)."""
    hp = keras_tuner.HyperParameters()
    hypermodel.build(hp)  # the way tuners discover the space
    result = {}
    for item in hp.space:
        config = dict(item.get_config())
        config.pop("name")
        config.pop("conditions")
        result[item.name] = (type(item).__name__, config)
    return result


def random_samples(hypermodel: CNNHyperModel, n: int, seed: int = 0):
    """Draw ``n`` value sets exactly like KerasTuner's Oracle._random_values."""
    space = keras_tuner.HyperParameters()
    hypermodel.build(space)
    keras.backend.clear_session()
    seed_state = seed
    for _ in range(n):
        hps = keras_tuner.HyperParameters()
        for item in space.space:
            hps.merge([item])
            if hps.is_active(item):
                hps.values[item.name] = item.random_sample(seed_state)
                seed_state += 1
        yield hps


def train_one_step(model: keras.Model, shape, num_classes: int) -> float:
    rng = np.random.default_rng(0)
    x = rng.random((2, *shape), dtype=np.float32)
    y = np.array([0, num_classes - 1])
    model.run_eagerly = ON_TENSORFLOW  # skip tf.function tracing
    loss = model.train_on_batch(x, y)
    return float(np.ravel(loss)[0])


def int_hp(lo, hi, step, default=None):
    config = {"default": default, "min_value": lo, "max_value": hi}
    return ("Int", {**config, "step": step, "sampling": "linear"})


def float_hp(lo, hi, step=None, sampling="linear", default=None):
    config = {"default": default, "min_value": lo, "max_value": hi}
    return ("Float", {**config, "step": step, "sampling": sampling})


def choice_hp(values, default=None, ordered=None):
    if ordered is None:
        ordered = all(isinstance(v, (int, float)) for v in values)
    return ("Choice", {"default": default, "values": values, "ordered": ordered})


# --------------------------------------------------------------------------
# Exact search spaces
# --------------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(8, 8, 1), (150, 150, 3)])
def test_two_conv_space_is_the_published_one(shape):
    space = space_of(build_cnn_hypermodel(shape, 2, preset="two_conv"))
    assert space == {
        "conv_1_filters": int_hp(32, 128, 32),
        "conv_1_kernel": choice_hp([3, 5], default=3),
        "conv_2_filters": int_hp(64, 256, 64),
        "conv_2_kernel": choice_hp([3, 5], default=3),
        # the published ranges; the defaults are a known-good model (the
        # first trial of initial_trials="defaults"), not KerasTuner's minimum
        "dense_units": int_hp(64, 512, 64, default=128),
        "learning_rate": choice_hp([0.01, 0.001, 0.0001], default=0.001),
    }


@pytest.mark.parametrize("shape", [(8, 8, 1), (28, 28, 1)])
def test_dense_head_space_is_the_published_one(shape):
    space = space_of(build_cnn_hypermodel(shape, 10, preset="dense_head"))
    assert space == {
        "dense_units": int_hp(64, 512, 32, default=128),
        "dropout": float_hp(0.1, 0.5, step=0.1, default=0.2),
        "learning_rate": float_hp(1e-4, 1e-2, sampling="log", default=1e-3),
        "optimizer": choice_hp(["adam", "rmsprop"], default="adam"),
    }


@pytest.mark.parametrize(
    ("shape", "max_blocks"),
    [((8, 8, 1), 3), ((28, 28, 1), 4), ((150, 150, 3), 4), ((4, 9, 1), 2)],
)
def test_default_space_depth_is_capped_by_input_shape(shape, max_blocks):
    space = space_of(build_cnn_hypermodel(shape, 10))
    filters = {f"filters_{i}": int_hp(16, 128, 16) for i in range(1, max_blocks + 1)}
    for i, name in enumerate(filters, start=1):
        filters[name][1]["default"] = min(32 * 2 ** (i - 1), 128)
    assert space == {
        "conv_blocks": int_hp(1, max_blocks, 1, default=min(2, max_blocks)),
        **filters,
        "kernel_size": choice_hp([3, 5], default=3),
        "batch_norm": ("Boolean", {"default": False}),
        "pooling": choice_hp(["max", "avg"], default="max"),
        "dense_units": int_hp(32, 256, 32, default=128),
        "dropout": float_hp(0.0, 0.5, step=0.1, default=0.2),
        "optimizer": choice_hp(["adam", "rmsprop", "sgd"], default="adam"),
        "learning_rate": float_hp(1e-4, 1e-2, sampling="log", default=1e-3),
    }


def test_two_conv_builds_the_published_architecture():
    hypermodel = build_cnn_hypermodel(
        (150, 150, 3), 2, label_mode="binary", preset="two_conv", padding="valid"
    )
    hp = keras_tuner.HyperParameters()
    hp.values.update({"conv_1_kernel": 5, "conv_2_filters": 128})
    model = hypermodel.build(hp)
    kinds = [type(layer).__name__ for layer in model.layers]
    assert kinds == [
        "InputLayer",
        "Conv2D",
        "MaxPooling2D",
        "Conv2D",
        "MaxPooling2D",
        "Flatten",
        "Dense",
        "Dense",
    ]
    # valid padding as in the seed: 150 -5+1 = 146 -> 73 -> 71 -> 35
    assert model.get_layer("pool_2").output.shape[1:] == (35, 35, 128)
    assert model.get_layer("conv_1").kernel_size == (5, 5)
    assert isinstance(model.optimizer, keras.optimizers.Adam)
    assert math.isclose(float(model.optimizer.learning_rate), 1e-3, rel_tol=1e-6)


def test_dense_head_builds_the_fixed_conv_stack():
    model = build_cnn_hypermodel((28, 28, 1), 10, preset="dense_head").build(
        keras_tuner.HyperParameters()
    )
    convs = [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]
    assert [c.filters for c in convs] == [32, 64]
    assert model.get_layer("flatten").output.shape[1:] == (7 * 7 * 64,)
    assert isinstance(model.get_layer("dropout"), keras.layers.Dropout)


# --------------------------------------------------------------------------
# Every sample builds and trains
# --------------------------------------------------------------------------


@pytest.mark.parametrize("preset", ["default", "dense_head", "two_conv"])
@pytest.mark.parametrize("shape", SMALL_SHAPES)
def test_random_samples_build_and_train(preset, shape):
    hypermodel = build_cnn_hypermodel(shape, 10, preset=preset)
    seen = {}
    for hp in random_samples(hypermodel, N_SAMPLES, seed=len(shape) * shape[0]):
        keras.backend.clear_session(free_memory=False)  # gc.collect is slow
        model = hypermodel.build(hp)
        assert model.output_shape == (None, 10)
        assert math.isfinite(train_one_step(model, shape, 10))
        for name, value in hp.values.items():
            seen.setdefault(name, set()).add(value)
    if preset == "default" and N_SAMPLES >= 30:
        # the deepest allowed stack was actually sampled and trained
        assert max(seen["conv_blocks"]) == min(hypermodel.max_conv_blocks, 4)
        assert seen["batch_norm"] == {True, False}
        assert seen["optimizer"] == {"adam", "rmsprop", "sgd"}


def test_random_samples_with_valid_padding_train_on_28x28():
    hypermodel = build_cnn_hypermodel((28, 28, 1), 10, padding="valid")
    # 5x5 kernels: 28 -> 24 -> 12 -> 8 -> 4 -> 0, so only two blocks fit
    assert hypermodel.search_space["conv_blocks"] == "Int 1..2"
    hp = keras_tuner.HyperParameters()
    hp.values.update({"conv_blocks": 2, "kernel_size": 5})  # the worst case
    samples = [hp, *random_samples(hypermodel, 5, seed=7)]
    for sample in samples:
        keras.backend.clear_session()
        model = hypermodel.build(sample)
        assert math.isfinite(train_one_step(model, (28, 28, 1), 10))


def test_default_samples_train_on_150x150x3():
    hypermodel = build_cnn_hypermodel((150, 150, 3), 5, rescale=1 / 255)
    biggest = keras_tuner.HyperParameters()
    biggest.values.update(
        {"conv_blocks": 4, "kernel_size": 5, "batch_norm": True, "dense_units": 256}
    )
    biggest.values.update({f"filters_{i}": 128 for i in range(1, 5)})
    for hp in [biggest, *random_samples(hypermodel, 3, seed=3)]:
        keras.backend.clear_session()
        model = hypermodel.build(hp)
        assert math.isfinite(train_one_step(model, (150, 150, 3), 5))


def test_depth_beyond_the_space_still_builds():
    # A caller may fix conv_blocks higher than the space (e.g. 4 on 8x8):
    # pooling stops at 1x1 and missing filters get registered.
    hypermodel = build_cnn_hypermodel((8, 8, 1), 3)
    hp = keras_tuner.HyperParameters()
    hp.Fixed("conv_blocks", 4)
    model = hypermodel.build(hp)
    assert hp.values["filters_4"] == 64
    assert model.get_layer("conv_4").output.shape[1:3] == (1, 1)
    assert math.isfinite(train_one_step(model, (8, 8, 1), 3))


# --------------------------------------------------------------------------
# Head, loss and metric follow the label mode (real fits on digits)
# --------------------------------------------------------------------------

SMALL = {"conv_blocks": 1, "filters_1": 16, "dense_units": 32, "optimizer": "adam"}


def fit_digits(hypermodel, x, y, epochs=3):
    model = hypermodel.build(keras_tuner.HyperParameters())
    history = model.fit(
        x[:-150],
        y[:-150],
        validation_data=(x[-150:], y[-150:]),
        epochs=epochs,
        batch_size=32,
        verbose=0,
    )
    return model, history.history


@pytest.mark.parametrize(
    ("label_mode", "loss_class", "metric_class"),
    [
        ("int", "SparseCategoricalCrossentropy", "SparseCategoricalAccuracy"),
        ("categorical", "CategoricalCrossentropy", "CategoricalAccuracy"),
    ],
)
def test_multiclass_heads_fit_digits(digits, label_mode, loss_class, metric_class):
    x, y = digits
    if label_mode == "categorical":
        y = keras.utils.to_categorical(y, 10)
    space = {**SMALL, "learning_rate": 3e-3}
    hypermodel = build_cnn_hypermodel((8, 8, 1), 10, label_mode=label_mode, space=space)
    model, history = fit_digits(hypermodel, x, y)
    output = model.get_layer("output")
    assert output.units == 10
    assert output.activation.__name__ == "softmax"
    assert type(model.loss).__name__ == loss_class
    assert set(history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    (metric,) = model.get_compile_config()["metrics"]
    assert metric["class_name"] == metric_class
    assert metric["config"]["name"] == "accuracy"
    assert history["val_accuracy"][-1] > 0.8


def test_binary_head_fits_digits_zero_vs_one(digits):
    x, y = digits
    keep = y < 2
    x, y = x[keep], y[keep]
    space = {**SMALL, "learning_rate": 3e-3}
    hypermodel = build_cnn_hypermodel((8, 8, 1), 2, label_mode="binary", space=space)
    model, history = fit_digits(hypermodel, x, y)
    output = model.get_layer("output")
    assert output.units == 1
    assert output.activation.__name__ == "sigmoid"
    assert type(model.loss).__name__ == "BinaryCrossentropy"
    assert set(history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert history["val_accuracy"][-1] > 0.95
    predictions = model.predict(x[-150:], verbose=0)
    assert predictions.shape == (150, 1)
    assert ((predictions[:, 0] > 0.5) == y[-150:]).mean() > 0.95


def test_two_classes_with_int_labels_use_softmax(digits):
    model = build_cnn_hypermodel((8, 8, 1), 2).build(keras_tuner.HyperParameters())
    assert model.output_shape == (None, 2)
    assert type(model.loss).__name__ == "SparseCategoricalCrossentropy"


def test_val_accuracy_is_a_valid_kerastuner_objective(digits, tmp_path):
    x, y = digits
    hypermodel = build_cnn_hypermodel(
        (8, 8, 1), 10, space={**SMALL, "learning_rate": 3e-3}
    )
    tuner = keras_tuner.RandomSearch(
        hypermodel,
        objective="val_accuracy",
        max_trials=1,
        directory=tmp_path,
        project_name="p",
        seed=0,
    )
    assert tuner.oracle.objective.direction == "max"
    # the oracle's first trial, built and fitted as the tuner would
    trial = tuner.oracle.create_trial("tuner0")
    model = tuner.hypermodel.build(trial.hyperparameters)
    history = model.fit(
        x[:300], y[:300], validation_data=(x[300:400], y[300:400]), verbose=0
    )
    assert "val_accuracy" in history.history


# --------------------------------------------------------------------------
# Preprocessing inside the model
# --------------------------------------------------------------------------


def test_rescale_and_augment_layers(digits):
    hypermodel = build_cnn_hypermodel(
        (8, 8, 1),
        10,
        rescale=1 / 16,
        augment={"flip": "horizontal", "rotation": 0.1, "zoom": 0.1},
    )
    model = hypermodel.build(keras_tuner.HyperParameters())
    names = [layer.name for layer in model.layers]
    assert names[1:5] == ["rescale", "random_flip", "random_rotation", "random_zoom"]
    raw = digits[0][:4] * 16
    rescaled = keras.Model(model.input, model.get_layer("rescale").output)(raw)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(rescaled), digits[0][:4])
    # augmentation is off at inference: predictions are deterministic
    first = model.predict(raw, verbose=0)
    np.testing.assert_allclose(first, model.predict(raw, verbose=0), rtol=1e-6)


def test_augment_true_uses_the_default_layers():
    model = build_cnn_hypermodel((28, 28, 1), 10, augment=True).build(
        keras_tuner.HyperParameters()
    )
    kinds = {type(layer).__name__ for layer in model.layers}
    assert {"RandomFlip", "RandomRotation", "RandomZoom"} <= kinds
    assert "Rescaling" not in kinds


def test_rescale_with_offset():
    model = build_cnn_hypermodel((8, 8, 1), 10, rescale=(1 / 127.5, -1)).build(
        keras_tuner.HyperParameters()
    )
    layer = model.get_layer("rescale")
    assert (layer.scale, layer.offset) == (1 / 127.5, -1.0)


# --------------------------------------------------------------------------
# space= overrides
# --------------------------------------------------------------------------


def test_space_overrides_become_kerastuner_hyperparameters():
    user_space = {
        "dense_units": (32, 96, 32),
        "learning_rate": (1e-3, 1e-1, "log"),
        "dropout": (0, 0.3),
        "optimizer": ["adam", "sgd"],
        "kernel_size": 3,
        "conv_blocks": (1, 2),
        "batch_norm": [True],
        "pooling": ["avg"],
    }
    copy = dict(user_space)
    space = space_of(build_cnn_hypermodel((28, 28, 1), 10, space=user_space))
    assert user_space == copy  # not mutated
    assert space["dense_units"] == int_hp(32, 96, 32)
    assert space["learning_rate"] == float_hp(0.001, 0.1, sampling="log", default=1e-3)
    assert space["dropout"] == float_hp(0.0, 0.3, default=0.2)
    assert space["optimizer"] == choice_hp(["adam", "sgd"], default="adam")
    assert space["kernel_size"] == ("Fixed", {"value": 3})
    assert space["conv_blocks"] == int_hp(1, 2, 1, default=2)
    assert space["batch_norm"] == ("Fixed", {"value": True})
    assert space["pooling"] == choice_hp(["avg"], default="avg")
    bools = build_cnn_hypermodel((8, 8, 1), 3, space={"batch_norm": [False, True]})
    assert space_of(bools)["batch_norm"] == ("Boolean", {"default": False})
    assert [name for name in space if name.startswith("filters_")] == [
        "filters_1",
        "filters_2",
    ]


def test_space_override_changes_the_built_model():
    hypermodel = build_cnn_hypermodel(
        (8, 8, 1), 10, preset="two_conv", space={"dense_units": 48, "conv_1_kernel": 5}
    )
    model = hypermodel.build(keras_tuner.HyperParameters())
    assert model.get_layer("dense").units == 48
    assert model.get_layer("conv_1").kernel_size == (5, 5)


def test_valid_padding_cap_follows_a_kernel_override():
    assert build_cnn_hypermodel((28, 28, 1), 10, padding="valid").max_conv_blocks == 2
    fixed = build_cnn_hypermodel(
        (28, 28, 1), 10, padding="valid", space={"kernel_size": 3}
    )
    assert fixed.max_conv_blocks == 3  # 28 -> 26 -> 13 -> 11 -> 5 -> 3 -> 1
    assert fixed.search_space["conv_blocks"] == "Int 1..3"


# --------------------------------------------------------------------------
# Introspection for other tools (e.g. scikit-learn parameter grids)
# --------------------------------------------------------------------------


def test_hyperparameters_and_defaults_match_an_empty_build():
    hypermodel = build_cnn_hypermodel((8, 8, 1), 10)
    hp = keras_tuner.HyperParameters()
    hypermodel.build(hp)
    assert [item.name for item in hp.space] == list(hypermodel.search_space)
    assert hp.values == hypermodel.defaults
    declared = hypermodel.hyperparameters
    assert [item.name for item in declared.space] == list(hypermodel.search_space)
    assert declared.values == hypermodel.defaults


def test_preset_values_are_honoured():
    hypermodel = build_cnn_hypermodel((8, 8, 1), 10)
    hp = keras_tuner.HyperParameters()
    hp.Fixed("dense_units", 48)
    hp.values["conv_blocks"] = 3
    hp.values["optimizer"] = "sgd"
    model = hypermodel.build(hp)
    assert model.get_layer("dense").units == 48
    assert [layer.name for layer in model.layers if layer.name.startswith("conv_")] == [
        "conv_1",
        "conv_2",
        "conv_3",
    ]
    assert isinstance(model.optimizer, keras.optimizers.SGD)
    assert hp.values["dense_units"] == 48


def test_public_exports():
    assert tunekit.CNNHyperModel is CNNHyperModel
    assert isinstance(build_cnn_hypermodel((8, 8, 1), 3), keras_tuner.HyperModel)
    assert "preset='default'" in repr(build_cnn_hypermodel((8, 8, 1), 3))


# --------------------------------------------------------------------------
# Errors, all raised at construction
# --------------------------------------------------------------------------

ERROR_CASES = [
    ({"input_shape": (8, 8)}, r"channel axis.*\(8, 8, 1\).*Received: input_shape"),
    ({"input_shape": (None, 8, 1)}, r"spatial size must be known"),
    ({"input_shape": (1, 8, 8, 1)}, r"Leave out the batch axis"),
    ({"input_shape": "8x8"}, r"`input_shape` must be a tuple of 3 positive"),
    ({"input_shape": (0, 8, 1)}, r"Received: input_shape=\(0, 8, 1\)"),
    ({"input_shape": (1, 1, 1)}, r"too small for preset='default'.*at least 2x2"),
    ({"input_shape": (3, 3, 1), "preset": "dense_head"}, r"at least 4x4"),
    (
        {"preset": "two_conv", "padding": "valid"},
        r"at least 16x16 pixels.*padding='same'.*Received: input_shape=\(8, 8, 1\)",
    ),
    ({"num_classes": 1}, r"`num_classes` must be an integer >= 2.*num_classes=1"),
    ({"num_classes": 2.0}, r"num_classes=2.0"),
    ({"num_classes": True}, r"num_classes=True"),
    (
        {"num_classes": 3, "label_mode": "binary"},
        r"needs exactly 2 classes.*label_mode='binary', num_classes=3",
    ),
    ({"label_mode": "categorial"}, r"Did you mean 'categorical'\?.*label_mode="),
    ({"label_mode": "sparse"}, r"`label_mode` must be one of 'int'"),
    ({"preset": "two-conv"}, r"Did you mean 'two_conv'\?.*preset='two-conv'"),
    ({"padding": "full"}, r"`padding` must be one of 'same', 'valid'"),
    ({"space": ["dense_units"]}, r"`space` must be None or a dict"),
    (
        {"space": {"dense_unit": 64}},
        r"Unknown hyperparameter 'dense_unit'.*Did you mean 'dense_units'\?"
        r".*Valid names: conv_blocks, filters_1",
    ),
    (
        {"space": {"filters_4": 64}},
        r"Unknown hyperparameter 'filters_4'.*filters_3, kernel_size",
    ),
    (
        {"space": {"dropout": 0.3}, "preset": "two_conv"},
        r"Unknown hyperparameter 'dropout' in `space` for preset='two_conv'",
    ),
    ({"space": {"conv_blocks": (1, 5)}}, r"between 1 and 3 for this input_shape"),
    ({"space": {"dropout": (0.1, 1.5)}}, r"in \[0, 1\).*space\['dropout'\]"),
    ({"space": {"optimizer": ["adam", "nadam"]}}, r"one of 'adam', 'rmsprop', 'sgd'"),
    ({"space": {"optimizer": ("adam", "sgd")}}, r"a list of choices"),
    ({"space": {"dense_units": (64, 32)}}, r"low < high"),
    ({"space": {"dense_units": (32.5, 64)}}, r"a positive integer"),
    ({"space": {"dense_units": (32, 64, 0)}}, r"positive step or 'log'"),
    ({"space": {"learning_rate": (1e-4, 1e-2, "logarithmic")}}, r"sampling"),
    ({"space": {"dense_units": []}}, r"a non-empty list"),
    ({"space": {"dense_units": [32, 32]}}, r"without duplicates"),
    ({"space": {"dense_units": {"min": 1}}}, r"a tuple, a list or a single value"),
    ({"space": {"batch_norm": "yes"}}, r"True or False"),
    ({"space": {"kernel_size": 0}}, r"positive integer"),
    ({"rescale": 0}, r"`rescale` must be None, a non-zero number"),
    ({"rescale": "1/255"}, r"Received: rescale='1/255'"),
    ({"augment": {"flip": "diagonal"}}, r"augment\['flip'\]` must be one of"),
    ({"augment": {"rotate": 0.1}}, r"Unknown augmentation 'rotate'.*'rotation'"),
    ({"augment": {"zoom": 2}}, r"strictly between 0 and 1"),
    ({"augment": "yes"}, r"`augment` must be None, True or a dict"),
]


@pytest.mark.parametrize(("kwargs", "match"), ERROR_CASES)
def test_invalid_arguments_raise_clear_errors(kwargs, match):
    arguments = {"input_shape": (8, 8, 1), "num_classes": 10, **kwargs}
    with pytest.raises(InvalidParameterError, match=match) as info:
        build_cnn_hypermodel(**arguments)
    assert "Received:" in str(info.value)
    assert isinstance(info.value, ValueError)


# --------------------------------------------------------------------------
# Conditional search space (issue 8): filters_k only when conv_blocks >= k
# --------------------------------------------------------------------------


def test_filters_are_conditional_on_conv_blocks():
    hypermodel = build_cnn_hypermodel((28, 28, 1), 10)
    hp = keras_tuner.HyperParameters()
    hypermodel.build(hp)
    conditions = {
        item.name: [c.get_config() for c in item.conditions] for item in hp.space
    }
    for k in range(1, 5):
        assert conditions[f"filters_{k}"] == [
            {"name": "conv_blocks", "values": list(range(k, 5))}
        ]
    assert conditions["conv_blocks"] == conditions["dense_units"] == []
    # The default is two blocks: filters_3 and filters_4 exist but are inactive.
    assert hp.values["filters_2"] == 64
    assert "filters_3" not in hp.values and "filters_3" not in hypermodel.defaults
    assert "filters_3" in hypermodel.search_space
    assert not hp.is_active("filters_4")


def test_conditions_follow_a_conv_blocks_override():
    hypermodel = build_cnn_hypermodel((28, 28, 1), 10, space={"conv_blocks": [1, 3]})
    hp = hypermodel.hyperparameters
    parents = {
        item.name: item.conditions[0].get_config()["values"]
        for item in hp.space
        if item.conditions
    }
    assert parents == {"filters_1": [1, 3], "filters_2": [3], "filters_3": [3]}


def test_random_samples_never_hold_values_of_missing_blocks():
    hypermodel = build_cnn_hypermodel((28, 28, 1), 10)
    depths = set()
    for hp in random_samples(hypermodel, 40, seed=1):
        blocks = hp.values["conv_blocks"]
        depths.add(blocks)
        present = sorted(name for name in hp.values if name.startswith("filters_"))
        assert present == [f"filters_{k}" for k in range(1, blocks + 1)]
    assert depths == {1, 2, 3, 4}


def test_one_block_trial_has_no_filters_2(digits, tmp_path):
    x, y = digits
    hypermodel = build_cnn_hypermodel(
        (8, 8, 1),
        10,
        space={"dense_units": 32, "optimizer": "adam", "learning_rate": 3e-3},
    )
    fixed = keras_tuner.HyperParameters()
    fixed.Fixed("conv_blocks", 1)
    tuner = tunekit.random_search(
        hypermodel,
        "val_accuracy",
        max_trials=2,
        directory=tmp_path,
        hyperparameters=fixed,
        seed=0,
        verbose=False,
    )
    tuner.search(
        x[:200],
        y[:200],
        validation_data=(x[200:300], y[200:300]),
        epochs=1,
        batch_size=32,
        verbose=0,
    )
    trials = list(tuner.oracle.trials.values())
    assert len(trials) == 2
    for trial in trials:
        assert trial.hyperparameters.values["conv_blocks"] == 1
        assert "filters_1" in trial.hyperparameters.values
        assert "filters_2" not in trial.hyperparameters.values
    assert "filters_2" not in tuner.get_best_hyperparameters()[0].values
    for row in tunekit.summarize(tuner).rows:  # inactive: shown as "-", no value
        assert row.hyperparameters.get("filters_2", "-") == "-"
        assert isinstance(row.hyperparameters["filters_1"], int)
    model = tuner.get_best_models()[0]
    assert [layer.name for layer in model.layers if layer.name.startswith("conv_")] == [
        "conv_1"
    ]


def test_estimator_grid_search_over_a_conditional_hyperparameter(digits):
    from sklearn.model_selection import GridSearchCV, KFold

    x, y = digits
    hypermodel = build_cnn_hypermodel(
        (8, 8, 1),
        10,
        space={"dense_units": 32, "optimizer": "adam", "learning_rate": 3e-3},
    )
    clf = tunekit.KerasClassifier(hypermodel, epochs=1, random_state=0)
    params = clf.get_params()
    assert params["conv_blocks"] == 2
    assert params["filters_3"] == 128  # inactive at the defaults, still a parameter
    grid = GridSearchCV(clf, {"conv_blocks": [3], "filters_3": [48]}, cv=KFold(2))
    grid.fit(x[:100], y[:100])
    assert grid.best_estimator_.model_.get_layer("conv_3").filters == 48


def test_dtype_policy_is_per_model_and_keeps_the_head_in_float32(digits):
    x, y = digits
    hypermodel = build_cnn_hypermodel((8, 8, 1), 10, dtype_policy="mixed_bfloat16")
    keras.backend.clear_session()  # as before every trial: no global policy left
    model = hypermodel.build(keras_tuner.HyperParameters())
    assert keras.config.dtype_policy().name == "float32"  # the global one untouched
    assert model.get_layer("conv_1").compute_dtype == "bfloat16"
    assert model.get_layer("conv_1").variable_dtype == "float32"
    assert model.get_layer("output").compute_dtype == "float32"
    history = model.fit(x[:256], y[:256], epochs=2, batch_size=64, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    assert model.predict(x[:4], verbose=0).dtype == np.float32


def test_an_unknown_dtype_policy_is_refused():
    with pytest.raises(InvalidParameterError, match="dtype_policy") as caught:
        build_cnn_hypermodel((8, 8, 1), 10, dtype_policy="bfloat16")
    assert "mixed_bfloat16" in str(caught.value)
