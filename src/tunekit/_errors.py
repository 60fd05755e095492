"""The exception hierarchy of tunekit.

Every error tunekit raises on purpose derives from :class:`TunekitError`.
Each specific error also derives from the built-in exception a user would
already catch (``ValueError``, ``TypeError``, ``RuntimeError``), so existing
``except ValueError:`` clauses keep working.
"""

from __future__ import annotations

__all__ = [
    "CorruptProjectError",
    "ImageDirectoryError",
    "InvalidParameterError",
    "LabelMismatchError",
    "ObjectiveError",
    "ProjectLockedError",
    "SearchFailedError",
    "StaleProjectError",
    "TunekitError",
    "UnwritablePathError",
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
