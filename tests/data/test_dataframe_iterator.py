"""ImageDataGenerator.flow_from_dataframe / DataFrameIterator: Keras 2 semantics."""

from __future__ import annotations

import os
from pathlib import Path

import keras
import numpy as np
import pytest

from tunekit import (
    DataFrameIterator,
    ImageDataGenerator,
    ImageDirectoryError,
    InvalidParameterError,
)

pd = pytest.importorskip("pandas")

SMALL = dict(target_size=(10, 10), batch_size=4, verbose=False)


@pytest.fixture
def flat_folder(make_image_folder) -> tuple[Path, list[str]]:
    """8 images in one folder (two brightness groups); returns (root, names)."""
    root = make_image_folder({"a": 4, "b": 4})
    names = []
    for path in sorted(root.rglob("*.png")):
        target = root / f"{path.parent.name}_{path.name}"
        path.rename(target)
        names.append(target.name)
    return root, names


def test_categorical_sparse_binary_and_class_order(flat_folder):
    root, names = flat_folder
    df = pd.DataFrame({"filename": names, "class": ["x", "y"] * 4})
    gen = ImageDataGenerator()
    it = gen.flow_from_dataframe(df, str(root), **SMALL, shuffle=False)
    assert it.class_indices == {"x": 0, "y": 1} and it.classes == [0, 1] * 4
    x, y = it[0]
    assert x.shape == (4, 10, 10, 3) and y.tolist() == [[1, 0], [0, 1]] * 2
    assert it.filenames == names and it.samples == it.n == 8
    assert it.filepaths == [os.path.join(str(root), n) for n in names]
    _, sparse = gen.flow_from_dataframe(df, str(root), **SMALL, shuffle=False,
                                        class_mode="sparse")[0]  # fmt: skip
    assert sparse.tolist() == [0.0, 1.0, 0.0, 1.0]
    _, binary = gen.flow_from_dataframe(df, str(root), **SMALL, shuffle=False,
                                        class_mode="binary")[1]  # fmt: skip
    assert binary.dtype == np.float32 and binary.shape == (4,)
    reversed_names = gen.flow_from_dataframe(df.iloc[::-1], str(root), **SMALL)
    assert reversed_names.class_indices == it.class_indices
    chosen = gen.flow_from_dataframe(df, str(root), **SMALL, classes=["y", "x"])
    assert chosen.class_indices == {"y": 0, "x": 1}


def test_multi_label_raw_and_multi_output(flat_folder):
    root, names = flat_folder
    labels = [["a", "b"], "b", ["c"], "a", ("b",), "c", ["a"], "b"]
    df = pd.DataFrame({"filename": names, "class": labels,
                       "r0": np.arange(8.0), "r1": np.arange(8.0) * 2})  # fmt: skip
    gen = ImageDataGenerator()
    _, y = gen.flow_from_dataframe(df, str(root), **SMALL, shuffle=False)[0]
    assert y.tolist() == [[1, 1, 0], [0, 1, 0], [0, 0, 1], [1, 0, 0]]
    _, raw = gen.flow_from_dataframe(df, str(root), **SMALL, shuffle=False,
                                     y_col="r0", class_mode="raw")[0]  # fmt: skip
    assert raw.tolist() == [0.0, 1.0, 2.0, 3.0]
    it = gen.flow_from_dataframe(df, str(root), **SMALL, shuffle=False,
                                 y_col=["r0", "r1"], class_mode="raw")  # fmt: skip
    assert it[1][1].shape == (4, 2) and it.labels.shape == (8, 2)
    _, outs = gen.flow_from_dataframe(
        df,
        str(root),
        **SMALL,
        shuffle=False,
        y_col=["r0", "r1"],
        class_mode="multi_output",
    )[0]
    assert isinstance(outs, list) and outs[1].tolist() == [0.0, 2.0, 4.0, 6.0]
    with pytest.raises(TypeError, match="y_col must be a list"):
        gen.flow_from_dataframe(df, str(root), y_col="r0", class_mode="multi_output")


def test_input_mode_weights_and_no_labels(flat_folder):
    root, names = flat_folder
    df = pd.DataFrame({"filename": names, "weight": [2, 5] * 4})
    gen = ImageDataGenerator()
    x, y, w = next(gen.flow_from_dataframe(df, str(root), **SMALL, y_col=None,
                                           weight_col="weight", shuffle=False,
                                           class_mode="input"))  # fmt: skip
    np.testing.assert_array_equal(x, y)
    y[0, 0, 0, 0] += 1
    assert x[0, 0, 0, 0] != y[0, 0, 0, 0]
    assert w.tolist() == [2, 5, 2, 5]
    only_x = gen.flow_from_dataframe(df, str(root), **SMALL, class_mode=None)[0]
    assert isinstance(only_x, np.ndarray)
    df["weight"] = ["2", "5"] * 4
    with pytest.raises(TypeError, match="must be numeric"):
        gen.flow_from_dataframe(df, str(root), weight_col="weight", class_mode="input")


def test_validate_filenames_and_absolute_paths(flat_folder, capsys):
    root, names = flat_folder
    df = pd.DataFrame({"filename": [*names, "missing.png", "notes.txt"]})
    gen = ImageDataGenerator()
    with pytest.warns(UserWarning, match="Found 2 invalid image filename"):
        it = gen.flow_from_dataframe(df, str(root), target_size=(10, 10),
                                     class_mode="input")  # fmt: skip
    assert it.n == 8
    assert "Found 8 validated image filenames." in capsys.readouterr().out
    kept = gen.flow_from_dataframe(df, str(root), **SMALL, class_mode="input",
                                   validate_filenames=False)  # fmt: skip
    assert kept.n == 10
    absolute = pd.DataFrame({"filename": [str(root / n) for n in names]})
    a = gen.flow_from_dataframe(absolute, None, **SMALL, class_mode=None, shuffle=False)
    b = gen.flow_from_dataframe(df.iloc[:8], str(root), **SMALL, class_mode=None,
                                shuffle=False)  # fmt: skip
    np.testing.assert_array_equal(a[1], b[1])


