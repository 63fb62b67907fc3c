"""The work of one batch of files, the same in a local process and on a Dask worker: read
each file, turn it into rows, and write and commit one shard. Nothing is shared between
workers but the index folder (each shard has its own unique name).

Spawn-safe: everything a worker needs arrives in its :class:`Job` (plain data that pickles);
no module state is set up by the parent.
"""

from __future__ import annotations

import errno
import hashlib
import importlib
import importlib.util
import os
import secrets
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import DicomToolsError, SRReadError
from ..phi import library_warnings, mask_library_message, printable

LAB_SUFFIXES = ("labs.json",)  # = concordance.collect.LAB_SUFFIXES (not imported: it is heavy)


@dataclass(frozen=True)
class FileTask:
    """One file to read: absolute path, stat as walked, given by name (not found in a folder)."""

    path: str
    size: int
    mtime_ns: int
    named: bool


@dataclass(frozen=True)
class Job:
    """One batch: the files, and what every shard of the run shares."""

    index: str
    run: int
    key: bytes
    keep_ids: bool
    files: tuple[FileTask, ...]


@dataclass(frozen=True)
class Outcome:
    """What a batch did, for the progress line and the summary."""

    shard: str
    files: int
    indexed: int
    problems: int
    skipped: int
    rows: dict[str, int]
    labs: int = 0


def stored_path(path: str) -> str:
    """A path as the index stores it: as it is, or, when its name is not valid UTF-8 (bytes
    a folder may hold), those bytes as ``\\xNN`` escapes (Parquet strings are UTF-8). The
    same file always gets the same string, so the next run still finds it unchanged."""
    try:
        path.encode("utf-8")
        return path
    except UnicodeEncodeError:
        return os.fsencode(path).decode("utf-8", "backslashreplace")


def _reader():
    """The fast small-SR reader when it is installed (dicomtools.sr.fast), else read_sr."""
    if importlib.util.find_spec("dicomtools.sr.fast") is not None:
        try:
            module = importlib.import_module("dicomtools.sr.fast")
        except ImportError:  # present but not usable (half installed): the full reader
            module = None
        reader = getattr(module, "read_report", None)
        if callable(reader):
            return reader
    from ..sr.read import read_sr
    return read_sr


def shard_name(run: int) -> str:
    """Unique without coordination: the run, this process and 48 random bits."""
    return f"r{run:08d}-p{os.getpid()}-{secrets.token_hex(6)}"


def _sop_class(path: str) -> str | None:
    """The file meta's Media Storage SOP Class UID, or None (only asked after a read failed,
    to tell an image or SEG, which an SR index skips, from a damaged SR)."""
    import warnings

    from pydicom.filereader import read_file_meta_info
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            meta = read_file_meta_info(path)
        value = meta.get("MediaStorageSOPClassUID")
        return str(value).strip("\x00 ") if value else None
    except Exception:
        return None


_PEEK_ABOVE = 1 << 20  # bytes; a larger DICOM file's SOP class is read first (images, SEG)
_SMALL = 1 << 16        # bytes read (and hashed) at once; larger files are hashed streaming
_LABS_LIMIT = 1 << 20   # = concordance.collect.MAX_LABS_BYTES: a larger labs file is refused


