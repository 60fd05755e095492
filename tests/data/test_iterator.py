"""The Keras 2 Iterator base class: index bookkeeping on any backend."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from tunekit import Iterator


class _Indices(Iterator):
    def _get_batches_of_transformed_samples(self, index_array):
        return np.asarray(index_array)


def test_empty_iterator_yields_empty_index_batches():
    for batch_size in (0, 32):
        it = Iterator(0, batch_size, False, 0)
        assert next(it.index_generator).size == 0
        assert len(it) == 0


def test_next_and_getitem_share_the_epoch_permutation():
    it = _Indices(7, 3, shuffle=True, seed=4)
    by_index = np.concatenate([it[i] for i in range(len(it))])
    assert sorted(by_index.tolist()) == list(range(7))
    by_next = np.concatenate([next(it) for _ in range(3)])
    np.testing.assert_array_equal(by_next, by_index)
    next_epoch = np.concatenate([next(it) for _ in range(3)])
    assert sorted(next_epoch.tolist()) == list(range(7))
    assert next_epoch.tolist() != by_index.tolist()


def test_base_class_needs_a_batch_method_and_pickles():
    with pytest.raises(NotImplementedError, match="_get_batches_of_transformed"):
        Iterator(4, 2, False, None)[0]
    it = _Indices(5, 2, shuffle=False, seed=None)
    next(it)
    clone = pickle.loads(pickle.dumps(it))
    assert clone[2].tolist() == [4] and next(clone).tolist() == [0, 1]
    with pytest.raises(ValueError, match="seed"):
        _Indices(5, 2, shuffle=False, seed="x")
