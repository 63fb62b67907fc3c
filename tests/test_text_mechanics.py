"""Mechanics the error analysis of the blind batches found wrong (issue 10): level lists,
sequences read as levels, "both", places inside the noun, clause-bounded negation, partial
negatives."""

from __future__ import annotations

from dicomtools.text import extract_findings
from dicomtools.text.mentions import find_mentions


def findings(text: str) -> list[dict]:
    return [{k: v for k, v in e.finding.to_json().items() if v not in (None, [])}
            for e in extract_findings(text)]


def levels(text: str) -> list[list[str]]:
    return [list(m.value) for m in find_mentions(text) if m.kind == "levels"]


def test_levels_joined_by_and_are_a_list_not_a_range():
    assert levels("MRI showed a lesion with loss of height at T9 and T11") == [["T9", "T11"]]
    assert levels("MRI showed a lesion at L4 and 5") == [["L4", "L5"]]
    assert levels("MRI showed a lesion from T11-L1") == [["T11", "T12", "L1"]]
    assert levels("MRI showed a lesion at Th12/L1") == [["T12", "L1"]]


def test_t1_and_t2_are_sequences_unless_the_words_say_level():
    assert levels("MRI showed a lesion of low signal on T1 and T2 images") == []
    assert levels("MRI showed a lesion at the level of T1 and T2 vertebrae") == [["T1", "T2"]]


def test_both_is_bilateral_only_before_a_plural():
    sides = [m.value for m in find_mentions("MRI showed a mass which protrudes both into the spinal canal "
                                            "and the paraspinal region") if m.kind == "laterality"]
    assert sides == []
    assert [f["laterality"] for f in findings("MIBG showed uptake in both femora.")] == ["bilateral"]
    assert [f["laterality"] for f in findings("CT showed masses in both adrenal glands.")] == ["bilateral"]


def test_a_place_inside_a_metastatic_noun_is_its_site():
    assert [(f["finding"], f["site"]) for f in findings("CT showed metastatic liver lesions.")] == \
        [("metastasis", "liver")]
    assert [(f["site"], f["laterality"]) for f in findings("CT showed metastatic right adrenal masses.")] == \
        [("adrenal gland", "right")]


def test_a_normal_clause_of_its_own_negates_only_its_own_subject():
    found = findings("CT showed a mass in the liver, and the blood count was normal.")
    assert [(f["finding"], f["present"], f["site"]) for f in found] == [("mass", True, "liver")]
    found = findings("CT showed a mass in the liver, and the spleen was normal.")
    assert [(f["finding"], f["present"], f["site"]) for f in found] == [
        ("mass", True, "liver"), ("lesion", False, "spleen")]


def test_a_partial_negative_of_diffusion_sets_nothing():
    assert "diffusion_restricted" not in findings("MRI: Large left adrenal mass. No strong diffusion restriction.")[0]
    assert findings("MRI showed a left adrenal mass with no diffusion restriction.")[0]["diffusion_restricted"] is False
    assert findings("MRI showed a left adrenal mass with diffusion restriction.")[0]["diffusion_restricted"] is True


def test_a_negation_after_but_reaches_its_own_noun():
    found = findings("Imaging showed metastasis to the mediastinal lymph nodes, but bone metastases were not found.")
    assert [(f["finding"], f["present"], f.get("site")) for f in found][-1] == ("metastasis", False, "bone")


def test_a_diagnosis_line_names_the_case_not_a_result():
    assert findings("Diagnosis: Terminal Ileum Carcinoid Tumor.") == []
    assert findings("Radiological Diagnosis: Right carotid body tumor") == []
    # a "Diagnosis:" part that tells results is read
    found = findings("Diagnosis: CT in the local hospital did not reveal any pancreatic lesion.")
    assert [(f["present"], f["site"]) for f in found] == [(False, "pancreas")]


def test_definitions_and_footnoted_hypotheticals_are_general_text():
    assert findings("Neuroblastoma is an undifferentiated malignant tumor of the primitive neuroblasts.") == []
    assert findings("Orbital neuroblastoma is typically a metastatic tumor.") == []
    assert findings("1 When the vertebral lesion on MRI has no benign features, metastatic disease is "
                    "always a concern.") == []
    assert [f["finding"] for f in findings("MRI revealed a tumor in the left orbit.")] == ["neoplasm"]


