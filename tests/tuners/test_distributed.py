"""KerasTuner's distributed mode through tunekit (tunekit/tuners/_distributed.py).

The environment checks, the worker's fingerprint check, the lost-worker
bookkeeping and the launcher are tested in-process. The process tests start
real chiefs and workers (tests/tuners/distributed_job.py, tiny models on
scikit-learn digits) over 127.0.0.1 only, kill them with SIGKILL and restart
them; every wait is bounded and leftovers are killed afterwards.
"""

from __future__ import annotations

import io
import json
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from processes import JOB, WAIT_S, _env_of
from tiny_models import dense_digits

import tunekit
from tunekit.tuners import _distributed as dist
from tunekit.tuners import _launcher

LOOPBACK = "127.0.0.1"


@pytest.fixture
def clean_env(monkeypatch):
    for name in (
        dist.IP_VAR,
        dist.PORT_VAR,
        dist.ID_VAR,
        dist.ORACLE_TIMEOUT_VAR,
        dist.WORKER_TIMEOUT_VAR,
        dist.HEARTBEAT_VAR,
    ):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


# --------------------------------------------------------------------------
# The environment (no processes)
# --------------------------------------------------------------------------


def test_not_distributed_without_the_variables():
    assert dist.check_distributed_environment({}) is None
    assert dist.distributed_role({}) == "single"
    assert dist.distributed_role({"KERASTUNER_TUNER_ID": "chief"}) == "single"


def test_chief_is_the_exact_id_chief_and_any_other_id_a_worker():
    setup = dist.check_distributed_environment(_env_of("chief", 9001))
    assert (setup.role, setup.port, setup.address) == ("chief", 9001, "127.0.0.1:9001")
    assert dist.check_distributed_environment(_env_of("gpu-box-3")).role == "worker"
    assert dist.distributed_role(_env_of("worker1")) == "worker"


@pytest.mark.parametrize("tuner_id", ["nonchief", "chief2", "Xchief", "chief "])
def test_an_id_containing_chief_is_refused(tuner_id):
    # KerasTuner tests `"chief" in id`: these would start a second chief.
    with pytest.raises(dist.DistributedSetupError, match="exactly 'chief'") as info:
        dist.check_distributed_environment(_env_of(tuner_id))
    assert f"KERASTUNER_TUNER_ID={tuner_id!r}" in str(info.value)
    assert isinstance(info.value, tunekit.InvalidParameterError)


def test_port_without_ip_is_refused():
    with pytest.raises(dist.DistributedSetupError, match="silently run"):
        dist.check_distributed_environment({"KERASTUNER_ORACLE_PORT": "8000"})


@pytest.mark.parametrize("tuner_id", ["worker0", "chief", ""])
def test_a_tuner_id_without_ip_and_port_is_refused(tuner_id):
    # KerasTuner would run this process as its own, separate search.
    with pytest.raises(dist.DistributedSetupError, match="silently run") as info:
        dist.check_distributed_environment({"KERASTUNER_TUNER_ID": tuner_id})
    message = str(info.value)
    assert "KERASTUNER_ORACLE_IP and KERASTUNER_ORACLE_PORT are not" in message
    assert message.endswith(f"Received: KERASTUNER_TUNER_ID={tuner_id!r}")
    assert isinstance(info.value, tunekit.InvalidParameterError)


