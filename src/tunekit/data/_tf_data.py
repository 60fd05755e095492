"""A fast ``tf.data`` image-folder loader with Keras 2's class order and split.

:func:`image_dataset_from_directory` keeps the signature of Keras' function
of the same name but fixes what bites in tuning (../shared/pitfalls.md §7):

* the validation split is Keras 2's stratified per-class split (the first
  ``validation_split`` of each class's sorted files), so it needs no seed and
  ``subset="training"``/``"validation"``/``"both"`` never overlap;
* labels follow the same class order as :func:`tunekit.flow_from_directory`;
* ``class_names``, ``file_paths`` and ``labels`` survive ``map``, ``batch``,
  ``prefetch``, ``cache``... (see :class:`ImageDataset`);
* decoding is batched: shuffled indices are batched first and each batch is
  decoded to ``uint8`` by PIL's shortest path (the same pixels as
  ``flow_from_directory``), two batches in flight (one for images under
  64x64 pixels, whose decode holds the GIL); the cast to float,
  ``rescale`` and the labels are applied to whole batches
  (``decoder="tf"`` decodes one image at a time with TF's ops instead);
* with ``cache=True`` the images are decoded once (by PIL, exactly as
  ``flow_from_directory`` decodes them) into an on-disk array, and every epoch
  and every later trial or run only gathers rows of that array.

TensorFlow is imported inside the function, never at module import.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tunekit._errors import ImageDirectoryError, InvalidParameterError
from tunekit._seeding import derived_seed
from tunekit._validation import (
    check_in,
    check_positive_int,
    did_you_mean,
    invalid_parameter,
    received,
)
from tunekit.data._checks import check_target_size
from tunekit.data._decode_cache import (
    CACHE_CHECKS,
    COLOR_MODES,
    INTERPOLATIONS,
    decode_image,
    decode_images,
    load_decoded,
    report_unreadable,
    resolve_cache_dir,
)
from tunekit.data._directory import (
    IMAGE_EXTENSIONS,
    DirectoryListing,
    list_image_directory,
    list_image_tree,
)

__all__ = ["ImageDatasetInfo", "image_dataset_from_directory"]

LABEL_MODES = ("int", "categorical", "binary", None)
#: Batches decoded concurrently by the PIL path (``None``: tf.data AUTOTUNE)
#: for images of at least ``SMALL_IMAGE_PIXELS`` pixels. Pillow releases the
#: GIL while it decodes and resizes, so two batches overlap for large images
#: (96x96: 1.5x the throughput of one); on 2 cores AUTOTUNE measured about
#: half the throughput of 2 (benchmarks/loaders.py).
PIL_PARALLEL_BATCHES: int | None = 2
#: Below this many target pixels, one batch is decoded at a time: a small
#: image's decode is mostly Python holding the GIL, and each file's syscalls
#: and ``zlib`` call hand the GIL to the other decoding thread, so a second
#: batch in flight only adds thread switches (28x28 MNIST: ~1.25x the
#: throughput of 2 batches in flight; 32x32 and 48x48 resized: ~1.3x).
SMALL_IMAGE_PIXELS = 64 * 64
_TF_INTERPOLATIONS = {
    "nearest": "nearest",
    "bilinear": "bilinear",
    "bicubic": "bicubic",
    "lanczos": "lanczos3",
    "box": "area",
    "hamming": "bilinear",
}
# Dataset methods whose result keeps the metadata of the dataset they came from.
_TRANSFORMS = (
    "apply",
    "batch",
    "cache",
    "concatenate",
    "filter",
    "ignore_errors",
    "map",
    "padded_batch",
    "prefetch",
    "rebatch",
    "repeat",
    "shard",
    "shuffle",
    "skip",
    "take",
    "unbatch",
    "with_options",
)


class ShuffleOrder:
    """A shuffled dataset's order: epoch ``e`` is drawn from ``(key, e)``.

    The key and the count of epochs served live in two TensorFlow variables
    that the dataset reads (and counts up) once per iteration, so the order
    of an epoch depends on the seed and on how many epochs this dataset
    served, never on TensorFlow's global seed or op counter. A seeded search
    restarts the count at every trial (:meth:`restart`), so a trial's orders
    are the same in a resumed search as in one never stopped.

    Parameters
    ----------
    seed : int or None
        The loader's seed; ``None`` draws a key from NumPy's global generator.
    """

    def __init__(self, seed: int | None) -> None:
        import tensorflow as tf

        self.seed = seed
        key = seed if seed is not None else int(np.random.randint(0, 2**31 - 1))
        with tf.init_scope():
            self._key = tf.Variable(int(key), dtype=tf.int64, trainable=False)
            self._epoch = tf.Variable(0, dtype=tf.int64, trainable=False)

    def epoch_seeds(self) -> Any:
        """A one-element dataset: this iteration's ``[key, epoch]``, counted."""
        import tensorflow as tf

        def draw(_: Any) -> Any:
            epoch = self._epoch.assign_add(1, read_value=True) - 1
            return tf.stack([self._key.read_value(), epoch])

        return tf.data.Dataset.from_tensors(tf.constant(0, tf.int64)).map(draw)

    def restart(self, trial_seed: int) -> Callable[[], None]:
        """Start over at epoch 0 with the key drawn from ``(seed, trial_seed)``.

        Returns the function that puts the key and the count back.
        """
        saved = (int(self._key.numpy()), int(self._epoch.numpy()))
        self._key.assign(derived_seed(trial_seed, "order", self.seed))
        self._epoch.assign(0)

        def restore() -> None:
            self._key.assign(saved[0])
            self._epoch.assign(saved[1])

        return restore


