"""Fixtures shared by the tuner tests."""

from __future__ import annotations

import pytest
from processes import Processes


@pytest.fixture
def processes(tmp_path):
    """Real processes started by the test; every one is killed at the end."""
    running = Processes(tmp_path)
    try:
        yield running
    finally:
        running.close()
