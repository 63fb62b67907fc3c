"""Report -> FHIR R5 resources, following the HL7 DICOM SR to FHIR IG (hl7.fhir.uv.dicom-sr).

Plain JSON dicts are built here (fast, ordered, reproducible); :mod:`.fhir` validates every one
with the fhir.resources R5 models before anything is written. One finding (TID 1501 group) is
one ImagingMeasurementGroup Observation whose ``hasMember`` are ImagingMeasurement (NUM) and
ImagingQualitativeEvaluation (CODE/TEXT) Observations; a site with laterality or vertebral
levels is a BodyStructure; segments, centres of mass, regions, the image library and the SR
itself are ImagingSelections. What the IG has no element for is in a component or one of the
extensions of :mod:`.fhir_codes` (docs/fhir.md lists them). Every member carries the
``finding-field`` extension naming the Finding field it holds, so import is exact.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from .. import terms, vocab
from ..levels import LEVEL_CODES
from ..model import Finding, Report
from ..observations import Measurement
from ..values import ContentNode, Graphic, ImageValue
from ..vocab import Concept
from . import fhir_codes as fc
from .fhir_codes import coding, concept, extension, full_url, uid_value

Entry = dict[str, Any]

MODALITY_MEANINGS = {"MR": "Magnetic Resonance", "CT": "Computed Tomography",
                     "NM": "Nuclear Medicine", "PT": "Positron emission tomography",
                     "US": "Ultrasound", "SM": "Slide Microscopy"}
ORIGINAL_SOURCE = vocab.Code("111040", "DCM", "Original Source")
IMAGE_REGION = vocab.Code("111030", "DCM", "Image Region")
DIAGNOSTIC_IMAGING = {"system": fc.SYSTEMS["LN"], "code": "18748-4",
                      "display": "Diagnostic imaging study"}
# Graphic types an ImagingSelection region can hold (R5 value sets).
_TYPES_2D = {"POINT": "point", "POLYLINE": "polyline", "CIRCLE": "circle", "ELLIPSE": "ellipse"}


def seed_of(report: Report) -> str:
    """What the fullUrls of a report derive from: its SR's SOP Instance UID, else a hash of
    the report (a Report built in memory), so the same input gives the same bundle."""
    if report.sr is not None:
        return report.sr.sop_instance_uid
    text = json.dumps(report.to_json(), sort_keys=True, default=str)
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def _field(name: str) -> dict[str, Any]:
    return extension(fc.EXT_FIELD, valueCode=name)


def _ref(url: str) -> dict[str, str]:
    return {"reference": url}


class _ReportExport:
    """The resources of one Report, in a fixed order."""

    def __init__(self, report: Report):
        self.report = report
        self.seed = seed_of(report)
        self.entries: list[Entry] = []
        p, s = report.patient, report.study
        self.subject: dict[str, Any] | None = None
        if p.id:
            ident: dict[str, Any] = {"value": p.id}
            if p.issuer:
                ident["assigner"] = {"display": p.issuer}
            self.subject = {"type": "Patient", "identifier": ident}
        self.study = ({"type": "ImagingStudy", "identifier": {
            "type": {"coding": [fc.STUDY_UID_TYPE]}, "system": fc.DICOM_UID,
            "value": uid_value(s.instance_uid)}} if s.instance_uid else None)
        self.based_on = ([{"type": "ServiceRequest", "identifier": {
            "type": {"coding": [fc.ACSN]}, "value": s.accession_number}}]
            if s.accession_number else None)
        self.effective = (f"{s.date[:4]}-{s.date[4:6]}-{s.date[6:8]}"
                          if s.date and len(s.date) == 8 else None)
        self.source_url = full_url(self.seed, "sr")
        self.issued = _instant(report.sr)
        self.device: dict[str, str] | None = None  # reference to the Device, once added

    # -- generic pieces ---------------------------------------------------------------
    def add(self, path: str, resource: dict[str, Any]) -> str:
        url = full_url(self.seed, path)
        self.entries.append({"fullUrl": url, "resource": resource,
                             "request": {"method": "POST", "url": resource["resourceType"]}})
        return url

    def _context(self, resource: dict[str, Any], *, observation: bool) -> dict[str, Any]:
        if self.based_on:
            resource["basedOn"] = self.based_on
        if observation:
            if self.study:
                resource["partOf"] = [self.study]
        else:
            if self.report.study.instance_uid:
                resource["studyUid"] = self.report.study.instance_uid
            if self.study:
                resource["derivedFrom"] = [self.study]
        if self.subject:
            resource["subject"] = self.subject
        if observation and self.effective:
            resource["effectiveDateTime"] = self.effective
        return resource

    def observation(self, profile: str, field: str, code: vocab.Code, *,
                    category: vocab.Code | None = None) -> dict[str, Any]:
        obs: dict[str, Any] = {"resourceType": "Observation", "meta": {"profile": [fc.IG + profile]},
                               "extension": [_field(field)], "status": "final"}
        if category is not None:
            obs["category"] = [concept(category)]
        obs["code"] = concept(code)
        self._context(obs, observation=True)
        if self.issued:  # the IG's issued: when the SR content was made
            obs["issued"] = self.issued
        if self.device:  # the IG's device: the equipment that wrote the SR
            obs["device"] = self.device
        obs["derivedFrom"] = [_ref(self.source_url)]
        return obs

    def selection(self, profile: str | None, field: str, code: vocab.Code | None) -> dict[str, Any]:
        sel: dict[str, Any] = {"resourceType": "ImagingSelection"}
        if profile:
            sel["meta"] = {"profile": [fc.IG + profile]}
        sel["extension"] = [_field(field)]
        sel["status"] = "available"
        self._context(sel, observation=False)
        if code is not None:
            sel["code"] = concept(code)
        if field != "report":  # the IG's focus[sourceSRContentItem]: the SR it comes from
            sel["focus"] = [_ref(self.source_url)]
        return sel

    def measurement(self, path: str, field: str, code: vocab.Code, value: float, unit: vocab.Code, *,
                    derivation: vocab.Code | None = None, method: vocab.Code | None = None,
                    site: vocab.Code | None = None, children: tuple[ContentNode, ...] = ()) -> str:
        obs = self.observation("imaging-measurement", field, code)
        obs["valueQuantity"] = {"value": value, "unit": unit.meaning, "system": fc.SYSTEMS["UCUM"],
                                "code": unit.value}
        if site is not None:
            obs["bodySite"] = concept(site)
        if method is not None:
            obs["method"] = concept(method)
        if derivation is not None:
            obs["component"] = [{"code": concept(Concept.DERIVATION),
                                 "valueCodeableConcept": concept(derivation)}]
        if children:
            obs["extension"].append(extension(fc.EXT_CONTENT, valueString=fc.content_json(
                [c.to_json() for c in children])))
        return self.add(path, obs)

    def evaluation(self, path: str, field: str, code: vocab.Code, value: vocab.Code | str,
                   children: tuple[ContentNode, ...] = ()) -> str:
        obs = self.observation("imaging-qualitative-evaluation", field, code,
                               category=Concept.QUALITATIVE_EVALUATIONS)
        obs["valueCodeableConcept"] = concept(value) if isinstance(value, vocab.Code) else {"text": value}
        if children:
            obs["extension"].append(extension(fc.EXT_CONTENT, valueString=fc.content_json(
                [c.to_json() for c in children])))
        return self.add(path, obs)

    # -- the report -------------------------------------------------------------------
    def run(self, diagnostic_report: bool) -> list[Entry]:
        r = self.report
        sr = r.sr
        if sr is not None and sr.manufacturer:  # its fullUrl is known before it is added last
            self.device = _ref(full_url(self.seed, "device"))
        self._source_sr()
        self._image_library()
        groups = [self._finding(i, f) for i, f in enumerate(r.findings)]
        results = list(groups)
        if r.impression is not None:
            results.append(self.evaluation("impression", "impression", Concept.IMPRESSION,
                                           vocab.IMPRESSION[r.impression]))
        for k, e in enumerate(r.evaluations):
            results.append(self.evaluation(f"evaluation/{k}", "report-evaluations", e.concept_code,
                                           e.value, e.children))
        if diagnostic_report:
            self._diagnostic_report(results)
        self._device()
        return self.entries

    def _device(self) -> None:
        """The Device every Observation names (the IG's Observation.device): the equipment
        that wrote the SR, as its header says."""
        sr = self.report.sr
        if sr is None or not sr.manufacturer:
            return
        device: dict[str, Any] = {"resourceType": "Device", "manufacturer": sr.manufacturer}
        if sr.model_name:
            device["modelNumber"] = sr.model_name
        self.add("device", device)

    def _source_sr(self) -> None:
        r = self.report
        sel = self.selection("source-sr-content-item", "report", ORIGINAL_SOURCE)
        if r.sr is not None:
            sel["seriesUid"] = r.sr.series_instance_uid
            sel["instance"] = [{"uid": r.sr.sop_instance_uid, "sopClass": {
                "system": fc.SOP_CLASS_SYSTEM, "code": r.sr.sop_class_uid}}]
        if r.observer:
            sel["performer"] = [{"actor": {"display": r.observer}}]
        ext = sel["extension"]
        if r.procedure is not None:
            code = (vocab.PROCEDURES[r.procedure].performed if isinstance(r.procedure, str)
                    else r.procedure)
            ext.append(extension(fc.EXT_PROCEDURE, valueCodeableConcept=concept(code)))
        if r.modality is not None:
            ext.append(extension(fc.EXT_MODALITY, valueCoding={
                "system": fc.SYSTEMS["DCM"], "code": r.modality,
                "display": MODALITY_MEANINGS[r.modality]}))
        if r.indication:
            ext.append(extension(fc.EXT_INDICATION, valueString=r.indication))
        if r.sr is not None and r.sr.content_date and len(r.sr.content_date) == 8:
            d = r.sr.content_date
            ext.append(extension(fc.EXT_CONTENT_DATE, valueDate=f"{d[:4]}-{d[4:6]}-{d[6:]}"))
        if r.sr is not None:
            if r.sr.content_time:
                ext.append(extension(fc.EXT_CONTENT_TIME, valueString=r.sr.content_time))
            if r.sr.timezone_offset:
                ext.append(extension(fc.EXT_TIMEZONE, valueString=r.sr.timezone_offset))
            equipment = {k: getattr(r.sr, k) for k in ("manufacturer", "model_name") if getattr(r.sr, k)}
            if equipment:
                ext.append(extension(fc.EXT_EQUIPMENT, valueString=fc.content_json(equipment)))
        study = {k: getattr(r.study, k) for k in ("date", "time", "id", "description", "patient_age")
                 if getattr(r.study, k) is not None}
        if study:
            ext.append(extension(fc.EXT_STUDY, valueString=fc.content_json(study)))
        if r.other:
            ext.append(extension(fc.EXT_CONTENT, valueString=fc.content_json(
                [c.to_json() for c in r.other])))
        self.add("sr", sel)  # its fullUrl is self.source_url

    def _image_library(self) -> None:
        series: dict[tuple[str, str], list[Any]] = {}
        for ref in self.report.source_images:
            series.setdefault((ref.study_instance_uid, ref.series_instance_uid), []).append(ref)
        for k, ((study, uid), refs) in enumerate(series.items()):
            sel = self.selection(None, "source_images", Concept.IMAGE_LIBRARY)
            sel["studyUid"] = study
            sel["seriesUid"] = uid
            sel["instance"] = [{"uid": ref.sop_instance_uid, "sopClass": {
                "system": fc.SOP_CLASS_SYSTEM, "code": ref.sop_class_uid}} for ref in refs]
            self.add(f"images/{k}", sel)

    def _diagnostic_report(self, results: list[str]) -> None:
        """Outside the IG (it excludes making a DiagnosticReport from an SR): offered on request."""
        r = self.report
        dr: dict[str, Any] = {"resourceType": "DiagnosticReport", "extension": [_field("report")],
                              "status": "final"}
        if self.based_on:
            dr["basedOn"] = self.based_on
        code = (vocab.PROCEDURES[r.procedure].performed if isinstance(r.procedure, str)
                else r.procedure)
        dr["code"] = {"coding": [DIAGNOSTIC_IMAGING] + ([coding(code)] if code else [])}
        if self.subject:
            dr["subject"] = self.subject
        if self.effective:
            dr["effectiveDateTime"] = self.effective
        if r.observer:
            dr["resultsInterpreter"] = [{"display": r.observer}]
        dr["result"] = [_ref(u) for u in results]
        if self.study:
            dr["study"] = [self.study]
        if r.impression is not None:
            dr["conclusionCode"] = [concept(vocab.IMPRESSION[r.impression])]
        self.add("diagnostic-report", dr)

    # -- one finding ------------------------------------------------------------------
    def _finding(self, i: int, f: Finding) -> str:
        base = f"finding/{i}"
        slot = len(self.entries)  # the group comes before its parts; filled in at the end
        self.entries.append({})
        group = self.observation("imaging-measurement-group", "finding", Concept.MEASUREMENT_GROUP)
        ident = []
        if f.tracking_id:
            ident.append({"type": concept(Concept.TRACKING_IDENTIFIER), "value": f.tracking_id})
        if f.tracking_uid:
            ident.append({"type": concept(Concept.TRACKING_UID), "system": fc.DICOM_UID,
                          "value": uid_value(f.tracking_uid)})
        if ident:
            group["identifier"] = ident
        if f.finding is not None:
            group["valueCodeableConcept"] = concept(terms.code_for("finding", f.finding))
        evaluations: list[tuple[str, vocab.Code, vocab.Code | str, tuple]] = []
        self._site(base, f, group, ident, evaluations)
        selections = self._selections(base, f)
        if selections:
            group["derivedFrom"] += [_ref(u) for u in selections]
        members = self._measurements(base, f)
        members += self._evaluations(base, f, evaluations)
        if members:
            group["hasMember"] = [_ref(u) for u in members]
        components = _components(f)
        if components:
            group["component"] = components
        if f.other:
            group["extension"].append(extension(fc.EXT_CONTENT, valueString=fc.content_json(
                [c.to_json() for c in f.other])))
        url = full_url(self.seed, base)
        self.entries[slot] = {"fullUrl": url, "resource": group,
                              "request": {"method": "POST", "url": "Observation"}}
        return url

    def _site(self, base: str, f: Finding, group: dict[str, Any], ident: list,
              evaluations: list) -> None:
        """Finding Site: ``bodySite`` when plain, a BodyStructure with laterality / vertebral
        levels (the IG's rule); without a site, laterality and levels are evaluations."""
        levels = f.vertebral_levels or ()
        lat = terms.code_for("laterality", f.laterality) if f.laterality is not None else None
        if f.site is None:
            if lat is not None:
                evaluations.append(("laterality", Concept.LATERALITY, lat, ()))
            for level in levels:
                evaluations.append(("vertebral_levels", Concept.VERTEBRAL_LEVEL, LEVEL_CODES[level], ()))
            return
        site = terms.code_for("site", f.site)
        if lat is None and not levels:
            group["bodySite"] = concept(site)
            return
        if f.site == "vertebra" and levels:
            parts = [{"structure": concept(LEVEL_CODES[lv])} for lv in levels]
        else:
            part: dict[str, Any] = {"structure": concept(site)}
            if levels:
                part["bodyLandmarkOrientation"] = [{"landmarkDescription": [
                    concept(LEVEL_CODES[lv]) for lv in levels]}]
            parts = [part]
        if lat is not None:
            for part in parts:
                part["laterality"] = concept(lat)
        body: dict[str, Any] = {"resourceType": "BodyStructure",
                                "meta": {"profile": [fc.IG + "dicom-sr-finding-site"]}}
        if ident:
            body["identifier"] = ident
        body["includedStructure"] = parts
        body["patient"] = self.subject or {"display": "patient not identified in the SR"}
        group["bodyStructure"] = _ref(self.add(f"{base}/site", body))

    def _selections(self, base: str, f: Finding) -> list[str]:
        out = []
        roi = f.roi
        if roi is not None:
            sel = self.selection("referenced-segment", "roi", Concept.REFERENCED_SEGMENT)
            sel["seriesUid"] = roi.source_series_uid
            seg = {"uid": roi.seg_instance_uid, "sopClass": {
                "system": fc.SOP_CLASS_SYSTEM, "code": vocab.SEGMENTATION_STORAGE},
                "subset": [str(roi.segment_number)]}
            sel["instance"] = [seg]
            out.append(self.add(f"{base}/segment", sel))
            if roi.centroid_lps_mm is not None:
                sel = self.selection("image-region-3d", "roi-centroid", Concept.CENTER_OF_MASS)
                sel["frameOfReferenceUid"] = roi.frame_of_reference_uid
                sel["instance"] = [{**seg, "imageRegion3D": [
                    {"regionType": "point", "coordinate": list(roi.centroid_lps_mm)}]}]
                out.append(self.add(f"{base}/centroid", sel))
        for k, node in enumerate(f.regions):
            out.append(self.add(f"{base}/region/{k}", self._region(node)))
        return out

    def _region(self, node: ContentNode) -> dict[str, Any]:
        """An image reference or region: the IG's ImagingSelection elements where they exist,
        and the SR content item itself (relationship, children) in an extension."""
        sel = self.selection(None, "regions", node.concept)
        value = node.value
        image = value if isinstance(value, ImageValue) else next(
            (c.value for c in node.children if isinstance(c.value, ImageValue)), None)
        instance: dict[str, Any] | None = None
        if image is not None:
            instance = {"uid": image.sop_instance_uid,
                        "sopClass": {"system": fc.SOP_CLASS_SYSTEM, "code": image.sop_class_uid}}
            if image.frames:
                instance["subset"] = [str(n) for n in image.frames]
            elif image.segment_number is not None:
                instance["subset"] = [str(image.segment_number)]
        if isinstance(value, Graphic):
            if node.value_type == "SCOORD" and instance is not None and value.graphic_type in _TYPES_2D:
                sel["meta"] = {"profile": [fc.IG + "image-region-2d"]}
                instance["imageRegion2D"] = [{"regionType": _TYPES_2D[value.graphic_type],
                                              "coordinate": list(value.data)}]
            if node.value_type == "SCOORD3D" and value.frame_of_reference_uid:
                sel["meta"] = {"profile": [fc.IG + "image-region-3d"]}
                sel["frameOfReferenceUid"] = value.frame_of_reference_uid
        if instance is not None:
            sel["instance"] = [instance]
        sel["extension"].append(extension(fc.EXT_CONTENT, valueString=fc.content_json(
            [node.to_json()])))
        return sel

    def _measurements(self, base: str, f: Finding) -> list[str]:
        out, n = [], 0

        def num(field: str, code: vocab.Code, value: float, unit: vocab.Code, **kw: Any) -> None:
            nonlocal n
            out.append(self.measurement(f"{base}/num/{n}", field, code, value, unit, **kw))
            n += 1

        for d in f.dimensions_mm or ():
            num("dimensions_mm", Concept.DIAMETER, d, vocab.UNIT_MM)
        if f.extent_mm is not None:
            for code, d in zip((Concept.WIDTH_LR, Concept.DEPTH_AP, Concept.HEIGHT_CC), f.extent_mm,
                               strict=True):
                num("extent_mm", code, d, vocab.UNIT_MM)
        if f.volume_ml is not None:
            num("volume_ml", Concept.VOLUME, f.volume_ml, vocab.UNIT_CM3)
        if f.adc_value is not None and f.adc_unit is not None:
            unit = terms.unit_code(f.adc_unit)
            num("adc_value", Concept.ADC, f.adc_value, unit)
            for name, derivation in (("adc_min", "minimum"), ("adc_median", "median")):
                value = getattr(f, name)
                if value is not None:
                    num(name, Concept.ADC, value, unit, derivation=vocab.DERIVATIONS[derivation])
        for m in f.measurements:
            num("measurements", m.concept_code, m.value, m.unit, **_measurement_parts(m))
        return out

    def _evaluations(self, base: str, f: Finding, extra: list) -> list[str]:
        rows: list[tuple[str, vocab.Code, vocab.Code | str, tuple]] = [
            ("present", Concept.PRESENCE, vocab.PRESENCE[f.present], ())]
        for field, code, table in (
                ("certainty", Concept.CERTAINTY, vocab.CERTAINTY),
                ("t1_signal", Concept.T1_SIGNAL, vocab.SIGNAL),
                ("t2_signal", Concept.T2_SIGNAL, vocab.SIGNAL),
                ("diffusion_restricted", Concept.RESTRICTED_DIFFUSION, vocab.YES_NO_PRESENCE),
                ("enhancement", Concept.ENHANCEMENT_DEGREE, vocab.ENHANCEMENT),
                ("enhancement_pattern", Concept.ENHANCEMENT_PATTERN, vocab.ENHANCEMENT_PATTERN)):
            value = getattr(f, field)
            if value is not None:
                rows.append((field, code, table[value], ()))
        rows += extra
        rows += [("evaluations", e.concept_code, e.value, e.children) for e in f.evaluations]
        return [self.evaluation(f"{base}/qual/{k}", field, code, value, children)
                for k, (field, code, value, children) in enumerate(rows)]


_TM = re.compile(r"([01]\d|2[0-3])([0-5]\d)([0-5]\d)(\.\d{1,6})?")
_TZ = re.compile(r"([+-])([01]\d)([0-5]\d)")


def _instant(sr: Any) -> str | None:
    """The SR's content date, time and UTC offset as a FHIR instant, or None when one of the
    three is missing (an instant needs seconds and a zone; none is guessed)."""
    if sr is None or not sr.content_date or len(sr.content_date) != 8 or not sr.content_date.isdigit():
        return None
    time, zone = _TM.fullmatch(sr.content_time or ""), _TZ.fullmatch(sr.timezone_offset or "")
    if not time or not zone:
        return None
    d = sr.content_date
    h, m, s, fraction = time.groups()
    return f"{d[:4]}-{d[4:6]}-{d[6:]}T{h}:{m}:{s}{fraction or ''}{zone[1]}{zone[2]}:{zone[3]}"


def _measurement_parts(m: Measurement) -> dict[str, Any]:
    return {"derivation": terms.code_for("derivation", m.derivation) if m.derivation else None,
            "method": m.method,
            "site": terms.code_for("site", m.site) if m.site is not None else None,
            "children": m.children}


def _components(f: Finding) -> list[dict[str, Any]]:
    """Acquisition context of the finding (TID 1501 has it; the IG has no element for it)."""
    out: list[dict[str, Any]] = []
    if f.tracer is not None:
        tracer = vocab.TRACERS.get(f.tracer) if isinstance(f.tracer, str) else None
        agent = tracer.agent if tracer else terms.code_for("tracer", f.tracer)
        out.append({"code": concept(Concept.RADIOPHARMACEUTICAL), "valueCodeableConcept": concept(agent)})
        if tracer is not None:
            out.append({"code": concept(Concept.RADIONUCLIDE),
                        "valueCodeableConcept": concept(tracer.nuclide)})
    if f.activity_mbq is not None:
        out.append({"code": concept(Concept.ADMINISTERED_ACTIVITY), "valueQuantity": {
            "value": f.activity_mbq, "unit": vocab.UNIT_MBQ.meaning, "system": fc.SYSTEMS["UCUM"],
            "code": vocab.UNIT_MBQ.value}})
    if f.contrast_agent is not None:
        out.append({"code": concept(Concept.CONTRAST_AGENT),
                    "valueCodeableConcept": concept(vocab.CONTRAST_AGENTS[f.contrast_agent])})
    return out


def report_entries(report: Report, *, diagnostic_report: bool = False) -> list[Entry]:
    """The Bundle entries (fullUrl, resource, request) of one Report."""
    return _ReportExport(report).run(diagnostic_report)


__all__ = ["report_entries", "seed_of"]
