"""Pruning: stop hopeless trials early (the median stopping rule and a base class).

A pruning strategy is asked after every epoch of a trial whether to stop it.
:class:`MedianPruning` implements the median stopping rule of Google Vizier
as Optuna's ``MedianPruner`` does: a trial whose best objective so far is
worse than the median of the objectives earlier completed trials logged at
the same epoch is stopped. Subclass :class:`Pruning` for another rule.

How a pruned trial is recorded (KerasTuner has no "pruned" status):

* it ends as ``COMPLETED`` with the message ``"tunekit: pruned ..."``, so the
  oracle scores it like any trial: its score is the best objective among the
  epochs it trained (KerasTuner's best-epoch rule), and that is what
  Bayesian optimisation fits its Gaussian process to (a pessimistic value for
  that region of the space, which is what the rule judged);
* ``get_best_trials`` / ``get_best_hyperparameters`` / ``get_best_models``
  rank pruned trials after every trial that ran to the end, so a pruned trial
  is never "the best" while a full one exists;
* :func:`tunekit.summarize` shows them with status ``PRUNED`` and counts them.

Pruning is for :class:`tunekit.RandomSearch` and
:class:`tunekit.BayesianOptimization`: Hyperband already stops trials (its
successive halving) and refuses it.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from typing import Any, ClassVar

import numpy as np

from tunekit._constraints import NON_NEGATIVE_INT, POSITIVE_INT, validate_params
from tunekit._errors import InvalidParameterError
from tunekit._validation import invalid_parameter, received

__all__ = ["MedianPruning", "Pruning", "PruningHistory", "is_pruned"]

PRUNED_MARK = "tunekit: pruned"


class PruningHistory(Mapping):
    """The objectives of earlier trials, as a pruning strategy sees them.

    A read-only mapping from each earlier **completed, unpruned** trial's id
    to ``{epoch: objective}`` (0-based epochs; for a cross-validated search,
    the values of the same fold, averaged over executions).

    Attributes
    ----------
    direction : str
        ``"min"`` or ``"max"``: which way the objective is better.
    current : dict
        ``{epoch: objective}`` of the trial being judged, this epoch included.
    fold : int or None
        The cross-validation fold being trained, or None.

    Examples
    --------
    >>> from tunekit import PruningHistory
    >>> history = PruningHistory({"00": {0: 0.5, 1: 0.7}}, direction="max",
    ...                          current={0: 0.2, 1: 0.3})
    >>> history.values_at(1), history.best_current()
    ([0.7], 0.3)
    """

    def __init__(
        self,
        trials: Mapping[str, Mapping[int, float]],
        *,
        direction: str,
        current: Mapping[int, float] | None = None,
        fold: int | None = None,
    ) -> None:
        self._trials = {str(k): dict(v) for k, v in trials.items()}
        self.direction = direction
        self.current = dict(current or {})
        self.fold = fold

    def __getitem__(self, trial_id: str) -> dict[int, float]:
        return self._trials[trial_id]

    def __iter__(self) -> Iterator[str]:
        return iter(self._trials)

    def __len__(self) -> int:
        return len(self._trials)

    def values_at(self, epoch: int) -> list[float]:
        """The earlier trials' objectives at ``epoch`` (those that reached it)."""
        found = (curve.get(epoch) for curve in self._trials.values())
        return [float(v) for v in found if v is not None and not math.isnan(v)]

    def best_current(self, since: int = 0) -> float | None:
        """The current trial's best objective over epochs ``>= since`` (NaN if any)."""
        values = [v for e, v in self.current.items() if e >= since]
        if not values:
            return None
        if any(math.isnan(v) for v in values):
            return math.nan
        return max(values) if self.direction == "max" else min(values)

    def worse(self, a: float, b: float) -> bool:
        """Whether objective ``a`` is strictly worse than ``b``."""
        return a < b if self.direction == "max" else a > b

    def __repr__(self) -> str:
        return (
            f"PruningHistory({len(self)} trial(s), direction={self.direction!r}, "
            f"current epochs={sorted(self.current)})"
        )


