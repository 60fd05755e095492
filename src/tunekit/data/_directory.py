"""Listing a class-per-subfolder image directory exactly as Keras 2 did.

Shared by the loaders (:mod:`tunekit.data._files_iterator`,
:mod:`tunekit.data._tf_data`)
and the class-weight helpers, so every tool sees the same class order, the
same file order and the same per-class validation split. Nothing here decodes
an image or imports Keras.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from tunekit._errors import ImageDirectoryError
from tunekit._validation import invalid_parameter, received

__all__ = [
    "IMAGE_EXTENSIONS",
    "DirectoryListing",
    "list_image_directory",
    "list_image_tree",
]

#: File extensions Keras 2's ``DirectoryIterator`` accepted (matched
#: case-insensitively on the end of the file name).
IMAGE_EXTENSIONS: tuple[str, ...] = ("png", "jpg", "jpeg", "bmp", "ppm", "tif", "tiff")


@dataclass(frozen=True)
class DirectoryListing:
    """The files of an image directory, in Keras 2 order.

    Attributes
    ----------
    directory : str
        The directory that was listed.
    class_names : tuple of str
        Class subfolder names, sorted; the label of a class is its index here.
    filenames : tuple of str
        Paths relative to ``directory`` (``"cat/001.png"``), class by class,
        each class's files in sorted walk order.
    labels : numpy.ndarray of int32
        The class index of each file.
    ignored_files : tuple of str
        Files inside class folders whose extension is not an image's.
    """

    directory: str
    class_names: tuple[str, ...]
    filenames: tuple[str, ...]
    labels: np.ndarray
    ignored_files: tuple[str, ...] = ()

    @property
    def filepaths(self) -> list[str]:
        """Absolute-or-as-given paths: ``os.path.join(directory, filename)``."""
        # ``os.path.join(directory, "") + f`` is ``os.path.join(directory, f)``
        # for the relative names listed here, without a call per file.
        base = os.path.join(self.directory, "")
        return [base + f for f in self.filenames]

    @property
    def class_indices(self) -> dict[str, int]:
        """Mapping of class name to label index."""
        return {name: i for i, name in enumerate(self.class_names)}

    def class_counts(self) -> np.ndarray:
        """Number of files per class, in class-index order."""
        return np.bincount(self.labels, minlength=len(self.class_names))


def _walk_class_folder(
    directory: str, class_name: str, follow_links: bool
) -> tuple[list[str], list[str]]:
    """Return (image names, ignored names) of one class folder, Keras 2 order.

    Names are relative to ``directory`` (``"cat/sub/1.png"``); each folder's
    prefix is computed once instead of calling ``os.path.relpath`` per file.
    """
    images: list[str] = []
    ignored: list[str] = []
    class_dir = os.path.join(directory, class_name)
    walk = sorted(os.walk(class_dir, followlinks=follow_links), key=lambda x: x[0])
    for root, _, files in walk:
        prefix = os.path.join(class_name, os.path.relpath(root, class_dir))
        if root == class_dir:
            prefix = class_name
        prefix = os.path.join(prefix, "")  # + fname == os.path.join(prefix, fname)
        for fname in sorted(files):
            name = prefix + fname
            if fname.lower().endswith(IMAGE_EXTENSIONS):
                images.append(name)
            elif not fname.startswith("."):
                ignored.append(name)
    return images, ignored


def _resolve_class_names(
    directory: str, classes: Sequence[str] | None, argname: str
) -> list[str]:
    subdirs = sorted(
        name
        for name in os.listdir(directory)
        if os.path.isdir(os.path.join(directory, name)) and not name.startswith(".")
    )
    if classes is None:
        if not subdirs:
            raise ImageDirectoryError(
                f"`{argname}` must contain one subfolder per class (e.g. "
                f"{argname}/cat/*.png, {argname}/dog/*.png), but it has no "
                f"subfolders. {received(argname, directory)}"
            )
        return subdirs
    if isinstance(classes, str) or not all(isinstance(c, str) for c in classes):
        raise invalid_parameter(
            "classes", classes, "a list of class subfolder names (strings)"
        )
    missing = [c for c in classes if c not in subdirs]
    if missing:
        raise ImageDirectoryError(
            f"`classes` names folders that do not exist in {directory!r}: "
            f"{missing}. Existing subfolders: {subdirs}. Received: classes={classes!r}"
        )
    return list(classes)


def list_image_directory(
    directory: str | os.PathLike[str],
    *,
    classes: Sequence[str] | None = None,
    follow_links: bool = False,
    split: tuple[float, float] | None = None,
    allow_empty_classes: bool = False,
    argname: str = "directory",
) -> DirectoryListing:
    """List the images of a class-per-subfolder directory in Keras 2 order.

    Parameters
    ----------
    directory : str or path-like
        Folder with one subfolder per class.
    classes : list of str, default=None
        Class subfolders to use, in label order. By default every subfolder,
        sorted by name (so ``'10'`` sorts before ``'2'``, as in Keras).
    follow_links : bool, default=False
        Follow symbolic links to subfolders.
    split : (float, float), default=None
        Keep only the files between these fractions of each class's sorted
        file list, as Keras 2's ``validation_split`` did: validation is
        ``(0, v)``, training ``(v, 1)``.
    allow_empty_classes : bool, default=False
        Return classes without any image instead of raising.
    argname : str, default="directory"
        Argument name used in error messages.

    Returns
    -------
    DirectoryListing

    Examples
    --------
    >>> import os, tempfile
    >>> root = tempfile.mkdtemp()
    >>> for name in ["cat/1.png", "cat/2.png", "dog/1.png", "dog/notes.txt"]:
    ...     os.makedirs(os.path.dirname(os.path.join(root, name)), exist_ok=True)
    ...     open(os.path.join(root, name), "wb").close()
    >>> listing = list_image_directory(root)
    >>> listing.class_names, listing.filenames
    (('cat', 'dog'), ('cat/1.png', 'cat/2.png', 'dog/1.png'))
    >>> len(listing.ignored_files)
    1
    """
    directory = os.fspath(directory)
    if not os.path.isdir(directory):
        what = (
            "is a file, not a folder" if os.path.exists(directory) else "does not exist"
        )
        raise ImageDirectoryError(
            f"`{argname}` must be an existing folder with one subfolder per "
            f"class, but it {what}. {received(argname, directory)}"
        )
    class_names = _resolve_class_names(directory, classes, argname)
    filenames: list[str] = []
    labels: list[int] = []
    ignored: list[str] = []
    empty: list[str] = []
    for index, name in enumerate(class_names):
        images, skipped = _walk_class_folder(directory, name, follow_links)
        ignored.extend(skipped)
        if not images:
            empty.append(name)
        if split is not None:
            start, stop = int(split[0] * len(images)), int(split[1] * len(images))
            images = images[start:stop]
        filenames.extend(images)
        labels.extend([index] * len(images))
    if empty and not allow_empty_classes:
        none_at_all = "No images found. " if len(empty) == len(class_names) else ""
        raise ImageDirectoryError(
            f"{none_at_all}Class folders without any image "
            f"({', '.join(IMAGE_EXTENSIONS)}) in `{argname}`: {empty}. Add images "
            f"or remove those folders, or pass `classes=` without them. "
            f"{received(argname, directory)}"
        )
    return DirectoryListing(
        directory=directory,
        class_names=tuple(class_names),
        filenames=tuple(filenames),
        labels=np.asarray(labels, dtype=np.int32),
        ignored_files=tuple(ignored),
    )


def list_image_tree(
    directory: str | os.PathLike[str],
    *,
    follow_links: bool = False,
    argname: str = "directory",
) -> DirectoryListing:
    """List every image under ``directory`` (any depth, flat folders too).

    The files come in the same sorted walk order as one class folder of
    :func:`list_image_directory`; the listing has no class names and every
    label is 0 (for ``labels=None`` or labels given by the caller).

    Examples
    --------
    >>> import os, tempfile
    >>> root = tempfile.mkdtemp()
    >>> for name in ["b.png", "a.png", "sub/c.jpg", "notes.txt"]:
    ...     os.makedirs(os.path.dirname(os.path.join(root, name)), exist_ok=True)
    ...     open(os.path.join(root, name), "wb").close()
    >>> list_image_tree(root).filenames
    ('a.png', 'b.png', 'sub/c.jpg')
    """
    directory = os.fspath(directory)
    if not os.path.isdir(directory):
        what = (
            "is a file, not a folder" if os.path.exists(directory) else "does not exist"
        )
        raise ImageDirectoryError(
            f"`{argname}` must be an existing folder of images, but it {what}. "
            f"{received(argname, directory)}"
        )
    images: list[str] = []
    ignored: list[str] = []
    walk = sorted(os.walk(directory, followlinks=follow_links), key=lambda x: x[0])
    for root, _dirs, files in walk:
        rel = os.path.relpath(root, directory)
        if any(part.startswith(".") for part in rel.split(os.sep) if part != "."):
            continue
        prefix = "" if rel == "." else os.path.join(rel, "")
        for fname in sorted(files):
            if fname.lower().endswith(IMAGE_EXTENSIONS):
                images.append(prefix + fname)
            elif not fname.startswith("."):
                ignored.append(prefix + fname)
    return DirectoryListing(
        directory=directory,
        class_names=(),
        filenames=tuple(images),
        labels=np.zeros(len(images), dtype=np.int32),
        ignored_files=tuple(ignored),
    )
