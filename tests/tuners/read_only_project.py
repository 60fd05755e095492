"""Open a finished tunekit project as a reader who cannot write it (run by a test).

Not a test module: ``test_saved_files.py`` starts it with ``subprocess`` on a
project it made read-only. Root ignores permission bits, so when run as root
the script first does everything once on a writable copy (which imports every
module while the interpreter's files can still be read), then becomes the
user ``nobody`` and does it again on the read-only project. It prints one line
``RESULT {json}``: what worked and the errors raised.

Usage: ``python read_only_project.py DIRECTORY OUT_DIR`` (``DIRECTORY/p`` is
the project, ``OUT_DIR`` a folder ``nobody`` may write).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import sys
import tempfile
import warnings
from typing import Any

from sklearn.datasets import load_digits
from tiny_models import dense_digits

import tunekit
from tunekit.cli._main import main

NOBODY = 65534


def _report(project: str, out: str) -> dict[str, Any]:
    err = io.StringIO()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
        elsewhere = main(["report", project, "--output", os.path.join(out, "r.html")])
        default = main(["report", project])  # into the project
    return {
        "report_output": elsewhere,
        "report_default": default,
        "report_error": err.getvalue(),
    }


def scenario(directory: str, out: str) -> dict[str, Any]:
    data = load_digits()
    x, y = (data.data / 16.0).astype("float32"), data.target
    result: dict[str, Any] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "no trials left"
        tuner = tunekit.random_search(
            dense_digits, "val_accuracy", max_trials=2, directory=directory,
            project_name="p", seed=0, verbose=False,
        )  # fmt: skip
        model = tuner.get_best_models(1)[0]
        result["predicts"] = list(model.predict(x[:2], verbose=0).shape)
        summary = tunekit.summarize(tuner)
        result["trials"] = len(summary.completed)
        page = summary.to_html(os.path.join(out, "summary.html"))
        result["html"] = os.path.isfile(page)
        result.update(_report(os.path.join(directory, "p"), out))
        try:
            tuner.search(x[:50], y[:50], epochs=1, validation_data=(x[50:80], y[50:80]))
            result["search"] = "ran"
        except Exception as error:  # reported to the test
            result["search"] = f"{type(error).__name__}: {error}"
    return result


def run(directory: str, out: str) -> None:
    scratch = tempfile.mkdtemp()
    try:
        shutil.copytree(directory, os.path.join(scratch, "copy"))
        scenario(os.path.join(scratch, "copy"), scratch)  # warm-up, writable
    finally:
        shutil.rmtree(scratch)
    if os.geteuid() == 0:  # root ignores permission bits: become nobody
        os.setgid(NOBODY)
        os.setuid(NOBODY)
    print("RESULT " + json.dumps(scenario(directory, out)), flush=True)


if __name__ == "__main__":
    run(*sys.argv[1:3])
