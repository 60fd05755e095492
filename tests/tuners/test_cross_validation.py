"""Cross-validated trials: per-fold scores against a hand-written loop, refusals."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from sklearn.model_selection import GroupKFold, KFold

import tunekit
from tunekit import InvalidParameterError, StaleProjectError
from tunekit._seeding import derived_seed
from tunekit.tuners._cross_validation import is_classification, plan_cross_validation
from tunekit.tuners._trial_records import load_record


@pytest.fixture(scope="module")
def flat(digits):
    x, y = digits
    return x.reshape(len(x), -1)[:120], y[:120]


def build(hp):
    model = keras.Sequential(
        [
            keras.Input((64,)),
            keras.layers.Dense(hp.Choice("units", [8, 16]), activation="relu"),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )
    model.compile(
        optimizer=keras.optimizers.Adam(hp.Choice("lr", [1e-2, 3e-3])),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
        run_eagerly=True,
    )
    return model


def _tuner(tmp_path, cls=tunekit.RandomSearch, **kwargs):
    kwargs.setdefault("max_trials", 2)
    return cls(
        build,
        "val_accuracy",
        seed=3,
        directory=tmp_path,
        project_name="cv",
        verbose=False,
        **kwargs,
    )


def test_fold_scores_match_a_hand_written_kfold_loop(tmp_path, flat):
    x, y = flat
    splitter = KFold(3, shuffle=True, random_state=0)
    tuner = _tuner(tmp_path, max_trials=1)
    tuner.search(x, y, cv=splitter, epochs=2, shuffle=False, verbose=0)
    assert len(tuner.oracle.trials) == 1
    for trial in tuner.oracle.trials.values():
        record = load_record(tuner, trial.trial_id)
        expected = []
        for k, (train, val) in enumerate(splitter.split(x, y)):
            keras.backend.clear_session()
            keras.utils.set_random_seed(derived_seed(3, trial.trial_id, k))
            model = build(trial.hyperparameters.copy())
            history = model.fit(
                x[train], y[train], validation_data=(x[val], y[val]),
                epochs=2, shuffle=False, verbose=0,
            )  # fmt: skip
            expected.append(max(history.history["val_accuracy"]))
            assert record.runs[k].train_samples == len(train)
            assert record.runs[k].validation_samples == len(val)
        np.testing.assert_allclose(record.fold_scores, expected, rtol=1e-5)
        np.testing.assert_allclose(trial.score, np.mean(expected), rtol=1e-5)
        assert record.fold_std == pytest.approx(np.std(expected), abs=1e-6)
        assert record.cv["n_splits"] == 3 and "KFold" in record.cv["splitter"]


def test_per_fold_scores_survive_a_reload_and_are_summarized(tmp_path, flat):
    x, y = flat
    tuner = _tuner(tmp_path, max_trials=1)
    tuner.search(x, y, cv=3, epochs=1, verbose=0)
    reloaded = _tuner(tmp_path, max_trials=1)
    summary = tunekit.summarize(reloaded)
    (row,) = summary.rows
    assert len(row.fold_scores) == 3
    assert row.score == pytest.approx(np.mean(row.fold_scores), rel=1e-5)
    assert row.fold_std == pytest.approx(np.std(row.fold_scores), abs=1e-6)
    assert f"trial {row.trial_id} folds:" in str(summary)
    frame = summary.to_pandas()
    assert frame.loc[0, "fold_std"] == pytest.approx(row.fold_std)
    record = load_record(reloaded, row.trial_id)
    assert record.cv["splitter"].startswith("StratifiedKFold")
    # resuming with other folds (or none) would mix incomparable scores
    more = _tuner(tmp_path, max_trials=2)
    for kwargs in ({"cv": 4}, {"validation_data": (x[:20], y[:20])}):
        with pytest.raises(StaleProjectError, match="not be comparable"):
            more.search(x, y, epochs=1, verbose=0, **kwargs)
    assert len(more.oracle.trials) == 1


def test_classification_labels_get_stratified_folds(flat):
    x, y = flat
    plan = plan_cross_validation(
        3, None, {"x": x, "y": y}, kind="random_search", seed=0
    )
    assert plan.description.startswith("StratifiedKFold")
    for _, val in plan.folds:  # every class in every validation fold
        assert set(np.unique(y[val])) == set(np.unique(y))
    one_hot = np.eye(10)[y]
    assert is_classification(one_hot) and is_classification(y)
    assert not is_classification(x[:, 0])  # float targets: regression
    regression = plan_cross_validation(
        3, None, {"x": x, "y": x[:, 0]}, kind="random_search", seed=0
    )
    assert regression.description.startswith("KFold")


def test_groups_never_straddle_folds(flat):
    x, y = flat
    groups = np.arange(len(x)) // 6
    for cv in (3, GroupKFold(3)):
        plan = plan_cross_validation(
            cv, groups, {"x": x, "y": y}, kind="random_search", seed=0
        )
        for train, val in plan.folds:
            assert not set(groups[train]) & set(groups[val])
    assert (
        "Group"
        in plan_cross_validation(
            3, groups, {"x": x, "y": y}, kind="random_search", seed=0
        ).description
    )


class TinyDataset(keras.utils.PyDataset):
    def __init__(self, x, y):
        super().__init__()
        self.x, self.y = x, y

    def __len__(self):
        return 2

    def __getitem__(self, index):
        return self.x[index * 8 : (index + 1) * 8], self.y[index * 8 : (index + 1) * 8]


def _generator(x, y):
    while True:
        yield x[:8], y[:8]


@pytest.mark.parametrize(
    ("arguments", "match"),
    [
        (
            lambda x, y: ((x, y), {"cv": 3, "validation_data": (x, y)}),
            "validation_data",
        ),
        (lambda x, y: ((x, y), {"cv": 3, "validation_split": 0.2}), "validation_split"),
        (lambda x, y: ((TinyDataset(x, y),), {"cv": 3}), "in-memory arrays"),
        (lambda x, y: ((_generator(x, y),), {"cv": 3}), "in-memory arrays"),
        (lambda x, y: ((x, y), {"cv": 1}), "between 2 and"),
        (lambda x, y: ((x, y), {"cv": True}), "an int >= 2"),
        (lambda x, y: ((x, y), {"cv": 2.5}), "an int >= 2"),
        (lambda x, y: ((x, None), {"cv": 3}), "the labels"),
        (lambda x, y: ((x, y[:10]), {"cv": 3}), "as many samples as x"),
        (lambda x, y: ((x, y), {"groups": np.zeros(len(x))}), "together with `cv=`"),
        (lambda x, y: ((x, y), {"cv": GroupKFold(3)}), "groups"),
        (lambda x, y: ((x, y), {"cv": [(np.arange(5), np.arange(5, 9))]}), "2 folds"),
    ],
)
def test_bad_cross_validation_is_refused_before_training(
    tmp_path, flat, arguments, match
):
    x, y = flat
    args, kwargs = arguments(x, y)
    tuner = _tuner(tmp_path)
    with pytest.raises(InvalidParameterError, match=match):
        tuner.search(*args, epochs=1, verbose=0, **kwargs)
    assert len(tuner.oracle.trials) == 0


def test_tf_data_is_refused_before_training(tmp_path, flat):
    tf = pytest.importorskip("tensorflow")
    x, y = flat
    tuner = _tuner(tmp_path)
    dataset = tf.data.Dataset.from_tensor_slices((x, y)).batch(16)
    with pytest.raises(InvalidParameterError, match=r"tf\.data"):
        tuner.search(dataset, cv=3, epochs=1, verbose=0)
    assert len(tuner.oracle.trials) == 0


def test_hyperband_refuses_cv_and_says_what_to_use(tmp_path, flat):
    x, y = flat
    tuner = tunekit.Hyperband(
        build, "val_accuracy", max_epochs=2, directory=tmp_path, verbose=False
    )
    with pytest.raises(InvalidParameterError, match="RandomSearch") as info:
        tuner.search(x, y, cv=3, verbose=0)
    assert "validation_data" in str(info.value) and "Received: cv=3" in str(info.value)
    assert len(tuner.oracle.trials) == 0


def test_given_index_pairs_and_multi_input_dicts(tmp_path, flat):
    x, y = flat
    inputs = {"a": x[:, :32], "b": x[:, 32:]}

    def build_two(hp):
        a, b = keras.Input((32,), name="a"), keras.Input((32,), name="b")
        joined = keras.layers.Concatenate()([a, b])
        out = keras.layers.Dense(10, activation="softmax")(
            keras.layers.Dense(hp.Choice("units", [8, 16]), activation="relu")(joined)
        )
        model = keras.Model({"a": a, "b": b}, out)
        model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
        return model

    folds = [(np.arange(0, 80), np.arange(80, 120)),
             (np.arange(40, 120), np.arange(0, 40))]  # fmt: skip
    tuner = tunekit.RandomSearch(
        build_two, "val_accuracy", max_trials=1, seed=0, directory=tmp_path,
        verbose=False,
    )  # fmt: skip
    tuner.search(inputs, y, cv=folds, epochs=1, verbose=0)
    (trial,) = tuner.oracle.trials.values()
    record = load_record(tuner, trial.trial_id)
    assert len(record.fold_scores) == 2
    assert [run.train_samples for run in record.runs] == [80, 80]
