"""Keras 2's image transformations (tunekit.data._augmentation) and the
generator methods built on them: get_random_transform / apply_transform."""

from __future__ import annotations

import numpy as np
import pytest

from tunekit import ImageDataGenerator, InvalidParameterError
from tunekit.data import _augmentation as aug

CL = dict(data_format="channels_last")


def test_translation_moves_pixels_the_keras_2_way():
    img = np.zeros((3, 4))
    img[1, 1] = 1
    last = img[..., None]
    axes = dict(row_axis=0, col_axis=1, channel_axis=2)
    # tx moves along the columns, ty along the rows (either layout)
    left = aug.apply_affine_transform(last, tx=1, **axes)[..., 0]
    up = aug.apply_affine_transform(last, ty=1, **axes)[..., 0]
    assert np.argwhere(left == 1).tolist() == [[1, 0]]
    assert np.argwhere(up == 1).tolist() == [[0, 1]]
    first = img[None]
    right = aug.apply_affine_transform(first, tx=-1)[0]
    assert np.argwhere(right == 1).tolist() == [[1, 2]]


def test_rotation_about_the_center():
    x = np.array([[0, 1], [0, 0]], dtype=float)[..., None]
    out = aug.apply_affine_transform(x, theta=90, row_axis=0, col_axis=1,
                                     channel_axis=2)  # fmt: skip
    np.testing.assert_allclose(out[..., 0], [[1, 0], [0, 0]], atol=1e-12)
    ones = np.ones((3, 3, 3))
    gen = ImageDataGenerator(rotation_range=90, fill_mode="constant", **CL)
    rotated = gen.apply_transform(ones, {"theta": 45})
    corners = rotated[[0, 0, 2, 2], [0, 2, 0, 2]]
    np.testing.assert_allclose(corners, 0, atol=1e-12)
    np.testing.assert_allclose(rotated[1], 1)


def test_bad_axes_and_shapes_are_refused():
    with pytest.raises(ValueError, match="distinct"):
        aug.apply_affine_transform(np.zeros((2, 2, 1)), theta=1, row_axis=0,
                                   col_axis=0, channel_axis=2)  # fmt: skip
    with pytest.raises(ValueError, match="3-D"):
        aug.apply_affine_transform(np.zeros((2, 2)), theta=1)
    with pytest.raises(ValueError, match="zoom_range"):
        aug.random_zoom(np.zeros((1, 4, 4)), (1,))
    with pytest.raises(ValueError, match="brightness_range"):
        aug.random_brightness(np.zeros((2, 2, 3)), [0])


def test_brightness_scale_semantics():
    img = np.full((1, 1, 3), 128.0)
    np.testing.assert_array_equal(aug.random_brightness(img, [1, 1], False), img)
    np.testing.assert_array_equal(aug.random_brightness(img, [1, 1], True), 0 * img)
    big = np.full((1, 1, 3), -1024.0)
    np.testing.assert_array_equal(aug.random_brightness(big, [1, 1], False), big)
    doubled = aug.apply_brightness_shift(np.full((2, 2, 1), 100.0), 2.0, False)
    assert doubled.max() == 200.0
    saturated = aug.apply_brightness_shift(np.full((2, 2, 3), 200.0), 2.0, False)
    assert saturated.max() == 255.0


def test_random_helpers_keep_shapes():
    x = np.random.default_rng(0).random((2, 12, 12))
    assert aug.random_rotation(x, 45).shape == x.shape
    assert aug.random_shift(x, 0.2, 0.2).shape == x.shape
    assert aug.random_shear(x, 20).shape == x.shape
    assert aug.random_channel_shift(x, 0.3).shape == x.shape
    np.testing.assert_allclose(aug.random_zoom(x, (1, 1)), x)


def test_random_transform_parameters():
    shape = (28, 28, 2)
    gen = ImageDataGenerator(
        rotation_range=90,
        width_shift_range=0.1,
        height_shift_range=0.1,
        shear_range=0.5,
        zoom_range=0.2,
        channel_shift_range=0.1,
        brightness_range=(1, 5),
        horizontal_flip=True,
        vertical_flip=True,
        **CL,
    )
    one, two = gen.get_random_transform(shape, 1), gen.get_random_transform(shape, 2)
    for key in ("theta", "tx", "ty", "shear", "zx", "zy",
                "channel_shift_intensity", "brightness"):  # fmt: skip
        assert one[key] != 0 and one[key] != two[key], key
    assert one == gen.get_random_transform(shape, 1)
    assert abs(one["tx"]) <= 0.1 * 28
    identity = ImageDataGenerator(**CL).get_random_transform(shape, 1)
    assert identity["theta"] == identity["tx"] == identity["shear"] == 0
    assert identity["zx"] == identity["zy"] == 1
    assert identity["channel_shift_intensity"] is None
    assert identity["brightness"] is None


