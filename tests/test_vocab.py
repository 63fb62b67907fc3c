"""Every standard code we write exists in pydicom's PS3.16 dictionaries with that meaning."""

from pydicom.sr._cid_dict import cid_concepts
from pydicom.sr._concepts_dict import concepts

from dicomtools import vocab
from dicomtools.levels import LEVEL_CODES
from dicomtools.sr.rows import ROWS
from dicomtools.sr.templates import report_templates

_MEANINGS: dict[tuple[str, str], set[str]] = {}
for _scheme, _by_name in concepts.items():
    for _name, _codes in _by_name.items():
        for _value, (_meaning, _cids) in _codes.items():
            _MEANINGS.setdefault((_scheme, _value), set()).add(_meaning.lower())

# Codes outside PS3.16 that we use on purpose (see vocab.py / sr-coding.md).
NOT_IN_PS316 = {
    ("UMLS", "C0034375"),  # TID 1500 row 12 container; in DCMTK and the HL7 SR->FHIR IG
    ("RFC5646", "en"), ("ISO3166_1", "US"),  # TID 1204 language, from RFC 5646 / ISO 3166
    ("SCT", "65985001"), ("SCT", "11808007"), ("SCT", "49967005"), ("SCT", "69950008"),
    ("SCT", "21452006"),  # S1-S5: SNOMED CT body structures not in PS3.16
    # ICD-O-3 morphology (IARC), scheme ICDO3 of PS3.16 Table 8-1; pydicom lists no ICDO3 codes
    ("ICDO3", "9500/3"), ("ICDO3", "9490/3"), ("ICDO3", "9490/0"),
    # Certainty qualifier values (children of SCT 106230009): public SNOMED CT codes used by
    # HL7 IGs; pydicom 3.0.2 lists them in no CID (anchors-2.md §3)
    ("SCT", "255545003"), ("SCT", "371930009"),
    ("RADLEX", "RPID5987"),  # RadLex Playbook "NM Whole Body MIBG" (anchors-2.md §3)
}
# In PS3.16, but TID 10022 names them "Radiopharmaceutical agent" / "Radionuclide" while
# pydicom lists the SNOMED FSNs: existence is checked, the meaning is the template's.
TEMPLATE_MEANINGS = {("SCT", "349358000"), ("SCT", "89457008")}


def all_codes():
    codes = [v for v in vars(vocab.Concept).values() if isinstance(v, vocab.Code)]
    for table in (vocab.LATERALITY, vocab.PRESENCE, vocab.CERTAINTY, vocab.FINDING_TYPES,
                  vocab.SITES, vocab.SIGNAL, vocab.ENHANCEMENT, vocab.ENHANCEMENT_PATTERN,
                  vocab.CONTRAST_AGENTS, vocab.IMPRESSION, LEVEL_CODES):
        codes.extend(table.values())
    for tracer in vocab.TRACERS.values():
        codes += [tracer.agent, tracer.nuclide]
    for proc in vocab.PROCEDURES.values():
        codes += [proc.reported, proc.performed]
    codes += [vocab.OBSERVER_PERSON, vocab.OBSERVER_DEVICE, vocab.LANGUAGE_ENGLISH,
              vocab.COUNTRY_US, vocab.UNIT_MM, vocab.UNIT_CM3, vocab.UNIT_MBQ]
    return codes


def test_standard_codes_exist_in_pydicom_with_our_meaning():
    wrong = []
    for code in all_codes():
        if code.scheme == vocab.LOCAL_SCHEME or code.key in NOT_IN_PS316:
            continue
        if code.key in TEMPLATE_MEANINGS:
            assert (code.scheme, code.value) in _MEANINGS, code
            continue
        meanings = _MEANINGS.get((code.scheme, code.value))
        if meanings is None or code.meaning.lower() not in meanings:
            wrong.append((code, sorted(meanings or [])))
    assert not wrong, wrong


def test_vertebrae_c1_to_l5_are_cid_7603():
    in_cid = {name for names in cid_concepts[7603].values() for name in names}
    from pydicom.sr.codedict import codes
    cid_values = {getattr(codes.cid7603, n).value for n in in_cid}
    for level, code in LEVEL_CODES.items():
        if level[0] != "S":
            assert code.value in cid_values, level


def test_procedure_reported_codes_are_in_cid_100():
    from pydicom.sr.codedict import codes
    cid100 = {c.value for c in (getattr(codes.cid100, n) for n in codes.cid100.dir())}
    for name, proc in vocab.PROCEDURES.items():
        assert proc.reported.value in cid100, name


def test_codes_fit_dicom_value_rules():
    for code in all_codes():
        assert code.meaning.isascii() and 0 < len(code.meaning) <= 64, code
        assert code.value and len(code.value) <= 16 and len(code.scheme) <= 16, code


def test_every_local_code_is_listed_and_unique():
    local = [c for c in all_codes() if c.scheme == vocab.LOCAL_SCHEME]
    assert {c.key for c in local} == {c.key for c in vocab.LOCAL_CODES}
    meanings = {}
    for code in local:
        assert meanings.setdefault(code.value, code.meaning) == code.meaning, code


def test_value_sets_are_unambiguous_for_the_reader():
    for row in ROWS:
        assert len(set(row.values.values())) == len(row.values), row.name
    assert {t.name for t in report_templates()} >= {
        "mri", "ct", "ultrasound", "scintigraphy", "pet", "histopathology", "generic"}
