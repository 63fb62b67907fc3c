"""Cross-modality concordance: SRs of a patient's work-up -> where modalities agree.

collect (files / reports -> patients) -> match (per patient, per lesion) -> cohort statistics
(sensitivity, Curie/SIOPEN agreement, kappa) -> tables (Table-1 shape; md, csv, json, html).
"""

from __future__ import annotations

import os
from collections.abc import Iterable

from .cohort import region_agreement, sensitivity
from .collect import Cohort, collect, collect_files, collect_reports
from .match import DEFAULT_WINDOW_DAYS, PatientConcordance, analyse_patient
from .tables import ConcordanceReport, table_row

__all__ = ["concordance", "concordance_of_files", "collect", "collect_files", "collect_reports",
           "analyse_patient", "ConcordanceReport", "DEFAULT_WINDOW_DAYS"]

# The comparison the case series is about (an mIBG scan whose isotope the report does not name
# is its own procedure); further pairs can be asked for.
DEFAULT_PAIRS = (("whole-body MRI", "I-123 mIBG scintigraphy"), ("whole-body MRI", "mIBG scintigraphy"))


def concordance(cohort: Cohort, *, window_days: int = DEFAULT_WINDOW_DAYS, label: str = "Case",
                show_ids: bool = False, sensitivity_workup_only: bool = False,
                pairs: Iterable[tuple[str, str]] = DEFAULT_PAIRS) -> ConcordanceReport:
    """Analyse every patient of a cohort and build the per-patient and cohort tables."""
    results: list[PatientConcordance] = [analyse_patient(r, window_days) for r in cohort.patients]
    results.sort(key=lambda p: (p.index_date is None, p.index_date, p.record.key))
    rows = [table_row(p, f"{label} {i}") for i, p in enumerate(results, start=1)]
    records = [p.record for p in results]
    agreements = [region_agreement(records, a, b, scheme) for a, b in pairs
                  for scheme in ("curie", "siopen")]
    if pairs is DEFAULT_PAIRS:  # a default pair without data says nothing; keep the first one
        agreements = [a for i, a in enumerate(agreements) if a.pairs or i < 2]
    return ConcordanceReport(rows, results, sensitivity(results, sensitivity_workup_only),
                             agreements, cohort, show_ids, sensitivity_workup_only)


def concordance_of_files(paths: Iterable[str | os.PathLike], **options) -> ConcordanceReport:
    """SR files / directory trees (plus any ``labs.json``) -> ConcordanceReport."""
    return concordance(collect_files(paths), **options)
