"""General language rules of the extractor (issue 10): nothing invented, one finding per
listed site, modality from headers, whole-study statements, assertion, prose measurements."""

from __future__ import annotations

from dicomtools.concordance.match import PROCEDURE_CLASS, WHOLE_BODY
from dicomtools.model import Finding, Report
from dicomtools.sr.write import check_writable
from dicomtools.text import extract_findings


def findings(text: str) -> list[dict]:
    return [{k: v for k, v in e.finding.to_json().items() if v not in (None, [])}
            for e in extract_findings(text)]


def one(text: str) -> dict:
    found = findings(text)
    assert len(found) == 1, found
    return found[0]


# ---- 1. never invent -------------------------------------------------------------------------
def test_bare_mibg_is_an_mibg_scan_of_unknown_isotope():
    f = one("The MIBG scan was negative.")
    assert f["procedure"] == "mIBG scintigraphy" and f["modality"] == "NM"
    assert "tracer" not in f and f["present"] is False


def test_named_isotope_is_kept_and_a_later_bare_mibg_refers_to_it():
    found = findings("I-123 mIBG scintigraphy was performed. The MIBG scan showed uptake in the "
                     "right adrenal gland.")
    assert [(f["procedure"], f.get("tracer")) for f in found] == [("I-123 mIBG scintigraphy", "I-123 mIBG")]
    assert one("I-131 MIBG showed uptake in the liver.")["tracer"] == "I-131 mIBG"


def test_pentetreotide_is_not_mibg():
    f = one("Indium-111 pentetreotide scintigraphy showed uptake in the right adrenal gland.")
    assert f["modality"] == "NM" and "procedure" not in f
    assert f["tracer"] == "indium^111 pentetreotide"
    f = one("Octreotide scintigraphy showed uptake in the liver.")
    assert f["modality"] == "NM" and "procedure" not in f and "tracer" not in f


def test_bone_agent_is_what_the_text_names():
    assert one("Bone scan with 99mTc-HDP showed uptake in the right femur.")["tracer"] \
        == "technetium tc^99m^ oxidronate"
    assert one("Bone scan after injection of HMDP labeled with 99mTc showed uptake in the skull.")[
        "tracer"] == "technetium tc^99m^ oxidronate"
    assert one("Tc-99m MDP bone scan showed uptake in the skull.")["tracer"] == "99mTc-MDP"
    assert "tracer" not in one("Bone scintigraphy: focal uptake in the L1 vertebral body.")


def test_bare_pet_names_no_tracer():
    f = one("PET/CT showed a hypermetabolic mass in the left adrenal gland.")
    assert f["modality"] == "PT" and "procedure" not in f and "tracer" not in f
    assert one("FDG PET/CT showed a mass in the left adrenal gland.")["tracer"] == "18F-FDG"


def test_an_mibg_scan_without_isotope_is_writable_and_one_concordance_class():
    finding = Finding(modality="NM", procedure="mIBG scintigraphy", present=False, finding="uptake",
                      site="whole body")
    check_writable(Report(modality="NM", procedure="mIBG scintigraphy", findings=(finding,)))
    assert {PROCEDURE_CLASS[p] for p in ("mIBG scintigraphy", "I-123 mIBG scintigraphy",
                                         "I-131 mIBG scintigraphy")} == {"scintigraphy"}
    assert "mIBG scintigraphy" in WHOLE_BODY


# ---- 2. enumeration and coordination ----------------------------------------------------------
def test_enumerated_sites_give_one_finding_each_with_their_own_side():
    found = findings("The bone scintigraphy demonstrates multiple focal areas of increased "
                     "radiopharmaceutical activity involving the thoracolumbar spine, the skull, "
                     "and the left pelvis.")
    assert [(f["site"], f.get("laterality")) for f in found] == [
        ("thoraco-lumbar spine", None), ("skull", None), ("pelvis", "left")]
    assert {f["finding"] for f in found} == {"uptake"}


def test_negated_coordination_gives_one_absent_finding_per_site():
    found = findings("No uptake in the adrenal glands or the liver on MIBG scintigraphy.")
    assert [(f["site"], f["present"]) for f in found] == [("adrenal gland", False), ("liver", False)]


def test_list_items_keep_their_own_levels():
    found = findings("Bone scan: two photopenic areas within the T12 vertebra and within the L4 vertebra.")
    assert [f.get("vertebral_levels") for f in found] == [["T12"], ["L4"]]


def test_two_sites_without_a_list_word_are_not_a_list():
    found = findings("CT showed a mass in the left adrenal gland adjacent to the liver.")
    assert [f.get("site") for f in found] == ["adrenal gland"]


# ---- decoys: normal distribution and normal anatomy give nothing ------------------------------
def test_a_long_list_of_organs_without_abnormal_uptake_is_the_normal_distribution():
    assert findings("The highest uptake of 68Ga-DOTATATE was noted in the spleen followed by the "
                    "kidneys, adrenal glands, liver, stomach and thyroid gland.") == []
    assert findings("On DOTATATE PET, mild uptake was detected in the parotid glands, thymus, "
                    "muscles, breast, lungs, and mediastinum.") == []
    # the same list with abnormal uptake is findings
    assert len(findings("Bone scan: increased uptake in the skull, the sternum, the pelvis and "
                        "both femora.")) == 4


