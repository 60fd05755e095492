"""Directory listing: Keras 2 class order, file order and per-class split."""

from __future__ import annotations

import os

import numpy as np
import pytest

from tunekit import ImageDirectoryError, InvalidParameterError
from tunekit.data._directory import list_image_directory


def _touch(root, *names):
    for name in names:
        path = os.path.join(root, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        open(path, "wb").close()


def test_classes_sort_as_strings_like_keras(tmp_path):
    _touch(tmp_path, "2/a.png", "10/a.png", "cat/a.png", "dog/a.PNG")
    listing = list_image_directory(tmp_path)
    assert listing.class_names == ("10", "2", "cat", "dog")
    assert listing.class_indices == {"10": 0, "2": 1, "cat": 2, "dog": 3}
    assert listing.labels.tolist() == [0, 1, 2, 3]


def test_file_order_and_nested_folders_match_legacy_iterator(tmp_path):
    _touch(tmp_path, "a/z.png", "a/b.jpg", "a/sub/c.png", "b/x.jpeg", "b/readme.txt")
    listing = list_image_directory(tmp_path)
    assert listing.filenames == ("a/b.jpg", "a/z.png", "a/sub/c.png", "b/x.jpeg")
    assert listing.ignored_files == ("b/readme.txt",)
    assert listing.class_counts().tolist() == [3, 1]
    assert listing.filepaths[0] == os.path.join(str(tmp_path), "a/b.jpg")

    from keras.src.legacy.preprocessing.image import DirectoryIterator

    legacy = DirectoryIterator(str(tmp_path), None, target_size=(4, 4))
    assert tuple(legacy.filenames) == listing.filenames
    assert legacy.class_indices == listing.class_indices


def test_split_is_per_class_and_disjoint(tmp_path):
    _touch(
        tmp_path, *[f"a/{i}.png" for i in range(10)], *[f"b/{i}.png" for i in range(5)]
    )
    val = list_image_directory(tmp_path, split=(0.0, 0.2))
    train = list_image_directory(tmp_path, split=(0.2, 1.0))
    assert np.bincount(val.labels).tolist() == [2, 1]
    assert np.bincount(train.labels).tolist() == [8, 4]
    assert not set(val.filenames) & set(train.filenames)


def test_explicit_classes_define_label_order(tmp_path):
    _touch(tmp_path, "a/1.png", "b/1.png", "c/1.png")
    listing = list_image_directory(tmp_path, classes=["c", "a"])
    assert listing.class_names == ("c", "a")
    assert listing.filenames == ("c/1.png", "a/1.png")


@pytest.mark.parametrize(
    "layout, subfolder, kwargs, error, match",
    [
        ([], "missing", {}, ImageDirectoryError, "does not exist"),
        (["loose.png"], "", {}, ImageDirectoryError, "no subfolders"),
        (
            ["a/1.png", "b/readme.txt"],
            "",
            {},
            ImageDirectoryError,
            r"without any image.*\['b'\]",
        ),
        (
            ["a/1.png"],
            "",
            {"classes": ["a", "zebra"]},
            ImageDirectoryError,
            "do not exist.*zebra",
        ),
        (
            ["a/1.png"],
            "",
            {"classes": "a"},
            InvalidParameterError,
            "list of class subfolder names",
        ),
    ],
)
def test_bad_directories_raise_clear_errors(
    tmp_path, layout, subfolder, kwargs, error, match
):
    _touch(tmp_path, *layout)
    with pytest.raises(error, match=match) as excinfo:
        list_image_directory(tmp_path / subfolder, **kwargs)
    assert "Received:" in str(excinfo.value)


def test_path_to_a_file_is_rejected(tmp_path):
    _touch(tmp_path, "file.png")
    with pytest.raises(ImageDirectoryError, match="is a file, not a folder"):
        list_image_directory(tmp_path / "file.png", argname="train_dir")
