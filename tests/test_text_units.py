"""dicomtools.text, step by step: sentences, mentions, assertion, extraction."""

from __future__ import annotations

import pytest

from dicomtools.text import extract_findings
from dicomtools.text.assertion import assess, find_cues
from dicomtools.text.mentions import find_mentions
from dicomtools.text.sentences import MAX_SENTENCE, normalise, split_sentences


def values(text: str, kind: str) -> list:
    return [m.value for m in find_mentions(normalise(text)) if m.kind == kind]


def only(text: str) -> dict:
    found = extract_findings(text)
    assert len(found) == 1, [f.finding for f in found]
    return {k: v for k, v in found[0].finding.to_json().items() if v not in (None, []) or k == "present"}


# ---- sentences -----------------------------------------------------------------------------
def test_sentences_keep_offsets_into_the_original():
    text = "Case 1\nA girl presented (Fig. 1). WB-MRI revealed a mass,\ne.g. here. No uptake!"
    sentences = split_sentences(text)
    assert [s.raw for s in sentences] == ["Case 1", "A girl presented (Fig. 1).",
                                         "WB-MRI revealed a mass,\ne.g. here.", "No uptake!"]
    for s in sentences:
        assert text[s.start:s.end] == s.raw


def test_page_break_inside_a_sentence_does_not_split_it():
    text = "I-123-mIBG scintigraphy did not\n\nreveal any non-physiological tracer uptake. Next."
    assert len(split_sentences(text)) == 2


def test_normalise_joins_line_end_hyphenation_but_keeps_real_hyphens():
    assert normalise("scin-\ntigraphy of the I-\n123-mIBG, T2-\nhyperintense, 2.6 ×\n1.1 cm") == \
        "scintigraphy of the I-123-mIBG, T2-hyperintense, 2.6 x 1.1 cm"


def test_runaway_sentence_is_cut():
    text = "word " * 5000
    assert all(s.end - s.start <= MAX_SENTENCE for s in split_sentences(text))


# ---- mentions ------------------------------------------------------------------------------
@pytest.mark.parametrize("text, mm", [
    ("(2.6 × 1.1 × 2.2 cm)", (26.0, 11.0, 22.0)),
    ("1.0 x 1.1 cm", (10.0, 11.0)),
    ("14 x 11 mm by approximately 24 mm craniocaudad", (14.0, 11.0, 24.0)),
    ("a 3-cm mass", (30.0,)),
    ("measuring 2,5 cm", (25.0,)),
    ("12 mm x 8 mm", (12.0, 8.0)),
])
def test_sizes_are_mm_in_reported_order(text, mm):
    assert values(text, "size") == [mm]


@pytest.mark.parametrize("text", ["2 ml gadolinium compound", "3 x 4", "48,000 cells per ul",
                                  "at the age of 13 years"])
def test_not_sizes(text):
    assert values(text, "size") == []


@pytest.mark.parametrize("text, levels", [
    ("at the level of thoracic vertebrae T 9/10", [("T9", "T10")]),
    ("at the level of T11 to L1", [("T11", "T12", "L1")]),
    ("extending from T10 to L2", [("T10", "T11", "T12", "L1", "L2")]),
    ("at the level of T1 and T2", [("T1", "T2")]),
    ("in the L2 vertebral body", [("L2",)]),
    ("hyperintense in T1 and T2 weighted sequences", []),
    ("a T2 hyperintense mass", []),
])
def test_vertebral_levels(text, levels):
    assert values(text, "levels") == levels


@pytest.mark.parametrize("text, mbq", [
    ("with 60 mBq I-123-mIBG", 60.0),  # the seed's typo: mBq means MBq
    ("after injection of 5 mCi", 185.0),
    ("0.2 GBq", 200.0),
])
def test_activity_in_mbq(text, mbq):
    assert [v[0] for v in values(text, "activity")] == [mbq]


def test_activity_per_kg_is_not_an_administered_activity():
    assert values("5.2 MBq/kg", "activity") == []


