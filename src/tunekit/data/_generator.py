"""Keras 2's ``ImageDataGenerator`` and ``flow_from_directory`` for Keras 3.

Keras 3.15 no longer exports ``ImageDataGenerator``. This module brings it
back, complete (``flow``, ``flow_from_directory``, ``flow_from_dataframe``,
``fit`` and every augmentation and normalization option), with the Keras 2
semantics (class order, file order, per-class validation split, ``rescale``,
one-hot labels by default, ``filenames``/``classes`` in a fixed order), built
on PIL, NumPy and SciPy only, so it runs on the JAX, torch and TensorFlow
backends and without TensorFlow installed. Images are decoded on the shortest
PIL path and whole batches are converted and rescaled at once; with
``cache=True`` every image is decoded once per search and later epochs and
trials read a memory-mapped array.

The top of the image loaders: this module imports every iterator
(:mod:`~tunekit.data._array_iterator`, :mod:`~tunekit.data._files_iterator`,
:mod:`~tunekit.data._dataframe_iterator`) at module level, and none of them
imports it (they name ``ImageDataGenerator`` in annotations only).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

import numpy as np

from tunekit._constraints import (
    FLAG,
    NON_NEGATIVE_NUMBER,
    POSITIVE_INT,
    SEED,
    VALIDATION_SPLIT,
    Options,
    declare_constraints,
    validate_params,
)
from tunekit._errors import InvalidParameterError
from tunekit._validation import check_positive_int, check_seed, invalid_parameter
from tunekit._warnings import warn
from tunekit.data._array_iterator import NumpyArrayIterator
from tunekit.data._augmentation import (
    _rng,
    affine_matrices,
    apply_affine_transform,
    apply_affine_transforms,
    apply_brightness_shift,
    apply_channel_shift,
    batch_affine_matches_scipy,
    batch_affine_supported,
    flip_axis,
)
from tunekit.data._checks import (
    BRIGHTNESS_RANGE,
    CACHE,
    DATA_FORMAT,
    INTERPOLATION_ORDER,
    NUMBER,
    PREPROCESSING_FUNCTION,
    RESCALE,
    SHIFT_RANGE,
    SUBSET,
    TARGET_SIZE,
    VERBOSE,
    ZOOM_RANGE,
    zoom_pair,
)
from tunekit.data._dataframe_iterator import DATAFRAME_CLASS_MODES, DataFrameIterator
from tunekit.data._decode_cache import CACHE_CHECKS, COLOR_MODES, INTERPOLATIONS
from tunekit.data._files_iterator import CLASS_MODES, ON_ERROR, DirectoryIterator

__all__ = ["ImageDataGenerator", "flow_from_directory"]


# ---- the constraint tables (tunekit._constraints) ---------------------------
# One ``validate_params`` call at the start of each entry point checks its
# simple parameters; the data (``x``, ``y``, ``dataframe``...), the class
# lists and the dataframe's columns keep their own checks (the iterators').
# The wordings are those of tunekit.data._checks and tunekit._validation.

#: ``ImageDataGenerator(...)``; ``dtype`` is any NumPy dtype (NumPy checks it).
GENERATOR_CONSTRAINTS: dict[str, Any] = {
    "featurewise_center": FLAG,
    "samplewise_center": FLAG,
    "featurewise_std_normalization": FLAG,
    "samplewise_std_normalization": FLAG,
    "zca_whitening": FLAG,
    "zca_epsilon": NON_NEGATIVE_NUMBER,
    "rotation_range": NON_NEGATIVE_NUMBER,
    "width_shift_range": SHIFT_RANGE,
    "height_shift_range": SHIFT_RANGE,
    "brightness_range": BRIGHTNESS_RANGE,
    "shear_range": NON_NEGATIVE_NUMBER,
    "zoom_range": ZOOM_RANGE,
    "channel_shift_range": NON_NEGATIVE_NUMBER,
    "fill_mode": [Options(["nearest", "constant", "reflect", "wrap"])],
    "cval": NUMBER,
    "horizontal_flip": FLAG,
    "vertical_flip": FLAG,
    "rescale": RESCALE,
    "preprocessing_function": PREPROCESSING_FUNCTION,
    "data_format": DATA_FORMAT,
    "validation_split": VALIDATION_SPLIT,
    "interpolation_order": INTERPOLATION_ORDER,
}

#: What every ``flow*`` method takes.
_BATCHING: dict[str, Any] = {
    "batch_size": POSITIVE_INT,
    "shuffle": FLAG,
    "seed": SEED,
}
_SAVING: dict[str, Any] = {
    "save_to_dir": ["path", None],
    "save_prefix": [str],
    "save_format": [str],
}
#: How image files are decoded (``flow_from_directory``, ``flow_from_dataframe``).
_DECODING: dict[str, Any] = {
    "target_size": TARGET_SIZE,
    "color_mode": [Options(COLOR_MODES)],
    "interpolation": [Options(INTERPOLATIONS)],
}
_CLASS_MODE = [Options(sorted(CLASS_MODES, key=str))]

#: ``ImageDataGenerator.flow``.
FLOW_CONSTRAINTS: dict[str, Any] = {
    **_BATCHING,
    **_SAVING,
    "ignore_class_split": FLAG,
    "subset": SUBSET,
}
#: ``ImageDataGenerator.flow_from_directory``.
FLOW_FROM_DIRECTORY_METHOD_CONSTRAINTS: dict[str, Any] = {
    "directory": ["path"],
    **_DECODING,
    "class_mode": _CLASS_MODE,
    **_BATCHING,
    **_SAVING,
    "follow_links": FLAG,
    "subset": SUBSET,
    "keep_aspect_ratio": FLAG,
}
#: ``ImageDataGenerator.flow_from_dataframe`` (``class_mode="other"`` is
#: deprecated: it is read as ``"raw"``, with a warning, before the check).
FLOW_FROM_DATAFRAME_CONSTRAINTS: dict[str, Any] = {
    "directory": ["path", None],
    **_DECODING,
    "class_mode": [Options(sorted(DATAFRAME_CLASS_MODES, key=str))],
    **_BATCHING,
    **_SAVING,
    "subset": SUBSET,
    "validate_filenames": FLAG,
}
#: :func:`flow_from_directory`.
FLOW_FROM_DIRECTORY_CONSTRAINTS: dict[str, Any] = {
    "directory": ["path"],
    **_DECODING,
    "class_mode": _CLASS_MODE,
    **_BATCHING,
    "validation_split": VALIDATION_SPLIT,
    "subset": SUBSET,
    "rescale": RESCALE,
    "preprocessing_function": PREPROCESSING_FUNCTION,
    "follow_links": FLAG,
    "keep_aspect_ratio": FLAG,
    "data_format": DATA_FORMAT,
    "cache": CACHE,
    "cache_check": [Options(CACHE_CHECKS)],
    "on_error": [Options(ON_ERROR)],
    "verbose": VERBOSE,
}


def _validate(constraints: dict[str, Any], arguments: dict[str, Any]) -> None:
    """Check an entry point's arguments (its ``locals()``) by its table."""
    validate_params(constraints, {name: arguments[name] for name in constraints})


