"""ImageDataGenerator.flow / NumpyArrayIterator and fit(): Keras 2 semantics."""

from __future__ import annotations

import sys
import warnings

import keras
import numpy as np
import pytest

from tunekit import ImageDataGenerator, InvalidParameterError, NumpyArrayIterator
from tunekit.data._iterator import BatchIndexError

CL = dict(data_format="channels_last")


@pytest.fixture
def images() -> np.ndarray:
    rng = np.random.default_rng(0)
    return (rng.random((8, 6, 6, 3)) * 255).astype("float32")


def test_batches_labels_weights_and_extra_inputs(images):
    gen = ImageDataGenerator(**CL)
    y = np.arange(8)
    x, labels = next(gen.flow(images, y, batch_size=3, shuffle=False))
    assert x.shape == (3, 6, 6, 3) and x.dtype == np.float32
    assert labels.tolist() == [0, 1, 2]
    np.testing.assert_array_equal(x, images[:3])
    x, labels, w = gen.flow(
        images, y, batch_size=3, shuffle=False, sample_weight=y + 1
    ).next()
    assert w.tolist() == [1, 2, 3]
    only_x = next(gen.flow(images, None, batch_size=3, shuffle=False))
    assert type(only_x) is np.ndarray and only_x.shape == (3, 6, 6, 3)
    extra1, extra2 = np.arange(8.0), np.ones((8, 2, 2))
    inputs, labels = gen.flow((images, extra1), y, batch_size=2, shuffle=False)[1]
    assert isinstance(inputs, list) and inputs[1].tolist() == [2.0, 3.0]
    inputs = gen.flow((images, [extra1, extra2]), None, batch_size=2, shuffle=False)[0]
    assert type(inputs) is list and len(inputs) == 3 and inputs[2].shape == (2, 2, 2)


def test_sequence_protocol_shuffle_and_reshuffle(images):
    it = ImageDataGenerator(**CL).flow(images, np.arange(8), batch_size=3, seed=1)
    assert isinstance(it, keras.utils.PyDataset) and len(it) == 3
    first = np.concatenate([it[i][1] for i in range(3)])
    assert sorted(first.tolist()) == list(range(8))
    assert first.tolist() != list(range(8))
    it.on_epoch_end()
    second = np.concatenate([it[i][1] for i in range(3)])
    assert second.tolist() != first.tolist()
    again = ImageDataGenerator(**CL).flow(images, np.arange(8), batch_size=3, seed=1)
    assert np.concatenate([again[i][1] for i in range(3)]).tolist() == first.tolist()
    # out-of-range batches: an IndexError that Keras 2 code catches as ValueError
    with pytest.raises(ValueError, match="Received: idx=3"):
        it[3]
    with pytest.raises(BatchIndexError):
        it[99]
    assert it.n == 8 and it.batch_size == 3 and it.seed == 1 and it.shuffle
    assert it.index_array is not None and it.total_batches_seen == 6


def test_next_cycles_and_counts_batches(images):
    it = ImageDataGenerator(**CL).flow(
        images, np.arange(8), batch_size=3, shuffle=False
    )
    sizes = [len(next(it)[1]) for _ in range(5)]
    assert sizes == [3, 3, 2, 3, 3]
    assert it.batch_index == 2 and it.total_batches_seen == 5
    it.reset()
    assert next(it)[1].tolist() == [0, 1, 2]


def test_validation_split_keeps_classes_on_both_sides(images):
    gen = ImageDataGenerator(validation_split=0.5, **CL)
    sorted_labels = np.array([0] * 4 + [1] * 4)
    with pytest.raises(ValueError, match="different number of classes"):
        gen.flow(images, sorted_labels, subset="validation")
    val = gen.flow(images, sorted_labels, subset="validation", ignore_class_split=True)
    assert val.n == 4
    mixed = np.array([0, 1, 0, 1, 0, 1, 0, 1])
    val = gen.flow(images, mixed, shuffle=False, subset="validation", batch_size=10)
    train = gen.flow(images, mixed, shuffle=False, subset="training", batch_size=10)
    np.testing.assert_array_equal(val[0][0], images[:4])
    np.testing.assert_array_equal(train[0][0], images[4:])
    with pytest.raises(ValueError, match="Did you mean 'training'"):
        gen.flow(images, mixed, subset="train")