def test_a_tuner_with_a_lone_tuner_id_fails_before_touching_the_project(
    tmp_path, clean_env
):
    clean_env.setenv("KERASTUNER_TUNER_ID", "worker0")
    with pytest.raises(dist.DistributedSetupError, match="KERASTUNER_ORACLE_IP"):
        tunekit.RandomSearch(
            dense_digits, "val_accuracy", max_trials=2, directory=tmp_path
        )
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("env", "name", "words"),
    [
        ({"KERASTUNER_ORACLE_IP": "10.0.0.1"}, "KERASTUNER_ORACLE_PORT", "not"),
        ({**_env_of("w1"), "KERASTUNER_ORACLE_PORT": "http"}, "PORT", "between"),
        ({**_env_of("w1"), "KERASTUNER_ORACLE_PORT": "0"}, "PORT", "between"),
        ({**_env_of("w1"), "KERASTUNER_ORACLE_PORT": "70000"}, "PORT", "between"),
        ({**_env_of("w1"), "KERASTUNER_ORACLE_IP": " "}, "IP", "empty"),
        ({**_env_of("w1"), "KERASTUNER_TUNER_ID": ""}, "TUNER_ID", "unique name"),
    ],
)
def test_incomplete_or_bad_variables_are_named(env, name, words):
    env = {k: v for k, v in env.items()}
    if name == "KERASTUNER_ORACLE_PORT":
        env.pop("KERASTUNER_TUNER_ID", None)
    with pytest.raises(dist.DistributedSetupError, match=words) as info:
        dist.check_distributed_environment(env)
    assert "Received: KERASTUNER_" in str(info.value)
    assert name in str(info.value)


def test_missing_tuner_id_is_refused():
    env = _env_of("w1")
    del env["KERASTUNER_TUNER_ID"]
    with pytest.raises(dist.DistributedSetupError, match="'chief' on the chief"):
        dist.check_distributed_environment(env)


@pytest.mark.parametrize("value", ["0", "-3", "soon"])
def test_tunekit_timeouts_must_be_positive_seconds(value):
    with pytest.raises(dist.DistributedSetupError, match="positive number"):
        dist.check_distributed_setup({dist.ORACLE_TIMEOUT_VAR: value})
    dist.check_distributed_setup({dist.WORKER_TIMEOUT_VAR: "2.5"})


def test_only_the_chief_may_overwrite():
    assert dist.chief_may_overwrite(True, _env_of("chief")) is True
    assert dist.chief_may_overwrite(True, _env_of("worker0")) is False
    assert dist.chief_may_overwrite(False, _env_of("chief")) is False
    assert dist.chief_may_overwrite(True, {}) is True


def test_distribution_strategy_needs_tensorflow():
    with pytest.raises(dist.DistributedSetupError, match="TensorFlow backend"):
        dist.check_distribution_strategy(object(), backend="jax")
    with pytest.raises(dist.DistributedSetupError, match=r"tf\.distribute\.Strategy"):
        dist.check_distribution_strategy(object(), backend="tensorflow")
    dist.check_distribution_strategy(None, backend="jax")


def test_distribution_strategy_passes_through_or_fails_clearly(
    tmp_path, clean_env, digits
):
    import keras

    if keras.backend.backend() != "tensorflow":
        with pytest.raises(dist.DistributedSetupError, match="KERAS_BACKEND") as info:
            tunekit.RandomSearch(
                dense_digits, "val_accuracy", max_trials=1, directory=tmp_path,
                distribution_strategy=object(), verbose=False,
            )  # fmt: skip
        assert "Received: distribution_strategy='object instance'" in str(info.value)
        assert not (tmp_path / "untitled_project").exists()
        return
    tf = pytest.importorskip("tensorflow")
    strategy = tf.distribute.OneDeviceStrategy("/cpu:0")
    tuner = tunekit.RandomSearch(
        dense_digits, "val_accuracy", max_trials=1, directory=tmp_path,
        distribution_strategy=strategy, max_consecutive_failed_trials=1,
        verbose=False,
    )  # fmt: skip
    assert tuner.distribution_strategy is strategy
    x, y = digits
    tuner.search(x[:200].reshape(200, 64), y[:200], validation_split=0.25, epochs=1)
    assert tuner.oracle.get_best_trials(1)[0].status == "COMPLETED"
    with pytest.raises(dist.DistributedSetupError, match="scope"):
        tunekit.RandomSearch(
            dense_digits, "val_accuracy", max_trials=1, directory=tmp_path / "b",
            distribution_strategy=object(), verbose=False,
        )  # fmt: skip


def test_a_tuner_refuses_an_ambiguous_chief_before_touching_the_project(
    tmp_path, clean_env
):
    for name, value in _env_of("nonchief").items():
        clean_env.setenv(name, value)
    with pytest.raises(dist.DistributedSetupError, match="second chief"):
        tunekit.RandomSearch(
            dense_digits, "val_accuracy", max_trials=2, directory=tmp_path
        )
    assert list(tmp_path.iterdir()) == []