@dataclass(frozen=True)
class ImageDatasetInfo:
    """What a dataset from :func:`image_dataset_from_directory` was built from.

    Attributes
    ----------
    class_names : list of str or None
        Class names in label order (the same order as ``flow_from_directory``);
        ``None`` for ``labels=None``.
    file_paths : list of str
        Image files in listing order (class by class, sorted), never shuffled.
    labels : numpy.ndarray of int32
        Class index of each file in ``file_paths``.
    skipped_files : dict of str to str
        Files left out because they could not be decoded (cached path only).
    cache_path : str or None
        The decode cache entry used, if any.
    order : ShuffleOrder or None
        The shuffled order's key and epoch count (``None`` without shuffle).
    """

    class_names: list[str] | None
    file_paths: list[str]
    labels: np.ndarray
    skipped_files: dict[str, str] = field(default_factory=dict)
    cache_path: str | None = None
    order: ShuffleOrder | None = field(default=None, repr=False, compare=False)

    @property
    def class_indices(self) -> dict[str, int]:
        """Class name -> label, as ``DirectoryIterator.class_indices``."""
        return {name: i for i, name in enumerate(self.class_names or ())}


_DATASET_CLASS: type | None = None


def _image_dataset_class() -> type:
    """Build (once) a ``tf.data.Dataset`` subclass that keeps its metadata."""
    global _DATASET_CLASS
    if _DATASET_CLASS is not None:
        return _DATASET_CLASS
    from tensorflow.python.data.ops import dataset_ops

    base = dataset_ops.UnaryUnchangedStructureDataset

    class ImageDataset(base):  # type: ignore[misc, valid-type]
        """A ``tf.data.Dataset`` whose ``class_names`` survive transformations.

        It wraps the dataset's own graph (no extra op); transformations such
        as ``map``, ``batch`` or ``prefetch`` return an ``ImageDataset`` with
        the same ``info``, so ``ds.map(f).prefetch(2).class_names`` works.
        """

        def __init__(self, dataset: Any, info: ImageDatasetInfo) -> None:
            self.info = info
            super().__init__(dataset, dataset._variant_tensor)

        @property
        def class_names(self) -> list[str] | None:
            return self.info.class_names

        @property
        def class_indices(self) -> dict[str, int]:
            return self.info.class_indices

        @property
        def file_paths(self) -> list[str]:
            return self.info.file_paths

        @property
        def labels(self) -> np.ndarray:
            return self.info.labels

        @property
        def skipped_files(self) -> dict[str, str]:
            return self.info.skipped_files

        def _restart_order(self, trial_seed: int) -> Callable[[], None]:
            """Restart the shuffled order for a trial (see ``ShuffleOrder``)."""
            if self.info.order is None:
                return lambda: None
            return self.info.order.restart(trial_seed)

    def keep_info(name: str) -> Any:
        original = getattr(base, name)

        def method(self: Any, *args: Any, **kwargs: Any) -> Any:
            result = original(self, *args, **kwargs)
            if isinstance(result, dataset_ops.DatasetV2) and not isinstance(
                result, ImageDataset
            ):
                return ImageDataset(result, self.info)
            return result

        method.__name__ = name
        method.__doc__ = original.__doc__
        return method

    for name in _TRANSFORMS:
        if hasattr(base, name):
            setattr(ImageDataset, name, keep_info(name))
    _DATASET_CLASS = ImageDataset
    return ImageDataset


_KERAS_INTERPOLATIONS = {"area": "box", "lanczos3": "lanczos"}


def _keras_error(message: str, name: str, value: Any) -> InvalidParameterError:
    return InvalidParameterError(f"{message} {received(name, value)}")


def _check_labels(labels: Any, class_names: Any) -> None:
    if (isinstance(labels, str) and labels == "inferred") or labels is None:
        if labels is None and class_names is not None:
            raise _keras_error(
                "When `labels=None` (no labels), argument `class_names` cannot be "
                'specified; you can only pass `class_names` if `labels="inferred"`.',
                "class_names",
                class_names,
            )
        return
    if not isinstance(labels, (list, tuple, np.ndarray)):
        raise _keras_error(
            "`labels` argument should be a list/tuple of integer labels, of the "
            "same size as the number of image files in the target directory, "
            '"inferred" (one subfolder per class) or None (images only).',
            "labels",
            labels,
        )
    if class_names:
        raise _keras_error(
            'You can only pass `class_names` if `labels="inferred"`: with '
            "explicit labels the class names are the sorted labels.",
            "class_names",
            class_names,
        )
    values = np.asarray(labels)
    if values.ndim != 1 or not (
        (np.issubdtype(values.dtype, np.integer) and (values >= 0).all())
        or not len(values)
    ):
        raise _keras_error(
            "`labels` argument should be a list/tuple of non-negative integer "
            "labels, one per image file.",
            "labels",
            labels if len(values) <= 10 else f"{list(values[:10])}...",
        )