def test_more_spellings_of_studies_and_tracers():
    cases = {
        "Bone scanning showed uptake in the right femur.": ("NM", "bone scintigraphy", None),
        "EUS showed a mass in the pancreas.": ("US", "ultrasound", None),
        "M.R.I. of the spine showed a lesion at L4.": ("MR", "MRI", None),
        "F18 NaF bone scan showed uptake in the rib.": ("PT", None, "sodium fluoride f^18^"),
        "fluorodeoxiglucose PET showed uptake in the liver.": ("PT", "FDG PET/CT", "18F-FDG"),
        "Gallium-68 DOTATE PET showed uptake in the pancreas.": ("PT", "68Ga-DOTATATE PET/CT", "68Ga-DOTATATE"),
    }
    for text, want in cases.items():
        f = findings(text)[0]
        assert (f.get("modality"), f.get("procedure"), f.get("tracer")) == want, text


def test_a_study_named_in_passing_is_not_the_one_the_next_sentence_reports():
    text = ("5.7 mCi In-111 Pentetreotide i.v.\n\nFindings:\n\nThere are innumerable foci of intense In-111 "
            "activity throughout the liver, likely corresponding to the lesions seen on the patient's recent CT "
            "exam. A focus of intense uptake is also seen in the right lower quadrant.")
    assert {f.get("modality") for f in findings(text)} == {"NM"}


def test_a_list_of_places_with_sides_is_no_normal_distribution():
    found = findings("MIBG scan showed uptake in the skull, bony pelvis, left femur, left posterior upper chest, "
                     "right anterior rib.")
    assert [(f["site"], f.get("laterality")) for f in found] == [
        ("skull", None), ("pelvis", None), ("femur", "left"), ("thorax", None), ("rib", "right")]
    assert findings("MIBG scan showed uptake in the liver, spleen, heart, salivary glands and bladder.") == []


def test_sinuses_and_a_recurrence():
    found = findings("MRI shows a solid mass lesion within right nasal cavity, right sided ethmoidal sinuses "
                     "and entire sphenoid sinus.")
    assert [f["site"] for f in found] == ["nasal cavity", "paranasal sinus"]
    assert [(f["finding"], f["present"]) for f in findings("MRI was not suggestive of recurrence.")] == \
        [("neoplasm", False)]


def test_clinical_autopsy_and_guided_procedure_sentences_are_no_imaging_findings():
    for text in ("She was found to have an abdominal mass on a well child visit.",
                 "Clinical evaluation revealed a large abdominal mass.",
                 "At autopsy, tumour deposits were found in the liver and pancreas.",
                 "Under ultrasound guidance, a needle was inserted into the liver lesion.",
                 "CT-guided biopsy of the mass was performed."):
        assert findings(text) == [], text
    assert [f["site"] for f in findings("Ultrasound showed a 3 cm liver lesion.")] == ["liver"]


def test_what_a_lesion_is_rather_than_is_not_a_finding():
    found = findings("MRI showed a lesion in the liver, favouring a hemangioma rather than metastasis.")
    assert [(f["finding"], f["site"]) for f in found] == [("lesion", "liver")]


def test_a_study_saying_no_recurrence_is_an_absent_neoplasm_an_outcome_alone_nothing():
    assert [(f["procedure"], f["finding"], f["present"]) for f in findings(
        "Follow-up sonography showed no signs of recurrence.")] == [("ultrasound", "neoplasm", False)]
    assert findings("The patient has been free of relapse for 3 years.") == []


def test_tests_named_together_with_their_nouns_and_panels_share_the_finding():
    found = findings("The CT scan (A) and MR image (B) show a large mass in the right kidney.")
    assert sorted(f["procedure"] for f in found) == ["CT", "MRI"]
    found = findings("CT scan and ultrasound of the abdomen detected a retroperitoneal tumor.")
    assert sorted((f["procedure"], f["site"]) for f in found) == [("CT", "retroperitoneum"),
                                                                  ("ultrasound", "retroperitoneum")]


def test_an_examinations_region_ends_at_its_verb():
    assert [f["site"] for f in findings("CT of the abdomen detected a retroperitoneal tumor.")] == ["retroperitoneum"]


def test_a_finding_at_that_location_is_at_the_place_named_before():
    found = findings("MRI demonstrated a lesion at C7. FDG PET showed intense uptake at that location.")
    assert [(f["procedure"], f["site"], f["vertebral_levels"]) for f in found] == [
        ("MRI", "vertebra", ["C7"]), ("FDG PET/CT", "vertebra", ["C7"])]


def signals(text: str) -> tuple:
    f = findings(text)[0]
    return f.get("t1_signal"), f.get("t2_signal")


