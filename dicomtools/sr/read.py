"""DICOM SR -> Report, in one pass over the content tree.

Reads dicomtools' own SRs losslessly, and SRs of any origin and SOP class without raising:
every TID 1500 measurement group comes back through the row table (rows.py) and what no row
takes is kept in the open part of the Finding (measurements, evaluations, regions, other) or
of the Report (``evaluations``, ``other``). What is kept as plain content is named in
``Report.warnings``. Only a file that is not a readable DICOM SR at all raises SRReadError.
"""

from __future__ import annotations

import os
import warnings as _warnings
from collections import Counter
from pathlib import Path
from typing import Any

import pydicom
from pydicom.charset import convert_encodings, decode_bytes
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError
from pydicom.uid import UID, UID_dictionary

from .. import terms, vocab
from ..errors import InputError, SRReadError
from ..model import MODALITIES, Finding, ImageRef, Patient, Report, Roi, SRIdentity, Study
from ..observations import Evaluation, Measurement
from ..values import ContentNode
from ..vocab import Code, Concept
from . import rows
from .codec import CONTENT_SEQ, decode_content_value, items_from_pydicom
from .content import CONTAINS, HAS_CONCEPT_MOD, Item
from .templates import template_for

COMPREHENSIVE_SRS = {"1.2.840.10008.5.1.4.1.1.88.33", "1.2.840.10008.5.1.4.1.1.88.34",
                     "1.2.840.10008.5.1.4.1.1.88.35", "1.2.840.10008.5.1.4.1.1.88.22"}


# Every SR-based SOP class (PS3.4 B.5): Basic Text, Enhanced, Comprehensive (3D), Extensible,
# Key Object Selection, the dose SRs, CAD, procedure logs and the retired trial classes, taken
# from pydicom's UID dictionary, so a class added to the standard needs no code here.
SR_STORAGE: frozenset[str] = frozenset(
    uid for uid in UID_dictionary if uid.startswith("1.2.840.10008.5.1.4.1.1.88."))


def _is_sr_class(uid: str) -> bool:
    return uid in SR_STORAGE


_PROCEDURE_BY_PERFORMED = {p.performed: name for name, p in vocab.PROCEDURES.items()}
_IMPRESSION_BY_CODE = vocab.reverse(vocab.IMPRESSION)
# Procedure reported codes that name one of our procedures; generic ones (several of ours
# share them) are resolved with the modality of the evidence.
_REPORTED: dict[Code, list[str]] = {}
for _name, _proc in vocab.PROCEDURES.items():
    _REPORTED.setdefault(_proc.reported, []).append(_name)
_HEADER_CONCEPTS = {Concept.LANGUAGE, Concept.OBSERVER_TYPE, Concept.DEVICE_OBSERVER_UID,
                    Concept.DEVICE_OBSERVER_NAME, Concept.PROCEDURE_REPORTED, Concept.IMAGE_LIBRARY}
_REGION_TYPES = {"IMAGE", "COMPOSITE", "WAVEFORM", "SCOORD", "SCOORD3D", "TCOORD"}
# Modality of the images an SR references, by SOP class keyword prefix (pydicom's names).
_MODALITY_BY_CLASS = (("CT", "CT"), ("EnhancedCT", "CT"), ("MR", "MR"), ("EnhancedMR", "MR"),
                      ("NuclearMedicine", "NM"), ("PositronEmission", "PT"), ("EnhancedPET", "PT"),
                      ("Ultrasound", "US"), ("EnhancedUS", "US"), ("VLWholeSlide", "SM"))


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
    except SRReadError:
        raise
    except Exception as exc:
        raise SRReadError(f"content sequence cannot be parsed ({type(exc).__name__})") from None


def report_from_dataset(ds: Dataset, source: str = "dataset") -> Report:
    """Map an SR dataset (from a file, a PACS, or highdicom) to a Report."""
    try:
        sop_class = str(ds.get("SOPClassUID", "")).strip()
    except Exception:
        sop_class = ""
    if not _is_sr_class(sop_class):
        name = UID(sop_class).name if sop_class else "no SOP Class"
        raise SRReadError(f"{source}: not a DICOM SR (SOP Class {sop_class or '-'} {name})")
    with _warnings.catch_warnings(record=True) as caught:
        _warnings.simplefilter("always")
        try:
            root_children = _content_items(ds)
            report = _Mapper(ds, source).report(root_children)
        except SRReadError as exc:
            raise SRReadError(f"{source}: {exc}") from None
        except RecursionError:
            raise SRReadError(f"{source}: content nested too deeply") from None
        except Exception as exc:  # a damaged header must not leak a pydicom traceback
            raise SRReadError(f"{source}: SR header cannot be read ({type(exc).__name__})") from None
    if caught:  # pydicom's warnings quote values (names, IDs): say only which kind it was
        kinds = sorted({w.category.__name__ for w in caught})
        report = _with_warning(report, f"{len(caught)} library warning(s) while reading "
                               f"({', '.join(kinds)}); values not shown")
    return report


