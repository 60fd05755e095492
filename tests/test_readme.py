"""The README's tour runs as written: every ```python block, in order."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def _python_blocks(text: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", text, flags=re.DOTALL)


def test_readme_quick_start_has_exactly_the_two_commands():
    text = README.read_text()
    quick = text.split("## Quick start", 1)[1].split("```bash\n", 1)[1].split("```")[0]
    assert quick.strip().splitlines() == [
        "pip install . && tunekit demo",
        'pip install -e ".[dev]" && pytest -m "not slow"',
    ]


def test_readme_tour_runs(tmp_path, monkeypatch, capsys):
    blocks = _python_blocks(README.read_text())
    assert len(blocks) >= 5
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {"__name__": "__readme__"}
    for index, block in enumerate(blocks):
        code = compile(block, f"README.md python block {index + 1}", "exec")
        exec(code, namespace)
    out = capsys.readouterr().out
    assert "val_accuracy" in out  # the objective typo names the valid key
    assert (tmp_path / "runs" / "tour").is_dir()
    assert (tmp_path / "digits_png" / "9").is_dir()
