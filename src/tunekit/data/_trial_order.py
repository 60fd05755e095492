"""Loaders whose shuffled order restarts at every trial of a seeded search.

tunekit's loaders (the ``flow_from_directory`` / ``ImageDataGenerator``
iterators and the datasets of :func:`tunekit.image_dataset_from_directory`)
draw epoch ``e``'s order from their seed and ``e``, counting the epochs they
have served in this process. A search that passes one loader to every trial
would then give trial ``k`` the orders that follow trial ``k - 1``'s: a
resumed search (a new process, a fresh loader) would train its trials on
other orders than the same search never stopped. :func:`restarted_orders`
restarts each loader at epoch 0 with a key drawn from ``(loader seed, trial
seed)`` for one ``fit`` and puts it back afterwards, so a trial's orders
depend on the seeds only.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

__all__ = ["restartable_loaders", "restarted_orders"]


def restartable_loaders(args: Sequence[Any], kwargs: Mapping[str, Any]) -> list[Any]:
    """The loaders among ``fit``'s arguments whose order can restart.

    Looks at the positional arguments, the keyword arguments and the items
    of a ``validation_data`` tuple; each loader is listed once.

    Examples
    --------
    >>> from tunekit.data._trial_order import restartable_loaders
    >>> restartable_loaders(([1, 2, 3],), {"epochs": 2})
    []
    """
    candidates = [*args, *kwargs.values()]
    validation = kwargs.get("validation_data")
    if isinstance(validation, (tuple, list)):
        candidates.extend(validation)
    found: list[Any] = []
    for candidate in candidates:
        if not callable(getattr(candidate, "_restart_order", None)):
            continue
        if not any(candidate is seen for seen in found):
            found.append(candidate)
    return found


@contextlib.contextmanager
def restarted_orders(
    args: Sequence[Any], kwargs: Mapping[str, Any], trial_seed: int | None
) -> Iterator[None]:
    """Restart the loaders' orders from ``trial_seed``; put them back on exit.

    With ``trial_seed=None`` (an unseeded search) nothing is touched.
    """
    if trial_seed is None:
        yield
        return
    undo = []
    try:
        for loader in restartable_loaders(args, kwargs):
            undo.append(loader._restart_order(int(trial_seed)))
        yield
    finally:
        for restore in reversed(undo):
            restore()
