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
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tunekit._errors import ImageDirectoryError
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


@dataclass(frozen=True)
class ImageDatasetInfo:
    """What a dataset from :func:`image_dataset_from_directory` was built from.

    Attributes
    ----------
    class_names : list of str
        Class names in label order (the same order as ``flow_from_directory``).
    file_paths : list of str
        Image files in listing order (class by class, sorted), never shuffled.
    labels : numpy.ndarray of int32
        Class index of each file in ``file_paths``.
    skipped_files : dict of str to str
        Files left out because they could not be decoded (cached path only).
    cache_path : str or None
        The decode cache entry used, if any.
    """

    class_names: list[str]
    file_paths: list[str]
    labels: np.ndarray
    skipped_files: dict[str, str] = field(default_factory=dict)
    cache_path: str | None = None

    @property
    def class_indices(self) -> dict[str, int]:
        """Class name -> label, as ``DirectoryIterator.class_indices``."""
        return {name: i for i, name in enumerate(self.class_names)}


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
        def class_names(self) -> list[str]:
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


def _validate(
    labels: Any,
    label_mode: Any,
    color_mode: Any,
    batch_size: Any,
    image_size: Any,
    validation_split: Any,
    subset: Any,
    interpolation: Any,
    on_error: Any,
    cache: Any,
    seed: Any,
) -> tuple[int, int]:
    from tunekit.data._image_iterator import check_split, check_target_size

    if labels not in ("inferred", None):
        raise invalid_parameter(
            "labels",
            labels,
            "'inferred' (one subfolder per class) or None",
            "For explicit label lists, build a dataset with "
            "tf.data.Dataset.from_tensor_slices((paths, labels)).",
        )
    check_in("label_mode", label_mode, list(LABEL_MODES))
    check_in("color_mode", color_mode, list(COLOR_MODES))
    if batch_size is not None:
        check_positive_int("batch_size", batch_size)
    size = check_target_size("image_size", image_size)
    check_split(validation_split or 0.0, subset, ["training", "validation", "both"])
    check_in("interpolation", interpolation, list(INTERPOLATIONS))
    check_in("on_error", on_error, ["warn", "raise"])
    resolve_cache_dir(cache)
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise invalid_parameter("seed", seed, "an integer or None")
    return size


def image_dataset_from_directory(
    directory: str | os.PathLike[str],
    labels: str | None = "inferred",
    label_mode: str | None = "int",
    class_names: Sequence[str] | None = None,
    color_mode: str = "rgb",
    batch_size: int | None = 32,
    image_size: tuple[int, int] = (256, 256),
    shuffle: bool = True,
    seed: int | None = None,
    validation_split: float | None = None,
    subset: str | None = None,
    interpolation: str = "bilinear",
    follow_links: bool = False,
    crop_to_aspect_ratio: bool = False,
    *,
    rescale: float | None = None,
    cache: bool | str | os.PathLike[str] = False,
    on_error: str = "warn",
    prefetch: bool = True,
    decoder: str = "pil",
    verbose: bool = True,
) -> Any:
    """A ``tf.data`` loader for a class-per-subfolder image folder.

    Same arguments as ``keras.utils.image_dataset_from_directory`` plus
    ``rescale``, ``cache`` and ``on_error``; differences are listed in the
    module docstring: stratified, seed-free split; labels in
    ``flow_from_directory``'s class order; metadata that survives ``map``.

    Parameters
    ----------
    directory : str or path-like
        Folder with one subfolder per class.
    labels : {"inferred", None}, default="inferred"
        ``None`` yields images only.
    label_mode : {"int", "categorical", "binary", None}, default="int"
        ``int32`` labels, one-hot ``float32``, ``float32`` of shape ``(n, 1)``
        (exactly two classes), or no labels.
    class_names : list of str, default=None
        Class subfolders in label order; default all, sorted by name.
    color_mode : {"rgb", "grayscale", "rgba"}, default="rgb"
    batch_size : int or None, default=32
        ``None`` yields single images.
    image_size : (int, int), default=(256, 256)
        ``(height, width)``; images of another size are resized.
    shuffle : bool, default=True
        A new order every epoch (reproducible across runs with ``seed``).
    seed : int, default=None
    validation_split : float, default=None
        Fraction of each class kept for validation (first files in sorted order).
    subset : {"training", "validation", "both"}, default=None
        ``"both"`` returns ``(train, validation)``.
    interpolation : str, default="bilinear"
    follow_links : bool, default=False
    crop_to_aspect_ratio : bool, default=False
        Center-crop to the target aspect ratio before resizing.
    rescale : float, default=None
        Multiply pixels by this (e.g. ``1/255``); by default ``float32`` 0..255.
    cache : bool or path, default=False
        Decode once into an on-disk array (``True``: the default cache folder),
        read back by every later epoch, trial and run. Unreadable files are
        then found up front and reported in one warning.
    on_error : {"warn", "raise"}, default="warn"
        Unreadable images: skipped with one warning listing them (with
        ``cache``, all found before training), or an error.
    prefetch : bool, default=True
        End the pipeline with ``prefetch(AUTOTUNE)``.
    decoder : {"pil", "tf"}, default="pil"
        Without ``cache``: decode whole batches with PIL inside the pipeline
        (1-2 batches in flight; the same pixels as ``flow_from_directory``;
        unreadable files dropped with one warning), or one image at a time
        with TF's ops (``tf.io.decode_image``; unreadable files dropped by
        ``ignore_errors`` without a list).
    verbose : bool, default=True
        Print how many files were found and used.

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
    """
    size = _validate(
        labels,
        label_mode,
        color_mode,
        batch_size,
        image_size,
        validation_split,
        subset,
        interpolation,
        on_error,
        cache,
        seed,
    )
    check_in("decoder", decoder, ["pil", "tf"])
    if labels is None:
        label_mode = None
    split = float(validation_split or 0.0)
    subsets = ["training", "validation"] if subset == "both" else [subset]
    datasets = []
    for part in subsets:
        listing = _list(directory, class_names, follow_links, split, part)
        if label_mode == "binary" and len(listing.class_names) != 2:
            raise ImageDirectoryError(
                "label_mode='binary' needs exactly 2 class folders, but "
                f"{listing.directory!r} has {len(listing.class_names)}: "
                f"{list(listing.class_names)}. Use label_mode='int' or "
                "'categorical'. Received: label_mode='binary'"
            )
        if verbose:
            _report(listing, part)
        datasets.append(
            _build(
                listing,
                size=size,
                color_mode=color_mode,
                label_mode=label_mode,
                batch_size=batch_size,
                shuffle=shuffle,
                seed=seed,
                interpolation=interpolation,
                crop=crop_to_aspect_ratio,
                rescale=rescale,
                cache=cache,
                on_error=on_error,
                prefetch=prefetch,
                decoder=decoder,
            )
        )
    return tuple(datasets) if subset == "both" else datasets[0]


