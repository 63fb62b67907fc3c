"""Non-report prose (dicomtools/text/prose.py and the table/section tracking in extract.py):
the text around a report gives no finding, and report lines that look a little like it still do."""

from __future__ import annotations

import time

import pytest

from dicomtools.text import extract_findings
from dicomtools.text.prose import non_report
from dicomtools.text.sentences import normalise


@pytest.mark.parametrize("text", [
    # generic subjects and predicates about tests or tumours
    "Also, contrast-enhanced MRI or CT are involved in the imaging workup of the primary tumor region.",
    "Adrenal masses in neonates are frequently managed by observation.",
    "Paravertebral neuroblastic tumours can extend through the neural foramina into the spinal canal.",
    "As such, MRI has been classified as equal to I-123-mIBG scintigraphy in neuroblastoma.",
    "Tumors arising in the posterior mediastinum tend to have a better prognosis.",
    "Somatostatin receptor PET could be a useful complement when MIBG scintigraphy is negative.",
    # explanations and hypotheticals
    "However, negative anti-GD2 immunoscintigraphy in our case #3 may be explained by a "
    "low-grade neuroblastic tumor, resulting in a delayed detection of neuroblastic tumor.",
    "If your child has neuroblastoma, the doctor may order an MIBG scan or an MRI.",
    # headings, titles, table rows
    "Neuroblastoma Treatment (PDQ): Treatment - General Information About Neuroblastoma",
    "Tumor localization",
    "Case 2 13 months male ataxia negative positive negative left adrenal gland ganglioneuroblastoma",
])
def test_non_report_prose_gives_no_finding(text):
    assert extract_findings(text) == []


@pytest.mark.parametrize("text, present", [
    ("The left adrenal mass on MRI may represent a neuroblastoma.", True),
    ("No pathological tracer uptake could be detected in the I-123 mIBG scintigraphy.", False),
    ("On CT, a small lesion in the right posterior mediastinum cannot be excluded.", True),
    ("In our patient, abdominal ultrasound showed a 2 cm mass in the right adrenal gland.", True),
    ("MRI showed a left adrenal mass, which should be correlated with MIBG scintigraphy.", True),
    ("IMPRESSION: No abnormal I-123 MIBG uptake", False),
    ("Right adrenal mass on CT", True),
])
def test_report_lines_still_give_their_finding(text, present):
    found = extract_findings(text)
    assert len(found) == 1 and found[0].finding.present is present


def test_table_is_skipped_from_caption_until_prose_resumes():
    text = ("Table 2 Imaging results\n\nPatient MIBG MRI Site\n\n1 negative positive right adrenal\n\n"
            "2 positive n.d. posterior mediastinum\n\n"
            "In the first patient, whole-body MRI revealed a 2 cm mass in the right adrenal gland.")
    found = extract_findings(text)
    assert [(e.finding.procedure, e.finding.site) for e in found] == [("whole-body MRI", "adrenal gland")]


def test_abstract_restatement_merges_into_the_case_text():
    text = ("Abstract\n\nIn a boy with OMS, immunoscintigraphy was inconclusive.\n\n"
            "Case presentation\n\nA 99mTc-anti-GD2 immunoscintigraphy was negative.")
    found = extract_findings(text)
    assert len(found) == 1
    assert found[0].finding.present is False and len(found[0].evidence) == 2


def test_which_clause_judges_the_noun_before_it():
    found = extract_findings("FDG PET/CT showed mildly increased uptake in a left supraclavicular "
                             "lymph node, which was considered equivocal.")
    assert len(found) == 1 and found[0].finding.present is None


@pytest.mark.parametrize("junk", ["may be " * 250, "negative positive " * 100, "Table 1 " * 200,
                                  "A Bb Cc Dd " * 150, ", which was " * 150])
def test_prose_rules_are_fast_on_junk(junk):
    start = time.perf_counter()
    non_report(normalise(junk), False)
    extract_findings(junk * 20)
    assert time.perf_counter() - start < 2.0


@pytest.mark.parametrize("text", [
    # a cohort: patients counted, none pointed at
    "Results: In twelve patients the adrenal mass measured 3 to 9 cm; calcification was seen on "
    "CT (n = 7) and high T2 signal on MRI (n = 5).",
    "Fourteen children are described. CT showed retroperitoneal masses encasing vessels and MRI "
    "showed intraspinal extension in three of them.",
    "The median survival of all 41 subjects was 800 days; those with an FDG SUVmax above 4 "
    "did worse (p = 0.01).",
    # background: nothing said of one examination
    "Thoracic neuroblastoma may present as a posterior mediastinal mass. MRI is preferred to CT "
    "for intraspinal extension, and a mIBG scan is used for staging.",
    "A cystic adrenal mass in a neonate suggests haemorrhage, but neuroblastoma should be considered.",
])
def test_text_about_no_one_patient_gives_nothing(text):
    assert extract_findings(text) == []


@pytest.mark.parametrize("text", [
    # one patient pointed at, although the text counts others
    "Of 20 patients in the literature, most had adrenal primaries. Our patient's CT showed a "
    "right adrenal mass.",
    # a report line, a side, a result said of a test
    "Right adrenal mass.",
    "MIBG scintigraphy failed to demonstrate any uptake.",
    "Axial T2-weighted image (b) shows a hyperintense paravertebral mass.",
])
def test_text_about_one_patient_is_read(text):
    assert extract_findings(text)


def test_a_differential_diagnosis_section_gives_no_finding_and_is_no_indication():
    from dicomtools.text import read_text
    found, indication = read_text("Findings: MRI shows a ring-enhancing lesion in the left "
                                  "parietal lobe.\n\nDifferential diagnosis:\n\nAbscess, "
                                  "glioblastoma, metastasis")
    assert [(f.finding.finding, f.finding.site) for f in found] == [("lesion", "parietal lobe")]
    assert indication is None