def _peek(path: str, keep: int | None) -> tuple[bytes, str | None, bytes]:
    """(first 132 bytes, SHA-256 when the whole file was read, up to ``keep`` bytes when
    asked). Opened non-blocking and checked to be a regular file on the descriptor: a file
    replaced by a FIFO since the walk is never waited on."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(path, flags)
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(errno.EINVAL, "not a regular file")
        limit = keep if keep is not None else _SMALL
        data = handle.read(limit + 1)
    whole = len(data) <= limit
    digest = hashlib.sha256(data).hexdigest() if whole else None
    return data[:132], digest, data if keep is not None else b""


def _sha256(path: str) -> str:
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def _not_sr(entry: dict[str, Any], sop_class: str) -> None:
    from pydicom.uid import UID
    entry["status"] = "skipped"
    entry["reason"] = f"not an SR (SOP Class {sop_class} {UID(sop_class).name})"


def run_job(job: Job) -> Outcome:
    """Read every file of the batch and commit one shard holding all their rows."""
    from ..sr.read import SR_STORAGE
    from . import store, tables
    read = _reader()
    index = Path(job.index)
    name = shard_name(job.run)
    rows: dict[str, list[dict[str, Any]]] = {t: [] for t in store.TABLES}
    counts = {"indexed": 0, "problems": 0, "skipped": 0, "labs": 0}

    def key_of(report) -> str | None:
        return store.patient_key(job.key, report.patient.id, report.patient.issuer)

    for n, task in enumerate(job.files):
        where = stored_path(task.path)
        entry: dict[str, Any] = {"path": where, "run": job.run, "shard": name,
                                 "size": task.size, "mtime_ns": task.mtime_ns, "sha256": None,
                                 "status": "indexed", "reason": None, "sop_instance_uid": None}
        rows["files"].append(entry)
        labs = os.path.basename(task.path).endswith(LAB_SUFFIXES)
        try:
            head, digest, data = _peek(task.path, _LABS_LIMIT if labs else None)
        except OSError as exc:
            _problem(rows, entry, task, "SRReadError",
                     f"{printable(task.path)}: cannot be read ({exc.strerror or type(exc).__name__})",
                     SRReadError.exit_code)
            counts["problems"] += 1
            continue
        if labs:
            entry["sha256"] = digest
            counts[_labs(rows, entry, task, data, job)] += 1
            continue
        if not task.named and head[128:132] != b"DICM":
            entry["status"], entry["reason"] = "skipped", "not a DICOM file"
            counts["skipped"] += 1
            continue
        if task.size > _PEEK_ABOVE and not task.named:
            # an image or SEG of an archive: its meta says so; not read or hashed whole
            sop_class = _sop_class(task.path)
            if sop_class and sop_class not in SR_STORAGE:
                _not_sr(entry, sop_class)
                counts["skipped"] += 1
                continue
        entry["sha256"] = digest or _sha256(task.path)
        report = None
        with library_warnings() as remarks:
            try:
                report = read(task.path)
            except DicomToolsError as exc:
                sop_class = _sop_class(task.path) if isinstance(exc, SRReadError) else None
                if sop_class and sop_class not in SR_STORAGE and not task.named:
                    _not_sr(entry, sop_class)
                    counts["skipped"] += 1
                else:
                    _problem(rows, entry, task, type(exc).__name__, str(exc), exc.exit_code)
                    counts["problems"] += 1
            except RecursionError:
                _problem(rows, entry, task, "RecursionError",
                         f"{printable(task.path)}: nested too deeply to be read", 4)
                counts["problems"] += 1
            except Exception as exc:  # a reader defect must not end the run; no value quoted
                _problem(rows, entry, task, type(exc).__name__,
                         f"{printable(task.path)}: internal error in the SR reader "
                         f"({type(exc).__name__}); please report it", 1)
                counts["problems"] += 1
        if report is None:
            continue
        if remarks:
            p = report.patient
            values = tuple(v for v in (p.id, p.name, p.issuer, p.birth_date) if v)
            extra = tuple(f"pydicom: {mask_library_message(m, values)}" for m in remarks)
            report = _with_warnings(report, extra)
        entry["sop_instance_uid"] = report.sr.sop_instance_uid if report.sr else None
        file = {"shard": name, "run": job.run, "source_path": where, "file_size": task.size,
                "file_mtime_ns": task.mtime_ns, "file_sha256": entry["sha256"]}
        produced = tables.report_rows(report, report_id=f"{name}:{n}", file=file,
                                      patient_key=key_of, keep_ids=job.keep_ids)
        for table, new in produced.items():
            rows[table].extend(new)
        counts["indexed"] += 1
    store.write_shard(index, name, {t: tables.to_table(t, r) for t, r in rows.items()})
    return Outcome(name, len(job.files), counts["indexed"], counts["problems"], counts["skipped"],
                   {t: len(r) for t, r in rows.items()}, counts["labs"])


def _labs(rows: dict[str, list], entry: dict[str, Any], task: FileTask, data: bytes,
          job: Job) -> str:
    """A labs.json file into labs rows (concordance's reader); a bad one is a problem."""
    from ..concordance.collect import MAX_LABS_BYTES, read_labs_data
    from ..errors import InputError
    from . import store
    entry["status"] = "labs"
    try:
        if len(data) > MAX_LABS_BYTES:
            raise InputError(f"{printable(task.path)}: more than {MAX_LABS_BYTES // 2**10} KiB, "
                             "the limit for a labs file")
        (pid, issuer), results, _ = read_labs_data(data, printable(task.path))
    except InputError as exc:
        _problem(rows, entry, task, "InputError", str(exc), exc.exit_code)
        return "problems"
    key = store.patient_key(job.key, pid, issuer)
    for result in results:
        rows["labs"].append({"source_path": entry["path"], "shard": entry["shard"], "run": job.run,
                             "patient_key": key, "patient_id": pid if job.keep_ids else None,
                             "issuer_of_patient_id": (issuer or None) if job.keep_ids else None,
                             "test": result.test, "result": result.result, "date": result.date})
    return "labs"


def _with_warnings(report, extra: tuple[str, ...]):
    from dataclasses import replace
    return replace(report, warnings=tuple(report.warnings) + extra)


def _problem(rows: dict[str, list], entry: dict[str, Any], task: FileTask, error_class: str,
             message: str, exit_code: int) -> None:
    entry["status"], entry["reason"] = "problem", error_class
    rows["problems"].append({"path": entry["path"], "shard": entry["shard"], "run": entry["run"],
                             "size": task.size, "mtime_ns": task.mtime_ns,
                             "error_class": error_class, "message": message,
                             "exit_code": exit_code})


def write_deletions(index: str, run: int, paths: list[tuple[str, int, int]]) -> str:
    """A shard of 'deleted' entries for files gone since the last run (path, size, mtime)."""
    from . import store, tables
    name = shard_name(run)
    rows = [{"path": p, "run": run, "shard": name, "size": size, "mtime_ns": mtime,
             "sha256": None, "status": "deleted", "reason": "no longer found",
             "sop_instance_uid": None} for p, size, mtime in paths]
    store.write_shard(Path(index), name, {"files": tables.to_table("files", rows)})
    return name
