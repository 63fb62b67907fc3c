"""FHIR R5 Bundle (HL7 DICOM SR IG) -> Reports: the inverse of :mod:`.fhir_export`.

One Report per source-SR ImagingSelection (IG profile source-sr-content-item); Observations
and selections belong to the report whose selection they are ``derivedFrom``. Members tagged
with the ``finding-field`` extension go back to that field; untagged IG Observations (another
tool's bundle) become open measurements (valueQuantity) and evaluations (valueCodeableConcept).
Errors name the bundle file, the entry and the element.
"""

from __future__ import annotations

import math
from dataclasses import fields, replace
from typing import Any

from .. import terms, vocab
from ..errors import InputError, show
from ..levels import CODE_LEVELS
from ..model import Finding, ImageRef, Patient, Report, Roi, SRIdentity, Study
from ..observations import Evaluation, Measurement
from ..values import MAX_DEPTH, PADDING, VALUE_TYPES, ContentNode
from ..vocab import Code, Concept, code_from_json, code_to_json
from . import fhir_codes as fc
from .fhir_bundle import Bundle, check_parts, check_sources, field_of, json_text
from .fhir_codes import code_of, ext_value, uid_from


def _code_json(data: Any, where: str) -> dict[str, str]:
    return code_to_json(code_of(data, where))

_REVERSE = {name: vocab.reverse(table) for name, table in (
    ("present", vocab.PRESENCE), ("certainty", vocab.CERTAINTY), ("t1_signal", vocab.SIGNAL),
    ("t2_signal", vocab.SIGNAL), ("diffusion_restricted", vocab.YES_NO_PRESENCE),
    ("enhancement", vocab.ENHANCEMENT), ("enhancement_pattern", vocab.ENHANCEMENT_PATTERN),
    ("impression", vocab.IMPRESSION), ("contrast_agent", vocab.CONTRAST_AGENTS))}


def _profile(resource: dict[str, Any]) -> str | None:
    for url in (resource.get("meta") or {}).get("profile") or ():
        if isinstance(url, str) and url.startswith(fc.IG):
            return url[len(fc.IG):]
    return None


_field = field_of


def _nodes(resource: dict[str, Any], where: str) -> tuple[ContentNode, ...]:
    data = json_text(ext_value(resource, fc.EXT_CONTENT, "valueString"), where, "sr-content")
    if data is None:
        return ()
    if not isinstance(data, list):
        raise InputError(f"{where}: extension sr-content must hold a list of content items")
    return tuple(_node(n, f"{where}: sr-content[{i}]", 0) for i, n in enumerate(data))


def _node(data: Any, where: str, depth: int) -> ContentNode:
    """A kept content item, each level checked by the model. An item without a value type
    (the SR reader keeps one of a damaged SR as it is) is rebuilt as it was."""
    if depth > MAX_DEPTH:
        raise InputError(f"{where}: content nested deeper than {MAX_DEPTH} levels")
    if not isinstance(data, dict):
        raise InputError(f"{where}: expected a content item object, got {type(data).__name__}")
    children = data.get("children") or []
    if not isinstance(children, list):
        raise InputError(f"{where}: field 'children' must be a list")
    kids = tuple(_node(c, f"{where}.children[{k}]", depth + 1) for k, c in enumerate(children))
    if data.get("value_type") not in VALUE_TYPES and data.get("value") is None:
        concept = data.get("concept")
        return ContentNode(str(data.get("value_type")), data.get("relationship"),
                           code_from_json(concept, f"{where}.concept") if concept else None,
                           None, kids)
    node = replace(ContentNode.from_json({**data, "children": []}, where, depth), children=kids)
    text = data.get("value")
    if isinstance(text, str) and node.value == text.strip(PADDING) != text:
        # the model accepted the text; the SR reader keeps its padding, so keep it too
        node = replace(node, value=text)
    return node


