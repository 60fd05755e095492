"""Tests for tunekit.label_report and tunekit.diagnose_collapse."""

from __future__ import annotations

import keras
import numpy as np
import pytest

import tunekit
from tunekit import InvalidParameterError

# ---------------------------------------------------------------- label_report


def test_label_report_numbers_and_table():
    y = np.array([2] * 6 + [0] * 3 + [1] * 1)
    report = tunekit.label_report(y)
    assert isinstance(report, tunekit.LabelReport)
    assert report.counts == (3, 1, 6)
    assert report.class_indices == (0, 1, 2)
    assert report.n_samples == 10 and report.n_classes == 3
    assert report.majority_class == 2 and report.minority_class == 1
    assert report.majority_rate == 0.6
    assert report.chance_rate == pytest.approx(1 / 3)
    assert report.imbalance_ratio == 6.0 and report.is_imbalanced
    assert report.class_weights() == pytest.approx(tunekit.class_weights(y))
    text = str(report)
    assert "10 samples, 3 classes" in text
    assert "majority-class rate: 0.6000" in text
    assert "chance rate 1/k: 0.3333" in text
    assert "imbalance ratio (largest/smallest): 6.00" in text
    # One table row per class: index, class, count, share, balanced weight.
    assert any(
        line.split()[:4] == ["2", "2", "6", "60.0%"] for line in text.splitlines()
    )
    as_dict = report.to_dict()
    assert as_dict["counts"][1] == {"class": 1, "count": 1}


def test_label_report_sources_agree(make_image_folder):
    root = make_image_folder({"cat": 4, "dog": 1}, size=(6, 6))
    iterator = tunekit.flow_from_directory(root, target_size=(6, 6), verbose=False)
    reports = [
        tunekit.label_report(root),
        tunekit.label_report(iterator),
        tunekit.label_report(["cat"] * 4 + ["dog"]),
        tunekit.label_report(np.eye(2)[[0, 0, 0, 0, 1]], classes=["cat", "dog"]),
    ]
    for report in reports:
        assert report.class_names == ("cat", "dog")
        assert report.counts == (4, 1)
        assert report.majority_rate == 0.8
    assert "image directory" in str(reports[0])


def test_label_report_balanced_and_explicit_missing_class():
    report = tunekit.label_report([0, 1, 0, 1])
    assert not report.is_imbalanced and report.majority_rate == report.chance_rate
    with pytest.raises(InvalidParameterError, match="missing labels"):
        tunekit.label_report(np.array([1.0, np.nan]))


# ---------------------------------------------------------------- collapse


def _three_class_digits(digits):
    """Digits as 3 classes (digit % 3) with class 0 the majority (~78%)."""
    x, y = digits
    x = x.reshape(len(x), -1)
    y3 = y % 3
    keep = np.concatenate(
        [np.flatnonzero(y3 == 0), np.flatnonzero(y3 == 1)[:100],
         np.flatnonzero(y3 == 2)[:100]]
    )  # fmt: skip
    return x[keep], y3[keep].astype("int64")


def test_broken_sigmoid_head_on_three_classes_sits_at_majority_rate(digits):
    x, y = _three_class_digits(digits)
    report = tunekit.label_report(y)
    assert report.majority_class == 0 and report.majority_rate > 0.7
    model = keras.Sequential(
        [
            keras.Input((64,)),
            keras.layers.Dense(16, activation="relu"),
            keras.layers.Dense(1, activation="sigmoid"),  # the bug
        ]
    )
    model.compile(
        optimizer="adam",
        loss="binary_crossentropy",
        metrics=["sparse_categorical_accuracy"],
    )
    with pytest.raises(tunekit.LabelMismatchError):
        tunekit.check_model_labels(model, y)  # would have caught it
    if keras.backend.backend() == "torch":
        # torch's binary cross-entropy refuses labels outside [0, 1] loudly.
        with pytest.raises(RuntimeError, match="between 0 and 1"):
            model.fit(x, y, epochs=2, batch_size=64, verbose=0)
    else:
        history = model.fit(x, y, epochs=2, batch_size=64, verbose=0)
        # Keras reports exactly the majority-class rate, epoch after epoch.
        for value in history.history["sparse_categorical_accuracy"]:
            assert value == pytest.approx(report.majority_rate, abs=1e-6)
    proba = model.predict(x, verbose=0)
    result = tunekit.diagnose_collapse(y, proba)
    assert result.collapsed and bool(result)
    assert result.accuracy == report.majority_rate  # exactly
    assert result.predicted_classes == (0,)
    assert result.recall == {0: 1.0, 1: 0.0, 2: 0.0}
    text = " ".join(result.causes)
    assert "single output column" in text
    assert "Dense(3, activation='softmax')" in text
    assert "imbalanced" in text
    assert "Predictions collapsed" in str(result)


def test_healthy_model_is_not_collapsed(digits):
    x, y = _three_class_digits(digits)
    model = keras.Sequential(
        [keras.Input((64,)), keras.layers.Dense(3, activation="softmax")]
    )
    model.compile(
        optimizer=keras.optimizers.Adam(0.05), loss="sparse_categorical_crossentropy"
    )
    tunekit.check_model_labels(model, y)
    model.fit(x, y, epochs=5, batch_size=64, verbose=0,
              class_weight=tunekit.class_weights(y))  # fmt: skip
    result = tunekit.diagnose_collapse(y, model.predict(x, verbose=0))
    assert not result.collapsed, str(result)
    assert result.causes == ()
    assert set(result.predicted_classes) == {0, 1, 2}
    assert result.accuracy > result.majority_rate


