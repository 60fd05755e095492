"""Images per second of tunekit's image-folder loaders against Keras'.

Measured in one process, on the same folder, median of ``--repeats`` runs,
batch 128, 28x28 grayscale (MNIST PNGs). Prints one JSON object.

For every loader it records ``build_s`` (seconds to build it: listing the
folder; for cached runs also decoding and writing, or reading, the cache),
``epoch1``/``epoch2`` (images/s of one full pass, building excluded) and
``first_pass`` (images/s of building plus the first pass). Loaders:

* ``legacy_directory_iterator``: ``keras.src.legacy.preprocessing.image``'s
  ``ImageDataGenerator().flow_from_directory`` (the baseline);
* ``keras_image_dataset``: ``keras.utils.image_dataset_from_directory``;
* ``pil_loop``: a plain one-process PIL decode loop (reference);
* ``tunekit_flow``: ``tunekit.flow_from_directory`` without cache;
  ``tunekit_flow_pil_only``: the same with the direct decoder for unfiltered
  PNGs switched off (every file through PIL, as for JPEGs or filtered PNGs);
* ``tunekit_flow_cached``: the same with ``cache=`` set, second run (warm);
  ``tunekit_flow_cached_content``: the same with ``cache_check="content"``
  (the entry keyed on a hash of every file's bytes instead of size and mtime),
  whose ``build_s`` minus the ``"mtime"`` one is the cost of hashing the files;
* ``cache_key_mtime_s`` / ``cache_key_content_s``: seconds to compute the
  entry's key (``stat`` of every file, or reading and hashing every file);
* ``checksum_crc32`` / ``checksum_blake2b``: MB/s of the two candidate
  checksums over the decoded array (the cache verifies a CRC-32 on every read);
* ``tunekit_tf_data``: ``tunekit.image_dataset_from_directory`` without cache
  (``decoder="pil"``, the default; ``_decoder_tf``: ``decoder="tf"``);
* ``tunekit_tf_data_cached``: with ``cache=``, run 1 (cold) and run 2 (warm);
* ``tf_bare_array``: ``tf.data.Dataset.from_tensor_slices((x, y)).batch(128)``
  over an in-memory array, the ceiling of eager tf.data iteration here.

``--only train`` measures training instead: ``train.<setting>.<loader>``
is ``model.fit`` images/s (a small CNN, epochs 2.. of ``--train-epochs``;
the first, with tracing and warm-up, is left out) from ``flow``
(``tunekit.ImageDataGenerator(...).flow_from_directory``, a
``keras.utils.PyDataset``) and ``tf_data`` (``tunekit.image_dataset_from_directory``)
in every setting: batch 32 and 128 (``--train-batch``: one), decode cache on
(warm) or off, shuffled or not, augmented or not (``width_shift_range=0.1,
height_shift_range=0.1, rotation_range=10`` for ``flow``; for ``tf_data`` the
same kinds of transforms as Keras layers mapped over the batches,
``RandomTranslation(0.1, 0.1)`` and ``RandomRotation(10 / 360)``, nearest
fill: the same work, not the same pixels). ``ratios`` gives flow / tf_data
per setting. Runs on the backend of ``KERAS_BACKEND`` (``tf_data`` needs
TensorFlow installed, also on JAX). Both loaders of a setting run back to
back, in alternating order.

Usage::

    python benchmarks/loaders.py --per-class 1000 --repeats 3
    python benchmarks/loaders.py            # the whole 60,000-image train set
    python benchmarks/loaders.py --only cache   # just the decode-cache figures
    KERAS_BACKEND=jax python benchmarks/loaders.py --only train --per-class 300

The MNIST archive (``../shared/datasets/mnist_png.tar.gz``) is extracted
outside the repository (``--extract-to``, default ``/tmp/mnist_png``).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shutil
import statistics
import sys
import tarfile
import tempfile
import time
import warnings
from collections.abc import Callable
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

DEFAULT_ARCHIVE = "/work/shared/datasets/mnist_png.tar.gz"
SIZE = (28, 28)


def _train_dir(archive: str, extract_to: str) -> str:
    target = os.path.join(extract_to, "mnist_png", "training")
    if not os.path.isdir(target):
        os.makedirs(extract_to, exist_ok=True)
        with tarfile.open(archive) as tar:
            tar.extractall(extract_to, filter="data")
    return target


def _subset(train_dir: str, per_class: int, workdir: str) -> str:
    """Symlink the first ``per_class`` files of every class into ``workdir``."""
    root = os.path.join(workdir, f"mnist_{per_class}")
    for cls in sorted(os.listdir(train_dir)):
        os.makedirs(os.path.join(root, cls))
        for name in sorted(os.listdir(os.path.join(train_dir, cls)))[:per_class]:
            os.symlink(
                os.path.join(train_dir, cls, name), os.path.join(root, cls, name)
            )
    return root


def _epoch(loader: Any) -> int:
    """Consume one epoch; return the number of images seen."""
    if hasattr(loader, "__getitem__") and hasattr(loader, "__len__"):
        count = 0
        for i in range(len(loader)):
            count += len(loader[i][0])
        loader.on_epoch_end()
        return count
    return sum(int(x.shape[0]) for x, _ in loader)


def _measure(
    name: str,
    build: Callable[[], Any],
    record: Callable[[str, float], None],
    epochs: int = 1,
) -> Any:
    """Record build seconds, first pass (build + epoch 1) and epoch img/s."""
    start = time.perf_counter()
    loader = build()
    built = time.perf_counter()
    n = _epoch(loader)
    done = time.perf_counter()
    record(f"{name}.build_s", built - start)
    record(f"{name}.first_pass", n / (done - start))
    record(f"{name}.epoch1", n / (done - built))
    for epoch in range(2, epochs + 1):
        start = time.perf_counter()
        n = _epoch(loader)
        record(f"{name}.epoch{epoch}", n / (time.perf_counter() - start))
    return loader


def _repeat(
    rep: int,
    data: str,
    paths: list[str],
    batch_size: int,
    cache_root: str,
    record: Callable[[str, float], None],
    only: str | None = None,
) -> None:
    import keras
    import numpy as np
    from keras.src.legacy.preprocessing.image import ImageDataGenerator
    from PIL import Image

    import tunekit
    from tunekit.data import _decode_cache

    flow_kw = dict(target_size=SIZE, color_mode="grayscale", batch_size=batch_size)
    tf_kw = dict(image_size=SIZE, color_mode="grayscale", batch_size=batch_size)
    if only == "cache":
        _cache_figures(rep, data, flow_kw, cache_root, record)
        return
    legacy = ImageDataGenerator(rescale=1 / 255)
    _measure(
        "legacy_directory_iterator",
        lambda: legacy.flow_from_directory(data, **flow_kw, seed=rep),
        record,
    )

    def pil_loop() -> None:
        for p in paths:
            with Image.open(p) as img:
                np.asarray(img.convert("L"))

    start = time.perf_counter()
    pil_loop()
    record("pil_loop.epoch1", len(paths) / (time.perf_counter() - start))

    _measure(
        "keras_image_dataset",
        lambda: keras.utils.image_dataset_from_directory(
            data, **tf_kw, seed=rep, verbose=False
        ),
        record,
        epochs=2,
    )
    _measure(
        "tunekit_flow",
        lambda: tunekit.flow_from_directory(
            data, **flow_kw, rescale=1 / 255, seed=rep, verbose=False
        ),
        record,
    )
    _decode_cache.FAST_PNG = False
    try:
        _measure(
            "tunekit_flow_pil_only",
            lambda: tunekit.flow_from_directory(
                data, **flow_kw, rescale=1 / 255, seed=rep, verbose=False
            ),
            record,
        )
    finally:
        _decode_cache.FAST_PNG = True
    _cache_figures(rep, data, flow_kw, cache_root, record)
    _measure(
        "tunekit_tf_data",
        lambda: tunekit.image_dataset_from_directory(
            data, **tf_kw, rescale=1 / 255, seed=rep, verbose=False
        ),
        record,
        epochs=2,
    )
    _measure(
        "tunekit_tf_data_decoder_tf",
        lambda: tunekit.image_dataset_from_directory(
            data, **tf_kw, rescale=1 / 255, seed=rep, verbose=False, decoder="tf"
        ),
        record,
    )
    import tensorflow as tf

    zeros = np.zeros((len(paths), *SIZE, 1), np.uint8)
    labels = np.zeros(len(paths), np.int32)
    _measure(
        "tf_bare_array",
        lambda: tf.data.Dataset.from_tensor_slices((zeros, labels)).batch(batch_size),
        record,
        epochs=2,
    )
    tf_cache = os.path.join(cache_root, f"tf{rep}")
    for run in (1, 2):
        _measure(
            f"tunekit_tf_data_cached_run{run}",
            lambda: tunekit.image_dataset_from_directory(
                data,
                **tf_kw,
                rescale=1 / 255,
                seed=rep,
                verbose=False,
                cache=tf_cache,
            ),
            record,
            epochs=2,
        )


def _cache_figures(
    rep: int,
    data: str,
    flow_kw: dict[str, Any],
    cache_root: str,
    record: Callable[[str, float], None],
) -> None:
    """Cached flow_from_directory, "mtime" and "content" keys; checksum speeds."""
    import hashlib
    import zlib

    import numpy as np

    import tunekit

    for check in ("mtime", "content"):
        suffix = "" if check == "mtime" else "_content"
        folder = os.path.join(cache_root, f"flow{suffix}{rep}")
        for run in (1, 2):
            loader = _measure(
                f"tunekit_flow_cached{suffix}_run{run}",
                lambda folder=folder, check=check: tunekit.flow_from_directory(
                    data,
                    **flow_kw,
                    rescale=1 / 255,
                    seed=rep,
                    verbose=False,
                    cache=folder,
                    cache_check=check,
                ),
                record,
                epochs=2,
            )
    from tunekit.data import _decode_cache

    for check in ("mtime", "content"):
        start = time.perf_counter()
        _decode_cache._cache_key(
            loader.filepaths, SIZE, "grayscale", "nearest", False, check
        )
        record(f"cache_key_{check}_s", time.perf_counter() - start)
    pixels = np.ascontiguousarray(loader._images)
    size_mb = pixels.nbytes / 1e6
    for name, digest in (
        ("crc32", lambda b: zlib.crc32(b)),
        ("blake2b", lambda b: hashlib.blake2b(b, digest_size=16).digest()),
    ):
        start = time.perf_counter()
        digest(memoryview(pixels).cast("B"))
        record(f"checksum_{name}.MB_per_s", size_mb / (time.perf_counter() - start))


AUGMENT = dict(width_shift_range=0.1, height_shift_range=0.1, rotation_range=10)


def _cnn() -> Any:
    """A small CNN (about 14k parameters): the loader's cost shows in fit."""
    import keras

    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input((*SIZE, 1)),
            keras.layers.Conv2D(8, 3, activation="relu"),
            keras.layers.MaxPooling2D(),
            keras.layers.Flatten(),
            keras.layers.Dense(10),
        ]
    )
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model