@pytest.mark.parametrize("text, proc", [
    ("I-123-mIBG scintigraphy", "I-123 mIBG scintigraphy"),
    ("123I-MIBG", "I-123 mIBG scintigraphy"),
    ("[123I]mIBG SPECT/CT", "I-123 mIBG scintigraphy"),
    ("iodine-131 metaiodobenzylguanidine", "I-131 mIBG scintigraphy"),
    ("99 m-Tc-Anti-GD2 immunoscintigraphy", "99mTc anti-GD2 immunoscintigraphy"),
    ("68Ga-DOTA NOC PET/CT", "68Ga-DOTANOC PET/CT"),
    ("[18F]MFBG PET", "18F-MFBG PET"),
    ("18F-FDG PET/CT", "FDG PET/CT"),
    ("Tc-99m MDP bone scan", "bone scintigraphy"),
    ("WB-MRI", "whole-body MRI"),
    ("whole body MRI", "whole-body MRI"),
    ("contrast-enhanced CT", "CT"),
    ("abdominal ultrasonography", "ultrasound"),
])
def test_procedures(text, proc):
    assert values(text, "procedure") == [proc]


def test_sequence_names_are_not_studies():
    # a sequence is a part of the MR study being read (resolved by the reader), not a new study
    assert values("in the diffusion weighted MRI", "procedure") == ["MR sequence"]
    assert values("in the diffusion weighted CT", "procedure") == []


def test_t1_brightness_after_contrast_is_enhancement_not_signal():
    f = only("WB-MRI showed a paravertebral mass. Strong enhancement with hyperintensity could be "
             "detected in the T1 weighted sequence after the administration of gadolinium.")
    assert "t1_signal" not in f and f["enhancement"] == "strong" and f["contrast_agent"] == "gadolinium"


def test_sequence_name_alone_is_not_a_signal():
    f = only("T2-weighted images showed a mass in the left adrenal gland on MRI.")
    assert "t2_signal" not in f
    f = only("T2-weighted images showed a hyperintense mass in the left adrenal gland on MRI.")
    assert f["t2_signal"] == "hyper"


@pytest.mark.parametrize("text, expected", [
    ("hyperintense in T1 and T2 weighted sequences", {"t1_signal": "hyper", "t2_signal": "hyper"}),
    ("T1 isointense and T2 hyperintense", {"t1_signal": "iso", "t2_signal": "hyper"}),
    ("hypointense on T1-weighted and hyperintense on T2-weighted images",
     {"t1_signal": "hypo", "t2_signal": "hyper"}),
    ("remarkable hyperintensity in T2", {"t2_signal": "hyper"}),
    ("low T1 signal", {"t1_signal": "hypo"}),
])
def test_native_signal(text, expected):
    f = only(f"MRI showed a left adrenal mass, {text}.")
    assert {k: f.get(k) for k in expected} == expected


@pytest.mark.parametrize("text, restricted, adc", [
    ("with low ADC in diffusion imaging", True, None),
    ("with partially restricted diffusion", True, None),
    ("without diffusion restriction", False, None),
    ("with restricted diffusion (ADC 0.78 x 10-3 mm2/s)", True, (0.78, "10-3.mm2/s")),
    ("with a mean ADC value of 650 × 10^-6 mm²/s", None, (650.0, "10-6.mm2/s")),
])
def test_diffusion_and_adc(text, restricted, adc):
    f = only(f"MRI showed a left adrenal mass {text}.")
    assert f.get("diffusion_restricted") == restricted
    assert ((f["adc_value"], f["adc_unit"]) if "adc_value" in f else None) == adc


@pytest.mark.parametrize("text, degree, pattern", [
    ("strong diffuse enhancement", "strong", "diffuse"),
    ("vigorous contrast enhancement", "strong", None),
    ("mild heterogeneous enhancement", "mild", "heterogeneous"),
    ("a heterogeneously enhancing", None, "heterogeneous"),
    ("no enhancement", "none", None),
])
def test_enhancement(text, degree, pattern):
    f = only(f"CT showed a left adrenal mass with {text}.")
    assert (f.get("enhancement"), f.get("enhancement_pattern")) == (degree, pattern)


