"""OptunaSearch: the Optuna engine behind the KerasTuner API (tuners/_optuna_*.py).

The space mapping and the argument checks run in-process on real Optuna
studies; the searches train tiny real models on scikit-learn digits; the
process tests start real workers (tests/tuners/distributed_job.py) on the
embedded SQLite storage and on a real PostgreSQL server (the ``postgres_url``
fixture), kill one with SIGKILL, and read the study afterwards.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import keras
import keras_tuner
import numpy as np
import optuna
import pytest
from sklearn.datasets import load_digits
from tiny_models import dense_digits

import tunekit
from tunekit.tuners._optuna_space import REFLECTED_SUFFIX, optuna_params
from tunekit.tuners._optuna_space import suggest_values as suggest
from tunekit.tuners._report_data import report_from_project


@pytest.fixture(scope="module")
def digits():
    data = load_digits()
    x = (data.data / 16.0).astype("float32")
    y = data.target.astype("int64")
    return x[:300], y[:300], x[300:400], y[300:400]


def _study(seed: int = 0):
    return optuna.create_study(sampler=optuna.samplers.RandomSampler(seed))


def _search(tuner, digits, epochs=1):
    x, y, xv, yv = digits
    tuner.search(x, y, validation_data=(xv, yv), epochs=epochs, batch_size=64)


def _finished(study):
    states = optuna.trial.TrialState
    return [t for t in study.trials if t.state in (states.COMPLETE, states.PRUNED)]


# --------------------------------------------------------------------------
# the space
# --------------------------------------------------------------------------


def test_every_kind_of_hyperparameter_maps_to_its_own_range():
    hp = keras_tuner.HyperParameters()
    hp.Int("linear", 2, 11, step=3)
    hp.Int("log_int", 1, 64, sampling="log")
    hp.Int("geometric", 2, 32, step=2, sampling="log")
    hp.Float("uniform", 0.1, 0.5)
    hp.Float("stepped", 0.0, 1.0, step=0.25)
    hp.Float("rate", 1e-4, 1e-1, sampling="log")
    hp.Float("decay", 0.5, 0.999, sampling="reverse_log")
    hp.Choice("act", ["relu", "tanh"])
    hp.Boolean("bn")
    hp.Fixed("size", 7)
    study = _study()
    for _ in range(40):
        trial = study.ask()
        values = suggest(trial, hp)
        assert values["linear"] in (2, 5, 8, 11)
        assert 1 <= values["log_int"] <= 64 and isinstance(values["log_int"], int)
        assert values["geometric"] in (2, 4, 8, 16, 32)
        assert 0.1 <= values["uniform"] <= 0.5
        assert values["stepped"] in (0.0, 0.25, 0.5, 0.75, 1.0)
        assert 1e-4 <= values["rate"] <= 1e-1
        assert 0.5 <= values["decay"] <= 0.999
        assert values["act"] in ("relu", "tanh")
        assert values["bn"] in (True, False)
        assert values["size"] == 7
        assert "size" not in trial.params  # Fixed: nothing sampled
        assert "decay" not in trial.params  # reverse log: the reflection
        reflected = trial.params["decay" + REFLECTED_SUFFIX]
        assert math.isclose(values["decay"], 0.5 + 0.999 - reflected)
        study.tell(trial, 0.0)
    distributions = study.trials[0].distributions
    assert distributions["rate"].log and distributions["log_int"].log
    assert distributions["linear"].step == 3


def test_reverse_log_samples_crowd_the_top_of_the_range_like_kerastuner():
    hp = keras_tuner.HyperParameters()
    hp.Float("decay", 0.01, 1.0, sampling="reverse_log")
    decay = hp.space[0]
    study = _study(1)
    values = np.array([suggest(study.ask(), hp)["decay"] for _ in range(600)])
    kerastuner = np.array([decay.random_sample(seed) for seed in range(600)])
    middle = (0.01 + 1.0) / 2
    ours, theirs = np.mean(values > middle), np.mean(kerastuner > middle)
    assert ours > 0.75 and abs(ours - theirs) < 0.06  # linear would be 0.5


def test_an_inactive_conditional_hyperparameter_gets_no_value_and_no_parameter():
    hp = keras_tuner.HyperParameters()
    hp.Choice("kind", ["conv", "dense"])
    with hp.conditional_scope("kind", ["conv"]):
        hp.Int("filters", 8, 32, step=8)
    with hp.conditional_scope("kind", ["dense"]):
        hp.Int("units", 16, 64, step=16)
    study = _study(2)
    seen = set()
    for _ in range(20):
        trial = study.ask()
        values = suggest(trial, hp)
        active = "filters" if values["kind"] == "conv" else "units"
        inactive = "units" if active == "filters" else "filters"
        assert active in values and active in trial.params
        assert inactive not in values and inactive not in trial.params
        seen.add(values["kind"])
    assert seen == {"conv", "dense"}


def test_queued_values_come_back_from_an_enqueued_trial():
    hp = keras_tuner.HyperParameters()
    hp.Float("decay", 0.5, 0.999, sampling="reverse_log")
    hp.Int("units", 8, 64, step=8)
    hp.Fixed("size", 3)
    study = _study(3)
    wanted = {"decay": 0.9, "units": 24, "size": 3}
    study.enqueue_trial(optuna_params(hp, wanted))
    values = suggest(study.ask(), hp)
    assert values["units"] == 24 and values["size"] == 3
    assert math.isclose(values["decay"], 0.9)


# --------------------------------------------------------------------------
# arguments, before anything is trained
# --------------------------------------------------------------------------


def test_pruning_names_map_to_optuna_pruners_and_tunekit_rules(tmp_path):
    kinds = {
        "asha": optuna.pruners.SuccessiveHalvingPruner,
        "hyperband": optuna.pruners.HyperbandPruner,
        None: optuna.pruners.NopPruner,
    }
    for name, kind in kinds.items():
        tuner = tunekit.OptunaSearch(
            dense_digits, "val_accuracy", max_trials=2, pruning=name,
            directory=tmp_path, project_name=f"p{name}", verbose=False,
        )  # fmt: skip
        assert isinstance(tuner.study.pruner, kind)
    median = tunekit.OptunaSearch(
        dense_digits, "val_accuracy", max_trials=2, pruning="median",
        directory=tmp_path, project_name="median", verbose=False,
    )  # fmt: skip
    assert isinstance(median._tunekit.pruning.rule, tunekit.MedianPruning)
    given = optuna.pruners.PercentilePruner(25.0)
    own = tunekit.OptunaSearch(
        dense_digits, "val_accuracy", max_trials=2, pruning=given,
        directory=tmp_path, project_name="own", verbose=False,
    )  # fmt: skip
    assert own.study.pruner is given


@pytest.mark.parametrize(
    ("arguments", "name"),
    [
        ({"pruning": "ashaa"}, "pruning"),
        ({"pruning": optuna.pruners.MedianPruner}, "pruning"),
        ({"pruning": 3}, "pruning"),
        ({"sampler": "tpe"}, "sampler"),
        ({"sampler": optuna.samplers.TPESampler}, "sampler"),
        ({"storage": "not a url"}, "storage"),
        ({"storage": 5}, "storage"),
        ({"study_name": ""}, "study_name"),
        ({"max_trials": 0}, "max_trials"),
        ({"heartbeat_interval": 0}, "heartbeat_interval"),
        ({"seed": 1.5}, "seed"),
    ],
)
def test_bad_arguments_are_named_before_anything_is_written(tmp_path, arguments, name):
    with pytest.raises(tunekit.InvalidParameterError) as caught:
        tunekit.OptunaSearch(
            dense_digits, "val_accuracy", **{"max_trials": 2, **arguments},
            directory=tmp_path, project_name="p", verbose=False,
        )  # fmt: skip
    assert f"`{name}`" in str(caught.value)
    assert f"Received: {name}=" in str(caught.value)
    assert not (tmp_path / "p").exists()


def test_a_misspelt_pruning_name_gets_a_suggestion(tmp_path):
    with pytest.raises(tunekit.InvalidParameterError, match="Did you mean 'asha'"):
        tunekit.OptunaSearch(
            dense_digits, "val_accuracy", max_trials=2, pruning="ahsa",
            directory=tmp_path, verbose=False,
        )  # fmt: skip


def test_missing_optuna_names_the_extra(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "optuna", None)
    with pytest.raises(
        tunekit.MissingDependencyError, match=r"keras-tunekit\[optuna\]"
    ):
        tunekit.OptunaSearch(dense_digits, "val_accuracy", directory=tmp_path)


def test_kerastuners_chief_variables_are_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("KERASTUNER_TUNER_ID", "worker0")
    with pytest.raises(tunekit.DistributedSetupError, match="needs no chief"):
        tunekit.OptunaSearch(dense_digits, "val_accuracy", directory=tmp_path)


def test_an_objective_the_model_does_not_log_is_refused_before_any_training(
    tmp_path, digits
):
    with pytest.raises(tunekit.ObjectiveError, match="Did you mean 'val_accuracy'"):
        tunekit.OptunaSearch(dense_digits, "val_acuracy", directory=tmp_path)
    tuner = tunekit.OptunaSearch(
        dense_digits, "val_precision", max_trials=2, directory=tmp_path,
        verbose=False,
    )  # fmt: skip
    with pytest.raises(tunekit.ObjectiveError, match="val_accuracy"):
        _search(tuner, digits)
    assert tuner.study.trials == []


def test_the_factory_has_the_factories_defaults(tmp_path):
    tuner = tunekit.optuna_search(
        dense_digits, max_trials=3, directory=tmp_path, verbose=False
    )
    assert tuner.oracle.objective.name == "val_accuracy"
    assert tuner.study.direction == optuna.study.StudyDirection.MAXIMIZE
    # initial_trials="defaults": the space's defaults are queued first
    waiting = tuner.study.get_trials(states=(optuna.trial.TrialState.WAITING,))
    assert [t.system_attrs["fixed_params"] for t in waiting] == [{"units": 4}]
    with pytest.raises(tunekit.InvalidParameterError, match="unexpected keyword"):
        tunekit.optuna_search(
            dense_digits, max_trials=3, directory=tmp_path, max_epochs=3
        )


# --------------------------------------------------------------------------
# searches in this process
# --------------------------------------------------------------------------


def _run(tmp_path, digits, name, epochs=1, **options):
    tuner = tunekit.OptunaSearch(
        dense_digits, "val_accuracy", directory=tmp_path, project_name=name,
        verbose=False, **{"max_trials": 3, "seed": 7, **options},
    )  # fmt: skip
    _search(tuner, digits, epochs=epochs)
    return tuner


@pytest.mark.slow
def test_a_seeded_search_gives_the_same_trials_and_scores_twice(tmp_path, digits):
    first = _run(tmp_path, digits, "one")
    second = _run(tmp_path, digits, "two")
    one = [(t.params, t.value) for t in first.study.trials]
    two = [(t.params, t.value) for t in second.study.trials]
    assert one == two and len(one) == 3
    best = first.get_best_hyperparameters()[0].values
    assert best == first.study.best_trial.user_attrs["hyperparameters"]
    assert len(first.get_best_models(1)) == 1


@pytest.mark.slow
def test_the_search_reports_every_epoch_and_ranks_pruned_trials_last(tmp_path, digits):
    class PruneOddTrials(tunekit.Pruning):
        def should_prune(self, trial_id, epoch, value, history):
            return int(trial_id) % 2 == 1 and epoch >= 1

    tuner = _run(tmp_path, digits, "pruned", pruning=PruneOddTrials(), epochs=3)
    states = {t.number: t.state.name for t in tuner.study.trials}
    assert states == {0: "COMPLETE", 1: "PRUNED", 2: "COMPLETE"}
    assert sorted(tuner.study.trials[0].intermediate_values) == [0, 1, 2]
    assert sorted(tuner.study.trials[1].intermediate_values) == [0, 1]
    ranked = [t.trial_id for t in tuner.oracle.get_best_trials(3)]
    assert ranked[-1] == "1"
    summary = tunekit.summarize(tuner)
    assert "PRUNED" in str(summary)


@pytest.mark.slow
def test_hyperparameters_that_appear_in_fit_are_sampled_in_later_trials(
    tmp_path, digits
):
    class BatchInFit(keras_tuner.HyperModel):
        def build(self, hp):
            return dense_digits(hp)

        def fit(self, hp, model, *args, **kwargs):
            kwargs["batch_size"] = hp.Choice("batch_size", [16, 32, 64, 128])
            return model.fit(*args, **kwargs)

    tuner = tunekit.OptunaSearch(
        BatchInFit(), "val_accuracy", max_trials=6, seed=2, directory=tmp_path,
        verbose=False,
    )  # fmt: skip
    _search(tuner, digits)
    assert "batch_size" in [hp.name for hp in tuner.oracle.hyperparameters.space]
    sampled = [t.params.get("batch_size") for t in tuner.study.trials]
    assert sampled[0] is None  # built with the default before it was known
    assert len({v for v in sampled[1:] if v is not None}) >= 2
    for trial in tuner.study.trials:
        assert "batch_size" in trial.user_attrs["hyperparameters"]


@pytest.mark.slow
def test_a_resumed_search_runs_only_the_missing_trials(tmp_path, digits):
    _run(tmp_path, digits, "resume", max_trials=2)
    again = _run(tmp_path, digits, "resume", max_trials=4)
    assert len(_finished(again.study)) == 4
    assert sorted(again.oracle.trials) == ["0", "1", "2", "3"]
    with pytest.raises(tunekit.StaleProjectError, match="pruning"):
        _run(tmp_path, digits, "resume", max_trials=4, pruning="asha")


# --------------------------------------------------------------------------
# real processes
# --------------------------------------------------------------------------


def _load(directory: Path, storage: str | None = None):
    url = storage or f"sqlite:///{directory / 'search' / 'optuna.db'}"
    return optuna.load_study(study_name="search", storage=url)


def _live(study) -> list:
    """The study's trials, less those dropped as surplus before any training."""
    return [t for t in study.trials if not t.user_attrs.get("tunekit_surplus")]


