"""``--color-mode auto`` and ``--image-size auto``: look at the first images.

:func:`probe_images` opens a few images of each class (PIL reads only the
header for the size; pixels are read only to tell a grayscale image saved
as RGB from a colour one) and picks

* the colour mode: ``grayscale`` when every sampled image is grayscale
  (mode ``L``/``1``/``I``/``F``, or RGB with equal channels), ``rgba`` when
  any has an alpha channel, ``rgb`` otherwise;
* the size: the median height and width of the sampled images, scaled down
  (aspect ratio kept) so that the longer side is at most ``max_side``
  (default 224, the classic ImageNet size; larger inputs make every trial
  slower for little gain on a first search).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["MAX_SIDE", "ImageProbe", "probe_images"]

MAX_SIDE = 224
_GRAY_MODES = frozenset({"1", "L", "LA", "I", "I;16", "I;16B", "I;16L", "F"})
_ALPHA_MODES = frozenset({"RGBA", "LA", "PA", "RGBa", "La"})


@dataclass(frozen=True)
class ImageProbe:
    """What the sampled images look like.

    Examples
    --------
    >>> probe = ImageProbe(color_mode="grayscale", size=(28, 28), sampled=12,
    ...                    median_size=(28, 28))
    >>> probe.describe()
    'read 12 images: grayscale, median size 28x28 -> --image-size 28 28'
    """

    color_mode: str
    size: tuple[int, int]
    sampled: int
    median_size: tuple[int, int]

    def describe(self) -> str:
        """One line saying what was read and chosen."""
        median = f"{self.median_size[0]}x{self.median_size[1]}"
        text = (
            f"read {self.sampled} images: {self.color_mode}, median size "
            f"{median} -> --image-size {self.size[0]} {self.size[1]}"
        )
        if self.size != self.median_size:
            text += f" (capped to {max(self.size)} pixels on the longer side)"
        return text


def _sample(paths: list[str], labels: np.ndarray, per_class: int) -> list[str]:
    chosen: list[str] = []
    for label in np.unique(labels):
        indices = np.flatnonzero(labels == label)[:per_class]
        chosen += [paths[i] for i in indices]
    return chosen


def _is_gray(image: object) -> bool:
    mode = image.mode  # type: ignore[attr-defined]
    if mode in _GRAY_MODES:
        return True
    if mode not in {"RGB", "RGBA", "P", "PA", "CMYK", "YCbCr"}:
        return False
    small = image.convert("RGB")  # type: ignore[attr-defined]
    small.thumbnail((64, 64))
    pixels = np.asarray(small)
    return bool(
        np.array_equal(pixels[..., 0], pixels[..., 1])
        and np.array_equal(pixels[..., 1], pixels[..., 2])
    )


def _capped(size: tuple[int, int], max_side: int) -> tuple[int, int]:
    height, width = size
    longer = max(height, width)
    if longer <= max_side:
        return size
    scale = max_side / longer
    return max(1, round(height * scale)), max(1, round(width * scale))


def probe_images(
    paths: list[str],
    labels: np.ndarray,
    *,
    per_class: int = 8,
    max_side: int = MAX_SIDE,
) -> ImageProbe:
    """Sample up to ``per_class`` images of each class; choose mode and size.

    Files PIL cannot open are skipped (the loader reports them later).

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> from PIL import Image
    >>> root = tempfile.mkdtemp()
    >>> paths = []
    >>> for i, size in enumerate([(30, 20), (30, 20), (600, 400)]):
    ...     path = os.path.join(root, f"{i}.png")
    ...     Image.new("L", size).save(path)  # PIL sizes are (width, height)
    ...     paths.append(path)
    >>> probe = probe_images(paths, np.array([0, 0, 1]))
    >>> probe.color_mode, probe.size
    ('grayscale', (20, 30))
    """
    from PIL import Image

    heights: list[int] = []
    widths: list[int] = []
    gray: list[bool] = []
    alpha: list[bool] = []
    for path in _sample(list(paths), np.asarray(labels), per_class):
        try:
            with Image.open(path) as image:
                widths.append(image.width)
                heights.append(image.height)
                alpha.append(image.mode in _ALPHA_MODES or "transparency" in image.info)
                gray.append(_is_gray(image))
        except Exception:  # unreadable: the loader reports it
            continue
    if not heights:
        return ImageProbe("rgb", (64, 64), 0, (64, 64))
    median = (int(np.median(heights)), int(np.median(widths)))
    if all(gray):
        mode = "grayscale"
    elif any(alpha):
        mode = "rgba"
    else:
        mode = "rgb"
    return ImageProbe(mode, _capped(median, max_side), len(heights), median)
