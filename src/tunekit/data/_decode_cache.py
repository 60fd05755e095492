"""Decoding image files to arrays, and the on-disk cache of decoded arrays.

Both loaders (:mod:`tunekit.data._files_iterator` and :mod:`tunekit.data._tf_data`)
decode with the functions here, so they produce the same pixels. Decoding uses
PIL and NumPy only (no Keras, no TensorFlow) with the shortest path PIL
offers: the file is opened with the image formats restricted, converted only
when its mode differs from the requested one and resized only when its size
differs from the target.

The cache stores the decoded ``uint8`` array of a whole list of files as one
``.npy`` file, read back memory-mapped, next to a small ``.json`` record. Its
key hashes every file's path, size and modification time
(``cache_check="mtime"``, the default) or path and bytes
(``cache_check="content"``, for trees copied with preserved times) together
with the target size, color mode and interpolation, so a changed folder (a
file added, removed, replaced or touched) or changed loader arguments get a
new entry: a stale array is never served. Entries are written to a temporary
name and renamed, so an interrupted run never leaves a half-written entry
behind; each record carries the CRC-32 of the pixel bytes, checked on every
read, and an entry that is unreadable, truncated or whose checksum or shape
disagrees is a cache miss: the images are decoded again and the entry
rewritten, with one warning.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import struct
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tunekit._atomic import (
    check_writable_folder,
    replacing,
    unwritable,
    write_json,
)
from tunekit._errors import ImageDirectoryError, UnwritablePathError
from tunekit._validation import check_in, invalid_parameter
from tunekit._warnings import warn

__all__ = [
    "CACHE_CHECKS",
    "COLOR_MODES",
    "INTERPOLATIONS",
    "DecodedImages",
    "decode_image",
    "decode_images",
    "default_cache_dir",
    "load_decoded",
    "report_unreadable",
    "resolve_cache_dir",
]

#: color_mode -> (PIL mode, number of channels)
COLOR_MODES: dict[str, tuple[str, int]] = {
    "grayscale": ("L", 1),
    "rgb": ("RGB", 3),
    "rgba": ("RGBA", 4),
}

#: interpolation name -> name of the PIL ``Image.Resampling`` member
INTERPOLATIONS: dict[str, str] = {
    "nearest": "NEAREST",
    "bilinear": "BILINEAR",
    "bicubic": "BICUBIC",
    "lanczos": "LANCZOS",
    "box": "BOX",
    "hamming": "HAMMING",
}

#: How a cache entry is matched to its files: size and modification time, or
#: a hash of their bytes.
CACHE_CHECKS = ("mtime", "content")
_CACHE_VERSION = 2
_CHECKSUM = "crc32"
_FORMATS = ("PNG", "JPEG", "BMP", "PPM", "TIFF", "GIF", "WEBP")
_DECODE_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    zlib.error,
    ValueError,
    SyntaxError,
    EOFError,
)


def _decode_errors() -> tuple[type[BaseException], ...]:
    from PIL import Image

    return (*_DECODE_ERRORS, Image.DecompressionBombError)


def _crop_to_aspect_ratio(img: Any, target_size: tuple[int, int]) -> Any:
    """Center-crop ``img`` to the aspect ratio of ``target_size`` (Keras 2 rule)."""
    width, height = img.size
    target_height, target_width = target_size
    crop_height = min(height, (width * target_height) // target_width)
    crop_width = min(width, (height * target_width) // target_height)
    top = (height - crop_height) // 2
    left = (width - crop_width) // 2
    return img.crop((left, top, left + crop_width, top + crop_height))


def _pad_to_aspect_ratio(img: Any, target_size: tuple[int, int]) -> Any:
    """Pad ``img`` with black, centered, to the aspect ratio of ``target_size``."""
    from PIL import Image

    width, height = img.size
    target_height, target_width = target_size
    pad_height = max(height, (width * target_height) // target_width)
    pad_width = max(width, (height * target_width) // target_height)
    if (pad_width, pad_height) == (width, height):
        return img
    canvas = Image.new(img.mode, (pad_width, pad_height))
    canvas.paste(img, ((pad_width - width) // 2, (pad_height - height) // 2))
    return canvas


def _to_image(
    img: Any,
    target_size: tuple[int, int],
    pil_mode: str,
    resample: Any,
    keep_aspect_ratio: bool | str,
) -> Any:
    """Convert and resize only when needed; return a loaded PIL image.

    ``keep_aspect_ratio``: ``False`` (stretch), ``True`` / ``"crop"`` (center
    crop to the target aspect ratio first) or ``"pad"`` (pad with black).
    """
    if img.mode != pil_mode:
        img = img.convert(pil_mode)
    if img.size != (target_size[1], target_size[0]):
        if keep_aspect_ratio == "pad":
            img = _pad_to_aspect_ratio(img, target_size)
        elif keep_aspect_ratio:
            img = _crop_to_aspect_ratio(img, target_size)
        img = img.resize((target_size[1], target_size[0]), resample)
    img.load()
    return img


def _to_array(
    img: Any,
    target_size: tuple[int, int],
    pil_mode: str,
    resample: Any,
    keep_aspect_ratio: bool | str,
) -> np.ndarray:
    return np.asarray(
        _to_image(img, target_size, pil_mode, resample, keep_aspect_ratio)
    )


class _PixelWriter:
    """Copy a PIL image's pixels into a NumPy row without ``tobytes()``.

    ``np.asarray(img)`` goes through ``Image.tobytes()``, a Python loop over an
    encoder that costs more than decoding a small PNG. Mapping the destination
    row as a PIL image (``Image.core.map_buffer``, what ``Image.frombuffer``
    uses) and pasting into it is a single C copy. RGB images are 4 bytes per
    pixel inside PIL, so they go through a 4-channel scratch row. Falls back to
    ``np.asarray`` if this Pillow lacks the mapping.
    """

    def __init__(self, height: int, width: int, channels: int) -> None:
        from PIL import Image

        self._core = getattr(Image, "core", None)
        self._box = (0, 0, width, height)
        self._size = (width, height)
        self._shape = (height, width, channels)
        self._mode = {1: "L", 3: "RGBX", 4: "RGBA"}[channels]
        self._scratch = (
            np.empty((height, width, 4), np.uint8) if channels == 3 else None
        )
        self._fast = hasattr(self._core, "map_buffer")

    def write(self, row: np.ndarray, img: Any) -> None:
        if self._fast:
            try:
                target = self._scratch if self._scratch is not None else row
                if not target.flags.c_contiguous:
                    raise ValueError("not contiguous")
                core = self._core.map_buffer(  # type: ignore[union-attr]
                    target, self._size, "raw", 0, (self._mode, 0, 1)
                )
                core.paste(img.im, self._box)
                if self._scratch is not None:
                    row[...] = self._scratch[..., :3]
                return
            except (AttributeError, TypeError, ValueError):
                self._fast = False
        row[...] = np.asarray(img).reshape(self._shape)


def decode_image(
    path: str | os.PathLike[str],
    target_size: tuple[int, int],
    color_mode: str = "rgb",
    interpolation: str = "nearest",
    keep_aspect_ratio: bool | str = False,
) -> np.ndarray:
    """Decode one image file to a ``uint8`` array of shape ``(height, width, c)``.

    Parameters
    ----------
    path : str or path-like
        Image file.
    target_size : (int, int)
        ``(height, width)`` of the result; the image is resized if needed.
    color_mode : {"grayscale", "rgb", "rgba"}, default="rgb"
        Channels of the result (1, 3 or 4); other modes are converted.
    interpolation : str, default="nearest"
        PIL resampling filter used when the size differs.
    keep_aspect_ratio : bool, default=False
        Center-crop to the target aspect ratio before resizing.

    Returns
    -------
    numpy.ndarray of uint8

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> from PIL import Image
    >>> path = os.path.join(tempfile.mkdtemp(), "a.png")
    >>> Image.fromarray(np.full((4, 6), 7, np.uint8)).save(path)
    >>> decode_image(path, (2, 3), "rgb").shape
    (2, 3, 3)
    """
    from PIL import Image

    pil_mode, channels = COLOR_MODES[color_mode]
    resample = getattr(Image.Resampling, INTERPOLATIONS[interpolation])
    with Image.open(path, formats=_FORMATS) as img:
        array = _to_array(img, target_size, pil_mode, resample, keep_aspect_ratio)
    return array.reshape(target_size[0], target_size[1], channels)


#: Decode unfiltered 8-bit PNGs directly (see :func:`_plain_png_rows`).
FAST_PNG = True
_PLAIN_BATCH = 256  # unfiltered PNGs copied into the output at once
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_CHUNK_HEAD = struct.Struct(">I4s")
_SIZE = struct.Struct(">II")
_PNG_CHANNELS = {0: 1, 2: 3, 6: 4}  # color type -> channels (8-bit L, RGB, RGBA)
# Chunks that do not change the pixels PIL returns.
_PNG_HARMLESS = frozenset(
    (b"gAMA", b"cHRM", b"sRGB", b"iCCP", b"pHYs", b"tEXt", b"zTXt", b"iTXt",
     b"tIME", b"bKGD", b"sBIT")
)  # fmt: skip


def _read_file(path: str | os.PathLike[str]) -> bytes:
    """All bytes of a file, with fewer objects than ``open().read()``."""
    fd = os.open(path, os.O_RDONLY)
    try:
        data = os.read(fd, 1 << 16)
        if len(data) < 1 << 16:
            return data
        parts = [data]
        while chunk := os.read(fd, 1 << 20):
            parts.append(chunk)
        return b"".join(parts)
    finally:
        os.close(fd)


def _plain_png_rows(
    data: bytes, target_size: tuple[int, int], channels: int
) -> tuple[bytes, int] | None:
    """Inflated rows of an *unfiltered* 8-bit PNG and its channels, or ``None``.

    PNG rows start with a filter byte; when every row uses filter 0 (None),
    as MNIST's PNGs and many converted datasets do, the pixels are exactly
    the inflated IDAT bytes minus that byte, so ``zlib`` and one NumPy reshape
    replace PIL's Python-level chunk parsing and decoder. Anything else (other
    filters, palettes, 16-bit, interlacing, transparency chunks, a size other
    than the target, a conversion other than gray -> RGB/RGBA, a truncated or
    corrupt file) returns ``None`` and goes through PIL, which produces the
    same pixels (tested) or the error. The rows returned are checked: exactly
    ``height`` rows of ``width * found + 1`` bytes, each filter byte 0.
    """
    if not data.startswith(_PNG_SIGNATURE):
        return None
    pos, end_of_data, ihdr, idat = 8, len(data), b"", []
    unpack = _CHUNK_HEAD.unpack_from
    while True:
        if pos + 12 > end_of_data:
            return None  # no IEND: truncated, let PIL report it
        length, kind = unpack(data, pos)
        start, stop = pos + 8, pos + 8 + length
        if stop + 4 > end_of_data:
            return None
        if kind == b"IDAT":
            idat.append((start, stop))
        elif kind == b"IHDR":
            ihdr = data[start:stop]
        elif kind == b"IEND":
            break
        elif kind not in _PNG_HARMLESS:
            return None
        pos = stop + 4
    if len(ihdr) != 13 or ihdr[8] != 8 or ihdr[12] != 0 or ihdr[9] not in _PNG_CHANNELS:
        return None
    width, height = _SIZE.unpack_from(ihdr)
    found = _PNG_CHANNELS[ihdr[9]]
    if height != target_size[0] or width != target_size[1]:
        return None
    if found != channels and not (found == 1 and channels in (3, 4)):
        return None
    try:
        if len(idat) == 1:  # the usual case: inflate in place, no copy
            raw = zlib.decompress(memoryview(data)[idat[0][0] : idat[0][1]])
        else:
            raw = zlib.decompress(b"".join(data[a:b] for a, b in idat))
    except zlib.error:
        return None
    stride = width * found + 1
    if len(raw) != height * stride:
        return None
    if raw[::stride] != bytes(height):
        return None  # filtered rows: PIL undoes the filters
    return raw, found


def _write_rows(
    view: np.ndarray, rows: list[int], raws: list[bytes], found: int
) -> None:
    """Copy the pixels of many unfiltered PNGs into ``view[rows]`` at once."""
    n, height, width, channels = len(rows), *view.shape[1:]
    joined = np.frombuffer(b"".join(raws), dtype=np.uint8)
    pixels = joined.reshape(n, height, width * found + 1)[:, :, 1:]
    pixels = pixels.reshape(n, height, width, found)
    target: Any = slice(rows[0], rows[-1] + 1) if rows[-1] - rows[0] == n - 1 else rows
    if found == channels:
        view[target] = pixels
    else:  # gray -> RGB / RGBA, as PIL's convert does
        view[target, :, :, :3] = pixels
        if channels == 4:
            view[target, :, :, 3] = 255


def _write_groups(
    view: np.ndarray, plain: dict[int, tuple[list[int], list[bytes]]]
) -> None:
    """Write and forget the collected unfiltered PNGs, one group per channels."""
    for found, (rows_at, raws) in plain.items():
        _write_rows(view, rows_at, raws, found)
    plain.clear()


def decode_images(
    paths: Sequence[str],
    target_size: tuple[int, int],
    color_mode: str = "rgb",
    interpolation: str = "nearest",
    keep_aspect_ratio: bool | str = False,
    out: np.ndarray | None = None,
) -> tuple[np.ndarray, dict[int, str]]:
    """Decode many files into one ``uint8`` array ``(n, height, width, c)``.

    Unreadable files (not an image, corrupt, truncated) leave zeros in their
    row and are returned in a dict ``{index: reason}`` instead of raising.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> from PIL import Image
    >>> root = tempfile.mkdtemp()
    >>> good, bad = os.path.join(root, "a.png"), os.path.join(root, "b.png")
    >>> Image.fromarray(np.full((2, 2), 9, np.uint8)).save(good)
    >>> _ = open(bad, "wb").write(b"not an image")
    >>> images, errors = decode_images([good, bad], (2, 2), "grayscale")
    >>> images.shape, int(images[0].max()), list(errors)
    ((2, 2, 2, 1), 9, [1])
    """
    from PIL import Image

    pil_mode, channels = COLOR_MODES[color_mode]
    resample = getattr(Image.Resampling, INTERPOLATIONS[interpolation])
    height, width = target_size
    if out is None:
        out = np.zeros((len(paths), height, width, channels), dtype=np.uint8)
    view = out.reshape(len(paths), height, width, channels)
    writer = _PixelWriter(height, width, channels)
    errors: dict[int, str] = {}
    catch = _decode_errors()
    # Unfiltered PNGs are collected per channel count and copied in with one
    # NumPy operation per group every ``_PLAIN_BATCH`` files (bounded memory
    # for a whole-dataset ``out``); everything else goes through PIL, one
    # file at a time.
    plain: dict[int, tuple[list[int], list[bytes]]] = {}
    pending = 0
    fast = FAST_PNG
    for i, path in enumerate(paths):
        if pending == _PLAIN_BATCH:
            _write_groups(view, plain)
            pending = 0
        try:
            data = _read_file(path)
            if fast:
                rows = _plain_png_rows(data, target_size, channels)
                if rows is not None:
                    group = plain.get(rows[1])
                    if group is None:
                        group = plain[rows[1]] = ([], [])
                    group[0].append(i)
                    group[1].append(rows[0])
                    pending += 1
                    continue
            with Image.open(io.BytesIO(data), formats=_FORMATS) as img:
                writer.write(
                    view[i],
                    _to_image(img, target_size, pil_mode, resample, keep_aspect_ratio),
                )
        except catch as exc:
            view[i] = 0
            errors[i] = f"{type(exc).__name__}: {exc}"
    _write_groups(view, plain)
    return out, errors


def report_unreadable(
    errors: dict[str, str],
    on_error: str,
    *,
    total: int | None = None,
    note: str = "",
) -> None:
    """Warn once (``on_error="warn"``) or raise about unreadable image files.

    ``errors`` maps each file path to the reason it could not be decoded.

    Examples
    --------
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     report_unreadable({"a/1.png": "OSError: truncated"}, "warn")
    >>> "a/1.png" in str(caught[0].message)
    True
    """
    if not errors:
        return
    listed = "\n".join(f"  {path}: {reason}" for path, reason in errors.items())
    out_of = f" of {total}" if total is not None else ""
    if on_error == "raise":
        raise ImageDirectoryError(
            f"{len(errors)}{out_of} image files could not be decoded (corrupt, "
            f"truncated or not images):\n{listed}\nRemove or replace them, or "
            "pass on_error='warn' to skip them. Received: on_error='raise'"
        )
    warn(
        f"Skipping {len(errors)}{out_of} image files that could not be decoded "
        f"(corrupt, truncated or not images):\n{listed}\n{note}Pass "
        "on_error='raise' to make this an error.",
        UserWarning,
    )


def default_cache_dir() -> Path:
    """Where decoded arrays are cached unless told otherwise.

    ``$TUNEKIT_CACHE_DIR`` if set, else ``$XDG_CACHE_HOME/tunekit``, else
    ``~/.cache/tunekit``; decoded arrays go in its ``decoded`` subfolder.

    Examples
    --------
    >>> default_cache_dir().name
    'decoded'
    """
    root = os.environ.get("TUNEKIT_CACHE_DIR")
    if not root:
        xdg = os.environ.get("XDG_CACHE_HOME") or os.path.join(
            os.path.expanduser("~"), ".cache"
        )
        root = os.path.join(xdg, "tunekit")
    return Path(root) / "decoded"


def resolve_cache_dir(cache: bool | str | os.PathLike[str] | None) -> Path | None:
    """Turn a loader's ``cache`` argument into a folder, or ``None`` (no cache).

    Examples
    --------
    >>> resolve_cache_dir(False) is None
    True
    >>> str(resolve_cache_dir("/tmp/mycache"))
    '/tmp/mycache'
    """
    if cache is None or cache is False:
        return None
    if cache is True:
        return default_cache_dir()
    if isinstance(cache, (str, os.PathLike)):
        return Path(cache)
    raise invalid_parameter(
        "cache",
        cache,
        "False (no cache), True (the default cache folder) or a folder path",
    )


def _cache_key(
    paths: Sequence[str],
    target_size: tuple[int, int],
    color_mode: str,
    interpolation: str,
    keep_aspect_ratio: bool | str,
    cache_check: str = "mtime",
) -> str:
    digest = hashlib.sha256()
    params = [_CACHE_VERSION, list(target_size), color_mode, interpolation]
    digest.update(json.dumps([*params, keep_aspect_ratio, cache_check]).encode())
    for path in paths:
        name = os.path.abspath(path)
        try:
            if cache_check == "content":
                content = hashlib.blake2b(_read_file(path), digest_size=16)
                entry = f"{name}\0{content.hexdigest()}\n"
            else:
                stat = os.stat(path)
                entry = f"{name}\0{stat.st_size}\0{stat.st_mtime_ns}\n"
        except OSError:
            entry = f"{name}\0missing\n"
        digest.update(entry.encode("utf-8", "surrogateescape"))
    return digest.hexdigest()[:32]


def _checksum(images: np.ndarray) -> str:
    """CRC-32 of the pixel bytes (about 1 GB/s on one core)."""
    view = memoryview(np.ascontiguousarray(images)).cast("B")
    crc = 0
    step = 1 << 26
    for start in range(0, len(view), step):
        crc = zlib.crc32(view[start : start + step], crc)
    return f"{crc:08x}"


@dataclass
class DecodedImages:
    """Decoded pixels of a list of files.

    Attributes
    ----------
    images : numpy.ndarray of uint8
        ``(n, height, width, channels)``; memory-mapped when read from the cache.
    errors : dict of int to str
        Index -> reason, for files that could not be decoded (zeros in ``images``).
    from_cache : bool
        Whether the array was read from the cache instead of decoded.
    path : pathlib.Path or None
        The cache entry (``.npy``), if a cache was used.
    """

    images: np.ndarray
    errors: dict[int, str]
    from_cache: bool
    path: Path | None = None


def load_decoded(
    paths: Sequence[str],
    *,
    target_size: tuple[int, int],
    color_mode: str,
    interpolation: str,
    keep_aspect_ratio: bool | str = False,
    cache: bool | str | os.PathLike[str] | None = False,
    cache_check: str = "mtime",
) -> DecodedImages:
    """Decode ``paths`` once, reading and writing the on-disk cache if enabled.

    With ``cache`` set, a matching entry is memory-mapped (no image is
    decoded) after its checksum is verified; otherwise the files are decoded
    and the entry written. An unreadable or inconsistent entry is decoded
    again and rewritten, with one warning. ``cache_check="content"`` keys the
    entry on the files' bytes instead of their size and modification time.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> from PIL import Image
    >>> root = tempfile.mkdtemp()
    >>> path = os.path.join(root, "a.png")
    >>> Image.fromarray(np.full((3, 3), 5, np.uint8)).save(path)
    >>> kw = dict(target_size=(3, 3), color_mode="grayscale",
    ...           interpolation="nearest", cache=os.path.join(root, "cache"))
    >>> load_decoded([path], **kw).from_cache
    False
    >>> again = load_decoded([path], **kw)
    >>> again.from_cache, int(again.images[0, 0, 0, 0])
    (True, 5)
    """
    check_in("color_mode", color_mode, list(COLOR_MODES))
    check_in("interpolation", interpolation, list(INTERPOLATIONS))
    check_in("cache_check", cache_check, list(CACHE_CHECKS))
    cache_dir = resolve_cache_dir(cache)
    if cache_dir is None:
        images, errors = decode_images(
            paths, target_size, color_mode, interpolation, keep_aspect_ratio
        )
        return DecodedImages(images, errors, from_cache=False)
    key = _cache_key(
        paths, target_size, color_mode, interpolation, keep_aspect_ratio, cache_check
    )
    array_path = cache_dir / f"{key}.npy"
    meta_path = cache_dir / f"{key}.json"
    channels = COLOR_MODES[color_mode][1]
    shape = (len(paths), target_size[0], target_size[1], channels)
    try:
        cached = _read_entry(array_path, meta_path, shape)
    except _BrokenEntry as exc:
        warn(
            f"The decode cache entry {array_path} is unreadable or inconsistent "
            f"({exc}); decoding the images again and rewriting it.",
            UserWarning,
        )
        cached = None
    if cached is not None:
        return cached
    _check_cache_dir(cache, cache_dir)  # before decoding anything
    return _write_entry(
        array_path,
        meta_path,
        paths,
        target_size,
        color_mode,
        interpolation,
        keep_aspect_ratio,
    )


def _check_cache_dir(
    cache: bool | str | os.PathLike[str] | None, cache_dir: Path
) -> None:
    """Create ``cache_dir`` and write a probe there; a tunekit error if it fails."""
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise _unwritable_cache(cache, cache_dir, error) from error
    error = check_writable_folder(cache_dir)
    if error is not None:
        raise _unwritable_cache(cache, cache_dir, error) from error


def _unwritable_cache(
    cache: bool | str | os.PathLike[str] | None, cache_dir: Path, error: OSError
) -> UnwritablePathError:
    """Name the cache folder, the argument or variable that chose it, the way out."""
    if cache is True and os.environ.get("TUNEKIT_CACHE_DIR"):
        source = f"TUNEKIT_CACHE_DIR={os.environ['TUNEKIT_CACHE_DIR']!r}"
    elif cache is True:
        source = f"cache=True (the default cache folder {str(cache_dir)!r})"
    else:
        source = f"cache={os.fspath(cache)!r}"  # type: ignore[arg-type]
    path = error.filename if isinstance(error.filename, str) else cache_dir
    return unwritable(
        path,
        error,
        way_out=(
            f"The decode cache folder {str(cache_dir)!r} cannot be created or "
            "written (a file in the way, or read-only). Point `cache` (tunekit "
            "tune: --cache-dir) or the TUNEKIT_CACHE_DIR variable at a folder "
            "you can write to, or pass cache=False (--no-cache) to decode "
            "without a cache."
        ),
        source=source,
    )


class _BrokenEntry(Exception):
    """A cache entry that exists but cannot be trusted."""


def _read_entry(
    array_path: Path, meta_path: Path, shape: tuple[int, ...]
) -> DecodedImages | None:
    """The entry if it is complete and intact; ``None`` if there is none.

    Raises ``_BrokenEntry`` for an entry that is there but unreadable, cut
    short, of the wrong shape or whose pixels do not match their checksum.
    """
    has_array, has_meta = array_path.exists(), meta_path.exists()
    if not (has_array or has_meta):
        return None
    if not (has_array and has_meta):
        missing = meta_path if has_array else array_path
        raise _BrokenEntry(f"{missing.name} is missing")
    try:
        meta = json.loads(meta_path.read_text())
        if not isinstance(meta, dict):
            raise ValueError("the record is not a JSON object")
        images = np.load(array_path, mmap_mode="r")
    except (OSError, ValueError, EOFError, UnicodeDecodeError) as exc:
        raise _BrokenEntry(f"{type(exc).__name__}: {exc}") from None
    if meta.get("version") != _CACHE_VERSION:
        raise _BrokenEntry(f"written by cache version {meta.get('version')!r}")
    if images.shape != shape or images.dtype != np.uint8:
        raise _BrokenEntry(
            f"holds {images.dtype} {images.shape}, expected uint8 {shape}"
        )
    expected = meta.get("checksum")
    try:
        found = _checksum(images)
    except (OSError, ValueError) as exc:  # pragma: no cover - I/O error mid-read
        raise _BrokenEntry(f"{type(exc).__name__}: {exc}") from None
    if found != expected:
        raise _BrokenEntry(
            f"pixel checksum {found} does not match the recorded {expected!r}"
        )
    try:
        errors = {int(k): str(v) for k, v in meta.get("errors", {}).items()}
    except (AttributeError, TypeError, ValueError) as exc:
        raise _BrokenEntry(f"bad error list: {exc}") from None
    return DecodedImages(images, errors, from_cache=True, path=array_path)


def _write_entry(
    array_path: Path,
    meta_path: Path,
    paths: Sequence[str],
    target_size: tuple[int, int],
    color_mode: str,
    interpolation: str,
    keep_aspect_ratio: bool | str,
) -> DecodedImages:
    array_path.parent.mkdir(parents=True, exist_ok=True)
    channels = COLOR_MODES[color_mode][1]
    shape = (len(paths), target_size[0], target_size[1], channels)
    # The array first, then its record: a kill in between leaves an array
    # without a record, which the next read decodes again.
    with replacing(array_path) as tmp:
        out = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.uint8, shape=shape)
        _, errors = decode_images(
            paths, target_size, color_mode, interpolation, keep_aspect_ratio, out=out
        )
        out.flush()
        checksum = _checksum(out)
        del out  # unmapped before the rename
    meta = {
        "version": _CACHE_VERSION,
        "checksum": checksum,
        "checksum_algorithm": _CHECKSUM,
        "n": len(paths),
        "target_size": list(target_size),
        "color_mode": color_mode,
        "interpolation": interpolation,
        "keep_aspect_ratio": keep_aspect_ratio,
        "first_file": paths[0] if paths else None,
        "errors": {str(k): v for k, v in errors.items()},
    }
    write_json(meta_path, meta)
    images = np.load(array_path, mmap_mode="r")
    return DecodedImages(images, errors, from_cache=False, path=array_path)
