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

The argument checks live in :mod:`tunekit.data._tf_data_checks`, the
decoding pipelines (cache, PIL, TF) in :mod:`tunekit.data._tf_data_builders`;
this module lists and splits the folder and wraps the result in an
``ImageDataset``. TensorFlow is imported inside the functions, never at
module import.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tunekit._constraints import declare_constraints
from tunekit._errors import ImageDirectoryError, InvalidParameterError
from tunekit._seeding import derived_seed
from tunekit._validation import invalid_parameter
from tunekit.data._decode_cache import resolve_cache_dir
from tunekit.data._directory import (
    IMAGE_EXTENSIONS,
    DirectoryListing,
    list_image_directory,
    list_image_tree,
)
from tunekit.data._tf_data_builders import (
    decoded,
    from_array,
    from_files_pil,
    from_files_tf,
)
from tunekit.data._tf_data_checks import (
    IMAGE_DATASET_CONSTRAINTS,
    check_arguments,
    validate_arguments,
)

__all__ = ["ImageDatasetInfo", "image_dataset_from_directory"]


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


@declare_constraints(IMAGE_DATASET_CONSTRAINTS)
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
    validate_arguments(locals())
    size, interpolation, data_format = check_arguments(
        labels=labels,
        label_mode=label_mode,
        class_names=class_names,
        image_size=image_size,
        validation_split=validation_split,
        subset=subset,
        interpolation=interpolation,
        crop_to_aspect_ratio=crop_to_aspect_ratio,
        pad_to_aspect_ratio=pad_to_aspect_ratio,
        data_format=data_format,
        format=format,
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
        images, labels, paths, skipped, cache_path = decoded(
            listing, size, color_mode, interpolation, aspect, cache, cache_check,
            on_error,
        )  # fmt: skip
        ds = from_array(images, labels, batch_size, order, finish)
    elif decoder == "pil":
        ds = from_files_pil(
            paths, labels, size, color_mode, interpolation, aspect, batch_size,
            order, on_error, skipped, finish,
        )  # fmt: skip
    else:
        ds = from_files_tf(
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