def _live_states(study) -> list[str]:
    return [t.state.name for t in _live(study)]


def _workers(study) -> dict[int, int]:
    return {t.number: t.user_attrs["tunekit_worker"]["pid"] for t in _live(study)}


def _start(processes, name, directory, *extra, storage=None):
    args = ["--tuner", "optuna", "--max-trials", "9", "--epochs", "1", *extra]
    if storage:
        args += ["--storage", storage]
    return processes.job(name, directory, *args)


@pytest.mark.slow
def test_three_workers_share_a_nine_trial_search_with_no_chief(tmp_path, processes):
    directory = tmp_path / "shared"
    started = [
        _start(processes, f"w{i}", directory, "--barrier", "3") for i in range(3)
    ]
    for i in range(3):
        assert processes.wait(f"w{i}") == 0, processes.logs()
    study = _load(directory)
    assert _live_states(study) == ["COMPLETE"] * 9, processes.logs()
    by_worker = _workers(study)
    assert len(by_worker) == 9  # each trial number once
    assert set(by_worker.values()) == {p.pid for p in started}  # each trained
    for i in range(3):  # one line per trial from every process
        assert "val_accuracy" in processes.log(f"w{i}")
    report = report_from_project(str(directory / "search"))  # `tunekit report`
    assert sorted(t.status for t in report.trials) == ["COMPLETED"] * 9


