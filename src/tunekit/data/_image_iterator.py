"""Keras 2's ``ImageDataGenerator.flow_from_directory`` for Keras 3, any backend.

Keras 3.15 no longer exports ``ImageDataGenerator``. This module brings back
its directory loader with the Keras 2 semantics (class order, file order,
per-class validation split, ``rescale``, one-hot labels by default,
``filenames``/``classes`` in a fixed order), built on PIL and NumPy only, so it
runs on the JAX, torch and TensorFlow backends and without TensorFlow
installed. Images are decoded on the shortest PIL path and whole batches are
converted and rescaled at once; with ``cache=True`` every image is decoded
once per search and later epochs and trials read a memory-mapped array.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from tunekit._errors import ImageDirectoryError, LabelMismatchError
from tunekit._validation import check_in, check_positive_int, invalid_parameter
from tunekit.data._decode_cache import (
    COLOR_MODES,
    INTERPOLATIONS,
    decode_images,
    load_decoded,
    report_unreadable,
    resolve_cache_dir,
)
from tunekit.data._directory import DirectoryListing, list_image_directory

__all__ = [
    "DirectoryIterator",
    "ImageDataGenerator",
    "check_same_classes",
    "flow_from_directory",
]

CLASS_MODES = ("categorical", "binary", "sparse", "input", None)
ON_ERROR = ("warn", "raise")
_FIT_UNSUPPORTED = ("featurewise_center", "featurewise_std_normalization")


# ----------------------------------------------------------------------------
# argument checks shared with the tf.data loader
# ----------------------------------------------------------------------------
def check_target_size(name: str, value: Any) -> tuple[int, int]:
    """Return ``value`` as ``(height, width)`` of positive ints, or raise."""
    ok = (
        isinstance(value, (tuple, list))
        and len(value) == 2
        and all(
            isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v > 0
            for v in value
        )
    )
    if not ok:
        raise invalid_parameter(
            name, value, "a (height, width) pair of positive integers, e.g. (256, 256)"
        )
    return (int(value[0]), int(value[1]))


def check_split(validation_split: Any, subset: Any, allowed: Sequence[str]) -> None:
    """Validate ``validation_split`` / ``subset`` as Keras does, more clearly."""
    if isinstance(validation_split, bool) or not isinstance(
        validation_split, (int, float)
    ):
        raise invalid_parameter(
            "validation_split", validation_split, "a float in [0, 1), e.g. 0.2"
        )
    if not 0 <= validation_split < 1:
        raise invalid_parameter(
            "validation_split", validation_split, "a float in [0, 1), e.g. 0.2"
        )
    if subset is not None:
        check_in("subset", subset, [*allowed, None])
        if not validation_split:
            raise invalid_parameter(
                "subset",
                subset,
                "None when validation_split is 0",
                f"Pass validation_split (e.g. 0.2) to use subset={subset!r}.",
            )


def split_fractions(
    validation_split: float, subset: str | None
) -> tuple[float, float] | None:
    """Keras 2's per-class split: validation is ``(0, v)``, training ``(v, 1)``."""
    if subset == "validation":
        return (0.0, float(validation_split))
    if subset == "training":
        return (float(validation_split), 1.0)
    return None


def _check_binary(class_mode: str | None, listing: DirectoryListing) -> None:
    n = len(listing.class_names)
    if class_mode == "binary" and n != 2:
        raise ImageDirectoryError(
            f"class_mode='binary' needs exactly 2 class folders, but "
            f"{listing.directory!r} has {n}: {list(listing.class_names)}. Use "
            "class_mode='categorical' (or 'sparse') for more classes, or add the "
            f"missing class folder. Received: class_mode='binary'"
        )


def _warn_ignored(listing: DirectoryListing) -> None:
    if listing.ignored_files:
        shown = ", ".join(listing.ignored_files[:5])
        more = "" if len(listing.ignored_files) <= 5 else ", ..."
        warnings.warn(
            f"Ignored {len(listing.ignored_files)} non-image files in "
            f"{listing.directory!r} ({shown}{more}); only "
            "png/jpg/jpeg/bmp/ppm/tif/tiff files are loaded.",
            UserWarning,
            stacklevel=4,
        )


