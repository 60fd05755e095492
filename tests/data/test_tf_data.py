"""image_dataset_from_directory: stratified split, class order, metadata that
survives map, per-epoch reshuffle, the decode cache, bad input."""

from __future__ import annotations

import os
import warnings

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")

import keras  # noqa: E402

from tunekit import (  # noqa: E402
    ImageDirectoryError,
    InvalidParameterError,
    flow_from_directory,
    image_dataset_from_directory,
)

KW = dict(image_size=(10, 10), batch_size=4, verbose=False)


def _labels(ds) -> list[int]:
    return [int(v) for _, y in ds for v in np.asarray(y).reshape(-1)]


def test_both_subsets_are_stratified_disjoint_and_match_flow(make_image_folder):
    root = make_image_folder({"10": 10, "2": 5, "cat": 20})
    train, val = image_dataset_from_directory(
        root, validation_split=0.2, subset="both", seed=0, **KW
    )
    assert isinstance(train, tf.data.Dataset) and isinstance(val, tf.data.Dataset)
    assert train.class_names == val.class_names == ["10", "2", "cat"]
    assert not set(train.file_paths) & set(val.file_paths)
    assert len(train.file_paths) + len(val.file_paths) == 35
    assert np.bincount(_labels(val)).tolist() == [2, 1, 4]
    assert np.bincount(_labels(train)).tolist() == [8, 4, 16]
    flow_val = flow_from_directory(root, target_size=(10, 10), validation_split=0.2,
                                   subset="validation", verbose=False)  # fmt: skip
    assert val.file_paths == flow_val.filepaths
    np.testing.assert_array_equal(val.labels, flow_val.classes)
    assert val.class_indices == flow_val.class_indices


def test_pixels_and_labels_equal_flow_from_directory(make_image_folder):
    root = make_image_folder({"a": 3, "b": 4}, size=(13, 9))
    ds = image_dataset_from_directory(root, shuffle=False, label_mode="categorical",
                                      interpolation="nearest", rescale=1 / 255,
                                      **KW)  # fmt: skip
    it = flow_from_directory(root, target_size=(10, 10), batch_size=4, shuffle=False,
                             rescale=1 / 255, verbose=False)  # fmt: skip
    for (x, y), (fx, fy) in zip(ds, (it[i] for i in range(len(it)))):
        np.testing.assert_allclose(x.numpy(), fx, atol=1e-6)
        np.testing.assert_array_equal(y.numpy(), fy)


def test_class_names_survive_map_batch_prefetch(make_image_folder):
    root = make_image_folder({"a": 3, "b": 3})
    ds = image_dataset_from_directory(root, **KW)
    mapped = ds.map(lambda x, y: (x / 255.0, y)).unbatch().batch(2).prefetch(1)
    assert isinstance(mapped, tf.data.Dataset)
    assert mapped.class_names == ["a", "b"]
    assert mapped.cache().take(2).repeat(2).class_names == ["a", "b"]
    assert sum(int(x.shape[0]) for x, _ in mapped) == 6


def test_label_modes(make_image_folder):
    root = make_image_folder({"a": 2, "b": 3})
    x, y = next(
        iter(image_dataset_from_directory(root, label_mode="categorical", **KW))
    )
    assert y.shape == (4, 2) and y.dtype == tf.float32
    x, y = next(iter(image_dataset_from_directory(root, label_mode="binary", **KW)))
    assert y.shape == (4, 1) and y.dtype == tf.float32
    x, y = next(iter(image_dataset_from_directory(root, label_mode="int", **KW)))
    assert y.dtype == tf.int32 and x.dtype == tf.float32 and x.shape == (4, 10, 10, 3)
    x = next(iter(image_dataset_from_directory(root, label_mode=None, **KW)))
    assert x.shape == (4, 10, 10, 3)
    single = next(iter(image_dataset_from_directory(root, **dict(KW, batch_size=None))))
    assert single[0].shape == (10, 10, 3)
    gray = next(iter(image_dataset_from_directory(root, color_mode="grayscale", **KW)))
    assert gray[0].shape == (4, 10, 10, 1)


def test_reshuffles_every_epoch_reproducibly(make_image_folder):
    root = make_image_folder({"a": 8, "b": 8})
    ds = image_dataset_from_directory(root, seed=7, label_mode="int", **KW)
    order = lambda d: [p.numpy().tobytes() for x, _ in d for p in x]  # noqa: E731
    first, second = order(ds), order(ds)
    assert first != second and sorted(first) == sorted(second)
    again = image_dataset_from_directory(root, seed=7, label_mode="int", **KW)
    assert order(again) == first


