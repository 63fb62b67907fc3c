"""The records concordance works on (exams, labs, patients, the cohort) and the checks of
the values an SR brings (dates, ages, identifiers). Used by the collector and by anything that
builds a cohort from elsewhere (e.g. an archive index)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from ..model import Patient, Report
from ..values import parse_date  # re-exported: the collector's name for it


@dataclass(frozen=True)
class Exam:
    """One report of a patient, with its date and where it came from."""

    report: Report
    date: dt.date | None
    origin: str  # printable: an escaped file name, or "report <UID>"

    @property
    def procedure(self) -> str:
        """The dicomtools name of the report's procedure. A cohort holds only exams that have
        one: a report without a procedure, or with a coded one that has no dicomtools name
        (another tool's SR), is a warning instead."""
        procedure = self.report.procedure
        if not isinstance(procedure, str):
            raise TypeError(f"{self.origin}: an exam needs a procedure with a dicomtools name, "
                            f"not {procedure!r}")
        return procedure


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


# ---- values --------------------------------------------------------------------------
_AS = re.compile(r"\d{3}[DWMY]")


def valid_age(text) -> bool:
    """A DICOM AS: three digits and D, W, M or Y ('017M')."""
    return isinstance(text, str) and bool(_AS.fullmatch(text.strip()))


def _lo_problem(value: str) -> str | None:
    """Why a value is not a valid LO (what Patient ID and Issuer are), or None."""
    if any((ord(c) < 0x20 and c != "\x1b") or ord(c) == 0x7F for c in value):
        return "holds a control character"
    if "\\" in value:
        return "holds a backslash (several values)"
    if len(value) > 64:
        return f"is {len(value)} characters long (at most 64)"
    return None


def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def value_problems(report: Report) -> list[str]:
    """What is wrong with the dates, age, sex and identifiers of a report, one phrase each,
    naming the attribute, never the value."""
    patient, study = report.patient, report.study
    problems = []
    for attribute, value in (("Study Date", study.date), ("Patient's Birth Date", patient.birth_date)):
        if not _blank(value) and parse_date(value) is None:
            problems.append(f"{attribute} is not a DICOM date (YYYYMMDD); the exam is kept "
                            "without it")
    if not _blank(study.patient_age) and not valid_age(study.patient_age):
        problems.append("Patient's Age is not a DICOM age (nnnD/W/M/Y); not used")
    for attribute, value in (("Patient ID", patient.id), ("Issuer of Patient ID", patient.issuer)):
        problem = _lo_problem(value) if isinstance(value, str) else None
        if problem:
            problems.append(f"{attribute} {problem}; used as read")
    if isinstance(patient.sex, str) and patient.sex.strip() not in ("", "M", "F", "O"):
        problems.append("Patient's Sex is not M, F or O; not used")
    return problems
