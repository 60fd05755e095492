from __future__ import annotations

import pytest

from tunekit import InvalidParameterError
from tunekit._validation import check_in, check_positive_int, did_you_mean, received


def test_received_formats_like_keras():
    assert received("batch_size", "32") == "Received: batch_size='32'"


def test_did_you_mean_suggests_the_closest_name():
    assert did_you_mean("dense_unit", ["dense_units", "dropout"]) == (
        " Did you mean 'dense_units'?"
    )
    assert did_you_mean("zzz", ["dense_units"]) == ""


def test_check_in_names_argument_options_and_received_value():
    assert check_in("mode", "min", ["min", "max"]) == "min"
    with pytest.raises(InvalidParameterError) as excinfo:
        check_in("mode", "maximize", ["min", "max"])
    message = str(excinfo.value)
    assert "`mode` must be one of 'min', 'max'" in message
    assert message.endswith("Received: mode='maximize'")


@pytest.mark.parametrize("value", [0, -3, 2.5, True, "4", None])
def test_check_positive_int_rejects(value):
    with pytest.raises(InvalidParameterError, match="an integer >= 1"):
        check_positive_int("max_epochs", value)


def test_check_positive_int_accepts():
    assert check_positive_int("max_epochs", 3) == 3
    assert check_positive_int("n", 0, minimum=0) == 0