def _fingerprint_of(tmp_path, objective="val_accuracy", units=(4, 8)):
    def build(hp):
        import keras

        model = keras.Sequential(
            [keras.Input((64,)), keras.layers.Dense(hp.Choice("units", list(units)))]
        )
        model.compile("adam", "mse", metrics=["accuracy"])
        return model

    tuner = tunekit.RandomSearch(
        build, objective, max_trials=3, directory=tmp_path, project_name="p",
        verbose=False,
    )  # fmt: skip
    return tuner, tuner._tunekit.fingerprint


def test_a_worker_with_other_settings_than_the_chief_is_refused(tmp_path, clean_env):
    chief, fingerprint = _fingerprint_of(tmp_path)
    project = chief.project_dir  # the chief wrote tunekit.json there
    dist.check_worker_matches_chief(project, fingerprint, "worker0")
    _, other = _fingerprint_of(tmp_path / "b", objective="val_loss", units=(4, 16))
    with pytest.raises(dist.WorkerMismatchError) as info:
        dist.check_worker_matches_chief(project, other, "worker0")
    message = str(info.value)
    assert "'worker0'" in message and "objective" in message
    assert "objective: chief [['val_accuracy', 'max']] -> this worker" in message
    assert "search space: 'units' changed" in message and "val_loss" in message
    assert isinstance(info.value, tunekit.StaleProjectError)


def test_a_worker_without_the_chiefs_fingerprint_is_told_to_share_the_directory(
    tmp_path,
):
    with pytest.raises(dist.WorkerMismatchError, match="shared"):
        dist.check_worker_matches_chief(tmp_path, {"tuner": "random_search"}, "w1")


def test_a_worker_never_deletes_the_shared_project(tmp_path, clean_env):
    chief, _ = _fingerprint_of(tmp_path)
    keep = Path(chief.project_dir) / "trial_0" / "trial.json"
    keep.parent.mkdir()
    keep.write_text("{}")
    for name, value in _env_of("worker0").items():
        clean_env.setenv(name, value)
    worker = tunekit.RandomSearch(
        _build_like_fingerprint, "val_accuracy", max_trials=3, directory=tmp_path,
        project_name="p", overwrite=True, verbose=False,
    )  # fmt: skip
    assert keep.exists() and (Path(chief.project_dir) / "tunekit.json").exists()
    # The worker reads its space locally and asks the chief for everything else.
    assert [hp.name for hp in worker.oracle.hyperparameters.space] == ["units"]
    with pytest.raises(AttributeError, match="read results on the chief"):
        worker.oracle.trials  # noqa: B018


def test_a_workers_client_is_never_asked_for_the_chiefs_trials(tmp_path, clean_env):
    from keras_tuner.src.engine import trial as trial_module

    from tunekit.tuners._oracles import TunekitOracle
    from tunekit.tuners._session import _number_trial_for_kerastuner

    chief, _ = _fingerprint_of(tmp_path)
    for name, value in _env_of("worker0").items():
        clean_env.setenv(name, value)
    worker = tunekit.RandomSearch(
        _build_like_fingerprint, "val_accuracy", max_trials=3, directory=tmp_path,
        project_name="p", pruning="median", initial_trials=[{"units": 8}],
        verbose=False,
    )  # fmt: skip
    client = worker.oracle
    assert dist.local_trials(client) is None
    assert dist.local_trials(chief.oracle) == {}
    # The chief ranks pruned trials and draws the queued ones; not the client.
    assert not isinstance(client, TunekitOracle)
    assert "get_best_trials" not in vars(client)
    assert "_random_values" not in vars(client)
    assert isinstance(chief.oracle, TunekitOracle)
    trial = trial_module.Trial(client.hyperparameters, trial_id="0")
    _number_trial_for_kerastuner(client, trial)  # no AttributeError
    # Finished trials come from the chief (get_best_trials), never `.trials`.
    asked = []
    client.get_best_trials = lambda num_trials=1: asked.append(num_trials) or []
    assert dist.known_trials(client) == [] and asked


