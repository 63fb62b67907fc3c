"""Layout rules of the extractor found on the blind batches (issue 10): where a section ends,
which line is a list item, which test a forum post's quoted report is, what a caption's title
label is."""

from __future__ import annotations

from dicomtools.text import extract_findings
from dicomtools.text.extract import read_text


def findings(text: str) -> list[dict]:
    return [{k: v for k, v in e.finding.to_json().items() if v not in (None, [])}
            for e in extract_findings(text)]


def test_a_history_paragraph_ends_at_a_blank_line():
    text = ("History: 3 year old male with palpable left sided abdominal mass\n\n"
            "Axial contrast enhanced CT image of the abdomen demonstrates a large, heterogeneous mass "
            "in the left renal fossa.")
    found, indication = read_text(text)
    assert indication == "3 year old male with palpable left sided abdominal mass"
    assert [(e.finding.procedure, e.finding.finding, e.finding.laterality) for e in found] == \
        [("CT", "mass", "left")]


def test_a_history_label_alone_keeps_its_lines_after_the_blank_line():
    text = ("CLINICAL HISTORY:\n\nSearch for neuroblastoma.\n\n"
            "FINDINGS: MRI shows a right adrenal mass.")
    found, indication = read_text(text)
    assert indication == "Search for neuroblastoma."
    assert [(e.finding.procedure, e.finding.finding) for e in found] == [("MRI", "mass")]


def test_a_history_of_procedures_section_is_history():
    text = ("History of FNA or ethanol ablation:\n\n"
            "3/12/2015 ultrasound guided right FNA. Results = follicular neoplasm (favor adenoma).\n"
            "TECHNIQUE: Realtime sonographic imaging of the thyroid gland.\n\n"
            "The left lobe contains a 2 cm solid nodule.")
    assert [f["finding"] for f in findings(text)] == ["nodule"]


def test_en_dash_lines_are_list_items():
    text = ('My CT scan report:\n"- A soft tissue mass lesion is seen in the duodenum, about 2x4cm.\n'
            "\u2013 No significant lymph node enlargement .\n"
            "\u2013 No focal solid or cystic lesion could be seen in the liver.")
    found = findings(text)
    assert [(f["finding"], f["present"], f.get("site")) for f in found] == [
        ("mass", True, "duodenum"), ("lymph node", False, None), ("lesion", False, "liver")]
    assert {f.get("procedure") for f in found} == {"CT"}  # the post names its test once


def test_a_forum_post_naming_a_relative_s_report_gives_its_test():
    text = ("I need an expert's opinion to help me interpret the medical terms used in my Dad's "
            "recent CT scan report and explain to me what it might mean:\n\n"
            '"- An ill defined soft tissue mass lesion is seen in the duodenum."')
    assert [f.get("procedure") for f in findings(text)] == ["CT"]


def test_a_caption_title_label_is_not_a_finding_of_its_own():
    found = findings("Wilms' Tumor: Axial contrast enhanced CT image of the abdomen demonstrates a "
                     "large, heterogeneous mass in the left renal fossa.")
    assert [(f["procedure"], f["finding"]) for f in found] == [("CT", "mass")]


def test_a_mass_lesion_is_a_mass():
    assert [f["finding"] for f in findings("CT showed a soft tissue mass lesion in the duodenum.")] == ["mass"]
    # ... but "MIBG-avid lesions" stay lesions (the modifier is the tracer's, not a mass)
    assert [f["finding"] for f in findings("MIBG scan showed MIBG-avid lesions in the liver.")] == ["lesion"]


def test_wording_of_another_kind_of_study_does_not_inherit_the_study_named_before():
    found = findings("Ultrasound performed earlier today showed mass lesions in the pancreatic head. "
                     "There are multiple low attenuation lesions throughout the liver. "
                     "There is para-aortic adenopathy.")
    assert [(f.get("procedure"), f["finding"], f.get("site")) for f in found] == [
        ("ultrasound", "mass", "pancreas"), (None, "lesion", "liver"), (None, "lymph node", "retroperitoneum")]
    # wording the study itself uses keeps it
    kept = findings("CT of the abdomen showed a mass. There is a hypodense lesion in the liver.")
    assert [f.get("procedure") for f in kept] == ["CT", "CT"]
    echo = findings("MRI showed a renal mass. A hypoechoic nodule is seen in the thyroid.")
    assert [f.get("procedure") for f in echo] == ["MRI", None]


