"""How later sentences refer back (issue 10, session of 2026-12-02): a study confirming
another's findings, a lesion named before as the subject of a scan's uptake, a history that
ends where the imaging result starts, and negatives said of the whole body."""

from __future__ import annotations

from dicomtools.text import extract_findings


def brief(text: str) -> list[tuple]:
    return [(f.modality, f.finding, f.present, f.site, f.laterality)
            for f in (e.finding for e in extract_findings(text))]


def test_a_study_that_confirms_the_findings_of_another_has_them_too():
    us = "Ultrasound showed a left adrenal mass. "
    expected = [("US", "mass", True, "adrenal gland", "left"), ("CT", "mass", True, "adrenal gland", "left")]
    assert brief(us + "CT confirmed the ultrasound appearances.") == expected
    assert brief(us + "The ultrasound findings were confirmed on a CT scan of the abdomen.") == expected
    assert brief(us + "An abdominal CT scan confirmed the finding seen on the ultrasonography.") == expected


def test_a_confirmation_without_findings_before_gives_nothing():
    assert brief("CT confirmed the ultrasound appearances.") == []


def test_the_lesion_named_before_is_the_subject_of_the_scans_uptake():
    text = ("An abdominal ultrasound showed a 3-cm retroperitoneal mass. "
            "On MIBG scintigraphy the lesion showed no uptake of radiotracer.")
    assert brief(text) == [("US", "mass", True, "retroperitoneum", None),
                           ("NM", "uptake", False, "retroperitoneum", None)]


def test_a_place_the_mass_does_not_involve_is_not_its_place():
    text = "Ultrasound showed a 3-cm round, retroperitoneal mass with no evident involvement of the adrenal glands."
    assert brief(text) == [("US", "mass", True, "retroperitoneum", None)]


def test_a_history_ends_where_the_imaging_result_starts():
    assert brief("A 29-year-old woman presenting with hematuria was found to have bilateral adrenal "
                 "masses on abdominal computed tomography.") == [("CT", "mass", True, "adrenal gland", "bilateral")]
    assert brief("We report a case of a 29-year-old female presenting with tachycardia, who was found to "
                 "have bilateral adrenal masses on abdominal computed tomography.") \
        == [("CT", "mass", True, "adrenal gland", "bilateral")]


def test_an_incidentaloma_is_a_mass():
    assert brief("An abdominal CT revealed a 3-cm left adrenal incidentaloma.") \
        == [("CT", "mass", True, "adrenal gland", "left")]


def test_no_metastases_without_a_place_is_the_whole_body():
    assert brief("CT showed a renal mass. No metastases were found.") \
        == [("CT", "mass", True, "kidney", None), ("CT", "metastasis", False, "whole body", None)]
    assert brief("CT showed a renal mass. Metastatic work-up was negative.")[1] \
        == ("CT", "metastasis", False, "whole body", None)


def test_a_normal_study_in_other_words():
    assert brief("Whole-body bone scintigraphy was also normal.") == [("NM", "uptake", False, "whole body", None)]
    assert brief("After surgery meta-iodobenzylguanidine scintigraphy was found to be normal.") \
        == [("NM", "uptake", False, "whole body", None)]


def test_tests_named_after_the_finding_each_report_it():
    assert brief("No evidence of metastatic disease was detected by CT and bone scan.") \
        == [("CT", "metastasis", False, "whole body", None), ("NM", "metastasis", False, "whole body", None)]
    found = brief("Medical evaluation including chest roentgenogram, ultrasonography of the abdomen, whole body "
                  "computerized tomogram and bone scintigraphy showed no evidence of metastasis.")
    assert sorted(found, key=str) == sorted([("US", "metastasis", False, "abdomen", None),
                                             ("CT", "metastasis", False, "whole body", None),
                                             ("NM", "metastasis", False, "whole body", None)], key=str)


def test_the_urinary_bladder_is_a_place_not_a_urine_test():
    assert brief("Ultrasound revealed a solid mass in the urinary bladder.") == [("US", "mass", True, "bladder", None)]
    assert brief("Biphasic CT in both the cases showed hypervascular intravesical mass.") \
        == [("CT", "mass", True, "bladder", None)]


def test_case_one_of_a_report_is_no_hypothetical():
    assert brief("In case 1, a tumor was detected in the head of pancreas on CT images.") \
        == [("CT", "neoplasm", True, "pancreas", None)]


def test_organs_otherwise_normal_are_not_encoded():
    # the written gold convention: "other"/"otherwise" negatives around a finding are not findings
    assert brief("The ultrasound revealed a mass in the bladder. The abdomen and pelvis were otherwise normal.") \
        == [("US", "mass", True, "bladder", None)]


def test_the_hilum_of_an_organ_is_that_organ():
    assert brief("Ultrasound showed a mass in the hilum of the spleen.") == [("US", "mass", True, "spleen", None)]


def test_findings_of_two_cases_of_one_report_stay_two():
    text = ("In the first case, the abdominal ultrasound revealed an abdominal mass. "
            "In the second case, the abdominal ultrasound showed an abdominal mass.")
    assert brief(text) == [("US", "mass", True, "abdomen", None)] * 2


def test_a_physical_examination_is_no_study():
    text = ("CT showed a right adrenal nodule. His cardiac exam was significant for bradycardia; "
            "he had bilateral trace pretibial edema.")
    assert [f[1] for f in brief(text)] == ["nodule"]


def test_a_case_report_label_is_no_article_framing():
    assert brief("Case report: We present a 66 year old patient with an incidentally found retroperitoneal "
                 "mass on spine MRI.") == [("MR", "mass", True, "retroperitoneum", None)]


def test_the_aortocaval_region_is_the_retroperitoneum():
    assert brief("FDG PET/CT showed an FDG avid lesion in the aorto-caval region.")[0][3] == "retroperitoneum"


def test_negative_studies_in_everyday_words():
    assert brief("The MIBG test had come back clear.") == [("NM", "uptake", False, "whole body", None)]
    assert brief("His MIBG scan continues to show that he does not have any MIBG avid cancer.") \
        == [("NM", "uptake", False, "whole body", None)]


def test_the_place_of_a_test_that_is_no_image_is_no_studys_place():
    assert brief("Chest CT, bone scan and pulmonary function test were normal.") \
        == [("CT", "mass", False, "thorax", None), ("NM", "uptake", False, "whole body", None)]
