"""In a real Jupyter kernel, tunekit's display keeps one line per trial.

The notebook is built with nbformat and executed with nbclient in an
ipykernel kernel, so the cell outputs are what a notebook saves: a
``clear_output`` sent by the search would empty them. A second cell runs
plain KerasTuner with its own display, which clears the cell at every trial,
to show that the check can fail.
"""

from __future__ import annotations

import re
import textwrap

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

TRIAL_LINE = re.compile(r"^  \[(\d+)/3\] trial (\d+)  .*val_accuracy 0\.\d{4}", re.M)

SETUP = """
import os, warnings
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
warnings.simplefilter("ignore")
import keras, keras_tuner, tunekit
from sklearn.datasets import load_digits

data = load_digits()
x = (data.data / 16.0).astype("float32")[:300]
y = data.target[:300]

def build(hp):
    model = keras.Sequential([
        keras.Input((64,)),
        keras.layers.Dense(hp.Choice("units", [8, 16, 32]), activation="relu"),
        keras.layers.Dense(10, activation="softmax"),
    ])
    model.compile(keras.optimizers.Adam(hp.Choice("lr", [1e-2, 3e-3])),
                  "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model

fit = dict(epochs=1, batch_size=64, validation_data=(x[200:], y[200:]))
"""

TUNEKIT_SEARCH = """
tuner = tunekit.RandomSearch(build, "val_accuracy", max_trials=3, seed=0,
                             directory="runs", project_name="tunekit")
tuner.search(x[:200], y[:200], **fit)
"""

KERASTUNER_SEARCH = """
try:
    import tensorboard  # KerasTuner 1.4 imports it in every trial on TensorFlow
except ImportError:
    keras_tuner.Tuner._configure_tensorboard_dir = lambda *args, **kwargs: None
plain = keras_tuner.RandomSearch(build, "val_accuracy", max_trials=3, seed=0,
                                 directory="runs", project_name="plain")
plain.search(x[:200], y[:200], verbose=1, **fit)
"""


def _text(cell) -> str:
    return "".join(
        output.get("text", "")
        for output in cell.outputs
        if output.get("output_type") == "stream" and output.get("name") == "stdout"
    )


@pytest.mark.slow  # starts a Jupyter kernel (TensorFlow import) and 6 trials
def test_notebook_cell_keeps_one_line_per_trial(tmp_path):
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_code_cell(textwrap.dedent(source))
        for source in (SETUP, TUNEKIT_SEARCH, KERASTUNER_SEARCH)
    ]
    client = nbclient.NotebookClient(
        notebook,
        timeout=600,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},
    )
    client.execute()
    nbformat.write(notebook, tmp_path / "search.ipynb")  # what the user saves

    saved = nbformat.read(tmp_path / "search.ipynb", as_version=4)
    tunekit_cell, kerastuner_cell = saved.cells[1], saved.cells[2]
    text = _text(tunekit_cell)
    trials = TRIAL_LINE.findall(text)
    assert trials == [("1", "0"), ("2", "1"), ("3", "2")], text
    assert text.index("Search: 3 trials") < text.index("[1/3]")
    assert not any(o.get("output_type") == "error" for o in tunekit_cell.outputs)
    assert "Running Trial" not in text and "━" not in text  # no KerasTuner display

    # KerasTuner's own display clears the cell: only the last trial is left.
    plain = _text(kerastuner_cell)
    assert "Trial 3 Complete" in plain
    assert "Trial 1 Complete" not in plain and "Trial 2 Complete" not in plain
