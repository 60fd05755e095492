"""Every flag of every subcommand explains itself, and defaults are shown once."""

from __future__ import annotations

import argparse
import re

import pytest

from tunekit.cli._help import HelpFormatter
from tunekit.cli._main import _SUBCOMMANDS, _build_parser, main


def _subparsers() -> dict[str, argparse.ArgumentParser]:
    parser = _build_parser()
    action = next(
        a for a in parser._actions if isinstance(a, argparse._SubParsersAction)
    )
    return dict(action.choices)


@pytest.mark.parametrize("command", sorted(_SUBCOMMANDS))
def test_every_flag_has_help_text(command):
    sub = _subparsers()[command]
    missing = [
        "/".join(a.option_strings) or a.dest
        for a in sub._actions
        if not isinstance(a, argparse._HelpAction) and not (a.help or "").strip()
    ]
    assert not missing, f"tunekit {command}: flags without help text: {missing}"


@pytest.mark.parametrize("command", sorted(_SUBCOMMANDS))
def test_help_never_shows_default_none_nor_a_default_twice(command, capsys):
    with pytest.raises(SystemExit):
        main([command, "--help"])
    text = capsys.readouterr().out
    assert "(default: None)" not in text and "(default: False)" not in text
    # One entry per flag: the help lines from one option to the next.
    entries = re.split(r"\n  (?=-)", text)
    twice = [
        e.split()[0]
        for e in entries
        if e.lower().count("default:") + e.lower().count("default ") > 1
    ]
    assert not twice, f"tunekit {command}: a default stated twice for {twice}"


def test_tune_help_documents_the_scripting_flags(capsys):
    with pytest.raises(SystemExit):
        main(["tune", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for flag in ("--json", "--time-budget MINUTES", "--target VALUE"):
        assert flag in text
    assert "'auto' (the default)" in text  # --image-size and --color-mode


def test_formatter_shows_meaningful_defaults():
    parser = argparse.ArgumentParser(formatter_class=HelpFormatter)
    parser.add_argument("--epochs", type=int, default=3, help="epochs")
    parser.add_argument("--flag", action="store_true", help="a switch")
    text = parser.format_help()
    assert "epochs (default: 3)" in text and "a switch (default" not in text


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--image-size", "8"], "expected 'auto' or two integers H W"),
        (["--image-size", "8", "0"], "expected an integer >= 1"),
        (["--image-size", "big", "8"], "expected an integer"),
        (["--color-mode", "cmyk"], "invalid choice"),
    ],
)
def test_bad_image_options_exit_2(tmp_path, capsys, argv, message):
    with pytest.raises(SystemExit) as exit_info:
        main(["tune", str(tmp_path), *argv])
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err
