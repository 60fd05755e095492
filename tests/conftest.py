"""Shared fixtures: real data (scikit-learn digits, image folders written here)."""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import numpy as np
import pytest


@pytest.fixture(autouse=True)
def _fresh_keras_state():
    """Seed every test and drop Keras' global state afterwards."""
    import keras

    floatx = keras.config.floatx()
    keras.utils.set_random_seed(0)
    yield
    keras.config.set_floatx(floatx)
    keras.backend.clear_session(free_memory=False)


@pytest.fixture
def plain_kerastuner(monkeypatch):
    """``keras_tuner`` as users get it, able to search without ``tensorboard``.

    KerasTuner 1.4 imports ``tensorboard`` in every trial on the TensorFlow
    backend, even without a TensorBoard callback, and TensorFlow 2.21 no longer
    installs it; tunekit's own tuners avoid the import. Tests that run a plain
    KerasTuner search (seeds, projects written without tunekit) use this.
    """
    import keras_tuner

    try:
        import tensorboard  # noqa: F401
    except ImportError:
        monkeypatch.setattr(
            keras_tuner.Tuner, "_configure_tensorboard_dir", lambda *a, **k: None
        )
    return keras_tuner


@pytest.fixture(scope="session")
def digits() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's bundled digits as images: X (1797, 8, 8, 1) in [0, 1], y int."""
    from sklearn.datasets import load_digits

    data = load_digits()
    x = (data.images / 16.0).astype("float32")[..., None]
    return x, data.target.astype("int64")


def _write_image(path: Path, size: tuple[int, int], mode: str, value: int) -> None:
    from PIL import Image

    rng = np.random.default_rng(value)
    channels = {"L": 1, "RGB": 3, "RGBA": 4}[mode]
    pixels = rng.integers(0, 256, size=(size[0], size[1], channels), dtype=np.uint8)
    # Give each class a distinct mean brightness so tiny models can learn it.
    pixels[: size[0] // 2] = np.uint8((value * 53) % 256)
    image = Image.fromarray(pixels[..., 0] if channels == 1 else pixels, mode=mode)
    image.save(path)


@pytest.fixture
def make_image_folder(tmp_path: Path) -> Callable[..., Path]:
    """Factory writing a class-per-subfolder tree of small real image files.

    ``make_image_folder({"cat": 6, "dog": 4}, size=(12, 12), mode="RGB",
    fmt="png", name="train")`` returns the root path; class ``i`` (in sorted
    order) gets images whose top half has brightness ``i * 53``.
    """

    def make(
        counts: Mapping[str, int],
        *,
        size: tuple[int, int] = (12, 12),
        mode: str = "RGB",
        fmt: str = "png",
        name: str = "images",
    ) -> Path:
        root = tmp_path / name
        for class_index, class_name in enumerate(sorted(counts)):
            folder = root / class_name
            folder.mkdir(parents=True, exist_ok=True)
            for i in range(counts[class_name]):
                _write_image(folder / f"img_{i:04d}.{fmt}", size, mode, class_index)
        return root

    return make


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """SQLAlchemy URL of a database on a real PostgreSQL server, one per session.

    The server runs on 127.0.0.1 in a temporary data directory (see
    ``tests/postgres_server.py``); with pytest-xdist each worker starts its own.
    Without PostgreSQL installed the test skips, except under CI (``CI`` set),
    where it fails: ``.ci/run`` installs Debian's ``postgresql``.
    """
    from postgres_server import PostgresNotFound, PostgresServer

    try:
        server = PostgresServer()
    except PostgresNotFound as error:
        if os.environ.get("CI"):
            pytest.fail(f"CI is set and PostgreSQL is missing: {error}", pytrace=False)
        pytest.skip(str(error))
    with server:
        yield server.url