def _with_warning(report: Report, message: str) -> Report:
    from dataclasses import replace
    return replace(report, warnings=(*report.warnings, message))


def _str(ds: Dataset, keyword: str) -> str | None:
    value = ds.get(keyword)
    if value is None or value == "":
        return None
    return str(value)


class _Mapper:
    """One pass: content items -> model fields; what no field takes is kept, with a warning."""

    def __init__(self, ds: Dataset, source: str):
        self.ds = ds
        self.source = source
        self.warnings: list[str] = []
        self._mark = 0  # warnings before the group being read (dropped if it is re-read)

    def warn(self, message: str) -> None:
        self.warnings.append(message)

    def report(self, items: list[Item]) -> Report:
        ds = self.ds
        templates = ds.get("ContentTemplateSequence")
        tid = str(templates[0].get("TemplateIdentifier", "")) if templates else ""
        title = _root_title(ds)
        if tid != "1500":
            self.warn(f"root template is {('TID ' + tid) if tid else 'not declared'} "
                      f"({title or 'no title'}), not TID 1500; reading what maps to findings")
        evidence = self.evidence()
        procedure = self._procedure(items, evidence)
        modality = (vocab.PROCEDURES[procedure].modality if isinstance(procedure, str)
                    else _evidence_modality(evidence))
        enabled = set(template_for(modality, procedure).rows)
        findings: list[Finding] = []
        impression: str | None = None
        observer: str | None = None
        evaluations: list[Evaluation] = []
        other: list[ContentNode] = []
        for item in items:
            name = item.name
            if name == Concept.IMAGING_MEASUREMENTS:
                for index, group in enumerate(item.children, start=1):
                    if group.value_type == "CONTAINER":
                        findings.append(self.finding(group, index, modality, procedure, enabled))
                    else:
                        self.warn(f"Imaging Measurements holds a {group.value_type} item "
                                  f"{_label(group)}; kept as content")
                        other.append(node_from_item(item))
                        break
            elif name == Concept.QUALITATIVE_EVALUATIONS and item.value_type == "CONTAINER":
                for child in item.children:
                    if child.name == Concept.IMPRESSION and child.value in _IMPRESSION_BY_CODE \
                            and impression is None and not child.children:
                        impression = str(_IMPRESSION_BY_CODE[child.value])
                    else:
                        evaluations.extend(self._evaluation_or_keep(child, "report", other))
            elif name == Concept.PERSON_OBSERVER_NAME and observer is None and isinstance(item.value, str):
                observer = item.value
            elif name in _HEADER_CONCEPTS:
                continue
            else:
                self.warn(f"top-level item {_label(item)} kept as content")
                other.append(node_from_item(item))
        counts = Counter(f.tracking_uid for f in findings if f.tracking_uid)
        for uid, count in sorted(counts.items()):
            if count > 1:
                self.warn(f"Tracking UID {uid} is shared by {count} groups (one tracked "
                          "finding measured several times); all kept")
        return Report(
            modality=modality, procedure=procedure, findings=tuple(findings),
            impression=impression, observer=observer, indication=_str(self.ds, "ReasonForVisit"),
            patient=self.patient(), study=self.study(), source_images=evidence, sr=self.identity(),
            evaluations=tuple(evaluations), other=tuple(other), warnings=tuple(self.warnings),
        )

    def _procedure(self, items: list[Item], evidence: tuple[ImageRef, ...]) -> str | Code | None:
        performed = self.ds.get("PerformedProcedureCodeSequence")
        other: Code | None = None  # a performed procedure code we have no name for
        if performed:
            item = performed[0]
            code = Code(str(item.get("CodeValue", "")), str(item.get("CodingSchemeDesignator", "")),
                        str(item.get("CodeMeaning", "")))
            code = vocab.LEGACY_CODES.get(code, code)
            if code in _PROCEDURE_BY_PERFORMED:
                return _PROCEDURE_BY_PERFORMED[code]
            if code.value and code.scheme:
                other = code
        reported = [i for i in items if i.name == Concept.PROCEDURE_REPORTED]
        modality = _evidence_modality(evidence)
        for item in reported:
            if isinstance(item.value, Code):
                names = [n for n in _REPORTED.get(item.value, ())
                         if modality is None or vocab.PROCEDURES[n].modality == modality]
                if len(names) == 1 and (modality is not None or len(_REPORTED[item.value]) == 1):
                    return names[0]
                if item.value == vocab.UNSPECIFIED_PROCEDURE:
                    return other  # "Imaging procedure" names none; the header may
                return item.value  # a procedure we have no name for: kept as its code
            if item.value_type == "TEXT" and isinstance(item.value, str):
                self.warn(f"Procedure reported is TEXT {item.value!r}, not CODE (TID 1500 row 4)")
                term = terms.lookup("procedure", item.value)
                if term is not None and (modality in (None, vocab.PROCEDURES[term].modality)):
                    return term
        if not reported:
            self.warn("no Procedure reported (TID 1500 row 4); procedure left unknown")
        return None

    def finding(self, group: Item, index: int, modality: str | None,
                procedure: str | Code | None, enabled: set[str]) -> Finding:
        disabled: set[str] = {r.name for r in rows.ROWS if r.name not in enabled}
        while True:
            state, left = self._group_state(group, index, disabled)
            values, provisional = rows.finish(state)
            values.update(modality=modality, procedure=procedure)
            values.setdefault("present", True)  # a measured group without presence: a finding
            if "roi" in values or state.roi:
                values.pop("roi", None)
                roi = self._roi(state.roi)
                if roi is None:
                    disabled |= {"roi", "centroid"}
                    continue
                values["roi"] = roi
            self._open_part(left + provisional, values, state.label)
            try:
                return Finding(**values)
            except InputError as exc:
                row = _row_named_in(str(exc))
                if row is None or row in disabled:
                    raise SRReadError(f"group {index} cannot be mapped ({exc})") from None
                self.warnings = self.warnings[:self._mark]
                self.warn(f"{state.label}: {row} does not fit the model ({exc}); kept as content")
                self._mark = len(self.warnings)
                disabled.add(row)

    def _group_state(self, group: Item, index: int,
                     disabled: set[str]) -> tuple[rows.GroupState, list[Item]]:
        self._mark = len(self.warnings)
        state = rows.GroupState(label=f"group {index}")
        left: list[Item] = []
        for item in group.children:
            if not rows.read_item(item, state, disabled):
                left.append(item)
        return state, left

    def _open_part(self, items: list[Item], values: dict[str, Any], label: str) -> None:
        measurements: list[Measurement] = []
        evaluations: list[Evaluation] = []
        regions: list[ContentNode] = []
        other: list[ContentNode] = []
        for item in items:
            if item.value_type == "NUM" and item.relationship in (CONTAINS, None):
                measurement = _measurement(item)
                if measurement is not None:
                    measurements.append(measurement)
                    continue
            if item.value_type in _REGION_TYPES:
                if item.value is None:
                    self.warn(f"{label}: {_label(item)} has a value that is not decoded; "
                              "kept without it")
                regions.append(node_from_item(item))
                continue
            evaluations.extend(self._evaluation_or_keep(item, label, other))
        values.update(measurements=tuple(measurements), evaluations=tuple(evaluations),
                      regions=tuple(regions), other=tuple(other))

    def _evaluation_or_keep(self, item: Item, label: str, other: list[ContentNode]) -> list[Evaluation]:
        if item.value_type in ("CODE", "TEXT") and item.relationship in (CONTAINS, None) \
                and item.name is not None and item.value is not None:
            try:
                return [Evaluation(terms.term_for("any", item.name), item.value,
                                   tuple(node_from_item(c) for c in item.children))]
            except InputError:
                pass
        self.warn(f"{label}: {_label(item)} kept as content (no model field)")
        other.append(node_from_item(item))
        return []

    def _roi(self, roi: dict) -> Roi | None:
        try:
            return Roi(**roi)
        except (TypeError, InputError):
            return None

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
        refs: list[ImageRef] = []
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


