"""The quick-start notebook in a real kernel: one line per trial, no TF noise.

The kernel gets no ``TF_CPP_MIN_LOG_LEVEL``: tunekit itself must keep
TensorFlow's start-up lines out of the notebook, and no warning in the
notebook may point into tunekit's own code.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

NOTEBOOK = Path(__file__).resolve().parents[1] / "examples" / "quickstart.ipynb"
TF_NOISE = re.compile(
    r"absl::InitializeLog|cudart_stub|cpu_feature_guard|cuda_platform|"
    r"^[IWE]\d{4} [\d:.]+\s+\d+ ",
    re.MULTILINE,
)
#: A warning located in tunekit's code, e.g. ``.../tunekit/tuners/_tuners.py:1103:``.
TUNEKIT_PATH = re.compile(r"[/\\]tunekit[/\\][\w/\\]*\.py:\d+")


def _outputs(cell):
    return [o for o in cell.get("outputs", []) if o.get("output_type") == "stream"]


@pytest.mark.slow  # starts a kernel that imports TensorFlow and trains 2 trials
def test_quickstart_notebook_runs_with_one_line_per_trial(tmp_path, monkeypatch):
    pytest.importorskip("tensorflow")  # the start-up lines are TensorFlow's
    # The kernel inherits this environment: no log level, and no
    # PYTEST_CURRENT_TEST, without which ipykernel would not forward what is
    # written to descriptor 2 into the notebook (as Jupyter does, in red).
    monkeypatch.delenv("TF_CPP_MIN_LOG_LEVEL", raising=False)
    monkeypatch.delenv("PYTEST_CURRENT_TEST", raising=False)
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(
        notebook, timeout=600, kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},
    )  # fmt: skip
    client.execute()
    code = [c for c in notebook.cells if c.cell_type == "code"]
    stderr = "".join(
        o["text"] for c in code for o in _outputs(c) if o["name"] == "stderr"
    )
    assert not TF_NOISE.search(stderr), stderr
    assert not TUNEKIT_PATH.search(stderr), stderr
    search_cell = next(c for c in code if "tuner.search(" in c.source)
    text = "".join(o["text"] for o in _outputs(search_cell) if o["name"] == "stdout")
    trial_lines = [
        line for line in text.splitlines() if re.search(r"\btrial \d+\b", line)
    ]
    assert len(trial_lines) == 2, text  # one line per trial
    assert "Epoch 1/1" not in text and "━" not in text  # no Keras step bars
    assert len(text.splitlines()) <= 6, text
    assert (tmp_path / "runs" / "quickstart.html").is_file()