def test_each_signal_word_binds_to_its_own_sequence():
    assert signals("MRI showed a mass which was isointense to muscle on T1WI, and hyperintense on T2WI.") == \
        ("iso", "hyper")
    assert signals("MRI shows a heterogeneously T1W and T2W hypointense mass in the nasal cavity.") == ("hypo", "hypo")
    assert signals("MRI showed a lesion, bright on T2 and dark on T1, in the frontal lobe.") == ("hypo", "hyper")
    assert signals("MRI: the mass is hypointense on T1- and T2-weighted images.") == ("hypo", "hypo")


def test_enhancement_degree_words_and_size_spellings():
    assert findings("MRI showed a mass which enhanced vividly.")[0]["enhancement"] == "strong"
    assert findings("CT showed a 6 x 6-cm mass.")[0]["dimensions_mm"] == [60.0, 60.0]
    assert findings("CT showed a mass measuring 2 centimeters.")[0]["dimensions_mm"] == [20.0]
    assert findings("CT showed a 5 millimetre nodule.")[0]["dimensions_mm"] == [5.0]


def test_relations_said_with_adverbs_or_verbs_name_no_site():
    found = findings("US showed a mass located in the mesogastrium, medially to the inferior vena cava.")
    assert [f.get("site") for f in found] == ["abdomen"]
    assert findings("The lesion splays the internal and external carotid arteries.") == []
    assert [f.get("site") for f in findings("CT showed the mass is in direct course of the left oculomotor nerve.")] \
        == [None]


def test_keyword_filters_stay_on_what_they_mean():
    # a blood pool phase is no laboratory value; a share of an organ is no cohort share
    assert [f["site"] for f in findings("The three-phase bone scan showed increased blood pool and tracer uptake "
                                         "in the left knee.")] == ["knee"]
    assert [f["site"] for f in findings("MRI showed a mass occupying the anterior 50% of the convexity in the "
                                         "frontal lobe.")] == ["frontal lobe"]
    assert findings("MIBG is positive in 90% of neuroblastomas.") == []
    # a reply about the asker's own report is no hypothetical; "if you have" is one
    assert [f["finding"] for f in findings("Your PET scan shows uptake in a lymph node near the aorta.")] == ["uptake"]
    assert findings("If you have a mass, CT will show it.") == []


def test_plain_words_for_a_mass_or_a_lesion():
    found = findings("Six months later I had a follow up ultrasound which showed a 5x5x8mm lump left in my left "
                     "thyroid bed.")
    assert [(f["finding"], f["site"], f["laterality"]) for f in found] == [("mass", "thyroid", "left")]
    assert findings("An eight-year-old female presents with abdominal lump.") == []  # felt, not imaged
    assert [f["finding"] for f in findings("A CT disclosed two opacities of tissue density in the left lung.")] == \
        ["lesion"]
    assert [f["finding"] for f in findings("The abdominal CT scan highlighted a small size formation.")] == ["lesion"]


def test_descriptive_adverbs_are_no_generic_statement():
    text = ("A young woman presented with abdominal pain.\n\nComputed tomography shows multiple mostly hypodense "
            "liver lesions embedded in both lobes. An ill-defined heterogeneously enhancing ileocecal mass is seen "
            "with adjacent large lymph nodal mass.")
    found = findings(text)
    assert [(f["procedure"], f["finding"]) for f in found][:2] == [("CT", "lesion"), ("CT", "mass")]
    assert findings("Hypodense lesions are often seen with metastases on CT.") == []


def test_a_new_case_starts_without_the_last_cases_study():
    text = ("Case 1: a 60-year-old man. 18F FDG PET/CT identified a pulmonary nodule in the left upper lobe. "
            "Case 2: an 88-year-old male was found to have a heterogeneous left-sided suprarenal mass.")
    assert [f.get("procedure") for f in findings(text)] == ["FDG PET/CT", None]


def test_indeterminate_characteristics_leave_the_mass_present():
    found = findings("CT showed a large left-sided adrenal mass with indeterminate radiological characteristics.")
    assert [(f["present"], f["certainty"]) for f in found] == [(True, "definite")]
    assert findings("CT: the adrenal lesion is indeterminate.")[0].get("present") is None


def test_a_finding_told_of_no_study_needs_the_words_of_imaging():
    story = ("I do have two primary tumors in my carotid sheath that I just had radiation therapy on. "
             "I had no more issues with tumors for many years.")
    assert findings(story) == []
    imaged = findings("A 3-year-old boy. Imaging showed a 4 cm mass in the right adrenal gland.")
    assert [(f.get("modality"), f["finding"], f["site"]) for f in imaged] == [(None, "mass", "adrenal gland")]
    assert [f["finding"] for f in findings("A 3-year-old boy. There is retrocrural adenopathy.")] == ["lymph node"]