def test_coordinated_sides_of_one_finding_are_bilateral_and_counted_ones_are_one_each():
    both = findings("CT: multiple low attenuation lesions throughout both the left and right lobe of the liver.")
    assert [(f["site"], f["laterality"]) for f in both] == [("liver", "bilateral")]
    each = findings("PET/CT showed FDG uptake within new masses in the right and left adrenal gland with "
                    "SUV measurements of 6.4 and 9.3, respectively.")
    assert sorted(f["laterality"] for f in each) == ["left", "right"]
    two = findings("CT showed two masses in the right and left adrenal glands.")
    assert sorted(f["laterality"] for f in two) == ["left", "right"]


def test_coordinated_parts_before_of_are_the_organ_s():
    found = findings("CT: multiple lesions extending superiorly from the neck and body of the pancreas.")
    assert [f["site"] for f in found] == ["pancreas"]
    assert [f["site"] for f in findings("CT showed masses in the neck and liver.")] == ["neck", "liver"]


def test_the_name_of_the_uptake_value_is_no_second_uptake():
    found = findings("FDG PET showed uptake within a mass in the left adrenal gland with a standardized "
                     "uptake value of 6.4.")
    assert [(f["finding"], f["site"]) for f in found] == [("uptake", "adrenal gland")]
    alone = findings("On a positron emission tomography scan, the left adrenal gland disclosed a "
                     "standardized uptake value of 4.1.")
    assert [(f["finding"], f["site"], f["laterality"]) for f in alone] == [("uptake", "adrenal gland", "left")]


def test_abnormal_mr_signal_is_a_lesion_of_the_study():
    found = findings("Brain MRI demonstrated diffuse calvarial signal abnormality.")
    assert [(f["procedure"], f["finding"], f["site"]) for f in found] == [("MRI", "lesion", "skull")]
    assert [f["finding"] for f in findings("MRI of the sternum revealed two areas of abnormal signal "
                                           "intensity in the sternum.")] == ["lesion"]
    # counted in patients ("pts"): cohort statistics, no finding
    assert findings("MRI showed focal abnormal signals in 23 (17 pts).") == []


def test_what_the_clinician_examined_or_felt_is_no_imaging_finding():
    text = ("On examination, polypoidal solid mass lesion was found within right nasal cavity. "
            "Plain MRI shows a T2W hypointense solid mass lesion within right nasal cavity.")
    assert [(f.get("procedure"), f["finding"]) for f in findings(text)] == [("MRI", "mass")]
    assert findings("Clinical examination revealed a palpable mass in the right abdomen.") == []
    # endoscopic ultrasound is imaging
    eus = findings("Endoscopic ultrasonography showed a 7-mm hypoechoic tumor in the pancreatic head.")
    assert [(f.get("modality"), f["site"]) for f in eus] == [("US", "pancreas")]


def test_wording_of_a_study_named_before_goes_back_to_it():
    text = ("Plain MRI shows a T2W hypointense mass within right nasal cavity. This mass appears "
            "hyperdense on Plain CT scan. A T2W hypointense soft tissue component is identified above "
            "the cribriform plate. In post contrast study, this mass shows avid enhancement.")
    # the enhancement after the T2W sentence is the MRI's mass, not the CT's
    assert [(f["procedure"], f.get("enhancement")) for f in findings(text)] == [("MRI", "strong"), ("CT", None)]