def test_a_shuffled_cached_dataset_knows_its_length(make_image_folder, tmp_path):
    # 14 training images in batches of 4: 4 batches; Keras needs the length to
    # show a progress total and not to warn "ran out of data" after epoch 1.
    root = make_image_folder({"a": 9, "b": 9})
    train, val = image_dataset_from_directory(
        root, validation_split=0.2, subset="both", seed=3, label_mode="int",
        cache=tmp_path / "cache", **KW,
    )  # fmt: skip
    assert int(train.cardinality()) == len(list(train)) == 4
    assert int(val.cardinality()) == len(list(val))
    model = keras.Sequential([keras.Input((10, 10, 3)), keras.layers.Flatten(),
                              keras.layers.Dense(2, activation="softmax")])  # fmt: skip
    model.compile("adam", "sparse_categorical_crossentropy")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.fit(train, validation_data=val, epochs=2, verbose=0)
    assert not [w for w in caught if "ran out of data" in str(w.message)]


@pytest.mark.parametrize("decoder", ["pil", "tf"])
def test_model_fit_on_mapped_dataset(make_image_folder, decoder):
    root = make_image_folder({"dark": 16, "light": 16}, size=(8, 8))
    train, val = image_dataset_from_directory(
        root, image_size=(8, 8), batch_size=8, validation_split=0.25, subset="both",
        seed=1, rescale=1 / 255, decoder=decoder, verbose=False,
    )  # fmt: skip
    model = keras.Sequential([
        keras.Input((8, 8, 3)), keras.layers.Flatten(),
        keras.layers.Dense(len(train.class_names), activation="softmax"),
    ])  # fmt: skip
    model.compile(keras.optimizers.Adam(0.05), "sparse_categorical_crossentropy",
                  metrics=["accuracy"])  # fmt: skip
    history = model.fit(train.prefetch(2), validation_data=val, epochs=6, verbose=0)
    assert history.history["val_accuracy"][-1] >= 0.9


def test_cache_second_run_decodes_nothing(make_image_folder, tmp_path, monkeypatch):
    from tunekit.data import _decode_cache, _tf_data_builders

    root = make_image_folder({"a": 4, "b": 5}, size=(13, 9))
    kw = dict(KW, shuffle=False, cache=tmp_path / "c", rescale=1 / 255)
    first = image_dataset_from_directory(root, **kw)
    expected = [(x.numpy(), y.numpy()) for x, y in first]

    def fail(*args, **kwargs):
        raise AssertionError("decoded again")

    monkeypatch.setattr(_decode_cache, "decode_images", fail)
    monkeypatch.setattr(_tf_data_builders, "decode_images", fail)
    second = image_dataset_from_directory(root, **kw)
    assert second.info.cache_path == first.info.cache_path is not None
    for epoch in range(2):
        got = [(x.numpy(), y.numpy()) for x, y in second]
        assert len(got) == len(expected), epoch
        for (x, y), (ex, ey) in zip(got, expected):
            np.testing.assert_array_equal(x, ex)
            np.testing.assert_array_equal(y, ey)


