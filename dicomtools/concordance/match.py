"""One patient's work-up: which exam belongs to it, what each procedure found, and for each
lesion whether the modalities agree.

Result words used throughout: positive, negative, equivocal, not examined (performed, but its
field did not cover that place, e.g. abdominal ultrasound for a thoracic mass), not performed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from ..model import Finding
from .anatomy import covers, same_place
from .collect import Exam, PatientRecord

PATHOLOGY = "histopathology"
# The column a procedure belongs to in a per-patient table.
PROCEDURE_CLASS = {
    "whole-body MRI": "WB-MRI", "MRI": "MRI", "CT": "CT", "ultrasound": "ultrasound",
    "mIBG scintigraphy": "scintigraphy", "I-123 mIBG scintigraphy": "scintigraphy",
    "I-131 mIBG scintigraphy": "scintigraphy",
    "99mTc anti-GD2 immunoscintigraphy": "scintigraphy", "bone scintigraphy": "scintigraphy",
    "68Ga-DOTATATE PET/CT": "PET", "68Ga-DOTANOC PET/CT": "PET", "18F-MFBG PET": "PET",
    "FDG PET/CT": "PET",
    PATHOLOGY: "pathology",
}
# Whole-body procedures speak for every place they did not report a lesion at.
WHOLE_BODY = {"whole-body MRI", "mIBG scintigraphy", "I-123 mIBG scintigraphy",
              "I-131 mIBG scintigraphy", "99mTc anti-GD2 immunoscintigraphy", "bone scintigraphy",
              "68Ga-DOTATATE PET/CT", "68Ga-DOTANOC PET/CT", "18F-MFBG PET", "FDG PET/CT"}
_RANK = {"positive": 3, "equivocal": 2, "negative": 1, "unknown": 0}
DEFAULT_WINDOW_DAYS = 365


@dataclass(frozen=True)
class ExamSummary:
    procedure: str
    date: dt.date | None
    result: str
    days_from_index: int | None
    in_workup: bool
    origin: str


@dataclass
class LesionMatch:
    """One place with a positive finding, and what every performed procedure said there."""

    members: list[tuple[str, Finding]]  # (procedure, positive finding)
    by_procedure: dict[str, str] = field(default_factory=dict)
    verdict: str = ""

    @property
    def location(self) -> Finding:
        """The most specific imaging description of the place (levels beat none)."""
        imaging = [f for proc, f in self.members if proc != PATHOLOGY] or [f for _, f in self.members]
        return max(imaging, key=lambda f: (f.vertebral_levels is not None, f.laterality is not None))

    @property
    def confirmed_by(self) -> Finding | None:
        return next((f for proc, f in self.members if proc == PATHOLOGY), None)


@dataclass
class PatientConcordance:
    record: PatientRecord
    index_date: dt.date | None
    window_days: int
    exams: list[ExamSummary]
    results: dict[str, str]  # procedure -> combined result within the work-up
    lesions: list[LesionMatch]
    verdict: str
    warnings: list[str]

    def result_of_class(self, klass: str, *, workup_only: bool = True) -> str:
        """Combined result of a column (e.g. all scintigraphies), 'not performed' if none."""
        results = [e.result for e in self.exams
                   if PROCEDURE_CLASS.get(e.procedure) == klass and (e.in_workup or not workup_only)]
        return max(results, key=_RANK.__getitem__) if results else "not performed"


def exam_result(exam: Exam) -> str:
    findings = exam.report.findings
    if any(f.present is True for f in findings):
        return "positive"
    if any(f.present is None for f in findings):
        return "equivocal"
    if findings:
        return "negative"
    return {"normal": "negative", "abnormal": "positive", "equivocal": "equivocal"}.get(
        exam.report.impression or "", "unknown")


def _index_date(record: PatientRecord) -> dt.date | None:
    """The work-up is anchored on the first positive imaging exam, else the first exam."""
    dated = [(e.date, e) for e in record.exams if e.date]
    positive = [d for d, e in dated if e.procedure != PATHOLOGY and exam_result(e) == "positive"]
    anchor = positive or [d for d, _ in dated]
    return min(anchor) if anchor else None


def _summaries(record: PatientRecord, index: dt.date | None, window: int,
               warnings: list[str]) -> list[ExamSummary]:
    out = []
    for exam in record.exams:
        days = (exam.date - index).days if exam.date and index else None
        if exam.date is None:
            warnings.append(f"{exam.origin}: no study date; counted in the work-up")
        in_workup = days is None or abs(days) <= window
        out.append(ExamSummary(exam.procedure, exam.date, exam_result(exam), days,
                               in_workup, exam.origin))
    return out


def _status_at(lesion: LesionMatch, procedure: str, exams: list[Exam]) -> str:
    if any(proc == procedure for proc, _ in lesion.members):
        return "positive"
    place = lesion.location
    findings = [f for e in exams for f in e.report.findings]
    if any(f.present is False and covers(f, place) for f in findings):
        return "negative"
    if any(f.present is None and (same_place(f, place) or covers(f, place)) for f in findings):
        return "equivocal"
    if procedure in WHOLE_BODY and any(exam_result(e) != "unknown" for e in exams):
        return "negative"  # a whole-body exam that reported nothing here
    return "not examined"


def _conflicts(positives: list[tuple[str, Finding]]) -> list[str]:
    out = []
    for i, (proc_a, a) in enumerate(positives):
        for proc_b, b in positives[i + 1:]:
            sides = {a.laterality, b.laterality}
            if (a.site == b.site and a.site is not None and sides == {"left", "right"}
                    and proc_a != proc_b):
                out.append(f"conflicting laterality: {proc_a} reports {a.laterality} {a.site}, "
                           f"{proc_b} reports {b.laterality} {b.site}")
    return out


def analyse_patient(record: PatientRecord, window_days: int = DEFAULT_WINDOW_DAYS) -> PatientConcordance:
    """Match one patient's findings across modalities within the work-up window."""
    warnings: list[str] = []
    index = _index_date(record)
    summaries = _summaries(record, index, window_days, warnings)
    in_workup = [e for e, s in zip(record.exams, summaries, strict=True) if s.in_workup]
    by_procedure: dict[str, list[Exam]] = {}
    for exam in in_workup:
        by_procedure.setdefault(exam.procedure, []).append(exam)

    positives = [(e.procedure, f) for e in in_workup for f in e.report.findings
                 if f.present is True]
    warnings.extend(_conflicts(positives))
    lesions: list[LesionMatch] = []
    for procedure, finding in positives:
        home = next((lesion for lesion in lesions
                     if any(same_place(finding, other) for _, other in lesion.members)), None)
        if home is None:
            lesions.append(LesionMatch([(procedure, finding)]))
        else:
            home.members.append((procedure, finding))

    imaging = [p for p in by_procedure if p != PATHOLOGY]
    for lesion in lesions:
        lesion.by_procedure = {p: _status_at(lesion, p, by_procedure[p]) for p in imaging}
        pos = [p for p, s in lesion.by_procedure.items() if s == "positive"]
        neg = [p for p, s in lesion.by_procedure.items() if s == "negative"]
        lesion.verdict = ("discordant" if pos and neg else
                          "concordant positive" if len(pos) > 1 else
                          "single modality" if pos else "pathology only")

    results = {p: max((exam_result(e) for e in exams), key=_RANK.__getitem__)
               for p, exams in by_procedure.items()}
    verdicts = {lesion.verdict for lesion in lesions}
    if "discordant" in verdicts:
        verdict = "discordant"
    elif lesions:
        verdict = "concordant positive" if verdicts == {"concordant positive"} else "single modality"
    elif len(imaging) > 1 and all(results[p] == "negative" for p in imaging):
        verdict = "concordant negative"
    elif imaging:
        verdict = "single modality" if len(imaging) == 1 else "equivocal"
    else:
        verdict = "not examined"
    return PatientConcordance(record, index, window_days, summaries, results, lesions, verdict,
                              warnings)