def test_bad_arrays_raise_value_errors_naming_the_problem(images):
    gen = ImageDataGenerator(**CL)
    with pytest.raises(ValueError, match="All of the arrays in `x`"):
        gen.flow((images, np.ones(9)), np.arange(8))
    with pytest.raises(ValueError, match=r"`x` \(images tensor\) and `y` \(labels\)"):
        gen.flow(images, np.arange(9))
    with pytest.raises(ValueError, match="sample_weight"):
        gen.flow(images, np.arange(8), sample_weight=np.ones(3))
    with pytest.raises(ValueError, match="rank 4"):
        gen.flow(np.arange(32))
    with pytest.warns(UserWarning, match="5 channels"):
        gen.flow(np.zeros((2, 4, 4, 5)))


def test_augmentation_is_seeded_and_uses_the_generator(images):
    gen = ImageDataGenerator(rotation_range=40, zoom_range=0.3, horizontal_flip=True,
                             **CL)  # fmt: skip
    a = gen.flow(images, batch_size=8, shuffle=False, seed=3)[0]
    b = gen.flow(images, batch_size=8, shuffle=False, seed=3)[0]
    np.testing.assert_array_equal(a, b)
    assert a.shape == images.shape and not np.allclose(a, images)
    # interpolation_order=0 never invents values (label maps stay label maps)
    labels = np.random.default_rng(1).integers(0, 4, size=(1, 7, 7, 1))
    nearest = ImageDataGenerator(rotation_range=90, interpolation_order=0, **CL)
    out = next(nearest.flow(labels, seed=123))
    assert set(np.unique(out)) <= set(np.unique(labels))


def test_save_to_dir_writes_viewable_images(images, tmp_path):
    gen = ImageDataGenerator(**CL)
    it = gen.flow(images, np.arange(8), batch_size=3, shuffle=False,
                  save_to_dir=str(tmp_path), save_prefix="aug")  # fmt: skip
    it[0]
    saved = sorted(p.name for p in tmp_path.iterdir())
    assert len(saved) == 3 and all(n.startswith("aug_") for n in saved)


def test_channels_first_arrays(images):
    first = np.ascontiguousarray(images.transpose(0, 3, 1, 2))
    gen = ImageDataGenerator(horizontal_flip=True, data_format="channels_first")
    x = gen.flow(first, batch_size=4, shuffle=False, seed=0)[0]
    assert x.shape == (4, 3, 6, 6)
    flipped = gen.apply_transform(first[0], {"flip_horizontal": True})
    np.testing.assert_array_equal(flipped, first[0][:, :, ::-1])


# --------------------------------------------------------------------------
# fit(): featurewise statistics and ZCA
# --------------------------------------------------------------------------
def test_fit_featurewise_center_and_std(images):
    gen = ImageDataGenerator(rescale=1 / 255, featurewise_center=True,
                             featurewise_std_normalization=True, dtype="float64",
                             **CL)  # fmt: skip
    gen.fit(images)
    assert gen.mean.shape == (1, 1, 3) and gen.std.shape == (1, 1, 3)
    batch = next(gen.flow(images, batch_size=8))
    assert abs(batch.mean()) < 1e-6 and abs(batch.std() - 1) < 1e-5


def test_fit_zca_whitening_decorrelates(images):
    with pytest.warns(UserWarning, match="overrides"):
        gen = ImageDataGenerator(rescale=1 / 255, zca_whitening=True,
                                 dtype="float64", **CL)  # fmt: skip
    assert gen.featurewise_center
    gen.fit(images)
    batch = next(gen.flow(images, batch_size=8)).reshape(8, -1)
    np.testing.assert_allclose(batch @ batch.T / 8, np.eye(8), atol=1e-6)


def test_fit_with_augmentation_and_channels_first():
    x = np.random.default_rng(2).random((6, 3, 5, 5))
    gen = ImageDataGenerator(featurewise_center=True, rotation_range=30,
                             data_format="channels_first")  # fmt: skip
    gen.fit(x, augment=True, rounds=2, seed=0)
    assert gen.mean.shape == (3, 1, 1)
    with pytest.raises(ValueError, match="rank-4"):
        gen.fit(np.zeros((3, 10, 10)))
    with pytest.raises(ValueError, match="Received: rounds=0"):
        gen.fit(x, rounds=0)


def test_standardize_before_fit_warns(images):
    gen = ImageDataGenerator(featurewise_center=True, **CL)
    with pytest.warns(UserWarning, match="has not been fit"):
        out = gen.standardize(images[0])
    np.testing.assert_array_equal(out, images[0])
    assert out is not images[0]


