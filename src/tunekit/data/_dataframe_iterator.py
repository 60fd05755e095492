"""Keras 2's ``DataFrameIterator`` (``ImageDataGenerator.flow_from_dataframe``).

Image files named in a table (a ``pandas.DataFrame``) with their targets, in
every Keras 2 ``class_mode``: one-hot (multi-label too), binary, sparse, raw
column values, several outputs, the images themselves, or none. Decoding,
augmentation and unreadable files are handled as in
:class:`tunekit.DirectoryIterator`. pandas is needed only to build the table.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from tunekit._errors import ImageDirectoryError
from tunekit._validation import invalid_parameter
from tunekit._warnings import warn
from tunekit.data._decode_cache import resolve_cache_dir
from tunekit.data._directory import IMAGE_EXTENSIONS
from tunekit.data._files_iterator import FilesIterator

if TYPE_CHECKING:  # annotations only: the generator imports this module
    from tunekit.data._generator import ImageDataGenerator

__all__ = ["DataFrameIterator", "validate_filename"]

DATAFRAME_CLASS_MODES = (
    "binary",
    "categorical",
    "input",
    "multi_output",
    "raw",
    "sparse",
    None,
)
_NO_CLASSES = ("input", "multi_output", "raw", None)


def validate_filename(filename: str, white_list_formats: Sequence[str]) -> bool:
    """Whether ``filename`` is an existing file with an image extension.

    Examples
    --------
    >>> validate_filename("/nonexistent.png", ("png",))
    False
    """
    return filename.lower().endswith(tuple(white_list_formats)) and os.path.isfile(
        filename
    )


def _column(df: Any, name: Any, argname: str) -> Any:
    columns = list(df.columns)
    if name not in columns:
        from tunekit._validation import did_you_mean

        raise invalid_parameter(
            argname,
            name,
            f"a column of the dataframe (columns: {columns})",
            did_you_mean(str(name), [str(c) for c in columns]),
        )
    return df[name]


def _is_numeric(column: Any) -> bool:
    try:
        from pandas.api.types import is_numeric_dtype
    except ImportError:  # pragma: no cover - a dataframe without pandas
        try:
            return bool(np.issubdtype(column.dtype, np.number))
        except TypeError:
            return False
    return bool(is_numeric_dtype(column))


class DataFrameIterator(FilesIterator):
    """Batches of images listed in a dataframe, Keras 2 semantics.

    Parameters
    ----------
    dataframe : pandas.DataFrame
        One row per image: ``x_col`` holds the file path (relative to
        ``directory``, or absolute with ``directory=None``); the target
        columns depend on ``class_mode``.
    directory : str, default=None
    image_data_generator : ImageDataGenerator, default=None
        Augmentation and normalization (none if ``None``).
    x_col : str, default="filename"
    y_col : str or list of str, default="class"
        ``"categorical"``: class names (a string, or a list/tuple for
        multi-label rows); ``"binary"``/``"sparse"``: class names as strings;
        ``"raw"``: any column(s), returned as they are; ``"multi_output"``: a
        list of columns, one output each.
    weight_col : str, default=None
        A numeric column of sample weights: batches become ``(x, y, w)``.
    target_size, color_mode, batch_size, shuffle, seed, data_format,
    save_to_dir, save_prefix, save_format, interpolation, keep_aspect_ratio,
    dtype
        As :class:`tunekit.DirectoryIterator`.
    classes : list of str, default=None
        Classes to use, in label order (rows of other classes are dropped);
        default: every class found, sorted.
    class_mode : {"categorical", "binary", "sparse", "raw", "multi_output", \
"input", None}, default="categorical"
    subset : {"training", "validation"}, default=None
        With the generator's ``validation_split``: validation is the first
        ``validation_split`` of the (filtered) rows, training the rest.
    validate_filenames : bool, default=True
        Drop (with one warning) rows whose file is missing or not an image.
    cache, cache_check, on_error, verbose
        As :class:`tunekit.DirectoryIterator`.

    Attributes
    ----------
    filenames : list of str
        ``x_col`` values kept, in dataframe order.
    filepaths : list of str
    classes : list
        Class index (or list of indices, multi-label) of each row, for the
        class modes that have classes.
    class_indices : dict of str to int
        Empty for ``"raw"``, ``"multi_output"``, ``"input"`` and ``None``.
    labels : list or numpy.ndarray
        ``classes``, or the raw targets for ``"raw"`` / ``"multi_output"``.
    samples, n : int

    Examples
    --------
    >>> import os, tempfile
    >>> import pandas as pd
    >>> from PIL import Image
    >>> root = tempfile.mkdtemp()
    >>> for i in range(4):
    ...     Image.new("L", (6, 6), i * 60).save(os.path.join(root, f"{i}.png"))
    >>> df = pd.DataFrame({"filename": [f"{i}.png" for i in range(4)],
    ...                    "class": ["cat", "dog", "cat", "dog"]})
    >>> it = ImageDataGenerator(rescale=1 / 255).flow_from_dataframe(
    ...     df, root, target_size=(6, 6), color_mode="grayscale",
    ...     class_mode="sparse", batch_size=2, shuffle=False)
    Found 4 validated image filenames belonging to 2 classes.
    >>> it.class_indices, it[0][1].tolist()
    ({'cat': 0, 'dog': 1}, [0.0, 1.0])
    """

    allowed_class_modes = set(DATAFRAME_CLASS_MODES)

    def __init__(
        self,
        dataframe: Any,
        directory: str | os.PathLike[str] | None = None,
        image_data_generator: ImageDataGenerator | None = None,
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
        data_format: str | None = None,
        save_to_dir: str | None = None,
        save_prefix: str = "",
        save_format: str = "png",
        subset: str | None = None,
        interpolation: str = "nearest",
        keep_aspect_ratio: bool = False,
        dtype: str | None = None,
        validate_filenames: bool = True,
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
        if not hasattr(dataframe, "columns") or not hasattr(dataframe, "iloc"):
            raise invalid_parameter(
                "dataframe",
                type(dataframe).__name__,
                "a pandas.DataFrame with a file name column",
            )
        df = dataframe.copy()  # never modify the caller's table
        self.directory = os.fspath(directory) if directory is not None else ""
        self.x_col, self.y_col, self.weight_col = x_col, y_col, weight_col
        self._check_params(df, x_col, y_col, weight_col, classes)
        if validate_filenames:
            df = self._filter_valid_filepaths(df, x_col)
        self.class_indices: dict[str, int] = {}
        if self.class_mode not in _NO_CLASSES:
            df, class_names = self._filter_classes(df, y_col, classes)
            self.class_indices = {c: i for i, c in enumerate(class_names)}
        if self.split:
            start = int(self.split[0] * len(df))
            stop = int(self.split[1] * len(df))
            df = df.iloc[start:stop]
        self.classes: Any = (
            self.get_classes(df, y_col) if self.class_mode not in _NO_CLASSES else None
        )
        self.filenames = [str(f) for f in df[x_col].tolist()]
        self._sample_weight = df[weight_col].values if weight_col else None
        self._targets: Any = None
        if self.class_mode == "multi_output":
            self._targets = [np.array(df[col].tolist()) for col in y_col]  # type: ignore[union-attr]
        elif self.class_mode == "raw":
            self._targets = df[y_col].values
        self._filepaths = [os.path.join(self.directory, f) for f in self.filenames]
        if resolve_cache_dir(cache) is not None and self._filepaths:
            keep = self._load_cache(cache)
            if not keep.all():
                self._keep_rows(keep)
        self.samples = len(self.filenames)
        self.num_classes = len(self.class_indices)
        super().__init__(self.samples, batch_size, shuffle, seed, **kwargs)
        if verbose:
            checked = "validated" if validate_filenames else "non-validated"
            tail = (
                ""
                if self.class_mode in _NO_CLASSES
                else f" belonging to {self.num_classes} classes"
            )
            print(f"Found {self.samples} {checked} image filenames{tail}.")
        if image_data_generator is not None:
            image_data_generator._warn_if_not_fit()

    # -- checks ---------------------------------------------------------------
    def _check_params(
        self,
        df: Any,
        x_col: str,
        y_col: Any,
        weight_col: str | None,
        classes: Sequence[str] | None,
    ) -> None:
        mode = self.class_mode
        if mode == "multi_output" and not isinstance(y_col, list):
            raise invalid_parameter(
                "y_col",
                y_col,
                'a list of columns when class_mode="multi_output"',
                f"If class_mode={mode!r}, y_col must be a list. Received "
                f"{type(y_col).__name__}.",
            )
        files = _column(df, x_col, "x_col")
        bad = [v for v in files.tolist() if not isinstance(v, str)]
        if bad:
            raise invalid_parameter(
                "x_col",
                x_col,
                "a column whose values are all strings (file paths)",
                f"All values in column x_col={x_col} must be strings; found "
                f"e.g. {bad[0]!r}.",
            )
        if mode not in ("input", None):
            for col in y_col if isinstance(y_col, list) else [y_col]:
                _column(df, col, "y_col")
        if mode in ("binary", "sparse"):
            bad = [v for v in df[y_col].tolist() if not isinstance(v, str)]
            if bad:
                raise invalid_parameter(
                    "y_col",
                    y_col,
                    f"a column of class names as strings when class_mode={mode!r}",
                    f"If class_mode={mode!r}, y_col={y_col!r} column values must "
                    f"be strings; found e.g. {bad[0]!r}.",
                )
        if mode == "binary":
            count = len(set(classes)) if classes else df[y_col].nunique()
            if count != 2:
                raise invalid_parameter(
                    "class_mode",
                    mode,
                    f"used with exactly 2 classes, not {count}",
                    'If class_mode="binary" there must be 2 classes. Use '
                    '"categorical" or "sparse" for more.',
                )
        if mode == "categorical":
            bad = [
                v for v in df[y_col].tolist() if not isinstance(v, (str, list, tuple))
            ]
            if bad:
                raise invalid_parameter(
                    "y_col",
                    y_col,
                    "a column of class names (a string, or a list/tuple of "
                    'strings for multi-label rows) when class_mode="categorical"',
                    f"Found e.g. {bad[0]!r}.",
                )
        if classes and mode in _NO_CLASSES:
            warn(
                f"`classes` will be ignored given the class_mode={mode!r}.", UserWarning
            )
        if weight_col is not None:
            weights = _column(df, weight_col, "weight_col")
            if not _is_numeric(weights):
                raise invalid_parameter(
                    "weight_col",
                    weight_col,
                    f"a numeric column (its dtype is {weights.dtype})",
                    f"Column weight_col={weight_col} must be numeric.",
                )

    def _filter_valid_filepaths(self, df: Any, x_col: str) -> Any:
        """Keep the rows whose file exists and has an image extension."""
        paths = [os.path.join(self.directory, f) for f in df[x_col].tolist()]
        mask = np.array(
            [validate_filename(p, self.white_list_formats) for p in paths], dtype=bool
        )
        invalid = int((~mask).sum())
        if invalid and invalid == len(mask):
            raise self._no_valid_file(x_col, paths)
        if invalid:
            shown = [f for f, ok in zip(df[x_col].tolist(), mask) if not ok][:5]
            warn(
                f'Found {invalid} invalid image filename(s) in x_col="{x_col}" '
                f"(missing, or not {'/'.join(IMAGE_EXTENSIONS)}): {shown}. These "
                "filename(s) will be ignored.",
                UserWarning,
            )
        return df[mask]

    def _no_valid_file(self, x_col: str, paths: list[str]) -> ImageDirectoryError:
        """The error for a dataframe none of whose files can be loaded."""
        where = (
            f"under directory={self.directory!r}"
            if self.directory
            else f"(directory=None: absolute paths, or relative to {os.getcwd()!r})"
        )
        shown = paths[:3] + (["..."] if len(paths) > 3 else [])
        return ImageDirectoryError(
            f"None of the {len(paths)} file(s) named in column x_col={x_col!r} "
            f"is an existing image file {where} (missing, or not "
            f"{'/'.join(IMAGE_EXTENSIONS)}): e.g. {shown}. Check `directory` "
            f"(the x_col paths are joined to it; pass directory=None for "
            "absolute paths) and that x_col names the file column. Received: "
            f"directory={self.directory or None!r}, x_col={x_col!r}"
        )

    @staticmethod
    def _filter_classes(
        df: Any, y_col: str, classes: Sequence[str] | None
    ) -> tuple[Any, list[str]]:
        df = df.copy()
        if classes:
            wanted = list(dict.fromkeys(classes))

            def keep_known(labels: Any) -> Any:
                if isinstance(labels, (list, tuple)):
                    return [c for c in labels if c in wanted] or None
                return labels if labels in wanted else None

            df[y_col] = df[y_col].apply(keep_known)
            return df.dropna(subset=[y_col]), wanted
        found: set[Any] = set()
        for value in df[y_col]:
            if isinstance(value, (list, tuple)):
                found.update(value)
            else:
                found.add(value)
        return df.dropna(subset=[y_col]), sorted(found)

    def get_classes(self, df: Any, y_col: str) -> list[Any]:
        """Class index (or list of indices) of every row of ``df``."""
        out: list[Any] = []
        for label in df[y_col]:
            if isinstance(label, (list, tuple)):
                out.append([self.class_indices[c] for c in label])
            else:
                out.append(self.class_indices[label])
        return out

    def _keep_rows(self, keep: np.ndarray) -> None:
        """Drop the rows the decode cache found unreadable."""
        rows = np.flatnonzero(keep)
        self.filenames = [self.filenames[i] for i in rows]
        self._filepaths = [self._filepaths[i] for i in rows]
        if self.classes is not None:
            self.classes = [self.classes[i] for i in rows]
        if self._sample_weight is not None:
            self._sample_weight = self._sample_weight[rows]
        if self.class_mode == "multi_output":
            self._targets = [t[rows] for t in self._targets]
        elif self.class_mode == "raw":
            self._targets = self._targets[rows]

    # -- Keras 2 attributes -------------------------------------------------
    @property
    def labels(self) -> Any:
        """``classes``, or the raw targets for ``"raw"`` / ``"multi_output"``."""
        if self.class_mode in ("multi_output", "raw"):
            return self._targets
        return self.classes

    @property
    def sample_weight(self) -> np.ndarray | None:
        """The ``weight_col`` values, or ``None``."""
        return self._sample_weight

    def _targets_of(self, x: np.ndarray, index_array: np.ndarray) -> Any:
        if self.class_mode == "multi_output":
            return [output[index_array] for output in self._targets]
        if self.class_mode == "raw":
            return self._targets[index_array]
        if self.class_mode == "categorical":
            y = np.zeros((len(x), len(self.class_indices)), dtype=self.dtype)
            for i, row in enumerate(index_array.tolist()):
                y[i, self.classes[row]] = 1
            return y
        return super()._targets_of(x, index_array)

    def _describe(self) -> dict[str, Any]:
        info: dict[str, Any] = {"directory": self.directory or None}
        if self.class_indices:
            names = list(self.class_indices)
            info["classes"] = names if len(names) <= 10 else [*names[:10], "..."]
        info.update(super()._describe())
        info["class_mode"] = self.class_mode
        info["target_size"] = self.target_size
        if self.subset is not None:
            info["subset"] = self.subset
        return info