def test_a_workers_own_budget_ends_its_search_without_asking_for_a_trial(
    tmp_path, clean_env
):
    from tunekit.cli._budget import SearchBudget

    _fingerprint_of(tmp_path)
    for name, value in _env_of("worker0").items():
        clean_env.setenv(name, value)
    budget = SearchBudget(target=0.5)
    worker = tunekit.RandomSearch(
        _build_like_fingerprint, "val_accuracy", max_trials=3, directory=tmp_path,
        project_name="p", verbose=False, stop_condition=budget,
    )  # fmt: skip
    client = worker.oracle
    assert dist.local_trials(client) is None
    # The chief's best (asked over RPC) reached the worker's --target.
    best = type("Trial", (), {"score": 0.75})()
    client.get_best_trials = lambda num_trials=1: [best]
    trial = client.create_trial("worker0")  # never reaches the chief's create_trial
    assert trial.status == "STOPPED"
    assert budget.stopped_because == "the best val_accuracy 0.7500 reached --target 0.5"


def _build_like_fingerprint(hp):
    import keras

    model = keras.Sequential(
        [keras.Input((64,)), keras.layers.Dense(hp.Choice("units", [4, 8]))]
    )
    model.compile("adam", "mse", metrics=["accuracy"])
    return model


# --------------------------------------------------------------------------
# The chief's lost-worker bookkeeping, on a real oracle (no processes)
# --------------------------------------------------------------------------


def _dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait(60)
    return process.pid


def _heartbeat(project: str, tuner_id: str, **record) -> Path:
    path = Path(project) / dist.HEARTBEAT_DIR / f"{tuner_id}.json"
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps(record))
    return path


def test_worker_liveness_from_its_heartbeat(tmp_path):
    project = str(tmp_path)
    here = socket.gethostname()
    assert dist.worker_alive(project, "w0", 60) is None  # no heartbeat: unknown
    _heartbeat(project, "w0", pid=os.getpid(), host=here)
    assert dist.worker_alive(project, "w0", 60) is True
    _heartbeat(project, "w1", pid=_dead_pid(), host=here)
    assert dist.worker_alive(project, "w1", 60) is False
    _heartbeat(project, "w2", pid=os.getpid(), host=here, exited=True)
    assert dist.worker_alive(project, "w2", 60) is False
    far = _heartbeat(project, "w3", pid=1, host="elsewhere.invalid")
    assert dist.worker_alive(project, "w3", 60) is True
    old = time.time() - 120
    os.utime(far, (old, old))
    assert dist.worker_alive(project, "w3", 60) is False


def test_the_trial_of_a_dead_worker_goes_to_another_worker(tmp_path, clean_env):
    tuner, _ = _fingerprint_of(tmp_path)
    oracle = tuner.oracle
    lost = oracle.create_trial("w1")
    kept = oracle.create_trial("w2")
    here = socket.gethostname()
    _heartbeat(tuner.project_dir, "w1", pid=_dead_pid(), host=here)
    _heartbeat(tuner.project_dir, "w2", pid=os.getpid(), host=here)
    state = dist._ChiefState(tuner)
    state.requeue_lost_workers()
    assert set(oracle.ongoing_trials) == {"w2"} and oracle.tuner_ids == {"w2"}
    assert oracle._retry_queue == [lost.trial_id]
    assert oracle.create_trial("w2").trial_id == kept.trial_id  # still its own
    assert oracle.create_trial("w3").trial_id == lost.trial_id  # redone by w3
    saved = json.loads((Path(tuner.project_dir) / "oracle.json").read_text())
    assert saved["ongoing_trials"] == {"w2": kept.trial_id, "w3": lost.trial_id}