def test_featurewise_statistics_refuse_images_with_other_channels(images):
    gen = ImageDataGenerator(featurewise_center=True, **CL)
    gen.fit(images)  # 3 channels
    gray = images[..., :1]
    with pytest.raises(InvalidParameterError) as excinfo:
        gen.flow(gray, np.arange(8))
    message = str(excinfo.value)
    assert "fit on images with 3 channel(s)" in message
    assert "`x` has 1 channel(s)" in message
    assert message.endswith("Received: x.shape=(8, 6, 6, 1)")
    with pytest.raises(InvalidParameterError, match="3 channel"):
        gen.standardize(gray[0])
    # Fit on one channel, flow three: a (1, 1, 1) mean would broadcast silently.
    one = ImageDataGenerator(featurewise_center=True, **CL)
    one.fit(gray)
    with pytest.raises(InvalidParameterError, match="fit on images with 1 channel"):
        one.flow(images)
    # Statistics set after the flow was created are checked on each batch.
    late = ImageDataGenerator(featurewise_center=True, **CL)
    with pytest.warns(UserWarning, match="has not been fit"):
        flow = late.flow(gray, batch_size=4)
    late.fit(images)
    with pytest.raises(InvalidParameterError, match="3 channel"):
        flow[0]
    # A user-set per-channel mean (e.g. ImageNet's) for RGB images still works.
    imagenet = ImageDataGenerator(featurewise_center=True, **CL)
    imagenet.mean = np.array([123.7, 116.8, 103.9], "float32").reshape(1, 1, 3)
    np.testing.assert_allclose(
        imagenet.flow(images, batch_size=8, shuffle=False)[0], images - imagenet.mean
    )


def test_zca_refuses_images_of_another_size(images):
    with pytest.warns(UserWarning, match="overrides"):
        gen = ImageDataGenerator(zca_whitening=True, **CL)
    gen.fit(images)  # 6 x 6 x 3 = 108 values
    with pytest.raises(InvalidParameterError, match="ZCA whitening on images of 108"):
        gen.flow(images[:, :4, :4])


def test_unfitted_featurewise_options_warn_once_at_flow_creation(images):
    gen = ImageDataGenerator(featurewise_center=True,
                             featurewise_std_normalization=True, **CL)  # fmt: skip
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        flow = gen.flow(images, np.arange(8), batch_size=3)
        line = sys._getframe().f_lineno - 1
        batches = [flow[i] for i in range(len(flow))] + [next(flow), next(flow)]
    assert len(batches) == 5
    assert len(caught) == 1, [str(w.message) for w in caught]
    warning = caught[0]
    assert "`featurewise_center`, `featurewise_std_normalization`" in str(
        warning.message
    )
    assert "has not been fit" in str(warning.message)
    assert (warning.filename, warning.lineno) == (__file__, line)
    np.testing.assert_array_equal(batches[0][0], images[flow.index_array[:3]])
    gen.fit(images)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        gen.flow(images)  # fitted: no warning


def test_model_learns_from_flow(digits):
    x, y = digits
    x = x[:400] * 255
    y = keras.utils.to_categorical(y[:400], 10)
    gen = ImageDataGenerator(
        rescale=1 / 255,
        featurewise_center=True,
        width_shift_range=1,
        validation_split=0.25,
        **CL,
    )
    gen.fit(x)
    train = gen.flow(x, y, batch_size=32, subset="training", seed=0)
    val = gen.flow(x, y, batch_size=32, subset="validation", shuffle=False)
    model = keras.Sequential([
        keras.Input((8, 8, 1)),
        keras.layers.Flatten(),
        keras.layers.Dense(10, activation="softmax"),
    ])  # fmt: skip
    model.compile(keras.optimizers.Adam(0.02), "categorical_crossentropy",
                  metrics=["accuracy"])  # fmt: skip
    history = model.fit(train, validation_data=val, epochs=5, verbose=0)
    assert history.history["val_accuracy"][-1] >= 0.7


def test_iterator_repr_says_what_it_is(images):
    it = ImageDataGenerator(validation_split=0.25, **CL).flow(
        images, np.zeros(8), batch_size=2, subset="training"
    )
    text = repr(it)
    assert text.startswith("NumpyArrayIterator(")
    assert (
        "samples=6" in text and "batch_size=2" in text and "subset='training'" in text
    )


def test_direct_construction_without_generator(images):
    it = NumpyArrayIterator(images, None, None, batch_size=4)
    np.testing.assert_array_equal(it[0], images[:4])
    with pytest.raises(InvalidParameterError, match="Received: batch_size=0"):
        NumpyArrayIterator(images, None, None, batch_size=0)
