"""The TID 1501 row table: for each Finding field, how it is written as content items, read
back, and checked. The writer (write.py), the reader (read.py), the validator (checks.py)
and the report templates (templates/*.json, which select rows by name) all use this table.

Rows are listed in the order they are written. A row has a *kind* naming its handler pair
(write: Finding -> Items; read: Item -> field values); ``concepts`` are the concept names
the row reads. An item no row takes is kept in the open part of the Finding: a NUM becomes a
:class:`~dicomtools.observations.Measurement`, a CODE or TEXT an
:class:`~dicomtools.observations.Evaluation`, geometry and references a region, anything
else ``other``. Nothing is dropped.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .. import terms, vocab
from ..levels import CODE_LEVELS, LEVEL_CODES
from ..model import Finding
from ..vocab import Code, Concept
from .content import (
    CONTAINS,
    HAS_ACQ_CONTEXT,
    HAS_CONCEPT_MOD,
    HAS_OBS_CONTEXT,
    Graphic,
    ImageValue,
    Item,
    Num,
    code_item,
    num_item,
)


@dataclass(frozen=True)
class Row:
    """One row: ``field`` of Finding, written and read by the handlers of ``kind``."""

    name: str                      # the name templates use (usually the field name)
    kind: str
    fields: tuple[str, ...]        # Finding fields the row fills
    concepts: tuple[Code, ...] = ()
    values: dict[Any, Code] = field(default_factory=dict)  # value set of CODE rows
    relationship: str = CONTAINS
    always: bool = False           # written even when the field is null (presence)
    unit: Code | None = None       # the unit a NUM row writes


@dataclass
class GroupState:
    """What the reader has collected for one group so far."""

    label: str
    values: dict[str, Any] = field(default_factory=dict)
    diameters: list[tuple[float, Item]] = field(default_factory=list)
    extent: dict[Code, tuple[float, Item]] = field(default_factory=dict)
    levels: list[tuple[str, Item]] = field(default_factory=list)
    site_levels: list[str] = field(default_factory=list)
    roi: dict[str, Any] = field(default_factory=dict)
    nuclide_seen: bool = False
    moved: list[Item] = field(default_factory=list)  # children of a taken item, kept
    adc: list[tuple[str, Item]] = field(default_factory=list)  # (field, item), settled at the end


_EXTENT = (Concept.WIDTH_LR, Concept.DEPTH_AP, Concept.HEIGHT_CC)
_ADC_FIELDS = {None: "adc_value", vocab.DERIVATIONS["mean"]: "adc_value",
               vocab.DERIVATIONS["minimum"]: "adc_min", vocab.DERIVATIONS["median"]: "adc_median"}


# ---- writers: (row, finding) -> items ------------------------------------------------------
def _w_text(row: Row, f: Finding) -> list[Item]:
    value = getattr(f, row.fields[0])
    vt = "UIDREF" if row.name == "tracking_uid" else "TEXT"
    return [] if value is None else [Item(vt, row.concepts[0], row.relationship, value)]


def _w_code(row: Row, f: Finding) -> list[Item]:
    value = getattr(f, row.fields[0])
    if value is None and not row.always:
        return []
    code = row.values[value] if not isinstance(value, Code) else value
    return [code_item(row.concepts[0], code, row.relationship)]


def _w_term(row: Row, f: Finding) -> list[Item]:
    value = getattr(f, row.fields[0])
    if value is None:
        return []
    return [code_item(row.concepts[0], terms.code_for(row.fields[0], value), row.relationship)]


def _w_site(row: Row, f: Finding) -> list[Item]:
    laterality = ([code_item(Concept.LATERALITY, terms.code_for("laterality", f.laterality),
                             HAS_CONCEPT_MOD)] if f.laterality else [])
    if f.site == "vertebra" and f.vertebral_levels:
        # A lesion *in* vertebrae: the vertebrae are the finding sites.
        return [code_item(Concept.FINDING_SITE, LEVEL_CODES[level], HAS_CONCEPT_MOD, list(laterality))
                for level in f.vertebral_levels]
    if f.site is None:
        return []
    return [code_item(Concept.FINDING_SITE, terms.code_for("site", f.site), HAS_CONCEPT_MOD,
                      laterality)]


def _w_levels(row: Row, f: Finding) -> list[Item]:
    if f.site == "vertebra":
        return []  # written as finding sites
    return [code_item(Concept.VERTEBRAL_LEVEL, LEVEL_CODES[lvl]) for lvl in f.vertebral_levels or ()]


def _w_diameters(row: Row, f: Finding) -> list[Item]:
    return [num_item(Concept.DIAMETER, size, vocab.UNIT_MM) for size in f.dimensions_mm or ()]


def _w_extent(row: Row, f: Finding) -> list[Item]:
    if f.extent_mm is None:
        return []
    return [num_item(c, size, vocab.UNIT_MM) for c, size in zip(_EXTENT, f.extent_mm, strict=True)]


def _w_num(row: Row, f: Finding) -> list[Item]:
    value = getattr(f, row.fields[0])
    assert row.unit is not None
    return [] if value is None else [num_item(row.concepts[0], value, row.unit, row.relationship)]


def _w_adc(row: Row, f: Finding) -> list[Item]:
    if f.adc_value is None or f.adc_unit is None:
        return []
    unit = terms.unit_code(f.adc_unit)
    # A lone ADC value keeps no derivation (a reader's ROI value); a segmented lesion's
    # statistics name theirs (CID 7464).
    derived = f.adc_min is not None or f.adc_median is not None
    items = []
    for derivation, value in (("mean", f.adc_value), ("minimum", f.adc_min), ("median", f.adc_median)):
        if value is None:
            continue
        item = num_item(Concept.ADC, value, unit)
        if derived:
            item.children.append(code_item(Concept.DERIVATION, vocab.DERIVATIONS[derivation],
                                           HAS_CONCEPT_MOD))
        items.append(item)
    return items


def _w_tracer(row: Row, f: Finding) -> list[Item]:
    if f.tracer is None:
        return []
    items = [code_item(Concept.RADIOPHARMACEUTICAL, terms.code_for("tracer", f.tracer), HAS_ACQ_CONTEXT)]
    known = vocab.TRACERS.get(f.tracer) if isinstance(f.tracer, str) else None
    if known is not None:
        items.append(code_item(Concept.RADIONUCLIDE, known.nuclide, HAS_ACQ_CONTEXT))
    return items


def _w_segment(row: Row, f: Finding) -> list[Item]:
    if f.roi is None:
        return []
    return [Item("IMAGE", Concept.REFERENCED_SEGMENT, CONTAINS, ImageValue(
                vocab.SEGMENTATION_STORAGE, f.roi.seg_instance_uid, f.roi.segment_number)),
            Item("UIDREF", Concept.SOURCE_SERIES_FOR_SEGMENTATION, CONTAINS, f.roi.source_series_uid)]


def _w_centroid(row: Row, f: Finding) -> list[Item]:
    if f.roi is None or f.roi.centroid_lps_mm is None:
        return []
    return [Item("SCOORD3D", Concept.CENTER_OF_MASS, CONTAINS,
                 Graphic("POINT", tuple(f.roi.centroid_lps_mm), f.roi.frame_of_reference_uid))]


# ---- readers: (row, item, state) -> taken? ----------------------------------------------
def _plain(item: Item) -> bool:
    """No children: what a typed field can hold exactly."""
    return not item.children


def _r_text(row: Row, item: Item, s: GroupState) -> bool:
    name = row.fields[0]
    if not isinstance(item.value, str) or name in s.values:
        return False
    s.values[name] = item.value
    if name == "tracking_id":
        s.label = f"group {item.value!r}"
    return True


def _r_code(row: Row, item: Item, s: GroupState) -> bool:
    name = row.fields[0]
    value = vocab.LEGACY_CODES.get(item.value, item.value) if isinstance(item.value, Code) else None
    reverse = _reverse(row)
    if value not in reverse or name in s.values:
        return False
    if not _plain(item):
        if not row.always:
            return False  # an evaluation with qualifiers: kept whole in the open part
        # Presence must never be lost (a negative finding read as positive): the value is
        # taken, its qualifiers are kept beside it in the open part.
        s.moved.extend(item.children)
    s.values[name] = reverse[value]
    return True


_REVERSE: dict[str, dict[Code, Any]] = {}


def _reverse(row: Row) -> dict[Code, Any]:
    """Code -> term of a CODE row's value set (the first term wins), computed once."""
    if row.name not in _REVERSE:
        _REVERSE[row.name] = {code: term for term, code in reversed(list(row.values.items()))}
    return _REVERSE[row.name]