def check_same_classes(train: Any, validation: Any) -> list[str]:
    """Raise if two image sources do not have the same classes in the same order.

    Train and validation (or test) folders with different class subfolders
    give labels that mean different things: Keras numbers classes by sorted
    folder name, so a missing folder shifts every later label.

    Parameters
    ----------
    train, validation : DirectoryIterator, dataset, folder path or list of str
        Anything with ``class_indices`` or ``class_names``, a class-per-subfolder
        folder, or the class names themselves.

    Returns
    -------
    list of str
        The shared class names, in label order.

    Raises
    ------
    LabelMismatchError
        When the class names differ.

    Examples
    --------
    >>> check_same_classes(["cat", "dog"], ["cat", "dog"])
    ['cat', 'dog']
    >>> check_same_classes(["cat", "dog"], ["cat", "cow", "dog"])
    Traceback (most recent call last):
    ...
    tunekit._errors.LabelMismatchError: The training and validation data have different classes...
    """  # noqa: E501
    train_names, val_names = _class_names_of(train), _class_names_of(validation)
    if train_names != val_names:
        only_train = sorted(set(train_names) - set(val_names))
        only_val = sorted(set(val_names) - set(train_names))
        detail = (
            f"only in training: {only_train}; only in validation: {only_val}"
            if (only_train or only_val)
            else "the same names in a different order"
        )
        raise LabelMismatchError(
            f"The training and validation data have different classes ({detail}), "
            "so label i means a different class in each. Give both folders the "
            "same class subfolders, or pass classes=[...] to both loaders. "
            f"Received: training classes={train_names}, validation "
            f"classes={val_names}"
        )
    return train_names


def _class_names_of(source: Any) -> list[str]:
    if isinstance(source, (str, os.PathLike)):
        return list(list_image_directory(source, allow_empty_classes=True).class_names)
    indices = getattr(source, "class_indices", None)
    if isinstance(indices, dict):
        return [name for name, _ in sorted(indices.items(), key=lambda kv: kv[1])]
    names = getattr(source, "class_names", None)
    if names is None and isinstance(source, (list, tuple)):
        names = source
    if names is None:
        raise invalid_parameter(
            "train/validation",
            source,
            "a DirectoryIterator, a dataset with class_names, a folder or a list "
            "of class names",
        )
    return [str(n) for n in names]


