"""Run the tunekit command line: ``python -m tunekit``."""

from __future__ import annotations

import sys

from tunekit.cli._main import main

if __name__ == "__main__":
    sys.exit(main())