# ---- assertion -------------------------------------------------------------------------------
def state(sentence: str, target: str) -> tuple:
    clean = normalise(sentence)
    start = clean.index(target)
    return assess(find_cues(clean), start, start + len(target))


@pytest.mark.parametrize("sentence, target, expected", [
    ("No abnormal uptake.", "uptake", (False, None)),  # medspaCy misses this (medspacy#52)
    ("There is no focal uptake.", "uptake", (False, None)),
    ("The scan did not reveal any non-physiological tracer uptake.", "uptake", (False, None)),
    ("Scintigraphy revealed no abnormality.", "abnormality", (False, None)),
    ("No pathological tracer uptake could be detected.", "uptake", (False, None)),
    ("A mass was not seen.", "mass", (False, None)),
    ("The study is negative for tumor.", "tumor", (False, None)),
    ("A small mass cannot be excluded.", "mass", (True, "possible")),
    ("Metastasis is not excluded.", "Metastasis", (True, "possible")),
    ("Possible mass in the pelvis.", "mass", (True, "possible")),
    ("Findings suspicious for a tumor.", "tumor", (True, "possible")),
    ("Uptake was weakly positive.", "Uptake", (True, "possible")),
    ("Equivocal uptake in the adrenal.", "uptake", (None, None)),
    ("Uptake in the adrenal was inconclusive.", "Uptake", (None, None)),
    ("No change in the size of the mass.", "mass", (True, "definite")),
    ("The CT not only confirmed the mass but also nodes.", "mass", (True, "definite")),
    ("No uptake in the liver, but a mass in the adrenal.", "mass", (True, "definite")),
    ("A mass suspicious for neuroblastoma.", "mass", (True, "definite")),
    ("Liver lesions, probably metastases.", "lesions", (True, "definite")),
])
def test_assertion(sentence, target, expected):
    assert state(sentence, target) == expected


# ---- extraction ------------------------------------------------------------------------------
def test_negative_scintigraphy_is_one_whole_body_uptake_finding():
    f = only("Whole-body I-123-mIBG scintigraphy with 60 mBq I-123-\nmIBG did not reveal any "
             "pathological tracer uptake (a).")
    assert f == {"modality": "NM", "procedure": "I-123 mIBG scintigraphy", "present": False,
                 "finding": "uptake", "site": "whole body", "tracer": "I-123 mIBG",
                 "activity_mbq": 60.0}


def test_study_level_statements():
    assert only("A 99 m-Tc-Anti-GD2 immunoscintigraphy, performed at the time of diagnosis, "
                "was negative.")["present"] is False
    f = only("Immunoscintigraphy at the time of diagnosis was inconclusive.")
    assert f["present"] is None and f["site"] == "whole body"
    f = only("Abdominal ultrasound was unremarkable.")
    assert (f["procedure"], f["finding"], f["site"], f["present"]) == ("ultrasound", "mass", "abdomen", False)


def test_two_lesions_in_one_paragraph():
    found = extract_findings("CT of the abdomen showed a 4.5 × 3.8 cm mass arising from the right "
                             "adrenal gland. A second lesion, 1.2 cm, was seen in the liver.")
    assert [(f.finding.finding, f.finding.site, f.finding.dimensions_mm) for f in found] == [
        ("mass", "adrenal gland", (45.0, 38.0)), ("lesion", "liver", (12.0,))]


def test_relational_site_is_not_the_finding_site():
    f = only("WB-MRI showed a mass adjacent to the upper pole of the left kidney, consistent with "
             "a neuroblastic tumor of the left adrenal gland.")
    assert (f["finding"], f["site"], f["laterality"]) == ("mass", "adrenal gland", "left")