def _r_term(row: Row, item: Item, s: GroupState) -> bool:
    name = row.fields[0]
    if not isinstance(item.value, Code) or name in s.values or not _plain(item):
        return False
    s.values[name] = terms.term_for(name, item.value)
    return True


def _r_site(row: Row, item: Item, s: GroupState) -> bool:
    if not isinstance(item.value, Code):
        return False
    modifiers = item.children
    if any(c.name != Concept.LATERALITY or not isinstance(c.value, Code) for c in modifiers) \
            or len(modifiers) > 1:
        return False  # topographic modifiers: kept whole as an evaluation-like site item
    laterality = terms.term_for("laterality", modifiers[0].value) if modifiers else None
    if item.value in CODE_LEVELS and s.values.get("site", "vertebra") == "vertebra" \
            and s.values.get("laterality", laterality) == laterality:
        s.values["site"] = "vertebra"
        s.site_levels.append(CODE_LEVELS[item.value])
    elif "site" in s.values:
        return False  # a second site: kept in the open part
    else:
        s.values["site"] = terms.term_for("site", item.value)
    if laterality is not None:
        s.values["laterality"] = laterality
    return True


def _r_levels(row: Row, item: Item, s: GroupState) -> bool:
    if item.value not in CODE_LEVELS or not _plain(item):
        return False
    s.levels.append((CODE_LEVELS[item.value], item))
    return True