def test_normal_anatomy_and_age_appropriate_uptake_are_not_findings():
    assert findings("Normal bones show no uptake of I-131 MIBG.") == []
    assert findings("Bone scan: there is age-appropriate uptake at the growth plates.") == []


# ---- the new-user cases ------------------------------------------------------------
def test_wbmri_then_lowercase_mibg_label_gives_both_findings():
    for text in ("Whole-body MRI: right adrenal mass. mIBG: negative.",
                 "Whole-body MRI: right adrenal mass.\nmIBG: negative."):
        assert [(f["procedure"], f["finding"], f["present"], f.get("site"), f.get("laterality"))
                for f in findings(text)] == [
            ("whole-body MRI", "mass", True, "adrenal gland", "right"),
            ("mIBG scintigraphy", "uptake", False, "whole body", None)], text


def test_thoracic_notations_th_and_d():
    for text in ("MRI: paravertebral mass at Th12/L1.", "MRI: paravertebral mass at Th12-L1.",
                 "MRI: paravertebral mass at D12-L1 level."):
        assert one(text)["vertebral_levels"] == ["T12", "L1"], text


def test_anti_gd2_immunoscintigraphy_with_the_isotope_prefix():
    f = one("99mTc-anti-GD2 immunoscintigraphy: no pathological uptake.")
    assert (f["procedure"], f["present"], f["tracer"]) == (
        "99mTc anti-GD2 immunoscintigraphy", False, "99mTc-anti-GD2")


def test_verbless_negative_site_line():
    f = one("CT: Left suprarenal region unremarkable.")
    assert (f["procedure"], f["present"], f["site"], f["laterality"]) == ("CT", False, "adrenal gland", "left")


def test_no_uptake_along_the_sympathetic_chain():
    found = findings("mIBG scintigraphy: no uptake in the abdomen or along the paravertebral "
                     "sympathetic chain.")
    assert [(f["site"], f["present"]) for f in found] == [("abdomen", False), ("sympathetic trunk", False)]


def test_clinical_information_line_is_the_indication():
    assert [(f["procedure"], f["present"]) for f in findings(
        "Clinical information: right adrenal mass on ultrasound.\nWB-MRI: no lesion.")] == [
        ("whole-body MRI", False)]


def test_hedged_finding_is_possible_and_a_plain_one_definite():
    assert one("MRI: a possible mass in the left adrenal gland.")["certainty"] == "possible"
    assert one("MRI: a mass in the left adrenal gland.")["certainty"] == "definite"


# ---- 5. assertion ------------------------------------------------------------------------------
def test_negated_property_attaches_to_its_lesion():
    f = one("MRI: a 3 cm mass in the left adrenal gland. No restricted diffusion in this lesion.")
    assert (f["present"], f["diffusion_restricted"], f["dimensions_mm"]) == (True, False, [30.0])
    assert one("MRI: a mass in the left adrenal gland. There was no enhancement of the mass.")[
        "enhancement"] == "none"


def test_likely_physiological_is_normal_but_possibly_physiological_only_hedged():
    assert findings("MIBG: uptake in the adrenal glands, likely physiological.") == []
    assert one("68Ga-DOTATATE PET/CT showed mild uptake in the left adrenal gland, possibly "
               "physiological.")["certainty"] == "possible"


def test_failed_to_demonstrate_and_result_word_first_are_negative():
    assert one("MIBG scintigraphy failed to demonstrate any uptake.")["present"] is False
    assert one("Normal MIBG scan.")["present"] is False


# ---- 7. one findings document ------------------------------------------------------------------
def test_a_report_whose_only_finding_is_possible_is_equivocal():
    from dicomtools.text import reports_from_text
    (report,) = reports_from_text("MRI: a possible mass in the left adrenal gland.")
    assert report.impression == "equivocal"
    (report,) = reports_from_text("MRI: a possible mass in the left adrenal gland. A mass in the liver.")
    assert report.impression == "abnormal"


def test_findings_document_carries_the_indication_and_reads_as_a_findings_file():
    from dicomtools.build import _from_extract
    from dicomtools.text import findings_document
    doc = findings_document("Clinical information: opsoclonus-myoclonus.\nWB-MRI: right adrenal mass.")
    assert doc["indication"] == "opsoclonus-myoclonus."
    assert (doc["procedure"], doc["impression"], len(doc["findings"]), len(doc["evidence"])) == (
        "whole-body MRI", "abnormal", 1, 1)
    report = Report.from_json(_from_extract(doc, "doc"))
    assert report.indication == "opsoclonus-myoclonus." and report.findings[0].site == "adrenal gland"


# ---- 6. measurements in prose ------------------------------------------------------------------
def _measured(f: dict) -> list[tuple]:
    return [(m["concept"], m["value"], m["unit"], m.get("derivation")) for m in f.get("measurements", [])]


def test_measurements_are_read_with_the_templates_spellings():
    assert _measured(one("FDG PET/CT: high FDG uptake in the retroperitoneal lesion (SUVmax=38).")) == [
        ("suvbw", 38.0, "{SUVbw}g/ml", "maximum")]
    assert _measured(one("FDG PET/CT: right adrenal mass, SUV max 18.7.")) == [
        ("suvbw", 18.7, "{SUVbw}g/ml", "maximum")]
    assert _measured(one("CT: the attenuation of the nodule measures 28 HU.")) == [
        ("attenuation coefficient", 28.0, "[hnsf'U]", None)]