class Pruning:
    """Base class of pruning strategies: decide after each epoch whether to stop.

    Subclass it and implement :meth:`should_prune`; pass an instance as
    ``pruning=`` to :class:`tunekit.RandomSearch`,
    :class:`tunekit.BayesianOptimization` or their factories. The tuner
    calls it after every epoch of every trial (every fold of a
    cross-validated trial).

    Examples
    --------
    >>> import tunekit
    >>> class StopBelow(tunekit.Pruning):
    ...     '''Stop a trial whose accuracy is below 0.2 after epoch 2.'''
    ...     def should_prune(self, trial_id, epoch, value, history):
    ...         return epoch >= 1 and value < 0.2
    >>> rule = StopBelow()
    >>> rule.should_prune("03", 1, 0.1, tunekit.PruningHistory({}, direction="max"))
    True
    """

    def should_prune(
        self, trial_id: str, epoch: int, value: float, history: PruningHistory
    ) -> bool:
        """Return True to stop trial ``trial_id`` after ``epoch`` (0-based).

        Parameters
        ----------
        trial_id : str
            The trial being trained.
        epoch : int
            The epoch that just ended (0-based, as in Keras callbacks).
        value : float
            The objective the trial logged at ``epoch`` (may be NaN).
        history : PruningHistory
            The earlier completed trials' objectives per epoch, the current
            trial's own curve (``history.current``) and the direction.
        """
        raise NotImplementedError(
            f"{type(self).__name__} must implement "
            "`should_prune(trial_id, epoch, value, history)`."
        )

    def explain(
        self, trial_id: str, epoch: int, value: float, history: PruningHistory
    ) -> str:
        """One sentence saying why the trial was pruned (stored on the trial)."""
        return f"{self!r} stopped it after epoch {epoch + 1} (objective {value:.4g})"

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class MedianPruning(Pruning):
    """The median stopping rule: stop a trial worse than the median at an epoch.

    After epoch ``e`` of a trial, its best objective so far (over epochs
    ``>= warmup_epochs``) is compared with the median of the objectives that
    earlier completed, unpruned trials logged at epoch ``e``; if strictly
    worse, the trial stops (Google Vizier's rule, as Optuna's
    ``MedianPruner``). A NaN objective is always worse.

    Parameters
    ----------
    min_trials : int, default=5
        How many earlier completed trials must have reached epoch ``e`` for
        the rule to judge a trial there. The first ``min_trials`` trials
        always run to the end, and a trial training longer than most earlier
        ones is not judged past where they stopped (e.g. with EarlyStopping).
    warmup_epochs : int, default=0
        The first epochs of every trial, never judged and left out of its
        "best so far" (early epochs are noisy).
    min_epochs : int, default=1
        The fewest epochs a trial trains before it can be stopped.

    Examples
    --------
    >>> import tunekit
    >>> rule = tunekit.MedianPruning(min_trials=2)
    >>> earlier = {"00": {0: 0.6, 1: 0.8}, "01": {0: 0.5, 1: 0.7}}
    >>> history = tunekit.PruningHistory(earlier, direction="max",
    ...                                  current={0: 0.2, 1: 0.3})
    >>> rule.should_prune("02", 1, 0.3, history)
    True
    >>> rule.should_prune("02", 1, 0.9, tunekit.PruningHistory(
    ...     earlier, direction="max", current={0: 0.2, 1: 0.9}))
    False
    """

    def __init__(
        self, min_trials: int = 5, warmup_epochs: int = 0, min_epochs: int = 1
    ) -> None:
        self.min_trials = min_trials
        self.warmup_epochs = warmup_epochs
        self.min_epochs = min_epochs

    #: Checked when a tuner receives the rule (``pruning=``), not here.
    _parameter_constraints: ClassVar[dict[str, Any]] = {
        "min_trials": POSITIVE_INT,
        "warmup_epochs": NON_NEGATIVE_INT,
        "min_epochs": POSITIVE_INT,
    }

    def _check(self) -> None:
        constraints = self._parameter_constraints
        validate_params(
            constraints, {name: getattr(self, name) for name in constraints}
        )

    def _judged(self, epoch: int, history: PruningHistory) -> tuple[float, float]:
        """(best so far, median) at ``epoch``, or NaN pairs when not judged."""
        nothing = (math.nan, math.nan)
        if epoch < self.warmup_epochs or len(history.current) < self.min_epochs:
            return nothing
        others = history.values_at(epoch)
        if len(others) < self.min_trials:
            return nothing
        best = history.best_current(since=self.warmup_epochs)
        if best is None:
            return nothing
        return best, float(np.median(others))

    def should_prune(
        self, trial_id: str, epoch: int, value: float, history: PruningHistory
    ) -> bool:
        """True when the trial's best so far is worse than the median at ``epoch``."""
        best, median = self._judged(epoch, history)
        if math.isnan(median):
            return False
        return math.isnan(best) or history.worse(best, median)

    def explain(
        self, trial_id: str, epoch: int, value: float, history: PruningHistory
    ) -> str:
        """Say which best-so-far lost to which median."""
        best, median = self._judged(epoch, history)
        count = len(history.values_at(epoch))
        return (
            f"{self!r} stopped it after epoch {epoch + 1}: its best objective so "
            f"far, {best:.4g}, is worse than the median {median:.4g} of {count} "
            "earlier completed trial(s) at that epoch"
        )

    def __repr__(self) -> str:
        return (
            f"MedianPruning(min_trials={self.min_trials}, "
            f"warmup_epochs={self.warmup_epochs}, min_epochs={self.min_epochs})"
        )