@pytest.mark.slow
def test_a_worker_killed_mid_trial_loses_nothing(tmp_path, processes):
    directory = tmp_path / "shared"
    victim = _start(processes, "victim", directory, "--epoch-sleep", "30")
    processes.wait_until(
        lambda: any(p.startswith("epoch-") for p in _marker_names(processes)),
        "the victim's first epoch",
    )
    processes.kill("victim")
    others = [_start(processes, f"w{i}", directory) for i in range(2)]
    for i in range(2):
        assert processes.wait(f"w{i}") == 0, processes.logs()
    study = _load(directory)
    states = _live_states(study)
    assert states.count("COMPLETE") == 9, processes.logs()
    killed = [t for t in _live(study) if t.state.name == "FAIL"]
    assert [t.user_attrs["tunekit_worker"]["pid"] for t in killed] == [victim.pid]
    retried = [t for t in study.trials if t.system_attrs.get("failed_trial") == 0]
    assert len(retried) == 1 and retried[0].state.name == "COMPLETE"
    assert retried[0].params == killed[0].params
    assert {p.pid for p in others} == set(_workers(study).values()) - {victim.pid}


def _marker_names(processes) -> list[str]:
    return [p.name for p in processes.markers.iterdir()]


@pytest.mark.slow
def test_a_search_killed_and_rerun_resumes_from_the_storage(tmp_path, processes):
    directory = tmp_path / "solo"
    _start(processes, "first", directory, "--epoch-sleep", "0.5")
    processes.wait_until(lambda: _finished_count(directory) >= 2, "two trials")
    processes.kill("first")
    done_before = len(_finished(_load(directory)))
    _start(processes, "again", directory)
    assert processes.wait("again") == 0, processes.logs()
    study = _load(directory)
    assert len(_finished(study)) == 9
    assert done_before >= 2
    assert "resum" in processes.log("again").lower()