def test_a_restarted_chief_leaves_live_workers_their_trials(tmp_path, clean_env):
    tuner, _ = _fingerprint_of(tmp_path)
    oracle = tuner.oracle
    running = oracle.create_trial("w1")
    orphan = oracle.create_trial("w2")
    oracle._retry_queue[:] = [running.trial_id, orphan.trial_id]  # as reload() does
    oracle.ongoing_trials.clear()
    oracle.tuner_ids.clear()
    here = socket.gethostname()
    _heartbeat(tuner.project_dir, "w1", pid=os.getpid(), host=here)
    _heartbeat(tuner.project_dir, "w2", pid=_dead_pid(), host=here)
    state = dist._ChiefState(tuner)
    state.restore_live_trials({"w1": running.trial_id, "w2": orphan.trial_id})
    assert oracle.ongoing_trials["w1"].trial_id == running.trial_id
    assert oracle._retry_queue == [orphan.trial_id]
    # A trial its worker completed after the restart is not run again.
    oracle._retry_queue.append(running.trial_id)
    oracle.trials[running.trial_id].status = "COMPLETED"
    state.forget_rerun(running.trial_id)
    assert oracle._retry_queue == [orphan.trial_id]


# --------------------------------------------------------------------------
# The launcher (real processes, no Keras)
# --------------------------------------------------------------------------


def test_environments_pin_one_gpu_per_worker_only_with_several():
    envs = _launcher.process_environments(3, 8123, gpus=["0", "1"], environ={})
    assert [envs[k]["KERASTUNER_TUNER_ID"] for k in sorted(envs)] == [
        "chief",
        "worker0",
        "worker1",
        "worker2",
    ]
    assert [envs[k]["CUDA_VISIBLE_DEVICES"] for k in sorted(envs)] == [
        "",
        "0",
        "1",
        "0",
    ]
    assert {e["KERASTUNER_ORACLE_PORT"] for e in envs.values()} == {"8123"}
    single = _launcher.process_environments(2, 8123, gpus=["0"], environ={})
    assert all("CUDA_VISIBLE_DEVICES" not in e for e in single.values())
    assert _launcher.detect_gpus({"CUDA_VISIBLE_DEVICES": "1, 3"}) == ["1", "3"]


def test_launch_merges_prefixed_output_and_returns_the_chiefs_code():
    script = (
        "import os, sys; tid = os.environ['KERASTUNER_TUNER_ID']; "
        "print('hello from', tid, os.environ['KERASTUNER_ORACLE_IP'], "
        "os.environ['KERASTUNER_ORACLE_PORT']); "
        "sys.exit(3 if tid == 'chief' else 0)"
    )
    out = io.StringIO()
    code = _launcher.launch(
        [sys.executable, "-c", script], 2, port=8765, gpus=[], stream=out, timeout=120
    )
    assert code == 3
    lines = out.getvalue().splitlines()
    for tuner_id in ("chief", "worker0", "worker1"):
        assert f"[{tuner_id}] hello from {tuner_id} 127.0.0.1 8765" in lines


def test_launch_stops_a_chief_left_without_workers():
    script = (
        "import os, time\n"
        "if os.environ['KERASTUNER_TUNER_ID'] == 'chief':\n"
        "    time.sleep(120)\n"
    )
    out = io.StringIO()
    code = _launcher.launch(
        [sys.executable, "-c", script], 1, gpus=[], stream=out, timeout=100, grace=1
    )
    assert code == 1
    assert "every worker exited" in out.getvalue()


def test_the_launcher_module_needs_a_command(capsys):
    from tunekit import distributed

    with pytest.raises(SystemExit):
        distributed.main(["--workers", "2"])
    assert "after --" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        distributed.main(["--workers", "0", "--", "python", "x.py"])


# --------------------------------------------------------------------------
# Real chiefs and workers
# --------------------------------------------------------------------------


def _trials(project: Path) -> dict[str, tuple[str, float | None]]:
    found = {}
    for path in sorted(project.glob("trial_*/trial.json")):
        record = json.loads(path.read_text())
        found[record["trial_id"]] = (record["status"], record.get("score"))
    return found


def _completed(project: Path) -> dict[str, float | None]:
    return {
        k: s for k, (status, s) in _trials(project).items() if status == "COMPLETED"
    }