def bundle_to_reports(bundle: dict[str, Any], where: str = "bundle") -> list[Report]:
    """The Reports of a FHIR Bundle (already checked against the R5 models)."""
    b = Bundle(bundle, where)
    sources = [(i, r) for i, r in b.order if r["resourceType"] == "ImagingSelection"
               and (_field(r) == "report" or _profile(r) == "source-sr-content-item")]
    check_sources(b, sources)
    source_urls = {b.url_of[id(r)] for _, r in sources if id(r) in b.url_of}
    member_urls = {m.get("reference") for _, r in b.order for m in r.get("hasMember") or ()
                   if isinstance(m, dict)}
    general = check_parts(b, member_urls)  # notes of the bundle: on its first report
    reports: list[Report] = []
    for i, source in sources:
        url = b.url_of.get(id(source))
        reports.append(_report(b, i, source, lambda r, url=url: url in b.sources(r), member_urls,
                               general if not reports else None))
    orphans = [(i, r) for i, r in b.order if r["resourceType"] == "Observation"
               and not source_urls & set(b.sources(r))]
    if orphans:  # another tool's bundle without a source-SR selection: one report
        ids = {id(r) for _, r in orphans}
        notes = [] if reports else general
        notes += [f"{where}: entries {', '.join(f'[{i}]' for i, _ in orphans[:10])}"
                 f"{' ...' if len(orphans) > 10 else ''} derive from no source-SR ImagingSelection: "
                 "read as one more report, without SR identity"] if sources else []
        reports.append(_report(b, None, None, lambda r: id(r) in ids, member_urls, notes))
    return reports


def _report(b: Bundle, i: int | None, source: dict[str, Any] | None, mine: Any,
            member_urls: set, notes: list[str] | None = None) -> Report:
    where = b.at(i) if i is not None else b.where
    start = len(b.warnings)
    b.warnings += notes or []
    src = source or {}
    findings: list[Finding] = []
    impression, evaluations = None, []
    effective = None
    for j, r in b.order:
        if r["resourceType"] != "Observation" or not mine(r):
            continue
        effective = effective or r.get("effectiveDateTime")
        field = _field(r)
        if field == "finding" or _profile(r) == "imaging-measurement-group" or (
                field is None and (r.get("hasMember") or _is_group_code(r))):
            findings.append(_finding(b, j, r))
        elif field == "impression":
            impression = _term("impression", _value_code(r, b.at(j)), b.at(j))
        elif field == "report-evaluations" or (
                field is None and b.url_of.get(id(r)) not in member_urls):
            if r.get("valueCodeableConcept") is None:
                b.warnings.append(f"{b.at(j)}: a report-level Observation without a coded or "
                                  "text value is not read")
                continue
            evaluations.append(_evaluation(r, b.at(j)))
    procedure = ext_value(src, fc.EXT_PROCEDURE, "valueCodeableConcept")
    modality = ext_value(src, fc.EXT_MODALITY, "valueCoding")
    try:
        report = Report(
            modality=modality.get("code") if isinstance(modality, dict) else None,
            procedure=_procedure(procedure, modality, where),
            findings=tuple(findings), impression=impression,
            observer=_observer(src), indication=ext_value(src, fc.EXT_INDICATION, "valueString"),
            patient=_patient(src or _first(b, mine)), study=_study(src, effective, where),
            source_images=_images(b, mine, source), sr=_sr(src, where),
            evaluations=tuple(evaluations), other=_nodes(src, where))
    except InputError as exc:
        if str(exc).startswith(b.where):
            raise
        raise InputError(f"{where}: {exc}") from None
    return replace(report.with_findings_in_context(), warnings=tuple(b.warnings[start:]))


def _is_group_code(r: dict[str, Any]) -> bool:
    codings = (r.get("code") or {}).get("coding") or [{}]
    return codings[0].get("system") == fc.SYSTEMS["DCM"] and codings[0].get("code") == "125007"


def _procedure(value: Any, modality: Any, where: str) -> str | Code | None:
    """A procedure name when its code names one of this modality, else the code (as the SR
    reader keeps a procedure whose name would contradict the images' modality)."""
    if value is None:
        return None
    code = code_of(value, f"{where}: procedure")
    names = [n for n, p in vocab.PROCEDURES.items() if p.performed == code]
    mod = modality.get("code") if isinstance(modality, dict) else None
    return next((n for n in names if vocab.PROCEDURES[n].modality == mod), code)