def test_split_index_independence_and_missing_files(flat_folder):
    root, names = flat_folder
    classes = ["x", "y"] * 4
    gen = ImageDataGenerator(validation_split=0.25)
    df = pd.DataFrame({"filename": names, "class": classes})
    train = gen.flow_from_dataframe(df, str(root), **SMALL, subset="training")
    val = gen.flow_from_dataframe(df, str(root), **SMALL, subset="validation")
    assert (train.samples, val.samples) == (6, 2)
    assert set(train.filenames).isdisjoint(val.filenames)
    with pytest.raises(ValueError, match="subset"):
        gen.flow_from_dataframe(df, str(root), subset="foo")
    other_index = df.set_index(pd.Index(names))
    a = ImageDataGenerator().flow_from_dataframe(df, str(root), **SMALL, seed=1)
    b = ImageDataGenerator().flow_from_dataframe(
        other_index, str(root), **SMALL, seed=1
    )
    for _ in range(3):
        (xa, ya), (xb, yb) = next(a), next(b)
        np.testing.assert_array_equal(xa, xb)
        np.testing.assert_array_equal(ya, yb)


def test_no_existing_file_is_an_error_before_training(flat_folder, tmp_path):
    """Keras 2 built an empty iterator that failed inside fit(); now: a clear error."""
    root, names = flat_folder
    df = pd.DataFrame({"filename": names, "class": ["x", "y"] * 4})
    gen = ImageDataGenerator()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    with pytest.raises(ImageDirectoryError) as excinfo:
        gen.flow_from_dataframe(df, str(elsewhere), **SMALL)
    message = str(excinfo.value)
    assert "None of the 8 file(s) named in column x_col='filename'" in message
    assert os.path.join(str(elsewhere), names[0]) in message  # a missing path
    assert message.endswith(f"Received: directory={str(elsewhere)!r}, x_col='filename'")
    assert isinstance(excinfo.value, ValueError)
    nothing = pd.DataFrame({"filename": ["data/A.jpg"], "class": ["A"]})
    with pytest.raises(ImageDirectoryError, match=r"directory=None: absolute paths"):
        gen.flow_from_dataframe(nothing, classes=["A", "B"], verbose=False)
    # Some files missing: Keras 2's warning, the others are kept.
    some = pd.DataFrame({"filename": [*names[:3], "gone.png"], "class": ["x"] * 4})
    with pytest.warns(UserWarning, match=r"Found 1 invalid image filename.*gone.png"):
        kept = gen.flow_from_dataframe(some, str(root), **SMALL)
    assert kept.n == 3 and kept.filenames == names[:3]


def test_bad_arguments_and_deprecations(flat_folder):
    root, names = flat_folder
    df = pd.DataFrame({"filename": names, "class": ["x", "y"] * 4})
    gen = ImageDataGenerator()
    with pytest.raises(ValueError, match="Received: color_mode='cmyk'"):
        gen.flow_from_dataframe(df, str(root), color_mode="cmyk")
    with pytest.raises(ValueError, match="Received: class_mode='output'"):
        gen.flow_from_dataframe(df, str(root), class_mode="output")
    with pytest.raises(InvalidParameterError, match="Did you mean 'filename'"):
        gen.flow_from_dataframe(df, str(root), x_col="filenames")
    with pytest.raises(ValueError, match="2 classes"):
        gen.flow_from_dataframe(df.assign(**{"class": list("xyzxyzxy")}),
                                str(root), class_mode="binary")  # fmt: skip
    with pytest.raises(TypeError, match="must be strings"):
        gen.flow_from_dataframe(df.assign(**{"class": [0, 1] * 4}), str(root),
                                class_mode="sparse")  # fmt: skip
    for name in ("has_ext", "sort", "drop_duplicates"):
        with pytest.warns(DeprecationWarning, match=name):
            gen.flow_from_dataframe(df, str(root), verbose=False, **{name: True})
    with pytest.warns(DeprecationWarning, match="raw"):
        it = gen.flow_from_dataframe(df.assign(v=1.0), str(root), y_col="v",
                                     class_mode="other", verbose=False)  # fmt: skip
    assert it.class_mode == "raw"


def test_model_fit_on_dataframe_iterator(make_image_folder):
    root = make_image_folder({"dark": 16, "light": 16}, size=(8, 8))
    files = sorted(str(p) for p in root.rglob("*.png"))
    df = pd.DataFrame(
        {"filename": files, "class": [Path(f).parent.name for f in files]}
    )
    df = df.sample(frac=1.0, random_state=0)
    gen = ImageDataGenerator(rescale=1 / 255)
    it = gen.flow_from_dataframe(df, target_size=(8, 8), batch_size=8,
                                 class_mode="binary", verbose=False)  # fmt: skip
    model = keras.Sequential([
        keras.Input((8, 8, 3)),
        keras.layers.Flatten(),
        keras.layers.Dense(1, activation="sigmoid"),
    ])  # fmt: skip
    model.compile(keras.optimizers.Adam(0.05), "binary_crossentropy",
                  metrics=["accuracy"])  # fmt: skip
    history = model.fit(it, epochs=6, verbose=0)
    assert history.history["accuracy"][-1] >= 0.9
    assert isinstance(it, DataFrameIterator) and "class_mode='binary'" in repr(it)
