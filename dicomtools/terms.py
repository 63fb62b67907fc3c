"""Names <-> codes: how a term a user or a text gives ("Adrenal-Gland", "suprarenal",
"Th12", "99mTc-anti-GD2") becomes the model's term and its code, and back.

Two sources, in this order of preference:

1. the hand-kept tables of :mod:`dicomtools.vocab` (the domain's own terms, e.g.
   "paravertebral", "whole body", "I-123 mIBG"), with the synonyms of ``SYNONYMS`` below;
2. the tables generated from DICOM PS3.16 (:mod:`dicomtools.standard_codes`, made by
   ``tools/generate_codes.py`` from pydicom's CID dictionaries): every anatomic region,
   finding, measurement, derivation, unit and radiopharmaceutical of the listed CIDs.

A generated concept's term is its code meaning in lower case ("clavicle"). Names match
ignoring case, spaces, hyphens and punctuation. A code of any scheme is accepted as
``{"code", "scheme", "meaning"}``; one that is in a table becomes that table's term, any
other stays a :class:`~dicomtools.vocab.Code` (kept, never refused for being unknown).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from . import vocab
from .errors import InputError
from .vocab import Code, code_from_json

Term = str | Code  # a model value of an open vocabulary

# Synonyms the standard lacks: spelling -> term of the same kind.
SYNONYMS: dict[str, dict[str, str]] = {
    "site": {
        "suprarenal": "adrenal gland", "suprarenal gland": "adrenal gland",
        "adrenal": "adrenal gland", "adrenals": "adrenal gland",
        "paraspinal": "paravertebral", "paravertebral region": "paravertebral",
        "paraspinal region": "paravertebral", "entire body": "whole body", "total body": "whole body",
        "vertebral canal": "spinal canal", "intraspinal": "spinal canal", "epidural": "spinal canal",
        "epidural space": "spinal canal", "extradural": "spinal canal", "intradural": "spinal canal",
        "extramedullary": "spinal canal", "suprarenal region": "adrenal gland",
        "splenic": "spleen", "gastric": "stomach", "pulmonary": "lung",
        "retroperitoneal": "retroperitoneum", "mediastinal": "mediastinum",
        "posterior mediastinal": "posterior mediastinum", "hepatic": "liver", "renal": "kidney",
        "osseous": "bone", "skeleton": "bone", "marrow": "bone marrow", "cranium": "skull",
        "sympathetic chain": "sympathetic trunk", "vertebral body": "vertebra",
        # the paranasal sinuses the standard's tables do not name one by one
        "sphenoid sinus": "paranasal sinus", "sphenoidal sinus": "paranasal sinus",
        "ethmoid sinus": "paranasal sinus", "ethmoidal sinus": "paranasal sinus",
        # everyday and radiological names of places the tables hold under another name
        "groin": "inguinal region", "pleura": "pleural structure", "pleural": "pleural structure",
        "mca": "middle cerebral artery", "hemipelvis": "pelvis",
        "skull base": "skull", "base of skull": "skull", "clivus": "skull", "calf": "lower leg",
        "sella": "sella turcica", "sellar": "sella turcica", "pineal": "pineal gland",
        "peritoneum": "peritoneal cavity", "peritoneal": "peritoneal cavity",
        "intravesical": "bladder", "peripheral zone": "prostate", "transition zone": "prostate",
        "ap window lymph node": "lymph node of aortopulmonary window",
        "aortopulmonary window lymph node": "lymph node of aortopulmonary window",
    },
    "finding": {"tumour": "neoplasm", "tumor": "neoplasm", "metastases": "metastasis",
                "lymph nodes": "lymph node", "node": "lymph node", "masses": "mass",
                "lesions": "lesion", "tracer uptake": "uptake",
                # the clot and the condition of having one ("vein thrombosis", "pulmonary
                # embolism"): SNOMED's morphologies are the clot and the embolus
                "thrombus": "blood clot", "thrombosis": "blood clot", "embolism": "embolus"},
    # a bare "mIBG" names no isotope: it is not a synonym of either
    "tracer": {"123i-mibg": "I-123 mIBG", "i123 mibg": "I-123 mIBG",
               "123i mibg": "I-123 mIBG", "131i-mibg": "I-131 mIBG", "anti-gd2": "99mTc-anti-GD2",
               "tc-99m anti-gd2": "99mTc-anti-GD2", "fdg": "18F-FDG", "mdp": "99mTc-MDP",
               "dotatate": "68Ga-DOTATATE", "dotanoc": "68Ga-DOTANOC", "mfbg": "18F-MFBG"},
    "procedure": {"wb-mri": "whole-body MRI", "wbmri": "whole-body MRI",
                  "whole body mri": "whole-body MRI", "mri of whole body": "whole-body MRI",
                  "i-123 mibg scan": "I-123 mIBG scintigraphy",
                  # a bare "MIBG scan" is the mIBG study of unknown isotope (RadLex RPID5987)
                  "mibg scan": "mIBG scintigraphy", "mibg": "mIBG scintigraphy",
                  "99mtc-anti-gd2 scintigraphy": "99mTc anti-GD2 immunoscintigraphy",
                  "anti-gd2 immunoscintigraphy": "99mTc anti-GD2 immunoscintigraphy",
                  "anti-gd2 scintigraphy": "99mTc anti-GD2 immunoscintigraphy",
                  "bone scan": "bone scintigraphy", "us": "ultrasound",
                  "ultrasonography": "ultrasound", "sonography": "ultrasound",
                  "histology": "histopathology", "pathology": "histopathology",
                  "ct scan": "CT", "computed tomography": "CT", "mr": "MRI"},
    "derivation": {"max": "maximum", "min": "minimum", "sd": "standard deviation",
                   "std": "standard deviation", "peak": "peak value within roi"},
}


def normalise(text: str) -> str:
    """The matching key of a name: case, spaces, hyphens and punctuation ignored, except
    "*" and "+", which change the meaning (T2 vs T2*, R2 vs R2*)."""
    return _NOT_KEY.sub("", text.casefold())


_NOT_KEY = re.compile(r"[^\w*+]+|_")


@dataclass(frozen=True, slots=True)
class _Table:
    by_name: dict[str, str]     # normalised spelling -> term
    code_of: dict[str, Code]    # term -> code
    term_of: dict[Code, str]    # code -> term (first wins)


# Hand-kept terms per kind (vocab.py), consulted before the generated tables.
def _hand(kind: str) -> dict[str, Code]:
    if kind == "site":
        return dict(vocab.SITES)
    if kind == "finding":
        return dict(vocab.FINDING_TYPES)
    if kind == "tracer":
        return {name: t.agent for name, t in vocab.TRACERS.items()}
    if kind == "procedure":
        return {name: p.performed for name, p in vocab.PROCEDURES.items()}
    if kind == "laterality":
        return dict(vocab.LATERALITY)
    if kind == "derivation":
        return dict(vocab.DERIVATIONS)
    if kind == "any":  # concept names of measurements and evaluations: any known concept
        out = {code.meaning.lower(): code for code in vars(vocab.Concept).values()
               if isinstance(code, Code)}
        for other in ("derivation", "finding", "site"):
            for term, code in _hand(other).items():
                out.setdefault(term, code)
        return out
    return {}


# Generated groups feeding each kind.
_GROUPS = {"site": ("anatomy",), "finding": ("finding",), "tracer": ("radiopharmaceutical",),
           "laterality": ("laterality",), "modifier": ("anatomic_modifier",),
           "measurement": ("measurement",), "derivation": ("derivation",), "unit": ("unit",),
           "procedure": (),  # a procedure needs a modality and a template: hand-kept only
           "any": ("measurement", "derivation", "finding", "anatomy", "severity", "signal",
                   "enhancement_pattern", "presence", "impression", "laterality",
                   "anatomic_modifier", "radiopharmaceutical", "radionuclide", "procedure")}


@cache
def _table(kind: str) -> _Table:
    from . import standard_codes  # generated; imported only when a lookup needs it
    by_name: dict[str, str] = {}
    code_of: dict[str, Code] = {}
    term_of: dict[Code, str] = {}

    def add(term: str, code: Code) -> None:
        if code_of.get(term, code) != code:
            return  # the name is taken by another code: this one stays a Code (kept exactly)
        code_of.setdefault(term, code)  # the first meaning stays (the hand-kept one)
        term_of.setdefault(code, term)
        by_name.setdefault(normalise(term), term)
        by_name.setdefault(normalise(code.meaning), term)

    for term, code in _hand(kind).items():
        add(term, code)
    excluded = _excluded(kind)
    for cid in _cids(kind):
        for scheme, value, meaning in standard_codes.CIDS[cid][1]:
            code = Code(value, scheme, meaning)
            if code in excluded:
                continue
            add(term_of.get(code, meaning if kind == "unit" else meaning.lower()), code)
    for spelling, term in SYNONYMS.get(kind, {}).items():
        if term in code_of:
            by_name.setdefault(normalise(spelling), term)
    if kind == "site":
        for spelling, term in part_names(code_of).items():
            by_name.setdefault(normalise(spelling), term)
    return _Table(by_name, code_of, term_of)


# Heads too generic to name a part on their own ("base of tongue" is no "base").
_GENERIC_HEADS = frozenset({
    "angle", "base", "body", "circle", "lobe", "segment", "surface", "torus", "genu", "ostium",
    "frenulum", "vertex", "tubercle", "fissure", "level", "apex", "arch", "shaft", "lumen", "skin",
    "mucosa", "muscle", "bone", "lymph node", "tissue not", "bone structure", "occipital region"})


def part_names(code_of: dict[str, Code]) -> dict[str, str]:
    """The short names by which reports call a part the standard names in full: "wrist" is
    the "wrist joint", "manubrium" the "manubrium of sternum", "lower lobe" the "lower lobe of
    lung" — the head of a "HEAD of WHOLE" or "HEAD joint" term, where exactly one term has it
    and it is neither a term itself nor too generic to name a part."""
    heads: dict[str, set[str]] = {}
    for term in code_of:
        head = term.split(" of ", 1)[0] if " of " in term else \
            term[:-len(" joint")] if term.endswith(" joint") else None
        if head and not head.startswith(("anterior ", "posterior ", "inner ", "outer ")):
            heads.setdefault(head, set()).add(term)
    taken = {normalise(t) for t in code_of} | {normalise(c.meaning) for c in code_of.values()}
    return {head: next(iter(found)) for head, found in heads.items()
            if len(found) == 1 and head not in _GENERIC_HEADS and normalise(head) not in taken}


# Anatomy CIDs in order of preference: the plain region and structure lists (whose meanings
# are the plain names: "Heart", "Pelvis") before the segmentation lists, which also hold
# lesion and tissue types.
_SITE_FIRST = (4031, 4, 8134, 7603, 7602, 7600)


def _cids(kind: str) -> list[int]:
    from . import standard_codes
    cids = [cid for group in _GROUPS[kind] for cid in standard_codes.GROUPS.get(group, ())]
    if kind == "site":
        cids = [c for c in _SITE_FIRST if c in cids] + [c for c in cids if c not in _SITE_FIRST]
    return list(dict.fromkeys(cids))


def _excluded(kind: str) -> set[Code]:
    """Codes a kind must not take: finding types are not sites (CID 7151 lists 'Mass')."""
    if kind != "site":
        return set()
    from . import standard_codes
    out = {Code(v, s, m) for cid in standard_codes.GROUPS["finding"]
           for s, v, m in standard_codes.CIDS[cid][1]}
    return out | set(vocab.FINDING_TYPES.values())


def lookup(kind: str, name: str) -> str | None:
    """The term a spelling names, or None; British spellings are tried in their US form
    ("oedema" -> edema, "haemorrhage" -> hemorrhage, "oesophagus" -> esophagus)."""
    by_name = _table(kind).by_name
    key = normalise(name)
    return by_name.get(key) or by_name.get(us_spelling(key))


def us_spelling(key: str) -> str:
    """The US spelling of a normalised name: the ligatures' 'ae'/'oe' as 'e'."""
    return _LIGATURE.sub("e", key)


