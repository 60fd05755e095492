"""Keras 2's ``Iterator`` base class as a Keras 3 ``PyDataset``, any backend.

Every tunekit image iterator (:class:`~tunekit.NumpyArrayIterator`,
:class:`~tunekit.DirectoryIterator`, :class:`~tunekit.DataFrameIterator`)
derives from :class:`Iterator`, which keeps Keras 2's attributes and calling
styles (``n``, ``batch_size``, ``shuffle``, ``seed``, ``batch_index``,
``total_batches_seen``, ``index_array``, ``index_generator``, ``reset()``,
``on_epoch_end()``, ``len()``, ``it[i]``, ``next(it)`` / ``it.next()``) and
adds reproducible shuffling: epoch ``e`` is the permutation drawn from
``(seed, e)``, whichever way the batches are asked for. A seeded tunekit
search restarts that count at every trial (:meth:`Iterator._restart_order`),
so a trial's orders do not depend on what the iterator did before it.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from collections.abc import Iterator as _PyIterator
from typing import Any

import numpy as np

from tunekit._errors import BatchIndexError
from tunekit._seeding import derived_seed
from tunekit._validation import check_seed, invalid_parameter
from tunekit.data._augmentation import array_to_img
from tunekit.data._directory import IMAGE_EXTENSIONS

__all__ = ["BatchIndexError", "Iterator", "save_batch"]


def _py_dataset_base() -> type:
    from keras.utils import PyDataset

    return PyDataset


class Iterator(_py_dataset_base()):  # type: ignore[misc]
    """Base class of the image iterators: index bookkeeping and batching.

    Subclasses implement ``_get_batches_of_transformed_samples(index_array)``,
    as in Keras 2.

    Parameters
    ----------
    n : int
        Number of samples.
    batch_size : int
        Samples per batch.
    shuffle : bool
        Draw a new order every epoch.
    seed : int or None
        Makes the orders (and the augmentation) reproducible.
    **kwargs
        ``workers``, ``use_multiprocessing``, ``max_queue_size`` of
        ``keras.utils.PyDataset``.

    Examples
    --------
    >>> class Squares(Iterator):
    ...     def _get_batches_of_transformed_samples(self, index_array):
    ...         return index_array ** 2
    >>> it = Squares(5, 2, shuffle=False, seed=None)
    >>> len(it), it[2].tolist(), next(it).tolist(), next(it).tolist()
    (3, [16], [0, 1], [4, 9])
    """

    white_list_formats = IMAGE_EXTENSIONS

    def __init__(
        self, n: int, batch_size: int, shuffle: bool, seed: int | None, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        if isinstance(batch_size, bool) or not isinstance(
            batch_size, (int, np.integer)
        ):
            raise invalid_parameter("batch_size", batch_size, "a positive integer")
        self.n = int(n)
        self.batch_size = int(batch_size)
        self.seed = check_seed(seed)
        self.shuffle = bool(shuffle)
        self.batch_index = 0
        self.total_batches_seen = 0
        self.index_array: np.ndarray | None = None
        self._base_seed = (
            self.seed if self.seed is not None else int(np.random.randint(0, 2**31 - 1))
        )
        self._epoch = 0
        self.lock = threading.Lock()
        self.index_generator: _PyIterator[np.ndarray] = self._flow_index()

    # -- pickling (workers with multiprocessing) ----------------------------
    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state.pop("lock", None)
        state.pop("index_generator", None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self.lock = threading.Lock()
        self.index_generator = self._flow_index()

    # -- order ---------------------------------------------------------------
    def _set_index_array(self) -> None:
        if self.shuffle:
            rng = np.random.default_rng([self._base_seed, self._epoch])
            self.index_array = rng.permutation(self.n)
        else:
            self.index_array = np.arange(self.n)

    def _batch_rng(self, index_array: np.ndarray) -> np.random.Generator:
        """The augmentation randomness of one batch: fixed by seed, epoch, batch."""
        first = int(index_array[0]) if len(index_array) else 0
        return np.random.default_rng(
            [self._base_seed, self._epoch, first, len(index_array), 1]
        )

    def __len__(self) -> int:
        if self.batch_size <= 0:
            return 0
        return (self.n + self.batch_size - 1) // self.batch_size

    def __getitem__(self, idx: int) -> Any:
        size = len(self)
        if (
            isinstance(idx, bool)
            or not isinstance(idx, (int, np.integer))
            or not -size <= idx < size
        ):
            raise BatchIndexError(
                f"Batch index out of range: this iterator has {size} batches "
                f"(indices 0 to {size - 1}). Received: idx={idx!r}"
            )
        idx = int(idx) % size
        if self.index_array is None:
            self._set_index_array()
        assert self.index_array is not None
        self.total_batches_seen += 1
        index_array = self.index_array[
            self.batch_size * idx : self.batch_size * (idx + 1)
        ]
        return self._get_batches_of_transformed_samples(index_array)

    def on_epoch_end(self) -> None:
        """Start a new epoch: a new permutation (reproducible with ``seed``)."""
        self._epoch += 1
        self._set_index_array()

    def reset(self) -> None:
        """Restart ``next()`` iteration at the first batch."""
        self.batch_index = 0

    def _restart_order(self, trial_seed: int) -> Callable[[], None]:
        """Start over at epoch 0 with orders drawn from ``(seed, trial_seed)``.

        A seeded search calls this before each trial's ``fit``, so the
        trial's orders (and augmentations) are the same whatever the
        iterator served before: in a resumed search as in one never stopped.
        Returns the function that puts the iterator back as it was.
        """
        saved = (
            self._base_seed,
            self._epoch,
            self.index_array,
            self.batch_index,
            self.index_generator,
        )
        self._base_seed = derived_seed(trial_seed, "order", self.seed)
        self._epoch, self.index_array = 0, None
        self.index_generator = self._flow_index()

        def restore() -> None:
            (
                self._base_seed,
                self._epoch,
                self.index_array,
                self.batch_index,
                self.index_generator,
            ) = saved

        return restore

    def _flow_index(self) -> _PyIterator[np.ndarray]:
        self.reset()
        first_pass = True
        while True:
            if self.batch_index == 0:
                if not first_pass:
                    self._epoch += 1
                    self._set_index_array()
                elif self.index_array is None:
                    self._set_index_array()
                first_pass = False
            assert self.index_array is not None
            current = (self.batch_index * self.batch_size) % self.n if self.n else 0
            if self.n > current + self.batch_size:
                self.batch_index += 1
            else:
                self.batch_index = 0
            self.total_batches_seen += 1
            yield self.index_array[current : current + self.batch_size]

    def __iter__(self) -> Iterator:
        return self

    def __next__(self) -> Any:
        return self.next()

    def next(self) -> Any:
        """The next batch; cycles over the data forever (Keras 2's ``next()``)."""
        with self.lock:
            index_array = next(self.index_generator)
        return self._get_batches_of_transformed_samples(index_array)

    def _get_batches_of_transformed_samples(self, index_array: np.ndarray) -> Any:
        """Return the batch made of the samples ``index_array`` (subclasses)."""
        raise NotImplementedError(
            f"{type(self).__name__} must implement "
            "_get_batches_of_transformed_samples(index_array)."
        )

    def _describe(self) -> dict[str, Any]:
        return {
            "samples": self.n,
            "batch_size": self.batch_size,
            "shuffle": self.shuffle,
            "seed": self.seed,
        }

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={v!r}" for k, v in self._describe().items())
        return f"{type(self).__name__}({fields})"


def save_batch(iterator: Any, x: np.ndarray, index_array: np.ndarray) -> None:
    """Write each image of a batch to ``iterator.save_to_dir`` (Keras 2 names)."""
    os.makedirs(iterator.save_to_dir, exist_ok=True)
    for img, j in zip(x, index_array):
        pil = array_to_img(img, iterator.data_format, scale=True)
        name = f"{iterator.save_prefix}_{int(j)}_{np.random.randint(10**7)}"
        pil.save(os.path.join(iterator.save_to_dir, f"{name}.{iterator.save_format}"))
