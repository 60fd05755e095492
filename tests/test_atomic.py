"""The atomic writer: a failed write keeps the previous file, leaves no temporary."""

from __future__ import annotations

import errno
import os
import stat

import pytest

from tunekit._atomic import check_writable_folder, replacing, write_json, write_text


def test_write_replaces_the_file_and_leaves_nothing_else(tmp_path):
    path = tmp_path / "tunekit.json"
    write_json(path, {"a": 1})
    write_text(path, "second")
    assert path.read_text() == "second"
    assert os.listdir(tmp_path) == ["tunekit.json"]


def test_a_write_that_fails_midway_keeps_the_previous_file(tmp_path):
    path = tmp_path / "report.html"
    path.write_text("the good page")
    with pytest.raises(OSError, match="No space left"), replacing(path) as temporary:
        with open(temporary, "w") as handle:
            handle.write("half a pa")
        assert os.path.dirname(temporary) == str(tmp_path)  # same folder: rename
        assert temporary.endswith(".html")  # the suffix writers check
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))  # a full disk
    assert path.read_text() == "the good page"
    assert os.listdir(tmp_path) == ["report.html"]


def test_the_replaced_file_keeps_its_permissions(tmp_path):
    path = tmp_path / "best.keras"
    path.write_text("old")
    path.chmod(0o640)
    write_text(path, "new")
    assert stat.S_IMODE(path.stat().st_mode) == 0o640


def test_a_folder_under_a_file_is_not_writable_even_for_root(tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("")
    error = check_writable_folder(blocker / "sub")
    assert isinstance(error, OSError) and error.errno == errno.ENOTDIR
    assert check_writable_folder(tmp_path) is None
    assert os.listdir(tmp_path) == ["a_file"]  # the probe is gone