_LIGATURE = re.compile(r"(?<=[a-z])ae(?=[a-z])|oe(?=[a-z])")


def spellings(kind: str) -> dict[str, str]:
    """Every normalised spelling of a kind (terms, code meanings, synonyms) -> its term."""
    return dict(_table(kind).by_name)


def code_for(kind: str, value: Term) -> Code:
    """The code of a term (or the code itself)."""
    if isinstance(value, Code):
        return value
    return _table(kind).code_of[value]


def term_for(kind: str, code: Code) -> Term:
    """The term of a code, or the code itself when no table has it."""
    code = vocab.LEGACY_CODES.get(code, code)
    return _table(kind).term_of.get(code, code)


def resolve(kind: str, value: object, where: str, field: str) -> Term | None:
    """A user's value -> the model's: a known spelling -> its term; a code object -> its term
    if a table has it, else the Code. Unknown names are refused, naming field and value."""
    if value is None:
        return None
    if isinstance(value, str):
        if value in _table(kind).code_of:  # already a term: the common case, kept fast
            return value
        term = lookup(kind, value)
        if term is None:
            examples = ", ".join(sorted(_hand(kind))[:6]) or "see docs/codes.md"
            raise InputError(f"{where}: field '{field}' has value {value!r}; expected a {kind} "
                             f"name (e.g. {examples}; all in docs/codes.md) or a code object "
                             '{"code", "scheme", "meaning"}')
        return term
    if isinstance(value, (dict, Code)):
        return term_for(kind, code_from_json(value, f"{where}: {field}"))
    raise InputError(f"{where}: field '{field}' has value {value!r}; expected a name or a code "
                     "object")