def _finished_count(directory: Path) -> int:
    try:  # the study may not exist yet
        return len(_finished(_load(directory)))
    except Exception:
        return 0


@pytest.mark.slow
def test_two_workers_share_a_study_through_postgresql(
    tmp_path, processes, postgres_url
):
    directory = tmp_path / "pg"
    for i in range(2):
        _start(processes, f"w{i}", directory, "--barrier", "2", storage=postgres_url)
    for i in range(2):
        assert processes.wait(f"w{i}") == 0, processes.logs()
    study = _load(directory, postgres_url)
    assert _live_states(study) == ["COMPLETE"] * 9
    assert len(set(_workers(study).values())) == 2
    assert not (directory / "search" / "optuna.db").exists()


def test_the_launcher_runs_peers_without_a_chief(tmp_path):
    import io

    from tunekit.tuners import _launcher

    script = (
        "import os, sys; i = os.environ['TUNEKIT_WORKER_INDEX']; "
        "print('peer', i, 'KERASTUNER_TUNER_ID' in os.environ); "
        "sys.exit(5 if i == '1' else 0)"
    )
    out = io.StringIO()
    code = _launcher.launch(
        [sys.executable, "-c", script], 2, gpus=[], stream=out, timeout=120,
        chief=False,
    )  # fmt: skip
    assert code == 5
    lines = out.getvalue().splitlines()
    assert "[worker0] peer 0 False" in lines and "[worker1] peer 1 False" in lines
    assert not any("chief" in line for line in lines)
    assert _launcher.runs_optuna(["tunekit", "tune", "d", "--tuner", "optuna"])


