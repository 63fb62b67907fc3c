"""Verified, resumable batch send: files -> PACS, each instance confirmed by a query.

Per instance: query first (already there -> "already present", not sent again); else store,
then query again ("stored" only when the PACS finds it: a PACS may answer success and keep
nothing). Queries cover a chunk of instances at once (UID list matching), with a per-instance
query for anything the chunk query did not find. Workers run in a thread pool, each with its
own association or HTTP session. Every outcome is appended to a JSON-lines manifest and
fsync'ed, so a run killed at any point resumes without resending what was verified. A lost
connection stops the batch (every further instance would fail the same way) and raises; the
manifest holds what was done. Files that are not DICOM (no DICM preamble) are skipped.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pydicom
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError

from ..errors import InputError
from ..files import collect_files as _walk
from ..files import is_dicom_file
from ..phi import printable
from .common import InstanceRef, StoreStatus
from .errors import PacsError

STORED, PRESENT, FAILED, SKIPPED = "stored", "already present", "failed", "skipped"
VERIFIED = (STORED, PRESENT)
NOT_DICOM = "not a DICOM file (no DICM preamble): not sent"
CHUNK = 16  # instances per worker task: one presence query before and one after
_HEADER_TAGS = ["SOPClassUID", "SOPInstanceUID", "StudyInstanceUID", "SeriesInstanceUID"]


@dataclass(frozen=True, slots=True)
class InstanceResult:
    """The outcome for one file. ``pacs_status`` is the DIMSE status / STOW reason / HTTP code."""

    path: str
    sop_instance_uid: str | None
    status: str
    pacs_status: int | None = None
    message: str = ""


@dataclass(slots=True)
class BatchResult:
    """All outcomes of one run, in input order, and the counts by status."""

    pacs: str
    results: list[InstanceResult] = field(default_factory=list)
    seconds: float = 0.0

    def count(self, status: str) -> int:
        return sum(r.status == status for r in self.results)

    @property
    def ok(self) -> bool:
        """True when every instance is verified on the PACS (now or by an earlier run)."""
        return all(r.status in VERIFIED or r.status == SKIPPED for r in self.results)

    @property
    def rate(self) -> float:
        """Instances handled (stored or found present) per second in this run."""
        done = self.count(STORED) + self.count(PRESENT)
        return done / self.seconds if self.seconds > 0 else 0.0

    def counts(self) -> dict[str, int]:
        return {s: self.count(s) for s in (STORED, PRESENT, FAILED, SKIPPED)}

    def to_json(self) -> dict:
        return {"pacs": self.pacs, "seconds": round(self.seconds, 3), "counts": self.counts(),
                "ok": self.ok, "results": [asdict(r) for r in self.results]}


class Manifest:
    """Append-only JSON lines: {"sop_instance_uid", "path", "status", "pacs", "pacs_status",
    "message", "time"}. One os.write per line plus fsync, so a kill leaves at most one torn last
    line, which reading ignores."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self._lock = threading.Lock()
        self._fd: int | None = None

    def verified(self, pacs: str) -> dict[str, str]:
        """{SOP Instance UID: path} of instances an earlier run verified on this PACS."""
        done: dict[str, str] = {}
        try:
            lines = self.path.read_bytes().splitlines()
        except FileNotFoundError:
            return done
        except OSError as exc:
            raise InputError(f"{self.path}: manifest cannot be read ({exc.strerror})") from None
        for line in lines:
            try:
                record = json.loads(line)
            except ValueError:
                continue  # a line torn by a kill mid-write
            if isinstance(record, dict) and record.get("pacs") == pacs:
                uid = record.get("sop_instance_uid")
                if record.get("status") in VERIFIED and uid:
                    done[uid] = record.get("path", "")
                elif uid:
                    done.pop(uid, None)  # a later failure (e.g. deleted from the PACS) wins
        return done

    def open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        size = os.fstat(self._fd).st_size
        if size:  # end a torn last line so the next record starts on its own line
            with open(self.path, "rb") as handle:
                handle.seek(size - 1)
                if handle.read(1) != b"\n":
                    os.write(self._fd, b"\n")

    def record(self, pacs: str, result: InstanceResult) -> None:
        line = json.dumps({
            "sop_instance_uid": result.sop_instance_uid, "path": result.path,
            "status": result.status, "pacs": pacs, "pacs_status": result.pacs_status,
            "message": result.message,
            "time": _dt.datetime.now(_dt.UTC).isoformat(timespec="milliseconds"),
        }) + "\n"
        with self._lock:
            if self._fd is None:
                raise RuntimeError("Manifest.record() before open()")
            os.write(self._fd, line.encode())
            os.fsync(self._fd)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def collect_files(paths: Iterable[str | os.PathLike]) -> list[Path]:
    """Files named, and every file under directories named (sorted; hidden files and
    DICOMDIR skipped). A path that does not exist is an InputError."""
    return [path for path, _ in _walk(paths, missing=lambda p: InputError(
        f"{printable(p)}: no such file or directory"))]