def _corrupt(root) -> list[str]:
    (root / "a" / "garbage.png").write_bytes(b"this is not a png")
    good = (root / "b" / "img_0000.png").read_bytes()
    (root / "b" / "truncated.png").write_bytes(good[: len(good) // 2])
    return [str(root / "a" / "garbage.png"), str(root / "b" / "truncated.png")]


def test_corrupt_images_skipped_with_one_warning(make_image_folder, tmp_path):
    root = make_image_folder({"a": 3, "b": 3})
    bad = _corrupt(root)
    ds = image_dataset_from_directory(root, **dict(KW, batch_size=8))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        total = sum(int(x.shape[0]) for x, _ in ds)
    assert total == 6
    listing = [w for w in caught if "could not be decoded" in str(w.message)]
    assert len(listing) == 1 == len(caught)
    assert all(os.fspath(b) in str(listing[0].message) for b in bad)
    with pytest.warns(UserWarning, match="Skipping 2 of 8") as record:
        cached = image_dataset_from_directory(root, **KW, cache=tmp_path / "c")
    assert sum("could not be decoded" in str(w.message) for w in record) == 1
    assert sorted(cached.skipped_files) == sorted(bad)
    assert len(cached.file_paths) == 6 == sum(int(x.shape[0]) for x, _ in cached)


def test_corrupt_images_raise_on_request(make_image_folder, tmp_path):
    root = make_image_folder({"a": 3, "b": 3})
    _corrupt(root)
    with pytest.raises(ImageDirectoryError, match=r"garbage\.png"):
        image_dataset_from_directory(root, **KW, on_error="raise", cache=tmp_path)
    ds = image_dataset_from_directory(root, **dict(KW, batch_size=8), on_error="raise")
    with pytest.raises(Exception, match=r"truncated\.png|garbage\.png"):
        list(ds)


def test_bad_folders(make_image_folder, tmp_path):
    with pytest.raises(ImageDirectoryError, match="does not exist"):
        image_dataset_from_directory(tmp_path / "nope", **KW)
    root = make_image_folder({"a": 2, "b": 2, "c": 2})
    with pytest.raises(ImageDirectoryError, match="exactly 2 class folders"):
        image_dataset_from_directory(root, label_mode="binary", **KW)
    (root / "d").mkdir()
    with pytest.raises(ImageDirectoryError, match="without any image"):
        image_dataset_from_directory(root, **KW)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"image_size": (10,)}, r"Received: image_size=\(10,\)"),
        ({"label_mode": "onehot"}, "Received: label_mode='onehot'"),
        ({"color_mode": "gray"}, "Did you mean 'grayscale'"),
        ({"subset": "both"}, "Received: subset='both'"),
        ({"validation_split": -0.1, "subset": "both"}, "validation_split=-0.1"),
        ({"labels": "other"}, "Received: labels=.other."),
        ({"interpolation": "cubic"}, "Received: interpolation='cubic'"),
        ({"decoder": "cv2"}, "Received: decoder='cv2'"),
        ({"cache": 1.5}, "Received: cache=1.5"),
    ],
)
def test_invalid_arguments(tmp_path, kwargs, match):
    with pytest.raises(InvalidParameterError, match=match):
        image_dataset_from_directory(tmp_path / "never-read", **dict(KW, **kwargs))


# --------------------------------------------------------------------------
# Keras 3 parity: every argument
# --------------------------------------------------------------------------
def _flat_and_nested(make_image_folder):
    """A class folder tree plus 3 images in the top folder itself."""
    from PIL import Image

    root = make_image_folder({"a": 3, "b": 4})
    for i in range(3):
        Image.new("RGB", (12, 12), (i * 50, 0, 0)).save(root / f"top_{i}.png")
    return root


def test_labels_none_loads_every_image_flat_folders_too(make_image_folder, tmp_path):
    root = _flat_and_nested(make_image_folder)
    ds = image_dataset_from_directory(root, labels=None, **KW)
    assert ds.class_names is None and ds.class_indices == {}
    batches = list(ds)
    assert all(isinstance(b, tf.Tensor) and b.dtype == tf.float32 for b in batches)
    assert sum(int(b.shape[0]) for b in batches) == 10 and len(batches) == 3
    # sorted walk order: the top folder's files, then each subfolder's
    assert [os.path.relpath(p, root) for p in ds.file_paths][2:5] == [
        "top_2.png",
        os.path.join("a", "img_0000.png"),
        os.path.join("a", "img_0001.png"),
    ]
    flat = tmp_path / "flat"
    flat.mkdir()
    for path in sorted(root.rglob("*.png"))[:5]:
        (flat / f"{path.parent.name}_{path.name}").write_bytes(path.read_bytes())
    only = image_dataset_from_directory(flat, labels=None, **KW, shuffle=False)
    assert sum(int(b.shape[0]) for b in only) == 5
    images_only = image_dataset_from_directory(
        root, label_mode=None, **dict(KW, batch_size=None)
    )
    assert images_only.class_names == ["a", "b"]
    assert len(next(iter(images_only)).shape) == 3