def test_organs_called_normal_are_one_absent_lesion_each():
    found = findings("The CECT scan revealed a large heterogenous mass in the retroperitoneum. The left kidney "
                     "and adrenal gland were normal along with the liver, spleen, gallbladder, pancreas and bones.")
    assert [(f["present"], f.get("site"), f.get("laterality")) for f in found[1:]] == [
        (False, "kidney", "left"), (False, "adrenal gland", "left"), (False, "liver", None),
        (False, "spleen", None), (False, "gallbladder", None), (False, "pancreas", None), (False, "bone", None)]
    assert all(f["finding"] == "lesion" and f["procedure"] == "CT" for f in found[1:])
    plural = findings("CT showed a mass. The liver, spleen and kidneys are unremarkable.")
    assert plural[-1]["site"] == "kidney" and plural[-1]["laterality"] == "bilateral"


def test_a_normal_property_or_laboratory_value_is_no_normal_organ():
    for text in ("MRI: The vertebral bodies of the lumbar spine are normal in height and alignment.",
                 "MRI: The marrow signal intensity is within normal limits.",
                 "The 24-h urine fractionated metanephrine levels were normal.",
                 "CT: The liver is not normal."):
        assert [f for f in findings(text) if f.get("finding") == "lesion"] == [], text


def test_the_ct_of_a_hybrid_scan_is_part_of_that_scan():
    text = ("An FDG scan was acquired from skull base to below knees together with a low dose CT scan for "
            "attenuation correction and image fusion.\n\nThere is low-grade uptake within a 8mm left parotid "
            "mass. On low dose CT note is made of a right duplex kidney. There is no evidence of distant "
            "metastases identified on this study.")
    assert {f["procedure"] for f in findings(text)} == {"FDG PET/CT"}
    # a diagnostic CT named beside a scan stays a CT
    both = findings("MIBG scintigraphy showed uptake in the right adrenal gland. CT showed a 3 cm right adrenal mass.")
    assert [f["modality"] for f in both] == ["NM", "CT"]


def test_ordinary_names_of_ct_and_ultrasound_studies():
    found = findings("The CAT scan, however, found multiple pulmonary nodules measuring up to 6 mm.")
    assert [(f["procedure"], f["finding"], f["dimensions_mm"]) for f in found] == [("CT", "nodule", [6.0])]
    for text, procedure in (("HRCT of the chest showed a nodule in the right lung.", "CT"),
                            ("Transthoracic echocardiography showed a mass in the left atrium.", "ultrasound"),
                            ("MRCP showed a cyst in the pancreas.", "MRI")):
        assert [f["procedure"] for f in findings(text)] == [procedure], text
    assert findings("Angiography showed a mass in the liver.") == []  # outside the model


def test_a_level_on_a_spine_study_names_its_vertebra():
    found = findings("MRI spine in February 2017 demonstrated some oedema at L5.")
    assert [(f["finding"], f["site"], f["vertebral_levels"]) for f in found] == [("edema", "vertebra", ["L5"])]


def test_one_word_scan_names():
    assert [f["procedure"] for f in findings("The bonescan showed uptake in the right femur.")] == ["bone scintigraphy"]
    assert [f["modality"] for f in findings("The PETscan showed uptake in the liver.")] == ["PT"]


def test_a_structured_cohort_abstract_with_a_conclusion_is_about_no_one_patient():
    text = ("Methods: Eleven patients with pathologically confirmed ENB were admitted. Their MR and CT "
            "images were retrospectively reviewed.\n\nResults: The primary tumors were well-defined "
            "soft-tissue masses centered in the roof of the nasal cavity (11/11).\n\n"
            "Conclusion: Three types of intracranial extension can be found on CT and MRI.")
    assert findings(text) == []
    case = ("Methods: A 5-year-old boy underwent CT. Results: CT showed a right adrenal mass.\n\n"
            "Conclusion: as above.")
    assert [f["finding"] for f in findings(case)] == ["mass"]


def test_what_many_tumours_are_like_is_no_finding():
    text = ("Octreoscan uses pentetreotide, conjugated to Indium 111. This agent binds to somatostatin "
            "receptors which are found in many tumors, including carcinoid tumors.")
    assert findings(text) == []


def test_organs_the_clinician_or_the_lab_calls_normal_are_no_imaging_result():
    for text in ("On examination, heart and lungs were normal.",
                 "Physical examination: abdomen is unremarkable.",
                 "His laboratory tests and the liver were normal."):
        assert findings(text) == [], text
