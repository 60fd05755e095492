"""A small real tunekit search in its own process (run by the tests).

Not a test module: tests of the project lock and of Ctrl-C start it with
``subprocess``. It tunes a tiny dense model on 300 scikit-learn digits with
:class:`tunekit.RandomSearch` (one epoch per trial). With ``--hold-at N`` the
N-th training of the process (trial N, counting from 1) writes
``--marker`` and then waits (until ``--release`` exists, or for ever), so
that a test can act while a search is running: open the same project from
another process, send SIGINT, or SIGKILL it.

With ``--images DIR`` it tunes a tiny CNN on that image folder instead,
loaded with ``--loader directory`` (``flow_from_directory``) or ``tf_data``
(``image_dataset_from_directory``), two epochs per trial and ``val_loss`` as
the objective, so that a resumed search can be compared with one never
stopped: :func:`image_search` also runs in the test's own process.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

_TRAININGS = 0  # module state: KerasTuner deep-copies the callback per trial


def _arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    parser.add_argument("--directory", required=True)
    parser.add_argument("--project-name", default="search")
    parser.add_argument("--max-trials", type=int, default=3)
    parser.add_argument("--hold-at", type=int, default=0)
    parser.add_argument("--marker", default=None)
    parser.add_argument("--release", default=None)
    parser.add_argument("--images", default=None)
    parser.add_argument("--loader", default="directory")
    return parser.parse_args(argv)


def _holder(hold_at: int, marker: str | None, release: str | None):
    import keras

    class Hold(keras.callbacks.Callback):
        """Waits at the start of the hold_at-th training (copyable: plain fields)."""

        def __init__(self, hold_at, marker, release):
            super().__init__()
            self.hold_at, self.marker, self.release = hold_at, marker, release

        def on_train_begin(self, logs=None):
            global _TRAININGS
            _TRAININGS += 1
            if _TRAININGS != self.hold_at:
                return
            if self.marker:
                with open(self.marker, "w") as handle:
                    handle.write(str(os.getpid()))
            while not (self.release and os.path.exists(self.release)):
                time.sleep(0.05)

    return Hold(hold_at, marker, release)


def _image_loaders(images: str, loader: str) -> tuple:
    import tunekit

    common = {"validation_split": 0.25, "seed": 3, "rescale": 1 / 255}
    if loader == "tf_data":
        options = {"image_size": (8, 8), "color_mode": "grayscale", "batch_size": 8}
        return tunekit.image_dataset_from_directory(
            images, **options, **common, subset="both", verbose=False
        )
    generator = tunekit.ImageDataGenerator(
        rescale=1 / 255, horizontal_flip=True, validation_split=0.25
    )
    options = {
        "target_size": (8, 8),
        "color_mode": "grayscale",
        "class_mode": "sparse",
        "batch_size": 8,
        "seed": 3,
    }
    train = generator.flow_from_directory(images, **options, subset="training")
    validation = generator.flow_from_directory(
        images, **options, subset="validation", shuffle=False
    )
    return train, validation


def image_search(
    directory: str,
    images: str,
    loader: str,
    *,
    max_trials: int = 4,
    project_name: str = "search",
    callbacks: list | None = None,
) -> None:
    """A seeded search of a tiny CNN on an image folder (2 epochs per trial)."""
    import keras

    import tunekit

    train, validation = _image_loaders(images, loader)

    def build(hp):
        model = keras.Sequential(
            [
                keras.Input((8, 8, 1)),
                keras.layers.Conv2D(4, 3, activation="relu"),
                keras.layers.Flatten(),
                keras.layers.Dense(hp.Choice("units", [4, 8, 16]), "relu"),
                keras.layers.Dense(3, activation="softmax"),
            ]
        )
        model.compile(
            keras.optimizers.SGD(hp.Choice("lr", [0.05, 0.1])),
            "sparse_categorical_crossentropy",
        )
        return model

    tuner = tunekit.RandomSearch(
        build,
        "val_loss",
        max_trials=max_trials,
        directory=directory,
        project_name=project_name,
        seed=1,
        verbose=False,
    )
    tuner.search(train, epochs=2, validation_data=validation, callbacks=callbacks or [])


def main(argv: list[str]) -> int:
    args = _arguments(argv)
    if args.images:
        image_search(
            args.directory,
            args.images,
            args.loader,
            max_trials=args.max_trials,
            project_name=args.project_name,
            callbacks=[_holder(args.hold_at, args.marker, args.release)],
        )
        return 0
    import keras
    from sklearn.datasets import load_digits

    import tunekit

    data = load_digits()
    x = (data.data / 16.0).astype("float32")[:300]
    y = data.target.astype("int64")[:300]

    def build(hp):
        model = keras.Sequential(
            [
                keras.Input((64,)),
                keras.layers.Dense(hp.Choice("units", [4, 8, 16, 32]), "relu"),
                keras.layers.Dense(10, activation="softmax"),
            ]
        )
        model.compile(
            keras.optimizers.Adam(hp.Choice("lr", [1e-2, 3e-3])),
            "sparse_categorical_crossentropy",
            metrics=["accuracy"],
        )
        return model

    tuner = tunekit.RandomSearch(
        build,
        "val_accuracy",
        max_trials=args.max_trials,
        directory=args.directory,
        project_name=args.project_name,
        seed=1,
    )
    callbacks = [_holder(args.hold_at, args.marker, args.release)]
    tuner.search(
        x[:200],
        y[:200],
        epochs=1,
        batch_size=64,
        validation_data=(x[200:], y[200:]),
        callbacks=callbacks,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
