"""The ``tf.data`` pipelines behind :func:`tunekit.image_dataset_from_directory`.

Three ways to the same batches of ``uint8`` images and ``int32`` labels,
each ending in the caller's ``finish`` (float cast, rescale, layout, labels):

* :func:`from_array`: rows gathered from an array decoded once
  (:func:`decoded`, the on-disk cache of ``cache=``);
* :func:`from_files_pil`: whole batches decoded by PIL in
  ``tf.numpy_function``, 1 or 2 in flight (``decoder="pil"``);
* :func:`from_files_tf`: one image at a time with TF's ops
  (``decoder="tf"``; ``finish`` is mapped by the caller).

Shuffled indices are batched first (a new permutation every epoch, keyed by
the dataset's :class:`~tunekit.data._tf_data.ShuffleOrder`). TensorFlow is
imported inside the functions, never at module import.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from tunekit._errors import ImageDirectoryError
from tunekit.data._decode_cache import (
    COLOR_MODES,
    decode_image,
    decode_images,
    load_decoded,
    report_unreadable,
)
from tunekit.data._directory import DirectoryListing

if TYPE_CHECKING:
    from tunekit.data._tf_data import ShuffleOrder

__all__ = [
    "PIL_PARALLEL_BATCHES",
    "SMALL_IMAGE_PIXELS",
    "decoded",
    "from_array",
    "from_files_pil",
    "from_files_tf",
]

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


def decoded(
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


def from_array(
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


def from_files_pil(
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


def from_files_tf(
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