def _first(b: Bundle, mine: Any) -> dict[str, Any]:
    return next((r for _, r in b.order if mine(r)), {})


def _observer(src: dict[str, Any]) -> str | None:
    for performer in src.get("performer") or ():
        display = (performer.get("actor") or {}).get("display")
        if isinstance(display, str):
            return display
    return None


def _patient(resource: dict[str, Any]) -> Patient:
    ident = (resource.get("subject") or {}).get("identifier") or {}
    return Patient(id=ident.get("value"), issuer=(ident.get("assigner") or {}).get("display"))


def _study(src: dict[str, Any], effective: Any, where: str) -> Study:
    accession = None
    for ref in src.get("basedOn") or ():
        accession = accession or (ref.get("identifier") or {}).get("value")
    text = ext_value(src, fc.EXT_STUDY, "valueString")
    extra = json_text(text, where, "study") if isinstance(text, str) else {}
    if not isinstance(extra, dict):
        raise InputError(f"{where}: extension study is not a JSON object (it is "
                         f"{type(extra).__name__})")
    if "date" not in extra and isinstance(effective, str):
        extra["date"] = effective.replace("-", "")[:8]
    keys = {f.name for f in fields(Study)} - {"instance_uid", "accession_number"}  # elements
    unknown = sorted(set(extra) - keys)
    if unknown:
        raise InputError(f"{where}: extension study has an unknown key {show(unknown[0])}")
    return Study(instance_uid=src.get("studyUid"), accession_number=accession, **extra)


def _sr(src: dict[str, Any], where: str) -> SRIdentity | None:
    instances = src.get("instance") or ()
    if not instances or not src.get("seriesUid"):
        return None
    date = ext_value(src, fc.EXT_CONTENT_DATE, "valueDate")
    text = {url: value if isinstance(value := ext_value(src, url, "valueString"), str) else None
            for url in (fc.EXT_CONTENT_TIME, fc.EXT_TIMEZONE, fc.EXT_EQUIPMENT)}
    equipment = json_text(text[fc.EXT_EQUIPMENT], where, "equipment") or {}
    if not isinstance(equipment, dict):
        raise InputError(f"{where}: extension equipment is not a JSON object (it is "
                         f"{type(equipment).__name__})")
    return SRIdentity(sop_instance_uid=instances[0]["uid"], series_instance_uid=src["seriesUid"],
                      sop_class_uid=(instances[0].get("sopClass") or {}).get("code", ""),
                      content_date=date.replace("-", "") if isinstance(date, str) else None,
                      content_time=text[fc.EXT_CONTENT_TIME], timezone_offset=text[fc.EXT_TIMEZONE],
                      manufacturer=_text_or_none(equipment.get("manufacturer")),
                      model_name=_text_or_none(equipment.get("model_name")))


def _text_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _images(b: Bundle, mine: Any, source: dict[str, Any] | None) -> tuple[ImageRef, ...]:
    out = []
    for _, r in b.order:
        if r["resourceType"] != "ImagingSelection" or _field(r) != "source_images":
            continue
        if source is not None and b.url_of.get(id(source)) not in [
                f.get("reference") for f in r.get("focus") or ()]:
            continue
        for inst in r.get("instance") or ():
            out.append(ImageRef(sop_class_uid=(inst.get("sopClass") or {}).get("code", ""),
                                sop_instance_uid=inst.get("uid", ""),
                                series_instance_uid=r.get("seriesUid", ""),
                                study_instance_uid=r.get("studyUid", "")))
    return tuple(out)


def _value_code(r: dict[str, Any], where: str) -> Code | str:
    value = r.get("valueCodeableConcept")
    if not isinstance(value, dict):
        raise InputError(f"{where}: a qualitative evaluation needs valueCodeableConcept")
    if value.get("coding"):
        return code_of(value, f"{where}: valueCodeableConcept")
    text = value.get("text")
    if not isinstance(text, str):
        raise InputError(f"{where}: valueCodeableConcept has neither coding nor text")
    return text


