"""Keras 2's image transformations on NumPy arrays (no Keras, no TensorFlow).

The functions keep the names, arguments and semantics of
``keras.preprocessing.image`` (keras-preprocessing 1.1.2 / tf-keras): one image
is a 3-D array whose row, column and channel axes are given explicitly, the
affine transforms go through :func:`scipy.ndimage.affine_transform` one
channel at a time, and brightness goes through PIL's ``ImageEnhance``.
:class:`tunekit.ImageDataGenerator` applies them, so every iterator
(``flow``, ``flow_from_directory``, ``flow_from_dataframe``) augments the same way.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from tunekit._validation import invalid_parameter

__all__ = [
    "apply_affine_transform",
    "apply_brightness_shift",
    "apply_channel_shift",
    "array_to_img",
    "flip_axis",
    "img_to_array",
    "random_brightness",
    "random_channel_shift",
    "random_rotation",
    "random_shear",
    "random_shift",
    "random_zoom",
]


def _rng(seed: Any = None) -> Any:
    """A NumPy ``Generator`` (given or seeded) or the legacy global state."""
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is not None:
        return np.random.default_rng(seed)
    return np.random


def flip_axis(x: np.ndarray, axis: int) -> np.ndarray:
    """Reverse ``x`` along ``axis``.

    Examples
    --------
    >>> flip_axis(np.arange(3)[None], 1).tolist()
    [[2, 1, 0]]
    """
    return np.flip(np.asarray(x), axis)


def _check_axes(x: Any, row_axis: int, col_axis: int, channel_axis: int) -> None:
    if len({row_axis, col_axis, channel_axis}) != 3:
        raise invalid_parameter(
            "row_axis/col_axis/channel_axis",
            (row_axis, col_axis, channel_axis),
            "three distinct axes",
        )
    if {row_axis, col_axis, channel_axis} != {0, 1, 2}:
        raise invalid_parameter(
            "row_axis/col_axis/channel_axis",
            (row_axis, col_axis, channel_axis),
            "a permutation of 0, 1 and 2",
        )
    if np.ndim(x) != 3:
        raise invalid_parameter(
            "x",
            f"array of shape {np.shape(x)}",
            "one image with channels: a 3-D array",
        )
    if channel_axis not in (0, 2):
        raise invalid_parameter(
            "channel_axis", channel_axis, "0 (channels first) or 2 (channels last)"
        )


_SWAP = [1, 0, 2]
_BATCH_MODES = ("nearest", "constant")
_CHUNK_PIXELS = 12_000  # pixels per vectorised step of apply_affine_transforms


@functools.lru_cache(maxsize=64)
def _centering(h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    """The (read-only) matrices moving the origin to the image center and back."""
    o_x, o_y = float(h) / 2 - 0.5, float(w) / 2 - 0.5
    offset = np.array([[1, 0, o_x], [0, 1, o_y], [0, 0, 1]])
    reset = np.array([[1, 0, -o_x], [0, 1, -o_y], [0, 0, 1]])
    offset.flags.writeable = False
    reset.flags.writeable = False
    return offset, reset


def affine_matrix(
    theta: float,
    tx: float,
    ty: float,
    shear: float,
    zx: float,
    zy: float,
    h: int,
    w: int,
    swap: bool,
) -> np.ndarray | None:
    """The output-to-input matrix of :func:`apply_affine_transform` (or None).

    ``swap``: the column axis comes after the row axis (the matrix is built
    in (x=column, y=row) coordinates and swapped to (row, column)).
    """
    matrix = None
    parts = []
    if theta != 0:
        t = np.deg2rad(theta)
        cos, sin = np.cos(t), np.sin(t)
        parts.append(np.array([[cos, -sin, 0], [sin, cos, 0], [0, 0, 1]]))
    if tx != 0 or ty != 0:
        parts.append(np.array([[1, 0, tx], [0, 1, ty], [0, 0, 1]], dtype=float))
    if shear != 0:
        s = np.deg2rad(shear)
        parts.append(np.array([[1, -np.sin(s), 0], [0, np.cos(s), 0], [0, 0, 1]]))
    if zx != 1 or zy != 1:
        parts.append(np.array([[zx, 0, 0], [0, zy, 0], [0, 0, 1]], dtype=float))
    for part in parts:
        matrix = part if matrix is None else matrix @ part
    if matrix is None:
        return None
    offset, reset = _centering(h, w)
    matrix = offset @ matrix @ reset
    if swap:
        matrix = matrix[_SWAP][:, _SWAP]
    return matrix


def affine_matrices(
    params: np.ndarray, h: int, w: int, swap: bool
) -> list[np.ndarray | None]:
    """:func:`affine_matrix` of many images at once, the same bits.

    ``params`` is ``(n, 6)``: theta, tx, ty, shear, zx, zy per image. The
    parts an image does not use are identity matrices here (products with
    them are exact), and every product goes through the same ``matmul`` as
    the one-image function. ``None`` for the images that do not move.
    """
    n = len(params)
    theta, tx, ty, shear, zx, zy = (np.ascontiguousarray(c) for c in params.T)
    used = (theta != 0) | (tx != 0) | (ty != 0) | (shear != 0) | (zx != 1) | (zy != 1)
    eye = np.zeros((n, 3, 3))
    eye[:, [0, 1, 2], [0, 1, 2]] = 1.0
    rot, move, cut, zoom = eye.copy(), eye.copy(), eye.copy(), eye.copy()
    t = np.deg2rad(theta)
    cos, sin = np.cos(t), np.sin(t)
    rot[:, 0, 0], rot[:, 0, 1], rot[:, 1, 0], rot[:, 1, 1] = cos, -sin, sin, cos
    move[:, 0, 2], move[:, 1, 2] = tx, ty
    s = np.deg2rad(shear)
    cut[:, 0, 1], cut[:, 1, 1] = -np.sin(s), np.cos(s)
    zoom[:, 0, 0], zoom[:, 1, 1] = zx, zy
    matrix = np.matmul(np.matmul(np.matmul(rot, move), cut), zoom)
    offset, reset = _centering(h, w)
    matrix = np.matmul(np.matmul(np.repeat(offset[None], n, 0), matrix),
                       np.repeat(reset[None], n, 0))  # fmt: skip
    if swap:
        matrix = matrix[:, _SWAP][:, :, _SWAP]
    return [matrix[i] if used[i] else None for i in range(n)]


def batch_affine_supported(order: int, fill_mode: str) -> bool:
    """Whether :func:`apply_affine_transforms` reproduces SciPy for these."""
    return order == 1 and fill_mode in _BATCH_MODES


def apply_affine_transforms(
    x: np.ndarray,
    matrices: list[np.ndarray | None],
    fill_mode: str = "nearest",
    cval: float = 0.0,
) -> np.ndarray:
    """:func:`apply_affine_transform` (linear interpolation) on a whole batch.

    ``x`` is ``(batch, rows, cols, channels)``; ``matrices[i]`` is image
    ``i``'s :func:`affine_matrix` (``None``: unchanged). Every value is
    computed with the double-precision operations, in the order, that
    ``scipy.ndimage.affine_transform(order=1)`` uses for one image and one
    channel (coordinates ``(row * m0 + shift) + col * m1``, weights ``1 - f``
    and ``1 - (1 - f)``, the four neighbours summed row by row; "nearest"
    clamps the neighbours' indices, "constant" gives ``cval`` outside and
    mirrors the neighbour past the edge), without a Python call per image.
    Callers check :func:`batch_affine_matches_scipy` first: the installed
    SciPy must compute the same way. Only ``fill_mode`` "nearest" and
    "constant" (:func:`batch_affine_supported`). Returns a new array.
    """
    out = np.array(x, copy=True)
    moved = [i for i, m in enumerate(matrices) if m is not None]
    # A few images at a time: the float64 temporaries stay in the CPU cache
    # (three times faster than the whole batch at once on 28x28 images).
    step = max(1, _CHUNK_PIXELS // (x.shape[1] * x.shape[2]))
    for begin in range(0, len(moved), step):
        chunk = moved[begin : begin + step]
        warped = _warp(x[chunk], [matrices[i] for i in chunk], fill_mode, cval)
        out[chunk] = warped.astype(x.dtype, copy=False)
    return out


def _warp(
    x: np.ndarray, matrices: list[np.ndarray], fill_mode: str, cval: float
) -> np.ndarray:
    """:func:`apply_affine_transforms` of images that all move, in float64."""
    n, h, w, channels = x.shape
    m = np.stack(matrices)  # (n, 3, 3)
    rows = np.arange(h, dtype=np.float64)[None, :, None]
    cols = np.arange(w, dtype=np.float64)[None, None, :]
    outside = np.zeros((n, h, w), dtype=bool)
    axes = []
    for axis, size in ((0, h), (1, w)):
        # SciPy's order: (row * m0 + shift) + col * m1
        cc = rows * m[:, axis, 0, None, None] + m[:, axis, 2, None, None]
        cc = cc + cols * m[:, axis, 1, None, None]
        if fill_mode == "constant":  # any coordinate outside gives cval
            outside |= (cc < 0) | (cc > size - 1)
            cc[outside] = 0.0
        start = np.floor(cc)
        w0 = 1.0 - (cc - start)
        # "nearest": the neighbours' indices are clamped, not the coordinate
        first = np.clip(start, 0, size - 1).astype(np.intp)
        second = np.clip(start + 1, 0, size - 1).astype(np.intp)
        if fill_mode == "constant" and size > 1:  # SciPy mirrors past the edge
            second[start + 1 >= size] = size - 2
        shape = (-1, 1) if channels > 1 else (-1,)
        axes.append((first, second, w0.reshape(shape), (1.0 - w0).reshape(shape)))
    (r0, r1, wr0, wr1), (c0, c1, wc0, wc1) = axes
    # Flat row indices into (n * h * w, channels): one take per neighbour.
    base = np.arange(n, dtype=np.intp)[:, None, None] * (h * w)
    r0, r1 = base + r0 * w, base + r1 * w
    src = x.reshape(n * h * w, channels).astype(np.float64)
    if channels == 1:  # 1-D takes are much cheaper than row takes
        src = src.ravel()

    def pixels(r: np.ndarray, c: np.ndarray) -> np.ndarray:
        return np.take(src, (r + c).ravel(), axis=0)

    total = (pixels(r0, c0) * wr0) * wc0
    total += (pixels(r0, c1) * wr0) * wc1
    total += (pixels(r1, c0) * wr1) * wc0
    total += (pixels(r1, c1) * wr1) * wc1
    if fill_mode == "constant":
        total[outside.ravel()] = cval
    return total.reshape(n, h, w, channels)


@functools.lru_cache(maxsize=1)
def batch_affine_matches_scipy() -> bool:
    """Whether :func:`apply_affine_transforms` gives exactly SciPy's values here.

    Checked once per process on images that hit every case (both modes,
    float32 and float64, edges, far outside, one-pixel axes); if the
    installed SciPy computes differently, the iterators keep the per-image
    SciPy path.
    """
    rng = np.random.default_rng(12345)
    for mode in _BATCH_MODES:
        for dtype, shape in (("float32", (6, 9, 11, 2)), ("float64", (6, 1, 5, 1))):
            x = (rng.random(shape) * 255).astype(dtype)
            h, w = shape[1], shape[2]
            params = [
                (rng.uniform(-40, 40), rng.uniform(-4, 4), rng.uniform(-4, 4),
                 rng.uniform(-15, 15), rng.uniform(0.7, 1.3), rng.uniform(0.7, 1.3))
                for _ in range(len(x) - 2)
            ] + [(0.0, 30.0, -30.0, 0.0, 1.0, 1.0), (0, 0, 0, 0, 1, 1)]  # fmt: skip
            matrices = [affine_matrix(*p, h, w, True) for p in params]
            want = [
                apply_affine_transform(img, *p, row_axis=0, col_axis=1,
                                       channel_axis=2, fill_mode=mode, cval=0.5)
                for img, p in zip(x, params)
            ]  # fmt: skip
            got = apply_affine_transforms(x, matrices, mode, 0.5)
            if got.dtype != x.dtype or not np.array_equal(got, np.stack(want)):
                return False
    return True


def apply_affine_transform(
    x: np.ndarray,
    theta: float = 0,
    tx: float = 0,
    ty: float = 0,
    shear: float = 0,
    zx: float = 1,
    zy: float = 1,
    row_axis: int = 1,
    col_axis: int = 2,
    channel_axis: int = 0,
    fill_mode: str = "nearest",
    cval: float = 0.0,
    order: int = 1,
) -> np.ndarray:
    """Rotate, shift, shear and zoom one image about its center (Keras 2).

    Parameters
    ----------
    x : numpy.ndarray
        One image, 3-D.
    theta : float
        Rotation in degrees.
    tx, ty : float
        Shifts in pixels (``tx`` moves along the columns, ``ty`` along the rows).
    shear : float
        Shear angle in degrees.
    zx, zy : float
        Zoom factors.
    row_axis, col_axis, channel_axis : int
        Axes of ``x``; the default is channels first, as in Keras 2.
    fill_mode : {"nearest", "constant", "reflect", "wrap"}
    cval : float
        Fill value for ``fill_mode="constant"``.
    order : int
        Spline interpolation order.

    Returns
    -------
    numpy.ndarray
        The transformed image, same shape (``x`` itself if nothing to do).

    Examples
    --------
    >>> img = np.zeros((3, 4, 1)); img[1, 1] = 1
    >>> out = apply_affine_transform(img, tx=1, row_axis=0, col_axis=1,
    ...                              channel_axis=2)
    >>> np.argwhere(out[..., 0] == 1).tolist()
    [[1, 0]]
    """
    _check_axes(x, row_axis, col_axis, channel_axis)
    h, w = x.shape[row_axis], x.shape[col_axis]
    matrix = affine_matrix(theta, tx, ty, shear, zx, zy, h, w, col_axis > row_axis)
    if matrix is None:
        return x
    import scipy.ndimage

    # One SciPy call per channel, written straight into the result (no
    # per-image stack/roll copies): the cost that matters for small images.
    x = np.asarray(x)
    out = np.empty_like(x)
    linear, shift = matrix[:2, :2], matrix[:2, 2]
    for c in range(x.shape[channel_axis]):
        index = (slice(None),) * channel_axis + (c,)
        scipy.ndimage.affine_transform(
            x[index],
            linear,
            shift,
            output=out[index],
            order=order,
            mode=fill_mode,
            cval=cval,
        )
    return out


def apply_channel_shift(
    x: np.ndarray, intensity: float, channel_axis: int = 0
) -> np.ndarray:
    """Add ``intensity`` to every channel, clipped to the image's own range.

    Examples
    --------
    >>> apply_channel_shift(np.array([[[0.0, 10.0]]]), 5, channel_axis=2).tolist()
    [[[5.0, 10.0]]]
    """
    x = np.asarray(x)
    low, high = np.min(x), np.max(x)
    return np.clip(x + intensity, low, high)


def random_channel_shift(
    x: np.ndarray, intensity_range: float, channel_axis: int = 0
) -> np.ndarray:
    """:func:`apply_channel_shift` by a random amount in ``±intensity_range``."""
    intensity = np.random.uniform(-intensity_range, intensity_range)
    return apply_channel_shift(x, intensity, channel_axis=channel_axis)


def img_to_array(
    img: Any, data_format: str | None = None, dtype: str | None = None
) -> np.ndarray:
    """A PIL image as a float array ``(h, w, c)`` (or ``(c, h, w)``).

    Examples
    --------
    >>> from PIL import Image
    >>> img_to_array(Image.new("L", (3, 2))).shape
    (2, 3, 1)
    """
    x = np.asarray(img, dtype=dtype or "float32")
    if x.ndim == 2:
        x = x[..., None]
    if x.ndim != 3:
        raise invalid_parameter("img", f"image of shape {x.shape}", "a 2-D image")
    if data_format == "channels_first":
        x = x.transpose(2, 0, 1)
    return x


def array_to_img(
    x: Any, data_format: str | None = None, scale: bool = True, dtype: Any = None
) -> Any:
    """A 3-D array as a PIL image (Keras 2's ``array_to_img``).

    ``scale=True`` maps the array's range to 0..255 first.

    Examples
    --------
    >>> array_to_img(np.zeros((2, 3, 3))).size
    (3, 2)
    """
    from PIL import Image

    x = np.asarray(x, dtype=dtype or "float32")
    if x.ndim != 3:
        raise invalid_parameter(
            "x", f"array of shape {x.shape}", "a 3-D image array (h, w, c)"
        )
    if data_format == "channels_first":
        x = x.transpose(1, 2, 0)
    if scale:
        x = x - np.min(x)
        top = np.max(x)
        if top != 0:
            x = x / top
        x = x * 255
    channels = x.shape[2]
    if channels not in (1, 3, 4):
        raise invalid_parameter(
            "x", f"array of shape {x.shape}", "an image with 1, 3 or 4 channels"
        )
    if channels == 1:
        return Image.fromarray(x[:, :, 0].astype("uint8"), "L")
    return Image.fromarray(x.astype("uint8"), "RGB" if channels == 3 else "RGBA")


def apply_brightness_shift(
    x: np.ndarray, brightness: float, scale: bool = True
) -> np.ndarray:
    """Change brightness with PIL's ``ImageEnhance.Brightness`` (Keras 2).

    Values outside 0..255 are mapped into it and, with ``scale=False``, back.

    Examples
    --------
    >>> apply_brightness_shift(np.full((1, 1, 3), 100.0), 2.0, False)[0, 0].tolist()
    [200.0, 200.0, 200.0]
    """
    from PIL import ImageEnhance

    x = np.asarray(x)
    x_min, x_max = np.min(x), np.max(x)
    local_scale = bool(x_min < 0 or x_max > 255)
    img = array_to_img(x, scale=local_scale or scale)
    out = img_to_array(ImageEnhance.Brightness(img).enhance(brightness))
    if not scale and local_scale:
        out = out / 255 * (x_max - x_min) + x_min
    return out


def random_brightness(
    x: np.ndarray, brightness_range: Any, scale: bool = True
) -> np.ndarray:
    """:func:`apply_brightness_shift` by a factor drawn from ``brightness_range``."""
    if np.ndim(brightness_range) != 1 or len(brightness_range) != 2:
        raise invalid_parameter(
            "brightness_range", brightness_range, "a (low, high) pair of floats"
        )
    factor = np.random.uniform(brightness_range[0], brightness_range[1])
    return apply_brightness_shift(x, factor, scale)


def random_rotation(
    x: np.ndarray,
    rg: float,
    row_axis: int = 1,
    col_axis: int = 2,
    channel_axis: int = 0,
    fill_mode: str = "nearest",
    cval: float = 0.0,
    interpolation_order: int = 1,
) -> np.ndarray:
    """Rotate by a random angle in ``±rg`` degrees."""
    theta = np.random.uniform(-rg, rg)
    return apply_affine_transform(
        x, theta=theta, row_axis=row_axis, col_axis=col_axis,
        channel_axis=channel_axis, fill_mode=fill_mode, cval=cval,
        order=interpolation_order,
    )  # fmt: skip


def random_shift(
    x: np.ndarray,
    wrg: float,
    hrg: float,
    row_axis: int = 1,
    col_axis: int = 2,
    channel_axis: int = 0,
    fill_mode: str = "nearest",
    cval: float = 0.0,
    interpolation_order: int = 1,
) -> np.ndarray:
    """Shift by random fractions ``±wrg`` of the width and ``±hrg`` of the height."""
    h, w = x.shape[row_axis], x.shape[col_axis]
    tx = np.random.uniform(-hrg, hrg) * h
    ty = np.random.uniform(-wrg, wrg) * w
    return apply_affine_transform(
        x, tx=tx, ty=ty, row_axis=row_axis, col_axis=col_axis,
        channel_axis=channel_axis, fill_mode=fill_mode, cval=cval,
        order=interpolation_order,
    )  # fmt: skip


def random_shear(
    x: np.ndarray,
    intensity: float,
    row_axis: int = 1,
    col_axis: int = 2,
    channel_axis: int = 0,
    fill_mode: str = "nearest",
    cval: float = 0.0,
    interpolation_order: int = 1,
) -> np.ndarray:
    """Shear by a random angle in ``±intensity`` degrees."""
    shear = np.random.uniform(-intensity, intensity)
    return apply_affine_transform(
        x, shear=shear, row_axis=row_axis, col_axis=col_axis,
        channel_axis=channel_axis, fill_mode=fill_mode, cval=cval,
        order=interpolation_order,
    )  # fmt: skip


def random_zoom(
    x: np.ndarray,
    zoom_range: Any,
    row_axis: int = 1,
    col_axis: int = 2,
    channel_axis: int = 0,
    fill_mode: str = "nearest",
    cval: float = 0.0,
    interpolation_order: int = 1,
) -> np.ndarray:
    """Zoom by random factors drawn from ``zoom_range`` (a pair)."""
    if np.ndim(zoom_range) != 1 or len(zoom_range) != 2:
        raise invalid_parameter("zoom_range", zoom_range, "a (low, high) pair")
    if zoom_range[0] == 1 and zoom_range[1] == 1:
        zx, zy = 1.0, 1.0
    else:
        zx, zy = np.random.uniform(zoom_range[0], zoom_range[1], 2)
    return apply_affine_transform(
        x, zx=zx, zy=zy, row_axis=row_axis, col_axis=col_axis,
        channel_axis=channel_axis, fill_mode=fill_mode, cval=cval,
        order=interpolation_order,
    )  # fmt: skip