def test_explicit_label_list(make_image_folder):
    root = _flat_and_nested(make_image_folder)
    labels = [0, 1, 0, 1, 1, 0, 1, 1, 0, 0]
    ds = image_dataset_from_directory(root, labels=labels, **dict(KW, batch_size=10),
                                      shuffle=False)  # fmt: skip
    assert ds.class_names == ["0", "1"]
    x, y = next(iter(ds))
    assert x.shape == (10, 10, 10, 3) and y.numpy().tolist() == labels
    with pytest.raises(ValueError, match="match the number of files"):
        image_dataset_from_directory(root, labels=[0, 1, 0], **KW)
    with pytest.raises(ValueError, match='only pass `class_names` if `labels="infer'):
        image_dataset_from_directory(root, labels=labels, class_names=["a"], **KW)
    train, val = image_dataset_from_directory(
        root, labels=labels, **KW, validation_split=0.4, subset="both", seed=0
    )
    assert len(train.file_paths) + len(val.file_paths) == 10
    assert sorted(set(_labels(val))) == [0, 1]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"labels": "other"}, "`labels` argument should be"),
        ({"label_mode": "other"}, "`label_mode` argument must be"),
        ({"color_mode": "other"}, "`color_mode` must be one of"),
        ({"class_names": ["a", "wrong"]}, "`class_names` passed did not match"),
        ({"label_mode": "binary"}, "there must be exactly 2"),
        ({"validation_split": 2, "subset": "both"}, r"must be a float in \[0, 1\)"),
        (
            {"validation_split": 0.2, "subset": "other"},
            '`subset` must be either "training", "validation" or "both"',
        ),
        ({"validation_split": 0.0, "subset": "training"}, "`validation_split` must be"),
        ({"validation_split": 0.2}, "and inversely"),
        ({"format": "grain"}, "TensorFlow-free"),
        ({"format": "torch"}, '`format` should be either "tf" or "grain"'),
        ({"crop_to_aspect_ratio": True, "pad_to_aspect_ratio": True}, "Only one of"),
        ({"data_format": "channels_middle"}, "Received: data_format"),
        ({"cache_check": "size"}, "Received: cache_check='size'"),
        ({"interpolation": "gaussian"}, "Received: interpolation='gaussian'"),
    ],
)
def test_keras3_argument_errors(make_image_folder, kwargs, match):
    root = make_image_folder({"a": 2, "b": 2, "c": 2})
    with pytest.raises(ValueError, match=match):
        image_dataset_from_directory(root, **dict(KW, **kwargs))


def test_no_images_at_all(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    with pytest.raises(ValueError, match="No images found"):
        image_dataset_from_directory(tmp_path, **KW)
    with pytest.raises(ValueError, match="No images found"):
        image_dataset_from_directory(tmp_path, labels=None, **KW)


@pytest.mark.parametrize("decoder", ["pil", "tf"])
def test_pad_crop_data_format_and_int_image_size(tmp_path, decoder):
    from PIL import Image

    folder = tmp_path / "only"
    folder.mkdir()
    Image.new("RGB", (20, 10), (255, 255, 255)).save(folder / "wide.png")
    kw = dict(image_size=10, batch_size=1, shuffle=False, verbose=False,
              decoder=decoder, interpolation="nearest")  # fmt: skip
    padded = image_dataset_from_directory(tmp_path, **kw, pad_to_aspect_ratio=True)
    padded = next(iter(padded))[0]
    column = padded.numpy()[0, :, 5, 0]
    assert column.min() == 0 and column.max() == 255  # black bands above/below
    cropped = image_dataset_from_directory(tmp_path, **kw, crop_to_aspect_ratio=True)
    cropped = next(iter(cropped))[0]
    assert cropped.numpy().min() == 255
    first = image_dataset_from_directory(tmp_path, **kw, data_format="channels_first")
    x, _ = next(iter(first))
    assert x.shape == (1, 3, 10, 10)

    assert first.element_spec[0].shape.as_list() == [None, 3, 10, 10]


def test_tf_decoder_skips_unreadable_files_like_the_pil_path(make_image_folder):
    root = make_image_folder({"a": 3, "b": 3})
    bad = _corrupt(root)
    ds = image_dataset_from_directory(root, **dict(KW, batch_size=8), decoder="tf")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        total = sum(int(x.shape[0]) for x, _ in ds)
    assert total == 6
    listing = [w for w in caught if "could not be decoded" in str(w.message)]
    assert len(listing) == 1
    assert all(os.fspath(b) in str(listing[0].message) for b in bad)
    assert sorted(ds.skipped_files) == sorted(bad)
    with warnings.catch_warnings(record=True) as again:
        warnings.simplefilter("always")
        assert sum(int(x.shape[0]) for x, _ in ds) == 6  # a second epoch
    assert not [w for w in again if "could not be decoded" in str(w.message)]


def test_cache_check_content_reaches_the_cache(make_image_folder, tmp_path):
    root = make_image_folder({"a": 2, "b": 2})
    kw = dict(KW, cache=tmp_path / "c", cache_check="content", shuffle=False)
    first = image_dataset_from_directory(root, **kw)
    second = image_dataset_from_directory(root, **kw)
    assert first.info.cache_path == second.info.cache_path is not None
    plain = image_dataset_from_directory(root, **dict(kw, cache_check="mtime"))
    assert plain.info.cache_path != first.info.cache_path