def _train_loader(
    kind: str, data: str, setting: dict[str, Any], seed: int, cache_dir: str
) -> Any:
    """``flow`` (tunekit.flow_from_directory) or ``tf_data``, one setting."""
    import tunekit

    cache: Any = cache_dir if setting["cache"] else False
    common = dict(batch_size=setting["batch_size"], shuffle=setting["shuffle"])
    if kind == "flow":
        gen = tunekit.ImageDataGenerator(
            rescale=1 / 255, **(AUGMENT if setting["augment"] else {})
        )
        return gen.flow_from_directory(
            data, target_size=SIZE, color_mode="grayscale", class_mode="sparse",
            seed=seed, cache=cache, verbose=False, **common,
        )  # fmt: skip
    ds = tunekit.image_dataset_from_directory(
        data, image_size=SIZE, color_mode="grayscale", rescale=1 / 255,
        interpolation="nearest", seed=seed, verbose=False, cache=cache, **common,
    )  # fmt: skip
    if not setting["augment"]:
        return ds
    import keras
    import tensorflow as tf

    # The same family of transforms as AUGMENT, as Keras layers in the pipeline.
    layers = [
        keras.layers.RandomTranslation(0.1, 0.1, fill_mode="nearest", seed=seed),
        keras.layers.RandomRotation(10 / 360, fill_mode="nearest", seed=seed),
    ]

    def augment(x: Any, y: Any) -> Any:
        for layer in layers:
            x = layer(x, training=True)
        return x, y

    return ds.map(augment, num_parallel_calls=tf.data.AUTOTUNE).prefetch(
        tf.data.AUTOTUNE
    )


