"""The argument types and choices shared by ``tunekit demo`` and ``tunekit tune``."""

from __future__ import annotations

import argparse

import pytest

from tunekit.cli import _args as _cli_args


def test_presets_are_the_hypermodel_presets():
    from tunekit.hypermodels._cnn import PRESETS

    assert _cli_args.PRESETS == PRESETS


@pytest.mark.parametrize(
    ("type_", "text", "message"),
    [
        (_cli_args.positive_int, "x", "expected an integer, got 'x'"),
        (_cli_args.positive_int, "0", "expected an integer >= 1, got 0"),
        (_cli_args.non_negative_int, "-1", "expected an integer >= 0, got -1"),
        (_cli_args.factor, "0", "expected an integer >= 1, got 0"),
        (_cli_args.factor, "1", "expected an integer >= 2, got 1"),
        (_cli_args.fraction, "a", "expected a number, got 'a'"),
        (_cli_args.fraction, "0", "expected a fraction in (0, 1), got 0.0"),
    ],
)
def test_bad_values_are_rejected(type_, text, message):
    with pytest.raises(argparse.ArgumentTypeError) as info:
        type_(text)
    assert str(info.value) == message
