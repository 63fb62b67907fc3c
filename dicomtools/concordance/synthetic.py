"""Synthetic cohorts for tests and benchmarks: per patient a WB-MRI, an I-123 mIBG scan and a
histopathology report, with known truth, written as real SR files."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

from ..model import Finding, Patient, Report, Study
from ..sr.write import write_sr

_SITES = [("paravertebral", "left", ("T9", "T10"), "thorax"),
          ("paravertebral", "right", ("T11", "T12", "L1"), "retroperitoneum"),
          ("adrenal gland", "left", None, "adrenal gland"),
          ("adrenal gland", "right", None, "adrenal gland"),
          ("posterior mediastinum", None, None, "posterior mediastinum")]


def _study(day: dt.date, offset: int) -> Study:
    return Study(date=(day + dt.timedelta(days=offset)).strftime("%Y%m%d"))


def cohort_reports(patients: int, seed: int = 7) -> tuple[list[Report], dict[str, int]]:
    """Reports of ``patients`` patients and the truth: how many tumours MRI and mIBG found."""
    rng = random.Random(seed)
    reports: list[Report] = []
    truth = {"tumours": 0, "mri_detected": 0, "mibg_detected": 0}
    for n in range(1, patients + 1):
        patient = Patient(id=f"SYN-{n:06d}", issuer="SYNTHETIC", name=f"Synthetic^{n}",
                          birth_date="20130101", sex=rng.choice("FM"))
        day = dt.date(2015, 1, 1) + dt.timedelta(days=rng.randrange(700))
        site, side, levels, pathology_site = rng.choice(_SITES)
        tumour = rng.random() < 0.8
        mri_sees = tumour and rng.random() < 0.95
        mibg_sees = tumour and rng.random() < 0.4
        truth["tumours"] += tumour
        truth["mri_detected"] += mri_sees
        truth["mibg_detected"] += mibg_sees
        reports.append(Report(
            modality="MR", procedure="whole-body MRI", patient=patient, study=_study(day, 0),
            indication="opsoclonus, ataxia",
            findings=(Finding(present=True, finding="mass", site=site, laterality=side,
                              vertebral_levels=levels, dimensions_mm=(20.0, 11.0)),) if mri_sees
            else (Finding(present=False, finding="mass", site="whole body"),)))
        reports.append(Report(
            modality="NM", procedure="I-123 mIBG scintigraphy", patient=patient, study=_study(day, 2),
            findings=(Finding(present=True, finding="uptake", site=site, laterality=side,
                              vertebral_levels=levels, tracer="I-123 mIBG", activity_mbq=80.0),)
            if mibg_sees else
            (Finding(present=False, finding="uptake", site="whole body", tracer="I-123 mIBG",
                     activity_mbq=80.0),)))
        if tumour:
            reports.append(Report(
                modality="SM", procedure="histopathology", patient=patient, study=_study(day, 20),
                findings=(Finding(finding=rng.choice(["ganglioneuroblastoma", "ganglioneuroma",
                                                       "neuroblastoma"]),
                                  site=pathology_site, laterality=side),)))
    return reports, truth


def write_cohort(patients: int, folder: Path, seed: int = 7) -> dict[str, int]:
    """Write the cohort's SRs under ``folder``; returns the truth counts."""
    reports, truth = cohort_reports(patients, seed)
    for index, report in enumerate(reports):
        write_sr(report, folder / (report.patient.id or "no-id") / f"{index:07d}.dcm")
    truth["files"] = len(reports)
    return truth