def _check_split_args(validation_split: Any, subset: Any) -> None:
    split = 0.0 if validation_split is None else validation_split
    if isinstance(split, bool) or not isinstance(split, (int, float)):
        raise _keras_error(
            "`validation_split` must be between 0 and 1 (a float such as 0.2).",
            "validation_split",
            validation_split,
        )
    if split and not 0 < split < 1:
        raise _keras_error(
            "`validation_split` must be between 0 and 1, e.g. 0.2.",
            "validation_split",
            validation_split,
        )
    if split < 0:
        raise _keras_error(
            "`validation_split` must be between 0 and 1, e.g. 0.2.",
            "validation_split",
            validation_split,
        )
    if subset not in ("training", "validation", "both", None):
        hint = did_you_mean(str(subset), ["training", "validation", "both"])
        raise _keras_error(
            '`subset` must be either "training", "validation" or "both".' + hint,
            "subset",
            subset,
        )
    if bool(split) != (subset is not None):
        raise _keras_error(
            "If `subset` is set, `validation_split` must be set, and inversely "
            "(e.g. validation_split=0.2, subset='both').",
            "subset" if subset is not None else "validation_split",
            subset if subset is not None else validation_split,
        )


def _validate(
    *,
    labels: Any,
    label_mode: Any,
    class_names: Any,
    color_mode: Any,
    batch_size: Any,
    image_size: Any,
    validation_split: Any,
    subset: Any,
    interpolation: Any,
    crop_to_aspect_ratio: Any,
    pad_to_aspect_ratio: Any,
    data_format: Any,
    format: Any,
    on_error: Any,
    cache: Any,
    cache_check: Any,
    seed: Any,
    decoder: Any,
) -> tuple[tuple[int, int], str, str]:
    """Every argument checked before the folder is read (Keras 3's messages)."""
    import keras

    _check_labels(labels, class_names)
    if label_mode not in LABEL_MODES:
        hint = did_you_mean(str(label_mode), [m for m in LABEL_MODES if m])
        raise _keras_error(
            '`label_mode` argument must be one of "int", "categorical", "binary", '
            "or None." + hint,
            "label_mode",
            label_mode,
        )
    check_in("color_mode", color_mode, list(COLOR_MODES))
    if batch_size is not None:
        check_positive_int("batch_size", batch_size)
    if isinstance(image_size, (int, np.integer)) and not isinstance(image_size, bool):
        image_size = (int(image_size), int(image_size))
    size = check_target_size("image_size", image_size)
    _check_split_args(validation_split, subset)
    if not isinstance(interpolation, str):
        raise invalid_parameter("interpolation", interpolation, "a string")
    name = interpolation.lower()
    name = _KERAS_INTERPOLATIONS.get(name, name)
    check_in("interpolation", name, list(INTERPOLATIONS))
    if crop_to_aspect_ratio and pad_to_aspect_ratio:
        raise invalid_parameter(
            "pad_to_aspect_ratio",
            pad_to_aspect_ratio,
            "False when crop_to_aspect_ratio=True",
            "Only one of `crop_to_aspect_ratio` or `pad_to_aspect_ratio` can be True.",
        )
    fmt = check_in(
        "data_format",
        data_format or keras.config.image_data_format(),
        ["channels_last", "channels_first"],
    )
    if format == "grain":
        raise invalid_parameter(
            "format",
            format,
            '"tf": tunekit returns a tf.data.Dataset',
            "For a TensorFlow-free loader use tunekit.flow_from_directory (a "
            "PyDataset on every backend) or keras.utils."
            'image_dataset_from_directory(..., format="grain").',
        )
    if format != "tf":
        raise _keras_error(
            '`format` should be either "tf" or "grain".', "format", format
        )
    check_in("on_error", on_error, ["warn", "raise"])
    check_in("decoder", decoder, ["pil", "tf"])
    check_in("cache_check", cache_check, list(CACHE_CHECKS))
    resolve_cache_dir(cache)
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise invalid_parameter("seed", seed, "an integer or None")
    return size, name, fmt


