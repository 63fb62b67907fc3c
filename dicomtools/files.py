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

Walking folders (:class:`Walker`, used by :func:`collect_files` and by concordance): folders
are read as data, not trusted.

* Iterative (an explicit stack, no recursion), depth-first in name order (by bytes).
* Symbolic links are followed, to files and to folders, but every real folder and file (device
  and inode) is read once however often it is given, nested in another given folder, or
  linked: a link back to a folder already read (a loop) is not followed again.
* Special files (FIFOs, sockets, devices), broken links, link loops and unreadable files or
  folders are never opened: each is a note (:attr:`Walker.notes`), or, for a path given by
  name, the error ``unusable`` makes when the caller passes one.
* File names in notes and errors are escaped (:func:`dicomtools.phi.printable`).
"""

from __future__ import annotations

import errno
import os
import re
import secrets
import stat
import sys
import time
from collections.abc import Callable, Collection, Iterable, Iterator
from pathlib import Path
from typing import Any, BinaryIO, NamedTuple

from .errors import InputError
from .phi import printable

__all__ = ["write_atomically", "save_dataset", "write_text", "clean_stale_temp_files",
           "collect_files", "is_dicom_file", "Walker", "Found", "file_kind", "os_error_reason",
           "STALE_SECONDS", "ORPHAN_SECONDS"]

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
    """Call ``write`` on a temporary file beside ``path``, then rename it into place.

    An output that cannot be written (a folder, a read-only or missing place, a full disk) is
    an InputError naming it and the reason; nothing is left behind."""
    given = Path(path)
    if given.is_dir():
        raise InputError(f"{printable(given)}: is a folder; give the name of a file to write")
    # A link is written through (the file it points to is replaced, the link stays); a FIFO,
    # device or terminal (-o /dev/stdout, a named pipe) is written to directly, as any tool
    # would: it cannot be replaced by a rename.
    try:
        mode = os.stat(given).st_mode  # of what a link points to
    except OSError:
        mode = 0  # nothing there yet (or a dangling link: its target is created)
    try:
        if mode and not stat.S_ISREG(mode):
            with open(given, "wb") as handle:
                write(handle)
            return given
        _write_atomically(Path(os.path.realpath(given)) if given.is_symlink() else given, write)
        return given
    except OSError as exc:
        raise InputError(f"{printable(given)}: cannot write ({os_error_reason(exc)})") from None


def _write_atomically(path: Path, write: Callable[[BinaryIO], Any]) -> Path:
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


# ---- walking folders ---------------------------------------------------------------------
def read_input_text(path: str | os.PathLike[str], what: str, max_bytes: int,
                    encoding: str = "UTF-8") -> str:
    """The text of an input file (findings JSON, a bundle, report text), or an InputError
    naming the file and the problem: missing, a folder, unreadable, over ``max_bytes``, not
    ``encoding`` (with the byte and its offset). ``-`` is standard input. A UTF-8 byte-order
    mark is dropped."""
    stdin = os.fspath(path) == "-"
    name = "standard input" if stdin else printable(path)
    try:
        if stdin:
            raw = sys.stdin.buffer.read(max_bytes + 1)
        else:
            with open(path, "rb") as stream:
                raw = stream.read(max_bytes + 1)
    except FileNotFoundError:
        raise InputError(f"{name}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{name}: is a folder, not {what}") from None
    except OSError as exc:
        raise InputError(f"{name}: cannot be read ({os_error_reason(exc)})") from None
    if len(raw) > max_bytes:
        raise InputError(f"{name}: larger than the {max_bytes:,}-byte limit of {what}")
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError as exc:
        raise InputError(f"{name}: not {encoding} text (byte 0x{raw[exc.start]:02x} at offset "
                         f"{exc.start})") from None
    except LookupError:
        raise InputError(f"unknown text encoding {encoding!r}") from None
    return text.removeprefix("\ufeff")


def file_kind(mode: int) -> str:
    """What a file that is not a regular file or folder is, from its ``st_mode``: 'FIFO'."""
    return ("FIFO" if stat.S_ISFIFO(mode) else "socket" if stat.S_ISSOCK(mode) else
            "character device" if stat.S_ISCHR(mode) else "block device" if stat.S_ISBLK(mode)
            else "special file")


def os_error_reason(exc: OSError) -> str:
    """The reason an OSError gives, for a message: 'Permission denied'."""
    return exc.strerror or type(exc).__name__


class Found(NamedTuple):
    """A regular file the walk reached: its path, its stat (links followed), and whether it
    was given by name (True) or found in a folder (False)."""

    path: str
    stat: os.stat_result
    named: bool


class Walker:
    """Walks the paths given (rules: module docstring) and yields each regular file once.

    ``max_depth``: folder levels entered below a given folder (None: no limit; deeper folders
    are a note). ``max_entries``: files and folders looked at in all (None: no limit; more is
    an InputError). ``missing(path)``: the error for a given path that does not exist
    (default: an InputError). ``unusable(path, why)``: the error for a given path that is not
    a regular file or folder, or cannot be read (default: none, a note). ``hidden_folders``:
    enter folders whose name starts with '.' (hidden files are never read from a folder).
    ``skip_names``: file names not read from folders (e.g. DICOMDIR). :attr:`notes` says what
    was skipped and why; :attr:`repeats` counts the paths reached more than once."""

    def __init__(self, *, max_depth: int | None = None, max_entries: int | None = None,
                 missing: Callable[[str], Exception] | None = None,
                 unusable: Callable[[str, str], Exception] | None = None,
                 hidden_folders: bool = True, skip_names: Collection[str] = ()):
        self.max_depth = max_depth
        self.max_entries = max_entries
        self.missing = missing
        self.unusable = unusable
        self.hidden_folders = hidden_folders
        self.skip_names = frozenset(skip_names)
        self.notes: list[str] = []
        self.repeats = 0
        self.entries = 0
        self._dirs: set[tuple[int, int]] = set()
        self._files: set[tuple[int, int]] = set()

    def _note(self, path: str, why: str, skipped: str = "skipped") -> None:
        self.notes.append(f"{printable(path)}: {why}; {skipped}")

    def _count(self, path: str) -> None:
        self.entries += 1
        if self.max_entries is not None and self.entries > self.max_entries:
            raise InputError(f"{printable(path)}: more than {self.max_entries:,} files and "
                             f"folders in the paths given; at most {self.max_entries:,} are "
                             "looked at in one run (limit MAX_ENTRIES; give narrower folders)")

    def walk(self, paths: Iterable[str | os.PathLike[str]]) -> Iterator[Found]:
        for given in paths:
            path = os.fsdecode(os.fspath(given))
            try:
                st = os.stat(path)
            except FileNotFoundError:
                if os.path.lexists(path):
                    self._given_unusable(path, "broken symbolic link")
                    continue
                if self.missing is not None:
                    raise self.missing(path) from None
                raise InputError(f"{printable(path)}: no such file or directory") from None
            except OSError as exc:
                why = ("symbolic link loop" if exc.errno == errno.ELOOP
                       else f"cannot be read ({os_error_reason(exc)})")
                self._given_unusable(path, why)
                continue
            if stat.S_ISDIR(st.st_mode):
                yield from self._tree(path, st)
                continue
            self._count(path)
            if not stat.S_ISREG(st.st_mode):
                self._given_unusable(path, f"not a regular file ({file_kind(st.st_mode)})",
                                     "skipped, not opened")
            elif self._is_new_file(st):
                yield Found(path, st, True)

    def _given_unusable(self, path: str, why: str, skipped: str = "skipped") -> None:
        if self.unusable is not None:
            raise self.unusable(path, why)
        self._note(path, why, skipped)

    def _is_new_file(self, st: os.stat_result) -> bool:
        identity = (st.st_dev, st.st_ino)
        if identity in self._files:
            self.repeats += 1
            return False
        self._files.add(identity)
        return True

    def _entry_stat(self, entry: os.DirEntry[str]) -> tuple[os.stat_result, bool] | None:
        """(stat with links followed, is a link) of a folder entry; None (and a note) when it
        cannot be had."""
        path = entry.path
        try:
            if not entry.is_symlink():
                return entry.stat(follow_symlinks=False), False
            try:
                return os.stat(path), True
            except OSError as exc:
                if exc.errno == errno.ELOOP:
                    self._note(path, "symbolic link loop")
                elif isinstance(exc, FileNotFoundError):
                    self._note(path, "broken symbolic link")
                else:
                    self._note(path, f"cannot be read ({os_error_reason(exc)})")
                return None
        except OSError as exc:
            self._note(path, f"cannot be read ({os_error_reason(exc)})")
            return None

    def _tree(self, top: str, top_stat: os.stat_result) -> Iterator[Found]:
        # Depth-first in name order, with an explicit stack: (path, stat, depth, via_link).
        stack: list[tuple[str, os.stat_result, int, bool]] = [(top, top_stat, 0, False)]
        while stack:
            folder, st, depth, via_link = stack.pop()
            identity = (st.st_dev, st.st_ino)
            if identity in self._dirs:
                if via_link:
                    self._note(folder, "symbolic link to a folder already read (a loop or a "
                               "second link)", "not followed again")
                else:
                    self.repeats += 1
                continue
            self._dirs.add(identity)
            self._count(folder)
            try:
                with os.scandir(folder) as it:
                    entries = sorted(it, key=lambda e: os.fsencode(e.name))
            except OSError as exc:
                self._note(folder, f"folder cannot be read ({os_error_reason(exc)})")
                continue
            subfolders = []
            for entry in entries:
                hidden = entry.name.startswith(".")
                if hidden and not self.hidden_folders:
                    continue  # hidden files are not read either: no need to stat it
                found = self._entry_stat(entry)
                if found is None:
                    continue
                target, is_link = found
                if stat.S_ISDIR(target.st_mode):
                    if self.max_depth is not None and depth + 1 > self.max_depth:
                        self._note(entry.path, f"folder more than {self.max_depth} levels below "
                                   "the path given (limit MAX_DEPTH)", "not entered")
                        continue
                    subfolders.append((entry.path, target, depth + 1, is_link))
                    continue
                if hidden or entry.name in self.skip_names:
                    continue
                self._count(entry.path)
                if not stat.S_ISREG(target.st_mode):
                    self._note(entry.path, f"not a regular file ({file_kind(target.st_mode)})",
                               "skipped, not opened")
                elif self._is_new_file(target):
                    yield Found(entry.path, target, False)
            stack.extend(reversed(subfolders))


def collect_files(paths: Iterable[str | os.PathLike[str]], *, missing: Callable[[Path], Exception],
                  unusable: Callable[[Path, str], Exception] | None = None,
                  notes: list[str] | None = None) -> list[tuple[Path, bool]]:
    """Every file named, and every file under folders named (a :class:`Walker`: iterative,
    links followed once, loops detected; hidden files and folders and DICOMDIR skipped), as
    ``(path, named)``: ``named`` is True for a file given by name, False for one found in a
    folder; the files of each folder given are sorted. Each real file is listed once.

    A path that does not exist raises ``missing(path)``; one that is not a regular file or a
    folder (a FIFO, a device, a broken link), or cannot be read, raises ``unusable(path, why)``
    (default: an InputError saying so; such a file is never opened). What was skipped inside
    folders (special files, link loops, unreadable folders) is appended to ``notes``."""
    def given_unusable(path: str, why: str) -> Exception:
        if unusable is not None:
            return unusable(Path(path), why)
        return InputError(f"{printable(path)}: {why}; not opened")
    walker = Walker(missing=lambda path: missing(Path(path)), unusable=given_unusable,
                    hidden_folders=False, skip_names=("DICOMDIR",))
    out: list[tuple[Path, bool]] = []
    for raw in paths:
        out.extend(sorted((Path(f.path), f.named) for f in walker.walk([raw])))
    if notes is not None:
        notes.extend(walker.notes)
    return out


def is_dicom_file(path: str | os.PathLike[str]) -> bool:
    """A DICOM Part 10 file: 'DICM' after the 128-byte preamble. False when unreadable."""
    try:
        with open(path, "rb") as handle:
            handle.seek(128)
            return handle.read(4) == b"DICM"
    except OSError:
        return False
