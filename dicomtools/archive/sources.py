"""PACS sources for the index: the SRs a PACS holds (DIMSE or DICOMweb, through
dicomtools.pacs) fetched into a cache folder inside the index, which is then indexed like
any folder.

Fetched files that are byte-for-byte the cached copy are left untouched, so their size and
mtime do not change and a second run reads none of them again: only new or changed SRs are
read. SRs removed from the PACS stay in the cache (a query may cover only part of a PACS).
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path

from ..errors import InputError


def cache_folder(index: Path, address: str) -> Path:
    """INDEX/fetched/<address as a safe name>: one folder per PACS, stable across runs."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", address).strip("_")[:80]
    digest = hashlib.sha256(address.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    return index / "fetched" / f"{safe}-{digest}"


def parse_keys(keys: list[str]) -> dict[str, str]:
    """``KEY=VALUE`` query keys (e.g. PatientID=OMS-CASE-1, StudyDate=2015-2016)."""
    out: dict[str, str] = {}
    for key in keys:
        name, sep, value = key.partition("=")
        if not sep or not name:
            raise InputError(f"--key {key!r}: expected KEY=VALUE, e.g. StudyDate=20150101-20151231")
        out[name] = value
    return out


def fetch_srs(address: str, index: Path, keys: list[str], calling_aet: str | None = None) -> tuple[Path, int, int]:
    """Fetch the SRs matching the keys into the index's cache folder for this PACS; returns
    (the folder, SRs fetched, SRs new or changed in the cache)."""
    from .. import pacs
    query = {"Modality": "SR", **parse_keys(keys)}
    folder = cache_folder(index, address)
    folder.mkdir(parents=True, exist_ok=True)
    changed = 0
    with tempfile.TemporaryDirectory(prefix=".fetch-", dir=folder.parent) as tmp:
        fetched = pacs.fetch(address, tmp, calling_aet=calling_aet, **query)
        for path in fetched:
            target = folder / path.name
            try:
                same = target.read_bytes() == path.read_bytes()
            except FileNotFoundError:
                same = False
            if not same:
                os.replace(path, target)  # same file system: atomic, complete files only
                changed += 1
    return folder, len(fetched), changed
