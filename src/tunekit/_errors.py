"""The exception hierarchy of tunekit.

Every error tunekit raises on purpose derives from :class:`TunekitError`.
Each specific error also derives from the built-in exception a user would
already catch (``ValueError``, ``TypeError``, ``RuntimeError``), so existing
``except ValueError:`` clauses keep working.
"""

from __future__ import annotations

__all__ = [
    "BatchIndexError",
    "ChiefUnreachableError",
    "CorruptProjectError",
    "DistributedSetupError",
    "HypermodelBuildError",
    "ImageDirectoryError",
    "InvalidParameterError",
    "LabelMismatchError",
    "MissingDependencyError",
    "MissingObjectiveError",
    "ObjectiveError",
    "ProjectLockedError",
    "SearchFailedError",
    "StaleProjectError",
    "TunekitError",
    "UncopyableCallbackError",
    "UnsupportedVersionError",
    "UnwritablePathError",
    "WorkerMismatchError",
]


class TunekitError(Exception):
    """Base class of every error tunekit raises on purpose.

    Examples
    --------
    >>> import tunekit
    >>> try:
    ...     tunekit.hyperband_schedule(max_epochs=0)
    ... except tunekit.TunekitError as error:
    ...     print(type(error).__name__)
    InvalidParameterError
    """


class InvalidParameterError(TunekitError, ValueError, TypeError):
    """An argument has a wrong type or value.

    Raised before any training starts. The message names the argument, says
    what was expected and ends with ``Received: name=value``.

    Examples
    --------
    >>> import tunekit
    >>> try:
    ...     tunekit.hyperband_schedule(max_epochs=0)
    ... except ValueError as error:  # also a TypeError and a TunekitError
    ...     print(error)
    `max_epochs` must be an integer >= 1. Received: max_epochs=0
    """


class ObjectiveError(TunekitError, ValueError):
    """A tuning objective is unknown, points the wrong way or is never logged.

    Examples
    --------
    >>> import tunekit
    >>> try:
    ...     tunekit.validate_objective("val_acc", ["loss", "val_accuracy"])
    ... except tunekit.ObjectiveError as error:
    ...     print("Did you mean 'val_accuracy'?" in str(error))
    True
    """


class StaleProjectError(TunekitError, ValueError, RuntimeError):
    """An existing tuner project was written with a different configuration.

    Also a ``RuntimeError``: KerasTuner raises one when a project cannot be
    reloaded by the tuner asked for (``pass `overwrite=True```).

    Examples
    --------
    >>> import tunekit
    >>> issubclass(tunekit.StaleProjectError, (ValueError, RuntimeError))
    True
    """


class SearchFailedError(TunekitError, RuntimeError):
    """A search ended without a single completed trial.

    Examples
    --------
    >>> import tunekit
    >>> issubclass(tunekit.SearchFailedError, RuntimeError)
    True
    """


class LabelMismatchError(TunekitError, ValueError):
    """A model's head, loss and labels disagree.

    Examples
    --------
    >>> import keras, tunekit
    >>> model = keras.Sequential([keras.Input((4,)),
    ...                           keras.layers.Dense(3, activation="softmax")])
    >>> model.compile("adam", "categorical_crossentropy")
    >>> try:
    ...     tunekit.check_model_labels(model, [0, 1, 2])  # integer labels
    ... except tunekit.LabelMismatchError:
    ...     print("use sparse_categorical_crossentropy")
    use sparse_categorical_crossentropy
    """


class ImageDirectoryError(TunekitError, ValueError):
    """An image directory is missing, empty or laid out wrongly.

    Examples
    --------
    >>> import tunekit
    >>> try:
    ...     tunekit.flow_from_directory("no/such/folder")
    ... except tunekit.ImageDirectoryError as error:
    ...     print(str(error).endswith("Received: directory='no/such/folder'"))
    True
    """


class CorruptProjectError(StaleProjectError):
    """A file of an existing tuner project is truncated or not valid JSON.

    Raised before anything is reloaded or deleted; the message names the file
    and the way out (``overwrite=True`` or a new ``project_name``).

    Examples
    --------
    >>> import tunekit
    >>> issubclass(tunekit.CorruptProjectError, tunekit.StaleProjectError)
    True
    """