def _root_title(ds: Dataset) -> str | None:
    try:
        seq = ds.get("ConceptNameCodeSequence")
        return str(seq[0].CodeMeaning) if seq else None
    except Exception:
        return None


def _evidence_modality(evidence: tuple[ImageRef, ...]) -> str | None:
    """The one model modality of the images an SR references, if they agree."""
    found = set()
    for ref in evidence:
        keyword = UID(ref.sop_class_uid).keyword or ""
        for prefix, modality in _MODALITY_BY_CLASS:
            if keyword.startswith(prefix + "Image") or keyword.startswith(prefix):
                found.add(modality)
                break
    found &= set(MODALITIES)
    return found.pop() if len(found) == 1 else None


def _row_named_in(message: str) -> str | None:
    """The row whose field an InputError names ("field 'site' has value ...")."""
    import re
    match = re.search(r"field '([a-z_0-9]+)'", message)
    row = rows.ROW_OF_FIELD.get(match.group(1)) if match else None
    return row.name if row else None


def _measurement(item: Item) -> Measurement | None:
    """A NUM as a Measurement: derivation, method and site from its modifiers; any other
    child kept as content of the measurement."""
    num = item.value
    if item.name is None or num is None:
        return None
    derivation = method = site = None
    children = []
    for child in item.children:
        if child.relationship == HAS_CONCEPT_MOD and isinstance(child.value, Code) and not child.children:
            if child.name == Concept.DERIVATION and derivation is None:
                derivation = terms.term_for("derivation", child.value)
                continue
            if child.name == Concept.MEASUREMENT_METHOD and method is None:
                method = child.value
                continue
            if child.name == Concept.FINDING_SITE and site is None:
                site = terms.term_for("site", child.value)
                continue
        children.append(node_from_item(child))
    try:
        return Measurement(terms.term_for("any", item.name), num.value, num.unit, derivation,
                           method, site, tuple(children))
    except InputError:
        return None


def node_from_item(item: Item) -> ContentNode:
    """An SR content item kept whole in the model."""
    return ContentNode(item.value_type, item.relationship, item.name, item.value,
                       tuple(node_from_item(c) for c in item.children))