def image_dataset_from_directory(
    directory: str | os.PathLike[str],
    labels: str | Sequence[int] | None = "inferred",
    label_mode: str | None = "int",
    class_names: Sequence[str] | None = None,
    color_mode: str = "rgb",
    batch_size: int | None = 32,
    image_size: int | tuple[int, int] = (256, 256),
    shuffle: bool = True,
    seed: int | None = None,
    validation_split: float | None = None,
    subset: str | None = None,
    interpolation: str = "bilinear",
    follow_links: bool = False,
    crop_to_aspect_ratio: bool = False,
    pad_to_aspect_ratio: bool = False,
    data_format: str | None = None,
    format: str = "tf",
    verbose: bool = True,
    *,
    rescale: float | None = None,
    cache: bool | str | os.PathLike[str] = False,
    cache_check: str = "mtime",
    on_error: str = "warn",
    prefetch: bool = True,
    decoder: str = "pil",
) -> Any:
    """A ``tf.data`` loader for a folder of images, Keras 3's arguments.

    Every argument of ``keras.utils.image_dataset_from_directory`` plus
    ``rescale``, ``cache``, ``cache_check``, ``on_error``, ``prefetch`` and
    ``decoder``; the differences (a stratified, seed-free split; labels in
    ``flow_from_directory``'s class order; metadata that survives ``map``)
    are listed in the module docstring and in docs/data.md.

    Parameters
    ----------
    directory : str or path-like
        With ``labels="inferred"``: one subfolder per class. Otherwise any
        folder: every image below it is used (flat folders too).
    labels : "inferred", None or list of int, default="inferred"
        Class per subfolder; ``None``: images only (``class_names`` is
        ``None``); a list: one integer label per image file, in the sorted
        walk order of the files (``file_paths``), class names the sorted
        labels as strings.
    label_mode : {"int", "categorical", "binary", None}, default="int"
        ``int32`` labels, one-hot ``float32``, ``float32`` of shape ``(n, 1)``
        (exactly two classes), or no labels.
    class_names : list of str, default=None
        With ``labels="inferred"``: class subfolders in label order (a subset
        of them is allowed); default all, sorted by name.
    color_mode : {"rgb", "grayscale", "rgba"}, default="rgb"
    batch_size : int or None, default=32
        ``None`` yields single images.
    image_size : int or (int, int), default=(256, 256)
        ``(height, width)``; images of another size are resized.
    shuffle : bool, default=True
        A new order every epoch (reproducible across runs with ``seed``).
    seed : int, default=None
    validation_split : float, default=None
        Fraction of each class kept for validation (first files in sorted order).
    subset : {"training", "validation", "both"}, default=None
        Required with ``validation_split``; ``"both"`` returns ``(train, val)``.
    interpolation : str, default="bilinear"
        ``"nearest"``, ``"bilinear"``, ``"bicubic"``, ``"lanczos"`` (or
        ``"lanczos3"``), ``"box"`` (or ``"area"``), ``"hamming"``.
    follow_links : bool, default=False
    crop_to_aspect_ratio : bool, default=False
        Center-crop to the target aspect ratio before resizing.
    pad_to_aspect_ratio : bool, default=False
        Pad with black, centered, to the target aspect ratio before resizing.
    data_format : {"channels_last", "channels_first"}, default=None
        Defaults to ``keras.config.image_data_format()``.
    format : {"tf"}, default="tf"
        ``"grain"`` is refused with a pointer to the TensorFlow-free loader.
    verbose : bool, default=True
        Print how many files were found and used.
    rescale : float, default=None
        Multiply pixels by this (e.g. ``1/255``); by default ``float32`` 0..255.
    cache : bool or path, default=False
        Decode once into an on-disk array (``True``: the default cache folder),
        read back by every later epoch, trial and run. Unreadable files are
        then found up front and reported in one warning.
    cache_check : {"mtime", "content"}, default="mtime"
        Match a cache entry to the files by size and modification time, or
        by a hash of their bytes (trees copied with preserved times).
    on_error : {"warn", "raise"}, default="warn"
        Unreadable images: skipped with one warning listing them (recorded in
        ``skipped_files``; with ``cache``, all found before training), or an
        error.
    prefetch : bool, default=True
        End the pipeline with ``prefetch(AUTOTUNE)``.
    decoder : {"pil", "tf"}, default="pil"
        Without ``cache``: decode whole batches with PIL inside the pipeline
        (1-2 batches in flight; the same pixels as ``flow_from_directory``),
        or one image at a time with TF's ops (``tf.io.decode_image``). Both
        skip unreadable files with one warning and record them.

    Returns
    -------
    ImageDataset or (ImageDataset, ImageDataset)
        A ``tf.data.Dataset`` with ``class_names``, ``class_indices``,
        ``file_paths``, ``labels`` that survive ``map``/``batch``/``prefetch``.

    Examples
    --------
    >>> import os, tempfile
    >>> from PIL import Image
    >>> root = tempfile.mkdtemp()
    >>> for cls in ["10", "2"]:
    ...     os.makedirs(os.path.join(root, cls))
    ...     for i in range(5):
    ...         Image.new("L", (6, 6), i * 40).save(os.path.join(root, cls, f"{i}.png"))
    >>> train, val = image_dataset_from_directory(root, image_size=(6, 6),
    ...     color_mode="grayscale", batch_size=4, validation_split=0.2,
    ...     subset="both", seed=1, verbose=False)
    >>> train.class_names, len(train.file_paths), len(val.file_paths)
    (['10', '2'], 8, 2)
    >>> train.map(lambda x, y: (x / 255, y)).prefetch(1).class_names
    ['10', '2']
    >>> x, y = next(iter(val))
    >>> tuple(x.shape), y.numpy().tolist()
    ((2, 6, 6, 1), [0, 1])
    >>> images = image_dataset_from_directory(root, labels=None, image_size=6,
    ...     batch_size=None, shuffle=False, verbose=False)
    >>> images.class_names is None, tuple(next(iter(images)).shape)
    (True, (6, 6, 3))
    """
    size, interpolation, data_format = _validate(
        labels=labels,
        label_mode=label_mode,
        class_names=class_names,
        color_mode=color_mode,
        batch_size=batch_size,
        image_size=image_size,
        validation_split=validation_split,
        subset=subset,
        interpolation=interpolation,
        crop_to_aspect_ratio=crop_to_aspect_ratio,
        pad_to_aspect_ratio=pad_to_aspect_ratio,
        data_format=data_format,
        format=format,
        on_error=on_error,
        cache=cache,
        cache_check=cache_check,
        seed=seed,
        decoder=decoder,
    )
    if labels is None:
        label_mode = None
    listing, names = _list_all(directory, labels, class_names, follow_links)
    if label_mode == "binary" and len(names or ()) != 2:
        raise ImageDirectoryError(
            "label_mode='binary' needs exactly 2 class folders (there must be "
            f"exactly 2 class_names), but {listing.directory!r} has "
            f"{len(names or ())}: {list(names or ())}. Use label_mode='int' or "
            "'categorical'. Received: label_mode='binary'"
        )
    if verbose:
        tail = "" if names is None else f" belonging to {len(names)} classes"
        print(f"Found {len(listing.filenames)} files{tail}.")
    split = float(validation_split or 0.0)
    subsets = ["training", "validation"] if subset == "both" else [subset]
    aspect: bool | str = "pad" if pad_to_aspect_ratio else bool(crop_to_aspect_ratio)
    datasets = []
    for part in subsets:
        part_listing = _subset(listing, split, part, grouped=labels is not None)
        if not part_listing.filenames:
            what = f"{part} images" if part else "images"
            raise ImageDirectoryError(
                f"No {what} found in directory {listing.directory!r} (allowed "
                f"formats: {', '.join(IMAGE_EXTENSIONS)})"
                + (f" with validation_split={validation_split}" if part else "")
                + f". Received: directory={listing.directory!r}"
            )
        if verbose and part:
            print(f"Using {len(part_listing.filenames)} files for {part}.")
        datasets.append(
            _build(
                part_listing,
                class_names=names,
                size=size,
                color_mode=color_mode,
                label_mode=label_mode,
                batch_size=batch_size,
                shuffle=shuffle if part != "validation" or subset != "both" else False,
                seed=seed,
                interpolation=interpolation,
                aspect=aspect,
                data_format=data_format,
                rescale=rescale,
                cache=cache,
                cache_check=cache_check,
                on_error=on_error,
                prefetch=prefetch,
                decoder=decoder,
            )
        )
    return tuple(datasets) if subset == "both" else datasets[0]