def _warn_override(option: str, overridden: str, value: bool) -> None:
    warn(
        f"This ImageDataGenerator specifies `{option}`, which overrides the "
        f"setting of `{overridden}` (now {value}).",
        UserWarning,
    )


def _warn_not_fit(options: Sequence[str]) -> None:
    names = ", ".join(f"`{option}`" for option in options)
    warn(
        f"This ImageDataGenerator specifies {names}, but it has not been fit "
        "on any training data, so batches are not normalized that way. Fit it "
        "first by calling `.fit(numpy_data)` on sample training images.",
        UserWarning,
    )


def _any_shift(value: Any) -> bool:
    if isinstance(value, (list, tuple, np.ndarray)):
        return any(float(v) != 0 for v in value)
    return bool(value)


class ImageDataGenerator:
    """Keras 2's ``ImageDataGenerator``, complete, on any backend.

    Old code keeps working with only its import line changed::

        from tunekit import ImageDataGenerator

    ``flow`` (arrays), ``flow_from_directory`` (a class-per-subfolder folder)
    and ``flow_from_dataframe`` (a table of file names and targets) return
    ``keras.utils.PyDataset`` iterators that share one augmentation engine:
    this generator's :meth:`get_random_transform`, :meth:`apply_transform` and
    :meth:`standardize`. ``fit`` computes the ``featurewise_*`` and
    ``zca_whitening`` statistics. NumPy, SciPy and PIL only: no TensorFlow.

    Parameters
    ----------
    featurewise_center : bool, default=False
        Subtract the per-channel mean computed by :meth:`fit`.
    samplewise_center : bool, default=False
        Subtract each image's own mean.
    featurewise_std_normalization : bool, default=False
        Divide by the per-channel std computed by :meth:`fit` (turns on
        ``featurewise_center``, with a warning).
    samplewise_std_normalization : bool, default=False
        Divide each image by its own std (turns on ``samplewise_center``).
    zca_whitening : bool, default=False
        Apply the ZCA whitening matrix computed by :meth:`fit` (turns on
        ``featurewise_center`` and off ``featurewise_std_normalization``).
    zca_epsilon : float, default=1e-6
        Added to the singular values in ZCA whitening.
    rotation_range : float, default=0
        Random rotation in degrees, ``[-rotation_range, rotation_range]``.
    width_shift_range, height_shift_range : float, int or list, default=0.0
        A float: a random shift up to that fraction of the size (``< 1``) or
        up to that many pixels (``>= 1``); an int ``k``: a whole number of
        pixels in ``(-k, k)``; a list: one of its values, either sign.
    brightness_range : (float, float), default=None
        Random brightness factor (PIL's ``ImageEnhance.Brightness``).
    shear_range : float, default=0.0
        Random shear angle in degrees.
    zoom_range : float or (float, float), default=0.0
        Random zoom in ``[1 - zoom_range, 1 + zoom_range]`` (or the given range).
    channel_shift_range : float, default=0.0
        Random shift added to every channel, clipped to the image's range.
    fill_mode : {"nearest", "constant", "reflect", "wrap"}, default="nearest"
        How points outside the image are filled by the affine transforms.
    cval : float, default=0.0
        Fill value for ``fill_mode="constant"``.
    horizontal_flip, vertical_flip : bool, default=False
        Random flips.
    rescale : float, default=None
        Multiply every pixel by this (e.g. ``1/255``) after augmentation.
    preprocessing_function : callable, default=None
        Applied to each image (a float array) after augmentation and before
        ``rescale``; must return the same shape.
    data_format : {"channels_last", "channels_first"}, default=None
        Defaults to ``keras.config.image_data_format()``.
    validation_split : float, default=0.0
        Fraction kept for ``subset="validation"``, in ``[0, 1)``.
    interpolation_order : int, default=1
        Spline order of the affine transforms (0 to 5).
    dtype : str, default=None
        Defaults to ``keras.config.floatx()``.

    Attributes
    ----------
    mean, std : numpy.ndarray or None
        Per-channel statistics set by :meth:`fit`.
    zca_whitening_matrix : numpy.ndarray or None
        Set by :meth:`fit` when ``zca_whitening``.

    Examples
    --------
    >>> gen = ImageDataGenerator(rescale=1 / 255, horizontal_flip=True,
    ...                          data_format="channels_last")
    >>> x = np.arange(12, dtype="float32").reshape(2, 2, 3)
    >>> gen.apply_transform(x, {"flip_horizontal": True})[0, 0].tolist()
    [3.0, 4.0, 5.0]
    >>> float(gen.standardize(np.full((2, 2, 1), 255.0))[0, 0, 0])
    1.0
    >>> images = np.random.default_rng(0).random((8, 4, 4, 1)) * 255
    >>> center = ImageDataGenerator(featurewise_center=True,
    ...                             data_format="channels_last")
    >>> center.fit(images)
    >>> batch = next(center.flow(images, batch_size=8, shuffle=False))
    >>> abs(float(batch.mean())) < 1e-3
    True
    """

    _parameter_constraints: ClassVar[dict[str, Any]] = GENERATOR_CONSTRAINTS

    def __init__(
        self,
        featurewise_center: bool = False,
        samplewise_center: bool = False,
        featurewise_std_normalization: bool = False,
        samplewise_std_normalization: bool = False,
        zca_whitening: bool = False,
        zca_epsilon: float = 1e-6,
        rotation_range: float = 0,
        width_shift_range: Any = 0.0,
        height_shift_range: Any = 0.0,
        brightness_range: tuple[float, float] | None = None,
        shear_range: float = 0.0,
        zoom_range: float | tuple[float, float] = 0.0,
        channel_shift_range: float = 0.0,
        fill_mode: str = "nearest",
        cval: float = 0.0,
        horizontal_flip: bool = False,
        vertical_flip: bool = False,
        rescale: float | None = None,
        preprocessing_function: Callable[[np.ndarray], np.ndarray] | None = None,
        data_format: str | None = None,
        validation_split: float = 0.0,
        interpolation_order: int = 1,
        dtype: str | None = None,
    ) -> None:
        _validate(GENERATOR_CONSTRAINTS, locals())
        import keras

        zoom = zoom_pair(zoom_range)
        data_format = data_format or keras.config.image_data_format()
        self.featurewise_center = bool(featurewise_center)
        self.samplewise_center = bool(samplewise_center)
        self.featurewise_std_normalization = bool(featurewise_std_normalization)
        self.samplewise_std_normalization = bool(samplewise_std_normalization)
        self.zca_whitening = bool(zca_whitening)
        self.zca_epsilon = zca_epsilon
        self.rotation_range = rotation_range
        self.width_shift_range = width_shift_range
        self.height_shift_range = height_shift_range
        self.brightness_range = brightness_range
        self.shear_range = shear_range
        self.zoom_range = zoom
        self.channel_shift_range = channel_shift_range
        self.fill_mode = fill_mode
        self.cval = cval
        self.horizontal_flip = horizontal_flip
        self.vertical_flip = vertical_flip
        self.rescale = rescale
        self.preprocessing_function = preprocessing_function
        self.data_format = data_format
        if data_format == "channels_first":
            self.channel_axis, self.row_axis, self.col_axis = 1, 2, 3
        else:
            self.channel_axis, self.row_axis, self.col_axis = 3, 1, 2
        self.interpolation_order = int(interpolation_order)
        self.dtype = dtype or keras.config.floatx()
        self._validation_split = float(validation_split)
        self.mean: np.ndarray | None = None
        self.std: np.ndarray | None = None
        self.zca_whitening_matrix: np.ndarray | None = None
        self._resolve_overrides()

    def _resolve_overrides(self) -> None:
        """Keras 2's implications between the normalization options."""
        if self.zca_whitening:
            if not self.featurewise_center:
                self.featurewise_center = True
                _warn_override("zca_whitening", "featurewise_center", True)
            if self.featurewise_std_normalization:
                self.featurewise_std_normalization = False
                _warn_override("zca_whitening", "featurewise_std_normalization", False)
        if self.featurewise_std_normalization and not self.featurewise_center:
            self.featurewise_center = True
            _warn_override("featurewise_std_normalization", "featurewise_center", True)
        if self.samplewise_std_normalization and not self.samplewise_center:
            self.samplewise_center = True
            _warn_override("samplewise_std_normalization", "samplewise_center", True)

    def __repr__(self) -> str:
        defaults = ImageDataGenerator.__init__.__defaults__ or ()
        names = ImageDataGenerator.__init__.__code__.co_varnames[1 : 1 + len(defaults)]
        shown = []
        for name, default in zip(names, defaults):
            attribute = "_validation_split" if name == "validation_split" else name
            value = getattr(self, attribute, None)
            if name == "zoom_range":
                value = None if self.zoom_range == [1.0, 1.0] else self.zoom_range
                default = None
            if name in ("data_format", "dtype") or (value is None and default is None):
                continue
            if value is not default and value != default:
                shown.append(f"{name}={value!r}")
        return f"ImageDataGenerator({', '.join(shown)})"

    @property
    def augments(self) -> bool:
        """Whether any random transformation is configured."""
        return bool(
            self.rotation_range
            or _any_shift(self.width_shift_range)
            or _any_shift(self.height_shift_range)
            or self.shear_range
            or self.zoom_range != [1.0, 1.0]
            or self.channel_shift_range
            or self.horizontal_flip
            or self.vertical_flip
            or self.brightness_range is not None
        )

    # -- iterators ----------------------------------------------------------
    @declare_constraints(FLOW_CONSTRAINTS)
    def flow(
        self,
        x: Any,
        y: Any = None,
        batch_size: int = 32,
        shuffle: bool = True,
        sample_weight: Any = None,
        seed: int | None = None,
        save_to_dir: str | None = None,
        save_prefix: str = "",
        save_format: str = "png",
        ignore_class_split: bool = False,
        subset: str | None = None,
    ) -> Any:
        """Batches of augmented images from arrays (Keras 2's ``flow``).

        Returns a :class:`~tunekit.NumpyArrayIterator` yielding ``x``,
        ``(x, y)`` or ``(x, y, sample_weight)``; ``x`` may be a tuple
        ``(images, extra)`` whose extra arrays pass through unchanged.
        """
        _validate(FLOW_CONSTRAINTS, locals())
        return NumpyArrayIterator(
            x,
            y,
            self,
            batch_size=batch_size,
            shuffle=shuffle,
            sample_weight=sample_weight,
            seed=seed,
            data_format=self.data_format,
            save_to_dir=save_to_dir,
            save_prefix=save_prefix,
            save_format=save_format,
            subset=subset,
            ignore_class_split=ignore_class_split,
            dtype=self.dtype,
        )

    @declare_constraints(FLOW_FROM_DIRECTORY_METHOD_CONSTRAINTS)
    def flow_from_directory(
        self,
        directory: str | os.PathLike[str],
        target_size: tuple[int, int] = (256, 256),
        color_mode: str = "rgb",
        classes: Sequence[str] | None = None,
        class_mode: str | None = "categorical",
        batch_size: int = 32,
        shuffle: bool = True,
        seed: int | None = None,
        save_to_dir: str | None = None,
        save_prefix: str = "",
        save_format: str = "png",
        follow_links: bool = False,
        subset: str | None = None,
        interpolation: str = "nearest",
        keep_aspect_ratio: bool = False,
        **kwargs: Any,
    ) -> DirectoryIterator:
        """Return a :class:`DirectoryIterator` over ``directory`` (Keras 2 API).

        Same positional order as Keras 2. ``rescale`` and ``validation_split``
        come from this generator; extra keywords (``cache``, ``cache_check``,
        ``on_error``, ``verbose``, ``dtype``, ``workers``...) go to
        :class:`DirectoryIterator`.
        """
        _validate(FLOW_FROM_DIRECTORY_METHOD_CONSTRAINTS, locals())
        _refuse_generator_options(kwargs)
        return DirectoryIterator(
            directory,
            self,
            target_size=target_size,
            color_mode=color_mode,
            classes=classes,
            class_mode=class_mode,
            batch_size=batch_size,
            shuffle=shuffle,
            seed=seed,
            data_format=kwargs.pop("data_format", self.data_format),
            save_to_dir=save_to_dir,
            save_prefix=save_prefix,
            save_format=save_format,
            follow_links=follow_links,
            subset=subset,
            interpolation=interpolation,
            keep_aspect_ratio=keep_aspect_ratio,
            **kwargs,
        )

    @declare_constraints(FLOW_FROM_DATAFRAME_CONSTRAINTS)
    def flow_from_dataframe(
        self,
        dataframe: Any,
        directory: str | os.PathLike[str] | None = None,
        x_col: str = "filename",
        y_col: str | list[str] | None = "class",
        weight_col: str | None = None,
        target_size: tuple[int, int] = (256, 256),
        color_mode: str = "rgb",
        classes: Sequence[str] | None = None,
        class_mode: str | None = "categorical",
        batch_size: int = 32,
        shuffle: bool = True,
        seed: int | None = None,
        save_to_dir: str | None = None,
        save_prefix: str = "",
        save_format: str = "png",
        subset: str | None = None,
        interpolation: str = "nearest",
        validate_filenames: bool = True,
        **kwargs: Any,
    ) -> Any:
        """Batches from a table of file names and targets (Keras 2 API).

        Returns a :class:`~tunekit.DataFrameIterator`. The deprecated
        ``has_ext``, ``sort`` and ``drop_duplicates`` keywords and
        ``class_mode="other"`` give a ``DeprecationWarning`` as in Keras 2;
        extra keywords (``keep_aspect_ratio``, ``cache``, ``on_error``,
        ``verbose``, ``workers``...) go to the iterator.
        """
        if isinstance(class_mode, str) and class_mode == "other":
            warn(
                'class_mode="other" is deprecated, use class_mode="raw".',
                DeprecationWarning,
            )
            class_mode = "raw"
        _validate(FLOW_FROM_DATAFRAME_CONSTRAINTS, locals())
        _refuse_generator_options(kwargs)
        deprecated = {
            "has_ext": "has_ext is deprecated: file names in the dataframe must "
            "match the files on disk exactly.",
            "sort": "sort is deprecated: with shuffle=False batches follow the "
            "order of the dataframe.",
            "drop_duplicates": "drop_duplicates is deprecated: drop duplicates "
            "with pandas.DataFrame.drop_duplicates first.",
        }
        for name, message in deprecated.items():
            if name in kwargs:
                kwargs.pop(name)
                warn(message, DeprecationWarning)
        return DataFrameIterator(
            dataframe,
            directory,
            self,
            x_col=x_col,
            y_col=y_col,
            weight_col=weight_col,
            target_size=target_size,
            color_mode=color_mode,
            classes=classes,
            class_mode=class_mode,
            data_format=kwargs.pop("data_format", self.data_format),
            batch_size=batch_size,
            shuffle=shuffle,
            seed=seed,
            save_to_dir=save_to_dir,
            save_prefix=save_prefix,
            save_format=save_format,
            subset=subset,
            interpolation=interpolation,
            validate_filenames=validate_filenames,
            **kwargs,
        )

    # -- augmentation -------------------------------------------------------
    @staticmethod
    def _shift(rng: Any, amount: Any, size: int) -> float:
        """Keras 2's shift draw: uniform for floats, a choice for ints/lists."""
        scalar = np.ndim(amount) == 0
        if scalar:
            if not amount:
                return 0.0
            if isinstance(amount, (int, np.integer)):
                value = float(rng.choice(int(amount))) * float(rng.choice([-1, 1]))
            else:
                value = float(rng.uniform(-amount, amount))
        else:
            if not len(amount):
                return 0.0
            value = float(rng.choice(np.asarray(amount))) * float(rng.choice([-1, 1]))
        if (amount if scalar else np.max(amount)) < 1:
            value *= size
        return value

    def get_random_transform(
        self, img_shape: tuple[int, ...], seed: Any = None
    ) -> dict[str, Any]:
        """Draw random transformation parameters for one image of ``img_shape``.

        ``seed`` (an int, or a ``numpy.random.Generator``) makes the draw
        reproducible; without it NumPy's global random state is used, as in
        Keras 2.
        """
        rng = _rng(seed)
        rows = img_shape[self.row_axis - 1]
        cols = img_shape[self.col_axis - 1]
        theta = (
            float(rng.uniform(-self.rotation_range, self.rotation_range))
            if self.rotation_range
            else 0.0
        )
        tx = self._shift(rng, self.height_shift_range, rows)
        ty = self._shift(rng, self.width_shift_range, cols)
        shear = (
            float(rng.uniform(-self.shear_range, self.shear_range))
            if self.shear_range
            else 0.0
        )
        zx, zy = 1.0, 1.0
        if self.zoom_range != [1.0, 1.0]:
            zx, zy = (float(z) for z in rng.uniform(*self.zoom_range, 2))
        flip_horizontal = bool(self.horizontal_flip and rng.random() < 0.5)
        flip_vertical = bool(self.vertical_flip and rng.random() < 0.5)
        channel_shift_intensity = None
        if self.channel_shift_range != 0:
            channel_shift_intensity = float(
                rng.uniform(-self.channel_shift_range, self.channel_shift_range)
            )
        brightness = None
        if self.brightness_range is not None:
            brightness = float(rng.uniform(*self.brightness_range))
        return {
            "theta": theta,
            "tx": tx,
            "ty": ty,
            "shear": shear,
            "zx": zx,
            "zy": zy,
            "flip_horizontal": flip_horizontal,
            "flip_vertical": flip_vertical,
            "channel_shift_intensity": channel_shift_intensity,
            "brightness": brightness,
        }

    def apply_transform(self, x: np.ndarray, params: dict[str, Any]) -> np.ndarray:
        """Apply ``params`` (from :meth:`get_random_transform`) to one image.

        Missing keys mean "no change"; ``x`` is not modified.
        """
        row, col, channel = self.row_axis - 1, self.col_axis - 1, self.channel_axis - 1
        x = apply_affine_transform(
            np.asarray(x),
            params.get("theta", 0),
            params.get("tx", 0),
            params.get("ty", 0),
            params.get("shear", 0),
            params.get("zx", 1),
            params.get("zy", 1),
            row_axis=row,
            col_axis=col,
            channel_axis=channel,
            fill_mode=self.fill_mode,
            cval=self.cval,
            order=self.interpolation_order,
        )
        return self._finish_transform(x, params)

    def _finish_transform(self, x: np.ndarray, params: dict[str, Any]) -> np.ndarray:
        """The steps of :meth:`apply_transform` after the affine warp."""
        row, col, channel = self.row_axis - 1, self.col_axis - 1, self.channel_axis - 1
        if params.get("channel_shift_intensity") is not None:
            x = apply_channel_shift(x, params["channel_shift_intensity"], channel)
        if params.get("flip_horizontal", False):
            x = flip_axis(x, col)
        if params.get("flip_vertical", False):
            x = flip_axis(x, row)
        if params.get("brightness") is not None:
            x = apply_brightness_shift(x, params["brightness"], False)
        return np.ascontiguousarray(x)

    def _transform_batch(self, x: np.ndarray, rng: np.random.Generator) -> None:
        """Augment a batch in place: image ``i`` gets the ``i``-th draw of ``rng``.

        The same values as ``x[i] = apply_transform(x[i],
        get_random_transform(x[i].shape, rng))`` image by image; with linear
        interpolation and ``fill_mode`` "nearest" or "constant" the affine
        warps of the whole batch are computed at once
        (:func:`~tunekit.data._augmentation.apply_affine_transforms`, bit for
        bit SciPy's values, checked once per process).
        """
        params = [self.get_random_transform(x.shape[1:], rng) for _ in range(len(x))]
        if not (
            x.dtype in (np.float32, np.float64)
            and batch_affine_supported(self.interpolation_order, self.fill_mode)
            and batch_affine_matches_scipy()
        ):
            for i, p in enumerate(params):
                x[i] = self.apply_transform(x[i], p)
            return
        row, col = self.row_axis - 1, self.col_axis - 1
        h, w = x.shape[1 + row], x.shape[1 + col]
        keys = (("theta", 0), ("tx", 0), ("ty", 0), ("shear", 0), ("zx", 1), ("zy", 1))
        table = np.array([[p.get(k, d) for k, d in keys] for p in params], float)
        matrices = affine_matrices(table, h, w, col > row)
        channels_first = self.channel_axis == 1
        view = x.transpose(0, 2, 3, 1) if channels_first else x
        warped = apply_affine_transforms(view, matrices, self.fill_mode, self.cval)
        view[...] = warped
        for i, p in enumerate(params):
            if (
                p.get("channel_shift_intensity") is not None
                or p.get("flip_horizontal", False)
                or p.get("flip_vertical", False)
                or p.get("brightness") is not None
            ):
                x[i] = self._finish_transform(x[i], p)

    def random_transform(self, x: np.ndarray, seed: Any = None) -> np.ndarray:
        """Apply a random transformation to one image."""
        return self.apply_transform(x, self.get_random_transform(x.shape, seed))

    # -- normalization ------------------------------------------------------
    def standardize(self, x: np.ndarray) -> np.ndarray:
        """Normalize one image or a batch, in Keras 2's order.

        ``preprocessing_function`` (per image), ``rescale``, samplewise
        center / std (each image by its own statistics), then the
        featurewise mean / std and ZCA whitening learned by :meth:`fit`
        (with a warning if it was not called). Returns a new array.

        Raises
        ------
        InvalidParameterError
            When :meth:`fit` saw images with another number of channels (or,
            for ZCA, another size) than ``x``.
        """
        unfitted = self._unfitted_options()
        if unfitted:
            _warn_not_fit(unfitted)
        return self._standardize(np.array(x, dtype=self.dtype, copy=True))

    def _unfitted_options(self) -> list[str]:
        """The featurewise options that are on but have no statistics yet."""
        options = []
        if self.featurewise_center and self.mean is None:
            options.append("featurewise_center")
        if self.featurewise_std_normalization and self.std is None:
            options.append("featurewise_std_normalization")
        if self.zca_whitening and self.zca_whitening_matrix is None:
            options.append("zca_whitening")
        return options

    def _warn_if_not_fit(self) -> None:
        """Warn once, when a flow is created, about options :meth:`fit` did not set.

        Batches themselves never warn (Keras 2 warned on every batch).
        """
        unfitted = self._unfitted_options()
        if unfitted:
            _warn_not_fit(unfitted)

    def _check_fitted_shape(
        self, image_shape: Sequence[int], *, source: str, shown: str
    ) -> None:
        """Raise unless :meth:`fit`'s statistics apply to images of ``image_shape``.

        ``image_shape`` is one image in this generator's ``data_format``;
        ``source`` says where the images come from and ``shown`` is the
        ``name=value`` of the ``Received:`` tail.
        """
        shape = tuple(int(d) for d in image_shape)
        if len(shape) != 3:
            return
        channels = shape[self.channel_axis - 1]
        stats = (
            ("mean", self.mean if self.featurewise_center else None),
            ("std", self.std if self.featurewise_std_normalization else None),
        )
        for name, stat in stats:
            if stat is None:
                continue
            stat = np.asarray(stat)
            fitted = stat.shape[self.channel_axis - 1] if stat.ndim == 3 else None
            try:
                fits = np.broadcast_shapes(stat.shape, shape) == shape
            except ValueError:
                fits = False
            if fitted is not None and fitted != channels:
                problem = (
                    f"was fit on images with {fitted} channel(s) (its `{name}` has "
                    f"shape {stat.shape}), but {source} has {channels} channel(s)"
                )
            elif not fits:
                problem = (
                    f"has a `{name}` of shape {stat.shape}, which does not apply "
                    f"to {source}: images of shape {shape}"
                )
            else:
                continue
            raise self._shape_error(problem, shown)
        matrix = self.zca_whitening_matrix if self.zca_whitening else None
        if matrix is not None and matrix.shape[0] != int(np.prod(shape)):
            raise self._shape_error(
                f"was fit for ZCA whitening on images of {matrix.shape[0]} values "
                f"(height * width * channels), but {source} has images of shape "
                f"{shape} ({int(np.prod(shape))} values)",
                shown,
            )

    @staticmethod
    def _shape_error(problem: str, shown: str) -> InvalidParameterError:
        return InvalidParameterError(
            f"This ImageDataGenerator {problem}, so its featurewise statistics "
            "cannot normalize them. Call `.fit()` on sample images with the same "
            "shape and channels (color_mode) as the ones you flow, or use a "
            f"separate ImageDataGenerator for these images. Received: {shown}"
        )

    def _standardize(self, x: np.ndarray) -> np.ndarray:
        """:meth:`standardize` on an array this code owns (modified in place).

        Skips the featurewise options :meth:`fit` has not set, silently: the
        flow warned once when it was created.
        """
        if x.ndim in (3, 4):
            self._check_fitted_shape(
                x.shape[-3:], source="`x`", shown=f"x.shape={x.shape}"
            )
        if self.preprocessing_function is not None:
            if x.ndim == 4:
                x = np.stack([self.preprocessing_function(img) for img in x])
                x = np.asarray(x, dtype=self.dtype)
            else:  # the result may be an array someone else holds: copy it
                x = np.array(self.preprocessing_function(x), dtype=self.dtype)
        if self.rescale:
            x *= np.asarray(self.rescale, dtype=x.dtype)
        axes = tuple(range(x.ndim - 3, x.ndim)) if x.ndim >= 3 else None
        if self.samplewise_center:
            x = x - np.mean(x, axis=axes, keepdims=True)
        if self.samplewise_std_normalization:
            x = x / (np.std(x, axis=axes, keepdims=True) + 1e-6)
        if self.featurewise_center and self.mean is not None:
            x = x - self.mean
        if self.featurewise_std_normalization and self.std is not None:
            x = x / (self.std + 1e-6)
        if self.zca_whitening and self.zca_whitening_matrix is not None:
            flat = x.reshape(-1, int(np.prod(x.shape[-3:])))
            x = (flat @ self.zca_whitening_matrix).reshape(x.shape)
        return np.asarray(x, dtype=self.dtype)

    def fit(
        self, x: Any, augment: bool = False, rounds: int = 1, seed: int | None = None
    ) -> None:
        """Compute the ``featurewise_*`` and ZCA statistics from sample images.

        Parameters
        ----------
        x : array of rank 4
            Sample images in this generator's ``data_format``; ``rescale``
            is applied first, as in Keras 2.
        augment : bool, default=False
            Fit on randomly augmented copies.
        rounds : int, default=1
            Augmentation passes over ``x`` when ``augment``.
        seed : int, default=None
            Makes the augmentation reproducible.
        """
        rounds = check_positive_int("rounds", rounds)
        seed = check_seed(seed)
        x = np.array(x, dtype=self.dtype, copy=True)
        if x.ndim != 4:
            raise invalid_parameter(
                "x",
                f"array of shape {x.shape}",
                "a rank-4 array of images (samples, height, width, channels) for fit()",
                "Input to `.fit()` should have rank 4.",
            )
        _warn_channels(x.shape, self.channel_axis, self.data_format, "fit()")
        if self.rescale:
            x *= self.rescale
        if augment:
            rng = np.random.default_rng(seed)
            augmented = np.zeros((rounds * len(x), *x.shape[1:]), dtype=self.dtype)
            for r in range(rounds):
                for i in range(len(x)):
                    augmented[i + r * len(x)] = self.random_transform(x[i], rng)
            x = augmented
        shape = [1, 1, 1]
        shape[self.channel_axis - 1] = x.shape[self.channel_axis]
        axes = (0, self.row_axis, self.col_axis)
        if self.featurewise_center:
            self.mean = np.reshape(np.mean(x, axis=axes), shape)
            x -= self.mean
        if self.featurewise_std_normalization:
            self.std = np.reshape(np.std(x, axis=axes), shape)
            x /= self.std + 1e-6
        if self.zca_whitening:
            n = len(x)
            flat = np.reshape(x, (n, -1)).astype("float64")
            u, s, _ = np.linalg.svd(flat.T, full_matrices=False)
            s_inv = np.sqrt(n) / (s + self.zca_epsilon)
            self.zca_whitening_matrix = ((u * s_inv) @ u.T).astype(self.dtype)