def test_a_measurement_outside_the_report_type_is_not_kept():
    # an SUV in a CT finding is not a CT measurement (the CT template has none)
    assert _measured(one("CT: left adrenal mass of 3 cm with SUVmax 4.")) == []


# ---- 3. procedure from headers; whole-study statements -----------------------------------------
def test_a_heading_naming_the_test_sets_the_procedure_of_what_follows():
    found = findings("Computer Tomography Images:\n\nThis showed a right sided posterior mediastinal "
                     "mass. The mass arose in the paraspinal space.")
    assert [(f.get("procedure"), f["site"], f.get("laterality")) for f in found] == [
        ("CT", "posterior mediastinum", "right")]


def test_studies_negative_for_a_site_give_one_absent_finding_each():
    found = findings("Both MIBG and isotope bone scans were negative for bone involvement.")
    assert [(f["procedure"], f["present"], f["site"]) for f in found] == [
        ("mIBG scintigraphy", False, "bone"), ("bone scintigraphy", False, "bone")]


def test_iupac_isotope_prefix_and_avid_mass_site():
    assert one("A follow-up [¹²³I]I-MIBG study revealed no radiotracer accumulation.")[
        "procedure"] == "I-123 mIBG scintigraphy"
    f = one("MIBG scan: a large left suprarenal MIBG-avid mass is seen.")
    assert (f["site"], f["laterality"]) == ("adrenal gland", "left")


def test_a_prefix_negating_the_place_gives_no_site():
    assert one("CT: a well defined extra-pulmonary soft tissue mass.").get("site") is None


def test_a_general_place_named_by_the_list_that_follows_it():
    found = findings("The octreotide scintigraphy demonstrates multiple focal areas of increased "
                     "activity throughout the skeleton including the skull, the clivus, the sternum, "
                     "bilateral proximal humeri, bilateral ribs and the pelvis.")
    assert [(f["site"], f.get("laterality")) for f in found] == [
        ("skull", None), ("sternum", None), ("proximal humerus", "bilateral"), ("rib", "bilateral"),
        ("pelvis", None)]


def test_pronoun_subject_is_the_patients_finding_not_a_general_statement():
    found = findings("Bone scintigraphy showed uptake in the right hypochondrium. It is associated "
                     "with hyperfixations of the left orbital floor and the left humerus.")
    assert [(f.get("site"), f.get("laterality")) for f in found][-2:] == [("orbit", "left"), ("humerus", "left")]


# ---- MR wording ------------------------------------------------------------------------------
def test_signal_words_take_the_sequence_named_before_them():
    f = one("MRI: a mass of T1 hypointensity, T2 heterogeneously hyperintensity.")
    assert (f["t1_signal"], f["t2_signal"]) == ("hypo", "hyper")
    f = one("MRI: on the T2-weighted sequence, the lesion showed large regions of hyperintensity.")
    assert f["t2_signal"] == "hyper"
    assert one("Axial MR images show a mass of low signal on T1-weighted images.")["modality"] == "MR"


def test_mass_effect_is_not_a_mass():
    assert len(findings("MRI revealed an intraspinal mass. There is mass-effect on the spinal cord.")) == 1


def test_study_results_said_before_the_study_and_confirmations():
    assert one("The patient underwent a negative I-123 MIBG scintigraphy scan and a nondiagnostic "
               "fine needle aspiration.")["present"] is False
    assert one("At 2 months, a positive [123I]I-MIBG scan supported the diagnosis.")["present"] is True
    assert one("131I-MIBG scintigraphy confirmed the diagnosis.")["present"] is True


def test_resolution_is_absence_and_a_landmark_is_not_a_new_finding():
    assert one("The FDG PET study showed complete resolution of the lymph node uptake.")["present"] is False
    found = findings("PET/CT: a right adrenal mass. Focal uptake superior to the mass.")
    assert [f["finding"] for f in found] == ["mass", "uptake"]


def test_tests_named_together_each_get_the_finding():
    found = findings("The computed tomography (CT) and magnetic resonance imaging showed 2 liver nodules.")
    assert [(f["procedure"], f["finding"], f["site"]) for f in found] == [
        ("MRI", "nodule", "liver"), ("CT", "nodule", "liver")]


def test_uptake_found_in_a_lesion_is_one_finding():
    f = one("On FDG PET/CT, high FDG uptake was found in the retroperitoneal lesion (SUVmax=38).")
    assert (f["finding"], f["site"]) == ("uptake", "retroperitoneum")


def test_tracer_uptake_belongs_to_the_tracer_study_of_a_hybrid_exam():
    found = findings("68Ga-DOTANOC PET/CT was performed. Foci of increased radiotracer localization "
                     "were noted at the right mandible showing a lytic lesion on CT.")
    assert ("68Ga-DOTANOC PET/CT", "uptake", "mandible") in [
        (f.get("procedure"), f["finding"], f.get("site")) for f in found]
    found = findings("An fluorodeoxyglucose positron emission tomography/computed tomography "
                     "demonstrated hypermetabolic right psoas adenopathy.")
    assert {f["procedure"] for f in found} == {"FDG PET/CT"}


def test_uptake_of_contrast_on_mri_is_not_tracer_uptake():
    found = findings("MRI: after administration of contrast media, nodular uptake of the lesion.")
    assert all(f["finding"] != "uptake" for f in found)


