"""An independent reference walker for DICOM SR measurement groups, in plain pydicom.

It deliberately imports nothing from dicomtools: it is the yardstick the reader is measured
against (benchmarks/foreign_recovery.py, tests/test_foreign_corpus.py), so it must not share
the reader's mistakes.

What it lists, for one file:

* every **measurement group**: a CONTAINER (125007, DCM, "Measurement Group") that has a
  CONTAINER (126010, DCM, "Imaging Measurements") among its ancestors, at any depth. A group
  nested inside another group is a group of its own and is not counted in its parent.
* inside each group, at any depth, every **NUM**: (concept scheme, concept value, numeric
  value, unit code value, derivation code value or None). The derivation is the value of a
  CODE child (121401, DCM, "Derivation") of that NUM. A NUM nested under another NUM (TID 1419
  statistical properties with HAS PROPERTIES, INFERRED FROM, ...) is listed too, with its
  parent's concept in ``Num.parent``. A NUM without a value (empty Measured Value Sequence)
  has ``number`` and ``unit`` None.
* every **qualitative evaluation**: a CODE or TEXT item in the group (at any depth) whose
  concept is not one of :data:`STRUCTURAL` below, and that does not sit below a NUM (those are
  properties of the measurement: normality, selection status, ...; listed in
  ``Group.num_properties``, not scored) or below a structural item (e.g. a modifier of a
  Finding Site), and that is not context (relationship HAS ACQ CONTEXT or HAS OBS CONTEXT,
  e.g. a radiopharmaceutical). The value is the code (scheme, value) or the text.
* counts of SCOORD, SCOORD3D and IMAGE items per group (any depth), and of by-reference
  items (Referenced Content Item Identifier), which are not followed.

SNOMED codes in the retired SRT scheme are mapped to SCT (pydicom's mapping table), so
(G-D705, SRT) and (118565006, SCT) are the same concept for comparisons.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path

import pydicom
from pydicom.dataset import Dataset

try:  # private in pydicom 3, but the only SRT->SCT table available offline
    from pydicom.sr._snomed_dict import mapping as _SNOMED
    _SRT_TO_SCT: dict[str, str] = dict(_SNOMED.get("SRT", {}))
except Exception:  # pragma: no cover - older/newer pydicom
    _SRT_TO_SCT = {}

IMAGING_MEASUREMENTS = ("DCM", "126010")
MEASUREMENT_GROUP = ("DCM", "125007")
DERIVATION = ("DCM", "121401")
TRACKING_IDENTIFIER = ("DCM", "112039")
TRACKING_UID = ("DCM", "112040")
_CONTEXT = ("HAS ACQ CONTEXT", "HAS OBS CONTEXT")

# Concepts of CODE/TEXT items that describe a group rather than evaluate the finding: TID 1501 /
# 1410 / 1411 rows for identity, finding, site, method, time point and session, algorithm
# (TID 4019), observer and subject context (TID 1002-1004), language (TID 1204) and the
# equivalent-meaning modifiers. Anything else written as CODE/TEXT in a group is an evaluation.
STRUCTURAL: dict[tuple[str, str], str] = {
    ("DCM", "112039"): "Tracking Identifier",
    ("DCM", "112040"): "Tracking Unique Identifier",
    ("DCM", "121071"): "Finding",
    ("SCT", "276214006"): "Finding category",
    ("SCT", "363698007"): "Finding Site",
    ("DCM", "121116"): "Proximal Finding Site",
    ("DCM", "121117"): "Distal Finding Site",
    ("SCT", "272741003"): "Laterality",
    ("SCT", "106233006"): "Topographical modifier",
    ("DCM", "121401"): "Derivation",
    ("SCT", "370129005"): "Measurement Method",
    ("DCM", "130400"): "Geometric purpose of region",
    ("NCIt", "C67447"): "Activity Session",
    ("UMLS", "C2348792"): "Time Point",
    ("DCM", "126070"): "Subject Time Point Identifier",
    ("DCM", "126071"): "Protocol Time Point Identifier",
    ("DCM", "126072"): "Time Point Type",
    ("DCM", "126073"): "Time Point Order",
    ("DCM", "111000"): "Algorithm Family",
    ("DCM", "111001"): "Algorithm Name",
    ("DCM", "111002"): "Algorithm Parameters",
    ("DCM", "111003"): "Algorithm Version",
    ("DCM", "121005"): "Observer Type",
    ("DCM", "121009"): "Person Observer's Organization Name",
    ("DCM", "121010"): "Person Observer's Role in the Organization",
    ("DCM", "121011"): "Person Observer's Role in this Procedure",
    ("DCM", "121013"): "Device Observer Name",
    ("DCM", "121014"): "Device Observer Manufacturer",
    ("DCM", "121015"): "Device Observer Model Name",
    ("DCM", "121016"): "Device Observer Serial Number",
    ("DCM", "121017"): "Device Observer Physical Location During Observation",
    ("DCM", "113876"): "Device Role in Procedure",
    ("DCM", "121024"): "Subject Class",
    ("DCM", "121029"): "Subject Name",
    ("DCM", "121030"): "Subject ID",
    ("DCM", "121045"): "Language",
    ("DCM", "121046"): "Country of Language",
    ("DCM", "121047"): "Language of Value",
    ("DCM", "121048"): "Language of Name and Value",
    ("DCM", "121049"): "Language of Content Item and Descendants",
    ("DCM", "121050"): "Equivalent Meaning of Concept Name",
    ("DCM", "121051"): "Equivalent Meaning of Value",
}


def normalise(scheme: str, value: str) -> tuple[str, str]:
    """(scheme, value) with SRT codes mapped to SCT where pydicom knows the SCT code."""
    scheme, value = str(scheme).strip(), str(value).strip()
    if scheme == "SRT" and value in _SRT_TO_SCT:
        return "SCT", _SRT_TO_SCT[value]
    return scheme, value


def _code(seq) -> tuple[str, str, str] | None:
    """(scheme, value, meaning) of the first item of a code sequence, SRT mapped to SCT."""
    if not seq:
        return None
    item = seq[0]
    value = item.get("CodeValue") or item.get("LongCodeValue") or item.get("URNCodeValue") or ""
    scheme, value = normalise(item.get("CodingSchemeDesignator", ""), value)
    return scheme, value, str(item.get("CodeMeaning", ""))


def concept_of(item: Dataset) -> tuple[str, str] | None:
    code = _code(item.get("ConceptNameCodeSequence"))
    return (code[0], code[1]) if code else None


@dataclass(frozen=True)
class Num:
    scheme: str
    value: str
    number: float | None
    unit: str | None
    derivation: str | None
    meaning: str = field(default="", compare=False)
    unit_meaning: str = field(default="", compare=False)
    relationship: str = field(default="", compare=False)
    parent: tuple[str, str] | None = field(default=None, compare=False)  # enclosing NUM's concept

    @property
    def key(self) -> tuple[str, str, float | None, str | None, str | None]:
        """The tuple the brief asks for: (scheme, value, number, unit, derivation)."""
        return (self.scheme, self.value, self.number, self.unit, self.derivation)

    @property
    def concept(self) -> tuple[str, str]:
        return (self.scheme, self.value)

    def label(self) -> str:
        derived = f" [{self.derivation}]" if self.derivation else ""
        nested = " (nested)" if self.parent else ""
        number = "-" if self.number is None else f"{self.number:g}"
        return f"{self.meaning or self.value}{derived} = {number} {self.unit or ''}{nested}".strip()


@dataclass(frozen=True)
class Evaluation:
    concept: tuple[str, str]
    value: tuple[str, str] | str  # a code (scheme, value) or a text
    meaning: str = field(default="", compare=False)
    value_meaning: str = field(default="", compare=False)
    value_type: str = field(default="CODE", compare=False)

    def label(self) -> str:
        value = self.value_meaning or (self.value if isinstance(self.value, str) else self.value[1])
        return f"{self.meaning or self.concept[1]} = {value}"


@dataclass
class Group:
    index: int  # 1-based order of the group in the document
    template: str | None = None
    tracking_id: str | None = None
    tracking_uid: str | None = None
    nums: list[Num] = field(default_factory=list)
    evaluations: list[Evaluation] = field(default_factory=list)
    num_properties: list[Evaluation] = field(default_factory=list)  # CODE/TEXT below a NUM
    scoord: int = 0
    scoord3d: int = 0
    image: int = 0
    by_reference: int = 0


@dataclass
class Walk:
    path: str
    sop_class_uid: str
    root_concept: tuple[str, str, str] | None
    groups: list[Group]
    nums_outside_groups: int = 0  # NUMs elsewhere in the document (e.g. dose reports)

    @property
    def nums(self) -> list[Num]:
        return [n for g in self.groups for n in g.nums]

    @property
    def evaluations(self) -> list[Evaluation]:
        return [e for g in self.groups for e in g.evaluations]


def _number(item: Dataset) -> tuple[float | None, tuple[str, str, str] | None]:
    measured = item.get("MeasuredValueSequence")
    if not measured:
        return None, None
    value = measured[0]
    number = None
    if "FloatingPointValue" in value and value.FloatingPointValue is not None:
        number = float(value.FloatingPointValue)
    elif value.get("NumericValue") not in (None, ""):
        try:
            number = float(value.NumericValue)
        except (TypeError, ValueError):
            number = None
    return number, _code(value.get("MeasurementUnitsCodeSequence"))


def _text_value(item: Dataset) -> str:
    return str(item.get("TextValue", ""))


class _GroupWalker:
    def __init__(self, group: Group, nested_groups: list[Dataset]):
        self.group = group
        self.nested_groups = nested_groups

    def walk(self, items, below_num: tuple[str, str] | None, below_structural: bool) -> None:
        for item in items or ():
            if "ReferencedContentItemIdentifier" in item and "ValueType" not in item:
                self.group.by_reference += 1
                continue
            value_type = str(item.get("ValueType", ""))
            concept = concept_of(item)
            children = item.get("ContentSequence")
            if value_type == "CONTAINER" and concept == MEASUREMENT_GROUP:
                self.nested_groups.append(item)  # a group of its own
                continue
            if value_type == "SCOORD":
                self.group.scoord += 1
            elif value_type == "SCOORD3D":
                self.group.scoord3d += 1
            elif value_type == "IMAGE":
                self.group.image += 1
            structural = below_structural or str(item.get("RelationshipType", "")) in _CONTEXT
            if value_type == "NUM":
                number, unit = _number(item)
                derivation = None
                for child in children or ():
                    if concept_of(child) == DERIVATION and str(child.get("ValueType", "")) == "CODE":
                        code = _code(child.get("ConceptCodeSequence"))
                        derivation = code[1] if code else None
                name = _code(item.get("ConceptNameCodeSequence")) or ("", "", "")
                self.group.nums.append(Num(
                    name[0], name[1], number, unit[1] if unit else None, derivation,
                    meaning=name[2], unit_meaning=unit[2] if unit else "",
                    relationship=str(item.get("RelationshipType", "")), parent=below_num))
                self.walk(children, concept or ("", ""), below_structural)
                continue
            if value_type in ("CODE", "TEXT"):
                if concept == TRACKING_IDENTIFIER and value_type == "TEXT" and below_num is None:
                    self.group.tracking_id = self.group.tracking_id or _text_value(item)
                if concept in STRUCTURAL:
                    structural = True
                elif below_num is not None:
                    self.group.num_properties.append(self._evaluation(item, value_type, concept))
                elif not structural:
                    self.group.evaluations.append(self._evaluation(item, value_type, concept))
            elif value_type == "UIDREF" and concept == TRACKING_UID and below_num is None:
                self.group.tracking_uid = self.group.tracking_uid or str(item.get("UID", ""))
            self.walk(children, below_num, structural)

    @staticmethod
    def _evaluation(item: Dataset, value_type: str, concept) -> Evaluation:
        name = _code(item.get("ConceptNameCodeSequence")) or ("", "", "")
        if value_type == "CODE":
            code = _code(item.get("ConceptCodeSequence")) or ("", "", "")
            return Evaluation(concept or ("", ""), (code[0], code[1]), meaning=name[2],
                              value_meaning=code[2], value_type="CODE")
        text = _text_value(item)
        return Evaluation(concept or ("", ""), text, meaning=name[2], value_meaning=text,
                          value_type="TEXT")


def _template(item: Dataset) -> str | None:
    templates = item.get("ContentTemplateSequence")
    if templates:
        return str(templates[0].get("TemplateIdentifier", "")) or None
    return None


def walk_dataset(ds: Dataset, path: str = "dataset") -> Walk:
    """All measurement groups of an SR dataset (see the module docstring)."""
    groups: list[Group] = []
    outside = 0

    def add_group(container: Dataset) -> None:
        group = Group(index=len(groups) + 1, template=_template(container))
        groups.append(group)
        nested: list[Dataset] = []
        _GroupWalker(group, nested).walk(container.get("ContentSequence"), None, False)
        for inner in nested:
            add_group(inner)

    def descend(items, under_measurements: bool) -> None:
        nonlocal outside
        for item in items or ():
            value_type = str(item.get("ValueType", ""))
            concept = concept_of(item)
            if value_type == "CONTAINER" and concept == MEASUREMENT_GROUP and under_measurements:
                add_group(item)
                continue
            if value_type == "NUM":
                outside += 1
            inside = under_measurements or (value_type == "CONTAINER" and concept == IMAGING_MEASUREMENTS)
            descend(item.get("ContentSequence"), inside)

    root = _code(ds.get("ConceptNameCodeSequence"))
    descend(ds.get("ContentSequence"), root is not None and root[:2] == IMAGING_MEASUREMENTS)
    return Walk(str(path), str(ds.get("SOPClassUID", "")), root, groups, outside)


def walk_file(path: str | os.PathLike) -> Walk:
    """Read ``path`` with pydicom (any SR IOD, any transfer syntax pydicom reads) and walk it."""
    return walk_dataset(pydicom.dcmread(Path(path)), str(path))


# ---- comparing a file with its re-write -----------------------------------------------------
# Physical units that may legitimately change on a re-write: factor to one base unit per kind.
UNIT_FACTORS: dict[str, tuple[str, float]] = {
    **{u: ("length", f) for u, f in (("m", 1.0), ("cm", 1e-2), ("mm", 1e-3), ("um", 1e-6))},
    **{u: ("area", f) for u, f in (("m2", 1.0), ("cm2", 1e-4), ("mm2", 1e-6))},
    **{u: ("volume", f) for u, f in (("m3", 1.0), ("l", 1e-3), ("L", 1e-3), ("dl", 1e-4), ("dL", 1e-4),
                                     ("ml", 1e-6), ("mL", 1e-6), ("cm3", 1e-6), ("mm3", 1e-9),
                                     ("ul", 1e-9), ("uL", 1e-9))},
    **{u: ("activity", f) for u, f in (("Bq", 1.0), ("kBq", 1e3), ("MBq", 1e6), ("GBq", 1e9),
                                       ("Ci", 3.7e10), ("mCi", 3.7e7), ("uCi", 3.7e4))},
    **{u: ("diffusivity", f) for u, f in (("m2/s", 1.0), ("mm2/s", 1e-6), ("um2/s", 1e-12),
                                          ("10-6.mm2/s", 1e-12), ("um2/ms", 1e-9),
                                          ("10-3.mm2/s", 1e-9))},
}


def same_quantity(a: Num, b: Num, rel_tol: float = 1e-6) -> bool:
    """Same concept and the same physical value (units converted where both are known)."""
    if a.concept != b.concept:
        return False
    if a.number is None or b.number is None:
        return a.number is None and b.number is None and a.unit == b.unit
    if a.unit == b.unit:
        return math.isclose(a.number, b.number, rel_tol=rel_tol, abs_tol=1e-12)
    ka, kb = UNIT_FACTORS.get(a.unit or ""), UNIT_FACTORS.get(b.unit or "")
    if ka is None or kb is None or ka[0] != kb[0]:
        return False
    return math.isclose(a.number * ka[1], b.number * kb[1], rel_tol=rel_tol, abs_tol=1e-30)


@dataclass
class GroupComparison:
    original: Group
    rewritten: Group | None
    nums_found: list[Num] = field(default_factory=list)
    nums_missing: list[Num] = field(default_factory=list)
    derivation_lost: list[Num] = field(default_factory=list)  # found, but derivation differs
    evaluations_found: list[Evaluation] = field(default_factory=list)
    evaluations_missing: list[Evaluation] = field(default_factory=list)


@dataclass
class Comparison:
    groups: list[GroupComparison]

    @property
    def nums(self) -> tuple[int, int]:
        return (sum(len(g.nums_found) for g in self.groups),
                sum(len(g.nums_found) + len(g.nums_missing) for g in self.groups))

    @property
    def evaluations(self) -> tuple[int, int]:
        return (sum(len(g.evaluations_found) for g in self.groups),
                sum(len(g.evaluations_found) + len(g.evaluations_missing) for g in self.groups))

    @property
    def derivations_kept(self) -> tuple[int, int]:
        derived = [n for g in self.groups for n in g.nums_found if n.derivation]
        lost = {id(n) for g in self.groups for n in g.derivation_lost}
        return sum(1 for n in derived if id(n) not in lost), len(derived)


def pair_groups(original: Walk, rewritten: Walk | None) -> list[tuple[Group, Group | None]]:
    """Each original group with its re-written counterpart: by Tracking UID (the k-th group
    holding a UID pairs with the k-th re-written group holding it), else by order."""
    if rewritten is None:
        return [(g, None) for g in original.groups]
    by_uid: dict[str, list[Group]] = {}
    for g in rewritten.groups:
        if g.tracking_uid:
            by_uid.setdefault(g.tracking_uid, []).append(g)
    seen: dict[str, int] = {}
    pairs = []
    for position, g in enumerate(original.groups):
        match = None
        if g.tracking_uid and g.tracking_uid in by_uid:
            k = seen.get(g.tracking_uid, 0)
            seen[g.tracking_uid] = k + 1
            candidates = by_uid[g.tracking_uid]
            match = candidates[k] if k < len(candidates) else None
        if match is None and position < len(rewritten.groups):
            candidate = rewritten.groups[position]
            if not (g.tracking_uid and candidate.tracking_uid and candidate.tracking_uid != g.tracking_uid
                    and candidate.tracking_uid in {o.tracking_uid for o in original.groups}):
                match = candidate
        pairs.append((g, match))
    return pairs


def _same_evaluation(a: Evaluation, b: Evaluation) -> bool:
    if a.concept != b.concept:
        return False
    if isinstance(a.value, str) or isinstance(b.value, str):
        return isinstance(a.value, str) and isinstance(b.value, str) and a.value.strip() == b.value.strip()
    return a.value == b.value


def compare(original: Walk, rewritten: Walk | None) -> Comparison:
    """Which NUMs (concept + value + unit, units converted) and evaluations (concept + value)
    of ``original`` come back in the paired group of ``rewritten`` (None: nothing came back)."""
    out = []
    for group, twin in pair_groups(original, rewritten):
        cmp = GroupComparison(group, twin)
        pool = list(twin.nums) if twin else []
        for num in group.nums:
            # prefer a candidate that also keeps the derivation
            candidates = [c for c in pool if same_quantity(num, c)]
            best = next((c for c in candidates if c.derivation == num.derivation), None) or \
                (candidates[0] if candidates else None)
            if best is None:
                cmp.nums_missing.append(num)
                continue
            pool.remove(best)
            cmp.nums_found.append(num)
            if best.derivation != num.derivation:
                cmp.derivation_lost.append(num)
        pool_e = list(twin.evaluations) if twin else []
        for evaluation in group.evaluations:
            match = next((c for c in pool_e if _same_evaluation(evaluation, c)), None)
            if match is None:
                cmp.evaluations_missing.append(evaluation)
            else:
                pool_e.remove(match)
                cmp.evaluations_found.append(evaluation)
        out.append(cmp)
    return Comparison(out)


def describe(walk: Walk) -> str:
    """A human-readable listing (``python tests/sr_walk.py FILE...``)."""
    lines = [f"{walk.path}: SOP Class {walk.sop_class_uid}, root "
             f"{walk.root_concept[2] if walk.root_concept else '-'}, {len(walk.groups)} group(s), "
             f"{walk.nums_outside_groups} NUM(s) outside groups"]
    for g in walk.groups:
        lines.append(f"  group {g.index} TID {g.template or '-'} id={g.tracking_id!r} "
                     f"uid={g.tracking_uid} scoord={g.scoord} scoord3d={g.scoord3d} "
                     f"image={g.image} byref={g.by_reference}")
        lines += [f"    NUM  {n.label()}" for n in g.nums]
        lines += [f"    EVAL {e.label()}" for e in g.evaluations]
        lines += [f"    PROP {e.label()}" for e in g.num_properties]
    return "\n".join(lines)


if __name__ == "__main__":  # pragma: no cover
    import sys
    for name in sys.argv[1:]:
        print(describe(walk_file(name)))
