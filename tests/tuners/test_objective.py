"""validate_objective / metric_direction: the direction table and logged keys."""

from __future__ import annotations

import keras
import keras_tuner
import numpy as np
import pytest

from tunekit import ObjectiveError, metric_direction, validate_objective
from tunekit.tuners._objective import discover_logged_keys, sample_batch


@pytest.mark.parametrize(
    "name",
    [
        # KerasTuner infers "min" for these (silently wrong, pitfalls §1)
        "val_f1_score",
        "r2_score",
        "pearson_correlation",
        "concordance_correlation",
        "cosine_similarity",
        # KerasTuner cannot infer these (ValueError) or crashes (TypeError)
        "fbeta_score",
        "iou",
        "prc",
        "val_auc_1",
        "mean_io_u",
        "io_u",
        "binary_io_u",
        "one_hot_mean_io_u",
        "precision_at_recall",
        "recall_at_precision",
        "sensitivity_at_specificity",
        "specificity_at_sensitivity",
        # what KerasTuner already gets right
        "val_accuracy",
        "acc",
        "sparse_top_k_categorical_accuracy",
        "auc",
        "precision",
        "recall",
        "true_positives",
        "weighted_accuracy",
        "val_a_accuracy",
        "val_source_classification_categorical_accuracy",
    ],
)
def test_max_metrics(name):
    assert metric_direction(name) == "max"
    assert validate_objective(name).direction == "max"


@pytest.mark.parametrize(
    "name",
    [
        "loss",
        "val_loss",
        "a_loss",
        "mae",
        "val_mse",
        "rmse",
        "root_mean_squared_error",
        "false_positives",
        "false_negatives",
        "huber_loss",
        "kl_divergence",
        "val_sparse_categorical_crossentropy",
        "mean_absolute_percentage_error",
        "poisson",
    ],
)
def test_min_metrics(name):
    assert metric_direction(name) == "min"
    assert validate_objective(name).direction == "min"


def test_every_keras_metric_class_has_a_direction():
    """Each keras.metrics class's default logged name is in the table."""
    needs = {
        "num_classes": 3,
        "thresholds": 0.5,
        "recall": 0.5,
        "precision": 0.5,
        "sensitivity": 0.5,
        "specificity": 0.5,
        "target_class_ids": [0],
    }
    skipped = {"Mean", "Sum", "Metric", "MeanMetricWrapper"}  # no fixed direction
    import inspect

    missing = []
    for attr in dir(keras.metrics):
        cls = getattr(keras.metrics, attr)
        if not inspect.isclass(cls) or not issubclass(cls, keras.metrics.Metric):
            continue
        if attr in skipped:
            continue
        params = inspect.signature(cls.__init__).parameters
        kwargs = {
            k: v
            for k, v in needs.items()
            if k in params and params[k].default is inspect.Parameter.empty
        }
        metric = cls(**kwargs)
        if metric_direction(metric.name) is None:
            missing.append(metric.name)
    assert missing == []


def test_unknown_metric_asks_for_a_direction():
    with pytest.raises(ObjectiveError, match=r'\("val_my_metric", "max"\)') as info:
        validate_objective("val_my_metric")
    assert "Received: objective='val_my_metric'" in str(info.value)
    # The explicit form is accepted.
    objective = validate_objective(("val_my_metric", "max"))
    assert isinstance(objective, keras_tuner.Objective)
    assert (objective.name, objective.direction) == ("val_my_metric", "max")


@pytest.mark.parametrize(
    "objective",
    [
        ("val_mae", "maximize"),
        keras_tuner.Objective("val_mae", "maximize"),
        ("val_loss", "MIN"),
        ("val_loss", "down"),
    ],
)
def test_directions_other_than_min_max_are_rejected(objective):
    with pytest.raises(ObjectiveError, match='must be "min" or "max"'):
        validate_objective(objective)


@pytest.mark.parametrize(
    "objective, expected",
    [
        # autokeras#867: Objective('val_f1_score', direction='min')
        (keras_tuner.Objective("val_f1_score", direction="min"), "max"),
        (("val_auc", "min"), "max"),
        (("val_loss", "max"), "min"),
        (("val_r2_score", "min"), "max"),
    ],
)
def test_direction_contradicting_the_table_is_an_error(objective, expected):
    with pytest.raises(ObjectiveError, match=f"Use direction='{expected}'"):
        validate_objective(objective)


def test_list_objective_and_bad_types():
    objectives = validate_objective(["val_loss", ("val_score", "max")])
    assert [(o.name, o.direction) for o in objectives] == [
        ("val_loss", "min"),
        ("val_score", "max"),
    ]
    with pytest.raises(ObjectiveError, match="same metric twice"):
        validate_objective(["val_loss", "val_loss"])
    with pytest.raises(ObjectiveError, match="must be a metric name"):
        validate_objective(3)
    with pytest.raises(ObjectiveError, match="empty"):
        validate_objective([])


