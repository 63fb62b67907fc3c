"""No patient data in messages (issue 14): validator lines masked, library warnings captured,
file names escaped; a planted name and ID never reach `validate` or `concordance` output."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

import pydicom
import pytest
from conftest import require_tool

from dicomtools.phi import mask_library_message, mask_line, patient_values, printable

NAME = "Plantedname^Secretgiven^Aa^Bb^Cc^Dd"  # six components: invalid PN
LONG_ID = "PLANTEDID" + "7" * 70               # 79 characters: invalid LO
CTRL_ID = "PLANTEDCTL\x01ID"                    # a control character: invalid LO
PLANTED = ("Plantedname", "Secretgiven", "PLANTEDID", "PLANTEDCTL", "7777777")
STRICT = {**os.environ, "PYTHONIOENCODING": "utf-8:strict"}

DCIODVFY = [
    ("Error - Value invalid for this VR - (0x0010,0x0010) PN Patient's Name  PN [1] = "
     "<Doe^John^A^B^C^D> - Too many delimiters (^) in PersonName",
     "Error - Value invalid for this VR - (0x0010,0x0010) PN Patient's Name  PN [1] = <***> "
     "- Too many delimiters (^) in PersonName"),
    ("Error - Value invalid for this VR - (0x0010,0x0020) LO Patient ID  LO [1] = "
     "<ABC1234567890> - Length invalid for this VR = 80, expected <= 64",
     "Error - Value invalid for this VR - (0x0010,0x0020) LO Patient ID  LO [1] = <***> "
     "- Length invalid for this VR = 80, expected <= 64"),
    ("Error - Value invalid for this VR - (0x0010,0x1000) LO Other Patient IDs  LO [1] = "
     "<OTHER\x01X> - Character invalid for this VR = '\x01' (0x1)",
     "Error - Value invalid for this VR - (0x0010,0x1000) LO Other Patient IDs  LO [1] = <***> "
     "- Character invalid for this VR = '***' (0x1)"),
    ("Error - Value invalid for this VR - (0x0010,0x0030) DA Patient's Birth Date  DA [1] = "
     "<20131345> - Character invalid for this VR = '4' (0x34)",
     "Error - Value invalid for this VR - (0x0010,0x0030) DA Patient's Birth Date  DA [1] = "
     "<***> - Character invalid for this VR = '***' (0x34)"),
    ("Error - Unrecognized enumerated value <XQZ> for value 1 of attribute <Patient's Sex>",
     "Error - Unrecognized enumerated value <***> for value 1 of attribute <Patient's Sex>"),
    ("Error - Value invalid for this VR - (0x0008,0x0050) SH Accession Number  SH [1] = "
     "<ACC123456789012345> - Length invalid for this VR = 18, expected <= 16",
     "Error - Value invalid for this VR - (0x0008,0x0050) SH Accession Number  SH [1] = <***> "
     "- Length invalid for this VR = 18, expected <= 16"),
]
UNCHANGED = [
    "W: PatientName (0010,0010) violates VR definition in PatientModule",
    "Error - Bad attribute Value Multiplicity Type 2 Required Element=<PatientID> Module=<Patient>",
    "Warning - Unrecognized defined term <99DCMTLS> for value 1 of attribute <Coding Scheme Designator>",
    "Error - Value invalid for this VR - (0x0008,0x0020) DA Study Date  DA [1] = <2015-01-01> - "
    "Length invalid",
    "Warning: 1.7.1.5: /CONTAINER (126000,DCM,\"Imaging Measurement Report\"): Content Item not in template",
]


@pytest.mark.parametrize("line,masked", DCIODVFY)
def test_validator_lines_have_patient_values_masked(line, masked):
    assert mask_line(line) == masked


@pytest.mark.parametrize("line", UNCHANGED)
def test_other_lines_keep_their_values(line):
    assert mask_line(line) == line


def test_known_values_are_masked_whatever_the_format():
    line = "Error: attribute 0010 holds Doe^John in an unexpected place"
    assert mask_line(line, ("Doe^John", "John")) == "Error: attribute 0010 holds *** in an unexpected place"


def test_library_messages_lose_quoted_values():
    assert mask_library_message("Invalid value for VR PN: 'Doe^John'.") == \
        "Invalid value for VR PN: '***'."
    assert mask_library_message('Value "Doe\'s" is not valid for elements with a VR of DS') == \
        'Value "***" is not valid for elements with a VR of DS'
    assert mask_library_message("The value length (80) exceeds the maximum length of 64 allowed "
                                "for VR LO.") == \
        "The value length (80) exceeds the maximum length of 64 allowed for VR LO."


def test_printable_escapes_undecodable_bytes_and_control_characters():
    assert printable("plain name.dcm") == "plain name.dcm"
    assert printable(os.fsdecode(b"a\xffb")) == "a\\xffb"
    assert printable(b"a\xffb\nc") == "a\\xffb\\nc"
    assert printable("x\x1b[31my\tz\u202e") == "x\\x1b[31my\\tz\\u202e"
    assert printable("M\u00fcller \U0001F600") == "M\u00fcller \U0001F600"
    printable(os.fsdecode(b"\xed\xa0\x80\xc3\x28")).encode("utf-8")  # always encodable


def _planted(src: Path, dst: Path, **values) -> Path:
    from pydicom import config
    from pydicom.uid import generate_uid
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds = pydicom.dcmread(src)
        ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
        for keyword, value in values.items():
            setattr(ds, keyword, value)
        old, config.settings.writing_validation_mode = config.settings.writing_validation_mode, 0
        try:
            ds.save_as(dst)
        finally:
            config.settings.writing_validation_mode = old
    return dst


@pytest.fixture()
def planted(seed_srs, tmp_path) -> list[Path]:
    folder = tmp_path / "planted"
    folder.mkdir()
    return [
        _planted(seed_srs["case1/wbmri"], folder / "long.dcm", PatientName=NAME, PatientID=LONG_ID),
        _planted(seed_srs["case1/mibg"], folder / "ctrl.dcm", PatientName="Plantedname" * 7,
                 PatientID=CTRL_ID, OtherPatientIDs="PLANTEDID-OTHER\x02",
                 PatientBirthDate="20131345"),
    ]


def test_patient_values_are_read_without_warnings(planted):
    ds = pydicom.dcmread(planted[0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        values = patient_values(ds)
    assert LONG_ID in values and NAME in values and "Secretgiven" in values


def _run(*args):
    proc = subprocess.run([sys.executable, "-m", "dicomtools", *map(str, args)],
                          capture_output=True, text=True, timeout=300, env=STRICT)
    return proc


def _assert_clean(proc):
    text = proc.stdout + proc.stderr
    leaked = [p for p in PLANTED if p.lower() in text.lower()]
    assert not leaked, (leaked, text)
    assert "UserWarning" not in proc.stderr and "warn_and_log" not in proc.stderr, proc.stderr


def test_planted_name_and_id_never_reach_validate_output(planted):
    require_tool("dciodvfy")
    require_tool("dsrdump")
    for path in planted:
        text = _run("validate", path, "--skip", "pixelmed")
        _assert_clean(text)
        assert text.returncode == 5 and "<***>" in text.stdout, text.stdout
        as_json = _run("validate", path, "--skip", "pixelmed", "--json")
        _assert_clean(as_json)
        messages = [p["message"] for p in json.loads(as_json.stdout)["problems"]]
        assert any("Patient ID" in m and "<***>" in m for m in messages), messages


def test_planted_name_and_id_never_reach_concordance_output(planted, tmp_path):
    for fmt in ("md", "json", "csv", "html"):
        proc = _run("concordance", planted[0].parent, "--format", fmt)
        assert proc.returncode == 0, proc.stderr
        _assert_clean(proc)
    proc = _run("concordance", planted[0].parent, "-o", tmp_path / "table.html")
    _assert_clean(proc)
    page = (tmp_path / "table.html").read_text()
    assert not [p for p in PLANTED if p.lower() in page.lower()]


def test_validate_library_warnings_are_ours_and_masked(planted, monkeypatch, caplog):
    import importlib

    from pydicom.misc import warn_and_log
    validate_module = importlib.import_module("dicomtools.sr.validate")
    real = validate_module.open_dicom

    def noisy(path):
        warn_and_log(f"Invalid value for VR LO: {LONG_ID!r}.")
        return real(path)
    monkeypatch.setattr(validate_module, "open_dicom", noisy)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = validate_module.validate(planted[0], ("dicomtools",))
    messages = [p.message for p in result.problems if p.tool == "pydicom"]
    assert messages == ["while reading: Invalid value for VR LO: '***'."], result.problems
    assert "PLANTEDID" not in caplog.text


def test_pixelmed_messages_are_masked(planted):
    """Slow (a JVM per file): PixelMed's lines go through the same masking."""
    from dicomtools.sr.validate import PIXELMED_JARS, check_pixelmed
    require_tool("java")
    require_tool("pixelmed.jar", PIXELMED_JARS[0])
    ds = pydicom.dcmread(planted[0])
    problems = check_pixelmed(planted[0], patient_values(ds))
    text = "\n".join(p.message for p in problems)
    assert not [p for p in PLANTED if p.lower() in text.lower()], text


def test_a_short_name_part_is_masked_as_a_word_not_inside_other_words():
    from dicomtools.phi import mask_line
    line = "Error - DS Referenced Time Offsets: patient <S R^Test>; S R again"
    masked = mask_line(line, ["S R", "S R^Test"])
    assert "DS Referenced Time Offsets" in masked and "S R" not in masked.replace("DS Referenced", "")