def _num(item: Item) -> Num | None:
    return item.value if isinstance(item.value, Num) and _plain(item) else None


def _r_diameters(row: Row, item: Item, s: GroupState) -> bool:
    num = _num(item)
    mm = terms.convert(num.value, num.unit.value, "mm") if num else None
    if mm is None or not 0 < mm <= 1000:
        return False
    s.diameters.append((mm, item))
    return True


def _r_extent(row: Row, item: Item, s: GroupState) -> bool:
    num = _num(item)
    mm = terms.convert(num.value, num.unit.value, "mm") if num else None
    if mm is None or item.name in s.extent or not 0 < mm <= 1000:
        return False
    assert item.name is not None
    s.extent[item.name] = (mm, item)
    return True


def _r_num(row: Row, item: Item, s: GroupState) -> bool:
    num = _num(item)
    name = row.fields[0]
    assert row.unit is not None
    value = terms.convert(num.value, num.unit.value, row.unit.value) if num else None
    if value is None or name in s.values or value <= 0:
        return False
    s.values[name] = value
    return True


def _r_adc(row: Row, item: Item, s: GroupState) -> bool:
    num = item.value
    if not isinstance(num, Num) or num.unit.value not in vocab.ADC_UNITS \
            or any(i.value.unit.value != num.unit.value for _, i in s.adc):
        return False
    derivations = [c.value for c in item.children if c.name == Concept.DERIVATION]
    if len(item.children) != len(derivations) or len(derivations) > 1:
        return False
    target = _ADC_FIELDS.get(derivations[0] if derivations else None)
    if target is None or any(t == target for t, _ in s.adc) or (target == "adc_value" and num.value <= 0):
        return False
    s.adc.append((target, item))
    return True


def _settle_adc(s: GroupState, values: dict[str, Any], left: list[Item]) -> None:
    """ADC items become the typed fields only in the shapes the writer makes: one value
    without derivation, or mean + minimum and/or median each naming its derivation."""
    plain = [(t, i) for t, i in s.adc if not i.children]
    derived = [(t, i) for t, i in s.adc if i.children]
    targets = {t for t, _ in derived}
    if derived and not plain and "adc_value" in targets and len(targets) >= 2:
        chosen = derived
    elif len(plain) == 1 and plain[0][0] == "adc_value":
        chosen, left[:0] = plain, [i for _, i in derived]
    else:
        chosen, left[:0] = [], [i for _, i in s.adc]
    for target, item in chosen:
        values[target], values["adc_unit"] = item.value.value, item.value.unit.value