def test_provenance_points_at_the_sentence():
    text = "Intro text here.\nWB-MRI revealed a left-sided paravertebral\nmass (2 cm). Done."
    (item,) = extract_findings(text)
    assert text[item.start:item.end] == item.sentence
    assert item.sentence.startswith("WB-MRI revealed") and item.sentence.endswith("(2 cm).")
    assert item.to_json()["evidence"][0]["start"] == item.start


@pytest.mark.parametrize("text", [
    "Physiological uptake was noted in the heart, liver and bowel.",
    "Urinary catecholamine excretion revealed no pathological increase.",
    "MIBG scintigraphy was positive in 12 of 15 patients (80%).",
    "Histology of the resected mass showed a mature ganglioneuroma.",
    "Based on clinical presentation the patient was suspicious for a neuroblastic tumor and a "
    "WB-MRI was performed.",
    "Chest X-ray showed no abnormalities.",
    "",
])
def test_not_imaging_findings(text):
    assert extract_findings(text) == []


def test_caption_and_text_of_one_lesion_merge():
    text = ("WB-MRI revealed a left-sided paravertebral mass (2.6 x 1.1 x 2.2 cm). "
            "WB-MRI revealed a solid left-sided paravertebral mass with strong enhancement.")
    (item,) = extract_findings(text)
    assert item.finding.dimensions_mm == (26.0, 11.0, 22.0) and item.finding.enhancement == "strong"
    assert len(item.evidence) == 2


def test_negated_predicate_and_activity_in_its_own_sentence():
    found = extract_findings("The tumor was not MIBG avid.")
    assert [(f.finding.finding, f.finding.present) for f in found] == [("neoplasm", True), ("uptake", False)]
    f = only("I-123 MIBG scintigraphy was performed. The administered activity was 185 MBq. "
             "No abnormal uptake was seen.")
    assert (f["present"], f["site"], f["activity_mbq"]) == (False, "whole body", 185.0)


def test_list_of_tests_sharing_one_negative_verb():
    found = extract_findings("Chest X-ray, ultrasound, and MIBG scintigraphy revealed no abnormalities.")
    assert [(f.finding.procedure, f.finding.present) for f in found] == [
        ("ultrasound", False), ("mIBG scintigraphy", False)]  # no isotope said: none invented


# ---- the open vocabulary in prose (issue 10's first classes) ------------------------------
@pytest.mark.parametrize("text, site, side", [
    ("MRI revealed a 3 cm mass in the left clavicle.", "clavicle", "left"),
    ("CT showed a lesion of the right humerus.", "humerus", "right"),
    ("MRI showed a mass in the gallbladder.", "gallbladder", None),
])
def test_sites_outside_the_hand_kept_list_come_from_the_generated_tables(text, site, side):
    (found,) = extract_findings(text)
    assert (found.finding.site, found.finding.laterality) == (site, side)


def test_lowercase_mixed_case_word_starts_a_sentence():
    """'mIBG' after a full stop or a line break starts a new sentence: the MRI finding stays
    an MRI finding (it used to be glued to the mIBG sentence and become an mIBG mass)."""
    for text in ("Whole-body MRI: right adrenal mass. mIBG: negative.",
                 "Whole-body MRI: right adrenal mass.\nmIBG: negative."):
        mri = [f.finding for f in extract_findings(text) if f.finding.present]
        assert [(f.procedure, f.site, f.laterality) for f in mri] == [
            ("whole-body MRI", "adrenal gland", "right")], text


def test_bracketed_isotopes_read_as_their_hyphenated_form():
    from dicomtools.text.sentences import normalise
    assert normalise("[18F]DOPA PET/CT") == "18F-DOPA PET/CT"
    assert normalise("a [123I]I-MIBG scan and [68Ga]Ga-DOTATATE") == "a 123I-MIBG scan and 68Ga-DOTATATE"
    assert normalise("(123)I-MIBG") == "123I-MIBG"
    assert normalise("as in [12] and (3)") == "as in [12] and (3)"
    assert values("He underwent an integrated [18F]DOPA PET/CT scan.", "procedure") == ["18F-DOPA"]