def names(kind: str) -> tuple[str, ...]:
    """Every term of a kind, hand-kept first."""
    return tuple(_table(kind).code_of)


# ---- units ---------------------------------------------------------------------------
# Factor to a base unit per dimension; spellings with one dimension and factor are one unit.
_UNIT_FACTORS: dict[str, tuple[str, float]] = {
    "mm": ("length", 1e-3), "cm": ("length", 1e-2), "m": ("length", 1.0), "um": ("length", 1e-6),
    "mm2": ("area", 1e-6), "cm2": ("area", 1e-4), "m2": ("area", 1.0),
    "mm3": ("volume", 1e-9), "cm3": ("volume", 1e-6), "mL": ("volume", 1e-6),
    "ml": ("volume", 1e-6), "L": ("volume", 1e-3), "l": ("volume", 1e-3), "m3": ("volume", 1.0),
    "um2/s": ("diffusion", 1e-12), "10-6.mm2/s": ("diffusion", 1e-12),
    "um2/ms": ("diffusion", 1e-9), "10-3.mm2/s": ("diffusion", 1e-9),
    "mm2/s": ("diffusion", 1e-6), "10-5.mm2/s": ("diffusion", 1e-11),
    "Bq": ("activity", 1.0), "kBq": ("activity", 1e3), "MBq": ("activity", 1e6),
    "GBq": ("activity", 1e9), "mCi": ("activity", 3.7e7), "uCi": ("activity", 3.7e4),
    "[hnsf'U]": ("hounsfield", 1.0), "[HU]": ("hounsfield", 1.0),
    "{SUVbw}g/ml": ("suvbw", 1.0), "g/ml{SUVbw}": ("suvbw", 1.0),
    "{SUVlbm}g/ml": ("suvlbm", 1.0), "g/ml{SUVlbm}": ("suvlbm", 1.0),
    "{SUVbsa}cm2/ml": ("suvbsa", 1.0), "cm2/ml{SUVbsa}": ("suvbsa", 1.0),
    "{SUVibw}g/ml": ("suvibw", 1.0), "g/ml{SUVibw}": ("suvibw", 1.0),
    "g/ml": ("density", 1.0), "1": ("ratio", 1.0), "%": ("ratio", 0.01), "{ratio}": ("ratio", 1.0),
    "s": ("time", 1.0), "ms": ("time", 1e-3), "min": ("time", 60.0), "h": ("time", 3600.0),
    "d": ("time", 86400.0), "mGy": ("dose", 1e-3), "Gy": ("dose", 1.0), "mSv": ("eqdose", 1e-3),
    "mGy.cm": ("dlp", 1e-5), "Gy.m2": ("dap", 1.0), "mGy.cm2": ("dap", 1e-7),
}
# Spellings that are not UCUM at all but are what people write.
_UNIT_SPELLINGS = {"hu": "[hnsf'U]", "µm2/s": "um2/s", "μm2/s": "um2/s", "mm²/s": "mm2/s",
                   "µm²/s": "um2/s", "cc": "cm3", "cm³": "cm3", "mm³": "mm3", "mbq": "MBq",
                   "suv": "{SUVbw}g/ml", "suvbw": "{SUVbw}g/ml", "x10-3 mm2/s": "10-3.mm2/s",
                   "x10-6 mm2/s": "10-6.mm2/s", "10^-3 mm2/s": "10-3.mm2/s",
                   "10^-6 mm2/s": "10-6.mm2/s"}