def _r_tracer(row: Row, item: Item, s: GroupState) -> bool:
    if item.name == Concept.RADIONUCLIDE:  # implied by the tracer when it is ours
        tracer = s.values.get("tracer")
        known = vocab.TRACERS.get(tracer) if isinstance(tracer, str) else None
        if known is None or item.value != known.nuclide or s.nuclide_seen or not _plain(item):
            return False
        s.nuclide_seen = True
        return True
    return _r_term(row, item, s)


def _r_segment(row: Row, item: Item, s: GroupState) -> bool:
    if item.name == Concept.REFERENCED_SEGMENT and isinstance(item.value, ImageValue) \
            and item.value.segment_number is not None and "seg_instance_uid" not in s.roi \
            and not item.value.frames and _plain(item):
        s.roi["seg_instance_uid"] = item.value.sop_instance_uid
        s.roi["segment_number"] = item.value.segment_number
        return True
    if item.name == Concept.SOURCE_SERIES_FOR_SEGMENTATION and isinstance(item.value, str) \
            and "source_series_uid" not in s.roi:
        s.roi["source_series_uid"] = item.value
        return True
    return False


def _r_centroid(row: Row, item: Item, s: GroupState) -> bool:
    g = item.value
    if not isinstance(g, Graphic) or g.graphic_type != "POINT" or len(g.data) != 3 \
            or "centroid_lps_mm" in s.roi or not g.frame_of_reference_uid or not _plain(item):
        return False
    s.roi["centroid_lps_mm"] = g.data
    s.roi["frame_of_reference_uid"] = g.frame_of_reference_uid
    return True


Writer = Callable[[Row, Finding], list[Item]]
Reader = Callable[[Row, Item, GroupState], bool]
HANDLERS: dict[str, tuple[Writer, Reader]] = {
    "text": (_w_text, _r_text), "code": (_w_code, _r_code), "term": (_w_term, _r_term),
    "site": (_w_site, _r_site), "levels": (_w_levels, _r_levels),
    "diameters": (_w_diameters, _r_diameters), "extent": (_w_extent, _r_extent),
    "num": (_w_num, _r_num), "adc": (_w_adc, _r_adc), "tracer": (_w_tracer, _r_tracer),
    "segment": (_w_segment, _r_segment), "centroid": (_w_centroid, _r_centroid),
}