def test_anatomical_adjectives_name_their_organ():
    assert one("The Ga-68 DOTANOC PET-CT revealed a pancreatic lesion.")["site"] == "pancreas"
    assert one("CT: a lytic tibial lesion.")["site"] == "tibia"
    assert "site" not in one("CT: a lateral lesion.")


def test_ordinal_vertebral_levels():
    f = one("CT showed a mass in the right posterior mediastinum as high as 5th - 6th thoracic vertebra.")
    assert f["vertebral_levels"] == ["T5", "T6"]


def test_no_uptake_in_a_lesion_named_before_takes_its_place():
    found = findings("There is a hypoattenuating lesion in the liver seen on CT, which demonstrates no "
                     "corresponding FDG uptake on the PET.")
    assert ("FDG PET/CT", False, "liver") in [(f.get("procedure"), f["present"], f.get("site")) for f in found]


def test_labelled_report_lines_are_one_finding_each_without_the_exam_region():
    found = findings("USG Abdomen: Lesion in right suprarenal region\nCT Abdomen: Right suprarenal mass\n"
                     "MIBG: Suprarenal neuroblastoma.\n")
    assert [(f["procedure"], f["site"], f.get("laterality")) for f in found] == [
        ("ultrasound", "adrenal gland", "right"), ("CT", "adrenal gland", "right"),
        # the text gives the suprarenal region one side only: the mIBG finding is on it too
        ("mIBG scintigraphy", "adrenal gland", "right")]


def test_thought_to_represent_is_a_hedge():
    found = findings("Ultrasound revealed hepatomegaly. Appearances were thought to represent hepatic "
                     "metastases.")
    assert [f["certainty"] for f in found if f["present"]] == ["possible"]


def test_relapse_and_case_framing_do_not_hide_a_studys_finding():
    f = one("Restaging PET at the time of relapse demonstrated an FDG-avid mediastinal mass.")
    assert (f["finding"], f["site"], f["present"]) == ("mass", "mediastinum", True)
    assert findings("At 2-year follow-up there was no evidence of relapse.") == []
    f = one("We report a case of a woman with constipation, revealing on computed tomography (CT) a "
            "retroperitoneal mass.")
    assert (f["procedure"], f["site"]) == ("CT", "retroperitoneum")


def test_a_study_named_twice_in_a_sentence_is_not_a_second_negative_study():
    found = findings("The liver lesion seen on CT demonstrates no corresponding FDG uptake on the PET.")
    assert [(f["procedure"], f["present"]) for f in found if f["procedure"] != "CT"] == [("FDG PET/CT", False)]


def test_list_items_keep_their_own_hedge_and_the_part_after_of():
    found = findings("CT: osseous metastatic disease involving the bilateral clavicles, the scapula, "
                     "the bones of the pelvis, as well as likely the ribs bilaterally.")
    assert [(f["site"], f.get("laterality"), f["certainty"]) for f in found] == [
        ("clavicle", "bilateral", "definite"), ("scapula", None, "definite"), ("pelvis", None, "definite"),
        ("rib", "bilateral", "possible")]


def test_figure_panels_show_one_lesion_in_several_views():
    found = findings("Fig. 1 Preoperative MRI. A: Coronal T1-weighted image showing a giant, mildly "
                     "hypointense mass. B: Axial T2-weighted MRI at the T3-4 level showing a "
                     "heterogeneously hyper-intense mass extending to the spinal canal.")
    assert [(f["finding"], f.get("t1_signal"), f.get("t2_signal")) for f in found] == [("mass", "hypo", "hyper")]


def test_side_inside_a_site_name_and_uptake_corresponding_to_a_ct_lesion():
    found = findings("The coronally reformatted CT shows a lucent lesion in the distal right tibia, "
                     "corresponding to increased uptake on 18F-FDG PET.")
    assert [(f["procedure"], f["finding"], f["site"], f["laterality"]) for f in found] == [
        ("CT", "lesion", "distal tibia", "right"), ("FDG PET/CT", "uptake", "distal tibia", "right")]


def test_finding_nouns_of_the_generated_tables_british_spellings_and_synonyms():
    found = findings("CT shows a liver abscess and bilateral pulmonary emboli. MRI: vertebral "
                     "oedema at L2; no haemorrhage.")
    assert [(f["procedure"], f["finding"], f["present"]) for f in found] == [
        ("CT", "abscess", True), ("CT", "embolus", True), ("MRI", "edema", True),
        ("MRI", "hemorrhage", False)]
    assert findings("CT revealed portal vein thrombosis.")[0]["finding"] == "blood clot"


def test_what_a_lesion_is_made_of_is_not_a_finding():
    found = findings("Ultrasound showed a heterogeneous mass with large areas of necrosis and "
                     "intratumoral haemorrhage.")
    assert [f["finding"] for f in found] == ["mass"]


def test_lower_case_section_headings_and_dash_labels_set_the_study():
    found = findings("ct\n\nCT shows a sclerotic lesion of the humerus.\n\nmri\n\nAxial images "
                     "demonstrate a mass of the sacrum.\n\nMR - Lobulated mass of the coccyx.")
    assert [(f["procedure"], f["finding"], f["site"]) for f in found] == [
        ("CT", "lesion", "humerus"), ("MRI", "mass", "sacrum"), ("MRI", "mass", "coccyx")]


