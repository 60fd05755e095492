"""Keras 2's ``NumpyArrayIterator`` (``ImageDataGenerator.flow``), any backend.

Batches of augmented images from in-memory arrays, with the labels, sample
weights and extra inputs that travel with them, through the same
augmentation engine as the directory and dataframe iterators.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tunekit._validation import check_in, check_positive_int, invalid_parameter
from tunekit._warnings import warn
from tunekit.data._checks import check_split, in_format
from tunekit.data._iterator import Iterator, save_batch

__all__ = ["NumpyArrayIterator"]


def _split_inputs(x: Any) -> tuple[Any, list[np.ndarray]]:
    """``x`` or ``(images, extra)`` -> (images, list of extra arrays)."""
    if type(x) is tuple or type(x) is list:
        if len(x) != 2:
            raise invalid_parameter(
                "x",
                f"a {type(x).__name__} of {len(x)} items",
                "an image array, or a pair (images, extra) whose extra is an "
                "array or a list of arrays passed through unchanged",
            )
        extra = x[1]
        misc = (
            [np.asarray(a) for a in extra]
            if type(extra) is list
            else [np.asarray(extra)]
        )
        images = x[0]
        for a in misc:
            if len(images) != len(a):
                raise invalid_parameter(
                    "x",
                    f"arrays of lengths {len(images)} and {len(a)}",
                    "arrays of one length",
                    "All of the arrays in `x` should have the same length. "
                    f"Found a pair with: len(x[0]) = {len(images)}, "
                    f"len(x[?]) = {len(a)}.",
                )
        return images, misc
    return x, []


class NumpyArrayIterator(Iterator):
    """Batches of augmented images from arrays (Keras 2's ``flow``).

    A ``keras.utils.PyDataset`` usable with ``model.fit`` on any backend,
    indexable (``it[i]``) and iterable forever (``next(it)``). Usually built
    with :meth:`tunekit.ImageDataGenerator.flow`.

    Parameters
    ----------
    x : array of rank 4, or tuple
        Images ``(n, h, w, c)`` (or ``(n, c, h, w)`` channels first), or a
        pair ``(images, extra)`` where ``extra`` is an array or a list of
        arrays of the same length passed through unchanged: each batch's
        inputs are then the list ``[images, *extra]``.
    y : array, default=None
        Targets; without them batches are the inputs only.
    image_data_generator : ImageDataGenerator or None
        Augmentation and normalization (none if ``None``).
    batch_size : int, default=32
    shuffle : bool, default=False
    sample_weight : array, default=None
        Batches become ``(x, y, sample_weight)``.
    seed : int, default=None
        Makes the order and the augmentation reproducible.
    data_format : {"channels_last", "channels_first"}, default=None
        Defaults to the generator's.
    save_to_dir, save_prefix, save_format
        Write every augmented image (for inspection).
    subset : {"training", "validation"}, default=None
        With the generator's ``validation_split``: validation is the first
        ``int(n * validation_split)`` samples, training the rest (Keras 2).
    ignore_class_split : bool, default=False
        Allow a split whose two parts hold different classes.
    dtype : str, default=None
        Defaults to the generator's.

    Examples
    --------
    >>> from tunekit import ImageDataGenerator
    >>> x = np.zeros((5, 4, 4, 1)); y = np.arange(5)
    >>> it = ImageDataGenerator(data_format="channels_last").flow(
    ...     x, y, batch_size=2, shuffle=False)
    >>> len(it), it[2][1].tolist()
    (3, [4])
    """

    def __init__(
        self,
        x: Any,
        y: Any,
        image_data_generator: Any,
        batch_size: int = 32,
        shuffle: bool = False,
        sample_weight: Any = None,
        seed: int | None = None,
        data_format: str | None = None,
        save_to_dir: str | None = None,
        save_prefix: str = "",
        save_format: str = "png",
        subset: str | None = None,
        ignore_class_split: bool = False,
        dtype: str | None = None,
        **kwargs: Any,
    ) -> None:
        import keras

        gen = image_data_generator
        check_positive_int("batch_size", batch_size)
        self.dtype = dtype or (gen.dtype if gen is not None else None)
        self.dtype = self.dtype or keras.config.floatx()
        images, misc = _split_inputs(x)
        if y is not None and len(images) != len(y):
            raise invalid_parameter(
                "y",
                f"{len(y)} labels for {len(images)} images",
                "one label per image",
                "`x` (images tensor) and `y` (labels) should have the same "
                f"length. Found: x.shape = {np.shape(images)}, "
                f"y.shape = {np.shape(y)}.",
            )
        if sample_weight is not None and len(images) != len(sample_weight):
            raise invalid_parameter(
                "sample_weight",
                f"{len(sample_weight)} weights for {len(images)} images",
                "one weight per image",
                "`x` (images tensor) and `sample_weight` should have the same "
                f"length. Found: x.shape = {np.shape(images)}, "
                f"sample_weight.shape = {np.shape(sample_weight)}.",
            )
        validation_split = gen._validation_split if gen is not None else 0.0
        check_split(validation_split, subset, ["training", "validation"])
        self.subset = subset
        if subset is not None:
            images, misc, y, sample_weight = self._take_subset(
                images,
                misc,
                y,
                sample_weight,
                validation_split,
                ignore_class_split,
                validation=subset == "validation",
            )
        self.x = np.asarray(images, dtype=self.dtype)
        if self.x.ndim != 4:
            raise invalid_parameter(
                "x",
                f"array of shape {self.x.shape}",
                "a rank-4 array of images (samples, height, width, channels)",
                "Input data in `NumpyArrayIterator` should have rank 4.",
            )
        default_format = gen.data_format if gen is not None else None
        self.data_format = check_in(
            "data_format",
            data_format or default_format or keras.config.image_data_format(),
            ["channels_last", "channels_first"],
        )
        channel_axis = 3 if self.data_format == "channels_last" else 1
        if self.x.shape[channel_axis] not in (1, 3, 4):
            warn(
                f"NumpyArrayIterator uses the {self.data_format!r} convention "
                f"(channels on axis {channel_axis}: 1, 3 or 4 of them), but "
                f"got an array of shape {self.x.shape} "
                f"({self.x.shape[channel_axis]} channels on that axis).",
                UserWarning,
            )
        if gen is not None:
            gen._check_fitted_shape(
                in_format(self.x.shape[1:], self.data_format, gen.data_format),
                source="`x`",
                shown=f"x.shape={self.x.shape}",
            )
        self.x_misc = misc
        self.y = None if y is None else np.asarray(y)
        self.sample_weight = (
            None if sample_weight is None else np.asarray(sample_weight)
        )
        self.image_data_generator = gen
        self.save_to_dir = save_to_dir
        self.save_prefix = save_prefix
        self.save_format = save_format
        super().__init__(len(self.x), batch_size, shuffle, seed, **kwargs)
        if gen is not None:
            gen._warn_if_not_fit()

    @staticmethod
    def _take_subset(
        images: Any,
        misc: list[np.ndarray],
        y: Any,
        sample_weight: Any,
        validation_split: float,
        ignore_class_split: bool,
        validation: bool,
    ) -> tuple[Any, list[np.ndarray], Any, Any]:
        split_idx = int(len(images) * validation_split)
        if y is not None and not ignore_class_split:
            y_arr = np.asarray(y)
            head, tail = np.unique(y_arr[:split_idx]), np.unique(y_arr[split_idx:])
            if not np.array_equal(head, tail):
                raise invalid_parameter(
                    "subset",
                    "a split with classes "
                    f"{head.tolist()} (validation) and {tail.tolist()} (training)",
                    "a split where both parts hold the same classes",
                    "Training and validation subsets have different number of "
                    "classes after the split. If your arrays are sorted by "
                    "label, shuffle them first, or pass ignore_class_split=True "
                    "(e.g. for regression targets).",
                )

        if validation_split and split_idx == 0:
            warn(
                f"validation_split={validation_split} of {len(images)} samples "
                "leaves no validation sample.",
                UserWarning,
            )
        cut = slice(None, split_idx) if validation else slice(split_idx, None)

        def part(a: Any) -> Any:
            return None if a is None else a[cut]

        return (
            part(images),
            [np.asarray(part(m)) for m in misc],
            part(y),
            part(sample_weight),
        )

    def _get_batches_of_transformed_samples(self, index_array: np.ndarray) -> Any:
        index_array = np.asarray(index_array, dtype=np.int64)
        gen = self.image_data_generator
        batch_x = np.array(self.x[index_array], dtype=self.dtype)
        if gen is not None:
            if gen.augments:
                rng = self._batch_rng(index_array)
                gen._transform_batch(batch_x, rng)
            batch_x = gen._standardize(batch_x).astype(self.dtype, copy=False)
        if self.save_to_dir:
            save_batch(self, batch_x, index_array)
        misc = [m[index_array] for m in self.x_misc]
        inputs: Any = [batch_x, *misc] if misc else batch_x
        if self.y is None:
            return inputs
        if self.sample_weight is None:
            return inputs, self.y[index_array]
        return inputs, self.y[index_array], self.sample_weight[index_array]

    def _describe(self) -> dict[str, Any]:
        info: dict[str, Any] = {"x_shape": self.x.shape}
        info.update(super()._describe())
        info["labels"] = self.y is not None
        if self.x_misc:
            info["extra_inputs"] = len(self.x_misc)
        if self.sample_weight is not None:
            info["sample_weight"] = True
        if self.subset is not None:
            info["subset"] = self.subset
        return info