def test_majority_only_predictions_on_imbalanced_labels():
    y = np.array(["cat"] * 8 + ["dog"] + ["owl"])
    pred = np.zeros(10, dtype=int)
    result = tunekit.diagnose_collapse(y, pred)
    assert result.collapsed and result.accuracy == 0.8 == result.majority_rate
    assert "class 0 ('cat')" in result.causes[0]
    assert any("tunekit.class_weights" in c for c in result.causes)
    assert any("check_model_labels" in c for c in result.causes)
    assert any("learning rate" in c for c in result.causes)


def test_collapse_at_chance_on_balanced_labels():
    y = np.repeat([0, 1, 2], 20)
    pred = np.full(60, 1)
    result = tunekit.diagnose_collapse(y, pred)
    assert result.collapsed and result.accuracy == pytest.approx(1 / 3)
    assert not any("imbalanced" in c for c in result.causes)
    # Two of four classes predicted: collapsed onto "few" classes.
    y4 = np.repeat([0, 1, 2, 3], 10)
    pred4 = np.where(y4 < 2, y4, 0)
    few = tunekit.diagnose_collapse(y4, pred4)
    assert few.collapsed and "never predicted" in few.causes[0]


def test_score_signatures():
    y = np.array([0, 1, 0, 1, 1, 0])
    nan = tunekit.diagnose_collapse(y, np.full((6, 2), np.nan, "float32"))
    assert nan.collapsed and any("diverged" in c for c in nan.causes)
    constant = np.tile([[0.7, 0.3]], (6, 1))
    flat = tunekit.diagnose_collapse(y, constant)
    assert flat.collapsed and any("ignores its input" in c for c in flat.causes)
    ones = tunekit.diagnose_collapse(np.array([0, 1, 2, 0]), np.ones((4, 1)))
    assert any("softmax over a single unit" in c for c in ones.causes)
    narrow = tunekit.diagnose_collapse(
        np.array([0, 1, 2, 3]), np.eye(4)[[0, 1, 0, 1]][:, :2]
    )
    assert any("classes >= 2 can never be predicted" in c for c in narrow.causes)


def test_good_binary_scores_and_one_hot_truth():
    y = np.eye(2)[[0, 1, 1, 0, 1, 0]]
    proba = np.array([0.1, 0.8, 0.7, 0.3, 0.9, 0.2])
    result = tunekit.diagnose_collapse(y, proba)
    assert not result.collapsed and result.accuracy == 1.0


@pytest.mark.parametrize(
    "pred, kwargs, message",
    [
        (np.zeros(3), {}, "one prediction per label"),
        (np.zeros((4, 2, 2)), {}, "scores / probabilities"),
        (np.array(["a"] * 4), {}, "numeric predictions"),
        (np.zeros(4), {"tolerance": 2}, "tolerance"),
        (np.zeros(4), {"threshold": "0.5"}, "threshold"),
    ],
)
def test_diagnose_errors(pred, kwargs, message):
    with pytest.raises(InvalidParameterError, match=message):
        tunekit.diagnose_collapse(np.array([0, 1, 0, 1]), pred, **kwargs)


def test_label_report_lists_explicit_classes_without_samples():
    report = tunekit.label_report([0, 0, 2], classes=[0, 1, 2])
    assert report.counts == (2, 0, 1)
    assert report.imbalance_ratio == float("inf")
    assert report.class_weights() == tunekit.class_weights([0, 0, 2])
    row = next(line for line in str(report).splitlines() if line.startswith("    1"))
    assert row.split() == ["1", "1", "0", "0.0%", "-"]


# ---------------------------------------------------------------- trial advice


def test_only_an_unflagged_completed_trial_shows_the_labels_are_fine():
    from types import SimpleNamespace as Row

    from tunekit.labels._diagnostics import collapse_advice, healthy_trial

    rows = [
        Row(trial_id="0", status="COMPLETED", score=0.1, flags=("collapsed",)),
        Row(trial_id="1", status="FAILED", score=None, flags=()),
        Row(trial_id="2", status="PRUNED", score=0.05, flags=()),
        Row(trial_id="3", status="COMPLETED", score=float("nan"), flags=()),
    ]
    assert healthy_trial(rows, "min") is None
    labels = collapse_advice({"1/k": 0.1}, healthy_trial(rows, "min"))
    assert "check_model_labels" in labels and "undertrained" not in labels
    rows += [
        Row(trial_id="4", status="COMPLETED", score=0.4, flags=()),
        Row(trial_id="5", status="COMPLETED", score=0.3, flags=()),
    ]
    assert healthy_trial(rows, "min") == ("5", 0.3)
    assert healthy_trial(rows, "max") == ("4", 0.4)
    advice = collapse_advice({"1/k": 0.1}, ("5", 0.3), objective="val_loss")
    assert "trial 5 reached val_loss=0.3" in advice
    assert "undertrained or broken" in advice and "check_model_labels" not in advice
