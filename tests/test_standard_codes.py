"""dicomtools/standard_codes.py is what tools/generate_codes.py makes from the installed
pydicom, and holds the PS3.16 concepts dicomtools looks up."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pydicom
import pytest

from dicomtools import standard_codes
from dicomtools.standard_codes import CIDS, GROUPS, PYDICOM_VERSION

ROOT = Path(__file__).resolve().parents[1]
GENERATOR = ROOT / "tools" / "generate_codes.py"
MODULE = ROOT / "dicomtools" / "standard_codes.py"


def _generator():
    spec = importlib.util.spec_from_file_location("generate_codes", GENERATOR)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _group_codes(group: str) -> dict[tuple[str, str], set[str]]:
    """(scheme, value) -> meanings (lower case) over every CID of a group."""
    out: dict[tuple[str, str], set[str]] = {}
    for cid in GROUPS[group]:
        for scheme, value, meaning in CIDS[cid][1]:
            out.setdefault((scheme, value), set()).add(meaning.lower())
    return out


def _by_meaning(group: str) -> dict[str, list[tuple[str, str]]]:
    """meaning (lower case) -> codes with that meaning in a group, in order of preference."""
    out: dict[str, list[tuple[str, str]]] = {}
    for cid in GROUPS[group]:
        for scheme, value, meaning in CIDS[cid][1]:
            codes = out.setdefault(meaning.lower(), [])
            if (scheme, value) not in codes:
                codes.append((scheme, value))
    return out


needs_same_pydicom = pytest.mark.skipif(
    pydicom.__version__ != PYDICOM_VERSION,
    reason=f"standard_codes.py was generated from pydicom {PYDICOM_VERSION}, "
           f"pydicom {pydicom.__version__} is installed: regenerate with "
           "`python tools/generate_codes.py` and review the diff",
)


@needs_same_pydicom
def test_committed_module_is_a_fresh_generation():
    assert MODULE.read_text(encoding="utf-8") == _generator().generate(), (
        "dicomtools/standard_codes.py is out of date: run `python tools/generate_codes.py`")


@needs_same_pydicom
def test_check_mode_accepts_the_committed_module():
    assert _generator().main(["--check"]) == 0


def test_module_imports_without_pydicom():
    code = ("import sys, dicomtools.standard_codes; "
            "sys.exit(any(m.startswith('pydicom') for m in sys.modules))")
    assert subprocess.run([sys.executable, "-c", code], check=False, cwd=ROOT).returncode == 0


def test_every_group_cid_exists_and_cids_are_the_groups():
    from pydicom.sr._cid_dict import name_for_cid

    grouped = {cid for cids in GROUPS.values() for cid in cids}
    assert set(CIDS) == grouped
    assert list(CIDS) == sorted(CIDS)
    for name, cids in GROUPS.items():
        assert cids, name
        assert len(set(cids)) == len(cids), name
        for cid in cids:
            keyword, codes = CIDS[cid]
            assert codes, (name, cid)
            if pydicom.__version__ == PYDICOM_VERSION:
                assert name_for_cid[cid] == keyword, (name, cid)
            for code in codes:
                assert len(code) == 3 and all(isinstance(part, str) and part for part in code)


def test_groups_the_lookup_layer_expects():
    assert set(GROUPS) >= {
        "anatomy", "laterality", "anatomic_modifier", "finding", "measurement", "derivation",
        "unit", "radiopharmaceutical", "radionuclide", "procedure", "severity",
        "enhancement_pattern", "signal", "presence", "impression"}
    assert GROUPS["laterality"][0] == 244
    assert GROUPS["anatomy"][:2] == (4, 4031)
    assert {7151, 7152, 7153, 7154, 7155, 7603}.issubset(GROUPS["anatomy"])
    assert {7470, 7471, 7472, 7469, 7180, 218}.issubset(GROUPS["measurement"])
    assert {7181, 7460, 7461, 7462, 7277, 85}.issubset(GROUPS["unit"])
    assert GROUPS["procedure"][0] == 100 and GROUPS["procedure"][-1] == 646


# Sites a neuroblastoma work-up names: term -> (code, accepted meanings). Presacral space,
# paravertebral region and posterior mediastinum (other than its lymph nodes) are not in
# pydicom 3.0.2's PS3.16 tables, so they are not asserted.
NEUROBLASTOMA_SITES = {
    "skull": (("SCT", "89546000"), {"skull"}),
    "orbit": (("SCT", "363654007"), {"orbit", "orbital structure"}),
    "clavicle": (("SCT", "51299004"), {"clavicle"}),
    "humerus": (("SCT", "85050009"), {"humerus"}),
    "femur": (("SCT", "71341001"), {"femur"}),
    "tibia": (("SCT", "12611008"), {"tibia"}),
    "pelvis": (("SCT", "816092008"), {"pelvis"}),
    "liver": (("SCT", "10200004"), {"liver"}),
    "bone marrow": (("SCT", "14016003"), {"bone marrow"}),
    "bone": (("SCT", "272673000"), {"bone"}),
    "adrenal gland": (("SCT", "23451007"), {"adrenal gland"}),
    "kidney": (("SCT", "64033007"), {"kidney"}),
    "retroperitoneum": (("SCT", "82849001"), {"retroperitoneum", "retroperitoneal space"}),
    "mediastinum": (("SCT", "72410000"), {"mediastinum"}),
    "posterior mediastinal lymph node": (("SCT", "25447008"), {"posterior mediastinal lymph node"}),
    "thorax": (("SCT", "816094009"), {"thorax"}),
    "abdomen": (("SCT", "818981001"), {"abdomen"}),
    "neck": (("SCT", "45048000"), {"neck"}),
    "chest wall": (("SCT", "78904004"), {"chest wall"}),
    "sympathetic trunk": (("SCT", "44909008"), {"sympathetic trunk"}),
    "spine": (("SCT", "421060004"), {"spine"}),
    "vertebra": (("SCT", "51282000"), {"vertebra"}),
    "T9 vertebra": (("SCT", "82687006"), {"t9 vertebra"}),
    "sacrum": (("SCT", "54735007"), {"sacrum"}),
    "brain": (("SCT", "12738006"), {"brain"}),
    "lung": (("SCT", "39607008"), {"lung"}),
}


@pytest.mark.parametrize("term", sorted(NEUROBLASTOMA_SITES))
def test_neuroblastoma_sites_are_in_anatomy_by_meaning(term):
    code, meanings = NEUROBLASTOMA_SITES[term]
    anatomy = _group_codes("anatomy")
    assert code in anatomy, term
    assert anatomy[code] & meanings, (term, anatomy[code])
    by_meaning = _by_meaning("anatomy")
    assert any(code in by_meaning.get(meaning, ()) for meaning in meanings), term


def test_name_clash_is_resolved_by_group_order():
    # "Pelvis" is SCT 816092008 (region) in CID 4 and SCT 118645006 (bony pelvis) in CID 8134.
    assert _by_meaning("anatomy")["pelvis"][0] == ("SCT", "816092008")
    assert ("SCT", "118645006") in _by_meaning("anatomy")["pelvis"]


def test_entire_body():
    assert "entire body" in _group_codes("anatomy")[("SCT", "38266002")]


def test_vertebrae_c1_to_l5():
    vertebra = {meaning for _, _, meaning in CIDS[7603][1]}
    levels = [f"C{i}" for i in range(1, 8)] + [f"T{i}" for i in range(1, 13)] + \
        [f"L{i}" for i in range(1, 6)]
    assert {f"{level} vertebra" for level in levels} <= vertebra


def test_laterality():
    laterality = _group_codes("laterality")
    for value, meaning in (("7771000", "left"), ("24028007", "right"), ("51440002", "bilateral")):
        assert meaning in laterality[("SCT", value)]


def test_units():
    units = _group_codes("unit")
    for unit in ("um2/s", "mm2/s", "10-6.mm2/s", "um2/ms", "mm", "cm3", "MBq", "g/ml{SUVbw}",
                 "[hnsf'U]"):
        assert ("UCUM", unit) in units, unit


def test_measurements():
    measurement = _group_codes("measurement")
    assert "suvbw" in measurement[("DCM", "126401")]
    assert "attenuation coefficient" in measurement[("DCM", "112031")]
    assert "apparent diffusion coefficient" in measurement[("DCM", "113041")]
    assert "diameter" in measurement[("SCT", "81827009")]
    assert "volume" in measurement[("SCT", "118565006")]


def test_derivations():
    derivation = _group_codes("derivation")
    assert "mean" in derivation[("SCT", "373098007")]
    assert "maximum" in derivation[("SCT", "56851009")]
    assert "minimum" in derivation[("SCT", "255605001")]
    assert "median" in derivation[("SCT", "373099004")]
    assert ("DCM", "126031") in derivation  # Peak Value Within ROI


def test_values_vocab_writes():
    assert "present" in _group_codes("presence")[("SCT", "52101004")]
    assert "absent" in _group_codes("presence")[("SCT", "272519000")]
    assert "imaging result normal" in _group_codes("impression")[("SCT", "408573005")]
    assert "severe" in _group_codes("severity")[("SCT", "24484000")]
    assert "hyperintense" in _group_codes("signal")[("RADLEX", "RID35805")]
    assert ("DCM", "130603") in _group_codes("enhancement_pattern")
    assert ("SCT", "395787009") in _group_codes("radiopharmaceutical")  # I-123 mIBG
    assert ("SCT", "21572004") in _group_codes("radionuclide")  # I-123
    assert ("DCM", "126022") in _group_codes("procedure")  # Multiparametric MRI of whole body
    assert ("SCT", "4147007") in _group_codes("finding")  # Mass


def test_module_is_data_only():
    public = {name for name in vars(standard_codes) if not name.startswith("_")}
    assert public == {"annotations", "PYDICOM_VERSION", "CIDS", "GROUPS"}
