"""File helpers: atomic writes, and the one walker that lists the files under folders.

Atomic writes: a failure or a kill never leaves a half-written file under the name.

* The data goes to a temporary file beside the target, ``.NAME.<pid>.<random>.tmp``, is
  flushed and fsync'ed, then renamed over the target (``os.replace``: atomic on POSIX).
* Permissions are what the user's umask gives a new file (0644 under umask 022, 0600 under
  077), as for any file a program creates: the temporary file is opened with mode 0666 and
  the kernel applies the umask (and a folder's default ACL). Replacing an existing file keeps
  that file's permission bits, as overwriting it in place would.
* Temporary files left by a killed run are removed by the next write to the same folder.
  Only our own names are touched, and only files nobody is still writing:

  - ``.NAME.<pid>.<random>.tmp`` (this writer): unmodified for ``STALE_SECONDS`` (60 s) and
    its writer's process is gone on this machine; or unmodified for ``ORPHAN_SECONDS`` (a
    day) whatever the process table says (a reused PID, a writer on another host sharing the
    folder);
  - ``.NAME.XXXXXXXX`` (8 characters of ``tempfile``'s alphabet; versions up to 0.1.0 wrote
    these) only beside a target of the same NAME, unmodified for ``ORPHAN_SECONDS``.

  The minute of grace keeps a live writer's file safe even where its PID means nothing here
  (another container or host writing into a shared folder): a writer updates its file's
  modification time as it writes.
"""

from __future__ import annotations

import os
import re
import secrets
import stat
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, BinaryIO

__all__ = ["write_atomically", "save_dataset", "write_text", "clean_stale_temp_files",
           "collect_files", "is_dicom_file", "STALE_SECONDS", "ORPHAN_SECONDS"]

STALE_SECONDS = 60.0          # unmodified this long and its writer is dead -> stale
ORPHAN_SECONDS = 24 * 3600.0  # unmodified this long -> stale whatever the PID says

_TEMP = re.compile(r"^\.(?P<name>.+)\.(?P<pid>\d{1,10})\.[0-9a-f]{12}\.tmp$")
_LEGACY = re.compile(r"^\.(?P<name>.+)\.[a-z0-9_]{8}$")  # tempfile.mkstemp(prefix=".NAME.")
_NAME_ROOM = 200  # bytes of the target name kept in the temporary name (NAME_MAX is 255)


def _temp_name(target: str) -> str:
    name = target
    while len(name.encode("utf-8", "surrogateescape")) > _NAME_ROOM:
        name = name[:-1]
    return f".{name}.{os.getpid()}.{secrets.token_hex(6)}.tmp"


def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)  # signal 0: an existence check, nothing is sent
    except (ProcessLookupError, OverflowError):
        return False
    except OSError:  # PermissionError: someone else's process, alive
        return True
    return True


def clean_stale_temp_files(folder: str | os.PathLike[str], target: str | None = None, *,
                           now: float | None = None) -> list[Path]:
    """Remove temporary files of killed atomic writes in ``folder`` (rules: module docstring).
    ``target`` (a file name in the folder) also allows the pre-0.2 ``.NAME.XXXXXXXX`` names
    of that one target. Never raises; returns what it removed."""
    now = time.time() if now is None else now
    removed: list[Path] = []
    try:
        entries = list(os.scandir(os.fspath(folder)))
    except OSError:
        return removed
    for entry in entries:
        if not entry.name.startswith("."):
            continue
        match = _TEMP.match(entry.name)
        legacy = None if match else _LEGACY.match(entry.name)
        if not match and not (legacy and target is not None and legacy["name"] == target):
            continue
        try:
            info = entry.stat(follow_symlinks=False)
            if not stat.S_ISREG(info.st_mode):
                continue
            idle = now - info.st_mtime
            if match:
                stale = idle > ORPHAN_SECONDS or (idle > STALE_SECONDS
                                                  and not _pid_alive(int(match["pid"])))
            else:
                stale = idle > ORPHAN_SECONDS
            if stale:
                os.unlink(entry.path)
                removed.append(Path(entry.path))
        except OSError:  # gone already (another cleaner), or not ours to remove
            continue
    return removed


def write_atomically(path: str | os.PathLike[str], write: Callable[[BinaryIO], Any]) -> Path:
    """Call ``write`` on a temporary file beside ``path``, then rename it into place."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    clean_stale_temp_files(path.parent, path.name)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    while True:
        tmp = path.parent / _temp_name(path.name)
        try:
            fd = os.open(tmp, flags, 0o666)  # the umask decides, as for any new file
            break
        except FileExistsError:  # 48 random bits: practically never
            continue
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
            try:
                os.chmod(handle.fileno(), stat.S_IMODE(os.stat(path).st_mode) & 0o777)
            except FileNotFoundError:
                pass  # a new file: keep what the umask gave
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def save_dataset(ds, path: str | os.PathLike[str]) -> Path:
    """A pydicom Dataset (with file meta) to a DICOM file, atomically."""
    return write_atomically(path, lambda handle: ds.save_as(handle, enforce_file_format=True))


def write_text(path: str | os.PathLike[str], text: str) -> Path:
    """UTF-8 text to a file, atomically."""
    return write_atomically(path, lambda handle: handle.write(text.encode("utf-8")))


def collect_files(paths: Iterable[str | os.PathLike[str]], *, missing: Callable[[Path], Exception]
                  ) -> list[tuple[Path, bool]]:
    """Every file named, and every file under folders named (recursive, sorted; hidden files
    and folders and DICOMDIR skipped), as ``(path, named)``: ``named`` is True for a file
    given by name, False for one found in a folder. A path that does not exist raises
    ``missing(path)``."""
    out: list[tuple[Path, bool]] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = (p for p in path.rglob("*") if p.is_file() and p.name != "DICOMDIR"
                     and not any(part.startswith(".") for part in p.relative_to(path).parts))
            out.extend((p, False) for p in sorted(found))
        elif path.is_file():
            out.append((path, True))
        else:
            raise missing(path)
    return out


def is_dicom_file(path: str | os.PathLike[str]) -> bool:
    """A DICOM Part 10 file: 'DICM' after the 128-byte preamble. False when unreadable."""
    try:
        with open(path, "rb") as handle:
            handle.seek(128)
            return handle.read(4) == b"DICM"
    except OSError:
        return False
