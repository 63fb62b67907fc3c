"""DICOM SR -> Report, in one pass over the content tree.

Reads dicomtools' own SRs losslessly and SRs of other tools (highdicom, dcmqi, DCMTK, Basic
Text SR) without raising: whatever has no place in the model becomes a warning on
``Report.warnings``. Only a file that is not a readable SR at all raises SRReadError.
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path
from typing import Any

import pydicom
from pydicom.charset import convert_encodings, decode_bytes
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError

from .. import vocab
from ..errors import SRReadError
from ..levels import CODE_LEVELS
from ..errors import InputError
from ..model import Finding, ImageRef, Patient, Report, Roi, SRIdentity, Study
from ..vocab import Code, Concept
from .codec import CONTENT_SEQ, decode_content_value, items_from_pydicom
from .content import ImageValue, Item, Num, Point3D
from .templates import CodedField, group_template

SR_STORAGE = {
    "1.2.840.10008.5.1.4.1.1.88.11": "Basic Text SR",
    "1.2.840.10008.5.1.4.1.1.88.22": "Enhanced SR",
    "1.2.840.10008.5.1.4.1.1.88.33": "Comprehensive SR",
    "1.2.840.10008.5.1.4.1.1.88.34": "Comprehensive 3D SR",
    "1.2.840.10008.5.1.4.1.1.88.35": "Extensible SR",
}
_PROCEDURE_BY_PERFORMED = {p.performed: name for name, p in vocab.PROCEDURES.items()}
_SITE_BY_CODE = vocab.reverse(vocab.SITES)
_FINDING_BY_CODE = vocab.reverse(vocab.FINDING_TYPES)
_LATERALITY_BY_CODE = vocab.reverse(vocab.LATERALITY)
_TRACER_BY_AGENT = {t.agent: name for name, t in vocab.TRACERS.items()}
_IMPRESSION_BY_CODE = vocab.reverse(vocab.IMPRESSION)
# Linear measurements of CID 7470 kept as reported diameters (in item order); Width, Depth and
# Height together are the extent along the patient axes.
_EXTENT = (Concept.WIDTH_LR, Concept.DEPTH_AP, Concept.HEIGHT_CC)
_LINEAR = {Concept.DIAMETER, *_EXTENT, *(Code(v, s, m) for v, s, m in (
    ("103339001", "SCT", "Long axis"), ("103340004", "SCT", "Short axis"),
    ("131189007", "SCT", "Perpendicular Axis"), ("410668003", "SCT", "Length"),
    ("131187009", "SCT", "Major Axis"), ("131188004", "SCT", "Minor Axis")))}
_VOLUMES = {Concept.VOLUME, Code("121221", "DCM", "Volume of ellipsoid"),
            Code("121216", "DCM", "Volume estimated from single 2D region"),
            Code("121217", "DCM", "Volume estimated from three or more non-coplanar 2D regions"),
            Code("121218", "DCM", "Volume estimated from two non-coplanar 2D regions"),
            Code("126030", "DCM", "Volume of bounding three dimensional region")}
_IGNORED_IN_GROUP = {Concept.RADIONUCLIDE, Code("276214006", "SCT", "Finding category"),
                     Code("C67447", "NCIt", "Activity Session")}


@cache
def _coded_fields() -> dict[Code, CodedField]:
    return {f.concept: f for f in group_template().coded_fields}


def read_sr(path: str | os.PathLike) -> Report:
    """Read an SR file into a Report. Raises SRReadError for files that are not readable SR."""
    return report_from_dataset(open_dicom(path), source=str(path))


def open_dicom(path: str | os.PathLike) -> Dataset:
    """pydicom.dcmread with one clear SRReadError per kind of unreadable file."""
    path = Path(path)
    try:
        return pydicom.dcmread(path)
    except FileNotFoundError:
        raise SRReadError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise SRReadError(f"{path}: is a directory, not an SR file") from None
    except InvalidDicomError:
        raise SRReadError(f"{path}: not a DICOM file (no DICM preamble or recognisable header)") from None
    except Exception as exc:  # pydicom raises many types on damaged files
        raise SRReadError(f"{path}: not a readable DICOM file ({type(exc).__name__}: {exc})") from None


def _text_decoder(ds: Dataset):
    charset = ds.get("SpecificCharacterSet")
    encodings = convert_encodings(charset)
    if len(encodings) == 1:
        encoding = encodings[0]
        return lambda raw: bytes(raw).decode(encoding, "replace")
    return lambda raw: decode_bytes(bytes(raw), encodings, set())


def _content_items(ds: Dataset) -> list[Item]:
    elem = ds.get_item(CONTENT_SEQ)
    if elem is None:
        return []
    implicit, little = ds.original_encoding
    if getattr(elem, "is_raw", False) and little and implicit is not None:
        return decode_content_value(bytes(elem.value or b""), implicit, _text_decoder(ds))
    try:
        return items_from_pydicom(ds.ContentSequence)
    except Exception as exc:
        raise SRReadError(f"content sequence cannot be parsed ({exc})") from None


def report_from_dataset(ds: Dataset, source: str = "dataset") -> Report:
    """Map an SR dataset (from a file, a PACS, or highdicom) to a Report."""
    sop_class = str(ds.get("SOPClassUID", ""))
    if sop_class not in SR_STORAGE:
        name = getattr(ds.get("SOPClassUID"), "name", "") or "no SOP Class"
        raise SRReadError(f"{source}: not a DICOM SR (SOP Class {sop_class or '-'} {name})")
    try:
        root_children = _content_items(ds)
    except SRReadError as exc:
        raise SRReadError(f"{source}: {exc}") from None
    try:
        return _Mapper(ds, source).report(root_children)
    except SRReadError:
        raise
    except Exception as exc:  # a damaged header must not leak a pydicom traceback
        raise SRReadError(f"{source}: SR header cannot be read ({type(exc).__name__}: {exc})") from None


def _str(ds: Dataset, keyword: str) -> str | None:
    value = ds.get(keyword)
    if value is None or value == "":
        return None
    return str(value)


class _Mapper:
    """One pass: content items -> model fields; unmapped items -> warnings."""

    def __init__(self, ds: Dataset, source: str):
        self.ds = ds
        self.source = source
        self.warnings: list[str] = []

    def warn(self, message: str) -> None:
        self.warnings.append(message)

    def report(self, items: list[Item]) -> Report:
        ds = self.ds
        templates = ds.get("ContentTemplateSequence")
        tid = str(templates[0].get("TemplateIdentifier", "")) if templates else ""
        if tid != "1500":
            self.warn(f"root template is {('TID ' + tid) if tid else 'not declared'}, not TID 1500; "
                      "reading what maps to findings")
        procedure = self._procedure(items)
        modality = vocab.PROCEDURES[procedure].modality if procedure else None
        findings: list[Finding] = []
        impression = observer = None
        for item in items:
            name = item.name
            if name == Concept.IMAGING_MEASUREMENTS:
                for index, group in enumerate(item.children, start=1):
                    if group.value_type == "CONTAINER":
                        findings.append(self.finding(group, index, modality, procedure))
                    else:
                        self.warn(f"Imaging Measurements holds a {group.value_type} item; ignored")
            elif name == Concept.QUALITATIVE_EVALUATIONS:
                for child in item.children:
                    if child.name == Concept.IMPRESSION and child.value in _IMPRESSION_BY_CODE:
                        impression = _IMPRESSION_BY_CODE[child.value]
                    else:
                        self.warn(f"qualitative evaluation {_label(child)} not mapped; ignored")
            elif name == Concept.PERSON_OBSERVER_NAME:
                observer = item.value
            elif name in (Concept.LANGUAGE, Concept.OBSERVER_TYPE, Concept.DEVICE_OBSERVER_UID,
                          Concept.DEVICE_OBSERVER_NAME, Concept.PROCEDURE_REPORTED,
                          Concept.IMAGE_LIBRARY):
                continue
            else:
                self.warn(f"top-level item {_label(item)} not mapped; ignored")
        return Report(
            modality=modality, procedure=procedure, findings=tuple(findings),
            impression=impression, observer=observer, indication=_str(self.ds, "ReasonForVisit"),
            patient=self.patient(), study=self.study(),
            source_images=self.evidence(), sr=self.identity(), warnings=tuple(self.warnings),
        )

    def _procedure(self, items: list[Item]) -> str | None:
        performed = self.ds.get("PerformedProcedureCodeSequence")
        if performed:
            item = performed[0]
            code = Code(str(item.get("CodeValue", "")), str(item.get("CodingSchemeDesignator", "")), "")
            if code in _PROCEDURE_BY_PERFORMED:
                return _PROCEDURE_BY_PERFORMED[code]
        reported = [i.value for i in items if i.name == Concept.PROCEDURE_REPORTED]
        for name, proc in vocab.PROCEDURES.items():
            if proc.reported in reported and proc.tracer is None:
                return name
        label = ", ".join(f"({c.value}, {c.scheme}, {c.meaning!r})" for c in reported if c) or "none"
        self.warn(f"procedure not recognised (Procedure reported: {label}); procedure left unknown")
        return None

    def finding(self, group: Item, index: int, modality: str | None,
                procedure: str | None) -> Finding:
        values: dict[str, Any] = {"modality": modality, "procedure": procedure}
        roi: dict[str, Any] = {}
        dims: list[tuple[Code, float]] = []
        levels: list[str] = []
        site_levels: list[str] = []
        label = f"group {index}"
        for item in group.children:
            name = item.name
            if name == Concept.TRACKING_IDENTIFIER:
                values["tracking_id"] = item.value
                label = f"group {item.value!r}"
            elif name == Concept.TRACKING_UID:
                values["tracking_uid"] = item.value
            elif name == Concept.FINDING:
                values["finding"] = self._lookup(_FINDING_BY_CODE, item, label)
            elif name == Concept.FINDING_SITE:
                self._site(item, values, site_levels, label)
            elif name in _coded_fields():
                coded = _coded_fields()[name]
                if item.value in coded.reverse:
                    values[coded.field] = coded.reverse[item.value]
                else:
                    self.warn(f"{label}: {_label(item)} is not a known {coded.field} value; ignored")
            elif name == Concept.VERTEBRAL_LEVEL and item.value in CODE_LEVELS:
                levels.append(CODE_LEVELS[item.value])
            elif name == Concept.RADIOPHARMACEUTICAL:
                values["tracer"] = self._lookup(_TRACER_BY_AGENT, item, label)
            elif name == Concept.REFERENCED_SEGMENT and isinstance(item.value, ImageValue):
                roi["seg_instance_uid"] = item.value.sop_instance_uid
                roi["segment_number"] = item.value.segment_number
            elif name == Concept.SOURCE_SERIES_FOR_SEGMENTATION:
                roi["source_series_uid"] = item.value
            elif name == Concept.CENTER_OF_MASS and isinstance(item.value, Point3D):
                point = item.value
                roi["centroid_lps_mm"] = (point.x, point.y, point.z)
                roi["frame_of_reference_uid"] = point.frame_of_reference_uid
            elif item.value_type == "NUM" and isinstance(item.value, Num):
                self._number(item, values, dims, label)
            elif name in _IGNORED_IN_GROUP:
                continue
            else:
                self.warn(f"{label}: {_label(item)} not mapped; ignored")
        extent = {name: mm for name, mm in dims if name in _EXTENT}
        if len(extent) == 3:
            values["extent_mm"] = tuple(extent[axis] for axis in _EXTENT)
            dims = [(name, mm) for name, mm in dims if name not in _EXTENT]
        if dims:
            values["dimensions_mm"] = tuple(mm for _, mm in dims)
        if site_levels:
            values["vertebral_levels"] = tuple(site_levels)
        elif levels:
            values["vertebral_levels"] = tuple(levels)
        if roi:
            self._roi(roi, values, label)
        values.setdefault("present", True)  # a measured group without presence: a finding
        try:
            return Finding(**values)
        except Exception as exc:
            self.warn(f"{label}: values do not fit the model ({exc}); kept what fits")
            return Finding(present=values["present"], modality=modality, procedure=procedure)

    def _roi(self, roi: dict, values: dict, label: str) -> None:
        try:
            values["roi"] = Roi(**roi)
        except (TypeError, InputError) as exc:
            self.warn(f"{label}: segmentation reference incomplete ({exc}); ignored")

    def _lookup(self, table: dict, item: Item, label: str) -> Any:
        if item.value in table:
            return table[item.value]
        self.warn(f"{label}: {_label(item)} has no model term; left unknown")
        return None

    def _site(self, item: Item, values: dict, site_levels: list[str], label: str) -> None:
        if item.value in CODE_LEVELS:
            values["site"] = "vertebra"
            site_levels.append(CODE_LEVELS[item.value])
        elif "site" in values:
            self.warn(f"{label}: second finding site {_label(item)}; only the first is kept")
        else:
            values["site"] = self._lookup(_SITE_BY_CODE, item, label)
        for child in item.children:
            if child.name == Concept.LATERALITY and child.value in _LATERALITY_BY_CODE:
                values["laterality"] = _LATERALITY_BY_CODE[child.value]
            else:
                self.warn(f"{label}: site modifier {_label(child)} not mapped; ignored")

    def _number(self, item: Item, values: dict, dims: list[tuple[Code, float]], label: str) -> None:
        num: Num = item.value
        name, unit = item.name, num.unit.value
        if name in _LINEAR and (mm := vocab.length_to_mm(num.value, unit)) is not None:
            dims.append((name, mm))
        elif name in _VOLUMES and (ml := vocab.volume_to_ml(num.value, unit)) is not None:
            values["volume_ml"] = ml
        elif name == Concept.ADC and unit in vocab.ADC_UNITS:
            derivation = next((c.value for c in item.children if c.name == Concept.DERIVATION), None)
            field = {vocab.DERIVATIONS["minimum"]: "adc_min",
                     vocab.DERIVATIONS["median"]: "adc_median"}.get(derivation, "adc_value")
            values[field], values["adc_unit"] = num.value, unit
        elif (name == Concept.ADMINISTERED_ACTIVITY
              and (mbq := vocab.activity_to_mbq(num.value, unit)) is not None):
            values["activity_mbq"] = mbq
        else:
            self.warn(f"{label}: measurement {_label(item)} = {num.value:g} {unit} not mapped; ignored")

    def patient(self) -> Patient:
        ds = self.ds
        return Patient(id=_str(ds, "PatientID"), name=_str(ds, "PatientName"),
                       issuer=_str(ds, "IssuerOfPatientID"), birth_date=_str(ds, "PatientBirthDate"),
                       sex=_str(ds, "PatientSex"))

    def study(self) -> Study:
        ds = self.ds
        return Study(instance_uid=_str(ds, "StudyInstanceUID"), date=_str(ds, "StudyDate"),
                     time=_str(ds, "StudyTime"), id=_str(ds, "StudyID"),
                     accession_number=_str(ds, "AccessionNumber"),
                     description=_str(ds, "StudyDescription"), patient_age=_str(ds, "PatientAge"))

    def evidence(self) -> tuple[ImageRef, ...]:
        refs = []
        for keyword in ("CurrentRequestedProcedureEvidenceSequence", "PertinentOtherEvidenceSequence"):
            for study in self.ds.get(keyword) or ():
                for series in study.get("ReferencedSeriesSequence") or ():
                    for sop in series.get("ReferencedSOPSequence") or ():
                        refs.append(ImageRef(str(sop.get("ReferencedSOPClassUID", "")),
                                             str(sop.get("ReferencedSOPInstanceUID", "")),
                                             str(series.get("SeriesInstanceUID", "")),
                                             str(study.get("StudyInstanceUID", ""))))
        return tuple(refs)

    def identity(self) -> SRIdentity:
        ds = self.ds
        return SRIdentity(str(ds.get("SOPInstanceUID", "")), str(ds.get("SeriesInstanceUID", "")),
                          str(ds.get("SOPClassUID", "")), _str(ds, "ContentDate"))


def _label(item: Item) -> str:
    name = item.name.meaning if item.name else "(no concept name)"
    if isinstance(item.value, Code):
        return f"{item.value_type} '{name}' = '{item.value.meaning}'"
    return f"{item.value_type} '{name}'"
