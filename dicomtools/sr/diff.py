"""Semantic diff of SRs: same findings, or which finding changed in which field.

Both SRs are read into Reports (``read_sr``), so two files that say the same thing in other
bytes are the same: what changes on every write is ignored (SOP Instance and Series UIDs,
the SR's own content date and time, tracking UIDs of findings paired otherwise, the UIDs a
segmentation reference carries). Findings are paired by tracking UID, else by site,
laterality and vertebral levels (in document order among equals); what stays unpaired is
added or removed. A folder pair is diffed file by file (see :func:`pair_files`).
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from ..describe import describe_finding
from ..errors import DicomToolsError, SRReadError
from ..files import collect_files, is_dicom_file
from ..model import Finding, Report, Roi
from ..phi import printable
from ..vocab import Code, code_to_json

DIFFER = 7  # exit code: the findings differ
# Finding fields that are the report's (compared once, on the report) or a write's identity.
_FINDING_SKIP = {"modality", "procedure", "tracking_uid"}
# Report fields: the SR's identity changes on every write; warnings are not content.
_REPORT_SKIP = {"findings", "sr", "warnings"}
_HIDDEN = "(patient data, not shown)"
_UNITS = {"dimensions_mm": " mm", "extent_mm": " mm", "volume_ml": " mL", "activity_mbq": " MBq"}


@dataclass(frozen=True, slots=True)
class Change:
    """One field that differs: ``field`` is a path ('dimensions_mm[0]', 'roi.segment_number',
    'study.date'); ``finding`` names the finding (empty for a report-level change)."""

    field: str
    before: Any
    after: Any
    finding: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"finding": self.finding or None, "field": self.field,
                "before": _plain(self.before), "after": _plain(self.after)}

    def __str__(self) -> str:
        if self.before is _HIDDEN:
            return f"{self.field}: changed {_HIDDEN}"
        unit = _UNITS.get(self.field.split("[")[0], "")
        return f"{self.field}: {_show(self.before)} -> {_show(self.after)}{unit}"


@dataclass
class ReportDiff:
    """What differs between two Reports read from ``a`` and ``b``."""

    a: str
    b: str
    report: list[Change] = field(default_factory=list)
    changed: list[Change] = field(default_factory=list)
    added: list[Finding] = field(default_factory=list)
    removed: list[Finding] = field(default_factory=list)

    @property
    def same(self) -> bool:
        return not (self.report or self.changed or self.added or self.removed)

    def to_json(self) -> dict[str, Any]:
        return {"a": printable(self.a), "b": printable(self.b), "same": self.same,
                "report": [c.to_json() for c in self.report],
                "changed": [c.to_json() for c in self.changed],
                "added": [f.to_json() for f in self.added],
                "removed": [f.to_json() for f in self.removed]}

    def lines(self) -> list[str]:
        head = f"{printable(self.a)} -> {printable(self.b)}: "
        if self.same:
            return [head + "same findings"]
        counts = [f"{n} {word}" for n, word in ((len(self.report), "report field(s) changed"),
                                                (len({c.finding for c in self.changed}), "finding(s) changed"),
                                                (len(self.added), "added"), (len(self.removed), "removed")) if n]
        out = [head + ", ".join(counts)]
        out += [f"  report {c}" for c in self.report]
        out += [f"  changed {c.finding!r}: {c}" for c in self.changed]
        out += [f"  added: {describe_finding(f)}" for f in self.added]
        out += [f"  removed: {describe_finding(f)}" for f in self.removed]
        return out


def _plain(value: Any) -> Any:
    """A value in JSON terms."""
    if isinstance(value, Code):
        return code_to_json(value)
    if isinstance(value, Roi):
        return {f.name: _plain(getattr(value, f.name)) for f in fields(value)}
    if hasattr(value, "to_json"):  # ContentNode, Measurement, Evaluation
        return value.to_json()
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    return value


def _show(value: Any) -> str:
    if value is None:
        return "(none)"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (tuple, list)):
        return "[" + ", ".join(_show(v) for v in value) + "]"
    if isinstance(value, Code):
        return f"{value.meaning} ({value.value}, {value.scheme})"
    if hasattr(value, "to_json"):
        return printable(str(value.to_json()))
    return printable(str(value))


def _compare(path: str, a: Any, b: Any, out: list[Change], finding: str = "") -> None:
    """Append a Change per differing leaf: tuples of equal length element by element, Rois
    field by field (their UIDs left out: a new SEG gets new ones), anything else whole."""
    if a == b:
        return
    if isinstance(a, tuple) and isinstance(b, tuple) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _compare(f"{path}[{i}]", x, y, out, finding)
        return
    if isinstance(a, Roi) and isinstance(b, Roi):
        for name in ("segment_number", "centroid_lps_mm"):
            _compare(f"{path}.{name}", getattr(a, name), getattr(b, name), out, finding)
        return
    out.append(Change(path, a, b, finding))  # (Codes compare as DICOM does: meaning ignored)


def label(f: Finding) -> str:
    """How a finding is named in a diff: its tracking id, else its short description."""
    return f.tracking_id or describe_finding(f).split(";")[0]


def _place(f: Finding) -> tuple[Any, ...]:
    return (f.site, f.laterality, f.vertebral_levels or ())


def pair_findings(a: Iterable[Finding], b: Iterable[Finding]
                  ) -> tuple[list[tuple[Finding, Finding]], list[Finding], list[Finding]]:
    """(pairs, only in a, only in b): by tracking UID, then by site/laterality/levels (in
    order among findings at the same place)."""
    left, right = list(a), list(b)
    pairs: list[tuple[Finding, Finding]] = []
    taken: set[int] = set()  # indexes into right
    for key in (lambda f: f.tracking_uid, _place):
        index: dict[Any, list[int]] = {}
        for i, fb in enumerate(right):
            if i not in taken and key(fb) is not None:
                index.setdefault(key(fb), []).append(i)
        unmatched: list[Finding] = []
        for fa in left:
            candidates = index.get(key(fa)) if key(fa) is not None else None
            if not candidates:
                unmatched.append(fa)
                continue
            i = candidates.pop(0)
            taken.add(i)
            pairs.append((fa, right[i]))
        left = unmatched
    return pairs, left, [fb for i, fb in enumerate(right) if i not in taken]


def diff_reports(a: Report, b: Report, name_a: str = "A", name_b: str = "B") -> ReportDiff:
    """What differs between two Reports, field by field."""
    result = ReportDiff(name_a, name_b)
    for f in fields(Report):
        if f.name in _REPORT_SKIP:
            continue
        before, after = getattr(a, f.name), getattr(b, f.name)
        if f.name == "patient":
            # which field differs, never the values (patient name and ID are not printed)
            result.report += [Change(f"patient.{p.name}", _HIDDEN, _HIDDEN)
                              for p in fields(before) if getattr(before, p.name) != getattr(after, p.name)]
        elif f.name == "study":
            for s in fields(before):
                _compare(f"study.{s.name}", getattr(before, s.name), getattr(after, s.name), result.report)
        elif f.name == "source_images":
            # as a set of instances: the order of the library is no finding
            if set(before) != set(after):
                result.report.append(Change("source_images", f"{len(before)} images",
                                            f"{len(after)} images, {len(set(after) - set(before))} not in A"))
        else:
            _compare(f.name, before, after, result.report)
    pairs, result.removed, result.added = pair_findings(a.findings, b.findings)
    for fa, fb in pairs:
        for f in fields(Finding):
            if f.name not in _FINDING_SKIP:
                _compare(f.name, getattr(fa, f.name), getattr(fb, f.name), result.changed, label(fa))
    return result


def diff_files(a: str | os.PathLike, b: str | os.PathLike) -> ReportDiff:
    """Read both SRs (SRReadError if either is not a readable SR) and diff them."""
    from .read import read_sr
    return diff_reports(read_sr(a), read_sr(b), os.fspath(a), os.fspath(b))


# -- folders ------------------------------------------------------------------------------
@dataclass
class FolderDiff:
    """A folder pair: the diff of each paired file, the files of one side only, and the files
    that could not be read as SR (each with its reason)."""

    a: str
    b: str
    pairs: list[ReportDiff] = field(default_factory=list)
    only_a: list[str] = field(default_factory=list)
    only_b: list[str] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)
    skipped: int = 0  # files that are not DICOM SR (other DICOM objects, other files)

    @property
    def same(self) -> bool:
        return not (self.only_a or self.only_b or self.unreadable) and all(p.same for p in self.pairs)

    def to_json(self) -> dict[str, Any]:
        return {"a": printable(self.a), "b": printable(self.b), "same": self.same,
                "pairs": [p.to_json() for p in self.pairs],
                "only_a": [printable(p) for p in self.only_a], "only_b": [printable(p) for p in self.only_b],
                "unreadable": self.unreadable, "skipped_not_sr": self.skipped}

    def lines(self) -> list[str]:
        out = []
        for p in self.pairs:
            out += p.lines()
        out += [f"only in {printable(self.a)}: {printable(p)}" for p in self.only_a]
        out += [f"only in {printable(self.b)}: {printable(p)}" for p in self.only_b]
        out += [f"unreadable: {why}" for why in self.unreadable]
        differ = sum(not p.same for p in self.pairs)
        out.append(f"{len(self.pairs)} file pair(s): {len(self.pairs) - differ} same, {differ} differ; "
                   f"{len(self.only_a) + len(self.only_b)} unpaired, {len(self.unreadable)} unreadable"
                   + (f"; {self.skipped} file(s) not DICOM SR skipped" if self.skipped else ""))
        return out


@dataclass
class _Side:
    root: Path
    reports: dict[Path, Report] = field(default_factory=dict)


def _is_sr(path: Path) -> bool:
    """The file's SOP class is an SR class; True also when the header cannot be read, so
    that read_sr says what is wrong with it (an unreadable SR is a difference)."""
    import pydicom

    from .read import SR_STORAGE
    try:
        ds = pydicom.dcmread(path, specific_tags=["SOPClassUID"])
        return str(ds.get("SOPClassUID", "")).strip() in SR_STORAGE
    except Exception:  # pydicom raises many types on damaged files
        return True


def _read_folder(root: Path, result: FolderDiff) -> _Side:
    from .read import read_sr
    side = _Side(root)
    missing = lambda p: SRReadError(f"{printable(p)}: no such file or folder")
    for path, _named in collect_files([root], missing=missing):
        if not is_dicom_file(path) or not _is_sr(path):
            result.skipped += 1  # a SEG or an image beside the SRs is not part of the diff
            continue
        try:
            side.reports[path] = read_sr(path)
        except DicomToolsError as exc:
            result.unreadable.append(printable(str(exc)))
    return side


def _keys(path: Path, report: Report, root: Path) -> tuple[Any, ...]:
    sr = report.sr
    return (sr.sop_instance_uid if sr else None,
            (report.study.instance_uid, sr.series_instance_uid if sr else None, str(report.procedure))
            if report.study.instance_uid and sr else None,
            path.relative_to(root).as_posix(),
            (report.study.instance_uid, str(report.procedure)) if report.study.instance_uid else None)


def pair_files(a: _Side, b: _Side) -> tuple[list[tuple[Path, Path]], list[Path], list[Path]]:
    """Pairs of files: by SOP Instance UID, else by study + series + procedure, else by the
    path relative to the folder, else by study + procedure when just one file of each side
    is left with it (a re-run of a pipeline writes new SOP and Series UIDs into new names)."""
    left = {p: _keys(p, r, a.root) for p, r in a.reports.items()}
    right = {p: _keys(p, r, b.root) for p, r in b.reports.items()}
    pairs: list[tuple[Path, Path]] = []
    for level in range(4):
        # an index per level keeps a folder of thousands of SRs linear, not quadratic
        index: dict[Any, list[Path]] = {}
        for pb, keys in right.items():
            if keys[level] is not None:
                index.setdefault(keys[level], []).append(pb)
        count_a = Counter(keys[level] for keys in left.values())
        for pa in list(left):
            key = left[pa][level]
            candidates = index.get(key) if key is not None else None
            if not candidates or (level == 3 and (len(candidates) > 1 or count_a[key] > 1)):
                continue
            pb = candidates.pop(0)
            pairs.append((pa, pb))
            del left[pa], right[pb]
    return pairs, list(left), list(right)


def diff_folders(a: str | os.PathLike, b: str | os.PathLike) -> FolderDiff:
    """Diff every SR of folder ``a`` with its partner in folder ``b`` (see :func:`pair_files`)."""
    result = FolderDiff(os.fspath(a), os.fspath(b))
    side_a, side_b = _read_folder(Path(a), result), _read_folder(Path(b), result)
    pairs, only_a, only_b = pair_files(side_a, side_b)
    for pa, pb in pairs:
        result.pairs.append(diff_reports(side_a.reports[pa], side_b.reports[pb], str(pa), str(pb)))
    result.only_a = [str(p) for p in only_a]
    result.only_b = [str(p) for p in only_b]
    return result