def _warn_channels(
    shape: tuple[int, ...], channel_axis: int, data_format: str, where: str
) -> None:
    if shape[channel_axis] not in (1, 3, 4):
        warn(
            f"{where} expects images in the {data_format!r} convention (channels "
            f"on axis {channel_axis}: 1, 3 or 4 of them), but got an array of "
            f"shape {shape} ({shape[channel_axis]} channels on that axis).",
            UserWarning,
        )


def _refuse_generator_options(kwargs: dict[str, Any]) -> None:
    for name in ("rescale", "validation_split", "image_data_generator"):
        if name in kwargs:
            raise invalid_parameter(
                name,
                kwargs[name],
                "given to ImageDataGenerator(...), not to the flow_* method",
            )


@declare_constraints(FLOW_FROM_DIRECTORY_CONSTRAINTS)
def flow_from_directory(
    directory: str | os.PathLike[str],
    target_size: tuple[int, int] = (256, 256),
    color_mode: str = "rgb",
    classes: Sequence[str] | None = None,
    class_mode: str | None = "categorical",
    batch_size: int = 32,
    shuffle: bool = True,
    seed: int | None = None,
    interpolation: str = "nearest",
    validation_split: float = 0.0,
    subset: str | None = None,
    rescale: float | None = None,
    *,
    preprocessing_function: Callable[[np.ndarray], np.ndarray] | None = None,
    follow_links: bool = False,
    keep_aspect_ratio: bool = False,
    data_format: str | None = None,
    dtype: str | None = None,
    cache: bool | str | os.PathLike[str] = False,
    cache_check: str = "mtime",
    on_error: str = "warn",
    verbose: bool = True,
    **kwargs: Any,
) -> DirectoryIterator:
    """Load a class-per-subfolder image folder as Keras 2's ``flow_from_directory``.

    Parameters
    ----------
    directory : str or path-like
        Folder with one subfolder per class.
    target_size : (int, int), default=(256, 256)
        ``(height, width)`` every image is resized to.
    color_mode : {"rgb", "grayscale", "rgba"}, default="rgb"
        Images in other modes are converted.
    classes : list of str, default=None
        Class subfolders in label order; default: all, sorted by name.
    class_mode : {"categorical", "binary", "sparse", "input", None}, default="categorical"
        Labels: one-hot, float 0/1 (exactly two classes), int-valued floats,
        the images themselves, or none.
    batch_size : int, default=32
    shuffle : bool, default=True
        A new order each epoch; ``classes``/``filenames`` keep the listing order.
    seed : int, default=None
        Makes shuffling (and augmentation) reproducible.
    interpolation : str, default="nearest"
        PIL filter used when an image's size differs from ``target_size``.
    validation_split : float, default=0.0
        With ``subset``: the first ``validation_split`` of each class's sorted
        files is validation, the rest training, so the two never overlap.
    subset : {"training", "validation"}, default=None
    rescale : float, default=None
        Multiply pixels by this, e.g. ``1/255``.
    preprocessing_function : callable, default=None
        Applied to each image before ``rescale``.
    cache : bool or path, default=False
        Decode every image once and keep the ``uint8`` array on disk
        (``True``: under :func:`tunekit.data._decode_cache.default_cache_dir`), so
        later epochs, trials and runs decode nothing.
    cache_check : {"mtime", "content"}, default="mtime"
        How a cache entry is matched to the files: their size and
        modification time, or (``"content"``) a hash of their bytes, for
        trees copied with preserved times (``cp -p``, ``rsync -t``).
    on_error : {"warn", "raise"}, default="warn"
        What to do with corrupt or truncated images: skip them with one
        warning, or raise.
    verbose : bool, default=True
        Print Keras' ``Found N images belonging to K classes.``
    **kwargs
        ``follow_links``, ``keep_aspect_ratio``, ``data_format``, ``dtype``,
        ``save_to_dir``... as in Keras 2, and ``workers``,
        ``use_multiprocessing``, ``max_queue_size`` of ``PyDataset``.

    Returns
    -------
    DirectoryIterator

    Examples
    --------
    >>> import os, tempfile
    >>> from PIL import Image
    >>> root = tempfile.mkdtemp()
    >>> for cls in ["cat", "dog"]:
    ...     os.makedirs(os.path.join(root, cls))
    ...     for i in range(5):
    ...         img = Image.new("RGB", (10, 10), (i * 40, 0, 0))
    ...         img.save(os.path.join(root, cls, f"{i}.png"))
    >>> train = flow_from_directory(root, target_size=(8, 8), batch_size=4,
    ...     validation_split=0.2, subset="training", rescale=1 / 255, seed=0)
    Found 8 images belonging to 2 classes.
    >>> train.class_indices, train.filenames[:2]
    ({'cat': 0, 'dog': 1}, ['cat/1.png', 'cat/2.png'])
    >>> x, y = train[0]
    >>> x.shape, y.shape, float(x.max()) <= 1.0
    ((4, 8, 8, 3), (4, 2), True)
    """  # noqa: E501
    _validate(FLOW_FROM_DIRECTORY_CONSTRAINTS, locals())
    gen = ImageDataGenerator(
        rescale=rescale,
        validation_split=validation_split,
        preprocessing_function=preprocessing_function,
        data_format=data_format,
        dtype=dtype,
    )
    return DirectoryIterator(
        directory,
        gen,
        target_size=target_size,
        color_mode=color_mode,
        classes=classes,
        class_mode=class_mode,
        batch_size=batch_size,
        shuffle=shuffle,
        seed=seed,
        data_format=data_format,
        follow_links=follow_links,
        subset=subset,
        interpolation=interpolation,
        keep_aspect_ratio=keep_aspect_ratio,
        dtype=dtype,
        cache=cache,
        cache_check=cache_check,
        on_error=on_error,
        verbose=verbose,
        **kwargs,
    )