@pytest.mark.slow
def test_python_m_tunekit_distributed_starts_optuna_peers(tmp_path):
    import subprocess

    from processes import JOB

    directory = tmp_path / "peers"
    command = [
        sys.executable, "-m", "tunekit.distributed", "--workers", "2", "--no-chief",
        "--timeout", "400", "--", sys.executable, str(JOB), "--directory",
        str(directory), "--tuner", "optuna", "--max-trials", "4", "--epochs", "1",
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=480)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    study = _load(directory)
    assert _live_states(study) == ["COMPLETE"] * 4
    assert "2 worker(s) sharing one Optuna study" in done.stdout


@pytest.mark.slow
def test_tuned_fit_arguments_and_cross_validation_work_as_on_the_other_tuners(
    tmp_path, digits
):
    x, y, _, _ = digits
    tuner = tunekit.OptunaSearch(
        dense_digits, "val_accuracy", max_trials=2, seed=4, pruning="asha",
        fit_hyperparameters={"batch_size": [16, 64]}, directory=tmp_path,
        verbose=False,
    )  # fmt: skip
    tuner.search(x, y, cv=2, epochs=2)
    trials = tuner.study.trials
    assert [t.state.name for t in trials] == ["COMPLETE", "COMPLETE"]
    for trial in trials:
        assert trial.params["batch_size"] in (16, 64)
        assert sorted(trial.intermediate_values) == [0, 1]  # the first fold's
    summary = tunekit.summarize(tuner)
    assert len(summary.rows) == 2