def _term(field: str, value: Code | str, where: str) -> Any:
    """The model value of a coded field (present, certainty, impression ...)."""
    table = _REVERSE[field]
    if not isinstance(value, Code) or value not in table:
        raise InputError(f"{where}: {field} has value {value!s}; expected one of "
                         + ", ".join(c.meaning for c in table))
    return table[value]


def _evaluation(r: dict[str, Any], where: str) -> Evaluation:
    return Evaluation(code_of(r.get("code"), f"{where}: code"), _value_code(r, where),
                      _nodes(r, where))


def _quantity(r: dict[str, Any], where: str) -> tuple[float, Code]:
    q = r.get("valueQuantity")
    if not isinstance(q, dict) or q.get("value") is None or not q.get("code"):
        raise InputError(f"{where}: a measurement needs valueQuantity with value and code")
    if q.get("system") not in (None, fc.SYSTEMS["UCUM"]):
        raise InputError(f"{where}: valueQuantity system {show(q.get('system'))} is not UCUM")
    try:
        value = float(q["value"]) if not isinstance(q["value"], bool) else math.nan
    except (TypeError, ValueError, OverflowError):
        value = math.nan
    if not math.isfinite(value):
        raise InputError(f"{where}: valueQuantity.value {show(q['value'])} is not a finite number")
    return value, Code(q["code"], "UCUM", q.get("unit") or q["code"])


def _in_unit(value: float, unit: Code, to: str, field: str, where: str) -> float:
    """``value`` in ``unit`` expressed in ``to`` (the unit of the model's field): converted
    when the units are of one dimension (cm -> mm), refused when they are not."""
    try:
        code = terms.unit_code(unit.value).value  # a known spelling: its UCUM code
    except InputError:
        code = unit.value  # not a UCUM code: refused below
    out = terms.convert(value, code, to)
    if out is None:
        raise InputError(f"{where}: valueQuantity.code: unit {show(unit.value)} is not a unit of "
                         f"{field} (which holds {to}; a unit of the same dimension is converted)")
    if terms.same_unit(code, to):
        return value
    return float(f"{out:.15g}")  # 2.6 cm: 26 mm, not 26.000000000000004


def _derivation(r: dict[str, Any], where: str) -> Code | None:
    for comp in r.get("component") or ():
        if code_of(comp.get("code"), f"{where}: component") == Concept.DERIVATION:
            return code_of(comp.get("valueCodeableConcept"), f"{where}: derivation")
    return None