def test_integer_and_list_shift_ranges_draw_whole_pixels():
    gen = ImageDataGenerator(width_shift_range=3, height_shift_range=[2, 5], **CL)
    draws = [gen.get_random_transform((10, 10, 1), s) for s in range(40)]
    assert {abs(d["ty"]) for d in draws} <= {0.0, 1.0, 2.0}
    assert {abs(d["tx"]) for d in draws} == {2.0, 5.0}


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"brightness_range": 0.1}, "Received: brightness_range=0.1"),
        ({"brightness_range": (1, 2, 3)}, "brightness_range"),
        ({"zoom_range": (0.5,)}, r"Received: zoom_range=\(0.5,\)"),
        ({"zoom_range": "big"}, "zoom_range"),
        ({"data_format": "channels_middle"}, "Did you mean"),
        ({"validation_split": 5}, "Received: validation_split=5"),
        ({"validation_split": -0.1}, "validation_split"),
        ({"rotation_range": "90"}, "rotation_range"),
        ({"width_shift_range": -1}, "width_shift_range"),
        ({"interpolation_order": 7}, "interpolation_order"),
        ({"fill_mode": "mirror"}, "Received: fill_mode='mirror'"),
        ({"preprocessing_function": 3}, "preprocessing_function"),
    ],
)
def test_generator_validates_at_construction(kwargs, match):
    with pytest.raises(ValueError, match=match) as info:
        ImageDataGenerator(**kwargs)
    assert isinstance(info.value, InvalidParameterError)


def test_generator_option_implications_warn():
    with pytest.warns(UserWarning, match="featurewise_center"):
        gen = ImageDataGenerator(featurewise_std_normalization=True)
    assert gen.featurewise_center
    with pytest.warns(UserWarning, match="samplewise_center"):
        gen = ImageDataGenerator(samplewise_std_normalization=True)
    assert gen.samplewise_center
    assert "rotation_range=10" in repr(ImageDataGenerator(rotation_range=10))


def _keras2_affine(x, theta, tx, ty, shear, zx, zy, row, col, channel, **kw):
    """Keras 2's apply_affine_transform, verbatim in structure (the reference)."""
    import scipy.ndimage

    t, s = np.deg2rad(theta), np.deg2rad(shear)
    cos, sin = np.cos(t), np.sin(t)
    matrix = np.array([[cos, -sin, 0], [sin, cos, 0], [0, 0, 1]])
    matrix = matrix @ np.array([[1, 0, tx], [0, 1, ty], [0, 0, 1]], dtype=float)
    matrix = matrix @ np.array([[1, -np.sin(s), 0], [0, np.cos(s), 0], [0, 0, 1]])
    matrix = matrix @ np.array([[zx, 0, 0], [0, zy, 0], [0, 0, 1]], dtype=float)
    o_x, o_y = float(x.shape[row]) / 2 - 0.5, float(x.shape[col]) / 2 - 0.5
    offset = np.array([[1, 0, o_x], [0, 1, o_y], [0, 0, 1]])
    reset = np.array([[1, 0, -o_x], [0, 1, -o_y], [0, 0, 1]])
    matrix = offset @ matrix @ reset
    if col > row:
        matrix[:, [0, 1]] = matrix[:, [1, 0]]
        matrix[[0, 1]] = matrix[[1, 0]]
    out = np.stack(
        [
            scipy.ndimage.affine_transform(c, matrix[:2, :2], matrix[:2, 2], **kw)
            for c in np.rollaxis(x, channel, 0)
        ]
    )
    return np.rollaxis(out, 0, channel + 1)


@pytest.mark.parametrize("fill_mode", ["nearest", "constant", "reflect", "wrap"])
@pytest.mark.parametrize("channels_first", [False, True])
def test_affine_transform_bit_identical_to_keras_2(fill_mode, channels_first):
    # The per-image fast path (cached centering, output written in place)
    # must give exactly Keras 2's values, every channel, both layouts.
    rng = np.random.default_rng(3)
    axes = (1, 2, 0) if channels_first else (0, 1, 2)
    for _ in range(20):
        shape = (3, 11, 14) if channels_first else (11, 14, 3)
        x = rng.random(shape).astype("float32")
        p = dict(theta=rng.uniform(-30, 30), tx=rng.uniform(-3, 3),
                 ty=rng.uniform(-3, 3), shear=rng.uniform(-15, 15),
                 zx=rng.uniform(0.8, 1.2), zy=rng.uniform(0.8, 1.2))  # fmt: skip
        got = aug.apply_affine_transform(
            x, **p, row_axis=axes[0], col_axis=axes[1], channel_axis=axes[2],
            fill_mode=fill_mode, cval=0.25,
        )  # fmt: skip
        want = _keras2_affine(x, **p, row=axes[0], col=axes[1], channel=axes[2],
                              mode=fill_mode, cval=0.25, order=1)  # fmt: skip
        assert got.dtype == want.dtype and np.array_equal(got, want)
        assert got is not x


