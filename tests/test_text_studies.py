"""Studies and what they fail to show (issue 10, session of 2026-12-02 evening): a test list
with an abbreviation spelled out, negatives worded as detection that failed, the organ a
study is of, and the side of a place the tables do not name."""

from __future__ import annotations

import pytest

from dicomtools.text import extract_findings


def brief(text: str) -> list[tuple]:
    return [(f.modality, f.finding, f.present, f.site, f.laterality)
            for f in (e.finding for e in extract_findings(text))]


def test_a_test_spelled_out_with_its_abbreviation_stays_in_the_list():
    found = brief("Enhanced CT, magnetic resonance imaging (MRI) and 68Ga-Exendin-4 PET/CT "
                  "showed a mass above the spleen.")
    assert sorted(m for m, *_ in found) == ["CT", "MR", "PT"]
    assert all(f[1:] == ("mass", True, None, None) for f in found)


@pytest.mark.parametrize("text", [
    "The lesion was undetectable using ultrasound, CT and MRI.",
    "CT and MRI failed to localize the lesion.",
    "The lesion was occult on CT and MRI.",
    "CT or MRI was not revealing of lesion location.",
])
def test_detection_that_failed_is_an_absent_finding_on_each_test(text):
    found = brief(text)
    assert {m for m, *_ in found} >= {"CT", "MR"}
    assert all(present is False for _, _, present, _, _ in found)


def test_not_detectable_is_absent_and_a_plain_finding_stays_present():
    assert brief("The tumour was not detectable on CT.") == [("CT", "neoplasm", False, None, None)]
    assert brief("CT showed a tumour in the liver.") == [("CT", "neoplasm", True, "liver", None)]


def test_a_study_of_one_organ_places_findings_that_name_only_a_part_of_it():
    text = ("Computed tomography (CT) of the liver was obtained. "
            "The axial images showed a well-defined 3-cm ovoid lesion in the left lobe.")
    assert brief(text) == [("CT", "lesion", True, "liver", "left")]
    # a body region says nothing of where in it the finding lies
    assert brief("Abdominal CT showed a mass.") == [("CT", "mass", True, None, None)]


def test_the_side_of_a_place_without_a_term_is_kept_only_from_the_findings_own_phrase():
    assert brief("MRI showed a giant left-sided mass.") == [("MR", "mass", True, None, "left")]
    assert brief("The left arm was swollen. MRI showed a mass.") == [("MR", "mass", True, None, None)]


def test_a_mass_said_to_arise_from_a_place_is_this_patients_finding():
    assert brief("Axial T2W MRI demonstrates a midline mass, which appears to arise from the cerebellar vermis.") \
        == [("MR", "mass", True, "cerebellum", None)]
    assert brief("Neuroblastoma arises from the adrenal medulla in most children.") == []


@pytest.mark.parametrize("text, modality", [
    ("The computed tomograph of the chest showed mediastinal lymphadenopathy.", "CT"),
    ("MR Technique: images were obtained. Findings: metastatic disease in the marrow.", "MR"),
])
def test_everyday_spellings_of_a_study_name_it(text, modality):
    assert [f[0] for f in brief(text)] == [modality]


@pytest.mark.parametrize("text, regions", [
    ("CT of the chest, abdomen and pelvis was normal.", ["thorax", "abdomen", "pelvis"]),
    ("Head, orbital and abdominal CT scans were normal.", ["head", "orbit", "abdomen"]),
    ("Thoraco-abdominal CT was negative.", ["thorax", "abdomen"]),
    ("Abdominal CT was negative.", ["abdomen"]),
])
def test_a_negative_study_of_several_regions_is_negative_in_each(text, regions):
    assert brief(text) == [("CT", "mass", False, region, None) for region in regions]


def test_a_tumour_type_a_study_showed_is_a_neoplasm_of_it_and_only_then():
    assert brief("Magnetic resonance imaging revealed bilateral adrenal pheochromocytoma.") \
        == [("MR", "neoplasm", True, "adrenal gland", "bilateral")]
    assert brief("The final diagnosis was pheochromocytoma.") == []
    assert brief("CT showed a large subdural hematoma.") == []


def test_a_lab_or_pathology_clause_does_not_take_the_imaging_result_with_it():
    assert brief("Urinary VMA was normal and ultrasound showed a hypoechoic lesion in the right adrenal gland.") \
        == [("US", "lesion", True, "adrenal gland", "right")]
    assert brief("Following resection and histopathological confirmation, MIBG scintigraphy revealed osseous "
                 "metastases.") == [("NM", "metastasis", True, "bone", None)]


def test_an_mibg_treatment_gives_no_isotope_to_the_scan():
    found = [e.finding for e in extract_findings(
        "MIBG scintigraphy revealed osseous metastases and hence, she underwent 131I-MIBG therapy.")]
    assert [(f.procedure, f.tracer) for f in found] == [("mIBG scintigraphy", None)]


def test_a_pathology_section_is_the_specimens():
    text = "Left Adrenal Gland, Resection:\n\n  • Tumor dimension: 3.7 x 2.3 x 2.7cm\n\nCT showed a left adrenal mass."
    assert brief(text) == [("CT", "mass", True, "adrenal gland", "left")]


def test_a_negative_metastasis_beside_another_noun_is_its_own_finding():
    assert brief("MIBG: No lesion or metastases were identified.") == [
        ("NM", "lesion", False, "whole body", None), ("NM", "metastasis", False, "whole body", None)]
    found = brief("68Ga-DOTA-TATE PET/CT revealed a 2.3cm pancreatic head lesion, consistent with a "
                  "well-differentiated insulinoma and no metastatic disease.")
    assert found == [("PT", "lesion", True, "pancreas", None), ("PT", "metastasis", False, "whole body", None)]


def test_a_biopsy_after_the_imaging_result_does_not_take_it():
    assert brief("Abdomen CT revealed a liver mass that proved to be hepatoblastoma on biopsy.") \
        == [("CT", "mass", True, "liver", None)]
    assert brief("These imaging findings strongly suggested a primary bone neoplasm.") == []


def test_region_words_before_a_study_are_the_studys():
    assert brief("Abdominal and pelvic ultrasound showed a mass in the liver.") == [("US", "mass", True, "liver", None)]
    assert brief("CT of the thorax ruled out other tumors.") == [("CT", "neoplasm", False, "thorax", None)]
    assert brief("MRI showed a T8 vertebral lesion.") == [("MR", "lesion", True, "vertebra", None)]


def test_organs_a_study_showed_normal_have_no_lesion():
    assert brief("Computed tomography of the abdomen showed normal adrenal glands.") \
        == [("CT", "lesion", False, "adrenal gland", "bilateral")]
    assert brief("CT showed normal size of the liver.") == []
    assert brief("Bone scintigraphy demonstrated normal bone scintigraphy.") \
        == [("NM", "uptake", False, "whole body", None)]


def test_an_image_guided_biopsy_is_no_imaging_study():
    text = ("The lymphoma was diagnosed after percutaneous ultrasound guided biopsy of the retroperitoneal mass. "
            "A large retroperitoneal soft tissue mass is seen.")
    assert brief(text) == [(None, "mass", True, "retroperitoneum", None)]
    assert brief("Percutaneous computed tomography (CT)-guided biopsy was performed.") == []


def test_a_differential_list_gives_no_findings():
    assert brief("MRI showed a mass. Other diagnoses were suggested including retroperitoneal sarcoma and "
                 "adenopathy secondary to a kidney, breast or thyroid tumour.") == [("MR", "mass", True, None, None)]