def _list(
    directory: str | os.PathLike[str],
    class_names: Sequence[str] | None,
    follow_links: bool,
    split: float,
    subset: str | None,
) -> DirectoryListing:
    from tunekit.data._image_iterator import split_fractions

    return list_image_directory(
        directory,
        classes=class_names,
        follow_links=follow_links,
        split=split_fractions(split, subset),
    )


def _report(listing: DirectoryListing, subset: str | None) -> None:
    n, k = len(listing.filenames), len(listing.class_names)
    what = f" for {subset}" if subset else ""
    print(f"Using {n} files belonging to {k} classes{what}.")


def _build(
    listing: DirectoryListing,
    *,
    size: tuple[int, int],
    color_mode: str,
    label_mode: str | None,
    batch_size: int | None,
    shuffle: bool,
    seed: int | None,
    interpolation: str,
    crop: bool,
    rescale: float | None,
    cache: Any,
    on_error: str,
    prefetch: bool,
    decoder: str,
) -> Any:
    import tensorflow as tf

    paths = listing.filepaths
    labels = listing.labels
    skipped: dict[str, str] = {}
    cache_path = None
    num_classes = len(listing.class_names)
    scale = None if rescale is None else float(rescale)

    def finish(x: Any, y: Any) -> Any:
        """Float cast, rescale and label encoding, on a whole batch at once."""
        x = tf.cast(x, tf.float32)
        if scale is not None:
            x = x * scale
        if label_mode is None:
            return x
        if label_mode == "categorical":
            y = tf.one_hot(y, num_classes, dtype=tf.float32)
        elif label_mode == "binary":
            y = tf.expand_dims(tf.cast(y, tf.float32), -1)
        return x, y

    if resolve_cache_dir(cache) is not None:
        images, labels, paths, skipped, cache_path = _decoded(
            listing, size, color_mode, interpolation, crop, cache, on_error
        )
        ds = _from_array(images, labels, batch_size, shuffle, seed, finish)
    elif decoder == "pil":
        ds = _from_files_pil(
            paths, labels, size, color_mode, interpolation, crop, batch_size,
            shuffle, seed, on_error, skipped, finish,
        )  # fmt: skip
    else:
        ds = _from_files_tf(
            paths, labels, size, color_mode, interpolation, crop, batch_size,
            shuffle, seed,
        )  # fmt: skip
        ds = ds.map(finish, num_parallel_calls=tf.data.AUTOTUNE)
    if prefetch:
        ds = ds.prefetch(tf.data.AUTOTUNE)
    info = ImageDatasetInfo(
        class_names=list(listing.class_names),
        file_paths=list(paths),
        labels=np.asarray(labels, dtype=np.int32),
        skipped_files=skipped,
        cache_path=cache_path,
    )
    return _image_dataset_class()(ds, info)


