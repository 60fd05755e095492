"""The on-disk cache of decoded arrays: hits, misses, invalidation, location."""

from __future__ import annotations

import json
import os
import time
import warnings
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tunekit import InvalidParameterError, UnwritablePathError
from tunekit.data import _decode_cache as dc

KW = dict(target_size=(8, 8), color_mode="rgb", interpolation="nearest")


def _paths(root: Path) -> list[str]:
    return sorted(str(p) for p in root.rglob("*.png"))


def _forbid_decoding(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(*args, **kwargs):
        raise AssertionError("an image was decoded although the cache was warm")

    monkeypatch.setattr(dc, "decode_images", fail)


def test_second_load_reads_cache_without_decoding(
    make_image_folder, tmp_path, monkeypatch
):
    root = make_image_folder({"a": 3, "b": 2})
    cache = tmp_path / "cache"
    first = dc.load_decoded(_paths(root), cache=cache, **KW)
    assert not first.from_cache and first.path is not None and first.path.exists()
    _forbid_decoding(monkeypatch)
    second = dc.load_decoded(_paths(root), cache=cache, **KW)
    assert second.from_cache and second.path == first.path
    assert isinstance(second.images, np.memmap)
    np.testing.assert_array_equal(np.asarray(second.images), np.asarray(first.images))
    # the cached pixels are the decoded pixels
    expected = np.asarray(Image.open(_paths(root)[0]).convert("RGB").resize((8, 8), 0))
    np.testing.assert_array_equal(second.images[0], expected)


@pytest.mark.parametrize("change", ["add", "remove", "touch", "rewrite", "params"])
def test_key_changes_when_folder_or_arguments_change(
    make_image_folder, tmp_path, change
):
    root = make_image_folder({"a": 3, "b": 2}, size=(8, 8))
    cache = tmp_path / "cache"
    first = dc.load_decoded(_paths(root), cache=cache, **KW)
    kw = dict(KW)
    target = Path(_paths(root)[0])
    if change == "add":
        Image.new("RGB", (8, 8), (200, 0, 0)).save(root / "a" / "zzz.png")
    elif change == "remove":
        target.unlink()
    elif change == "touch":
        stamp = time.time() + 100
        os.utime(target, (stamp, stamp))
    elif change == "rewrite":
        Image.new("RGB", (8, 8), (255, 255, 255)).save(target)
        stamp = time.time() + 100
        os.utime(target, (stamp, stamp))
    else:
        kw["interpolation"] = "bilinear"
    second = dc.load_decoded(_paths(root), cache=cache, **kw)
    assert not second.from_cache
    assert second.path != first.path
    if change == "rewrite":
        assert int(second.images[0].min()) == 255


def _damage(path: Path, how: str) -> None:
    if how == "garbage":
        path.write_bytes(b"garbage")
    elif how == "empty":
        path.write_bytes(b"")
    elif how == "truncated":
        path.write_bytes(path.read_bytes()[:-20])
    elif how == "pixels":  # the .npy header stays intact
        data = bytearray(path.read_bytes())
        data[-50:] = bytes(50)
        path.write_bytes(bytes(data))
    elif how == "no-record":
        path.with_suffix(".json").unlink()
    elif how == "bad-record":
        path.with_suffix(".json").write_text("{not json")


@pytest.mark.parametrize(
    "how", ["garbage", "empty", "truncated", "pixels", "no-record", "bad-record"]
)
def test_broken_entry_is_a_miss_decoded_again_with_one_warning(
    make_image_folder, tmp_path, how, recwarn
):
    root = make_image_folder({"a": 3}, size=(8, 8))
    cache = tmp_path / "cache"
    first = dc.load_decoded(_paths(root), cache=cache, **KW)
    expected = np.array(first.images)
    _damage(first.path, how)
    with pytest.warns(UserWarning, match="unreadable or inconsistent") as caught:
        again = dc.load_decoded(_paths(root), cache=cache, **KW)
    assert len([w for w in caught if "decode cache" in str(w.message)]) == 1
    assert not again.from_cache
    np.testing.assert_array_equal(np.asarray(again.images), expected)
    # the entry was rewritten: the next load is a clean hit
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        third = dc.load_decoded(_paths(root), cache=cache, **KW)
    assert third.from_cache
    np.testing.assert_array_equal(np.asarray(third.images), expected)


def test_every_entry_records_a_checksum_of_its_pixels(make_image_folder, tmp_path):
    root = make_image_folder({"a": 2})
    first = dc.load_decoded(_paths(root), cache=tmp_path / "c", **KW)
    record = json.loads(first.path.with_suffix(".json").read_text())
    assert record["checksum"] == dc._checksum(np.asarray(first.images))


def _replace_keeping_times(path: Path, color: tuple[int, int, int]) -> None:
    """What ``cp -p`` of same-size content does: new bytes, old size and mtime."""
    stat = path.stat()
    Image.new("RGB", (8, 8), color).save(path)
    data = path.read_bytes()
    assert len(data) <= stat.st_size
    path.write_bytes(data + bytes(stat.st_size - len(data)))  # PNG ignores the tail
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))


