"""``build_index``: walk the paths, queue the new and changed files in batches, and run the
batches on local processes or on a Dask cluster; each batch commits its own shard.

The coordinator keeps only the crawl state (path -> size, mtime) and a bounded number of
batches in flight, so memory does not grow with what has been read: rows live in the
workers until their shard is written.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import __version__
from ..errors import InputError
from ..files import Walker
from ..phi import printable
from . import store
from .worker import FileTask, Job, Outcome, run_job, stored_path, write_deletions

DEFAULT_BATCH = 256


@dataclass
class IndexResult:
    """What one run did."""

    run: int
    seen: int = 0          # files the walk found
    unchanged: int = 0     # already indexed with this size and mtime: not read
    indexed: int = 0       # SRs read into rows
    problems: int = 0      # files that could not be read (problems table)
    skipped: int = 0       # not DICOM, or DICOM but not an SR (an image, a SEG)
    deleted: int = 0       # indexed before, gone now
    labs: int = 0          # labs.json files read
    fetched: int = 0       # SRs fetched from a PACS (--pacs, --dicomweb)
    fetched_changed: int = 0  # of which new or changed in the index's cache
    shards: int = 0
    rows: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    def add(self, outcome: Outcome) -> None:
        self.indexed += outcome.indexed
        self.problems += outcome.problems
        self.skipped += outcome.skipped
        self.labs += outcome.labs
        self.shards += 1
        for table, count in outcome.rows.items():
            self.rows[table] = self.rows.get(table, 0) + count


class _Local:
    """A spawn-context process pool (workers import the package afresh: spawn-safe)."""

    def __init__(self, workers: int):
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor
        self.pool = ProcessPoolExecutor(max_workers=workers,
                                        mp_context=multiprocessing.get_context("spawn"))
        self.slots = workers * 2

    def submit(self, job: Job) -> Any:
        return self.pool.submit(run_job, job)

    def wait(self, pending: set) -> tuple[set, set]:
        from concurrent.futures import FIRST_COMPLETED, wait
        done, rest = wait(pending, return_when=FIRST_COMPLETED)
        return set(done), set(rest)

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)


class _Inline:
    """One worker: the batches run in this process (no pool to start)."""

    slots = 1

    def submit(self, job: Job) -> Any:
        from concurrent.futures import Future
        future: Future = Future()
        try:
            future.set_result(run_job(job))
        except BaseException as exc:  # re-raised by result(), as a pool would
            future.set_exception(exc)
        return future

    def wait(self, pending: set) -> tuple[set, set]:
        return set(pending), set()

    def close(self) -> None:
        pass


class _Dask:
    """dask.distributed: ``local`` starts a LocalCluster of ``workers`` processes; anything
    else is a scheduler address (tcp://host:8786). The index folder must be on a file system
    every worker sees at the same path."""

    def __init__(self, scheduler: str, workers: int):
        try:
            from distributed import Client, LocalCluster
        except ImportError:
            raise InputError("--dask needs dask.distributed: pip install 'dicomtools[dask]'") from None
        self.cluster = None
        try:
            if scheduler == "local":
                self.cluster = LocalCluster(n_workers=workers, threads_per_worker=1,
                                            dashboard_address=None)
                self.client = Client(self.cluster)
            else:
                self.client = Client(scheduler, timeout="20s")
        except (OSError, TimeoutError, ValueError) as exc:
            raise InputError(f"--dask {printable(scheduler)}: cannot reach the scheduler "
                             f"({type(exc).__name__}: {printable(str(exc))[:200]})") from None
        count = len(self.client.scheduler_info().get("workers", {})) or workers
        self.slots = max(2, count * 2)

    def submit(self, job: Job) -> Any:
        return self.client.submit(run_job, job, pure=False)

    def wait(self, pending: set) -> tuple[set, set]:
        from distributed import wait
        done, rest = wait(list(pending), return_when="FIRST_COMPLETED")
        return set(done), set(rest)

    def close(self) -> None:
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()


def _cores() -> int:
    """The cores this process may run on (a container's CPU set, not the host's count)."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _within(path: str, roots: list[str]) -> bool:
    return any(path == root or path.startswith(root.rstrip(os.sep) + os.sep) for root in roots)


def _tasks(paths: list[str], index: Path, state: dict[str, tuple[int, int, str]],
           result: IndexResult, seen: set[str], walker: Walker,
           retry: bool = False) -> Iterator[FileTask]:
    """New and changed files (and, with ``retry``, files that were problems), in walk order;
    counts the unchanged ones."""
    inside, fetched = str(index.resolve()), str((index / "fetched").resolve())
    for found in walker.walk(paths):
        path = os.path.abspath(found.path)
        real = os.path.realpath(path)
        if _within(real, [inside]) and not _within(real, [fetched]):
            continue  # the index's own files, when a folder holding it is indexed
        result.seen += 1
        size, mtime = found.stat.st_size, found.stat.st_mtime_ns
        key = stored_path(path)
        old = state.get(key)
        if old is not None:
            seen.add(key)
            if old[0] == size and old[1] == mtime and old[2] != "deleted" \
                    and not (retry and old[2] == "problem"):
                result.unchanged += 1
                continue
        yield FileTask(path, size, mtime, found.named)


def _batches(tasks: Iterable[FileTask], size: int) -> Iterator[tuple[FileTask, ...]]:
    batch: list[FileTask] = []
    for task in tasks:
        batch.append(task)
        if len(batch) >= size:
            yield tuple(batch)
            batch = []
    if batch:
        yield tuple(batch)


def _settings(index: Path, key: bytes, keep_ids: bool) -> dict[str, Any]:
    settings = store.read_settings(index)
    fp = store.fingerprint(key)
    if settings is None:
        return {"version": store.INDEX_VERSION, "keep_ids": keep_ids, "key_fingerprint": fp,
                "next_run": 1, "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}
    if settings.get("key_fingerprint") != fp:
        raise InputError(f"{printable(index)}: this index was built with another patient-ID key; "
                         "give the same --id-key-file (or none, to use the index's own key)")
    if bool(settings.get("keep_ids")) != keep_ids:
        was = "with" if settings.get("keep_ids") else "without"
        raise InputError(f"{printable(index)}: this index was built {was} --keep-ids; "
                         "every run of one index must agree")
    return settings


def build_index(paths: Iterable[str | os.PathLike[str]], index: str | os.PathLike[str], *,
                workers: int | None = None, dask: str | None = None, keep_ids: bool = False,
                id_key_file: str | None = None, batch_size: int = DEFAULT_BATCH,
                progress: Callable[[str], None] | None = None, pacs: str | None = None,
                keys: Iterable[str] = (), calling_aet: str | None = None,
                retry_problems: bool = False) -> IndexResult:
    """Index the SRs under ``paths`` into the index folder ``index`` (created if needed).

    Reads only files that are new or changed since the last run (path, size, mtime); files
    gone from under the given paths get a 'deleted' entry. ``workers``: local processes
    (default: all cores; 1 runs in this process); ``dask``: a scheduler address or 'local'.
    Files that were problems are read again when they change, with ``retry_problems``, and
    when this dicomtools version is not the one of the last completed run (the reader may
    read them now). ``pacs``: also the SRs of this PACS (``dicom://AET@host:port`` or a DICOMweb URL)
    matching ``keys`` (KEY=VALUE), fetched into INDEX/fetched/ first.
    """
    started = time.perf_counter()
    given = [os.fsdecode(os.fspath(p)) for p in paths]
    if not given and not pacs:
        raise InputError("index: give at least one folder or file, or --pacs/--dicomweb")
    if batch_size < 1:
        raise InputError(f"--batch {batch_size}: must be 1 or more")
    workers = workers if workers is not None else _cores()
    if workers < 1:
        raise InputError(f"--workers {workers}: must be 1 or more")
    folder = Path(index)
    if folder.exists() and not folder.is_dir():
        raise InputError(f"-o {printable(folder)}: exists and is not a folder")
    lock = store.Lock(folder)
    try:
        key = store.load_key(folder, id_key_file)
        settings = _settings(folder, key, keep_ids)
        retry = retry_problems or settings.get("reader_version") != __version__
        run = int(settings["next_run"])
        settings["next_run"] = run + 1  # taken before any shard: a killed run's number is not reused
        store.write_settings(folder, settings)
        store.clean_pending(folder)
        state = store.load_state(folder)
        result = IndexResult(run)
        if pacs:
            from .sources import fetch_srs
            if progress is not None:
                progress(f"index: fetching the SRs of {printable(pacs)}")
            cache, result.fetched, result.fetched_changed = fetch_srs(pacs, folder, list(keys),
                                                                      calling_aet)
            given.append(str(cache))
        seen: set[str] = set()
        walker = Walker()
        executor: _Local | _Inline | _Dask = (
            _Dask(dask, workers) if dask else _Local(workers) if workers > 1 else _Inline())
        try:
            _drive(executor, _batches(_tasks(given, folder, state, result, seen, walker, retry),
                                      batch_size),
                   Job(str(folder), run, key, keep_ids, ()), result, started, progress)
        except OSError as exc:  # the index folder cannot be written (full, read-only ...)
            raise InputError(f"{printable(folder)}: cannot write the index "
                             f"({exc.strerror or type(exc).__name__}); the shards committed "
                             "so far are kept, run again to continue") from None
        finally:
            executor.close()
        roots = [stored_path(os.path.abspath(p)) for p in given]
        gone = [(p, s[0], s[1]) for p, s in state.items()
                if s[2] != "deleted" and p not in seen and _within(p, roots)]
        if gone:
            write_deletions(str(folder), run, gone)
            result.deleted = len(gone)
        result.notes = walker.notes
        if settings.get("reader_version") != __version__:
            settings["reader_version"] = __version__  # problems were retried by this version
            store.write_settings(folder, settings)
        result.seconds = time.perf_counter() - started
        return result
    finally:
        lock.release()


def _drive(executor: Any, batches: Iterator[tuple[FileTask, ...]], template: Job,
           result: IndexResult, started: float, progress: Callable[[str], None] | None) -> None:
    """Keep the executor's slots full; collect outcomes as they come."""
    pending: set = set()
    queued = 0

    def show() -> None:
        if progress is None:
            return
        done = result.indexed + result.problems + result.skipped + result.labs
        rate = done / max(time.perf_counter() - started, 1e-9)
        progress(f"index: {done:,}/{queued:,} files read, {result.unchanged:,} unchanged, "
                 f"{result.problems:,} problems, {result.shards:,} shards, {rate:,.0f} files/s")

    exhausted = False
    while True:
        while not exhausted and len(pending) < executor.slots:
            batch = next(batches, None)
            if batch is None:
                exhausted = True
                break
            queued += len(batch)
            pending.add(executor.submit(Job(template.index, template.run, template.key,
                                            template.keep_ids, batch)))
        if not pending:
            break
        done, pending = executor.wait(pending)
        for future in done:
            result.add(future.result())
        show()
