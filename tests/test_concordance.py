"""Concordance from real SR files: the seed's Table 1, sensitivity, windows, bad data."""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
import sys
import time
from dataclasses import replace
from html.parser import HTMLParser

import pytest
from conftest import SAMPLES

from dicomtools.concordance import collect_files, collect_reports, concordance, concordance_of_files
from dicomtools.concordance.anatomy import covers, same_place, scheme_regions
from dicomtools.concordance.cohort import region_agreement
from dicomtools.model import Finding, Patient, Report, Study
from dicomtools.sr import write_sr

# Table 1 of the seed case series (../shared/seeds/000_59716edc0fda0d1d.txt), cell for cell.
SEED_TABLE_1 = [
    ["17 months", "female", "opsoclonus, head tremor, unsteadiness, ataxia", "negative",
     "positive", "negative", "left-sided paravertebral T9/10", "thoracal ganglioneuroblastoma"],
    ["13 months", "male", "opsoclonus, ataxia, unsteadiness", "negative", "positive", "negative",
     "left adrenal gland", "adrenal ganglioneuroblastoma"],
    ["13 years 11 months", "male",
     "opsoclonus, persistent progressive resting and postural tremor, ataxia", "not performed",
     "positive", "negative", "right-sided paravertebral T11-L1", "retroperitoneal ganglioneuroma"],
]


@pytest.fixture(scope="module")
def seed_folder(seed_srs, tmp_path_factory):
    """The seed SRs and the sample labs files in one folder tree, as a user would have them."""
    folder = tmp_path_factory.mktemp("seed_cohort")
    for path in seed_srs.values():
        shutil.copy(path, folder / path.name)
    for labs in SAMPLES.glob("*/labs.json"):
        shutil.copy(labs, folder / f"{labs.parent.name}.labs.json")
    return folder


def test_reproduces_seed_table_1_cell_for_cell(seed_folder):
    report = concordance_of_files([seed_folder])
    assert [r.label for r in report.rows] == ["Case 1", "Case 2", "Case 3"]
    from dicomtools.concordance.tables import COLUMNS
    assert [[row.cells[c] for c in COLUMNS] for row in report.rows] == SEED_TABLE_1


def test_sensitivity_against_histopathology(seed_folder):
    report = concordance_of_files([seed_folder])
    found = {s.name: str(s) for s in report.sensitivities}
    assert found["whole-body MRI"] == "3/3"
    assert found["scintigraphy"] == "0/3"
    assert found["I-123 mIBG scintigraphy"] == "0/3"
    assert found["99mTc anti-GD2 immunoscintigraphy"] == "0/1"
    assert all(p.verdict == "discordant" for p in report.patients)


def test_window_decides_the_workup_and_intervals_are_reported(seed_folder):
    narrow = concordance_of_files([seed_folder])
    case3 = narrow.patients[2]
    antigd2 = next(e for e in case3.exams if e.procedure.startswith("99mTc"))
    assert not antigd2.in_workup and antigd2.days_from_index == -4278
    assert any("11 years 9 months before" in n and "outside the 365-day" in n
               for n in narrow.rows[2].notes)
    wide = concordance_of_files([seed_folder], window_days=5000)
    assert next(e for e in wide.patients[2].exams if e.procedure.startswith("99mTc")).in_workup
    assert not any("outside" in n for n in wide.rows[2].notes)


def test_lesion_matching_uses_site_hierarchy(seed_folder):
    report = concordance_of_files([seed_folder])
    case1, case2 = report.patients[0], report.patients[1]
    (lesion1,) = case1.lesions
    # abdominal ultrasound did not look at a thoracic paravertebral mass
    assert lesion1.by_procedure["ultrasound"] == "not examined"
    assert lesion1.by_procedure["I-123 mIBG scintigraphy"] == "negative"
    assert lesion1.confirmed_by.finding == "ganglioneuroblastoma"
    (lesion2,) = case2.lesions
    assert lesion2.by_procedure["ultrasound"] == "negative"  # abdomen covers the adrenal gland