def test_content_check_sees_files_replaced_with_times_preserved(
    make_image_folder, tmp_path
):
    root = make_image_folder({"a": 2}, size=(8, 8))
    cache = tmp_path / "cache"
    content = dict(KW, cache=cache, cache_check="content")
    dc.load_decoded(_paths(root), cache=cache, **KW)
    dc.load_decoded(_paths(root), **content)
    _replace_keeping_times(Path(_paths(root)[0]), (255, 255, 255))
    by_mtime = dc.load_decoded(_paths(root), cache=cache, **KW)
    assert by_mtime.from_cache  # what "mtime" cannot see, documented
    by_content = dc.load_decoded(_paths(root), **content)
    assert not by_content.from_cache
    assert int(by_content.images[0].min()) == 255
    assert dc.load_decoded(_paths(root), **content).from_cache
    with pytest.raises(InvalidParameterError, match="Received: cache_check='hash'"):
        dc.load_decoded(_paths(root), **dict(content, cache_check="hash"))


def test_unreadable_files_recorded_in_the_entry(
    make_image_folder, tmp_path, monkeypatch
):
    root = make_image_folder({"a": 2})
    (root / "a" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    cache = tmp_path / "cache"
    first = dc.load_decoded(_paths(root), cache=cache, **KW)
    _forbid_decoding(monkeypatch)
    second = dc.load_decoded(_paths(root), cache=cache, **KW)
    assert list(first.errors) == list(second.errors) == [_paths(root).index(
        str(root / "a" / "broken.png"))]  # fmt: skip


def test_default_cache_dir_honors_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("TUNEKIT_CACHE_DIR", str(tmp_path / "tk"))
    assert dc.default_cache_dir() == tmp_path / "tk" / "decoded"
    monkeypatch.delenv("TUNEKIT_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert dc.default_cache_dir() == tmp_path / "xdg" / "tunekit" / "decoded"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert (
        dc.default_cache_dir() == tmp_path / "home" / ".cache" / "tunekit" / "decoded"
    )
    assert dc.resolve_cache_dir(True) == dc.default_cache_dir()


def test_cache_true_writes_under_tunekit_cache_dir(
    make_image_folder, tmp_path, monkeypatch
):
    monkeypatch.setenv("TUNEKIT_CACHE_DIR", str(tmp_path / "tk"))
    root = make_image_folder({"a": 2})
    out = dc.load_decoded(_paths(root), cache=True, **KW)
    assert out.path.parent == tmp_path / "tk" / "decoded"


def test_a_cache_path_that_is_a_file_is_named_before_decoding(
    make_image_folder, tmp_path, monkeypatch
):
    root = make_image_folder({"a": 2})
    blocker = tmp_path / "cache_is_a_file"
    blocker.write_text("")
    _forbid_decoding(monkeypatch)  # the error comes before any decoding
    with pytest.raises(UnwritablePathError) as caught:
        dc.load_decoded(_paths(root), cache=blocker, **KW)
    message = str(caught.value)
    assert f"Received: cache={str(blocker)!r}" in message
    assert "cache=False" in message and "--no-cache" in message
    assert blocker.read_text() == ""


def test_a_tunekit_cache_dir_that_is_a_file_names_the_variable(
    make_image_folder, tmp_path, monkeypatch
):
    blocker = tmp_path / "tk"
    blocker.write_text("")
    monkeypatch.setenv("TUNEKIT_CACHE_DIR", str(blocker))
    root = make_image_folder({"a": 2})
    with pytest.raises(UnwritablePathError, match="TUNEKIT_CACHE_DIR=") as caught:
        dc.load_decoded(_paths(root), cache=True, **KW)
    assert str(blocker / "decoded") in str(caught.value)


def test_a_read_only_cache_that_holds_the_entry_is_read(
    make_image_folder, tmp_path, monkeypatch
):
    root = make_image_folder({"a": 2})
    cache = tmp_path / "cache"
    dc.load_decoded(_paths(root), cache=cache, **KW)
    before = {p.name: p.stat().st_mtime_ns for p in cache.iterdir()}
    _forbid_decoding(monkeypatch)
    assert dc.load_decoded(_paths(root), cache=cache, **KW).from_cache
    assert {p.name: p.stat().st_mtime_ns for p in cache.iterdir()} == before


def test_invalid_cache_argument():
    with pytest.raises(InvalidParameterError, match="Received: cache=3"):
        dc.resolve_cache_dir(3)


def test_decode_converts_modes_and_resizes(tmp_path):
    paths = []
    for i, mode in enumerate(["L", "RGB", "RGBA", "P", "LA"]):
        path = tmp_path / f"{i}.png"
        Image.new(mode, (5, 4)).save(path)
        paths.append(str(path))
    for color_mode, channels in [("grayscale", 1), ("rgb", 3), ("rgba", 4)]:
        images, errors = dc.decode_images(paths, (3, 6), color_mode)
        assert images.shape == (5, 3, 6, channels) and not errors


def _write_unfiltered_png(path: Path, pixels: np.ndarray, extra: bytes = b"") -> None:
    """A PNG whose rows all use filter 0, as MNIST's PNGs are written."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    height, width, channels = pixels.shape
    color_type = {1: 0, 3: 2, 4: 6}[channels]
    ihdr = struct.pack(">IIBBBBB", width, height, 8, color_type, 0, 0, 0)
    rows = b"".join(b"\x00" + pixels[r].tobytes() for r in range(height))
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + extra
        + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")
    )  # fmt: skip


@pytest.mark.parametrize("channels", [1, 3, 4])
def test_unfiltered_png_fast_path_gives_pil_pixels(tmp_path, channels, monkeypatch):
    rng = np.random.default_rng(channels)
    paths = []
    for i in range(3):
        path = tmp_path / f"{i}.png"
        pixels = rng.integers(0, 256, (6, 5, channels), dtype=np.uint8)
        _write_unfiltered_png(path, pixels)
        paths.append(str(path))
    Image.fromarray(pixels[..., 0] if channels == 1 else pixels).save(
        tmp_path / "filtered.png"
    )  # PIL's encoder filters rows: the PIL path
    paths.append(str(tmp_path / "filtered.png"))
    for color_mode in ["grayscale", "rgb", "rgba"]:
        for size in [(6, 5), (4, 4)]:  # native size, and a resize (PIL path)
            fast, errors = dc.decode_images(paths, size, color_mode)
            monkeypatch.setattr(dc, "FAST_PNG", False)
            slow, _ = dc.decode_images(paths, size, color_mode)
            monkeypatch.setattr(dc, "FAST_PNG", True)
            assert not errors
            np.testing.assert_array_equal(fast, slow)
            for i, path in enumerate(paths):
                ref = dc.decode_image(path, size, color_mode)
                np.testing.assert_array_equal(fast[i], ref)


def test_unfiltered_png_with_transparency_or_truncation_goes_through_pil(tmp_path):
    import struct
    import zlib

    pixels = np.arange(30, dtype=np.uint8).reshape(6, 5, 1)
    trns = struct.pack(">I", 2) + b"tRNS" + b"\x00\x03"
    trns += struct.pack(">I", zlib.crc32(b"tRNS\x00\x03") & 0xFFFFFFFF)
    _write_unfiltered_png(tmp_path / "t.png", pixels, extra=trns)
    rgba, errors = dc.decode_images([str(tmp_path / "t.png")], (6, 5), "rgba")
    assert not errors
    expected = np.asarray(Image.open(tmp_path / "t.png").convert("RGBA"))
    np.testing.assert_array_equal(rgba[0], expected)
    assert rgba[0, 0, 3, 3] == 0  # the transparent gray value 3
    noise = np.random.default_rng(0).integers(0, 256, (20, 20, 1), dtype=np.uint8)
    _write_unfiltered_png(tmp_path / "n.png", noise)
    whole = (tmp_path / "n.png").read_bytes()
    (tmp_path / "cut.png").write_bytes(whole[: len(whole) // 2])
    _, errors = dc.decode_images([str(tmp_path / "cut.png")], (20, 20), "grayscale")
    assert list(errors) == [0]
