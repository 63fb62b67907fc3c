"""The PACS operations as plain functions over an address string (DIMSE or DICOMweb).

``pacs`` is ``dicom://AET@host:port`` or ``http(s)://host:port/dicom-web`` (or a parsed
address). Query keys are DICOM keywords (``StudyInstanceUID="1.2.3"``, ``Modality="SR"``);
the other keyword arguments are lowercase, so they never clash with a DICOM keyword.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pydicom.dataset import Dataset

from ..errors import InputError
from ..files import save_dataset
from ..model import Report
from ..sr.read import SR_STORAGE, report_from_dataset
from .address import DimseAddress, PacsAddress, WebAddress, parse_pacs
from .batch import BatchResult, Progress, collect_files, send_files
from .common import InstanceRef, check_level, query_dataset, to_plain
from .dimse import SR_CLASSES, DimseClient
from .web import WebClient

Client = DimseClient | WebClient


def connect(pacs: str | PacsAddress, *, calling_aet: str | None = None, timeout: float = 30.0,
            sop_classes: Iterable[str] = SR_CLASSES) -> Client:
    """A client for one thread (use as a context manager). ``sop_classes`` are the storage
    classes a DIMSE association proposes up front (others are added when met)."""
    address = parse_pacs(pacs, calling_aet)
    if isinstance(address, DimseAddress):
        return DimseClient(address, timeout=timeout, sop_classes=sop_classes)
    return WebClient(address, timeout=timeout)


def echo(pacs: str | PacsAddress, *, calling_aet: str | None = None, timeout: float = 30.0) -> float:
    """C-ECHO (DICOMweb: a one-result QIDO); the round-trip time in seconds, or PacsError."""
    started = time.monotonic()
    with connect(pacs, calling_aet=calling_aet, timeout=timeout) as client:
        client.echo()
    return time.monotonic() - started


def send(pacs: str | PacsAddress, paths: Iterable[str | os.PathLike], *, concurrency: int = 4,
         manifest: str | os.PathLike | None = None, progress: Progress | None = None,
         calling_aet: str | None = None, timeout: float = 30.0) -> BatchResult:
    """Send files and directories (recursively) and verify each instance by query.

    Statuses per file: stored / already present (found before sending; not resent) / failed
    (with the PACS status) / skipped (verified by an earlier run in ``manifest``, a second
    file with the same SOP Instance UID, or not a DICOM file: no DICM preamble). Raises
    PacsError when the connection is lost, InputError when no file is DICOM at all.
    """
    address = parse_pacs(pacs, calling_aet)
    files = collect_files(paths)
    # Each worker's association proposes every SOP class of the batch up front.
    return send_files(lambda classes: connect(address, timeout=timeout,
                                              sop_classes=sorted(set(SR_CLASSES) | classes)),
                      str(address), files, concurrency=concurrency, manifest=manifest,
                      progress=progress)


def find_datasets(pacs: str | PacsAddress, level: str = "instance", *,
                  calling_aet: str | None = None, timeout: float = 30.0, **query: Any) -> list[Dataset]:
    """C-FIND / QIDO-RS at patient, study, series or instance level; the answers as datasets."""
    check_level(level)
    identifier = query_dataset(level, query)
    with connect(pacs, calling_aet=calling_aet, timeout=timeout) as client:
        return client.find(level, identifier)


def find(pacs: str | PacsAddress, level: str = "instance", *, calling_aet: str | None = None,
         timeout: float = 30.0, **query: Any) -> list[dict[str, Any]]:
    """Like find_datasets, answers as {keyword: value} (JSON-ready)."""
    return [to_plain(ds) for ds in find_datasets(pacs, level, calling_aet=calling_aet,
                                                 timeout=timeout, **query)]


def _instances(client: Client, query: dict[str, Any]) -> list[InstanceRef]:
    if not any(v not in (None, "", [], ()) for v in query.values()):
        raise InputError("give at least one query key with a value (e.g. StudyInstanceUID=...); "
                         "refusing to fetch everything on the PACS")
    refs = []
    for ds in client.find("instance", query_dataset("instance", query)):
        if all(ds.get(k) for k in ("StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID")):
            refs.append(InstanceRef.of(ds))
    return refs


def fetch(pacs: str | PacsAddress, out_dir: str | os.PathLike, *, move_port: int | None = None,
          calling_aet: str | None = None, timeout: float = 30.0, **query: Any) -> list[Path]:
    """Instances matching the query (C-FIND/QIDO) retrieved by C-GET, C-MOVE (``move_port``:
    our Storage SCP's port, known to the PACS) or WADO-RS; written as OUT/<SOP UID>.dcm."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    with connect(pacs, calling_aet=calling_aet, timeout=timeout) as client:
        refs = _instances(client, query)
        for ds in client.retrieve(refs, move_port=move_port):
            written.append(save_dataset(ds, out / f"{ds.SOPInstanceUID}.dcm"))
    return written


def fetch_reports(pacs: str | PacsAddress, *, move_port: int | None = None,
                  calling_aet: str | None = None, timeout: float = 30.0, **query: Any) -> list[Report]:
    """The SRs matching the query (``Modality="SR"`` unless given), read into Reports.

    This is what concordance calls to compare reports held by a PACS.
    """
    query.setdefault("Modality", "SR")
    with connect(pacs, calling_aet=calling_aet, timeout=timeout) as client:
        refs = [r for r in _instances(client, query) if r.sop_class_uid in (None, *SR_STORAGE)]
        where = str(client.address)
        return [report_from_dataset(ds, source=f"{where} instance {ds.SOPInstanceUID}")
                for ds in client.retrieve(refs, move_port=move_port)]


__all__ = ["connect", "echo", "send", "find", "find_datasets", "fetch", "fetch_reports",
           "Client", "DimseAddress", "WebAddress", "parse_pacs", "BatchResult"]
