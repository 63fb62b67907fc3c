"""Hedged and equivocal findings show as such in the concordance tables (md, html, csv), never
as plain "positive" (issue 10). Reports are written as real SRs and read back."""

from __future__ import annotations

import csv
import io
from html.parser import HTMLParser

import pytest

from dicomtools.concordance import concordance_of_files
from dicomtools.concordance.synthetic import cohort_reports
from dicomtools.model import Finding, Patient, Report, Study
from dicomtools.sr import write_sr

MRI, MIBG = "whole-body MRI", "I-123 mIBG scintigraphy"


def _report(pid: str, procedure: str, modality: str, date: str, *findings: Finding) -> Report:
    return Report(modality=modality, procedure=procedure, study=Study(date=date),
                  patient=Patient(id=pid, issuer="SYNTHETIC", name=f"Synthetic^{pid}"),
                  findings=findings)


NEGATIVE_MIBG = Finding(present=False, finding="uptake", site="whole body", tracer="I-123 mIBG")


@pytest.fixture(scope="module")
def table(tmp_path_factory):
    """Four patients: a possible mass only; an equivocal mass only; a definite and a possible
    mass; a definite mass (the synthetic cohort's shape, with certainty set)."""
    folder = tmp_path_factory.mktemp("certainty")
    reports = [
        _report("P1", MRI, "MR", "20150101",
                Finding(finding="mass", certainty="possible", site="adrenal gland", laterality="right")),
        _report("P1", MIBG, "NM", "20150103", NEGATIVE_MIBG),
        _report("P2", MRI, "MR", "20150201",
                Finding(present=None, finding="mass", site="paravertebral", laterality="left",
                        vertebral_levels=("T9", "T10"))),
        _report("P2", MIBG, "NM", "20150203", NEGATIVE_MIBG),
        _report("P3", MRI, "MR", "20150301",
                Finding(finding="mass", certainty="definite", site="adrenal gland", laterality="left"),
                Finding(finding="mass", certainty="possible", site="liver")),
        _report("P3", MIBG, "NM", "20150303", NEGATIVE_MIBG),
    ]
    synthetic, _ = cohort_reports(1, seed=3)  # one definite patient from the synthetic cohort
    reports += [r for r in synthetic if r.procedure != "histopathology"]
    for i, report in enumerate(reports):
        write_sr(report, folder / f"{i:02d}.dcm")
    return concordance_of_files([folder])


def _row(table, n: int) -> dict[str, str]:
    return table.rows[n].cells


def test_possible_only_is_not_plain_positive(table):
    cells = _row(table, 0)
    assert cells["Whole-body MRI"] == "positive (possible)"
    assert cells["Tumor localization"] == "right adrenal gland (possible)"
    assert cells["Whole-body Scintigraphy"] == "negative"
    assert any("discordant at right adrenal gland (possible)" in n for n in table.rows[0].notes)


def test_equivocal_is_shown_and_named(table):
    cells = _row(table, 1)
    assert cells["Whole-body MRI"] == "equivocal"
    assert cells["Tumor localization"] == "none found"
    assert "equivocal on whole-body MRI: mass at left-sided paravertebral T9/10" in table.rows[1].notes


def test_one_definite_finding_makes_the_exam_positive_and_hedges_stay_per_lesion(table):
    cells = _row(table, 2)
    assert cells["Whole-body MRI"] == "positive"
    assert cells["Tumor localization"] == "left adrenal gland; liver (possible)"


def test_definite_cohort_patient_is_plain(table):
    _, truth = cohort_reports(1, seed=3)  # the same patient as the fixture's (seeded)
    cells = _row(table, 3)
    assert cells["Whole-body MRI"] == ("positive" if truth["mri_detected"] else "negative")
    assert "(possible)" not in cells["Tumor localization"]


def test_markdown_and_csv_carry_the_hedges(table):
    md = table.render("md")
    assert "| positive (possible) |" in md and "right adrenal gland (possible)" in md
    assert "| equivocal |" in md and "equivocal on whole-body MRI" in md
    rows = list(csv.reader(io.StringIO(table.render("csv"))))
    header = rows[0]
    mri = header.index("Whole-body MRI")
    assert [r[mri] for r in rows[1:4]] == ["positive (possible)", "equivocal", "positive"]
    assert "equivocal on whole-body MRI" in rows[2][-1]


def test_html_marks_hedged_and_equivocal_cells(table):
    class Cells(HTMLParser):
        def __init__(self):
            super().__init__()
            self.cells: list[tuple[str | None, str]] = []
            self.cls: str | None = None
            self.inside = False

        def handle_starttag(self, tag, attrs):
            self.inside = tag == "td"
            self.cls = dict(attrs).get("class")

        def handle_data(self, data):
            if self.inside:
                self.cells.append((self.cls, data))
                self.inside = False

    page = Cells()
    page.feed(table.render("html"))
    assert ("hedged", "positive (possible)") in page.cells
    assert ("equivocal", "equivocal") in page.cells
    assert ("positive", "positive") in page.cells
    # the body map marks the hedged lesion too
    assert "data-certainty='possible'" in table.render("html")