def test_a_history_line_ends_where_a_test_shows_something_in_the_report_present():
    found = findings("History: 9-year-old boy with a pelvic mass.\n\nFig. 2\nFDG-PET demonstrates "
                     "intense FDG uptake in the left femur.")
    assert [(f["procedure"], f["finding"], f["site"], f["laterality"]) for f in found] == [
        ("FDG PET/CT", "uptake", "femur", "left")]


def test_bare_foci_are_the_scans_uptake_or_a_lesion_of_ct_mr():
    found = findings("I-131 MIBG scintigraphy: there are multiple foci in the left lung base, "
                     "the liver and the right humerus.")
    assert [(f["finding"], f["site"], f.get("laterality")) for f in found] == [
        ("uptake", "lung", "left"), ("uptake", "liver", None), ("uptake", "humerus", "right")]
    # after a CT named in passing, the bare foci are still the scan's
    found = findings("MIBG scan: uptake in the right lung base, matching nodules on CT. There are "
                     "also other foci in the liver.")
    assert [(f["procedure"], f["finding"], f.get("site")) for f in found][-1] == (
        "mIBG scintigraphy", "uptake", "liver")
    assert findings("MRI shows hyperintense foci in the liver.")[0]["finding"] == "lesion"
    assert findings("Bone scan: a focus of increased uptake in the right iliac bone.")[0]["site"] == "ilium"


def test_a_caption_title_line_is_its_own_sentence_and_classical_features_are_generic():
    found = findings("MRI of the abdomen in a child with opsoclonus\nSagittal T2 MRI shows a "
                     "left adrenal mass.\nThese features classically belong to a neuroblastoma.")
    assert [(f["finding"], f.get("site"), f.get("laterality")) for f in found] == [
        ("mass", "adrenal gland", "left")]
    # a prose line that wraps mid-phrase goes on ("... mass at the level of\nT9")
    found = findings("WB-MRI revealed a left-sided paravertebral mass (2.6 x\n1.1 x 2.2 cm) at the\n"
                     "Level of T9.")
    assert found[0]["dimensions_mm"] == [26.0, 11.0, 22.0]


def test_ct_and_mr_angiography_are_ct_and_mri():
    assert [(f["procedure"], f["finding"]) for f in findings(
        "These images from a CT pulmonary angiogram (CTPA) show a saddle embolism.")] == [("CT", "embolus")]
    assert findings("MR angiography shows a mass.")[0]["procedure"] == "MRI"


def test_without_contrast_says_how_the_images_were_made_not_that_a_finding_is_absent():
    for text in ("Coronal T1 MRI without contrast of the chest shows a right paraspinal mass.",
                 "MR imaging with (not shown) and without (Figure 4) contrast showed a pelvic mass.",
                 "Non-contrast CT shows a mass in the liver."):
        assert one(text)["present"] is True, text
    assert one("MRI without contrast shows no mass.")["present"] is False


def test_interpretation_of_the_findings_no_longer_seen_and_bare_activity():
    found = findings("Bone scan: multiple foci involving the spine and ribs. The findings are in "
                     "keeping with osteoblastic metastases. The previously seen lesions are no "
                     "longer appreciable. There is no renal activity.")
    assert [(f["finding"], f.get("site"), f["present"]) for f in found] == [
        ("uptake", "spine", True), ("uptake", "rib", True), ("lesion", "whole body", False),
        ("uptake", "kidney", False)]
    assert findings("CT: disease activity in the liver.") == []


def test_a_negated_property_before_the_study_is_no_negative_study():
    assert findings("No vascularity seen on color Doppler application.") == []
    assert one("No abnormality seen on color Doppler.")["present"] is False


def test_hemithorax_and_anatomical_adjectives_in_ar():
    assert [(f["site"], f["laterality"]) for f in findings(
        "Chest ultrasound showed a solid mass in the right hemithorax.")] == [("thorax", "right")]
    assert [(f["site"], f["laterality"]) for f in findings(
        "Bone scan: abnormal uptake in the right acetabular region.")] == [("acetabulum", "right")]


def test_a_plane_sequence_or_contrast_word_before_mr_names_the_mri():
    assert [(f["procedure"], f["site"]) for f in findings(
        "Coronal T1 postcontrast MR and axial DWI maps demonstrate a ring enhancing lesion in the "
        "right frontal lobe.")] == [("MRI", "frontal lobe")]


def test_a_figure_title_naming_its_tests_gives_no_finding():
    found = findings("MRI of neuroblastoma invading the spinal canal\nCoronal T1 MRI shows a right "
                     "paraspinal mass.")
    assert [(f["procedure"], f["finding"], f["site"]) for f in found] == [("MRI", "mass", "paravertebral")]
    assert [f["finding"] for f in findings("CXR and CT of neuroblastoma\nCT shows a calcified "
                                           "posterior mediastinal mass.")] == ["mass"]
    assert one("MRI of the brain: no lesion.")["present"] is False


def test_a_chest_radiograph_is_a_test_outside_the_model():
    assert findings("CXR shows a large posterior mediastinal mass.") == []


def test_a_heading_with_its_technique_sets_the_procedure_of_what_follows():
    """New-user report: the mIBG heading names its activity and hybrid technique; its
    negative result is the mIBG scan's, not the whole-body MRI's above it."""
    text = ("Whole-body MRI:\nLeft adrenal mass 1.1 cm, restricted diffusion.\n\n"
            "I-123 MIBG SCINTIGRAPHY (185 MBq), 24 h planar and SPECT/CT:\nNo pathological tracer uptake.\n")
    got = [(e.finding.procedure, e.finding.present) for e in extract_findings(text)]
    assert got == [("whole-body MRI", True), ("I-123 mIBG scintigraphy", False)]