def _list_all(
    directory: str | os.PathLike[str],
    labels: Any,
    class_names: Sequence[str] | None,
    follow_links: bool,
) -> tuple[DirectoryListing, list[str] | None]:
    """The full listing and the class names (``None`` without labels)."""
    if isinstance(labels, str):  # "inferred"
        if class_names is not None:
            _check_class_names(directory, class_names)
        listing = list_image_directory(
            directory, classes=class_names, follow_links=follow_links
        )
        return listing, list(listing.class_names)
    listing = list_image_tree(directory, follow_links=follow_links)
    if not listing.filenames:
        raise ImageDirectoryError(
            f"No images found in directory {listing.directory!r} (allowed "
            f"formats: {', '.join(IMAGE_EXTENSIONS)}). "
            f"Received: directory={listing.directory!r}"
        )
    if labels is None:
        return listing, None
    values = np.asarray(labels, dtype=np.int64)
    if len(values) != len(listing.filenames):
        raise InvalidParameterError(
            "Expected the lengths of `labels` to match the number of files in "
            f"the target directory. len(labels) is {len(values)} while we found "
            f"{len(listing.filenames)} files in directory {listing.directory!r} "
            "(in sorted walk order: see `dataset.file_paths`). "
            f"Received: labels of length {len(values)}"
        )
    names = [str(v) for v in sorted(set(values.tolist()))]
    listing = DirectoryListing(
        directory=listing.directory,
        class_names=tuple(names),
        filenames=listing.filenames,
        labels=values.astype(np.int32),
        ignored_files=listing.ignored_files,
    )
    return listing, names


