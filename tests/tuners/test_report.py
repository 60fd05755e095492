"""The HTML search report, from a project on disk and from ``summarize``."""

from __future__ import annotations

import json
import os
import re

import numpy as np
import pytest

import tunekit
from tunekit.tuners._report_data import ReportData, ReportTrial, report_from_project
from tunekit.tuners._report_html import render_html, write_report
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


# ---- collapse advice ---------------------------------------------------------


def test_a_collapse_beside_a_healthy_trial_is_a_configuration_problem(project):
    tuner, y_val = project
    data = report_from_project(tuner.project_dir, n_classes=10)
    trials = _by_mode(data)
    advice = trials["frozen"].message
    ok = trials["ok"]
    assert f"trial {ok.trial_id} reached val_accuracy=" in advice
    assert "undertrained or broken" in advice and "check_model_labels" not in advice
    assert advice in render_html(data)
    # summarize words it the same way (one function, not a copy).
    summary = tunekit.summarize(tuner, y=y_val)
    frozen = next(r for r in summary.rows if r.hyperparameters["mode"] == "frozen")
    assert summary.explain(frozen) == advice.replace("1/k=0.1", _levels(summary))
    assert "undertrained or broken" in " ".join(str(summary).split())


def _levels(summary):
    return ", ".join(f"{k}={v:.3g}" for k, v in summary.chance_levels.items())


def test_when_every_trial_collapses_the_labels_come_first():
    trials = [
        ReportTrial(str(i), "COMPLETED", 0.1, 1, {"u": i}, flags=("collapsed",))
        for i in range(2)
    ]
    from tunekit.tuners._report_data import _with_collapse_advice

    advised = _with_collapse_advice(trials, ("val_accuracy", "max"), {"1/k": 0.1})
    for trial in advised:
        assert "check_model_labels" in trial.message
        assert "undertrained" not in trial.message


# ---- page details ------------------------------------------------------------


def _visible_text(page):
    page = re.sub(r"<script.*?</script>", "", page, flags=re.S)
    return re.sub(r"<[^>]*>", " ", page)


def test_floats_are_rounded_on_the_page():
    trials = [
        ReportTrial("0", "COMPLETED", 0.1 + 0.7, 1, {"dropout": 0.1 + 0.2}),
        ReportTrial("1", "COMPLETED", 0.5, 1, {"dropout": 0.5}),
    ]
    page = render_html(ReportData("f", ("val_accuracy", "max"), trials))
    text = _visible_text(page)
    assert "0.30000000000000004" not in text and "0.7999999999999999" not in text
    assert ">0.3</text>" in page  # the dropout chart's category label
    assert "dropout=0.3" in text and "val_accuracy = 0.8" in text


def test_progress_chart_labels_the_x_axis_with_trial_ids():
    ids = ["07", "03", "11"]
    trials = [ReportTrial(i, "COMPLETED", 0.5, 1, {}) for i in ids]
    page = render_html(ReportData("ids", ("val_accuracy", "max"), trials))
    by_trial = page[page.index("so far, by trial") : page.index("</svg>")]
    labels = re.findall(r'text-anchor="middle">([^<]*)</text>', by_trial)
    assert labels[:3] == ids and "trial id (in start order)" in labels


def test_leaderboard_scrolls_inside_its_card():
    trials = [ReportTrial(str(i), "COMPLETED", i / 100, 1, {}) for i in range(60)]
    page = render_html(ReportData("many", ("val_accuracy", "max"), trials))
    assert re.search(r"\.table-scroll\{overflow:auto;max-height:\d+px", page)
    scroll = page.index('<div class="table-scroll"')
    assert scroll < page.index('<table id="leaderboard"') < page.index("</div>", scroll)


def test_log_sampled_hyperparameters_get_a_log_axis():
    lrs = [1e-4, 3e-4, 1e-3, 1e-2]
    trials = [
        ReportTrial(str(i), "COMPLETED", 0.5, 1, {"lr": v}) for i, v in enumerate(lrs)
    ]
    plain = render_html(ReportData("l", ("val_accuracy", "max"), trials))
    logged = render_html(
        ReportData("l", ("val_accuracy", "max"), trials, log_scale=frozenset({"lr"}))
    )
    assert "lr (log scale)" in logged and "lr (log scale)" not in plain
    chart = logged[logged.index("lr vs val_accuracy") :]
    chart = chart[: chart.index("</svg>")]
    ticks = re.findall(r'text-anchor="middle">([^<]*)</text>', chart)
    assert {"0.0001", "0.001", "0.01"} <= set(ticks)
    xs = [float(x) for x in re.findall(r'<circle cx="([\d.]+)"', chart)]
    # Equal ratios, equal distances: 1e-4 -> 1e-3 spans as much as 1e-3 -> 1e-2.
    assert xs[2] - xs[0] == pytest.approx(xs[3] - xs[2], abs=0.2)


@pytest.mark.slow  # a small real search
def test_log_sampling_is_read_from_the_project_and_from_summarize(tmp_path, digits):
    import keras

    x, y = digits
    x = x.reshape(len(x), -1)

    def build(hp):
        model = keras.Sequential(
            [keras.Input((64,)), keras.layers.Dense(10, activation="softmax")]
        )
        lr = hp.Float("lr", 1e-4, 1e-1, sampling="log")
        model.compile(keras.optimizers.Adam(lr), "sparse_categorical_crossentropy",
                      metrics=["accuracy"])  # fmt: skip
        hp.Int("units", 4, 8)  # linear sampling: no log axis
        return model

    tuner = tunekit.random_search(
        build, "val_accuracy", max_trials=2, directory=str(tmp_path), seed=0,
        verbose=False, max_consecutive_failed_trials=2,
    )  # fmt: skip
    tuner.search(x[:100], y[:100], validation_data=(x[100:160], y[100:160]),
                 epochs=1, verbose=0)  # fmt: skip
    assert report_from_project(tuner.project_dir).log_scale == {"lr"}
    summary = tunekit.summarize(tuner)
    assert summary.log_scale == ("lr",)
    page = summary.to_html(tmp_path / "s.html").read_text()
    assert "lr (log scale)" in page and "units (log scale)" not in page


# ---- unreadable files ----------------------------------------------------------


def test_an_unreadable_trial_file_is_named_never_dropped(project, tmp_path):
    import shutil

    tuner, _ = project
    copy = tmp_path / "copy"
    shutil.copytree(tuner.project_dir, copy)
    broken = sorted(copy.glob("trial_*/trial.json"))[0]
    broken.write_text('{"trial_id": "00", "status": "COMPL')  # cut short
    data = report_from_project(copy)
    assert len(data.trials) == 2
    [(path, why)] = data.unreadable
    assert path == str(broken) and "JSONDecodeError" in why
    page = render_html(data)
    assert "1 trial file could not be read" in page and str(broken) in page
    payload = json.loads(re.search(r'id="report-data">(.*?)</script>', page)[1])
    assert payload["unreadable"][0]["path"] == str(broken)


def test_the_report_and_summarize_flag_the_same_trials(project):
    # One rule (tuners/_trial_health.py) judges a live trial and a trial.json.
    tuner, _ = project
    on_disk = {t.trial_id: set(t.flags) - {"pruned"} for t in
               report_from_project(tuner.project_dir, n_classes=10).trials
               if t.status == "COMPLETED"}  # fmt: skip
    live = {row.trial_id: set(row.flags) for row in
            tunekit.summarize(tuner, n_classes=10).rows
            if row.status == "COMPLETED"}  # fmt: skip
    assert on_disk == live and any(on_disk.values())