def test_a_heading_with_commas_in_parentheses_ends_the_indication():
    """New-user report: 'Whole-body MRI (1.5 T, T1, STIR, DWI):' after 'Clinical information:'
    is the report's first heading, not more of the indication."""
    text = "Clinical information: OMS.\n\nWhole-body MRI (1.5 T, T1, STIR, DWI):\nRight adrenal mass 3 cm.\n"
    got = extract_findings(text)
    assert [(e.finding.procedure, e.finding.laterality, e.finding.dimensions_mm) for e in got] == [
        ("whole-body MRI", "right", (30.0,))]


# ---- short names of parts the standard names in full -----------------------------------------
def test_a_part_is_named_by_the_head_of_its_standard_term():
    from dicomtools import terms
    assert terms.lookup("site", "wrist") == "wrist joint"
    assert terms.lookup("site", "manubrium") == "manubrium of sternum"
    assert terms.lookup("site", "lower lobe") == "lower lobe of lung"
    assert terms.lookup("site", "base") is None  # "base of tongue": too generic alone
    sites = [f.get("site") for f in findings(
        "Bone scan: increased uptake in the cervical spine, wrist, ankle, and toes.")]
    assert sites == ["cervical spine", "wrist joint", "ankle joint", "toe"]
    f = one("CT: an 11 mm nodule in the left lower lobe.")
    assert (f["site"], f["laterality"]) == ("lower lobe of lung", "left")


def test_a_named_tumour_type_is_kept_as_said_and_written():
    f = one("Ultrasound: right adrenal neuroblastoma with calcifications.")
    assert (f["finding"], f["site"], f["laterality"]) == ("neuroblastoma", "adrenal gland", "right")
    assert one("CT showed a 4 cm ganglioneuroma in the posterior mediastinum.")["finding"] == "ganglioneuroma"
    assert one("MRI: a tumour in the left adrenal gland.")["finding"] == "neoplasm"
    report = Report.from_json({"procedure": "ultrasound", "impression": "abnormal", "findings": [
        findings("Ultrasound: right adrenal neuroblastoma.")[0]]})
    check_writable(report)  # a tumour type is a finding the SR can code (ICD-O-3)


# ---- labelled sections of a structured report -------------------------------------------------
def test_a_labelled_section_gives_its_place_to_the_findings_under_it():
    text = ("Thyroid Ultrasound\nFindings:\nRight thyroid lobe: Measures 5.4 x 1.9 x 2.1 cm in size.\n"
            "Nodule 1: Central midpole. Solid. Measures 1.2 x 0.8 x 1.0 cm. No echogenic foci.\n"
            "Nodule 2: Lower pole. Measures 0.4 x 0.3 x 0.3 cm.\n"
            "Left thyroid lobe: Normal.\nSmall hypoechoic nodule measuring 6 x 4 x 6 mm.\n")
    got = [(f["finding"], f.get("site"), f.get("laterality"), f.get("dimensions_mm"), f["present"])
           for f in findings(text)]
    assert got == [("nodule", "thyroid", "right", [12.0, 8.0, 10.0], True),
                   ("nodule", "thyroid", "right", [4.0, 3.0, 3.0], True),
                   ("nodule", "thyroid", "left", [6.0, 4.0, 6.0], True)]


def test_a_part_label_is_the_examined_organs_and_a_body_region_label_is_no_place():
    text = ("US: Thyroid gland\nRIGHT LOBE: 5.2 cm x 1.5 cm. No discrete nodules.\n"
            "ISTHMUS: No mass.\n")
    got = [(f["finding"], f.get("site"), f.get("laterality"), f["present"]) for f in findings(text)]
    assert got == [("nodule", "thyroid", "right", False), ("mass", "thyroid", None, False)]
    from dicomtools.text.places import label_places
    assert label_places("Left suprarenal region:") == [("adrenal gland", "left")]
    assert label_places("Abdomen:") == []  # a part of the report, not a finding's place


def test_metastatic_lesions_are_metastases_and_a_tumours_necrosis_is_no_new_finding():
    got = [(f["finding"], f.get("site"), f.get("laterality")) for f in findings(
        "CT: lytic metastatic lesions were observed in the left femur.")]
    assert got == [("metastasis", "femur", "left")]
    f = one("CT: a large right abdominal mass with some areas of tumor necrosis and heterogeneous "
            "enhancement; posterior displacement of the right kidney and encasement of the IVC "
            "(at the center of the mass).")
    assert (f["finding"], f["site"], f["laterality"]) == ("mass", "abdomen", "right")


def test_a_sequence_is_the_mr_study_and_a_definite_reference_keeps_its_antecedents_place():
    got = [(f["procedure"], f["finding"], f.get("site"), f.get("laterality"), f.get("t1_signal"))
           for f in findings("Chest ultrasound showed a round solid mass in the right hemithorax. "
                             "T1-weighted MR imaging showed the mass to have low-signal intensity.")]
    assert got == [("ultrasound", "mass", "thorax", "right", None), ("MRI", "mass", "thorax", "right", "hypo")]
    f = findings("Whole-body MRI: left paravertebral mass at T10. On T2-weighted MRI the mass is bright.")
    assert [x["procedure"] for x in f] == ["whole-body MRI"]


