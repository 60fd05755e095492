"""The one door to KerasTuner's private modules.

tunekit builds on KerasTuner's public extension points (``Tuner`` subclasses,
``Oracle`` subclasses, ``HyperModel.fit``). What it still needs from
``keras_tuner.src`` (the tuner callbacks it extends, the build-config helpers
of a Hyperband continuation, the distributed chief's and workers' gRPC
classes) is imported here and nowhere else, after a check that the installed
KerasTuner is one that tunekit supports: ``pyproject.toml``'s bound, which CI
tests on its oldest and its newest release. A KerasTuner outside that range
fails with :class:`~tunekit.UnsupportedVersionError` at the first tuner
module's import, not deep inside a search.

The distributed modules import gRPC, so they are imported on first use only.
"""

from __future__ import annotations

import importlib
import re
from types import ModuleType

import keras_tuner
from keras_tuner.src import utils
from keras_tuner.src.backend import config
from keras_tuner.src.engine import oracle as oracle_module
from keras_tuner.src.engine import trial as trial_module
from keras_tuner.src.engine import tuner_utils
from keras_tuner.src.engine.hyperparameters import HyperParameter
from keras_tuner.src.engine.tuner import maybe_compute_model_size

from tunekit._errors import UnsupportedVersionError

__all__ = [
    "LOWEST",
    "UPPER_BOUND",
    "HyperParameter",
    "check_version",
    "config",
    "distribute_utils",  # noqa: F822 (imported on first use, see __getattr__)
    "maybe_compute_model_size",
    "oracle_chief",  # noqa: F822 (imported on first use, see __getattr__)
    "oracle_client",  # noqa: F822 (imported on first use, see __getattr__)
    "oracle_module",
    "protos",  # noqa: F822 (imported on first use, see __getattr__)
    "trial_module",
    "tuner_utils",
    "utils",
]

#: The oldest KerasTuner tunekit supports, and the first release it does not.
LOWEST = (1, 4, 7)
UPPER_BOUND = (1, 5)


def _release(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", version)[:3])


def check_version(version: str) -> None:
    """Refuse a KerasTuner release outside the range tunekit supports.

    Parameters
    ----------
    version : str
        ``keras_tuner.__version__``.

    Raises
    ------
    UnsupportedVersionError
        Naming the range, the installed version and the ``pip`` command that
        installs a supported one.

    Examples
    --------
    >>> check_version("1.4.8")
    >>> try:
    ...     check_version("2.0.0")
    ... except ImportError as error:
    ...     print(str(error)[:40])
    tunekit supports KerasTuner >=1.4.7,<1.5
    """
    if LOWEST <= _release(version) < UPPER_BOUND:
        return
    supported = f">={'.'.join(map(str, LOWEST))},<{'.'.join(map(str, UPPER_BOUND))}"
    raise UnsupportedVersionError(
        f"tunekit supports KerasTuner {supported}, the releases its tests run "
        "on; it extends KerasTuner's tuner callbacks and distributed classes, "
        "which other releases may change. Install a supported release with "
        f'`pip install "keras-tuner{supported}"`. '
        f"Received: keras_tuner.__version__={version!r}"
    )


check_version(keras_tuner.__version__)


#: The gRPC side of KerasTuner's distributed mode, imported on first use:
#: ``from tunekit.tuners._kerastuner import oracle_client`` works as a plain
#: import (module ``__getattr__``), without loading gRPC for everyone else.
_LAZY_MODULES = {
    "distribute_utils": "keras_tuner.src.distribute.utils",
    "oracle_chief": "keras_tuner.src.distribute.oracle_chief",
    "oracle_client": "keras_tuner.src.distribute.oracle_client",
    "protos": "keras_tuner.src.protos",
}


def __getattr__(name: str) -> ModuleType:
    if name not in _LAZY_MODULES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return importlib.import_module(_LAZY_MODULES[name])