@pytest.mark.slow
def test_a_chief_and_two_workers_finish_a_search(tmp_path):
    # Through `python -m tunekit.distributed`'s engine.
    out = io.StringIO()
    markers = tmp_path / "markers"
    markers.mkdir()
    directory = tmp_path / "runs"
    command = [
        sys.executable, str(JOB), "--directory", str(directory), "--max-trials",
        "4", "--epochs", "1", "--epoch-sleep", "0.3", "--epoch-marker",
        str(markers), "--barrier", "2",
    ]  # fmt: skip
    code = _launcher.launch(command, 2, gpus=[], stream=out, timeout=WAIT_S, grace=30)
    text = out.getvalue()
    assert code == 0, text[-4000:]
    runs = [p.name for p in markers.iterdir() if p.name.startswith("run-")]
    assert any(r.startswith("run-worker0-") for r in runs), text[-3000:]
    assert any(r.startswith("run-worker1-") for r in runs), text[-3000:]
    assert len(runs) == 4
    project = directory / "search"
    assert len(_completed(project)) == 4 == len(_trials(project))
    assert sum("tunekit chief: trial" in line for line in text.splitlines()) == 4
    oracle = json.loads((project / "oracle.json").read_text())
    assert oracle["ongoing_trials"] == {} and len(oracle["end_order"]) == 4


@pytest.mark.slow
def test_a_chief_and_two_workers_started_with_the_bare_variables(processes, tmp_path):
    # KerasTuner's documented way: three processes, three variables each.
    port = _launcher.free_port()
    directory = tmp_path / "runs"
    args = ("--max-trials", 4, "--epochs", 1, "--epoch-sleep", 0.3, "--barrier", 2)
    for tuner_id in ("chief", "worker0", "worker1"):
        processes.job(tuner_id, directory, *args, tuner_id=tuner_id, port=port)
    for tuner_id in ("worker0", "worker1", "chief"):  # a failed worker fails fast
        assert processes.wait(tuner_id) == 0, processes.logs()
        assert "Traceback" not in processes.log(tuner_id), processes.logs()
    runs0, runs1 = processes.runs("worker0"), processes.runs("worker1")
    assert runs0 and runs1, processes.logs()  # both workers trained
    assert len(runs0) + len(runs1) == 4  # and nothing ran twice
    project = directory / "search"
    assert len(_completed(project)) == 4 == len(_trials(project)), processes.logs()
    chief = processes.log("chief")
    assert sum("tunekit chief: trial" in line for line in chief.splitlines()) == 4
    oracle = json.loads((project / "oracle.json").read_text())
    assert oracle["ongoing_trials"] == {} and len(oracle["end_order"]) == 4


@pytest.mark.slow
def test_a_worker_killed_mid_trial_loses_nothing(processes, tmp_path):
    port = _launcher.free_port()
    directory = tmp_path / "runs"
    args = ("--max-trials", 4, "--epochs", 1, "--barrier", 2)
    processes.job("chief", directory, *args, tuner_id="chief", port=port)
    # w1's first epoch lasts long enough to be killed in it; w2 keeps going.
    processes.job("w1", directory, *args, "--epoch-sleep", 60, tuner_id="w1", port=port)
    processes.job(
        "w2", directory, *args, "--epoch-sleep", 0.5, tuner_id="w2", port=port
    )
    processes.wait_until(lambda: processes.runs("w1"), "w1's first trial")
    processes.kill("w1")  # SIGKILL in the middle of its first trial
    assert processes.wait("chief") == 0, processes.logs()
    assert processes.wait("w2", 60) == 0, processes.logs()
    project = directory / "search"
    completed = _completed(project)
    assert len(completed) == 4 == len(_trials(project)), processes.logs()
    chief = processes.log("chief")
    lost = re.search(r"worker 'w1' is gone; its trial (\w+) goes back", chief)
    assert lost, chief[-3000:]
    assert lost.group(1) in completed  # w1's trial was run again, to the end
    assert len(processes.runs("w1")) == 1
    assert len(processes.runs("w2")) == 4  # its own three trials and w1's
    assert "were not finished" not in chief


