"""tunekit: hyperparameter tuning for Keras 3, KerasTuner and scikit-learn.

Importing ``tunekit`` is cheap and has no side effects: it imports neither
Keras nor TensorFlow. Each public name is loaded from its private module the
first time it is used; when that first imports TensorFlow, its C++ start-up
lines are dropped (see ``tunekit._startup``).

Examples
--------
>>> import tunekit
>>> tunekit.__version__
'0.1.0'
>>> "build_cnn_hypermodel" in tunekit.__all__
True
"""

from __future__ import annotations

from typing import Any

from tunekit._errors import (
    BatchIndexError,
    ChiefUnreachableError,
    CorruptProjectError,
    DistributedSetupError,
    HypermodelBuildError,
    ImageDirectoryError,
    InvalidParameterError,
    LabelMismatchError,
    MissingDependencyError,
    MissingObjectiveError,
    ObjectiveError,
    ProjectLockedError,
    SearchFailedError,
    StaleProjectError,
    TunekitError,
    UncopyableCallbackError,
    UnsupportedVersionError,
    UnwritablePathError,
    WorkerMismatchError,
)

__version__ = "0.1.0"

# Public name -> private module that defines it. Loaded on first access so that
# `import tunekit` never imports Keras or TensorFlow.
_LAZY_EXPORTS: dict[str, str] = {
    # hypermodels
    "build_cnn_hypermodel": "tunekit.hypermodels._cnn",
    "CNNHyperModel": "tunekit.hypermodels._cnn",
    # objectives and tuners
    "validate_objective": "tunekit.tuners._objective",
    "metric_direction": "tunekit.tuners._objective",
    "hyperband": "tunekit.tuners._factories",
    "Hyperband": "tunekit.tuners._tuners",
    "BayesianOptimization": "tunekit.tuners._tuners",
    "RandomSearch": "tunekit.tuners._tuners",
    "bayesian_optimization": "tunekit.tuners._factories",
    "random_search": "tunekit.tuners._factories",
    "OptunaSearch": "tunekit.tuners._optuna_search",
    "optuna_search": "tunekit.tuners._optuna_search",
    "hyperband_schedule": "tunekit.tuners._schedule",
    "HyperbandSchedule": "tunekit.tuners._schedule",
    "summarize": "tunekit.tuners._summary",
    "SearchSummary": "tunekit.tuners._summary",
    # pruning, refit (cross-validation and fit hyperparameters are keywords)
    "Pruning": "tunekit.tuners._pruning",
    "MedianPruning": "tunekit.tuners._pruning",
    "PruningHistory": "tunekit.tuners._pruning",
    "refit_best": "tunekit.tuners._refit",
    "load_class_names": "tunekit.tuners._refit",
    # scikit-learn estimators
    "KerasClassifier": "tunekit.estimators._estimators",
    "KerasRegressor": "tunekit.estimators._estimators",
    # data
    "flow_from_directory": "tunekit.data._generator",
    "DirectoryIterator": "tunekit.data._files_iterator",
    "ImageDataGenerator": "tunekit.data._generator",
    "NumpyArrayIterator": "tunekit.data._array_iterator",
    "DataFrameIterator": "tunekit.data._dataframe_iterator",
    "Iterator": "tunekit.data._iterator",
    "check_same_classes": "tunekit.data._checks",
    "image_dataset_from_directory": "tunekit.data._tf_data",
    # class weights and label diagnostics
    "class_weights": "tunekit.labels._class_weights",
    "sample_weights": "tunekit.labels._class_weights",
    "label_report": "tunekit.labels._diagnostics",
    "LabelReport": "tunekit.labels._diagnostics",
    "diagnose_collapse": "tunekit.labels._diagnostics",
    "CollapseDiagnosis": "tunekit.labels._diagnostics",
    "check_model_labels": "tunekit.labels._model_checks",
}

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
    "__version__",
    *sorted(_LAZY_EXPORTS),
]


def __getattr__(name: str) -> Any:
    module_name = _LAZY_EXPORTS.get(name)
    if module_name is None:
        raise AttributeError(f"module 'tunekit' has no attribute {name!r}")
    # Loads Keras/TensorFlow without their C++ start-up lines (tunekit._startup).
    from tunekit._startup import import_module

    value = getattr(import_module(module_name), name)
    globals()[name] = value  # cache: later lookups skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