# ----------------------------------------------------------------------------
# ImageDataGenerator
# ----------------------------------------------------------------------------
class ImageDataGenerator:
    """Keras 2's ``ImageDataGenerator`` for directory loading, on any backend.

    Old code keeps working with only its import line changed::

        from tunekit import ImageDataGenerator

    Parameters
    ----------
    rescale : float, default=None
        Multiply every pixel by this (e.g. ``1/255``) after augmentation.
    validation_split : float, default=0.0
        Fraction of each class kept for ``subset="validation"``: the first
        files of each class in sorted order (Keras 2's stratified split).
    preprocessing_function : callable, default=None
        Applied to each image (a float ``(h, w, c)`` array) after augmentation
        and before ``rescale``; must return the same shape.
    rotation_range : float, default=0
        Random rotation in degrees, ``[-rotation_range, rotation_range]``.
    width_shift_range, height_shift_range : float, default=0.0
        Random shifts: a fraction of the width/height if ``< 1``, else pixels.
    shear_range : float, default=0.0
        Random shear angle in degrees.
    zoom_range : float or (float, float), default=0.0
        Random zoom in ``[1 - zoom_range, 1 + zoom_range]`` (or the given range).
    horizontal_flip, vertical_flip : bool, default=False
        Random flips.
    brightness_range : (float, float), default=None
        Random brightness factor.
    channel_shift_range : float, default=0.0
        Random shift added to every channel.
    fill_mode : {"nearest", "constant", "reflect", "wrap"}, default="nearest"
        How points outside the image are filled by the affine transforms.
    cval : float, default=0.0
        Fill value for ``fill_mode="constant"``.
    samplewise_center, samplewise_std_normalization : bool, default=False
        Center / scale each image by its own mean / std (after ``rescale``).
    data_format : {"channels_last", "channels_first"}, default=None
        Defaults to ``keras.config.image_data_format()``.
    dtype : str, default=None
        Defaults to ``keras.config.floatx()``.
    interpolation_order : int, default=1
        Spline order of the affine transforms.

    Examples
    --------
    >>> gen = ImageDataGenerator(rescale=1 / 255, horizontal_flip=True)
    >>> x = np.arange(12, dtype="float32").reshape(2, 2, 3)
    >>> gen.apply_transform(x, {"flip_horizontal": True})[0, 0].tolist()
    [3.0, 4.0, 5.0]
    >>> float(gen.standardize(np.full((2, 2, 1), 255.0))[0, 0, 0])
    1.0
    """

    def __init__(
        self,
        featurewise_center: bool = False,
        samplewise_center: bool = False,
        featurewise_std_normalization: bool = False,
        samplewise_std_normalization: bool = False,
        zca_whitening: bool = False,
        rotation_range: float = 0,
        width_shift_range: float = 0.0,
        height_shift_range: float = 0.0,
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
        for name, value in (
            ("featurewise_center", featurewise_center),
            ("featurewise_std_normalization", featurewise_std_normalization),
            ("zca_whitening", zca_whitening),
        ):
            if value:
                raise invalid_parameter(
                    name,
                    value,
                    "False: tunekit's ImageDataGenerator has no fit() statistics",
                    "Add a keras.layers.Normalization layer (adapted on the "
                    "training images) to the model instead.",
                )
        check_in("fill_mode", fill_mode, ["nearest", "constant", "reflect", "wrap"])
        check_split(validation_split, None, ["training", "validation"])
        if preprocessing_function is not None and not callable(preprocessing_function):
            raise invalid_parameter(
                "preprocessing_function",
                preprocessing_function,
                "a callable taking and returning one image array",
            )
        if rescale is not None and (
            isinstance(rescale, bool) or not isinstance(rescale, (int, float))
        ):
            raise invalid_parameter("rescale", rescale, "a number such as 1/255")
        if isinstance(zoom_range, (int, float)) and not isinstance(zoom_range, bool):
            zoom = (1 - float(zoom_range), 1 + float(zoom_range))
        elif isinstance(zoom_range, (tuple, list)) and len(zoom_range) == 2:
            zoom = (float(zoom_range[0]), float(zoom_range[1]))
        else:
            raise invalid_parameter(
                "zoom_range", zoom_range, "a float or a (low, high) pair"
            )
        self.samplewise_center = samplewise_center
        self.samplewise_std_normalization = samplewise_std_normalization
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
        self.interpolation_order = interpolation_order
        self.dtype = dtype
        self._validation_split = float(validation_split)

    @property
    def augments(self) -> bool:
        """Whether any random transformation is configured."""
        return bool(
            self.rotation_range
            or self.width_shift_range
            or self.height_shift_range
            or self.shear_range
            or self.zoom_range != (1.0, 1.0)
            or self.channel_shift_range
            or self.horizontal_flip
            or self.vertical_flip
            or self.brightness_range is not None
        )

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
        come from this generator; extra keywords (``cache``, ``on_error``,
        ``verbose``, ``dtype``, ``workers``...) go to :class:`DirectoryIterator`.
        """
        for name in ("rescale", "validation_split", "image_data_generator"):
            if name in kwargs:
                raise invalid_parameter(
                    name,
                    kwargs[name],
                    "given to ImageDataGenerator(...), not to flow_from_directory",
                )
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

    def get_random_transform(
        self, img_shape: tuple[int, ...], seed: Any = None
    ) -> dict[str, Any]:
        """Draw random transformation parameters for one ``(h, w, c)`` image."""
        rng: Any = seed if isinstance(seed, np.random.Generator) else None
        if rng is None:
            rng = np.random.default_rng(seed) if seed is not None else np.random
        height, width = img_shape[0], img_shape[1]

        def shift(amount: float, size: int) -> float:
            if not amount:
                return 0.0
            value = float(rng.uniform(-amount, amount))
            return value * size if amount < 1 else value

        zx, zy = 1.0, 1.0
        if self.zoom_range != (1.0, 1.0):
            zx, zy = (float(z) for z in rng.uniform(*self.zoom_range, size=2))
        params = {
            "theta": float(rng.uniform(-self.rotation_range, self.rotation_range))
            if self.rotation_range
            else 0.0,
            "tx": shift(self.height_shift_range, height),
            "ty": shift(self.width_shift_range, width),
            "shear": float(rng.uniform(-self.shear_range, self.shear_range))
            if self.shear_range
            else 0.0,
            "zx": zx,
            "zy": zy,
            "flip_horizontal": bool(self.horizontal_flip and rng.random() < 0.5),
            "flip_vertical": bool(self.vertical_flip and rng.random() < 0.5),
            "channel_shift_intensity": float(
                rng.uniform(-self.channel_shift_range, self.channel_shift_range)
            )
            if self.channel_shift_range
            else None,
            "brightness": float(rng.uniform(*self.brightness_range))
            if self.brightness_range is not None
            else None,
        }
        return params

    def apply_transform(self, x: np.ndarray, params: dict[str, Any]) -> np.ndarray:
        """Apply ``params`` (from :meth:`get_random_transform`) to one image."""
        x = _affine(
            x,
            params.get("theta", 0.0),
            params.get("tx", 0.0),
            params.get("ty", 0.0),
            params.get("shear", 0.0),
            params.get("zx", 1.0),
            params.get("zy", 1.0),
            fill_mode=self.fill_mode,
            cval=self.cval,
            order=self.interpolation_order,
        )
        intensity = params.get("channel_shift_intensity")
        if intensity is not None:
            low, high = float(np.min(x)), float(np.max(x))
            x = np.clip(x + intensity, low, high)
        if params.get("flip_horizontal"):
            x = x[:, ::-1]
        if params.get("flip_vertical"):
            x = x[::-1]
        brightness = params.get("brightness")
        if brightness is not None:
            x = x * brightness
        return np.ascontiguousarray(x, dtype=x.dtype)

    def random_transform(self, x: np.ndarray, seed: Any = None) -> np.ndarray:
        """Apply a random transformation to one ``(h, w, c)`` image."""
        return self.apply_transform(x, self.get_random_transform(x.shape, seed))

    def standardize(self, x: np.ndarray) -> np.ndarray:
        """``preprocessing_function``, ``rescale`` and samplewise normalization.

        Works on one image ``(h, w, c)`` or on a batch ``(n, h, w, c)``.
        """
        x = np.asarray(x, dtype=self.dtype or "float32")
        if self.preprocessing_function is not None:
            if x.ndim == 4:
                x = np.stack([self.preprocessing_function(img) for img in x])
            else:
                x = self.preprocessing_function(x)
        if self.rescale:
            x = x * np.asarray(self.rescale, dtype=x.dtype)
        if self.samplewise_center or self.samplewise_std_normalization:
            axes = tuple(range(x.ndim - 3, x.ndim))
            if self.samplewise_center:
                x = x - np.mean(x, axis=axes, keepdims=True)
            if self.samplewise_std_normalization:
                x = x / (np.std(x, axis=axes, keepdims=True) + 1e-6)
        return x


def _affine(
    x: np.ndarray,
    theta: float,
    tx: float,
    ty: float,
    shear: float,
    zx: float,
    zy: float,
    *,
    fill_mode: str,
    cval: float,
    order: int,
) -> np.ndarray:
    """Keras 2's ``apply_affine_transform`` for a channels-last image."""
    matrices = []
    if theta:
        t = np.deg2rad(theta)
        matrices.append(
            np.array([[np.cos(t), -np.sin(t), 0], [np.sin(t), np.cos(t), 0], [0, 0, 1]])
        )
    if tx or ty:
        matrices.append(np.array([[1, 0, tx], [0, 1, ty], [0, 0, 1]], dtype=float))
    if shear:
        s = np.deg2rad(shear)
        matrices.append(np.array([[1, -np.sin(s), 0], [0, np.cos(s), 0], [0, 0, 1]]))
    if zx != 1 or zy != 1:
        matrices.append(np.array([[zx, 0, 0], [0, zy, 0], [0, 0, 1]], dtype=float))
    if not matrices:
        return x
    import scipy.ndimage

    matrix = matrices[0]
    for m in matrices[1:]:
        matrix = matrix @ m
    h, w = x.shape[0], x.shape[1]
    o_x, o_y = h / 2 - 0.5, w / 2 - 0.5
    offset = np.array([[1, 0, o_x], [0, 1, o_y], [0, 0, 1]])
    reset = np.array([[1, 0, -o_x], [0, 1, -o_y], [0, 0, 1]])
    matrix = offset @ matrix @ reset
    channels = [
        scipy.ndimage.affine_transform(
            x[..., c], matrix[:2, :2], matrix[:2, 2], order=order, mode=fill_mode,
            cval=cval,
        )
        for c in range(x.shape[-1])
    ]  # fmt: skip
    return np.stack(channels, axis=-1)


# ----------------------------------------------------------------------------
# DirectoryIterator
# ----------------------------------------------------------------------------
def _py_dataset_base() -> type:
    from keras.utils import PyDataset

    return PyDataset


class DirectoryIterator(_py_dataset_base()):  # type: ignore[misc]
    """Batches of images from a class-per-subfolder folder, Keras 2 semantics.

    A ``keras.utils.PyDataset``: pass it to ``model.fit``/``evaluate``/
    ``predict`` on any backend, index it (``it[i]`` is batch ``i``), take
    ``len(it)`` batches, or iterate it forever with ``next(it)`` as in Keras 2.
    Build it with :func:`flow_from_directory` or
    :meth:`ImageDataGenerator.flow_from_directory`.

    Attributes
    ----------
    class_indices : dict of str to int
        Class name -> label, classes sorted by folder name (``'10'`` < ``'2'``).
    classes, labels : numpy.ndarray of int32
        Label of every sample, in ``filenames`` order (never shuffled).
    filenames : list of str
        Paths relative to ``directory``, class by class, sorted.
    filepaths : list of str
        ``os.path.join(directory, filename)`` for each sample.
    samples, n : int
        Number of images.
    num_classes : int
    image_shape : tuple of int
        Shape of one image, e.g. ``(256, 256, 3)``.
    skipped_files : dict of str to str
        Files that could not be decoded, and why (they are left out).
    ignored_files : tuple of str
        Non-image files found in the class folders (not loaded).
    cache_path : pathlib.Path or None
        The decode cache entry used, if ``cache`` was set.
    """

    allowed_class_modes = set(CLASS_MODES)
    white_list_formats = ("png", "jpg", "jpeg", "bmp", "ppm", "tif", "tiff")

    def __init__(
        self,
        directory: str | os.PathLike[str],
        image_data_generator: ImageDataGenerator | None = None,
        target_size: tuple[int, int] = (256, 256),
        color_mode: str = "rgb",
        classes: Sequence[str] | None = None,
        class_mode: str | None = "categorical",
        batch_size: int = 32,
        shuffle: bool = True,
        seed: int | None = None,
        data_format: str | None = None,
        save_to_dir: str | None = None,
        save_prefix: str = "",
        save_format: str = "png",
        follow_links: bool = False,
        subset: str | None = None,
        interpolation: str = "nearest",
        keep_aspect_ratio: bool = False,
        dtype: str | None = None,
        *,
        cache: bool | str | os.PathLike[str] = False,
        on_error: str = "warn",
        verbose: bool = True,
        **kwargs: Any,
    ) -> None:
        import keras

        super().__init__(**kwargs)
        gen = image_data_generator
        self.target_size = check_target_size("target_size", target_size)
        self.color_mode = check_in("color_mode", color_mode, list(COLOR_MODES))
        self.class_mode = check_in("class_mode", class_mode, list(CLASS_MODES))
        self.interpolation = check_in(
            "interpolation", interpolation, list(INTERPOLATIONS)
        )
        self.batch_size = check_positive_int("batch_size", batch_size)
        self.on_error = check_in("on_error", on_error, list(ON_ERROR))
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise invalid_parameter("seed", seed, "an integer or None")
        validation_split = gen._validation_split if gen is not None else 0.0
        check_split(validation_split, subset, ["training", "validation"])
        resolve_cache_dir(cache)  # validate early
        self.data_format = check_in(
            "data_format",
            data_format or keras.config.image_data_format(),
            ["channels_last", "channels_first"],
        )
        self.image_data_generator = gen
        self.dtype = dtype or (gen.dtype if gen and gen.dtype else None)
        self.dtype = self.dtype or keras.config.floatx()
        self.shuffle = bool(shuffle)
        self.seed = seed
        self.subset = subset
        self.split = split_fractions(validation_split, subset)
        self.keep_aspect_ratio = keep_aspect_ratio
        self.save_to_dir, self.save_prefix = save_to_dir, save_prefix
        self.save_format = save_format
        self.directory = os.fspath(directory)

        listing = list_image_directory(
            self.directory, classes=classes, follow_links=follow_links, split=self.split
        )
        _check_binary(self.class_mode, listing)
        _warn_ignored(listing)
        self.ignored_files = listing.ignored_files
        self.class_indices = listing.class_indices
        self.num_classes = len(listing.class_names)
        self.filenames = list(listing.filenames)
        self.classes = listing.labels.copy()
        self._filepaths = listing.filepaths
        self.skipped_files: dict[str, str] = {}
        self._warned = False
        channels = COLOR_MODES[self.color_mode][1]
        self._hwc = (*self.target_size, channels)
        self.image_shape = (
            self._hwc
            if self.data_format == "channels_last"
            else (channels, *self.target_size)
        )
        self._images: np.ndarray | None = None
        self._rows: np.ndarray | None = None
        self.cache_path: Path | None = None
        if resolve_cache_dir(cache) is not None:
            self._load_cache(cache)
        if not self.filenames:
            raise ImageDirectoryError(
                f"No readable image in {self.directory!r}"
                + (f" for subset={subset!r}" if subset else "")
                + ". Received: directory="
                + repr(self.directory)
            )
        self.samples = self.n = len(self.filenames)
        self._base_seed = (
            int(seed) if seed is not None else int(np.random.randint(0, 2**31 - 1))
        )
        self._epoch = 0
        self._index_array: np.ndarray | None = None
        self.batch_index = 0
        self.total_batches_seen = 0
        if verbose:
            print(
                f"Found {self.samples} images belonging to {self.num_classes} classes."
            )

    # -- Keras 2 attributes -------------------------------------------------
    @property
    def filepaths(self) -> list[str]:
        """Full paths of the images, in ``filenames`` order."""
        return self._filepaths

    @property
    def labels(self) -> np.ndarray:
        """Same as ``classes``."""
        return self.classes

    @property
    def sample_weight(self) -> None:
        """Always ``None`` (Keras 2 compatibility)."""
        return None

    @property
    def class_names(self) -> list[str]:
        """Class names in label order."""
        return list(self.class_indices)

    # -- decode cache -------------------------------------------------------
    def _load_cache(self, cache: bool | str | os.PathLike[str]) -> None:
        decoded = load_decoded(
            self._filepaths,
            target_size=self.target_size,
            color_mode=self.color_mode,
            interpolation=self.interpolation,
            keep_aspect_ratio=self.keep_aspect_ratio,
            cache=cache,
        )
        self.cache_path = decoded.path
        self._images = decoded.images
        rows = np.arange(len(self._filepaths))
        if decoded.errors:
            bad = {self._filepaths[i]: why for i, why in decoded.errors.items()}
            report_unreadable(bad, self.on_error, total=len(rows))
            self.skipped_files.update(bad)
            self._warned = True
            keep = np.ones(len(rows), dtype=bool)
            keep[list(decoded.errors)] = False
            rows = rows[keep]
            self.filenames = [f for f, k in zip(self.filenames, keep) if k]
            self._filepaths = [f for f, k in zip(self._filepaths, keep) if k]
            self.classes = self.classes[keep]
        self._rows = rows

    # -- batching -----------------------------------------------------------
    def __len__(self) -> int:
        return (self.n + self.batch_size - 1) // self.batch_size

    def _set_index_array(self) -> None:
        if self.shuffle:
            rng = np.random.default_rng([self._base_seed, self._epoch])
            self._index_array = rng.permutation(self.n)
        else:
            self._index_array = np.arange(self.n)

    def __getitem__(self, idx: int) -> Any:
        if not isinstance(idx, (int, np.integer)) or not -len(self) <= idx < len(self):
            raise IndexError(
                f"Batch index out of range: this iterator has {len(self)} batches. "
                f"Received: idx={idx!r}"
            )
        idx = int(idx) % len(self)
        if self._index_array is None:
            self._set_index_array()
        assert self._index_array is not None
        self.total_batches_seen += 1
        index_array = self._index_array[
            self.batch_size * idx : self.batch_size * (idx + 1)
        ]
        return self._get_batches_of_transformed_samples(index_array, batch=idx)

    def on_epoch_end(self) -> None:
        """Reshuffle (a new permutation per epoch, reproducible with ``seed``)."""
        self._epoch += 1
        self._set_index_array()

    def reset(self) -> None:
        """Restart ``next()`` iteration at the first batch."""
        self.batch_index = 0

    def __iter__(self) -> DirectoryIterator:
        return self

    def __next__(self) -> Any:
        if self._index_array is None:
            self._set_index_array()
        idx = self.batch_index
        self.batch_index += 1
        if self.batch_index >= len(self):
            self.batch_index = 0
        out = self[idx]
        if self.batch_index == 0:
            self.on_epoch_end()
        return out

    def _decode(self, index_array: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Return (uint8 images, indices actually decoded) for ``index_array``."""
        if self._images is not None and self._rows is not None:
            rows = self._rows[index_array]
            order = np.argsort(rows)
            out = np.empty((len(rows), *self._hwc), dtype=np.uint8)
            out[order] = self._images[rows[order]]
            return out, index_array
        paths = [self._filepaths[i] for i in index_array.tolist()]
        images, errors = decode_images(
            paths,
            self.target_size,
            self.color_mode,
            self.interpolation,
            self.keep_aspect_ratio,
        )
        if not errors:
            return images, index_array
        return self._drop_unreadable(images, index_array, errors)

    def _drop_unreadable(
        self, images: np.ndarray, index_array: np.ndarray, errors: dict[int, str]
    ) -> tuple[np.ndarray, np.ndarray]:
        bad = {self._filepaths[index_array[i]]: why for i, why in errors.items()}
        if self.on_error == "raise":
            report_unreadable(bad, "raise")
        new = {k: v for k, v in bad.items() if k not in self.skipped_files}
        self.skipped_files.update(bad)
        if new and not self._warned:
            self._warned = True
            report_unreadable(
                new,
                "warn",
                note="They are dropped from their batch; further ones are added "
                "to `iterator.skipped_files` without more warnings (pass "
                "cache=True to find them all before training starts). ",
            )
        keep = np.ones(len(index_array), dtype=bool)
        keep[list(errors)] = False
        if keep.any():
            return images[keep], index_array[keep]
        # A whole batch of unreadable files: use other images instead of
        # returning an empty batch in the middle of an epoch.
        for start in range(0, self.n, self.batch_size):
            candidates = np.arange(start, min(start + self.batch_size, self.n))
            candidates = np.array(
                [i for i in candidates if self._filepaths[i] not in self.skipped_files]
            )
            if len(candidates):
                return self._decode(candidates[: len(index_array)])
        raise ImageDirectoryError(
            f"None of the images in {self.directory!r} can be decoded; "
            f"e.g. {next(iter(bad))}: {next(iter(bad.values()))}"
        )

    def _batch_seed(self, batch: int) -> np.random.Generator:
        return np.random.default_rng([self._base_seed, self._epoch, batch, 1])

    def _get_batches_of_transformed_samples(
        self, index_array: np.ndarray, batch: int = 0
    ) -> Any:
        images, index_array = self._decode(np.asarray(index_array))
        x = images.astype(self.dtype)
        gen = self.image_data_generator
        if gen is not None:
            if gen.augments:
                rng = self._batch_seed(batch)
                for i in range(len(x)):
                    x[i] = gen.apply_transform(
                        x[i], gen.get_random_transform(x[i].shape, rng)
                    )
            x = gen.standardize(x).astype(self.dtype, copy=False)
        if self.data_format == "channels_first":
            x = np.ascontiguousarray(x.transpose(0, 3, 1, 2))
        if self.save_to_dir:
            self._save_batch(x, index_array)
        return self._with_labels(x, index_array)

    def _with_labels(self, x: np.ndarray, index_array: np.ndarray) -> Any:
        if self.class_mode == "input":
            return x, x.copy()
        if self.class_mode in ("binary", "sparse"):
            return x, self.classes[index_array].astype(self.dtype)
        if self.class_mode == "categorical":
            y = np.zeros((len(x), self.num_classes), dtype=self.dtype)
            y[np.arange(len(x)), self.classes[index_array]] = 1
            return x, y
        return x

    def _save_batch(self, x: np.ndarray, index_array: np.ndarray) -> None:
        from PIL import Image

        os.makedirs(self.save_to_dir, exist_ok=True)  # type: ignore[arg-type]
        for img, j in zip(x, index_array):
            if self.data_format == "channels_first":
                img = img.transpose(1, 2, 0)
            lo, hi = float(img.min()), float(img.max())
            scaled = (img - lo) / (hi - lo if hi > lo else 1) * 255
            pixels = scaled.astype(np.uint8)
            pil = Image.fromarray(pixels[..., 0] if pixels.shape[-1] == 1 else pixels)
            name = f"{self.save_prefix}_{j}_{np.random.randint(10**7)}"
            pil.save(os.path.join(self.save_to_dir, f"{name}.{self.save_format}"))  # type: ignore[arg-type]


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
        on_error=on_error,
        verbose=verbose,
        **kwargs,
    )