@pytest.mark.slow
def test_a_worker_with_another_objective_trains_nothing(processes, tmp_path):
    port = _launcher.free_port()
    directory = tmp_path / "runs"
    args = ("--max-trials", 2, "--epochs", 1)
    processes.job("chief", directory, *args, tuner_id="chief", port=port)
    processes.job(
        "worker0", directory, *args, "--objective", "val_loss",
        tuner_id="worker0", port=port,
    )  # fmt: skip
    assert processes.wait("worker0") == 1, processes.logs()
    log = processes.log("worker0")
    assert "WorkerMismatchError: Worker 'worker0'" in log, log[-3000:]
    assert "Worker 'worker0' was started with another configuration" in log
    assert "objective: chief" in log and "val_loss" in log
    assert "AttributeError" not in log
    assert processes.runs() == []  # trained nothing
    assert _trials(directory / "search") == {}
    assert processes.started["chief"].poll() is None  # still serving the others


@pytest.mark.slow
def test_tunekit_tune_as_a_chief_and_a_worker(processes, tmp_path, make_image_folder):
    folder = make_image_folder({"a": 6, "b": 6}, size=(8, 8), name="train")
    port = _launcher.free_port()
    command = [
        sys.executable, "-m", "tunekit", "tune", str(folder), "--tuner", "random",
        "--max-trials", "2", "--max-epochs", "1", "--image-size", "8", "8",
        "--batch-size", "4", "--directory", str(tmp_path / "runs"),
        "--project-name", "cli", "--no-cache",
    ]  # fmt: skip
    for tuner_id in ("chief", "worker0"):
        processes.start(tuner_id, command, processes.env(tuner_id, port))
    assert processes.wait("worker0") == 0, processes.logs()
    assert processes.wait("chief") == 0, processes.logs()
    worker = processes.log("worker0")
    assert "worker 'worker0' done" in worker and "Traceback" not in worker, worker
    assert "best trial" in processes.log("chief"), processes.logs()
    assert len(_completed(tmp_path / "runs" / "cli")) == 2


@pytest.mark.slow
def test_workers_whose_trials_all_fail_end_the_search_clearly(processes, tmp_path):
    port = _launcher.free_port()
    directory = tmp_path / "runs"
    args = ("--max-trials", 4, "--epochs", 1, "--fail-trials")
    processes.job("chief", directory, *args, tuner_id="chief", port=port)
    processes.job("worker0", directory, *args, tuner_id="worker0", port=port)
    assert processes.wait("chief", 180) == 1, processes.logs()
    assert processes.wait("worker0", 60) == 0, processes.logs()
    chief = processes.log("chief")
    assert "SearchFailedError" in chief and "3 failed" in chief, chief
    assert "each worker printed the errors of its own trials" in chief
    assert "fails on purpose" in processes.log("worker0")
    trials = _trials(directory / "search")
    assert [s for s, _ in trials.values()] == ["FAILED"] * 3, processes.logs()
    oracle = json.loads((directory / "search" / "oracle.json").read_text())
    assert oracle["ongoing_trials"] == {}


def _resume_args(kind: str) -> tuple[tuple, int]:
    if kind == "hyperband":
        return ("--tuner", "hyperband", "--max-epochs", 3, "--epoch-sleep", 0.5), 6
    return ("--tuner", kind, "--max-trials", 3, "--epochs", 2, "--epoch-sleep", 0.4), 3


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["random", "bayesian", "hyperband"])
def test_a_killed_search_resumes_where_it_stopped(processes, tmp_path, kind):
    args, total = _resume_args(kind)
    directory = tmp_path / "runs"
    project = directory / "search"
    processes.job("first", directory, *args)
    processes.wait_until(lambda: len(processes.runs()) >= 2, "the second trial")
    processes.kill("first")  # in the middle of the second trial (mid-bracket)
    done = _completed(project)
    assert done, processes.logs()
    started = len(processes.runs())
    processes.job("second", directory, *args)
    assert processes.wait("second") == 0, processes.logs()
    final = _trials(project)
    assert len(final) == total and all(s == "COMPLETED" for s, _ in final.values())
    assert {k: final[k][1] for k in done} == done  # completed trials kept as they were
    assert len(processes.runs()) <= total + 1  # at most the interrupted one redone
    assert len(processes.runs()) - started <= total - len(done)
    assert "resuming project" in processes.log("second")