def test_logged_key_check_suggests_and_lists():
    keys = ["accuracy", "loss"]
    with pytest.raises(ObjectiveError, match="Did you mean 'val_accuracy'") as info:
        validate_objective("val_acc", keys, validation=True)  # kt PR#202
    assert "'val_loss'" in str(info.value)  # the full list is shown
    assert validate_objective("val_accuracy", keys, validation=True).name == (
        "val_accuracy"
    )


def test_val_objective_without_validation_data():
    with pytest.raises(ObjectiveError, match="validation_data"):
        validate_objective("val_accuracy", ["accuracy", "loss"], validation=False)
    with pytest.raises(ObjectiveError, match="validation_split"):
        validate_objective("val_loss", validation=False)


def _compiled(outputs, **compile_kwargs):
    inputs = keras.Input((64,))
    model = keras.Model(inputs, outputs(inputs))
    model.compile(optimizer="adam", **compile_kwargs)
    return model


def test_discovered_keys_of_real_models(digits):
    x, y = digits
    x = x.reshape(len(x), -1)[:32]
    binary = (y[:32] % 2).astype("float32")

    # kt#567: a model compiled with a loss only logs no "accuracy".
    model = _compiled(
        lambda i: keras.layers.Dense(10, activation="softmax")(i),
        loss="sparse_categorical_crossentropy",
    )
    keys = discover_logged_keys(model, sample_batch(x, y[:32]))
    assert keys == ["loss"]
    with pytest.raises(ObjectiveError, match=r"The model logs: \['loss'"):
        validate_objective("accuracy", keys)

    # Two AUC instances log auc and auc_1 (tensorflow#43645).
    model = _compiled(
        lambda i: keras.layers.Dense(1, activation="sigmoid")(i),
        loss="binary_crossentropy",
        metrics=[keras.metrics.AUC(), keras.metrics.AUC(curve="PR")],
    )
    keys = discover_logged_keys(model, sample_batch(x, binary))
    assert {"auc", "auc_1"} <= set(keys)
    assert validate_objective("val_auc_1", keys, validation=True).direction == "max"

    # Multi-output models prefix the output name (kt#464).
    def two_heads(i):
        return {
            "digit": keras.layers.Dense(10, activation="softmax", name="digit")(i),
            "odd": keras.layers.Dense(1, activation="sigmoid", name="odd")(i),
        }

    model = _compiled(
        two_heads,
        loss={"digit": "sparse_categorical_crossentropy", "odd": "binary_crossentropy"},
        metrics={"digit": ["accuracy"], "odd": ["accuracy"]},
    )
    keys = discover_logged_keys(
        model, sample_batch(x, {"digit": y[:32], "odd": binary})
    )
    assert "digit_accuracy" in keys
    with pytest.raises(
        ObjectiveError,
        match="Did you mean one of 'val_digit_accuracy', 'val_odd_accuracy'",
    ):
        validate_objective("val_accuracy", keys, validation=True)
    objective = validate_objective("val_digit_accuracy", keys, validation=True)
    assert objective.direction == "max"


def test_sample_batch_forms(digits):
    x, y = digits
    xs, ys, ws = sample_batch(x, y, size=4)
    assert xs.shape == (4, 8, 8, 1) and ys.shape == (4,) and ws is None

    class Batches(keras.utils.PyDataset):
        def __len__(self):
            return 3

        def __getitem__(self, index):
            return x[index * 4 : index * 4 + 4], y[index * 4 : index * 4 + 4]

    xs, ys, _ = sample_batch(Batches())
    assert xs.shape[0] == 4
    assert sample_batch(iter([(x, y)])) is None  # a generator is never consumed
    assert sample_batch(None) is None


def test_metric_direction_rejects_non_strings():
    with pytest.raises(ObjectiveError, match="string"):
        metric_direction(None)
    assert metric_direction("val_score") is None
    assert metric_direction("mean") is None
    assert np.isscalar(metric_direction("loss"))


@pytest.mark.parametrize(
    "typo, suggestion",
    [
        ("val_acuracy", "val_accuracy"),
        ("acuracy", "accuracy"),
        ("val_los", "val_loss"),
        ("val_f1_scor", "val_f1_score"),
    ],
)
def test_unknown_name_suggests_the_known_metric_keeping_val(typo, suggestion):
    with pytest.raises(ObjectiveError, match="Could not infer optimization direction"):
        validate_objective(typo)
    with pytest.raises(ObjectiveError, match=f"Did you mean '{suggestion}'"):
        validate_objective(typo)


def test_a_custom_metric_gets_no_far_fetched_suggestion():
    with pytest.raises(ObjectiveError) as info:
        validate_objective("val_my_metric")
    assert "Did you mean" not in str(info.value)
    assert '("val_my_metric", "max")' in str(info.value)
