"""summarize: rows, best-so-far curve, collapsed and NaN trials, table, pandas, plot."""

from __future__ import annotations

import warnings

import keras
import keras_tuner
import numpy as np
import pytest

import tunekit
from tunekit import InvalidParameterError, SearchSummary


class ThreeBehaviours(keras_tuner.HyperModel):
    """One healthy model, one that collapses to a single class, one with NaN loss."""

    def build(self, hp):
        behaviour = hp.Choice("behaviour", ["healthy", "collapsed", "nan"])
        inputs = keras.Input((64,))
        hidden = inputs
        if behaviour == "nan":
            hidden = keras.layers.Rescaling(float("nan"))(hidden)
        if behaviour == "collapsed":
            # Zero weights and a zero learning rate: uniform softmax, argmax 0.
            outputs = keras.layers.Dense(10, "softmax", kernel_initializer="zeros")(
                hidden
            )
            optimizer = keras.optimizers.SGD(learning_rate=0.0)
        else:
            hidden = keras.layers.Dense(16, activation="relu")(hidden)
            outputs = keras.layers.Dense(10, activation="softmax")(hidden)
            optimizer = keras.optimizers.Adam(1e-2)
        model = keras.Model(inputs, outputs)
        model.compile(
            optimizer=optimizer,
            loss="sparse_categorical_crossentropy",
            metrics=["accuracy"],
            run_eagerly=True,
        )
        return model


@pytest.fixture(scope="module")
def searched(digits, tmp_path_factory):
    x, y = digits
    x = x.reshape(len(x), -1)
    # The collapsed model always answers "0": it scores class 0's share.
    x_train, y_train, x_val, y_val = x[:240], y[:240], x[240:360], y[240:360]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tuner = tunekit.random_search(
            ThreeBehaviours(),
            "val_accuracy",
            max_trials=3,
            directory=tmp_path_factory.mktemp("summary"),
            project_name="p",
            verbose=False,
        )
        tuner.search(
            x_train, y_train, epochs=1, validation_data=(x_val, y_val), verbose=0
        )
    keras.backend.clear_session()
    return tuner, y_val


def _by_behaviour(summary):
    return {row.hyperparameters["behaviour"]: row for row in summary.rows}


def test_rows_flags_and_best_so_far(searched):
    tuner, y_val = searched
    summary = tunekit.summarize(tuner)
    rows = _by_behaviour(summary)
    assert set(rows) == {"healthy", "collapsed", "nan"}
    assert rows["healthy"].status == "COMPLETED" and rows["healthy"].flags == ()
    assert rows["healthy"].best_epoch == 0
    # 1/k comes from the model's 10 output units.
    assert summary.chance_levels == {"1/k": 0.1}
    assert rows["collapsed"].flags == ("collapsed",)
    assert rows["collapsed"].score == pytest.approx(np.mean(y_val == 0), abs=1e-6)
    # The NaN model still gets an accuracy score, so KerasTuner counts it as
    # COMPLETED; only the flags tell it apart.
    assert rows["nan"].status == "COMPLETED"
    assert "nan_loss" in rows["nan"].flags
    # The best-so-far curve never gets worse and ends at the best score.
    curve = [b for b in summary.best_so_far if b is not None]
    assert curve == sorted(curve)
    assert summary.best_objective == rows["healthy"].score
    assert summary.best_trial.trial_id == rows["healthy"].trial_id


def test_majority_rate_from_labels(searched):
    tuner, y_val = searched
    summary = tunekit.summarize(tuner, y=y_val)
    counts = np.bincount(y_val)
    assert summary.chance_levels["majority"] == pytest.approx(counts.max() / len(y_val))
    assert summary.chance_levels["1/k"] == pytest.approx(0.1)
    # With 3 classes, chance is 1/3: the ~0.1 accuracy is no longer "chance".
    three = _by_behaviour(tunekit.summarize(tuner, n_classes=3))
    assert "collapsed" not in three["collapsed"].flags


def test_table_pandas_and_plot(searched):
    tuner, _ = searched
    summary = tunekit.summarize(tuner)
    text = str(summary)
    assert "val_accuracy (max)" in text
    assert "collapsed" in text and "nan_loss" in text
    # A healthy trial learned on the same labels: the collapse is the model's.
    assert "undertrained or broken" in " ".join(text.split())
    assert repr(summary).startswith("SearchSummary(objective=val_accuracy (max)")
    frame = summary.to_pandas()
    assert list(frame.columns[:6]) == [
        "trial_id",
        "status",
        "score",
        "best_epoch",
        "best_so_far",
        "flags",
    ]
    assert len(frame) == 3 and "behaviour" in frame.columns


def test_plot(searched):
    matplotlib = pytest.importorskip("matplotlib")  # an optional extra
    matplotlib.use("Agg")
    tuner, _ = searched
    summary = tunekit.summarize(tuner)
    ax = summary.plot()
    assert ax.get_xlabel() == "trial"
    assert len(ax.lines) == 1  # the best-so-far step line