def _random_params(rng, n):
    def pick(*choices):
        return float(rng.choice(choices))

    return [
        (pick(0, rng.uniform(-45, 45), 90), pick(0, rng.uniform(-5, 5)),
         pick(0, rng.uniform(-5, 5), 40.0), pick(0, rng.uniform(-20, 20)),
         pick(1, rng.uniform(0.7, 1.3)), pick(1, rng.uniform(0.7, 1.3)))
        for _ in range(n)
    ]  # fmt: skip


@pytest.mark.parametrize("fill_mode", ["nearest", "constant"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape", [(13, 17, 1), (9, 8, 3), (1, 6, 1)])
def test_batched_affine_bit_identical_to_per_image_scipy(fill_mode, dtype, shape):
    # The whole-batch warp the iterators use must give SciPy's values bit
    # for bit: rotations, shifts past the border, one-pixel axes, cval.
    rng = np.random.default_rng(7)
    x = (rng.random((24, *shape)) * 255).astype(dtype)
    params = _random_params(rng, len(x))
    h, w = shape[:2]
    matrices = [aug.affine_matrix(*p, h, w, True) for p in params]
    got = aug.apply_affine_transforms(x, matrices, fill_mode, cval=3.5)
    want = np.stack([
        aug.apply_affine_transform(img, *p, row_axis=0, col_axis=1, channel_axis=2,
                                   fill_mode=fill_mode, cval=3.5, order=1)
        for img, p in zip(x, params)
    ])  # fmt: skip
    assert got.dtype == x.dtype and np.array_equal(got, want)
    assert aug.batch_affine_matches_scipy()  # the iterators take this path


AUGMENTATIONS = [
    dict(width_shift_range=0.1, height_shift_range=0.1, rotation_range=10),
    dict(rotation_range=40, shear_range=10, zoom_range=0.2, horizontal_flip=True,
         vertical_flip=True, fill_mode="constant", cval=3.0),
    dict(width_shift_range=3, channel_shift_range=20, brightness_range=(0.5, 1.5)),
    dict(rotation_range=20, fill_mode="reflect"),
    dict(rotation_range=20, interpolation_order=0),
    dict(width_shift_range=[1, 2], height_shift_range=2, **CL),
    dict(rotation_range=20, data_format="channels_first"),
]  # fmt: skip


@pytest.mark.parametrize("options", AUGMENTATIONS)
@pytest.mark.parametrize("fast", [True, False])
def test_transform_batch_equals_image_by_image(options, fast, monkeypatch):
    # _transform_batch (what the iterators call) = apply_transform image by
    # image with the same rng, on the batched path and on the fallback.
    if not fast:
        monkeypatch.setattr(
            "tunekit.data._generator.batch_affine_matches_scipy", lambda: False
        )
    gen = ImageDataGenerator(**options)
    channels_first = options.get("data_format") == "channels_first"
    rng = np.random.default_rng(11)
    for channels in (1, 3):
        shape = (channels, 12, 15) if channels_first else (12, 15, channels)
        x = (rng.random((9, *shape)) * 255).astype("float32")
        want, draws = x.copy(), np.random.default_rng(5)
        for i in range(len(want)):
            want[i] = gen.apply_transform(
                want[i], gen.get_random_transform(want[i].shape, draws)
            )
        got = x.copy()
        gen._transform_batch(got, np.random.default_rng(5))
        assert np.array_equal(got, want)
        assert not np.array_equal(got, x)


def test_affine_matrices_equal_affine_matrix_image_by_image():
    # The batch's matrices (identity for unused parts) = the one-image ones.
    rng = np.random.default_rng(2)
    params = np.array([*_random_params(rng, 200), (0, 0, 0, 0, 1, 1)])
    got = aug.affine_matrices(params, 28, 31, True)
    for p, matrix in zip(params, got):
        want = aug.affine_matrix(*p, 28, 31, True)
        assert (want is None) == (matrix is None)
        assert want is None or np.array_equal(matrix, want)
    assert got[-1] is None
