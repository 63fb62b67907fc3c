"""Generate ``dicomtools/standard_codes.py`` from pydicom's PS3.16 tables.

pydicom ships the DICOM Content Mapping Resource (PS3.16) as two dictionaries:
``pydicom.sr._cid_dict`` (CID -> scheme -> concept keywords) and
``pydicom.sr._concepts_dict`` (scheme -> keyword -> {code value: (meaning, CIDs)}). The
second is large and slow to import, so dicomtools never imports it at run time; this script
copies the CIDs dicomtools needs into a small, committed, generated module instead.

    python tools/generate_codes.py            rewrite dicomtools/standard_codes.py
    python tools/generate_codes.py --check    exit 1 if the committed file is not what the
                                              installed pydicom generates

The output is deterministic: CIDs sorted by number, each CID's codes in pydicom's order
(scheme by scheme, concept by concept), groups in the order declared below.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUTPUT = ROOT / "dicomtools" / "standard_codes.py"
COMMAND = "python tools/generate_codes.py"

# Which CIDs feed which lookup table, in order of preference: when two CIDs give one name to
# different codes, the first CID wins. CIDs that are exact subsets of an earlier one are left
# out when they add nothing (7192 and 9514 are the anatomic part of 7151; 4030 and 4009 lie
# inside CID 4). pydicom 3.0.2 has no generic certainty CID (Definite / Possible / Probable
# occur only in CID 3714 Thrombus), so there is no "certainty" group; CID 101 Imaging
# Procedure is empty in pydicom (PS3.16 defines it by SNOMED CT hierarchy), so it is absent.
GROUPS: dict[str, tuple[int, ...]] = {
    "anatomy": (
        4,      # Anatomic Region
        4031,   # Common Anatomic Region
        7603,   # Vertebra
        7602,   # Vertebral Anatomic Structure
        7600,   # Lymph Node Anatomic Site
        7151,   # Segmentation Property Type (all of it, tissue types and lesions included)
        7152,   # Cardiac Structure Segmentation Type
        7153,   # CNS Segmentation Type
        7154,   # Abdominal Segmentation Type
        7155,   # Thoracic Segmentation Type
        7156,   # Vascular Segmentation Type
        7160,   # Pelvic Organ Segmentation Type
        7166,   # Common Tissue Segmentation Type
        7167,   # Peripheral Nervous System Segmentation Type
        7171,   # Liver Segmentation Type
        7191,   # Tissue Segmentation Property Type
        10044,  # Radiosensitive Organ (bone marrow)
        10060,  # Organ for Radiation Dose Estimate
        7304,   # Implant Target Anatomy (tibia, bony pelvis, parts of long bones)
        6115,   # Osseous Anatomy Modifier (parts of vertebrae, ribs, scapula)
        1001,   # Anatomical Reference Basis (intervertebral disc levels)
        8134,   # Anatomic Structure (the broad pathology list: chest wall, bone, nerves)
    ),
    "laterality": (
        244,  # Laterality
        245,  # Laterality with Median
        247,  # Laterality Left-Right Only
        246,  # Relative Laterality
    ),
    "anatomic_modifier": (
        2,    # Anatomic Modifier
        212,  # Generic Anatomic Location Modifier
    ),
    "finding": (
        7159,  # Lesion Segmentation Type
        7194,  # Morphologically Abnormal Structure Segmentation Property Type
        7199,  # Anatomically Localized Lesion Segmentation Type
        6336,  # MRI Abnormality
        7150,  # Segmentation Property Category
    ),
    "measurement": (
        7470,  # Linear Measurement
        7471,  # Area Measurement
        7472,  # Volume Measurement
        7469,  # Generic Intensity and Size Measurement (SUVbw, Attenuation Coefficient, ADC)
        7466,  # PET Region of Interest Measurement
        6141,  # Attenuation Coefficient Measurement (HU statistics)
        7272,  # MR Diffusion Model Parameter
        6311,  # MR Signal Intensity
        7180,  # Abstract Multi-dimensional Image Model Component Semantic
        218,   # Quantitative Image Feature
    ),
    "derivation": (
        7464,  # General Region of Interest Measurement Modifier
        3488,  # Min/Max/Mean
        7465,  # Measurement Derived From Multiple ROI Measurements
        3838,  # Diameter Derivation
    ),
    "unit": (
        7460,   # Linear Measurement Unit
        7461,   # Area Measurement Unit
        7462,   # Volume Measurement Unit
        7277,   # Diffusion Rate Area Over Time Unit
        3083,   # Unit Radioactivity
        85,     # SUV Unit
        84,     # PET Unit
        83,     # Real World Value Mapping Unit
        301,    # Multi-energy Material Unit (Hounsfield unit)
        7181,   # Abstract Multi-dimensional Image Model Component Unit
        7183,   # Abstract Multi-dimensional Image Model Dimension Unit
        7063,   # Model Scale Unit
        7456,   # Age Unit
        6046,   # Follow-up Interval Unit
        10071,  # Radiation Dose Unit
    ),
    "radiopharmaceutical": (
        25,    # Radiopharmaceutical
        4021,  # PET Radiopharmaceutical
    ),
    "radionuclide": (
        18,    # Radiopharmaceutical Isotope
        4020,  # PET Radionuclide
    ),
    "procedure": (
        100,   # Quantitative Diagnostic Imaging Procedure
        3108,  # NM/PET Procedure
        646,   # Preclinical Small Animal Imaging Procedure (last: preclinical)
    ),
    "severity": (
        3716,  # Severity
    ),
    "enhancement_pattern": (
        6345,  # MRI Enhancement Pattern
    ),
    "signal": (
        6343,  # MRI Signal Characteristic
    ),
    "presence": (
        240,  # Present-Absent
        241,  # Present-Absent Only
        230,  # Yes-No
        231,  # Yes-No Only
    ),
    "impression": (
        3209,  # Stress Imaging Summary Code (Imaging result normal / abnormal / equivocal)
        242,   # Normal-Abnormal
        222,   # Normality
    ),
}


def _literal(text: str) -> str:
    """A Python string literal, double-quoted when that needs no escape."""
    if text.isprintable() and '"' not in text and "\\" not in text:
        return f'"{text}"'
    return repr(text)


def collect() -> tuple[str, dict[int, tuple[str, tuple[tuple[str, str, str], ...]]]]:
    """(pydicom version, {cid: (keyword, ((scheme, value, meaning), ...))}) for GROUPS."""
    import pydicom
    from pydicom.sr._cid_dict import cid_concepts, name_for_cid
    from pydicom.sr._concepts_dict import concepts

    cids: dict[int, tuple[str, tuple[tuple[str, str, str], ...]]] = {}
    for cid in sorted({c for group in GROUPS.values() for c in group}):
        if cid not in name_for_cid:
            raise SystemExit(f"CID {cid} is not in pydicom {pydicom.__version__}")
        codes: list[tuple[str, str, str]] = []
        seen: set[tuple[str, str]] = set()
        for scheme, keywords in cid_concepts[cid].items():
            for keyword in keywords:
                for value, (meaning, _) in concepts[scheme][keyword].items():
                    if (scheme, value) not in seen:
                        seen.add((scheme, value))
                        codes.append((scheme, value, meaning))
        if not codes:
            raise SystemExit(f"CID {cid} {name_for_cid[cid]} has no codes in pydicom")
        cids[cid] = (name_for_cid[cid], tuple(codes))
    return pydicom.__version__, cids


def render(version: str, cids: dict[int, tuple[str, tuple[tuple[str, str, str], ...]]]) -> str:
    out = [
        f"# GENERATED from pydicom {version}'s PS3.16 tables by tools/generate_codes.py.",
        f"# Do not edit: change tools/generate_codes.py and run `{COMMAND}`",
        f"# (`{COMMAND} --check` verifies this file against the installed pydicom).",
        '"""DICOM PS3.16 context groups (CIDs) dicomtools looks codes up in.',
        "",
        "Data only, no imports: a small copy of pydicom's PS3.16 dictionaries, whose full",
        "form (pydicom.sr._concepts_dict) is too big to import at run time.",
        '"""',
        "",
        "from __future__ import annotations",
        "",
        f"PYDICOM_VERSION = {_literal(version)}",
        "",
        "# cid -> (pydicom keyword of the CID, ((scheme, code value, code meaning), ...)) in pydicom's order",
        "CIDS: dict[int, tuple[str, tuple[tuple[str, str, str], ...]]] = {",
    ]
    for cid, (keyword, codes) in cids.items():
        out.append(f"    {cid}: ({_literal(keyword)}, (")
        for scheme, value, meaning in codes:
            out.append(f"        ({_literal(scheme)}, {_literal(value)}, {_literal(meaning)}),")
        out.append("    )),")
    out += [
        "}",
        "",
        "# which tables each group of CIDs feeds, in order of preference (first CID wins on a name clash)",
        "GROUPS: dict[str, tuple[int, ...]] = {",
    ]
    for name, group in GROUPS.items():
        line = f"    {_literal(name)}: ({', '.join(map(str, group))}{',' if len(group) == 1 else ''}),"
        if len(line) <= 100:
            out.append(line)
        else:  # one CID per line keeps the file within the line length
            out += [f"    {_literal(name)}: (", *(f"        {cid}," for cid in group), "    ),"]
    out += ["}", ""]
    return "\n".join(out)


def generate() -> str:
    return render(*collect())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="do not write; exit 1 if the committed module differs")
    args = parser.parse_args(argv)
    text = generate()
    if args.check:
        current = OUTPUT.read_text(encoding="utf-8") if OUTPUT.exists() else None
        if current != text:
            print(f"{OUTPUT.relative_to(ROOT)} is out of date: run `{COMMAND}`", file=sys.stderr)
            return 1
        print(f"{OUTPUT.relative_to(ROOT)} is up to date")
        return 0
    OUTPUT.write_text(text, encoding="utf-8", newline="\n")
    print(f"wrote {OUTPUT.relative_to(ROOT)} ({text.count(chr(10))} lines)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