@pytest.mark.slow
def test_a_killed_cli_search_resumes(processes, tmp_path, make_image_folder):
    folder = make_image_folder({"a": 8, "b": 8}, size=(12, 12), name="train")
    command = [
        sys.executable, "-m", "tunekit", "tune", str(folder), "--tuner", "random",
        "--max-trials", "4", "--max-epochs", "2", "--image-size", "12", "12",
        "--batch-size", "4", "--directory", str(tmp_path / "runs"),
        "--project-name", "cli", "--no-cache", "--quiet",
    ]  # fmt: skip
    project = tmp_path / "runs" / "cli"
    processes.start("first", command, processes.env())
    processes.wait_until(lambda: len(_completed(project)) >= 1, "a completed trial")
    processes.kill("first")
    done = _completed(project)
    if len(done) == 4:
        pytest.fail("the search ended before it could be interrupted")
    processes.start("second", command, processes.env())
    assert processes.wait("second") == 0, processes.logs()
    final = _trials(project)
    assert len(final) == 4 and all(s == "COMPLETED" for s, _ in final.values())
    assert {k: final[k][1] for k in done} == done


@pytest.mark.slow
def test_a_restarted_chief_keeps_everything_and_its_worker_goes_on(processes, tmp_path):
    port = _launcher.free_port()
    directory = tmp_path / "runs"
    project = directory / "search"
    args = ("--max-trials", 3, "--epochs", 2, "--epoch-sleep", 0.5)
    processes.job("chief", directory, *args, tuner_id="chief", port=port)
    processes.job("w1", directory, *args, tuner_id="w1", port=port)
    processes.wait_until(lambda: len(processes.runs("w1")) >= 2, "w1's second trial")
    processes.kill("chief")
    done = _completed(project)
    assert done, processes.logs()
    processes.job("chief2", directory, *args, tuner_id="chief", port=port)
    assert processes.wait("chief2") == 0, processes.logs()
    assert processes.wait("w1", 60) == 0, processes.logs()
    final = _trials(project)
    assert len(final) == 3 and all(s == "COMPLETED" for s, _ in final.values())
    assert {k: final[k][1] for k in done} == done
    assert len(processes.runs("w1")) == 3  # nothing was run twice
    assert "still running on 'w1'" in processes.log("chief2")


@pytest.mark.slow
def test_a_worker_whose_chief_is_gone_fails_with_a_clear_message(processes, tmp_path):
    port = _launcher.free_port()
    directory = tmp_path / "runs"
    args = ("--max-trials", 3, "--epochs", 2, "--epoch-sleep", 1.0)
    processes.job("chief", directory, *args, tuner_id="chief", port=port)
    processes.job(
        "w1", directory, *args, tuner_id="w1", port=port, TUNEKIT_ORACLE_TIMEOUT=3
    )
    processes.wait_until(lambda: processes.runs("w1"), "w1's first trial")
    processes.kill("chief")
    assert processes.wait("w1", 120) != 0
    log = processes.log("w1")
    assert "ChiefUnreachableError" in log and f"127.0.0.1:{port}" in log, log[-3000:]
    assert "restart the chief with the same arguments" in log


def test_a_chief_on_a_busy_port_fails_clearly(tmp_path, clean_env):
    tuner, _ = _fingerprint_of(tmp_path)
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as busy:
        busy.bind((LOOPBACK, 0))
        busy.listen()
        port = busy.getsockname()[1]
        setup = dist.check_distributed_environment(_env_of("chief", port))
        with pytest.raises(dist.DistributedSetupError, match="port is in use") as info:
            dist.serve_chief(tuner, setup)
    assert f"KERASTUNER_ORACLE_PORT='{port}'" in str(info.value)
