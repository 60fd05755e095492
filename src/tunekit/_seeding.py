"""Seeding that restores what it found: the estimators' fits and the tuners' trials.

``keras.utils.set_random_seed`` seeds Python's ``random``, NumPy's global
generator, TensorFlow's global seed (when TensorFlow is loaded) and Keras' own
seed, for the whole process. tunekit seeds a fit or a trial only inside a
context that saves every one of those first and puts it back on exit, so a
seeded fit or search never changes the randomness of the code that runs after
it (the SciKeras leak).
"""

from __future__ import annotations

import contextlib
import hashlib
import random
import sys
from collections.abc import Iterator
from typing import Any

import numpy as np

__all__ = ["derived_seed", "fresh_session", "restored_random_state", "seed_all"]


def tf_module() -> Any:
    """TensorFlow if it is already imported (never import it just for this)."""
    return sys.modules.get("tensorflow")


def _tf_global_seed() -> Any:
    if tf_module() is None:
        return None
    try:
        from tensorflow.python.eager import context

        return context.global_seed()
    except Exception:  # pragma: no cover - private API moved
        return None


def keras_global_attribute(name: str) -> Any:
    """A value of Keras' global state (``global_random_seed``...), or None."""
    try:
        from keras.src.backend.common import global_state
    except ImportError:  # pragma: no cover - private API moved
        return None
    return global_state.get_global_attribute(name)


def set_keras_global_attribute(name: str, value: Any) -> None:
    """Set a value of Keras' global state; a no-op if the private API moved."""
    with contextlib.suppress(ImportError):
        from keras.src.backend.common import global_state

        global_state.set_global_attribute(name, value)


def derived_seed(seed: int, *parts: Any) -> int:
    """A stable 31-bit seed for ``parts`` (trial id, execution) under ``seed``.

    Examples
    --------
    >>> from tunekit._seeding import derived_seed
    >>> derived_seed(7, "0001", 0) == derived_seed(7, "0001", 0)
    True
    >>> derived_seed(7, "0001", 0) == derived_seed(7, "0002", 0)
    False
    """
    text = ":".join(str(part) for part in (int(seed), *parts))
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "big") >> 1


def seed_all(seed: int) -> None:
    """Seed Python, NumPy, TensorFlow or torch and Keras, for the whole process."""
    import keras

    keras.utils.set_random_seed(int(seed))


@contextlib.contextmanager
def restored_random_state(*, active: bool = True) -> Iterator[None]:
    """Save every global random state on entry and put it back on exit.

    Covers Python's ``random``, NumPy's global generator, TensorFlow's global
    seed (when loaded), torch's generator (on the torch backend) and Keras'
    global seed and seed generator. With ``active=False`` it does nothing.
    """
    if not active:
        yield
        return
    import keras

    keras_seed = keras_global_attribute("global_random_seed")
    python_state = random.getstate()
    numpy_state = np.random.get_state()
    tf_seed = _tf_global_seed()
    torch_state = None
    if keras.backend.backend() == "torch":
        import torch

        torch_state = torch.random.get_rng_state()
    try:
        yield
    finally:
        random.setstate(python_state)
        np.random.set_state(numpy_state)
        tf = tf_module()
        if tf is not None:
            tf.random.set_seed(tf_seed)
        if torch_state is not None:
            import torch

            torch.random.set_rng_state(torch_state)
        set_keras_global_attribute("global_random_seed", keras_seed)
        set_keras_global_attribute("global_seed_generator", None)


@contextlib.contextmanager
def fresh_session(seed: int | None, *, clear: bool) -> Iterator[None]:
    """Clear Keras' session, seed every generator, restore them all afterwards.

    ``clear=True`` runs ``keras.backend.clear_session(free_memory=True)`` (a
    full ``gc.collect()``: Keras models are full of reference cycles) and
    keeps Keras' global seed across it. With ``seed=None`` nothing is seeded
    and no random state is touched.
    """
    import keras

    if clear:
        keras_seed = keras_global_attribute("global_random_seed")
        keras.backend.clear_session(free_memory=True)
        set_keras_global_attribute("global_random_seed", keras_seed)
    if seed is None:
        yield
        return
    with restored_random_state():
        seed_all(seed)
        yield