def test_a_worker_with_another_space_never_joins_the_study(tmp_path):
    storage = f"sqlite:///{tmp_path / 'shared.db'}"
    common = {"storage": storage, "study_name": "s", "verbose": False}
    tunekit.OptunaSearch(
        dense_digits, "val_accuracy", max_trials=3, directory=tmp_path / "a", **common
    )

    def other(hp):
        hp.Choice("units", [4, 8, 16])  # another space
        return dense_digits(hp)

    with pytest.raises(tunekit.StaleProjectError, match="mix trials") as caught:
        tunekit.OptunaSearch(
            other, "val_accuracy", max_trials=3, directory=tmp_path / "b", **common
        )
    assert "units" in str(caught.value)
    again = tunekit.OptunaSearch(  # the same arguments on another folder: joins
        dense_digits, "val_accuracy", max_trials=3, directory=tmp_path / "c", **common
    )
    assert again.study.study_name == "s"


def test_overwrite_deletes_the_study_in_an_external_storage(tmp_path):
    storage = f"sqlite:///{tmp_path / 'shared.db'}"
    common = {"storage": storage, "study_name": "s", "verbose": False}
    first = tunekit.OptunaSearch(
        dense_digits, "val_accuracy", max_trials=3, directory=tmp_path, **common
    )
    first.study.enqueue_trial({"units": 8})
    fresh = tunekit.OptunaSearch(
        dense_digits, "val_accuracy", max_trials=3, directory=tmp_path,
        overwrite=True, **common,
    )  # fmt: skip
    assert fresh.study.trials == []


@pytest.mark.slow
def test_a_trial_another_process_already_failed_does_not_end_the_search(
    tmp_path, digits
):
    tuner = tunekit.OptunaSearch(
        dense_digits, "val_accuracy", max_trials=2, seed=5, directory=tmp_path,
        verbose=False,
    )  # fmt: skip

    class FailedElsewhere(keras.callbacks.Callback):
        """What a peer does when this trial's heartbeat looks stale."""

        def on_train_end(self, logs=None):
            running = tuner.study.get_trials(states=(optuna.trial.TrialState.RUNNING,))
            if running and running[0].number == 0:
                tuner.study.tell(0, state=optuna.trial.TrialState.FAIL)

    x, y, xv, yv = digits
    with pytest.warns(RuntimeWarning, match="already ended in the study"):
        tuner.search(
            x, y, validation_data=(xv, yv), epochs=1, callbacks=[FailedElsewhere()]
        )
    states = [t.state.name for t in tuner.study.trials]
    assert states[0] == "FAIL" and states.count("COMPLETE") == 2