def test_every_output_format(seed_folder):
    report = concordance_of_files([seed_folder])
    rows = list(csv.reader(io.StringIO(report.render("csv"))))
    assert len(rows) == 4 and rows[1][1:9] == SEED_TABLE_1[0]
    data = json.loads(report.render("json"))
    assert data["sensitivity"]["whole-body MRI"] == {"detected": 3, "examined": 3}
    assert [r["Tumor localization"] for r in data["rows"]] == [r[6] for r in SEED_TABLE_1]

    class Cells(HTMLParser):
        def __init__(self):
            super().__init__()
            self.cells, self.inside = [], False

        def handle_starttag(self, tag, attrs):
            self.inside = tag == "td"

        def handle_data(self, data):
            if self.inside:
                self.cells.append(data)
                self.inside = False
    page = Cells()
    page.feed(report.render("html"))
    assert page.cells[:9] == ["Case 1", *SEED_TABLE_1[0]]
    assert "OMS-CASE" not in report.render("md")  # identifiers only with show_ids
    assert "OMS-CASE-1" in concordance_of_files([seed_folder], show_ids=True).render("md")


def test_cli_writes_the_table(seed_folder, tmp_path):
    out = tmp_path / "table.html"
    proc = subprocess.run([sys.executable, "-m", "dicomtools", "concordance", str(seed_folder),
                           "--format", "html", "-o", str(out)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "<table>" in out.read_text() and "thoracal ganglioneuroblastoma" in out.read_text()
    proc = subprocess.run([sys.executable, "-m", "dicomtools", "concordance", str(tmp_path / "none")],
                          capture_output=True, text=True)
    assert proc.returncode == 2 and "no such file" in proc.stderr


# ---- missing and contradictory data -----------------------------------------------
def _report(procedure, modality, pid="P1", date="20150101", **finding):
    return Report(modality=modality, procedure=procedure, patient=Patient(id=pid, issuer="X"),
                  study=Study(date=date), findings=(Finding(**finding),) if finding else ())


def test_patient_with_only_mibg_is_not_examined_elsewhere():
    cohort = collect_reports([_report("I-123 mIBG scintigraphy", "NM", present=False,
                                      finding="uptake", site="whole body", tracer="I-123 mIBG")])
    report = concordance(cohort)
    (row,) = report.rows
    assert row.cells["Whole-body MRI"] == "not performed"
    assert row.cells["Whole-body Scintigraphy"] == "negative"
    assert row.cells["Pathology/Diagnosis"] == "not available"
    assert report.patients[0].verdict == "single modality"


def test_duplicate_sop_instance_uid_is_a_warning_not_a_double_count(seed_srs, tmp_path):
    for name in ("a.dcm", "b.dcm"):
        shutil.copy(seed_srs["case1/wbmri"], tmp_path / name)
    cohort = collect_files([tmp_path])
    assert len(cohort.patients[0].exams) == 1
    assert any("same SOP Instance UID" in w for w in cohort.warnings)


def test_conflicting_laterality_is_reported():
    cohort = collect_reports([
        _report("whole-body MRI", "MR", finding="mass", site="adrenal gland", laterality="left"),
        _report("CT", "CT", date="20150103", finding="mass", site="adrenal gland", laterality="right"),
    ])
    patient = concordance(cohort).patients[0]
    assert any("conflicting laterality" in w for w in patient.warnings)
    assert len(patient.lesions) == 2  # not merged into one lesion


def test_unplaceable_reports_and_files_are_counted(seed_srs, tmp_path):
    shutil.copy(SAMPLES / "case1" / "wbmri" / "MR001.dcm", tmp_path / "image.dcm")
    no_id = _report("whole-body MRI", "MR", pid=None, finding="mass")
    write_sr(no_id, tmp_path / "noid.dcm")
    cohort = collect_files([tmp_path])
    assert cohort.skipped_files == 1 and not cohort.patients
    assert any("no Patient ID" in w for w in cohort.warnings)


# ---- anatomy and statistics ---------------------------------------------------------
def test_site_hierarchy():
    para_t9 = Finding(site="paravertebral", laterality="left", vertebral_levels=("T9", "T10"))
    para_t11 = Finding(site="paravertebral", vertebral_levels=("T11", "T12", "L1"))
    assert same_place(Finding(site="thorax"), para_t9)
    assert same_place(Finding(site="retroperitoneum"), para_t11)
    assert not same_place(Finding(site="abdomen"), para_t9)
    assert not same_place(para_t9, replace(para_t9, laterality="right"))
    assert not same_place(para_t9, para_t11)  # levels do not overlap
    assert covers(Finding(present=False, site="abdomen"), Finding(site="adrenal gland"))
    assert not covers(Finding(present=False, site="abdomen"), para_t9)
    assert covers(Finding(present=False, site="whole body"), para_t9)
    assert scheme_regions(Finding(site="vertebra", vertebral_levels=("L2",)), "curie") == \
        {"4 lumbar and sacral spine"}
    assert scheme_regions(para_t9, "siopen") == frozenset()  # soft tissue: not a SIOPEN segment



def test_coded_terms_without_a_dicomtools_name_are_places_of_their_own():
    """A site read from another tool's SR as a code we have no name for: the same code on two
    modalities is one lesion, outside the site hierarchy; tables show its meaning, escaped."""
    from dicomtools.concordance.anatomy import ancestors
    from dicomtools.vocab import Code
    odd = Code("999001", "99X", "odd\x1bplace")
    mri = _report("whole-body MRI", "MR", finding="mass", site=odd)
    mibg = _report("I-123 mIBG scintigraphy", "NM", finding=Code("999002", "99X", "blob"),
                   site=odd, laterality="left", tracer="I-123 mIBG")
    (lesion_mri,), (lesion_mibg,) = mri.findings, mibg.findings
    assert ancestors(lesion_mri) == {odd} and same_place(lesion_mri, lesion_mibg)
    assert not same_place(lesion_mri, Finding(site="adrenal gland"))
    assert covers(Finding(present=False, site="whole body"), lesion_mri)
    assert not covers(Finding(present=False, site="abdomen"), lesion_mri)
    assert scheme_regions(lesion_mri, "curie") is None
    report = concordance(collect_reports([mri, mibg]))
    (row,) = report.rows
    assert row.cells["Tumor localization"] == "left-sided odd\\x1bplace"  # the most specific
    from dicomtools.concordance.tables import format_diagnosis, format_location
    assert format_location(lesion_mri) == "odd\\x1bplace"
    assert format_diagnosis(lesion_mibg) == "blob"
    assert report.patients[0].lesions[0].verdict == "concordant positive"
    assert "odd\\x1bplace" in report.render("md") and "\x1b" not in report.render("md")

def test_kappa_matches_a_hand_computation():
    """Two patients; MRI positive in soft tissue for both, mIBG positive for one.
    Curie: 20 pairs, both+ 1, MRI only 1, both- 18: po=19/20, pe=(2/20)(1/20)+(18/20)(19/20)."""
    reports = []
    for pid, mibg_positive in (("A", True), ("B", False)):
        reports.append(_report("whole-body MRI", "MR", pid=pid, finding="mass", site="adrenal gland"))
        reports.append(_report("I-123 mIBG scintigraphy", "NM", pid=pid, present=mibg_positive,
                               finding="uptake", site="adrenal gland" if mibg_positive else "whole body",
                               tracer="I-123 mIBG"))
    cohort = collect_reports(reports)
    a = region_agreement(cohort.patients, "whole-body MRI", "I-123 mIBG scintigraphy", "curie")
    assert (a.pairs, a.both_positive, a.first_only, a.second_only, a.both_negative) == (20, 1, 1, 0, 18)
    po, pe = 19 / 20, (2 / 20) * (1 / 20) + (18 / 20) * (19 / 20)
    assert a.kappa == pytest.approx((po - pe) / (1 - pe))


@pytest.mark.slow
def test_synthetic_cohort_of_1000_patients_end_to_end(tmp_path):
    from dicomtools.concordance.synthetic import write_cohort
    started = time.perf_counter()
    truth = write_cohort(1000, tmp_path)
    written = time.perf_counter()
    report = concordance_of_files([tmp_path])
    done = time.perf_counter()
    print(f"\n1000 patients, {truth['files']} SRs: write {written - started:.1f} s, "
          f"concordance {done - written:.1f} s")
    assert len(report.rows) == 1000 and not report.cohort.warnings
    found = {s.name: (s.detected, s.examined) for s in report.sensitivities}
    assert found["whole-body MRI"] == (truth["mri_detected"], truth["tumours"])
    assert found["I-123 mIBG scintigraphy"] == (truth["mibg_detected"], truth["tumours"])
    assert report.render("html").count("<tr>") == 1001


def test_sensitivity_can_be_limited_to_the_workup(seed_folder):
    everything = concordance_of_files([seed_folder])
    assert any("any interval" in line for line in everything.summary_lines())
    workup = concordance_of_files([seed_folder], sensitivity_workup_only=True)
    found = {s.name: str(s) for s in workup.sensitivities}
    assert "99mTc anti-GD2 immunoscintigraphy" not in found  # 11 years before: outside
    assert found["whole-body MRI"] == "3/3" and found["I-123 mIBG scintigraphy"] == "0/3"


def test_two_reports_of_one_study_are_flagged(seed_srs, tmp_path):
    from dicomtools.sr import read_sr as read
    report = read(seed_srs["case1/wbmri"])
    write_sr(replace(report, sr=None), tmp_path / "again.dcm")  # new SOP UID, same study
    shutil.copy(seed_srs["case1/wbmri"], tmp_path / "first.dcm")
    cohort = collect_files([tmp_path])
    assert any("a second whole-body MRI report of the study" in w for w in cohort.warnings)


@pytest.mark.parametrize("fmt", ["md", "csv", "html", "json"])
def test_no_table_format_carries_control_or_invisible_characters(fmt):
    """A label (or any text) with ESC, NUL, a bidi override or a non-character reaches no
    output raw: a terminal would obey it, HTML cannot carry it."""
    from dicomtools.concordance import collect_reports, concordance
    report = Report(modality="MR", procedure="whole-body MRI", patient=Patient(id="P1", issuer="X"),
                    study=Study(date="20150101"),
                    findings=(Finding(present=True, finding="mass", site="adrenal gland", laterality="left"),))
    text = concordance(collect_reports([report]), label="Case\x1b[2J\x00\u202e\ufffe").render(fmt)
    assert not any(ch in text for ch in "\x1b\x00\u202e\ufffe")
    if fmt != "json":  # JSON escapes them its own way (\u001b)
        assert "Case\\x1b[2J\\x00\\u202e\\ufffe" in text


def test_an_mibg_scan_without_isotope_is_compared_with_wbmri_by_default():
    from dicomtools.concordance import collect_reports, concordance
    patient, study = Patient(id="P1", issuer="X"), Study(date="20150101")
    mri = Report(modality="MR", procedure="whole-body MRI", patient=patient, study=study,
                 findings=(Finding(present=True, finding="mass", site="adrenal gland", laterality="left"),))
    mibg = Report(modality="NM", procedure="mIBG scintigraphy", patient=patient, study=study,
                  findings=(Finding(present=False, finding="uptake", site="whole body"),))
    agreements = concordance(collect_reports([mri, mibg])).agreements
    assert {(a.scheme, a.second) for a in agreements if a.pairs} == {
        ("curie", "mIBG scintigraphy"), ("siopen", "mIBG scintigraphy")}
    curie = next(a for a in agreements if a.scheme == "curie" and a.pairs)
    assert curie.first_only == 1  # the soft-tissue region: MRI saw what mIBG did not