def unit_code(value: object, where: str = "unit") -> Code:
    """A UCUM unit from its code text (any known spelling) or a code object."""
    if isinstance(value, (dict, Code)):
        code = code_from_json(value, where)
        if code.scheme != "UCUM":
            raise InputError(f"{where}: unit {code.value!r} has scheme {code.scheme!r}; expected UCUM")
        return code
    if not isinstance(value, str) or not value.strip() or len(value) > 16 \
            or not value.isprintable() or "\\" in value:
        raise InputError(f"{where}: unit {value!r} is not a UCUM unit code (e.g. mm, cm3, "
                         "um2/s, MBq, {SUVbw}g/ml, [hnsf'U])")
    return _unit_from_text(value.strip())


@cache
def _unit_from_text(text: str) -> Code:
    text = _UNIT_SPELLINGS.get(text.casefold(), _UNIT_SPELLINGS.get(text, text))
    code = Code(text, "UCUM", text)
    meaning = _table("unit").term_of.get(code)
    return Code(text, "UCUM", meaning) if isinstance(meaning, str) else code


def same_unit(a: str, b: str) -> bool:
    """True when two UCUM spellings are one unit (same dimension and factor)."""
    if a == b:
        return True
    fa, fb = _UNIT_FACTORS.get(a), _UNIT_FACTORS.get(b)
    return fa is not None and fa == fb


def convert(value: float, unit: str, to: str) -> float | None:
    """``value`` in ``unit`` expressed in ``to``; None when the units are not comparable."""
    if unit == to:
        return value
    fa, fb = _UNIT_FACTORS.get(unit), _UNIT_FACTORS.get(to)
    if fa is None or fb is None or fa[0] != fb[0]:
        return None
    return value * fa[1] / fb[1]