def read_header(path: Path) -> InstanceRef:
    """The UIDs of one file, read without its content tree. InputError if not DICOM."""
    try:
        ds = pydicom.dcmread(path, specific_tags=_HEADER_TAGS)
    except (InvalidDicomError, OSError, ValueError, EOFError) as exc:
        raise InputError(f"{printable(path)}: not a readable DICOM file ({type(exc).__name__})") from None
    missing = [k for k in _HEADER_TAGS if not ds.get(k)]
    if missing:
        raise InputError(f"{printable(path)}: no {', '.join(missing)}: not a storable DICOM instance")
    return InstanceRef.of(ds)


Progress = Callable[[int, int, dict[str, int]], None]


def send_files(connect: Callable[[set[str]], object], pacs: str, files: list[Path], *,
               concurrency: int = 4, manifest: str | os.PathLike | None = None,
               progress: Progress | None = None) -> BatchResult:
    """Send and verify ``files``.

    ``connect(sop_classes)`` makes one client (DimseClient or WebClient) per worker thread,
    given the SOP classes of the files; ``pacs`` names the PACS in the manifest. Raises the
    PacsError that stopped the batch when the connection is lost, after recording what was done.
    """
    if concurrency < 1:
        raise InputError(f"concurrency {concurrency}: expected 1 or more")
    started = time.monotonic()
    book = Manifest(manifest) if manifest else None
    done = book.verified(pacs) if book else {}
    results: list[InstanceResult | None] = [None] * len(files)
    todo: list[tuple[int, Path, InstanceRef]] = []
    seen: dict[str, Path] = {}
    for index, path in enumerate(files):
        if not is_dicom_file(path):  # e.g. the concordance tables the demo writes beside its SRs
            results[index] = InstanceResult(str(path), None, SKIPPED, None, NOT_DICOM)
            continue
        try:
            ref = read_header(path)
        except InputError as exc:
            results[index] = InstanceResult(str(path), None, FAILED, None, str(exc))
            continue
        if ref.sop_uid in done:
            results[index] = InstanceResult(str(path), ref.sop_uid, SKIPPED, None, "verified by an earlier run")
        elif ref.sop_uid in seen:
            results[index] = InstanceResult(str(path), ref.sop_uid, SKIPPED, None,
                                            f"same SOP Instance UID as {seen[ref.sop_uid]}")
        else:
            seen[ref.sop_uid] = path
            todo.append((index, path, ref))

    if files and all(r is not None and r.message == NOT_DICOM for r in results):
        shown = ", ".join(str(p) for p in files[:3]) + (", ..." if len(files) > 3 else "")
        raise InputError(f"no DICOM file to send among {_count(len(files), 'file')} ({shown})")
    classes = {ref.sop_class_uid for _, _, ref in todo if ref.sop_class_uid}
    state = _Run(lambda: connect(classes), pacs, book, progress, len(files))
    state.tally.update({s: sum(r is not None and r.status == s for r in results)
                        for s in (STORED, PRESENT, FAILED, SKIPPED)})
    # Chunks of one study where possible, so one query checks a whole chunk; small enough
    # that every worker gets some.
    todo.sort(key=lambda item: (item[2].study_uid, item[0]))
    size = max(1, min(CHUNK, -(-len(todo) // concurrency)))
    chunks = [todo[i:i + size] for i in range(0, len(todo), size)]
    if book:
        book.open()
    pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="pacs-send")
    try:
        for future in [pool.submit(state.chunk, chunk) for chunk in chunks]:
            for index, result in future.result():
                results[index] = result
    except BaseException:  # Ctrl-C or a bug: chunks not started return at once
        with state.lock:
            state.fatal = state.fatal or PacsError("interrupted")
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)  # running chunks finish and are recorded
        state.close_clients()
        if book:
            book.close()
    batch = BatchResult(pacs, [r for r in results if r is not None], time.monotonic() - started)
    if state.fatal is not None:
        verified = batch.count(STORED) + batch.count(PRESENT) + batch.count(SKIPPED)
        error = state.fatal  # same type and attributes (e.g. HTTP status); a fuller message
        error.args = (f"{error}; stopped after {verified} of {_count(len(files), 'instance')} verified"
                      + ("; run again with the same manifest to resume" if book else ""),)
        raise error
    return batch


class _Run:
    """Shared state of one batch: per-thread clients, the first fatal error, the tally."""

    def __init__(self, connect, pacs: str, book: Manifest | None, progress: Progress | None, total: int):
        self.connect, self.pacs, self.book, self.progress, self.total = connect, pacs, book, progress, total
        self.local = threading.local()
        self.clients: list = []
        self.lock = threading.Lock()
        self.fatal: PacsError | None = None
        self.tally = {STORED: 0, PRESENT: 0, FAILED: 0, SKIPPED: 0}

    def client(self):
        client = getattr(self.local, "client", None)
        if client is None:
            client = self.local.client = self.connect()
            with self.lock:
                self.clients.append(client)
        return client

    def close_clients(self) -> None:
        for client in self.clients:
            client.close()

    def chunk(self, items: list[tuple[int, Path, InstanceRef]]) -> list[tuple[int, InstanceResult]]:
        """Send one chunk; its results are recorded only once verified (or failed)."""
        if self.fatal is not None:
            return []  # not attempted: the next run picks them up
        try:
            results = self._send(items)
        except PacsError as exc:
            with self.lock:
                self.fatal = self.fatal or exc
            self.local.client = None  # its association is gone
            return []
        except BaseException as exc:  # a bug: stop the others; send_files re-raises it
            with self.lock:
                self.fatal = self.fatal or PacsError(f"internal error: {exc!r}")
            raise
        for _, result in results:
            if self.book:
                self.book.record(self.pacs, result)
        with self.lock:
            for _, result in results:
                self.tally[result.status] += 1
            if self.progress:
                self.progress(sum(self.tally.values()), self.total, dict(self.tally))
        return results

    def _send(self, items: list[tuple[int, Path, InstanceRef]]) -> list[tuple[int, InstanceResult]]:
        client = self.client()
        present = _present(client, [ref for _, _, ref in items])
        out: dict[int, InstanceResult] = {}
        to_send: list[tuple[int, Path, InstanceRef, Dataset]] = []
        for index, path, ref in items:
            if ref.sop_uid in present:
                out[index] = InstanceResult(str(path), ref.sop_uid, PRESENT, None,
                                            "found on the PACS before sending")
                continue
            try:
                to_send.append((index, path, ref, pydicom.dcmread(path)))
            except Exception as exc:  # read_header passed, so the body is damaged
                out[index] = InstanceResult(str(path), ref.sop_uid, FAILED, None,
                                            f"{printable(path)}: not a readable DICOM file ({type(exc).__name__})")
        statuses = client.store_many([ds for *_, ds in to_send])
        sent: list[tuple[int, Path, InstanceRef, StoreStatus]] = []
        for (index, path, ref, _), status in zip(to_send, statuses, strict=True):
            if status.ok:
                sent.append((index, path, ref, status))
            else:
                out[index] = InstanceResult(str(path), ref.sop_uid, FAILED, status.code, status.message)
        found = _present(client, [ref for _, _, ref, _ in sent])
        for index, path, ref, status in sent:
            # The per-instance query is the authority; the chunk query only saves round trips
            # (a PACS without UID list matching answers it with nothing).
            if ref.sop_uid in found or client.exists(ref):
                out[index] = InstanceResult(str(path), ref.sop_uid, STORED, status.code, status.message)
            else:
                out[index] = InstanceResult(str(path), ref.sop_uid, FAILED, status.code,
                                            f"{status.message}, but a query does not find the "
                                            "instance: the PACS did not keep it")
        return sorted(out.items())


def _count(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def _present(client, refs: list[InstanceRef]) -> set[str]:
    """SOP Instance UIDs among refs that the PACS has: one IMAGE-level query per study with
    UID list matching on SOPInstanceUID (a relational query, which Orthanc accepts)."""
    by_study: dict[str, list[str]] = {}
    for ref in refs:
        by_study.setdefault(ref.study_uid, []).append(ref.sop_uid)
    found: set[str] = set()
    for study, uids in by_study.items():
        identifier = Dataset()
        identifier.QueryRetrieveLevel = "IMAGE"
        identifier.StudyInstanceUID = study
        identifier.SeriesInstanceUID = ""
        identifier.SOPInstanceUID = uids if len(uids) > 1 else uids[0]
        found.update(str(a.get("SOPInstanceUID", "")) for a in client.find("instance", identifier))
    return found & {ref.sop_uid for ref in refs}
