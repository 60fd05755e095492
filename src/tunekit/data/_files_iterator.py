"""Iterators over image files: Keras 2's ``DirectoryIterator``, any backend.

:class:`FilesIterator` holds what every iterator that decodes image files
shares (PIL's shortest decode path, the decode cache, unreadable files,
augmentation through the generator, ``save_to_dir``, the labels of each
``class_mode``); :class:`DirectoryIterator` reads a class-per-subfolder
folder with Keras 2's class order, file order and per-class validation split.
:class:`~tunekit.DataFrameIterator` (:mod:`tunekit.data._dataframe_iterator`)
derives from :class:`FilesIterator` too. Build them with
:func:`~tunekit.flow_from_directory` or the ``ImageDataGenerator``'s
``flow_from_*`` methods (:mod:`tunekit.data._generator`).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from tunekit._errors import ImageDirectoryError
from tunekit._validation import check_in, check_positive_int, check_seed
from tunekit._warnings import warn
from tunekit.data._checks import (
    check_split,
    check_target_size,
    in_format,
    split_fractions,
)
from tunekit.data._decode_cache import (
    CACHE_CHECKS,
    COLOR_MODES,
    INTERPOLATIONS,
    decode_images,
    load_decoded,
    report_unreadable,
    resolve_cache_dir,
)
from tunekit.data._directory import DirectoryListing, list_image_directory
from tunekit.data._iterator import Iterator, save_batch

if TYPE_CHECKING:  # annotations only: the generator imports this module
    from tunekit.data._generator import ImageDataGenerator

__all__ = ["CLASS_MODES", "DirectoryIterator", "FilesIterator"]

CLASS_MODES = ("categorical", "binary", "sparse", "input", None)
ON_ERROR = ("warn", "raise")


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
        warn(
            f"Ignored {len(listing.ignored_files)} non-image files in "
            f"{listing.directory!r} ({shown}{more}); only "
            "png/jpg/jpeg/bmp/ppm/tif/tiff files are loaded.",
            UserWarning,
        )


class FilesIterator(Iterator):
    """Shared machinery of the iterators that decode image files.

    Decoding (PIL's shortest path, optional decode cache), unreadable files
    (skipped with one warning, or an error), augmentation through the
    generator, ``save_to_dir`` and the labels of each ``class_mode``.
    """

    allowed_class_modes: set[str | None] = set(CLASS_MODES)

    def _set_processing_attrs(
        self,
        image_data_generator: ImageDataGenerator | None,
        *,
        target_size: Any,
        color_mode: Any,
        class_mode: Any,
        batch_size: Any,
        seed: Any,
        data_format: Any,
        save_to_dir: Any,
        save_prefix: str,
        save_format: str,
        subset: Any,
        interpolation: Any,
        keep_aspect_ratio: bool,
        dtype: Any,
        on_error: Any,
        cache: Any,
        cache_check: Any,
    ) -> None:
        """Validate and store the decoding arguments (before any file is read)."""
        import keras

        gen = image_data_generator
        self.target_size = check_target_size("target_size", target_size)
        self.color_mode = check_in("color_mode", color_mode, list(COLOR_MODES))
        self.class_mode = check_in(
            "class_mode", class_mode, sorted(self.allowed_class_modes, key=str)
        )
        self.interpolation = check_in(
            "interpolation", interpolation, list(INTERPOLATIONS)
        )
        check_positive_int("batch_size", batch_size)
        self.on_error = check_in("on_error", on_error, list(ON_ERROR))
        self.cache_check = check_in("cache_check", cache_check, list(CACHE_CHECKS))
        check_seed(seed)
        validation_split = gen._validation_split if gen is not None else 0.0
        check_split(validation_split, subset, ["training", "validation"])
        resolve_cache_dir(cache)  # validate early
        default_format = gen.data_format if gen is not None else None
        self.data_format = check_in(
            "data_format",
            data_format or default_format or keras.config.image_data_format(),
            ["channels_last", "channels_first"],
        )
        self.image_data_generator = gen
        self.dtype = dtype or (gen.dtype if gen is not None else None)
        self.dtype = self.dtype or keras.config.floatx()
        self.subset = subset
        self.split = split_fractions(validation_split, subset)
        self.keep_aspect_ratio = bool(keep_aspect_ratio)
        self.save_to_dir, self.save_prefix = save_to_dir, save_prefix
        self.save_format = save_format
        channels = COLOR_MODES[self.color_mode][1]
        self._hwc = (*self.target_size, channels)
        self.image_shape = (
            self._hwc
            if self.data_format == "channels_last"
            else (channels, *self.target_size)
        )
        if gen is not None:
            gen._check_fitted_shape(
                in_format(self.image_shape, self.data_format, gen.data_format),
                source=f"the flow (color_mode={self.color_mode!r})",
                shown=f"color_mode={self.color_mode!r}, target_size={self.target_size}",
            )
        self.skipped_files: dict[str, str] = {}
        self._warned = False
        self._images: np.ndarray | None = None
        self._rows: np.ndarray | None = None
        self.cache_path: Path | None = None

    # -- Keras 2 attributes -------------------------------------------------
    @property
    def filepaths(self) -> list[str]:
        """Full paths of the images, in ``filenames`` order."""
        return self._filepaths

    @property
    def labels(self) -> Any:
        """Class labels of every sample (``classes``)."""
        return self.classes

    @property
    def sample_weight(self) -> np.ndarray | None:
        """Per-sample weights, or ``None``."""
        return getattr(self, "_sample_weight", None)

    # -- decode cache -------------------------------------------------------
    def _load_cache(self, cache: bool | str | os.PathLike[str]) -> np.ndarray:
        """Decode everything once through the cache; return the rows kept."""
        decoded = load_decoded(
            self._filepaths,
            target_size=self.target_size,
            color_mode=self.color_mode,
            interpolation=self.interpolation,
            keep_aspect_ratio=self.keep_aspect_ratio,
            cache=cache,
            cache_check=self.cache_check,
        )
        self.cache_path = decoded.path
        self._images = decoded.images
        keep = np.ones(len(self._filepaths), dtype=bool)
        if decoded.errors:
            bad = {self._filepaths[i]: why for i, why in decoded.errors.items()}
            report_unreadable(bad, self.on_error, total=len(keep))
            self.skipped_files.update(bad)
            self._warned = True
            keep[list(decoded.errors)] = False
        self._rows = np.flatnonzero(keep)
        return keep

    # -- batching -----------------------------------------------------------
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
            f"None of the {self.n} images can be decoded; "
            f"e.g. {next(iter(bad))}: {next(iter(bad.values()))}"
        )

    def _get_batches_of_transformed_samples(self, index_array: np.ndarray) -> Any:
        index_array = np.asarray(index_array, dtype=np.int64)
        if not len(index_array):
            x = np.zeros((0, *self.image_shape), dtype=self.dtype)
            return self._with_labels(x, index_array)
        rng = None
        gen = self.image_data_generator
        if gen is not None and gen.augments:
            rng = self._batch_rng(index_array)  # before decode drops any index
        images, index_array = self._decode(index_array)
        x = images.astype(self.dtype)
        if self.data_format == "channels_first":
            x = np.ascontiguousarray(x.transpose(0, 3, 1, 2))
        if gen is not None:
            if rng is not None:
                gen._transform_batch(x, rng)
            x = gen._standardize(x).astype(self.dtype, copy=False)
        if self.save_to_dir:
            save_batch(self, x, index_array)
        return self._with_labels(x, index_array)

    def _targets_of(self, x: np.ndarray, index_array: np.ndarray) -> Any:
        classes = np.asarray(self.classes)
        if self.class_mode == "input":
            return x.copy()
        if self.class_mode in ("binary", "sparse"):
            return classes[index_array].astype(self.dtype)
        if self.class_mode == "categorical":
            y = np.zeros((len(x), len(self.class_indices)), dtype=self.dtype)
            y[np.arange(len(x)), classes[index_array]] = 1
            return y
        return None

    def _with_labels(self, x: np.ndarray, index_array: np.ndarray) -> Any:
        if self.class_mode is None:
            return x
        y = self._targets_of(x, index_array)
        weights = self.sample_weight
        if weights is None:
            return x, y
        return x, y, np.asarray(weights)[index_array]


class DirectoryIterator(FilesIterator):
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

    Examples
    --------
    >>> import os, tempfile
    >>> from PIL import Image
    >>> from tunekit import ImageDataGenerator
    >>> root = tempfile.mkdtemp()
    >>> for cls in ["cat", "dog"]:
    ...     os.makedirs(os.path.join(root, cls))
    ...     for i in range(3):
    ...         Image.new("L", (6, 6), i * 80).save(os.path.join(root, cls, f"{i}.png"))
    >>> it = DirectoryIterator(root, ImageDataGenerator(rescale=1 / 255),
    ...     target_size=(6, 6), color_mode="grayscale", batch_size=4, seed=0,
    ...     verbose=False)
    >>> len(it), it.class_indices, it[1][0].shape
    (2, {'cat': 0, 'dog': 1}, (2, 6, 6, 1))
    """

    allowed_class_modes = set(CLASS_MODES)

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
        cache_check: str = "mtime",
        on_error: str = "warn",
        verbose: bool = True,
        **kwargs: Any,
    ) -> None:
        self._set_processing_attrs(
            image_data_generator,
            target_size=target_size,
            color_mode=color_mode,
            class_mode=class_mode,
            batch_size=batch_size,
            seed=seed,
            data_format=data_format,
            save_to_dir=save_to_dir,
            save_prefix=save_prefix,
            save_format=save_format,
            subset=subset,
            interpolation=interpolation,
            keep_aspect_ratio=keep_aspect_ratio,
            dtype=dtype,
            on_error=on_error,
            cache=cache,
            cache_check=cache_check,
        )
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
        if resolve_cache_dir(cache) is not None:
            keep = self._load_cache(cache)
            if not keep.all():
                self.filenames = [f for f, k in zip(self.filenames, keep) if k]
                self._filepaths = [f for f, k in zip(self._filepaths, keep) if k]
                self.classes = self.classes[keep]
        if not self.filenames:
            raise ImageDirectoryError(
                f"No readable image in {self.directory!r}"
                + (f" for subset={subset!r}" if subset else "")
                + ". Received: directory="
                + repr(self.directory)
            )
        self.samples = len(self.filenames)
        super().__init__(self.samples, batch_size, shuffle, seed, **kwargs)
        if verbose:
            print(
                f"Found {self.samples} images belonging to {self.num_classes} classes."
            )
        if image_data_generator is not None:
            image_data_generator._warn_if_not_fit()

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

    def _describe(self) -> dict[str, Any]:
        names = self.class_names
        shown = names if len(names) <= 10 else [*names[:10], "..."]
        info: dict[str, Any] = {"directory": self.directory, "classes": shown}
        info.update(super()._describe())
        info["class_mode"] = self.class_mode
        info["target_size"] = self.target_size
        if self.subset is not None:
            info["subset"] = self.subset
        if self.cache_path is not None:
            info["cache_path"] = str(self.cache_path)
        return info
