"""The ``postgres_url`` fixture is a real PostgreSQL server two processes share.

Two Python processes load one optuna study stored in it and run trials at the
same time; the parent then sees every trial of both, numbered without clashes.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

optuna = pytest.importorskip("optuna")

WORKER = textwrap.dedent(
    """
    import os, sys
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.load_study(study_name="shared", storage=sys.argv[1])

    def objective(trial):
        trial.set_user_attr("pid", os.getpid())
        return trial.suggest_float("x", 0, 1)

    study.optimize(objective, n_trials=3)
    """
)


@pytest.mark.slow
def test_two_processes_share_a_study_through_postgres(postgres_url):
    assert postgres_url.startswith("postgresql")
    storage = optuna.storages.RDBStorage(postgres_url)
    with storage.engine.connect() as connection:
        assert connection.dialect.name == "postgresql"
    optuna.create_study(study_name="shared", storage=storage)

    workers = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, postgres_url],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for _ in range(2)
    ]
    for worker in workers:
        output, _ = worker.communicate(timeout=60)
        assert worker.returncode == 0, output

    trials = optuna.load_study(study_name="shared", storage=postgres_url).trials
    assert len(trials) == 6
    assert sorted(t.number for t in trials) == list(range(6))
    assert all(t.state == optuna.trial.TrialState.COMPLETE for t in trials)
    pids = [t.user_attrs["pid"] for t in trials]
    assert sorted(pids.count(pid) for pid in set(pids)) == [3, 3]
    assert {worker.pid for worker in workers} == set(pids)
