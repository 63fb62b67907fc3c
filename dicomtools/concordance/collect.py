"""SR files, directory trees or Reports -> one record per patient (Patient ID + issuer).

Nothing is dropped silently: a duplicate SOP Instance UID, an unreadable file or a report
without patient identity becomes a warning on the cohort.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from ..errors import DicomToolsError, InputError
from ..model import Patient, Report
from ..sr.read import read_sr

LAB_SUFFIXES = ("labs.json",)


@dataclass(frozen=True)
class Exam:
    """One report of a patient, with its date and where it came from."""

    report: Report
    date: dt.date | None
    origin: str


@dataclass(frozen=True)
class LabResult:
    """Non-imaging evidence, e.g. urine catecholamines (VMA/HVA)."""

    test: str
    result: str  # normal | elevated | equivocal
    date: dt.date | None


@dataclass
class PatientRecord:
    key: tuple[str, str]
    patient: Patient
    exams: list[Exam] = field(default_factory=list)
    labs: list[LabResult] = field(default_factory=list)


@dataclass
class Cohort:
    patients: list[PatientRecord]
    warnings: list[str]
    skipped_files: int = 0
    skipped_names: list[str] = field(default_factory=list)  # the first few, for the summary


def parse_date(text: str | None) -> dt.date | None:
    if not text:
        return None
    try:
        return dt.datetime.strptime(text.strip()[:8], "%Y%m%d").date()
    except ValueError:
        return None


def _patient_key(patient: Patient) -> tuple[str, str] | None:
    if not patient.id:
        return None
    return (patient.id, patient.issuer or "")


def _files(paths: Iterable[str | os.PathLike]) -> Iterable[Path]:
    for path in map(Path, paths):
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith("."))
        elif path.exists():
            yield path
        else:
            raise InputError(f"{path}: no such file or directory")


def read_labs(path: Path) -> tuple[tuple[str, str], list[LabResult]]:
    """A labs JSON file: {"patient": {"id", "issuer"}, "results": [{"test", "result", "date"}]}."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        patient = data["patient"]
        results = [LabResult(str(r["test"]), str(r["result"]), parse_date(r.get("date")))
                   for r in data["results"]]
        return (str(patient["id"]), str(patient.get("issuer") or "")), results
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InputError(f"{path}: not a labs file ({type(exc).__name__}: {exc}); expected "
                         '{"patient": {"id": ..., "issuer": ...}, "results": [...]}') from None


class _Collector:
    def __init__(self) -> None:
        self.records: dict[tuple[str, str], PatientRecord] = {}
        self.seen_uids: dict[str, str] = {}
        self.warnings: list[str] = []
        self.skipped: list[str] = []
        self.study_reports: dict[tuple, str] = {}

    def add_report(self, report: Report, origin: str) -> None:
        uid = report.sr.sop_instance_uid if report.sr else None
        if uid and uid in self.seen_uids:
            self.warnings.append(f"{origin}: same SOP Instance UID as {self.seen_uids[uid]}; "
                                 "second copy ignored")
            return
        if uid:
            self.seen_uids[uid] = origin
        key = _patient_key(report.patient)
        if key is None:
            self.warnings.append(f"{origin}: report has no Patient ID; cannot be placed in a "
                                 "patient's work-up, ignored")
            return
        if report.procedure is None:
            self.warnings.append(f"{origin}: procedure not recognised; ignored for concordance")
            return
        record = self.records.setdefault(key, PatientRecord(key, report.patient))
        if not record.exams:
            record.patient = report.patient  # a record opened by a labs file has only the ID
        else:
            for name in ("sex", "birth_date"):
                known, new = getattr(record.patient, name), getattr(report.patient, name)
                if known and new and known != new:
                    self.warnings.append(f"{origin}: patient {name.replace('_', ' ')} differs "
                                         f"from {record.exams[0].origin}; the first is used")
        record.exams.append(Exam(report, parse_date(report.study.date), origin))
        study = (key, report.study.instance_uid, report.procedure)
        if report.study.instance_uid and study in self.study_reports:
            self.warnings.append(f"{origin}: a second {report.procedure} report of the study of "
                                 f"{self.study_reports[study]}; both are used")
        self.study_reports.setdefault(study, origin)

    def add_labs(self, path: Path) -> None:
        key, results = read_labs(path)
        record = self.records.get(key)
        if record is None:  # labs may come before the SRs; the patient is filled in later
            record = self.records[key] = PatientRecord(key, Patient(id=key[0], issuer=key[1] or None))
        record.labs.extend(results)

    def cohort(self) -> Cohort:
        patients = []
        for record in self.records.values():
            if not record.exams:
                self.warnings.append(f"labs for a patient without any report "
                                     f"({len(record.labs)} result(s)); no work-up to attach them to")
                continue
            record.exams.sort(key=lambda e: (e.date or dt.date.min, e.origin))
            patients.append(record)
        return Cohort(patients, self.warnings, len(self.skipped), self.skipped[:5])


def collect(paths: Iterable[str | os.PathLike] = (), reports: Iterable[Report] = ()) -> Cohort:
    """SR files and directory trees (non-SR files are counted and skipped; labs JSON read) and
    reports already in memory (e.g. fetched from a PACS), into one cohort."""
    collector = _Collector()
    for index, report in enumerate(reports):
        origin = f"report {report.sr.sop_instance_uid}" if report.sr else f"report #{index + 1}"
        collector.add_report(report, origin)
    for path in _files(paths):
        if path.name.endswith(LAB_SUFFIXES):
            collector.add_labs(path)
            continue
        if path.suffix.lower() in (".json", ".txt", ".md", ".csv", ".html"):
            continue
        try:
            report = read_sr(path)
        except DicomToolsError:
            collector.skipped.append(str(path))  # images, SEG, PDFs...: named in the summary
            continue
        collector.add_report(report, str(path))
    return collector.cohort()


def collect_files(paths: Iterable[str | os.PathLike]) -> Cohort:
    """SR files, directory trees and labs files."""
    return collect(paths=paths)


def collect_reports(reports: Iterable[Report], labs: Iterable[str | os.PathLike] = ()) -> Cohort:
    """Reports already in memory (e.g. fetched from a PACS) plus optional labs files."""
    return collect(paths=labs, reports=reports)
