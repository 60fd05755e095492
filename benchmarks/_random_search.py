"""The two RandomSearch variants the tuner benchmarks compare, built one way.

``tunekit``: ``tunekit.RandomSearch`` (tunekit's messages off). ``kerastuner``:
plain ``keras_tuner.RandomSearch`` as users get it, made able to search when
``tensorboard`` is not installed (KerasTuner 1.4 imports it in every trial on
the TensorFlow backend; TensorFlow 2.20+ no longer installs it), as the tests'
``plain_kerastuner`` fixture does.
"""

from __future__ import annotations

from typing import Any


def plain_kerastuner() -> Any:
    """``keras_tuner``, patched only where ``tensorboard`` is missing."""
    import keras_tuner

    try:
        import tensorboard  # noqa: F401
    except ImportError:
        keras_tuner.Tuner._configure_tensorboard_dir = lambda *a, **k: None
    return keras_tuner


def random_search(
    variant: str, build: Any, directory: str, max_trials: int, **kwargs: Any
) -> Any:
    """A ``variant`` RandomSearch on ``val_accuracy`` with ``kwargs`` (seed...)."""
    if variant == "tunekit":
        import tunekit

        return tunekit.RandomSearch(
            build,
            "val_accuracy",
            max_trials=max_trials,
            directory=directory,
            verbose=False,
            **kwargs,
        )
    return plain_kerastuner().RandomSearch(
        build, "val_accuracy", max_trials=max_trials, directory=directory, **kwargs
    )