class ProjectLockedError(TunekitError, RuntimeError):
    """Another live process is searching the same tuner project.

    Examples
    --------
    >>> import tunekit
    >>> issubclass(tunekit.ProjectLockedError, RuntimeError)
    True
    """


class UnwritablePathError(TunekitError, OSError):
    """tunekit must write a file or folder and cannot.

    Raised with the path, the argument or environment variable that chose
    it, and the way out (another folder, ``--output``, ``cache=False``...),
    before any training where that can be known in advance. Nothing the user
    saved before is damaged: tunekit writes to a temporary file next to the
    target and renames it into place.

    Examples
    --------
    >>> import tunekit
    >>> issubclass(tunekit.UnwritablePathError, OSError)
    True
    """


class BatchIndexError(TunekitError, IndexError, ValueError):
    """A batch index outside ``range(len(iterator))``.

    An ``IndexError`` (Python's protocol) and a ``ValueError`` (what Keras 2's
    iterators raised), so code catching either keeps working.

    Examples
    --------
    >>> import tunekit
    >>> issubclass(tunekit.BatchIndexError, (IndexError, ValueError))
    True
    """


class DistributedSetupError(InvalidParameterError):
    """The ``KERASTUNER_*`` variables or ``distribution_strategy`` are unusable.

    Examples
    --------
    >>> import tunekit
    >>> issubclass(tunekit.DistributedSetupError, tunekit.InvalidParameterError)
    True
    """


class WorkerMismatchError(StaleProjectError):
    """A worker was started with another configuration than its chief.

    Examples
    --------
    >>> import tunekit
    >>> issubclass(tunekit.WorkerMismatchError, tunekit.StaleProjectError)
    True
    """


class ChiefUnreachableError(TunekitError, RuntimeError):
    """A worker lost (or never reached) its chief.

    Examples
    --------
    >>> import tunekit
    >>> issubclass(tunekit.ChiefUnreachableError, RuntimeError)
    True
    """


class UnsupportedVersionError(TunekitError, ImportError):
    """An installed dependency is a release tunekit does not support.

    Raised when a tuner module is first imported with a KerasTuner outside
    ``pyproject.toml``'s range; the message names the range and the ``pip``
    command that installs a supported release.

    Examples
    --------
    >>> import tunekit
    >>> issubclass(tunekit.UnsupportedVersionError, ImportError)
    True
    """


# --------------------------------------------------------------------------
# Errors that stop a KerasTuner search at once
# --------------------------------------------------------------------------
# KerasTuner stops a search at once on a ``keras_tuner.errors.FatalError``
# raised inside a trial, and retries or skips the trial on any other error.
# tunekit raises the three errors below from inside trials as instances of
# private subclasses that are also KerasTuner's ``FatalTypeError`` /
# ``FatalValueError`` (``tunekit.tuners._preflight``), so the classes here
# stay importable without KerasTuner and ``except`` clauses on either work.


class UncopyableCallbackError(InvalidParameterError):
    """A search callback cannot be deep-copied.

    Raised inside a search as KerasTuner's ``FatalValueError`` too, so the
    search stops at once instead of failing trial after trial.

    Examples
    --------
    >>> import tunekit
    >>> issubclass(tunekit.UncopyableCallbackError, tunekit.InvalidParameterError)
    True
    """


class HypermodelBuildError(InvalidParameterError):
    """The hypermodel did not return a Keras model.

    Raised inside a search as KerasTuner's ``FatalTypeError`` too.

    Examples
    --------
    >>> import tunekit
    >>> issubclass(tunekit.HypermodelBuildError, TypeError)
    True
    """


class MissingObjectiveError(ObjectiveError):
    """``objective=None`` with a fit that returns a History, not a float.

    Raised inside a search as KerasTuner's ``FatalTypeError`` too.

    Examples
    --------
    >>> import tunekit
    >>> issubclass(tunekit.MissingObjectiveError, tunekit.ObjectiveError)
    True
    """


class MissingDependencyError(TunekitError, ImportError):
    """An optional dependency a feature needs is not installed.

    The message names the pip extra that installs it, e.g.
    ``pip install "keras-tunekit[optuna]"`` for :class:`tunekit.OptunaSearch`.

    Examples
    --------
    >>> import tunekit
    >>> issubclass(tunekit.MissingDependencyError, ImportError)
    True
    """
