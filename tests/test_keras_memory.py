"""tunekit._keras_memory: a finished fit's graphs and custom gradients are released."""

from __future__ import annotations

import numpy as np
import pytest

from tunekit._keras_memory import (
    custom_gradient_names,
    forget_custom_gradients,
    release_traced_graphs,
)


def _fitted_model():
    import keras

    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    model.compile("adam", "mse")
    x = np.random.default_rng(0).normal(size=(16, 4)).astype("float32")
    model.fit(x, x[:, :2], epochs=1, verbose=0)
    return model, x


def test_release_traced_graphs_drops_the_step_functions_and_keeps_the_model():
    import keras

    model, x = _fitted_model()
    release_traced_graphs(model)
    if keras.backend.backend() == "tensorflow":
        assert model.train_function is None
    # other backends: nothing to release, nothing changed
    assert model.predict(x, verbose=0).shape == (16, 2)  # traced again on demand


def test_forget_custom_gradients_unregisters_only_new_ones():
    pytest.importorskip("tensorflow")
    import keras

    if keras.backend.backend() != "tensorflow":
        pytest.skip("the registry is TensorFlow's")
    before = custom_gradient_names()
    _fitted_model()
    forget_custom_gradients(before)
    assert custom_gradient_names() <= before


def test_frozen_heap_skips_old_objects_and_still_collects_new_cycles():
    import gc
    import weakref

    from tunekit._keras_memory import frozen_heap

    class Node:
        pass

    assert gc.get_freeze_count() == 0
    with frozen_heap():
        frozen = gc.get_freeze_count()
        assert frozen > 0  # everything that existed before is left alone
        cycle = Node()
        cycle.self = cycle
        alive = weakref.ref(cycle)
        del cycle
        gc.collect()
        assert alive() is None  # a cycle made inside is still collected
    assert gc.get_freeze_count() == 0  # and the heap is thawed on exit


def test_frozen_heap_leaves_someone_elses_freeze_alone():
    import gc

    from tunekit._keras_memory import frozen_heap

    gc.freeze()
    try:
        before = gc.get_freeze_count()
        with frozen_heap():
            pass
        assert gc.get_freeze_count() == before
    finally:
        gc.unfreeze()