# Written in this order; "measurements", "evaluations", "regions" and "other" (the open
# part) follow the CONTAINS rows and precede the acquisition context.
ROWS: tuple[Row, ...] = (
    Row("tracking_id", "text", ("tracking_id",), (Concept.TRACKING_IDENTIFIER,),
        relationship=HAS_OBS_CONTEXT),
    Row("tracking_uid", "text", ("tracking_uid",), (Concept.TRACKING_UID,),
        relationship=HAS_OBS_CONTEXT),
    Row("roi", "segment", ("roi",), (Concept.REFERENCED_SEGMENT, Concept.SOURCE_SERIES_FOR_SEGMENTATION)),
    Row("finding", "term", ("finding",), (Concept.FINDING,)),
    Row("site", "site", ("site", "laterality"), (Concept.FINDING_SITE,), relationship=HAS_CONCEPT_MOD),
    Row("dimensions_mm", "diameters", ("dimensions_mm",), (Concept.DIAMETER,)),
    Row("extent_mm", "extent", ("extent_mm",), _EXTENT),
    Row("volume_ml", "num", ("volume_ml",), (Concept.VOLUME,), unit=vocab.UNIT_CM3),
    Row("adc_value", "adc", ("adc_value", "adc_unit", "adc_min", "adc_median"), (Concept.ADC,)),
    Row("present", "code", ("present",), (Concept.PRESENCE,), vocab.PRESENCE, always=True),
    Row("certainty", "code", ("certainty",), (Concept.CERTAINTY,), vocab.CERTAINTY),
    Row("t1_signal", "code", ("t1_signal",), (Concept.T1_SIGNAL,), vocab.SIGNAL),
    Row("t2_signal", "code", ("t2_signal",), (Concept.T2_SIGNAL,), vocab.SIGNAL),
    Row("diffusion_restricted", "code", ("diffusion_restricted",), (Concept.RESTRICTED_DIFFUSION,),
        vocab.YES_NO_PRESENCE),
    Row("enhancement", "code", ("enhancement",), (Concept.ENHANCEMENT_DEGREE,), vocab.ENHANCEMENT),
    Row("enhancement_pattern", "code", ("enhancement_pattern",), (Concept.ENHANCEMENT_PATTERN,),
        vocab.ENHANCEMENT_PATTERN),
    Row("vertebral_levels", "levels", ("vertebral_levels",), (Concept.VERTEBRAL_LEVEL,)),
    Row("centroid", "centroid", ("roi",), (Concept.CENTER_OF_MASS,)),
    Row("contrast_agent", "code", ("contrast_agent",), (Concept.CONTRAST_AGENT,),
        vocab.CONTRAST_AGENTS, relationship=HAS_ACQ_CONTEXT),
    Row("tracer", "tracer", ("tracer",), (Concept.RADIOPHARMACEUTICAL, Concept.RADIONUCLIDE),
        relationship=HAS_ACQ_CONTEXT),
    Row("activity_mbq", "num", ("activity_mbq",), (Concept.ADMINISTERED_ACTIVITY,),
        relationship=HAS_ACQ_CONTEXT, unit=vocab.UNIT_MBQ),
)
ROW_BY_NAME = {row.name: row for row in ROWS}
# The open part of a group, selectable by templates like rows.
OPEN_PARTS = ("measurements", "evaluations", "regions", "other")
ROW_NAMES = tuple(ROW_BY_NAME) + OPEN_PARTS
ROWS_BY_CONCEPT: dict[Code, tuple[Row, ...]] = {}
for _row in ROWS:
    for _concept in _row.concepts:
        ROWS_BY_CONCEPT[_concept] = (*ROWS_BY_CONCEPT.get(_concept, ()), _row)
# Finding fields each row fills (the validator's map from a set field to its row).
ROW_OF_FIELD = {name: row for row in ROWS for name in row.fields}


def write_row(row: Row, finding: Finding) -> list[Item]:
    return HANDLERS[row.kind][0](row, finding)


def read_item(item: Item, state: GroupState, disabled: set[str] | frozenset[str] = frozenset()) -> bool:
    """Offer an item to the rows that read its concept (except ``disabled`` ones: rows the
    report's template does not select, or whose value did not fit); True when one took it."""
    for row in ROWS_BY_CONCEPT.get(item.name, ()) if item.name is not None else ():
        if row.name not in disabled and HANDLERS[row.kind][1](row, item, state):
            return True
    return False


def finish(state: GroupState) -> tuple[dict[str, Any], list[Item]]:
    """Field values of a group once every item has been offered, and the items taken
    provisionally that the typed fields cannot hold after all (kept in the open part)."""
    values = dict(state.values)
    left: list[Item] = list(state.moved)
    _settle_adc(state, values, left)
    if len(state.extent) == 3:
        values["extent_mm"] = tuple(state.extent[axis][0] for axis in _EXTENT)
    else:
        left += [item for _, item in state.extent.values()]
    if state.diameters:  # the model holds 1-3 diameters
        values["dimensions_mm"] = tuple(mm for mm, _ in state.diameters[:3])
        left += [item for _, item in state.diameters[3:]]
    levels = [lvl for lvl, _ in state.levels]
    if state.site_levels:
        values["vertebral_levels"] = tuple(state.site_levels)
        left += [item for _, item in state.levels]
    elif levels and len(set(levels)) == len(levels):
        values["vertebral_levels"] = tuple(levels)
    else:
        left += [item for _, item in state.levels]
    return values, left
