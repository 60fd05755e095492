"""The HTML search report, from a project on disk and from ``summarize``."""

from __future__ import annotations

import json
import os
import re

import numpy as np
import pytest

import tunekit
from tunekit.tuners._report import (
    ReportData,
    ReportTrial,
    render_html,
    report_from_project,
    write_report,
)
from tunekit.tuners._summary import SearchSummary


def _build(hp):
    import keras

    mode = hp.Choice("mode", ["ok", "frozen", "broken"])
    if mode == "broken":
        raise ValueError("this configuration cannot be built")
    frozen = mode == "frozen"
    head = keras.layers.Dense(
        10,
        activation="softmax",
        kernel_initializer="zeros" if frozen else "glorot_uniform",
        trainable=not frozen,  # a head that never learns: accuracy stays at 1/k
    )
    model = keras.Sequential([keras.Input((64,)), head])
    optimizer = keras.optimizers.Adam(0.05)
    model.compile(optimizer, "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


@pytest.fixture(scope="module")
def project(tmp_path_factory, digits):
    x, y = digits
    x = x.reshape(len(x), -1)
    directory = tmp_path_factory.mktemp("report")
    tuner = tunekit.random_search(
        _build, "val_accuracy", max_trials=3, directory=str(directory),
        project_name="p", seed=0, verbose=False, max_consecutive_failed_trials=3,
    )  # fmt: skip
    tuner.search(
        x[:500], y[:500], validation_data=(x[500:800], y[500:800]), epochs=2,
        verbose=0,
    )  # fmt: skip
    return tuner, y[500:800]


def _by_mode(data):
    return {t.hyperparameters["mode"]: t for t in data.trials}


def test_project_on_disk_gives_every_trial_with_its_marks(project):
    tuner, _ = project
    data = report_from_project(tuner.project_dir, n_classes=10)
    trials = _by_mode(data)
    assert set(trials) == {"ok", "frozen", "broken"}
    assert trials["broken"].status == "FAILED"
    assert "cannot be built" in trials["broken"].message
    assert "collapsed" in trials["frozen"].flags
    assert "collapsed" not in trials["ok"].flags
    assert data.best_trial.trial_id == trials["ok"].trial_id
    assert data.objective == ("val_accuracy", "max")
    assert not data.running
    finished = [t.finished_seconds for t in data.trials if t.status == "COMPLETED"]
    assert all(s is not None and s >= 0 for s in finished)


def test_best_trial_matches_keras_tuner(project):
    tuner, _ = project
    data = report_from_project(tuner.project_dir)
    best = tuner.oracle.get_best_trials(1)[0]
    assert data.best_trial.trial_id == best.trial_id
    assert data.best_trial.score == pytest.approx(best.score)


def test_page_is_self_contained_and_shows_the_best_trial(project, tmp_path):
    tuner, _ = project
    data = report_from_project(tuner.project_dir, n_classes=10)
    path = write_report(data, tmp_path / "r.html")
    page = path.read_text()
    best = data.best_trial
    assert f"best trial {best.trial_id}: val_accuracy" in page
    assert page.count("<svg") >= 3  # by trial, by time, one per hyperparameter
    assert 'class="flag collapsed"' in page and 'class="flag failed"' in page
    # No external resource: every URL in the page is the SVG namespace.
    urls = set(re.findall(r"https?://[^\s\"'<>)]+", page))
    assert urls <= {"http://www.w3.org/2000/svg"}
    assert "<link" not in page and "src=" not in page
    payload = re.search(r'id="report-data">(.*?)</script>', page).group(1)
    assert json.loads(payload)["best_trial"] == best.trial_id


def test_to_html_from_summarize(project, tmp_path):
    tuner, y_val = project
    summary = tunekit.summarize(tuner, y=y_val)
    path = summary.to_html(tmp_path / "summary.html")
    page = path.read_text()
    assert f"best trial {summary.best_trial.trial_id}" in page
    assert "collapsed" in page


@pytest.mark.slow  # a second search
def test_report_of_a_running_project(tmp_path, digits):
    """Written from a callback in the middle of the second trial."""
    import keras

    x, y = digits
    x = x.reshape(len(x), -1)
    seen = {}

    class ReportNow(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            data = report_from_project(tuner.project_dir)
            if len(data.trials) == 2 and "data" not in seen:
                seen["data"] = data
                write_report(data, tmp_path / "live.html")

    def build(hp):
        model = keras.Sequential(
            [keras.Input((64,)), keras.layers.Dense(hp.Choice("u", [4, 8])),
             keras.layers.Dense(10, activation="softmax")]
        )  # fmt: skip
        model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
        return model

    tuner = tunekit.random_search(
        build, "val_accuracy", max_trials=2, directory=str(tmp_path),
        verbose=False, max_consecutive_failed_trials=2,
    )  # fmt: skip
    tuner.search(x[:300], y[:300], validation_data=(x[300:500], y[300:500]),
                 epochs=1, callbacks=[ReportNow()], verbose=0)  # fmt: skip
    data = seen["data"]
    assert data.running
    assert [t.status for t in data.trials] == ["COMPLETED", "RUNNING"]
    page = (tmp_path / "live.html").read_text()
    assert "still running" in page
    assert f"best trial {data.trials[0].trial_id}" in page


def test_hyperband_schedule_is_shown(tmp_path):
    data = ReportData(
        "hb",
        ("val_accuracy", "max"),
        [
            ReportTrial(
                "0",
                "COMPLETED",
                0.5,
                0,
                {"u": 1},
                hyperband={"epochs": 1, "initial_epoch": 0, "bracket": 1, "round": 0},
            ),
        ],
        hyperband={"max_epochs": 3, "factor": 3, "hyperband_iterations": 1},
    )
    page = render_html(data)
    assert "Hyperband schedule" in page and "6 trials (5 new configurations)" in page


def test_minimising_objective_picks_the_lowest():
    data = ReportData(
        "m",
        ("val_loss", "min"),
        [ReportTrial(str(i), "COMPLETED", s, 0, {}) for i, s in enumerate([3, 1, 2])],
    )
    assert data.best_trial.trial_id == "1" and data.best_so_far == [3, 1, 1]


def test_nan_scores_are_never_best():
    data = ReportData(
        "n",
        ("val_accuracy", "max"),
        [
            ReportTrial("0", "COMPLETED", float("nan"), 0, {}),
            ReportTrial("1", "COMPLETED", 0.2, 0, {}),
        ],
    )
    assert data.best_trial.trial_id == "1"
    assert np.isnan(data.trials[0].score)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"n_classes": 1}, "n_classes"), ({"n_classes": True}, "n_classes")],
)
def test_bad_arguments_are_named(tmp_path, kwargs, match):
    with pytest.raises(tunekit.InvalidParameterError, match=match):
        report_from_project(tmp_path, **kwargs)


