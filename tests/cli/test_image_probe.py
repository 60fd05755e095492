"""``--color-mode auto`` / ``--image-size auto`` read the first images."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from tunekit.cli._image_probe import MAX_SIDE, probe_images
from tunekit.data._directory import list_image_directory


def _probe(root):
    listing = list_image_directory(root)
    return probe_images(listing.filepaths, listing.labels)


@pytest.mark.parametrize(
    ("mode", "expected"), [("L", "grayscale"), ("RGB", "rgb"), ("RGBA", "rgba")]
)
def test_colour_mode_follows_the_images(make_image_folder, mode, expected):
    root = make_image_folder({"a": 3, "b": 3}, size=(9, 7), mode=mode)
    probe = _probe(root)
    assert probe.color_mode == expected
    assert probe.size == (9, 7) and probe.sampled == 6


def test_rgb_files_with_equal_channels_are_grayscale(tmp_path):
    for label in ("a", "b"):
        (tmp_path / label).mkdir()
        gray = np.random.default_rng(0).integers(0, 256, (6, 6), dtype=np.uint8)
        Image.fromarray(np.stack([gray] * 3, axis=-1)).save(tmp_path / label / "0.png")
    assert _probe(tmp_path).color_mode == "grayscale"


def test_size_is_the_median_capped_with_aspect_kept(tmp_path):
    sizes = {"a": [(400, 800), (400, 800), (10, 10)], "b": [(400, 800)]}
    for label, shapes in sizes.items():
        (tmp_path / label).mkdir()
        for i, (height, width) in enumerate(shapes):
            Image.new("RGB", (width, height)).save(tmp_path / label / f"{i}.png")
    probe = _probe(tmp_path)
    assert probe.median_size == (400, 800)
    assert probe.size == (MAX_SIDE // 2, MAX_SIDE)
    assert "capped" in probe.describe()


def test_unreadable_files_are_skipped(tmp_path):
    for label in ("a", "b"):
        (tmp_path / label).mkdir()
        (tmp_path / label / "broken.png").write_bytes(b"not a png")
        Image.new("L", (5, 4)).save(tmp_path / label / "ok.png")
    probe = _probe(tmp_path)
    assert probe.sampled == 2 and probe.size == (4, 5)


def test_tune_prints_the_auto_choice(make_image_folder, tmp_path, capsys):
    from tunekit.cli._main import main

    root = make_image_folder({"a": 4, "b": 4}, size=(9, 7), mode="L")
    main(["tune", str(root), "--validation-split", "0.01", "--no-cache",
          "--directory", str(tmp_path / "runs")])  # fmt: skip  # fails: no val
    captured = capsys.readouterr()
    assert "auto: --image-size 9 7, --color-mode grayscale" in captured.out
    assert "leaves no validation image" in captured.err