def _finding(b: Bundle, i: int, group: dict[str, Any]) -> Finding:
    where = b.at(i)
    kw: dict[str, Any] = {"present": True}  # the model's default; ours always state it
    measurements: list[Measurement] = []
    evaluations: list[Evaluation] = []
    regions: list[ContentNode] = []
    dims: list[float] = []
    extent: list[float] = []
    levels: list[str] = []
    if group.get("valueCodeableConcept"):
        kw["finding"] = code_of(group["valueCodeableConcept"], f"{where}: valueCodeableConcept")
    for ident in group.get("identifier") or ():
        kind = code_of(ident.get("type"), f"{where}: identifier.type") if ident.get("type") else None
        if kind == Concept.TRACKING_IDENTIFIER:
            kw["tracking_id"] = ident.get("value")
        elif kind == Concept.TRACKING_UID:
            kw["tracking_uid"] = uid_from(ident.get("value"), f"{where}: identifier")
    if group.get("bodySite"):
        kw["site"] = code_of(group["bodySite"], f"{where}: bodySite")
    if group.get("bodyStructure"):
        j, body = b.get(group["bodyStructure"], f"{where}: bodyStructure")
        _body_structure(body, b.at(j), kw, levels)
    for comp in group.get("component") or ():
        code = code_of(comp.get("code"), f"{where}: component.code")
        if code == Concept.RADIOPHARMACEUTICAL:
            kw["tracer"] = code_of(comp.get("valueCodeableConcept"), f"{where}: tracer")
        elif code == Concept.ADMINISTERED_ACTIVITY:
            value, unit = _quantity(comp, f"{where}: component")
            kw["activity_mbq"] = _in_unit(value, unit, "MBq", "activity_mbq", f"{where}: component")
        elif code == Concept.CONTRAST_AGENT:
            agent = code_of(comp.get("valueCodeableConcept"), f"{where}: contrast agent")
            kw["contrast_agent"] = _term("contrast_agent", agent, where)
    roi: dict[str, Any] = {}
    for ref in group.get("derivedFrom") or ():
        if ref.get("reference") not in b.by_url:
            continue
        j, sel = b.by_url[ref["reference"]]
        if sel["resourceType"] != "ImagingSelection" or _field(sel) == "report":
            continue
        _selection(sel, b.at(j), roi, regions)
    if roi:
        kw["roi"] = Roi(**roi)
    member_fields = set()
    for k, ref in enumerate(group.get("hasMember") or ()):
        j, member = b.get(ref, f"{where}: hasMember[{k}]")
        member_fields.add(_field(member))
        _member(member, b.at(j), kw, dims, extent, levels, measurements, evaluations)
    if _field(group) == "finding" and "present" not in member_fields:  # ours always states it
        raise InputError(f"{where}: a measurement group (finding-field 'finding') without its "
                         "'present' member: hasMember lost members")
    for name in ("adc_min", "adc_median"):
        if isinstance(kw.get(name), tuple):
            value, unit, at = kw[name]
            kw[name] = _in_unit(value, unit, kw.get("adc_unit") or unit.value, name, at)
    kw.update(measurements=tuple(measurements), evaluations=tuple(evaluations),
              regions=tuple(regions), other=_nodes(group, where))
    if dims:
        kw["dimensions_mm"] = tuple(dims)
    if extent:
        kw["extent_mm"] = tuple(extent)
    if levels:
        kw["vertebral_levels"] = tuple(levels)
    try:
        return Finding(**kw)
    except InputError as exc:
        if str(exc).startswith(b.where):
            raise
        raise InputError(f"{where}: {exc}") from None


def _body_structure(body: dict[str, Any], where: str, kw: dict[str, Any], levels: list) -> None:
    parts = body.get("includedStructure") or []
    codes = [code_of(p.get("structure"), f"{where}: includedStructure.structure") for p in parts]
    landmarks = [code_of(c, f"{where}: landmarkDescription") for p in parts
                 for orient in p.get("bodyLandmarkOrientation") or ()
                 for c in orient.get("landmarkDescription") or ()]
    if codes and not landmarks and all(c in CODE_LEVELS for c in codes):
        kw["site"] = "vertebra"  # a lesion in these vertebrae
        levels += [CODE_LEVELS[c] for c in codes]
    elif codes:
        kw["site"] = codes[0]
        levels += [CODE_LEVELS[c] for c in landmarks if c in CODE_LEVELS]
    lat = next((p.get("laterality") for p in parts if p.get("laterality")), None)
    if lat:
        kw["laterality"] = code_of(lat, f"{where}: laterality")


def _selection(sel: dict[str, Any], where: str, roi: dict[str, Any], regions: list) -> None:
    field = _field(sel)
    instances = sel.get("instance") or [{}]
    if field == "roi" or (field is None and _profile(sel) == "referenced-segment"):
        subset = instances[0].get("subset") or ["1"]
        roi.update(seg_instance_uid=instances[0].get("uid"), segment_number=int(subset[0]),
                   source_series_uid=sel.get("seriesUid"))
    elif field == "roi-centroid":
        region = (instances[0].get("imageRegion3D") or [{}])[0]
        roi.update(centroid_lps_mm=tuple(float(v) for v in region.get("coordinate") or ()),
                   frame_of_reference_uid=sel.get("frameOfReferenceUid"))
    else:
        regions.extend(_nodes(sel, where) or _native_regions(sel, where))


_GRAPHIC = {"point": "POINT", "polyline": "POLYLINE", "circle": "CIRCLE", "ellipse": "ELLIPSE",
            "multipoint": "MULTIPOINT", "polygon": "POLYGON", "ellipsoid": "ELLIPSOID"}


