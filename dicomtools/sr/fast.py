"""The fast small-SR path: ``read_report(path)`` gives the Report ``read_sr(path)`` gives.

An archive is full of small SRs, and reading one with pydicom costs ~1.7 ms, most of it
converting the header values the reader asks for (``dcmread`` itself is lazy and takes
~0.3 ms). This module parses the DICOM Part 10 bytes itself (fast_parse.py: preamble, File
Meta, explicit or implicit VR little endian, defined and undefined lengths, nested items),
converts only the header attributes the mapping reads, hands the Content Sequence to the
decoder read_sr uses for it (the codec for its bytes; items_from_pydicom for a sequence of
undefined length, over datasets like pydicom's: fast_content.py), and maps with the same code
as read_sr (read_map.py), so the Report, its warnings included, is the same by construction.
Seed SRs: ~2,800 SRs/s per core against read_sr's ~600 (benchmarks/bench_read_fast.py).

It takes only files whose reading by pydicom it can predict exactly: a value pydicom would
warn about, a character set other than the default, ISO_IR 100 or ISO_IR 192, an escape
sequence, several values in one attribute, a deflated or big endian file, a UN element it
would have to read, anything cut short or malformed: all go to ``read_sr``, as does any
error, so results and errors are always read_sr's. ``STATS`` counts the two outcomes and
the reasons for falling back; ``strict=True`` raises :class:`NotFast` instead of falling
back (tests, benchmarks).

It never imports pydicom unless it falls back: ``dicomtools read`` starts in ~0.1 s.
"""

from __future__ import annotations

import os
import warnings
from collections import Counter
from dataclasses import dataclass, field

from ..model import Report
from .codec import TextDecoder, decode_content_value
from .codec_pydicom import items_from_pydicom
from .fast_parse import FastDataset, NotFast, parse
from .fast_tables import MODALITY_CLASS_KEYWORDS, SR_CLASSES
from .read_map import Source, _present, build_report, finish

__all__ = ["read_report", "NotFast", "STATS", "Stats", "MAX_FAST_BYTES"]

#: Files larger than this go to read_sr: the fast path is for the small SRs archives are
#: full of, and read_sr's codec already reads a large content tree at the same speed.
MAX_FAST_BYTES = 64 << 20

_FAST_SOURCE = Source(is_dataset=lambda item: isinstance(item, FastDataset),
                      uid_keyword=lambda uid: MODALITY_CLASS_KEYWORDS.get(uid, ""))


@dataclass
class Stats:
    """How many files took the fast path, how many fell back, and why."""

    fast: int = 0
    fallback: int = 0
    reasons: Counter = field(default_factory=Counter)

    def reset(self) -> None:
        self.fast = self.fallback = 0
        self.reasons.clear()


STATS = Stats()


def read_report(path: str | os.PathLike, *, strict: bool = False) -> Report:
    """Read an SR file into the Report :func:`dicomtools.sr.read.read_sr` gives (warnings and
    errors included), without pydicom when the file allows it.

    Raises SRReadError for files that are not readable SR (always read_sr's error). With
    ``strict=True``, a file the fast path does not take raises :class:`NotFast` (naming the
    reason) instead of being read by read_sr."""
    try:
        report = _read_fast(path)
    except NotFast as exc:
        reason = str(exc)
    except Exception as exc:  # any surprise: read_sr decides, with its own error
        reason = f"{type(exc).__name__} in the fast path"
    else:
        STATS.fast += 1
        return report
    STATS.fallback += 1
    STATS.reasons[reason.split(":")[0]] += 1
    if strict:
        raise NotFast(reason)
    from .read import read_sr  # imports pydicom (~0.2 s): only when needed
    return read_sr(path)


def _read_fast(path: str | os.PathLike) -> Report:
    try:
        with open(path, "rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            if size > MAX_FAST_BYTES:
                raise NotFast("large file")
            data = handle.read()
    except OSError as exc:  # missing, a folder, unreadable: read_sr words the error
        raise NotFast(f"cannot open: {type(exc).__name__}") from None
    ds, content, implicit, encoding = parse(data)
    if str(ds.get("SOPClassUID") or "") not in SR_CLASSES:
        raise NotFast("not an SR class")
    if not _present(ds, "ContentSequence") or content is None:
        raise NotFast("no content")
    texts = TextDecoder(encoding=encoding)
    with warnings.catch_warnings(record=True) as caught:  # as report_from_dataset counts them
        warnings.simplefilter("always")
        if isinstance(content, list):  # undefined length: mapped as read_sr maps pydicom's
            root_children = items_from_pydicom(content, texts=texts)
        else:
            root_children = decode_content_value(content, implicit, texts)
        report, missing = build_report(ds, str(path), _FAST_SOURCE, texts, root_children)
    return finish(report, texts, missing, [w.category.__name__ for w in caught])
