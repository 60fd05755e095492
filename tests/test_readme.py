"""The README's tour and every page under docs/ run as written.

Every ```python block of a page runs in order, in one Python session per page,
in a fresh temporary working directory.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


def _python_blocks(text: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", text, flags=re.DOTALL)


def test_readme_quick_start_has_exactly_the_two_commands():
    text = README.read_text()
    quick = text.split("## Quick start", 1)[1].split("```bash\n", 1)[1].split("```")[0]
    assert quick.strip().splitlines() == [
        "pip install . && tunekit demo",
        'pip install -e ".[dev]" && pytest -m "not slow" -n auto',
    ]


#: Runs each block as ``README.md python block N`` (tracebacks name the block).
TOUR_RUNNER = """
import json, sys
namespace = {"__name__": "__main__"}
for index, block in enumerate(json.load(open(sys.argv[1]))):
    exec(compile(block, f"README.md python block {index + 1}", "exec"), namespace)
"""
#: TensorFlow's and CUDA's C++ start-up lines (absl / glog format).
START_UP_LINE = re.compile(
    r"absl::InitializeLog|oneDNN custom operations|cudart_stub|cuInit|cuDNN|"
    r"cuBLAS|cuFFT|cpu_feature_guard|rebuild TensorFlow|"
    r"^[IWE]\d{4} [\d:.]+\s+\d+ ",
    flags=re.MULTILINE,
)


def test_readme_tour_runs(tmp_path):
    """The Tour as a user runs it: one fresh Python process, nothing in red.

    The child gets no ``TF_CPP_MIN_LOG_LEVEL`` (CI and conftest set one), so
    TensorFlow's C++ start-up lines would show if tunekit did not drop them;
    its stderr must hold no start-up line and no warning at all.
    """
    blocks = _python_blocks(README.read_text())
    assert len(blocks) >= 5
    (tmp_path / "blocks.json").write_text(json.dumps(blocks))
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    result = subprocess.run(
        [sys.executable, "-c", TOUR_RUNNER, "blocks.json"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stderr
    assert not START_UP_LINE.search(result.stderr), result.stderr
    assert "Warning" not in result.stderr, result.stderr
    assert "val_accuracy" in result.stdout  # the objective typo names the valid key
    assert (tmp_path / "runs" / "tour").is_dir()
    assert (tmp_path / "digits_png" / "9").is_dir()


# --- every page under docs/: its Python blocks run in order, one session per page

DOCS = README.parent / "docs"
#: Fence languages that are shown, never run (shell sessions, output, config).
NOT_RUN = frozenset({"bash", "console", "text", "yaml", "toml", "json", "html"})
FENCE = re.compile(r"^```(\S*)", flags=re.MULTILINE)


#: Pages whose examples run real searches for a minute or more (several
#: tuners, n_jobs processes): run with ``-m slow``; all others by default.
SLOW_PAGES = frozenset(
    {
        "estimators.md",
        "tuners.md",
        "guides/best-objective-never-updates.md",
        "guides/gridsearchcv-keras.md",
        "guides/hyperband-image-folder.md",
        "guides/random-vs-bayesian.md",
        "guides/retrain-best-model.md",
    }
)


def _doc_pages() -> list[Path]:
    return sorted(DOCS.rglob("*.md"))


def _pages_with_code() -> list[Path]:
    return [page for page in _doc_pages() if _python_blocks(page.read_text())]


#: A block that uses the tf.data loader or TensorFlow itself runs only where
#: TensorFlow is installed (like tests/data/test_tf_data.py); the JAX suite runs
#: every other block of the page.
NEEDS_TENSORFLOW = re.compile(r"image_dataset_from_directory\(|import tensorflow")


def _runs_here(block: str) -> bool:
    import importlib.util

    if not NEEDS_TENSORFLOW.search(block):
        return True
    return importlib.util.find_spec("tensorflow") is not None


def _run_page(page: Path) -> dict[str, object]:
    namespace: dict[str, object] = {"__name__": "__docs__"}
    for index, block in enumerate(_python_blocks(page.read_text())):
        if not _runs_here(block):
            continue
        name = f"{page.relative_to(README.parent)} python block {index + 1}"
        exec(compile(block, name, "exec"), namespace)
    return namespace


def _fence_languages(text: str) -> list[str]:
    # Every other ``` line opens a block; the ones between close them.
    return FENCE.findall(text)[0::2]


def _page_params() -> list[object]:
    params = []
    for page in _pages_with_code():
        name = str(page.relative_to(DOCS))
        marks = [pytest.mark.slow] if name in SLOW_PAGES else []
        params.append(pytest.param(page, id=name, marks=marks))
    return params


@pytest.mark.parametrize("page", _page_params())
def test_docs_page_runs_as_written(page, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    _run_page(page)


@pytest.mark.parametrize(
    "page", [README, *_doc_pages()], ids=lambda p: str(p.relative_to(README.parent))
)
def test_every_code_block_says_whether_it_runs(page):
    languages = _fence_languages(page.read_text())
    unknown = [lang for lang in languages if lang != "python" and lang not in NOT_RUN]
    assert not unknown, (
        f"{page.name}: fence every code block as ```python (run by the tests) or "
        f"one of {sorted(NOT_RUN)} (shown only); found {unknown}"
    )


def test_slow_pages_exist():
    missing = [name for name in SLOW_PAGES if not (DOCS / name).is_file()]
    assert not missing
