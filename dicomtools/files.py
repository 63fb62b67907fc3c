"""Atomic file writes: a failure or a kill never leaves a half-written file under the name."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import BinaryIO, Callable


def write_atomically(path: str | os.PathLike, write: Callable[[BinaryIO], None]) -> Path:
    """Call ``write`` on a temporary file beside ``path``, then rename it into place."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def save_dataset(ds, path: str | os.PathLike) -> Path:
    """A pydicom Dataset (with file meta) to a DICOM file, atomically."""
    return write_atomically(path, lambda handle: ds.save_as(handle, enforce_file_format=True))


def write_text(path: str | os.PathLike, text: str) -> Path:
    """UTF-8 text to a file, atomically."""
    return write_atomically(path, lambda handle: handle.write(text.encode("utf-8")))
