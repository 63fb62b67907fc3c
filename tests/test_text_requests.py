"""Indication sections and request phrasing, separate lesions, levels named as the site."""

from __future__ import annotations

import pytest

from dicomtools.text import extract_findings
from dicomtools.text.mentions import find_mentions
from dicomtools.text.prose import section_label
from dicomtools.text.sentences import normalise


def findings(text: str) -> list[dict]:
    return [{k: v for k, v in e.finding.to_json().items() if v is not None}
            for e in extract_findings(text)]


# ---- 1. indication / clinical question ------------------------------------------------------
def test_indication_section_is_not_a_finding():
    text = ("Clinical information: 2-year-old boy with opsoclonus-myoclonus syndrome. Search for "
            "occult neuroblastic tumour.\nWB-MRI: No mass lesion in the chest, abdomen or pelvis.\n")
    found = findings(text)
    # one absent finding per region the report names
    assert [(f["procedure"], f["finding"], f["present"], f.get("site")) for f in found] == [
        ("whole-body MRI", "mass", False, "thorax"), ("whole-body MRI", "mass", False, "abdomen"),
        ("whole-body MRI", "mass", False, "pelvis")]


@pytest.mark.parametrize("label", ["Indication", "Clinical information", "Clinical history",
                                   "History", "Clinical question", "Question",
                                   "Reason for examination", "Referral", "INDICATION"])
def test_every_request_label_opens_a_request_section(label):
    text = f"{label}: left adrenal mass on outside ultrasound.\nNeuroblastoma suspected.\n"
    assert findings(text) == []
    assert section_label(normalise(f"{label}: x"))[0] == "request"


@pytest.mark.parametrize("closer", ["Findings:", "Impression:", "Conclusion:", "FINDINGS\n",
                                    "CT abdomen:"])
def test_report_label_or_procedure_prefix_ends_the_section(closer):
    text = (f"Indication: rule out neuroblastoma.\nSecond line of the history.\n{closer} "
            "CT: 3 cm mass in the left adrenal gland.\n")
    found = findings(text)
    assert [(f["finding"], f["site"], f["laterality"]) for f in found] == [
        ("mass", "adrenal gland", "left")]


@pytest.mark.parametrize("text", [
    "Search for occult neuroblastic tumour.",
    "Evaluate for adrenal or paravertebral mass.",
    "Assessment for metastatic disease.",
    "r/o neuroblastoma.",
    "WB-MRI requested to exclude a paravertebral mass.",
    "? neuroblastoma.",
])
def test_request_phrasing_is_not_a_finding(text):
    assert findings(text) == []


def test_a_hedge_is_still_a_finding():
    # "cannot be excluded" is a hedge on a finding, not the request phrasing "to exclude"
    found = findings("WB-MRI: A small left adrenal lesion cannot be excluded.")
    assert [(f["finding"], f["present"], f["certainty"]) for f in found] == [
        ("lesion", True, "possible")]


# ---- 2. two lesions at different levels -------------------------------------------------------
def test_lesions_at_different_levels_stay_two_findings():
    text = ("WB-MRI: There is a 8 mm lesion in the L2 vertebral body with low T1 signal.\n"
            "WB-MRI: Focal lesion of the vertebral bodies T11 and T12 measuring 1.5 cm.\n")
    found = findings(text)
    assert [(f["site"], f["vertebral_levels"], f["dimensions_mm"]) for f in found] == [
        ("vertebra", ["L2"], [8.0]), ("vertebra", ["T11", "T12"], [15.0])]
    assert found[0]["t1_signal"] == "hypo" and "t1_signal" not in found[1]
    # same with one prefix: the merge, not the prefix, decided
    assert len(findings(text.replace("\nWB-MRI:", "\n"))) == 2


def test_same_lesion_told_twice_still_merges():
    text = ("WB-MRI revealed a lesion in the L2 vertebral body.\n"
            "The lesion in the L2 vertebral body measured 8 mm.\n")
    found = findings(text)
    assert len(found) == 1 and found[0]["dimensions_mm"] == [8.0]


# ---- 3. "lesion in T11" -----------------------------------------------------------------------
@pytest.mark.parametrize("text, levels", [
    ("MRI: A 15 mm lesion in T11.", ["T11"]),
    ("MRI: Further lesion in L2 measuring 8 mm.", ["L2"]),
    ("MRI: metastases in L2 and L3.", ["L2", "L3"]),
])
def test_level_after_finding_noun_is_the_vertebra(text, levels):
    (found,) = findings(text)
    assert found["site"] == "vertebra" and found["vertebral_levels"] == levels


@pytest.mark.parametrize("text", [
    "MRI: lesion hyperintense in T2-weighted images.",
    "MRI: lesion with high signal in T2.",
    "MRI: lesion in T2 images.",
])
def test_sequence_after_in_is_not_a_level(text):
    assert not [m for m in find_mentions(normalise(text)) if m.kind == "levels"]


def test_unlabelled_result_line_after_the_indication_is_read():
    text = "Indication: OMS.\nWB-MRI revealed a 2 cm mass in the left adrenal gland.\n"
    assert [(f["finding"], f["present"]) for f in findings(text)] == [("mass", True)]
    # a request line that opens with the test stays part of the request
    assert findings("Indication: OMS.\nWB-MRI requested to rule out a mass.\n") == []