def test_diagnostic_reasoning_without_a_test_gives_no_finding():
    text = ("CT revealed a huge retroperitoneal tumor. She was diagnosed with neuroblastoma in childhood. "
            "Ganglioneuroma matured from neuroblastoma was considered, the most likely diagnosis. "
            "A malignant peripheral nerve sheath tumor could not be ruled out.")
    assert [(f["procedure"], f["finding"], f.get("site")) for f in findings(text)] == [
        ("CT", "neoplasm", "retroperitoneum")]


def test_a_test_outside_the_model_is_no_procedure_and_never_breaks_extraction():
    # found by blind batch 375-414: "a chest X-ray and CT revealed ..." copied the mass to the
    # X-ray, whose procedure the model does not have, and extraction raised
    text = ("Basic blood analysis, EEG and cerebral CT were normal. An opsoclonus (OMAS) was "
            "suspected and a chest X-ray and CT revealed a paravertebral thoracic mass.")
    got = [(f["procedure"], f["present"], f.get("certainty"), f["finding"], f.get("site")) for f in findings(text)]
    assert got == [("CT", False, None, "mass", "brain"), ("CT", True, "definite", "mass", "paravertebral")]


def test_a_finding_told_with_a_colon_takes_one_line_per_place():
    text = ("Technique: Whole Body Bone Scan (Tc-99m MDP)\n"
            "The scan reveals focal areas of increased radiotracer uptake involving:\n"
            "\u2022 Multiple bilateral ribs\n\u2022 Proximal left femur\n"
            "The kidneys are faintly visualized.\n")
    got = [(f["procedure"], f["finding"], f.get("site"), f.get("laterality")) for f in findings(text)]
    assert got == [("bone scintigraphy", "uptake", "rib", "bilateral"),
                   ("bone scintigraphy", "uptake", "proximal femur", "left")]


def test_a_study_that_reported_a_finding_is_no_literature_and_canal_words_are_the_spinal_canal():
    f = findings("Contrast enhanced MRI of the spine reported high T2 and low T1 signal in the T8 lesion.")
    assert [(x["procedure"], x.get("vertebral_levels"), x.get("t2_signal")) for x in f] == [("MRI", ["T8"], "hyper")]
    assert findings("Similar lesions have been reported in the literature.") == []
    f = one("MRI: an intradural extramedullary mass at C2 on the right.")
    assert (f["site"], f["laterality"]) == ("spinal canal", "right")


def test_radioiodine_scans_name_their_agent_only_when_the_text_does():
    f = findings("NaI-131 diagnostic whole body scintigraphy showed abnormal tracer uptake in both lungs.")
    assert [(x["modality"], x.get("procedure"), x.get("tracer"), x.get("site"), x.get("laterality"))
            for x in f] == [("NM", None, "sodium iodide i^131^", "lung", "bilateral")]
    f = one("A follow-up whole-body iodine-131 (I-131) scan showed a focus of uptake in the neck.")
    assert (f["modality"], f.get("tracer"), f.get("site")) == ("NM", None, "neck")
    f = one("He had ablation with 150 mCi of I-131. The I-131 whole-body scan showed uptake in the neck.")
    assert f.get("activity_mbq") is None  # a treatment dose is not the scan's activity


def test_results_said_with_on_and_studies_not_done():
    text = ("We report the case of a 23-year-old man presenting a right pheochromocytoma, falsely "
            "negative on FDG PET/CT and on MIBG scintigraphy but strongly positive on 18F-DOPA PET/CT.")
    got = [(f["modality"], f.get("procedure"), f["present"]) for f in findings(text)]
    assert got == [("PT", "FDG PET/CT", False), ("NM", "mIBG scintigraphy", False), ("PT", None, True)]
    assert findings("A preoperative bone scan had not been done as the alkaline phosphatase was normal.") == []


def test_reference_text_about_no_ones_study_gives_nothing():
    text = ("The SI of neuroblastoma on T1-weighted images is almost identical to that of the renal "
            "medulla. On T2-weighted images, neuroblastomas have an isointense SI compared to a normal "
            "kidney. In up to 84% of all cases, calcifications are present in neuroblastomas.")
    assert findings(text) == []
    # a report line naming no patient is still a report
    assert len(findings("Whole-body MRI: right adrenal mass. mIBG: negative.")) == 2


def test_an_organ_adjective_says_whose_part_it_is():
    from dicomtools.text.anatomy import open_sites
    assert [t for _, _, t in open_sites("a mass at the splenic hilum")] == ["spleen"]
    assert [t for _, _, t in open_sites("the left hilum")] == ["hilum of lung"]


def test_our_findings_ends_the_history_and_generic_role_sentences_give_nothing():
    text = ("Clinical History: 26 years male, known case of Hodgkin Lymphoma, FDG PET/CT for staging.\n"
            "Our findings: This is an abnormal baseline FDG PET/CT study.\n"
            "Hypermetabolic lymphomatous deposits in lower lobe of right lung.\n")
    f = one(text)
    assert (f["procedure"], f["site"], f["laterality"]) == ("FDG PET/CT", "lower lobe of lung", "right")
    assert findings("DOTATATE imaging plays an important role in localizing tumors such as "
                    "pheochromocytoma, paraganglioma and neuroblastoma.") == []
    # a title stays a title even when it says what a test detected
    assert findings("Occult ganglioneuroblastoma detected by whole-body MRI in a child with "
                    "opsoclonus-myoclonus syndrome: a case report") == []