def _check_class_names(
    directory: str | os.PathLike[str], class_names: Sequence[str]
) -> None:
    folder = os.fspath(directory)
    if not os.path.isdir(folder):
        return  # list_image_directory reports the missing folder
    if isinstance(class_names, str) or not all(isinstance(c, str) for c in class_names):
        raise invalid_parameter(
            "class_names", class_names, "a list of class subfolder names (strings)"
        )
    subdirs = sorted(
        n
        for n in os.listdir(folder)
        if os.path.isdir(os.path.join(folder, n)) and not n.startswith(".")
    )
    unknown = [c for c in class_names if c not in subdirs]
    if unknown:
        raise ImageDirectoryError(
            "The `class_names` passed did not match the names of the "
            f"subdirectories of the target directory: {unknown} are not "
            f"subfolders of {folder!r}. Expected: {subdirs} (or a subset of it). "
            f"Received: class_names={list(class_names)!r}"
        )


def _subset(
    listing: DirectoryListing, split: float, subset: str | None, *, grouped: bool
) -> DirectoryListing:
    """Keras 2's split: the first ``split`` of each class's files is validation.

    Without labels (``grouped=False``) all files form one group.
    """
    if subset is None or not split:
        return listing
    labels = listing.labels if grouped else np.zeros(len(listing.labels), np.int32)
    keep = np.zeros(len(labels), dtype=bool)
    for value in np.unique(labels):
        rows = np.flatnonzero(labels == value)
        cut = int(split * len(rows))
        keep[rows[:cut] if subset == "validation" else rows[cut:]] = True
    return DirectoryListing(
        directory=listing.directory,
        class_names=listing.class_names,
        filenames=tuple(f for f, k in zip(listing.filenames, keep) if k),
        labels=listing.labels[keep],
        ignored_files=listing.ignored_files,
    )


def _build(
    listing: DirectoryListing,
    *,
    class_names: list[str] | None,
    size: tuple[int, int],
    color_mode: str,
    label_mode: str | None,
    batch_size: int | None,
    shuffle: bool,
    seed: int | None,
    interpolation: str,
    aspect: bool | str,
    data_format: str,
    rescale: float | None,
    cache: Any,
    cache_check: str,
    on_error: str,
    prefetch: bool,
    decoder: str,
) -> Any:
    import tensorflow as tf

    paths = listing.filepaths
    labels = listing.labels
    skipped: dict[str, str] = {}
    cache_path = None
    num_classes = len(class_names or ())
    scale = None if rescale is None else float(rescale)
    order = ShuffleOrder(seed) if shuffle else None

    def finish(x: Any, y: Any) -> Any:
        """Float cast, rescale, layout and labels, on a whole batch at once."""
        x = tf.cast(x, tf.float32)
        if scale is not None:
            x = x * scale
        if data_format == "channels_first":
            x = tf.transpose(x, [0, 3, 1, 2] if x.shape.rank == 4 else [2, 0, 1])
        if label_mode is None:
            return x
        if label_mode == "categorical":
            y = tf.one_hot(y, num_classes, dtype=tf.float32)
        elif label_mode == "binary":
            y = tf.expand_dims(tf.cast(y, tf.float32), -1)
        return x, y

    if resolve_cache_dir(cache) is not None:
        images, labels, paths, skipped, cache_path = _decoded(
            listing, size, color_mode, interpolation, aspect, cache, cache_check,
            on_error,
        )  # fmt: skip
        ds = _from_array(images, labels, batch_size, order, finish)
    elif decoder == "pil":
        ds = _from_files_pil(
            paths, labels, size, color_mode, interpolation, aspect, batch_size,
            order, on_error, skipped, finish,
        )  # fmt: skip
    else:
        ds = _from_files_tf(
            paths, labels, size, color_mode, interpolation, aspect, batch_size,
            order, on_error, skipped,
        )  # fmt: skip
        ds = ds.map(finish, num_parallel_calls=tf.data.AUTOTUNE)
    if prefetch:
        ds = ds.prefetch(tf.data.AUTOTUNE)
    info = ImageDatasetInfo(
        class_names=None if class_names is None else list(class_names),
        file_paths=list(paths),
        labels=np.asarray(labels, dtype=np.int32),
        skipped_files=skipped,
        cache_path=cache_path,
        order=order,
    )
    return _image_dataset_class()(ds, info)


def _decoded(
    listing: DirectoryListing,
    size: tuple[int, int],
    color_mode: str,
    interpolation: str,
    crop: bool | str,
    cache: Any,
    cache_check: str,
    on_error: str,
) -> tuple[np.ndarray, np.ndarray, list[str], dict[str, str], str | None]:
    paths = listing.filepaths
    decoded = load_decoded(
        paths,
        target_size=size,
        color_mode=color_mode,
        interpolation=interpolation,
        keep_aspect_ratio=crop,
        cache=cache,
        cache_check=cache_check,
    )
    images, labels = decoded.images, listing.labels
    skipped: dict[str, str] = {}
    if decoded.errors:
        skipped = {paths[i]: why for i, why in decoded.errors.items()}
        report_unreadable(skipped, on_error, total=len(paths))
        keep = np.ones(len(paths), dtype=bool)
        keep[list(decoded.errors)] = False
        images, labels = images[keep], labels[keep]
        paths = [p for p, k in zip(paths, keep) if k]
    if not len(paths):
        raise ImageDirectoryError(
            f"No readable image in {listing.directory!r}. "
            f"Received: directory={listing.directory!r}"
        )
    path = str(decoded.path) if decoded.path else None
    return np.ascontiguousarray(images), labels, paths, skipped, path


