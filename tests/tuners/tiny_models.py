"""A tiny real hypermodel on scikit-learn's flattened digits, shared by tests.

Not a test module: test modules and the child-process scripts beside them
(``read_only_project.py``) import it, so a finished project costs seconds.
"""

from __future__ import annotations

from typing import Any


def dense_digits(hp: Any) -> Any:
    """One hidden layer of 4 or 8 units over the 64 digit pixels, 10 classes."""
    import keras

    model = keras.Sequential(
        [
            keras.Input((64,)),
            keras.layers.Dense(hp.Choice("units", [4, 8]), activation="relu"),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model