def test_results_summary_returns_the_report(searched, capsys):
    tuner, _ = searched
    report = tuner.results_summary(num_trials=1)
    assert isinstance(report, SearchSummary)
    assert "Results summary" in capsys.readouterr().out  # KerasTuner still prints


def test_empty_and_invalid(tmp_path):
    def build(hp):
        model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
        model.compile(optimizer="adam", loss="mse")
        return model

    tuner = tunekit.random_search(
        build, "val_loss", max_trials=1, directory=tmp_path, verbose=False
    )
    summary = tunekit.summarize(tuner)
    assert summary.rows == [] and summary.best_objective is None
    assert summary.chance_levels == {}  # no accuracy metric: nothing to compare
    with pytest.raises(InvalidParameterError, match="`tuner` must be"):
        tunekit.summarize(object())
    with pytest.raises(InvalidParameterError, match="`n_classes` must be"):
        tunekit.summarize(tuner, n_classes=1)


def test_html_repr_and_plot_with_trial_ids(searched):
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    tuner, _ = searched
    summary = tunekit.summarize(tuner)
    page = summary._repr_html_()
    assert page.startswith("<div>") and "<table>" in page
    assert page.count("<tr") == 1 + len(summary.rows)  # header + one per trial
    assert "<th>behaviour</th>" in page and "undertrained or broken" in page
    ax = summary.plot()
    labels = [tick.get_text() for tick in ax.get_xticklabels()]
    assert labels == [row.trial_id for row in summary.rows]


class Conditional(keras_tuner.RandomSearch):
    """A black-box trial (no model): its space has a conditional scope."""

    def run_trial(self, trial, *args, **kwargs):
        hp = trial.hyperparameters
        kind = hp.Choice("kind", ["dense", "conv"])
        with hp.conditional_scope("kind", ["conv"]):
            filters = hp.Int("filters", 8, 32, step=8) if kind == "conv" else 0
        return {"loss": 1.0 / (1 + filters)}


def test_inactive_hyperparameters_show_as_dash(tmp_path):
    tuner = Conditional(
        hypermodel=None, objective="loss", max_trials=6, seed=2, directory=tmp_path
    )
    tuner.search(verbose=0)
    summary = tunekit.summarize(tuner)
    kinds = {row.hyperparameters["kind"] for row in summary.rows}
    assert kinds == {"dense", "conv"}  # seed 2 draws both
    for row in summary.rows:
        if row.hyperparameters["kind"] == "dense":
            assert row.hyperparameters["filters"] == "-"
        else:
            assert row.hyperparameters["filters"] in (8, 16, 24, 32)
    frame = summary.to_pandas()
    dense = frame[frame["kind"] == "dense"]
    assert list(dense["filters"].unique()) == ["-"]
    table = str(summary).splitlines()
    dense_line = next(line for line in table if " dense" in line)
    assert dense_line.split()[-1] == "-"


def test_printed_table_fits_100_columns():
    from tunekit.tuners._summary import TrialRow

    names = [f"hyperparameter_number_{i}" for i in range(12)]
    rows = [
        TrialRow(
            trial_id=f"{i:02d}",
            status="COMPLETED",
            hyperparameters={n: f"value-{i}-{'x' * 30}" for n in names},
            score=0.5 + i / 100,
            best_epoch=3,
            best_so_far=0.5 + i / 100,
            message=None,
        )
        for i in range(3)
    ]
    summary = SearchSummary(objective=[("val_accuracy", "max")], rows=rows)
    text = str(summary)
    assert max(len(line) for line in text.splitlines()) <= 100
    assert "hyperparame…" in text  # long names and values are shortened
    assert "(not shown:" in text and names[-1] in text  # the rest is named
    frame = summary.to_pandas()
    assert set(names) <= set(frame.columns)  # nothing is lost there
    assert frame[names[0]][0] == rows[0].hyperparameters[names[0]]


def test_collapse_advice_is_one_wording_in_summary_and_live_display(searched):
    """Beside a healthy trial a collapse is a configuration problem, not labels."""
    import io

    from tunekit.tuners._progress import SearchProgress

    tuner, _ = searched
    summary = tunekit.summarize(tuner)
    rows = _by_behaviour(summary)
    advice = summary.explain(rows["collapsed"])
    assert f"but trial {rows['healthy'].trial_id} reached val_accuracy=" in advice
    assert "labels are fine" in advice and "check_model_labels" not in advice
    # The live display, fed the same real trials, words it identically.
    progress = SearchProgress(stream=io.StringIO(), width=1000)
    progress.levels = dict(summary.chance_levels)
    trials = tuner.oracle.trials
    for behaviour in ("healthy", "collapsed"):
        progress.on_trial_end(tuner, trials[rows[behaviour].trial_id])
    assert progress.lines[-1].strip() == f"trial {rows['collapsed'].trial_id}: {advice}"
    # Without a healthy trial, the labels, loss and output layer come first.
    alone = SearchSummary(summary.objective, [rows["collapsed"]], {"1/k": 0.1})
    assert "check_model_labels" in alone.explain(rows["collapsed"])