def _train_settings(
    only_batch: int | None, matching: str | None = None
) -> list[dict[str, Any]]:
    settings = [
        dict(cache=cache, shuffle=shuffle, augment=augment, batch_size=batch)
        for batch in ((only_batch,) if only_batch else (32, 128))
        for cache in (True, False)
        for shuffle in (True, False)
        for augment in (False, True)
    ]
    return [s for s in settings if matching is None or matching in _setting_name(s)]


def _setting_name(s: dict[str, Any]) -> str:
    return (
        f"batch{s['batch_size']}_{'cache' if s['cache'] else 'nocache'}"
        f"_{'shuffle' if s['shuffle'] else 'noshuffle'}"
        f"_{'augment' if s['augment'] else 'plain'}"
    )


def _train_figures(
    rep: int,
    data: str,
    cache_root: str,
    record: Callable[[str, float], None],
    settings: list[dict[str, Any]],
    epochs: int = 3,
) -> None:
    """``model.fit`` images/s of epochs 2.. from each loader, each setting.

    Both loaders see the same setting back to back, in alternating order
    from one setting to the next, so drifting load hits both alike. The
    first epoch (tracing, cache warm-up, thread pools) is left out.
    """
    import keras

    class Timer(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
            self.times.append(time.perf_counter() - self.start)

    for i, setting in enumerate(settings):
        kinds = ("flow", "tf_data") if (i + rep) % 2 == 0 else ("tf_data", "flow")
        for kind in kinds:
            cache_dir = os.path.join(cache_root, f"train_{kind}")
            loader = _train_loader(kind, data, setting, rep, cache_dir)
            n = len(loader.filenames) if kind == "flow" else len(loader.file_paths)
            model = _cnn()
            timer = Timer()
            timer.times = []
            # fit's own shuffle reorders a PyDataset's batches; off with the
            # setting, so both loaders feed the same sequence without shuffle.
            model.fit(
                loader,
                epochs=epochs,
                verbose=0,
                callbacks=[timer],
                shuffle=setting["shuffle"],
            )
            rate = n * (epochs - 1) / sum(timer.times[1:])
            record(f"train.{_setting_name(setting)}.{kind}", rate)


def run(
    data: str,
    repeats: int,
    batch_size: int,
    cache_root: str,
    only: str | None = None,
    train_batch: int | None = None,
    train_epochs: int = 3,
    train_matching: str | None = None,
) -> dict[str, Any]:
    results: dict[str, list[float]] = {}

    def record(name: str, value: float) -> None:
        results.setdefault(name, []).append(value)

    paths = [
        os.path.join(root, f)
        for root, _, files in sorted(os.walk(data))
        for f in sorted(files)
    ]
    if only == "train":
        settings = _train_settings(train_batch, train_matching)
        for rep in range(repeats):
            _train_figures(rep, data, cache_root, record, settings, train_epochs)
        return results
    for rep in range(repeats):
        _repeat(rep, data, paths, batch_size, cache_root, record, only)
    return results


def _ratios(m: dict[str, float]) -> dict[str, float]:
    if any(k.startswith("train.") for k in m):
        settings = sorted({k.split(".")[1] for k in m if k.startswith("train.")})
        return {
            f"{s}.flow_vs_tf_data": round(
                m[f"train.{s}.flow"] / m[f"train.{s}.tf_data"], 2
            )
            for s in settings
        }

    def ratio(a: str, b: str) -> float:
        return round(m[a] / m[b], 2)

    cache = {
        "content_check_extra_build_s (run 2)": round(
            m["tunekit_flow_cached_content_run2.build_s"]
            - m["tunekit_flow_cached_run2.build_s"],
            3,
        ),
        "content_vs_mtime (run 2 first pass)": ratio(
            "tunekit_flow_cached_content_run2.first_pass",
            "tunekit_flow_cached_run2.first_pass",
        ),
    }
    if "legacy_directory_iterator.first_pass" not in m:
        return cache
    return {
        **cache,
        "tunekit_flow_vs_legacy (first pass)": ratio(
            "tunekit_flow.first_pass", "legacy_directory_iterator.first_pass"
        ),
        "tunekit_flow_pil_only_vs_legacy (first pass)": ratio(
            "tunekit_flow_pil_only.first_pass", "legacy_directory_iterator.first_pass"
        ),
        "tunekit_tf_data_vs_keras (first pass)": ratio(
            "tunekit_tf_data.first_pass", "keras_image_dataset.first_pass"
        ),
        "tunekit_tf_data_vs_keras (epoch 1)": ratio(
            "tunekit_tf_data.epoch1", "keras_image_dataset.epoch1"
        ),
        "tunekit_tf_data_decoder_tf_vs_keras (epoch 1)": ratio(
            "tunekit_tf_data_decoder_tf.epoch1", "keras_image_dataset.epoch1"
        ),
        "tunekit_tf_data_cached_run2_vs_tf_bare_array (epoch 2)": ratio(
            "tunekit_tf_data_cached_run2.epoch2", "tf_bare_array.epoch2"
        ),
        "tunekit_flow_cached_run2_vs_legacy (first pass)": ratio(
            "tunekit_flow_cached_run2.first_pass",
            "legacy_directory_iterator.first_pass",
        ),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--archive", default=DEFAULT_ARCHIVE)
    parser.add_argument("--extract-to", default="/tmp/mnist_png")
    parser.add_argument(
        "--per-class",
        "--limit",
        type=int,
        default=None,
        help="use only the first N images of each class",
    )
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument(
        "--only",
        choices=["cache", "train"],
        default=None,
        help="measure only the cache, or only training throughput (model.fit)",
    )
    parser.add_argument(
        "--train-batch",
        type=int,
        default=None,
        help="--only train: just this batch size (default: 32 and 128)",
    )
    parser.add_argument(
        "--train-epochs",
        type=int,
        default=3,
        help="--only train: epochs per fit; the first (warm-up) is not timed",
    )
    parser.add_argument(
        "--train-settings",
        default=None,
        help="--only train: just the settings whose name contains this, "
        "e.g. batch128_nocache_shuffle_plain",
    )
    args = parser.parse_args(argv)

    warnings.filterwarnings("ignore")
    train_dir = _train_dir(args.archive, args.extract_to)
    workdir = tempfile.mkdtemp(prefix="tunekit_bench_")
    try:
        data = train_dir
        if args.per_class:
            data = _subset(train_dir, args.per_class, workdir)
        n = sum(len(files) for _, _, files in os.walk(data))
        with contextlib.redirect_stdout(sys.stderr):  # Keras prints "Found ..."
            raw = run(
                data,
                args.repeats,
                args.batch_size,
                os.path.join(workdir, "c"),
                args.only,
                args.train_batch,
                args.train_epochs,
                args.train_settings,
            )
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    medians = {
        name: round(statistics.median(v), 3 if name.endswith("_s") else 1)
        if not name.endswith("MB_per_s")
        else round(statistics.median(v), 1)
        for name, v in raw.items()
    }
    import keras

    print(
        json.dumps(
            {
                "images": n,
                "batch_size": args.batch_size,
                "image_size": list(SIZE),
                "color_mode": "grayscale",
                "repeats": args.repeats,
                "medians (img/s; *_s: seconds)": medians,
                "ratios": _ratios(medians),
                "raw": {k: [round(x, 3) for x in v] for k, v in raw.items()},
                "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                "machine": f"{platform.machine()}, {os.cpu_count()} CPUs",
                "python": sys.version.split()[0],
                "keras": keras.__version__,
                "backend": keras.backend.backend(),
                "load_average": [round(x, 2) for x in os.getloadavg()],
            },
            indent=2,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