def test_places_said_as_coordinated_adjectives_give_one_finding_each():
    got = [(f["present"], f["finding"], f["site"]) for f in findings(
        "FDG PET/CT: hypermetabolic cervical, axillary, mediastinal and retroperitoneal lymphadenopathy. "
        "No evidence of hypermetabolic hepatic, splenic, adrenal or marrow deposit.")]
    assert got == [(True, "lymph node", "cervical lymph node"), (True, "lymph node", "axillary lymph node"),
                   (True, "lymph node", "mediastinal lymph node"), (True, "lymph node", "retroperitoneal lymph node"),
                   (False, "lesion", "liver"), (False, "lesion", "spleen"), (False, "lesion", "adrenal gland"),
                   (False, "lesion", "bone marrow")]
    assert [f["site"] for f in findings("CT: a hypermetabolic, lobulated and enhancing mass in the liver.")] == ["liver"]


def test_a_node_named_by_its_station_has_the_station_as_its_site():
    assert one("CT: enlarged mediastinal nodes.")["site"] == "mediastinal lymph node"
    assert one("PET/CT: hilar adenopathy.")["site"] == "hilar lymph node"
    # the standard's "para-aortic lymph node of the anterior mediastinum" is not any para-aortic node
    assert one("CT: para-aortic lymphadenopathy.").get("site") != "para-aortic lymph node of the anterior mediastinum"


def test_a_report_lines_modality_code_names_its_study():
    text = ("CR - Mixed lytic and blastic distal femoral lesion.\n"
            "MR - T1-hypointense lesion of the distal femur.\n"
            "NM - Methylene disphosphonate avid lesion with no evidence of metastatic lesion.\n")
    got = [(f.get("procedure"), f["present"], f["finding"]) for f in findings(text)]
    assert got == [("MRI", True, "lesion"), ("bone scintigraphy", True, "lesion"),
                   ("bone scintigraphy", False, "metastasis")]
    assert findings(text)[1].get("tracer") == "99mTc-MDP"


def test_isotope_spellings_of_fdg_and_radioiodine_images():
    assert one("18FDG-PET/CT identified a focus of abnormal uptake in the proximal tibia.")["procedure"] == "FDG PET/CT"
    f = findings("Radiopharmaceutical: 200 mCi I-131 sodium iodide p.o.\nFindings: Anterior and posterior "
                 "whole body I- 131 images demonstrate multiple areas of increased uptake in the neck.")
    assert [(x["modality"], x.get("tracer"), x.get("site")) for x in f] == [("NM", "sodium iodide i^131^", "neck")]


def test_a_surgical_landmark_is_no_surgery_and_a_definition_is_no_finding():
    f = one("111In-Octreoscan identified a site of abnormal uptake adjacent to the resection margin "
            "in the proximal tibia.")
    assert (f["finding"], f.get("site")) == ("uptake", "tibia")
    assert findings("Phosphaturic mesenchymal tumor is a pediatric rare tumor associated with "
                    "tumor-induced osteomalacia.") == []


def test_a_revealed_diagnosis_and_metastasized_to_each_site():
    got = [(f["finding"], f.get("site"), f.get("laterality")) for f in findings(
        "An MRI of the brain, lumbar spine, and pelvis revealed the diagnosis of a left adrenal "
        "neuroblastoma that had metastasized to the femur, the lumbar spine, and the skull.")]
    assert got == [("neuroblastoma", "adrenal gland", "left"), ("metastasis", "femur", None),
                   ("metastasis", "lumbar spine", None), ("metastasis", "skull", None)]


def test_a_place_told_with_one_side_keeps_it_and_an_origin_is_the_site():
    got = [(f["site"], f.get("laterality")) for f in findings(
        "MRI: a heterogeneous mass originating from the left femur. A second image shows the mass "
        "originating from the distal femur with marrow edema.")]
    assert ("distal femur", "left") in got
    assert [(f["site"], f.get("laterality")) for f in findings(
        "CT: a mass arising from the lower pole of right kidney.")] == [("kidney", "right")]
    # levels, not sides, tell vertebrae apart
    got = [f.get("laterality") for f in findings("MRI: a lesion in the left L1 pedicle. A lesion at T5.")]
    assert got[-1] is None


def test_a_reporting_template_and_teaching_file_generalities_give_nothing():
    template = ("TECHNIQUE: [Low-dose helical CT without intravenous contrast.]\n"
                "Size: [# x # cm]\nCalcification: [none* | benign pattern | indeterminate]\n"
                "Lymph nodes: [No enlarged thoracic lymph nodes*]\nThoracic spine: [Normal*]\n")
    assert findings(template) == []
    general = ("Ultrasound is often the first radiologic exam performed on a child with an abdominal mass. "
               "Findings include a large heterogeneously hyperechoic mass. Hyperechoic shadowing foci "
               "within the mass are seen with calcification.")
    assert findings(general) == []


def test_a_lesion_told_again_without_a_place_is_the_one_before():
    got = findings("CT: a 5 cm heterogeneous mass in the left adrenal gland. A mass with coarse "
                   "calcifications encases the aorta.")
    assert [(f["finding"], f.get("site"), f.get("laterality")) for f in got] == [("mass", "adrenal gland", "left")]
    # foci of uptake come several at a time
    assert len(findings("Bone scan: increased uptake in the left femur. Increased uptake is also seen.")) == 2
