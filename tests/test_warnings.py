"""tunekit's warnings point at the line the user wrote, not at tunekit's code.

Each check calls a public entry point from this file and asserts that the
recorded warning's file is this test file and its line the calling line, on
paths of different depths (factory or class, a function or a method, under
scikit-learn's GridSearchCV).
"""

from __future__ import annotations

import inspect
import warnings
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import tunekit
from tunekit._warnings import user_stacklevel, warn


def _here() -> int:
    """The line number of the caller (the line that triggers the warning)."""
    return inspect.currentframe().f_back.f_lineno


def _only(caught: list[warnings.WarningMessage], text: str) -> warnings.WarningMessage:
    matching = [w for w in caught if text in str(w.message)]
    assert len(matching) == 1, [str(w.message) for w in caught]
    return matching[0]


def _build(hp):
    import keras

    model = keras.Sequential(
        [
            keras.Input((64,)),
            keras.layers.Dense(hp.Int("units", 4, 8, step=4), activation="relu"),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def test_a_warning_from_the_package_is_attributed_outside_it():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warn("plain"); line = _here()  # fmt: skip  # noqa: E702
    assert (caught[0].filename, caught[0].lineno) == (__file__, line)
    assert user_stacklevel() == 1  # this frame is already outside tunekit


@pytest.mark.parametrize("entry", ["factory", "class"])
def test_small_max_trials_warning_points_at_the_callers_line(tmp_path, entry):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if entry == "factory":
            line = _here() + 1
            tunekit.random_search(_build, "val_accuracy", max_trials=2, directory=tmp_path, project_name="f", verbose=False)  # fmt: skip  # noqa: E501
        else:
            line = _here() + 1
            tunekit.RandomSearch(_build, "val_accuracy", max_trials=2, directory=tmp_path, project_name="c", verbose=False)  # fmt: skip  # noqa: E501
    warning = _only(caught, "consecutive-failure limit")
    assert (warning.filename, warning.lineno) == (__file__, line)


def test_search_and_resume_warnings_point_at_the_callers_line(tmp_path):
    from sklearn.datasets import load_digits

    x, y = load_digits(return_X_y=True)
    x, y = (x[:120] / 16).astype("float32"), y[:120]
    kwargs = {"directory": tmp_path, "project_name": "r", "verbose": False}
    tuner = tunekit.random_search(_build, "val_accuracy", max_trials=1, **kwargs)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        line = _here() + 1
        tuner.search(x, y, epochs=1, validation_split=0.25, class_weight={0: 2.0})
    warning = _only(caught, "gives no weight for the classes")
    assert (warning.filename, warning.lineno) == (__file__, line)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        line = _here() + 1
        tunekit.random_search(_build, "val_accuracy", max_trials=1, **kwargs)
    warning = _only(caught, "no trials left to run")
    assert (warning.filename, warning.lineno) == (__file__, line)


def _image_folder(root: Path) -> Path:
    for label in ("a", "b"):
        (root / label).mkdir(parents=True)
        for i in range(2):
            pixels = np.full((8, 8), 40 * i, dtype="uint8")
            Image.fromarray(pixels).save(root / label / f"{i}.png")
    (root / "a" / "notes.txt").write_text("not an image")
    return root


def test_data_warnings_point_at_the_callers_line(tmp_path):
    folder = _image_folder(tmp_path / "images")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        generator = tunekit.ImageDataGenerator(featurewise_center=True)
        line = _here() + 1
        generator.flow_from_directory(folder, target_size=(8, 8))
        function_line = _here() + 1
        tunekit.flow_from_directory(folder, target_size=(8, 8))
    ignored = [w for w in caught if "non-image files" in str(w.message)]
    assert [(w.filename, w.lineno) for w in ignored] == [
        (__file__, line),
        (__file__, function_line),
    ]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        line = _here() + 1
        generator.standardize(np.zeros((8, 8, 1), dtype="float32"))
    warning = _only(caught, "has not been fit")
    assert (warning.filename, warning.lineno) == (__file__, line)


def test_warning_under_grid_search_points_at_grid_fit():
    """Frames of scikit-learn and joblib between the user and tunekit are skipped."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import GridSearchCV

    x, y = load_digits(return_X_y=True)
    x, y = (x[:90] / 16).astype("float32"), y[:90]

    def create_model(units=4, n_classes_=None):
        import keras

        model = keras.Sequential(
            [
                keras.Input((64,)),
                keras.layers.Dense(units, activation="relu"),
                keras.layers.Dense(n_classes_, activation="softmax"),
            ]
        )
        model.compile("adam", "sparse_categorical_crossentropy")
        return model

    clf = tunekit.KerasClassifier(
        build_fn=create_model, epochs=1, verbose=0, class_weight={0: 2.0}
    )
    grid = GridSearchCV(clf, {"units": [4]}, cv=2)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        line = _here() + 1
        grid.fit(x, y)
    found = [w for w in caught if "gives no weight for the classes" in str(w.message)]
    assert found and {(w.filename, w.lineno) for w in found} == {(__file__, line)}
