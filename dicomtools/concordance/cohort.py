"""Cohort statistics: sensitivity per modality against histopathology, and region-level
agreement (Curie, SIOPEN) with Cohen's kappa between two procedures."""

from __future__ import annotations

from dataclasses import dataclass

from ..model import Finding
from .anatomy import SCHEMES, same_place, scheme_regions
from .collect import PatientRecord
from .match import PATHOLOGY, PROCEDURE_CLASS, WHOLE_BODY, PatientConcordance


@dataclass(frozen=True)
class Sensitivity:
    name: str  # a procedure or a class ("scintigraphy")
    detected: int
    examined: int

    def __str__(self) -> str:
        return f"{self.detected}/{self.examined}"


# Classes that group several procedures get a sensitivity of their own.
GROUPED_CLASSES = {"scintigraphy", "PET"}


def _reference(record: PatientRecord) -> list[Finding]:
    return [f for e in record.exams if e.procedure == PATHOLOGY
            for f in e.report.findings if f.present is True]


def sensitivity(patients: list[PatientConcordance], workup_only: bool = False) -> list[Sensitivity]:
    """Per procedure and per class: of the patients with a histologically proven tumour in whom
    the procedure was done, those in whom it showed a positive finding at the proven site.
    By default every exam of the patient counts, whatever its interval (as the seed case series
    counts case 3's anti-GD2 scan 11 years earlier); ``workup_only`` keeps only exams inside
    the work-up window."""
    counts: dict[str, list[int]] = {}
    for patient in patients:
        record = patient.record
        reference = _reference(record)
        if not reference:
            continue
        per_name: dict[str, bool] = {}
        for exam, summary in zip(record.exams, patient.exams, strict=True):
            if workup_only and not summary.in_workup:
                continue
            procedure = exam.procedure
            if procedure == PATHOLOGY:
                continue
            hit = any(f.present is True and any(same_place(f, r) for r in reference)
                      for f in exam.report.findings)
            klass = PROCEDURE_CLASS.get(procedure)
            for name in {procedure, klass} if klass is not None and klass in GROUPED_CLASSES else {procedure}:
                per_name[name] = per_name.get(name, False) or hit
        for name, hit in per_name.items():
            tally = counts.setdefault(name, [0, 0])
            tally[0] += hit
            tally[1] += 1
    return [Sensitivity(name, d, n) for name, (d, n) in sorted(counts.items())]


def region_status(record: PatientRecord, procedure: str, scheme: str) -> dict[str, bool] | None:
    """Region -> positive? for one procedure of one patient; None if the procedure was not
    done. Whole-body procedures assess every region; others only regions their findings name."""
    exams = [e for e in record.exams if e.procedure == procedure]
    if not exams:
        return None
    status: dict[str, bool] = {}
    if procedure in WHOLE_BODY:
        status = dict.fromkeys(SCHEMES[scheme], False)
    for exam in exams:
        for finding in exam.report.findings:
            regions = scheme_regions(finding, scheme) or frozenset()
            for region in regions:
                if finding.present is True:
                    status[region] = True
                elif finding.present is False:
                    status.setdefault(region, False)
    return status


@dataclass(frozen=True)
class Agreement:
    scheme: str
    first: str
    second: str
    pairs: int  # (patient, region) pairs assessed by both
    both_positive: int
    first_only: int
    second_only: int
    both_negative: int
    per_region: dict[str, tuple[int, int]]  # region -> (agreeing, assessed)

    @property
    def observed(self) -> float | None:
        return (self.both_positive + self.both_negative) / self.pairs if self.pairs else None

    @property
    def kappa(self) -> float | None:
        """Cohen's kappa; None when undefined (no pairs, or chance agreement is 1)."""
        n = self.pairs
        if not n:
            return None
        p1 = (self.both_positive + self.first_only) / n
        p2 = (self.both_positive + self.second_only) / n
        expected = p1 * p2 + (1 - p1) * (1 - p2)
        if expected >= 1.0:
            return None
        observed = (self.both_positive + self.both_negative) / n
        return (observed - expected) / (1 - expected)


def region_agreement(records: list[PatientRecord], first: str, second: str,
                     scheme: str = "curie") -> Agreement:
    """Region-level agreement of two procedures over a cohort (Curie or SIOPEN regions)."""
    cells = [0, 0, 0, 0]  # both positive, first only, second only, both negative
    per_region = {region: [0, 0] for region in SCHEMES[scheme]}
    for record in records:
        a = region_status(record, first, scheme)
        b = region_status(record, second, scheme)
        if a is None or b is None:
            continue
        for region in SCHEMES[scheme]:
            if region not in a or region not in b:
                continue
            x, y = a[region], b[region]
            cells[0 if x and y else 1 if x else 2 if y else 3] += 1
            per_region[region][1] += 1
            per_region[region][0] += x == y
    both_positive, first_only, second_only, both_negative = cells
    return Agreement(scheme, first, second, sum(cells), both_positive, first_only, second_only,
                     both_negative, {r: (v[0], v[1]) for r, v in per_region.items() if v[1]})
