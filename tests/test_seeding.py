"""tunekit._seeding: seeds derived per trial, global random state restored."""

from __future__ import annotations

import random

import numpy as np
import pytest

from tunekit._seeding import derived_seed, fresh_session, restored_random_state


def test_derived_seeds_are_stable_distinct_and_in_range():
    seeds = {derived_seed(3, trial, e) for trial in ("0", "1", "02") for e in (0, 1)}
    assert len(seeds) == 6
    assert all(0 <= s < 2**31 for s in seeds)
    assert derived_seed(3, "0", 0) == derived_seed(3, "0", 0)
    assert derived_seed(3, "0", 0) != derived_seed(4, "0", 0)


def test_restored_random_state_puts_every_generator_back():
    import keras

    random.seed(1)
    np.random.seed(1)
    expected = (random.random(), np.random.rand())
    random.seed(1)
    np.random.seed(1)
    with restored_random_state():
        keras.utils.set_random_seed(99)
        random.random()
        np.random.rand()
    assert (random.random(), np.random.rand()) == expected


def test_restored_random_state_inactive_changes_nothing():
    random.seed(2)
    with restored_random_state(active=False):
        random.seed(5)
    assert random.random() == pytest.approx(random.Random(5).random())


def test_fresh_session_makes_initialisation_reproducible():
    import keras

    def weights():
        with fresh_session(11, clear=True):
            layer = keras.layers.Dense(3)
            layer.build((None, 2))
            return keras.ops.convert_to_numpy(layer.kernel)

    np.testing.assert_array_equal(weights(), weights())
