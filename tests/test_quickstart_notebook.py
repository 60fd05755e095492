"""The quick-start notebook in a real kernel: one line per trial, no TF noise."""

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


def _outputs(cell):
    return [o for o in cell.get("outputs", []) if o.get("output_type") == "stream"]


@pytest.mark.slow  # starts a kernel that imports TensorFlow and trains 2 trials
def test_quickstart_notebook_runs_with_one_line_per_trial(tmp_path):
    pytest.importorskip("tensorflow")  # the notebook's first cell silences TF
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
    search_cell = next(c for c in code if "tuner.search(" in c.source)
    text = "".join(o["text"] for o in _outputs(search_cell) if o["name"] == "stdout")
    trial_lines = [
        line for line in text.splitlines() if re.search(r"\btrial \d+\b", line)
    ]
    assert len(trial_lines) == 2, text  # one line per trial
    assert "Epoch 1/1" not in text and "━" not in text  # no Keras step bars
    assert len(text.splitlines()) <= 6, text
    assert (tmp_path / "runs" / "quickstart.html").is_file()