def _from_array(
    images: np.ndarray,
    labels: np.ndarray,
    batch_size: int | None,
    order: ShuffleOrder | None,
    finish: Any,
) -> Any:
    """Batches gathered from the decoded array in one map: no decoding at all."""
    import tensorflow as tf

    all_images = tf.constant(images)
    all_labels = tf.constant(labels.astype(np.int32))
    ds = _index_batches(len(images), batch_size, order)
    ds = ds.map(lambda i: finish(tf.gather(all_images, i), tf.gather(all_labels, i)))
    return ds.unbatch() if batch_size is None else ds


def _index_batches(n: int, batch_size: int | None, order: ShuffleOrder | None) -> Any:
    """Batches of sample indices, a new permutation every epoch.

    The permutation is drawn in one op per epoch (``stateless_shuffle`` keyed
    by ``order``'s ``[key, epoch]``), so no per-image ``shuffle`` buffer is
    paid for; ``batch_size=None`` uses batches of 64 (unbatched later).
    """
    import tensorflow as tf

    size = batch_size or 64
    full, rest = divmod(n, size)

    def split(perm: Any) -> Any:
        batches = tf.data.Dataset.from_tensor_slices(
            tf.reshape(perm[: full * size], (full, size))
        )
        if rest:
            batches = batches.concatenate(
                tf.data.Dataset.from_tensors(perm[full * size :])
            )
        return batches

    if order is None:
        return split(tf.range(n, dtype=tf.int64))
    shuffled = order.epoch_seeds().flat_map(lambda s: split(_permutation(n, s)))
    # flat_map hides the length; Keras then warns "ran out of data" after
    # every first epoch and cannot show a progress total. The length is known.
    return shuffled.apply(tf.data.experimental.assert_cardinality(full + bool(rest)))


def _permutation(n: int, seed: Any) -> Any:
    """The permutation of ``range(n)`` keyed by ``seed`` (``[key, epoch]``)."""
    import tensorflow as tf

    return tf.random.experimental.stateless_shuffle(
        tf.range(n, dtype=tf.int64), seed=seed
    )


