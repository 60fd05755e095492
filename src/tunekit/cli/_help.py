"""Help output of the ``tunekit`` subcommands.

:class:`HelpFormatter` is ``argparse``'s defaults formatter without its two
faults: it never prints ``(default: None)`` or ``(default: False)``, and it
adds no default to a help text that already states one.
"""

from __future__ import annotations

import argparse

__all__ = ["HelpFormatter"]


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Show a flag's default only when it says something.

    Examples
    --------
    >>> parser = argparse.ArgumentParser(prog="x", formatter_class=HelpFormatter)
    >>> _ = parser.add_argument("--size", type=int, default=3, help="a size")
    >>> _ = parser.add_argument("--out", default=None, help="a file")
    >>> _ = parser.add_argument("--cache", default=None,
    ...                         help="a folder (default: ~/.cache)")
    >>> text = parser.format_help()
    >>> "a size (default: 3)" in text, "(default: None)" in text
    (True, False)
    >>> text.count("default:")
    2
    """

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        if "default" in text.lower():
            return text
        if action.default in (None, False, argparse.SUPPRESS) or action.default == []:
            return text
        return super()._get_help_string(action)