def test_missing_project_is_named(tmp_path):
    with pytest.raises(tunekit.InvalidParameterError, match="project_dir"):
        report_from_project(tmp_path / "nope")


def test_a_report_into_a_folder_that_cannot_be_made_is_named(tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("")
    target = blocker / "report.html"
    with pytest.raises(tunekit.UnwritablePathError) as caught:
        SearchSummary([("val_loss", "min")]).to_html(target)
    message = str(caught.value)
    assert f"Received: path={str(target)!r}" in message and "a_file" in message


def test_a_failed_report_write_keeps_the_previous_page(tmp_path, monkeypatch):
    target = tmp_path / "report.html"
    write_report(ReportData("old", ("val_loss", "min"), []), target)
    before = target.read_text()

    def disk_full(*args, **kwargs):  # the flush to disk fails: a full disk
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("tunekit._atomic._fsync_path", disk_full)
    with pytest.raises(tunekit.UnwritablePathError, match="No space left"):
        write_report(ReportData("new", ("val_loss", "min"), []), target)
    monkeypatch.undo()
    assert target.read_text() == before
    assert os.listdir(tmp_path) == ["report.html"]


def test_report_path_must_be_html(tmp_path):
    data = ReportData("x", ("val_loss", "min"), [])
    with pytest.raises(tunekit.InvalidParameterError, match=r"Received: path="):
        write_report(data, tmp_path / "report.txt")
