"""docs/codes.md is generated from the vocabulary and must be current; the open vocabulary
accepts the spellings users write."""

import subprocess
import sys
from pathlib import Path

import pytest

from dicomtools import terms
from dicomtools.errors import InputError
from dicomtools.levels import expand_levels
from dicomtools.model import Finding, Report

ROOT = Path(__file__).resolve().parents[1]


def test_codes_doc_is_current():
    proc = subprocess.run([sys.executable, str(ROOT / "tools" / "document_codes.py"), "--check"],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize("spelling, term", [
    ("Adrenal-Gland", "adrenal gland"), ("suprarenal", "adrenal gland"), ("clavicle", "clavicle"),
    ("Humerus", "humerus"), ("paraspinal", "paravertebral"), ("LIVER", "liver")])
def test_sites_match_ignoring_case_hyphens_and_synonyms(spelling, term):
    assert Finding(site=spelling).site == term


def test_any_coded_site_is_kept_as_its_code():
    finding = Finding(site={"code": "12345678", "scheme": "99LOCAL", "meaning": "Presacral space"})
    assert finding.site.meaning == "Presacral space"
    assert Finding.from_json(finding.to_json()) == finding


def test_procedure_spelled_like_the_tracer_is_accepted():
    report = Report.from_json({"procedure": "99mTc-anti-GD2 immunoscintigraphy", "findings": []})
    assert report.procedure == "99mTc anti-GD2 immunoscintigraphy"


def test_bare_mibg_names_no_isotope():
    assert terms.lookup("tracer", "mIBG") is None
    with pytest.raises(InputError, match="tracer"):
        Finding(tracer="mIBG")


@pytest.mark.parametrize("text, levels", [("Th12/L1", ("T12", "L1")), ("Th12-L1", ("T12", "L1")),
                                          ("Th 9", ("T9",))])
def test_th_levels(text, levels):
    assert expand_levels(text) == levels


def test_equivalent_unit_spellings_are_one_unit():
    assert terms.same_unit("ml", "cm3") and terms.same_unit("um2/s", "10-6.mm2/s")
    assert terms.unit_code("HU").value == "[hnsf'U]"
    assert not terms.same_unit("mm", "cm")


def test_t2_is_not_t2_star():
    assert terms.lookup("measurement", "T2") != terms.lookup("measurement", "T2*")


def test_finding_types_are_not_sites():
    for word in ("mass", "lesion", "nodule", "metastasis"):
        assert terms.lookup("site", word) is None, word
    assert terms.lookup("site", "heart") == "heart"