def resolve_pruning(pruning: Any, kind: str) -> Pruning | None:
    """Check the ``pruning=`` argument of a tuner; return the strategy or None."""
    if pruning is None or pruning is False:
        return None
    if isinstance(pruning, str):
        if pruning != "median":
            raise invalid_parameter(
                "pruning",
                pruning,
                "'median', a tunekit.Pruning instance or None",
            )
        pruning = MedianPruning()
    if isinstance(pruning, type) and issubclass(pruning, Pruning):
        raise invalid_parameter(
            "pruning",
            pruning,
            "a tunekit.Pruning instance, not the class",
            f"Pass `pruning={pruning.__name__}()`.",
        )
    if not isinstance(pruning, Pruning):
        raise invalid_parameter(
            "pruning", pruning, "'median', a tunekit.Pruning instance or None"
        )
    if kind == "hyperband":
        raise InvalidParameterError(
            "Hyperband does not take `pruning`: its successive halving already "
            "stops the weaker trials of each bracket after a few epochs. Use "
            "tunekit.RandomSearch or tunekit.BayesianOptimization with "
            f"`pruning=`, or Hyperband without it. {received('pruning', pruning)}"
        )
    if isinstance(pruning, MedianPruning):
        pruning._check()
    return pruning


def is_pruned(trial: Any) -> bool:
    """Whether ``trial`` (a KerasTuner Trial) was stopped by tunekit's pruning."""
    message = getattr(trial, "message", None)
    return isinstance(message, str) and message.startswith(PRUNED_MARK)


def pruned_message(reason: str) -> str:
    """The message stored on a pruned trial."""
    return f"{PRUNED_MARK}: {reason}"


def pruning_callback(
    pruning: Pruning,
    *,
    trial_id: str,
    objective: Any,
    history: PruningHistory,
    on_prune: Any,
) -> Any:
    """A Keras callback that asks ``pruning`` after each epoch and stops the fit."""
    import keras

    class _PruningCallback(keras.callbacks.Callback):
        def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
            logs = logs or {}
            if not objective.has_value(logs):
                return
            value = float(np.mean(objective.get_value(logs)))
            history.current[epoch] = value
            if pruning.should_prune(trial_id, epoch, value, history):
                on_prune(epoch, value, pruning.explain(trial_id, epoch, value, history))
                self.model.stop_training = True

    return _PruningCallback()
