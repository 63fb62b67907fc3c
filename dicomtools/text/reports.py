"""Extracted findings -> one Report per procedure -> SR files; and reading report files.

A report file must be text: empty files give no findings, binary files, non-UTF-8 bytes
and files larger than the limit are refused with an InputError that says which and why,
before anything is parsed (size is checked on disk, not after reading 10 MB).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, replace
from pathlib import Path

from .. import vocab
from ..errors import InputError
from ..model import Finding, Report
from ..source import SourceContext, attach_source, load_studies
from ..sr.write import assign_tracking, write_sr
from .extract import MAX_TEXT, ExtractedFinding, extract_findings


def read_report_text(path: str | os.PathLike, *, encoding: str = "utf-8",
                     max_bytes: int = MAX_TEXT) -> str:
    """The text of a report file, or InputError naming the problem."""
    path = Path(path)
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    if path.is_dir():
        raise InputError(f"{path}: is a directory, not a report text file")
    if size > max_bytes:
        raise InputError(f"{path}: {size:,} bytes is larger than the {max_bytes:,}-byte limit "
                         "for one report text")
    data = path.read_bytes()
    if b"\x00" in data[:8192]:
        raise InputError(f"{path}: binary file (NUL bytes), not report text")
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not {encoding} text (byte 0x{data[exc.start]:02x} at offset "
                         f"{exc.start}); convert it or pass --encoding (e.g. latin-1)") from None
    except LookupError:
        raise InputError(f"unknown text encoding {encoding!r}") from None
    text = text.lstrip("\ufeff")
    control = sum(1 for c in text[:8192] if ord(c) < 32 and c not in "\n\r\t\f")
    if control > 16:
        raise InputError(f"{path}: binary file ({control} control characters), not report text")
    return text


def impression_of(findings: list[Finding]) -> str:
    """abnormal if a finding is present for certain; equivocal if the present findings are
    all only possible, or a finding is undetermined; else normal."""
    present = [f for f in findings if f.present is True]
    if any(f.certainty != "possible" for f in present):
        return "abnormal"
    if present or any(f.present is None for f in findings):
        return "equivocal"
    return "normal"


def group_by_procedure(extracted: list[ExtractedFinding],
                       default_procedure: str | None = None) -> dict[str, list[Finding]]:
    """Findings per procedure (in order of first appearance); findings without a procedure go
    to ``default_procedure`` or raise InputError."""
    groups: dict[str, list[Finding]] = {}
    for item in extracted:
        finding = item.finding
        procedure = finding.procedure or default_procedure
        if procedure is None:
            raise InputError(f"finding {finding.finding or 'finding'!r} read from "
                             f"{item.sentence[:60]!r} names no procedure; pass --procedure")
        if not isinstance(procedure, str) or procedure not in vocab.PROCEDURES:  # a Code has no dicomtools name
            raise InputError(f"procedure {procedure!r} is not one of "
                             + ", ".join(vocab.PROCEDURES))
        expected = vocab.PROCEDURES[procedure].modality
        if finding.modality not in (None, expected):
            raise InputError(f"finding read from {item.sentence[:60]!r} is {finding.modality}, "
                             f"not {expected} ({procedure})")
        finding = replace(finding, procedure=procedure, modality=expected)
        if expected in ("NM", "PT") and finding.tracer is None:
            finding = replace(finding, tracer=vocab.PROCEDURES[procedure].tracer)
        groups.setdefault(procedure, []).append(finding)
    return groups


def reports_from_text(text: str, default_procedure: str | None = None) -> list[Report]:
    """Report text -> one Report per procedure (no patient/study context yet)."""
    return [report for _, report in _named_reports(text, default_procedure)]


def _named_reports(text: str, default_procedure: str | None) -> list[tuple[str, Report]]:
    """(procedure name, Report) per procedure: the name as a ``str``, as ``Report.procedure`` also
    holds Codes read from other tools' SRs."""
    groups = group_by_procedure(extract_findings(text), default_procedure)
    return [(proc, Report(modality=vocab.PROCEDURES[proc].modality, procedure=proc,
                          findings=tuple(findings), impression=impression_of(findings)))
            for proc, findings in groups.items()]


_WORDS = re.compile(r"[a-z0-9]+")


def _study_keys(procedure: str) -> set[str]:
    """Words that tell a study of this procedure by its description ('mibg', 'gd2', ...)."""
    keys = set(_WORDS.findall(procedure.lower())) - {"scintigraphy", "pet", "ct", "mri", "of"}
    tracer = vocab.PROCEDURES[procedure].tracer
    if tracer:
        keys |= set(_WORDS.findall(tracer.lower()))
    if procedure == "whole-body MRI":
        keys |= {"whole", "body", "wb"}
    return keys - {"i", "123", "131", "99mtc", "68ga", "18f"} | (
        {"123"} if "I-123" in procedure else {"131"} if "I-131" in procedure else set())


def pick_study(procedure: str, studies: list[SourceContext]) -> SourceContext:
    """The source study of a procedure: same modality, and if several, the one whose study
    description names it (e.g. 'I-123 mIBG' vs 'anti-GD2'). InputError when none or unclear."""
    modality = vocab.PROCEDURES[procedure].modality
    candidates = [s for s in studies if modality in s.modalities]
    if not candidates:
        found = ", ".join(sorted({m for s in studies for m in s.modalities})) or "none"
        raise InputError(f"no source study for procedure {procedure!r}: it needs {modality} "
                         f"images, the source has {found}")
    if len(candidates) == 1:
        return candidates[0]
    keys = _study_keys(procedure)
    scored = [(len(keys & set(_WORDS.findall((s.study.description or "").lower()))), i, s)
              for i, s in enumerate(candidates)]
    scored.sort(key=lambda t: (-t[0], t[1]))
    if scored[0][0] == 0 or (len(scored) > 1 and scored[1][0] == scored[0][0]):
        descriptions = "; ".join(repr(s.study.description) for s in candidates)
        raise InputError(f"procedure {procedure!r}: {len(candidates)} {modality} studies in the "
                         f"source and none is told apart by its description ({descriptions}); "
                         "point --source to the one study")
    return scored[0][2]


@dataclass(frozen=True)
class Written:
    """One SR written by :func:`text_to_sr`."""

    procedure: str
    path: Path
    report: Report


def text_to_sr(text: str, source: str | os.PathLike, out_dir: str | os.PathLike, *,
               default_procedure: str | None = None,
               skip_missing: bool = False) -> tuple[list[Written], list[str]]:
    """Report text + source images -> one SR per procedure in ``out_dir``.

    Returns (written SRs, procedures skipped for want of a source study). Without
    ``skip_missing`` a procedure without a matching study is an InputError.
    """
    reports = _named_reports(text, default_procedure)
    if not reports:
        raise InputError("no imaging finding found in the text; no SR written")
    studies = load_studies(source)
    chosen: list[tuple[str, Report, SourceContext]] = []
    skipped: list[str] = []
    for procedure, report in reports:
        try:
            chosen.append((procedure, report, pick_study(procedure, studies)))
        except InputError:
            if not skip_missing:
                raise
            skipped.append(procedure)
    out = Path(out_dir)
    written = []
    for index, (procedure, report, context) in enumerate(chosen, start=1):
        full = assign_tracking(attach_source(report, context, where=f"procedure {procedure!r}"))
        name = re.sub(r"[^A-Za-z0-9]+", "_", procedure).strip("_").lower()
        path = write_sr(full, out / f"{index:02d}_{name}.dcm", series_number=900 + index)
        written.append(Written(procedure, path, full))
    return written, skipped