def _native_regions(sel: dict[str, Any], where: str) -> list[ContentNode]:
    """Another tool's ImagingSelection (no sr-content): each instance is an IMAGE item, or a
    SCOORD (2D region, SELECTED FROM the image) / SCOORD3D (3D region) when it has one."""
    concept = _code_json(sel["code"], f"{where}: code") if sel.get("code") else None
    out = []
    for k, inst in enumerate(sel.get("instance") or ()):
        at = f"{where}: instance[{k}]"
        sop_class = uid_from((inst.get("sopClass") or {}).get("code"), f"{at}: sopClass")
        frames = [int(n) for n in inst.get("subset") or () if str(n).isdigit()]
        image = {"sop_class_uid": sop_class, "sop_instance_uid": inst.get("uid"),
                 "segment_number": None, "frames": frames or None}
        if sop_class == vocab.SEGMENTATION_STORAGE and len(frames) == 1:
            image.update(segment_number=frames[0], frames=None)
        item: dict[str, Any] = {"value_type": "IMAGE", "relationship": "CONTAINS",
                                "concept": concept, "value": image}
        region2d = (inst.get("imageRegion2D") or [None])[0]
        region3d = (inst.get("imageRegion3D") or [None])[0]
        if region2d or region3d:
            region = region2d or region3d
            kind = _GRAPHIC.get(str(region.get("regionType")))
            if kind is None:
                raise InputError(f"{at}: region type {show(region.get('regionType'))} has no DICOM "
                                 "graphic type")
            value = {"graphic_type": kind, "data": region.get("coordinate") or [],
                     "frame_of_reference_uid": sel.get("frameOfReferenceUid") if region3d else None}
            item = {"value_type": "SCOORD3D" if region3d else "SCOORD", "relationship": "CONTAINS",
                    "concept": concept, "value": value, "children": [] if region3d else [
                        {"value_type": "IMAGE", "relationship": "SELECTED FROM", "concept": None,
                         "value": image}]}
        out.append(_node(item, at, 0))
    if not out:
        raise InputError(f"{where}: an ImagingSelection without instances (a region without "
                         "image or coordinates cannot be kept)")
    return out


def _member(r: dict[str, Any], where: str, kw: dict[str, Any], dims: list, extent: list,
            levels: list, measurements: list, evaluations: list) -> None:
    field = _field(r)
    if field in ("dimensions_mm", "extent_mm", "volume_ml", "adc_value", "adc_min", "adc_median"):
        value, unit = _quantity(r, where)
        if field == "dimensions_mm":
            dims.append(_in_unit(value, unit, "mm", field, where))
        elif field == "extent_mm":
            extent.append(_in_unit(value, unit, "mm", field, where))
        elif field == "volume_ml":
            kw[field] = _in_unit(value, unit, "mL", field, where)
        elif field == "adc_value":
            kw[field], kw["adc_unit"] = value, unit.value
        else:  # adc_min, adc_median: in the unit of adc_value, once all members are read
            kw[field] = (value, unit, where)
    elif field in _REVERSE:
        kw[field] = _term(field, _value_code(r, where), where)
    elif field == "laterality":
        kw["laterality"] = _value_code(r, where)
    elif field == "vertebral_levels":
        code = _value_code(r, where)
        if not isinstance(code, Code) or code not in CODE_LEVELS:
            raise InputError(f"{where}: vertebral level {code!s} is not a vertebra code")
        levels.append(CODE_LEVELS[code])
    elif field == "measurements" or (field is None and r.get("valueQuantity")):
        value, unit = _quantity(r, where)
        measurements.append(Measurement(
            code_of(r.get("code"), f"{where}: code"), value, unit, derivation=_derivation(r, where),
            method=code_of(r["method"], f"{where}: method") if r.get("method") else None,
            site=code_of(r["bodySite"], f"{where}: bodySite") if r.get("bodySite") else None,
            children=_nodes(r, where)))
    elif field == "evaluations" or field is None:
        evaluations.append(_evaluation(r, where))
    else:
        raise InputError(f"{where}: extension finding-field has value {show(field)}, which no "
                         "finding field has")