def _decoded(
    listing: DirectoryListing,
    size: tuple[int, int],
    color_mode: str,
    interpolation: str,
    crop: bool,
    cache: Any,
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
    shuffle: bool,
    seed: int | None,
    finish: Any,
) -> Any:
    """Batches gathered from the decoded array in one map: no decoding at all."""
    import tensorflow as tf

    all_images = tf.constant(images)
    all_labels = tf.constant(labels.astype(np.int32))
    ds = _index_batches(len(images), batch_size, shuffle, seed)
    ds = ds.map(lambda i: finish(tf.gather(all_images, i), tf.gather(all_labels, i)))
    return ds.unbatch() if batch_size is None else ds


def _index_batches(
    n: int, batch_size: int | None, shuffle: bool, seed: int | None
) -> Any:
    """Batches of sample indices, a new permutation every epoch.

    The permutation is drawn in one op per epoch (``stateless_shuffle`` keyed
    by ``Dataset.random``, which yields new values every iteration and the
    same sequence for the same ``seed``), so no per-image ``shuffle`` buffer
    is paid for; ``batch_size=None`` uses batches of 64 (unbatched later).
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

    if not shuffle:
        return split(tf.range(n, dtype=tf.int64))
    epoch_seeds = tf.data.Dataset.random(
        seed=seed, rerandomize_each_iteration=True
    ).take(1)
    return epoch_seeds.flat_map(
        lambda s: split(
            tf.random.experimental.stateless_shuffle(
                tf.range(n, dtype=tf.int64),
                seed=tf.stack([s, tf.constant(0, tf.int64)]),
            )
        )
    )


def _from_files_pil(
    paths: Sequence[str],
    labels: np.ndarray,
    size: tuple[int, int],
    color_mode: str,
    interpolation: str,
    crop: bool,
    batch_size: int | None,
    shuffle: bool,
    seed: int | None,
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

    ds = _index_batches(len(paths), batch_size, shuffle, seed)
    calls = PIL_PARALLEL_BATCHES or tf.data.AUTOTUNE
    if size[0] * size[1] < SMALL_IMAGE_PIXELS:
        calls = 1
    ds = ds.map(load, num_parallel_calls=calls, deterministic=True)
    if batch_size is None:
        ds = ds.unbatch()
    return ds


def _from_files_tf(
    paths: Sequence[str],
    labels: np.ndarray,
    size: tuple[int, int],
    color_mode: str,
    interpolation: str,
    crop: bool,
    batch_size: int | None,
    shuffle: bool,
    seed: int | None,
) -> Any:
    """Parallel decode with TF ops, ``uint8`` per image, batched."""
    import tensorflow as tf

    channels = COLOR_MODES[color_mode][1]
    method = _TF_INTERPOLATIONS[interpolation]
    height, width = size

    def resize(img: Any) -> Any:
        if crop:
            shape = tf.shape(img)
            h, w = shape[0], shape[1]
            crop_h = tf.minimum(h, (w * height) // width)
            crop_w = tf.minimum(w, (h * width) // height)
            img = tf.image.crop_to_bounding_box(
                img, (h - crop_h) // 2, (w - crop_w) // 2, crop_h, crop_w
            )
        out = tf.image.resize(img, size, method=method)
        return tf.cast(tf.clip_by_value(tf.round(out), 0, 255), tf.uint8)

    def load(path: Any, label: Any) -> Any:
        img = tf.io.decode_image(
            tf.io.read_file(path), channels=channels, expand_animations=False
        )
        shape = tf.shape(img)
        same = tf.logical_and(tf.equal(shape[0], height), tf.equal(shape[1], width))
        img = tf.cond(same, lambda: img, lambda: resize(img))
        img.set_shape((height, width, channels))
        return img, label

    ds = tf.data.Dataset.from_tensor_slices((list(paths), labels.astype(np.int32)))
    if shuffle:
        ds = ds.shuffle(len(paths), seed=seed, reshuffle_each_iteration=True)
    ds = ds.map(load, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    ds = ds.ignore_errors()
    if batch_size is not None:
        ds = ds.batch(batch_size)
    return ds
