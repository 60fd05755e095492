"""The failure report of a search: which trials failed, and the first reason."""

from __future__ import annotations

from typing import Any

from tunekit._errors import SearchFailedError
from tunekit.tuners._distributed import local_trials

__all__ = ["raise_if_nothing_completed", "search_failed"]


def _failures(tuner: Any) -> list[Any]:
    trials = local_trials(tuner.oracle)
    if trials is None:  # a distributed worker: the chief holds the trials
        return []
    ordered = [trials[i] for i in tuner.oracle.end_order if i in trials]
    ordered += [t for t in trials.values() if t not in ordered]
    return [t for t in ordered if t.status in ("FAILED", "INVALID")]


def search_failed(tuner: Any, detail: str = "") -> SearchFailedError:
    """A SearchFailedError naming the failed trials and the first failure."""
    failures = _failures(tuner)
    first = failures[0].message if failures and failures[0].message else detail
    trials = local_trials(tuner.oracle)
    if trials is None:  # a distributed worker: the chief holds the trials
        message = (
            "The search stopped after too many consecutive failed trials (the "
            "chief's count). The first failure was:\n"
            + (first or "(no message recorded)").strip()
        )
    else:
        completed = sum(t.status == "COMPLETED" for t in trials.values())
        message = (
            f"The search ended with {completed} completed trial(s) out of "
            f"{len(trials)}; {len(failures)} failed. The first failure "
            "was:\n" + (first or "(no message recorded)").strip()
        )
    error = SearchFailedError(message)
    error.first_failure = first  # type: ignore[attr-defined]
    error.failed_trials = [t.trial_id for t in failures]  # type: ignore[attr-defined]
    return error


def raise_if_nothing_completed(tuner: Any) -> None:
    """Raise SearchFailedError when no trial of this process completed."""
    trials = local_trials(tuner.oracle)
    if trials is None:  # a distributed worker: the chief holds the trials
        return
    from tunekit.tuners._kerastuner import distribute_utils as dist_utils

    if dist_utils.is_chief_oracle():
        return
    if any(t.status == "COMPLETED" for t in trials.values()):
        return
    raise search_failed(tuner)