def _from_files_pil(
    paths: Sequence[str],
    labels: np.ndarray,
    size: tuple[int, int],
    color_mode: str,
    interpolation: str,
    crop: bool | str,
    batch_size: int | None,
    order: ShuffleOrder | None,
    on_error: str,
    skipped: dict[str, str],
    finish: Any,
) -> Any:
    """Whole batches decoded by PIL in ``tf.numpy_function``, 1 or 2 in flight.

    Indices are shuffled and batched first, so the per-element cost of
    ``tf.data`` is paid per batch; unreadable files are dropped from their
    batch, recorded in ``skipped`` and reported in one warning.
    """
    import tensorflow as tf

    paths = list(paths)
    labels = labels.astype(np.int32)
    channels = COLOR_MODES[color_mode][1]
    warned: list[bool] = []

    def decode_batch(idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        images, errors = decode_images(
            [paths[i] for i in idx.tolist()], size, color_mode, interpolation, crop
        )
        if not errors:
            return images, labels[idx]
        bad = {paths[idx[i]]: why for i, why in errors.items()}
        if on_error == "raise":
            report_unreadable(bad, "raise")
        skipped.update(bad)
        if not warned:
            warned.append(True)
            report_unreadable(
                bad,
                "warn",
                note="They are dropped from their batch; further ones are added "
                "to `dataset.skipped_files` without more warnings (pass "
                "cache=True to find them all before training starts). ",
            )
        keep = np.ones(len(idx), dtype=bool)
        keep[list(errors)] = False
        return images[keep], labels[idx[keep]]

    def load(idx: Any) -> Any:
        x, y = tf.numpy_function(decode_batch, [idx], (tf.uint8, tf.int32))
        x.set_shape((None, size[0], size[1], channels))
        y.set_shape((None,))
        return finish(x, y)

    ds = _index_batches(len(paths), batch_size, order)
    calls = PIL_PARALLEL_BATCHES or tf.data.AUTOTUNE
    if size[0] * size[1] < SMALL_IMAGE_PIXELS:
        calls = 1
    ds = ds.map(load, num_parallel_calls=calls, deterministic=True)
    if batch_size is None:
        ds = ds.unbatch()
    return ds


class _SkipRecorder:
    """Find the files TF's decoder failed on, for the warning and ``skipped_files``.

    ``ignore_errors`` drops a failing element without saying which. Each index
    is noted (in order) before decoding and again after the elements that
    decoded; with ``deterministic=True`` the indices missing in between are
    exactly the files that failed. PIL then names the reason.
    """

    def __init__(
        self,
        paths: Sequence[str],
        size: tuple[int, int],
        color_mode: str,
        on_error: str,
        skipped: dict[str, str],
    ) -> None:
        import collections
        import threading

        self._paths, self._size, self._color_mode = list(paths), size, color_mode
        self._on_error, self._skipped = on_error, skipped
        self._expected: collections.deque[int] = collections.deque()
        self._lock = threading.Lock()
        self._warned = False
        self._new: dict[str, str] = {}

    def expect(self, index: np.ndarray) -> np.ndarray:
        with self._lock:
            self._expected.append(int(index))
        return index

    def seen(self, index: np.ndarray) -> np.ndarray:
        found = int(index)
        missing: list[int] = []
        with self._lock:
            if found not in self._expected:
                return index  # a second iterator interleaved: cannot tell
            while self._expected:
                head = self._expected.popleft()
                if head == found:
                    break
                missing.append(head)
        if missing:
            self._record(missing)
        if found == len(self._paths):  # end of the epoch: one warning for all
            self._warn()
        return index

    def _record(self, missing: list[int]) -> None:
        bad = {}
        for i in missing:
            path = self._paths[i]
            try:
                decode_image(path, self._size, self._color_mode)
                why = "TensorFlow could not decode it"
            except Exception as exc:  # only to name the reason
                why = f"{type(exc).__name__}: {exc}"
            bad[path] = why
        if self._on_error == "raise":
            report_unreadable(bad, "raise")
        self._new.update({k: v for k, v in bad.items() if k not in self._skipped})
        self._skipped.update(bad)

    def _warn(self) -> None:
        if self._new and not self._warned:
            self._warned = True
            report_unreadable(
                dict(self._new),
                "warn",
                note="They are left out of every epoch; further ones are added "
                "to `dataset.skipped_files` without more warnings (pass "
                "cache=True to find them all before training starts). ",
            )
        self._new.clear()


def _from_files_tf(
    paths: Sequence[str],
    labels: np.ndarray,
    size: tuple[int, int],
    color_mode: str,
    interpolation: str,
    aspect: bool | str,
    batch_size: int | None,
    order: ShuffleOrder | None,
    on_error: str,
    skipped: dict[str, str],
) -> Any:
    """Parallel decode with TF ops, ``uint8`` per image, batched.

    Unreadable files are dropped and reported as by the PIL path (one
    warning, ``skipped_files``; ``on_error="raise"`` raises).
    """
    import tensorflow as tf

    channels = COLOR_MODES[color_mode][1]
    method = _TF_INTERPOLATIONS[interpolation]
    height, width = size
    recorder = _SkipRecorder(paths, size, color_mode, on_error, skipped)
    all_paths = tf.constant(list(paths))
    all_labels = tf.constant(labels.astype(np.int32))

    def resize(img: Any) -> Any:
        shape = tf.shape(img)
        h, w = shape[0], shape[1]
        if aspect == "pad":
            pad_h = tf.maximum(h, (w * height) // width)
            pad_w = tf.maximum(w, (h * width) // height)
            img = tf.image.pad_to_bounding_box(
                img, (pad_h - h) // 2, (pad_w - w) // 2, pad_h, pad_w
            )
        elif aspect:
            crop_h = tf.minimum(h, (w * height) // width)
            crop_w = tf.minimum(w, (h * width) // height)
            img = tf.image.crop_to_bounding_box(
                img, (h - crop_h) // 2, (w - crop_w) // 2, crop_h, crop_w
            )
        out = tf.image.resize(img, size, method=method)
        return tf.cast(tf.clip_by_value(tf.round(out), 0, 255), tf.uint8)

    def note(index: Any, callback: Any) -> Any:
        out = tf.numpy_function(callback, [index], tf.int64, stateful=True)
        out.set_shape(())
        return out

    n = len(paths)

    def decode(index: Any) -> Any:
        img = tf.io.decode_image(
            tf.io.read_file(tf.gather(all_paths, index)),
            channels=channels,
            expand_animations=False,
        )
        shape = tf.shape(img)
        same = tf.logical_and(tf.equal(shape[0], height), tf.equal(shape[1], width))
        img = tf.cond(same, lambda: img, lambda: resize(img))
        img.set_shape((height, width, channels))
        return img

    def load(index: Any) -> Any:
        # index n is the end-of-epoch marker: it flushes the recorder, then goes
        img = tf.cond(
            index < n,
            lambda: decode(tf.minimum(index, n - 1)),
            lambda: tf.zeros((height, width, channels), tf.uint8),
        )
        return img, tf.gather(all_labels, tf.minimum(index, n - 1)), index

    if order is None:
        ds = tf.data.Dataset.range(n)
    else:
        ds = order.epoch_seeds().flat_map(
            lambda s: tf.data.Dataset.from_tensor_slices(_permutation(n, s))
        )
    ds = ds.concatenate(tf.data.Dataset.from_tensors(tf.constant(n, tf.int64)))
    ds = ds.map(lambda i: note(i, recorder.expect))
    ds = ds.map(load, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    ds = ds.ignore_errors()
    ds = ds.map(lambda x, y, i: (x, y, note(i, recorder.seen)))
    ds = ds.filter(lambda x, y, i: i < n)
    ds = ds.map(lambda x, y, i: (x, y))
    if batch_size is not None:
        ds = ds.batch(batch_size)
    return ds
