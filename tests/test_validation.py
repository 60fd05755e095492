from __future__ import annotations

import pytest

from tunekit import InvalidParameterError
from tunekit._validation import check_in, check_positive_int, did_you_mean, received


def test_received_formats_like_keras():
    assert received("batch_size", "32") == "Received: batch_size='32'"


def test_did_you_mean_suggests_the_closest_name():
    assert did_you_mean("dense_unit", ["dense_units", "dropout"]) == (
        " Did you mean 'dense_units'?"
    )
    assert did_you_mean("zzz", ["dense_units"]) == ""


def test_check_in_names_argument_options_and_received_value():
    assert check_in("mode", "min", ["min", "max"]) == "min"
    with pytest.raises(InvalidParameterError) as excinfo:
        check_in("mode", "maximize", ["min", "max"])
    message = str(excinfo.value)
    assert "`mode` must be one of 'min', 'max'" in message
    assert message.endswith("Received: mode='maximize'")


@pytest.mark.parametrize("value", [0, -3, 2.5, True, "4", None])
def test_check_positive_int_rejects(value):
    with pytest.raises(InvalidParameterError, match="an integer >= 1"):
        check_positive_int("max_epochs", value)


def test_check_positive_int_accepts():
    assert check_positive_int("max_epochs", 3) == 3
    assert check_positive_int("n", 0, minimum=0) == 0


# ---- one wording per parameter, whichever public door it comes through ------

SEED_MESSAGE = "`seed` must be an integer or None. Received: seed='7'"
SPLIT_MESSAGE = (
    "`validation_split` must be a float in [0, 1), e.g. 0.2 (0 for none). "
    "Received: validation_split=1.5"
)


def _seed_doors(folder):
    import numpy as np

    import tunekit

    x = np.zeros((4, 8, 8, 1), "float32")
    return {
        "ImageDataGenerator.flow": lambda: tunekit.ImageDataGenerator().flow(
            x, seed="7"
        ),
        "flow_from_directory": lambda: tunekit.flow_from_directory(folder, seed="7"),
        "random_search": lambda: tunekit.random_search(
            lambda hp: None,
            "val_accuracy",
            max_trials=1,
            seed="7",
            directory=str(folder.parent / "runs"),
        ),
    }


def _split_doors(folder):
    import numpy as np

    import tunekit

    x = np.zeros((6, 64), "float32")
    y = np.array([0, 1] * 3)
    return {
        "ImageDataGenerator": lambda: tunekit.ImageDataGenerator(validation_split=1.5),
        "flow_from_directory": lambda: tunekit.flow_from_directory(
            folder, validation_split=1.5, subset="training"
        ),
        "KerasClassifier.fit": lambda: tunekit.KerasClassifier(
            lambda: None, validation_split=1.5
        ).fit(x, y),
    }


@pytest.fixture
def image_folder(make_image_folder):
    return make_image_folder({"a": 2, "b": 2}, size=(8, 8))


def test_every_door_words_a_bad_seed_the_same(image_folder):
    for door, call in _seed_doors(image_folder).items():
        with pytest.raises(InvalidParameterError) as caught:
            call()
        assert str(caught.value) == SEED_MESSAGE, door


def test_every_door_words_a_bad_validation_split_the_same(image_folder):
    doors = _split_doors(image_folder)
    try:
        import tensorflow  # noqa: F401
    except ImportError:
        pass
    else:
        import tunekit

        doors["image_dataset_from_directory"] = lambda: (
            tunekit.image_dataset_from_directory(
                image_folder, validation_split=1.5, subset="training", seed=1
            )
        )
    for door, call in doors.items():
        with pytest.raises(InvalidParameterError) as caught:
            call()
        assert str(caught.value) == SPLIT_MESSAGE, door
