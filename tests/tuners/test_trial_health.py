"""The trial-health rules: one implementation for live trials and files."""

from __future__ import annotations

import math

import pytest

from tunekit.tuners._trial_health import (
    DEFAULT_TOL,
    chance_levels,
    collapsed_history,
    nan_history,
)


@pytest.mark.parametrize(
    ("histories", "expected"),
    [
        ({"val_accuracy": [0.10, 0.105], "accuracy": [0.9]}, True),  # val first
        ({"val_accuracy": [0.10, 0.5]}, False),  # it learned at some epoch
        ({"accuracy": [0.11]}, True),  # no validation: training accuracy
        ({"val_loss": [1.0]}, False),  # no accuracy logged: no verdict
        ({"val_accuracy": [math.nan, 0.1]}, True),  # NaN epochs are skipped
    ],
)
def test_collapsed_history(histories, expected):
    assert collapsed_history(histories, chance_levels(10)) is expected


def test_tolerance_and_the_majority_level():
    levels = chance_levels(2, majority=0.8)
    assert levels == {"1/k": 0.5, "majority": 0.8}
    assert collapsed_history({"val_accuracy": [0.8 + DEFAULT_TOL / 2]}, levels)
    assert not collapsed_history({"val_accuracy": [0.8 + 2 * DEFAULT_TOL]}, levels)
    assert not collapsed_history({"val_accuracy": [0.5]}, {})


def test_nan_history_reads_every_loss_only():
    assert nan_history({"val_loss": [0.5, math.nan]})
    assert nan_history({"custom_loss": [math.nan]})
    assert not nan_history({"val_accuracy": [math.nan], "loss": [0.3]})
