"""The mapping half of the SR reader: a parsed SR header and content tree -> Report.

No pydicom here: the header is any mapping with pydicom's ``get``/``in`` behaviour for the
keywords the reader uses (a pydicom Dataset for read.py, a parsed-bytes dataset for
fast.py), and two functions of the source say what no mapping can: whether a sequence item
is a dataset, and the keyword of a SOP Class UID. Both readers thus share every rule and
every warning, and fast.read_report's Report equals read_sr's by construction.
"""

from __future__ import annotations

import contextvars
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from .. import terms, vocab
from ..errors import InputError, SRReadError
from ..model import MODALITIES, Finding, ImageRef, Patient, Report, Roi, SRIdentity, Study
from ..observations import Evaluation, Measurement
from ..values import HEADER, PADDING, TEXT, ContentNode
from ..vocab import Code, Concept
from . import rows
from .codec import TextDecoder
from .content import CONTAINS, HAS_CONCEPT_MOD, Item
from .templates import template_for

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
MODALITY_BY_CLASS = (("CT", "CT"), ("EnhancedCT", "CT"), ("MR", "MR"), ("EnhancedMR", "MR"),
                     ("NuclearMedicine", "NM"), ("PositronEmission", "PT"), ("EnhancedPET", "PT"),
                     ("Ultrasound", "US"), ("EnhancedUS", "US"), ("VLWholeSlide", "SM"))
# Type 1 attributes of every SR (SOP Common, General Series/Study, SR Document General and
# Content modules); a file cut between two top-level elements loses the last ones.
REQUIRED = ("SOPClassUID", "SOPInstanceUID", "StudyInstanceUID", "SeriesInstanceUID", "Modality",
            "ValueType", "ConceptNameCodeSequence", "CompletionFlag", "VerificationFlag")
_HEADER_TEXT = {"ReasonForVisit"}  # UT header attributes read into the model (others: LO/SH/PN)
# The decoder of the dataset being read: header strings (_str) are cleaned and counted with it.
_TEXTS: contextvars.ContextVar[TextDecoder | None] = contextvars.ContextVar("_TEXTS", default=None)


@dataclass(frozen=True)
class Source:
    """What the mapping needs from where the header came from."""

    is_dataset: Callable[[Any], bool]  # is a sequence item a dataset (not damaged)?
    uid_keyword: Callable[[str], str]  # the keyword of a UID ("" when unknown)


def build_report(ds: Any, source: str, how: Source, texts: TextDecoder,
                 root_children: list[Item]) -> tuple[Report, list[str]]:
    """The Report of a header ``ds`` and its root content items, and the REQUIRED keywords
    missing. Header strings are decoded and counted with ``texts``; SRReadError and any
    other exception propagate (each reader says what they mean)."""
    token = _TEXTS.set(texts)
    try:
        report = _Mapper(ds, source, how).report(root_children)
        missing = [k for k in REQUIRED if not _present(ds, k)]
    finally:
        _TEXTS.reset(token)
    return report, missing


def finish(report: Report, texts: TextDecoder, missing: list[str],
           library_warnings: list[str]) -> Report:
    """The Report with the warnings about the reading itself, in the order read_sr gives them."""
    kinds = library_warnings
    if kinds:  # pydicom's warnings quote values (names, IDs): say only which kind it was
        report = _with_warning(report, f"{len(kinds)} library warning(s) while reading "
                               f"({', '.join(sorted(set(kinds)))}); values not shown")
    if texts.invalid:
        report = _with_warning(report, f"{texts.invalid} text value(s) not valid in the SR's "
                               f"character set ({texts.encoding}); undecodable bytes shown as U+FFFD")
    if texts.replaced:
        report = _with_warning(report, f"{texts.replaced} character(s) that DICOM does not allow "
                               "in their value (control characters; a backslash in a name) shown "
                               "as U+FFFD")
    if missing:
        report = _with_warning(report, f"required attribute(s) missing: {', '.join(missing)} "
                               "(an incomplete or truncated file?)")
    return report


def _present(ds: Any, keyword: str) -> bool:
    try:
        return keyword in ds
    except Exception:
        return False


def _with_warning(report: Report, message: str) -> Report:
    return replace(report, warnings=(*report.warnings, message))


def _str(ds: Any, keyword: str) -> str | None:
    """A header string as the model holds it: None when absent, empty or undecodable; the
    values of a multi-valued element joined by a backslash; padding removed; each character
    DICOM does not allow there (control characters, a backslash in LO/SH/PN) as U+FFFD."""
    texts = _TEXTS.get() or TextDecoder()
    try:
        value = ds.get(keyword)
    except Exception:  # a value pydicom cannot convert (a damaged file)
        texts.invalid += 1
        return None
    if value is None:
        return None
    kind = TEXT if keyword in _HEADER_TEXT else HEADER
    if isinstance(value, (bytes, bytearray)):
        text = texts.decode(bytes(value))
    elif isinstance(value, (list, tuple)) or value.__class__.__name__ == "MultiValue":
        text = "\\".join(str(v) for v in value)
    else:
        text = str(value)
    text = texts.clean(text.strip(PADDING + "\0"), kind)
    return text or None


class _Mapper:
    """One pass: content items -> model fields; what no field takes is kept, with a warning."""

    def __init__(self, ds: Any, source: str, how: Source):
        self.ds = ds
        self.source = source
        self.how = how
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
                    else _evidence_modality(evidence, self.how))
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
                    else:  # not a group: kept at the top level (written after the groups)
                        self.warn(f"Imaging Measurements holds a {group.value_type} item "
                                  f"{_label(group)}; kept as content")
                        other.append(node_from_item(group))
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
        modality = _evidence_modality(evidence, self.how)
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
        damaged = 0
        for keyword in ("CurrentRequestedProcedureEvidenceSequence", "PertinentOtherEvidenceSequence"):
            studies, bad = _datasets(self.ds, keyword, self.how)
            damaged += bad
            for study in studies:
                series_items, bad = _datasets(study, "ReferencedSeriesSequence", self.how)
                damaged += bad
                for series in series_items:
                    sops, bad = _datasets(series, "ReferencedSOPSequence", self.how)
                    damaged += bad
                    for sop in sops:
                        refs.append(ImageRef(_str(sop, "ReferencedSOPClassUID") or "",
                                             _str(sop, "ReferencedSOPInstanceUID") or "",
                                             _str(series, "SeriesInstanceUID") or "",
                                             _str(study, "StudyInstanceUID") or ""))
        if damaged:
            self.warn(f"{damaged} evidence sequence(s) or item(s) are not datasets (a damaged "
                      "file); the image references they held are left out")
        return tuple(refs)

    def identity(self) -> SRIdentity:
        ds = self.ds
        return SRIdentity(_str(ds, "SOPInstanceUID") or "", _str(ds, "SeriesInstanceUID") or "",
                          _str(ds, "SOPClassUID") or "", _str(ds, "ContentDate"),
                          _str(ds, "ContentTime"), _str(ds, "TimezoneOffsetFromUTC"),
                          _str(ds, "Manufacturer"), _str(ds, "ManufacturerModelName"))


def _datasets(ds: Any, keyword: str, how: Source) -> tuple[list[Any], int]:
    """The items of a sequence attribute, and how many parts were not datasets (the
    attribute had another VR, or an item was damaged)."""
    try:
        value = ds.get(keyword)
    except Exception:
        return [], 1
    if value is None or value == "":
        return [], 0
    if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
        return [], 1
    try:
        items = list(value)
    except Exception:
        return [], 1
    good = [item for item in items if how.is_dataset(item)]
    return good, len(items) - len(good)


def _label(item: Item) -> str:
    name = item.name.meaning if item.name else "(no concept name)"
    if isinstance(item.value, Code):
        return f"{item.value_type} '{name}' = '{item.value.meaning}'"
    return f"{item.value_type} '{name}'"


def _root_title(ds: Any) -> str | None:
    try:
        seq = ds.get("ConceptNameCodeSequence")
        meaning = seq[0].get("CodeMeaning") if seq else None  # absent: None, as pydicom's
        return None if meaning is None else str(meaning)      # attribute error was
    except Exception:
        return None


def _evidence_modality(evidence: tuple[ImageRef, ...], how: Source) -> str | None:
    """The one model modality of the images an SR references, if they agree."""
    found = set()
    for ref in evidence:
        keyword = how.uid_keyword(ref.sop_class_uid) or ""
        for prefix, modality in MODALITY_BY_CLASS:
            if keyword.startswith(prefix):
                found.add(modality)
                break
    found &= set(MODALITIES)
    return found.pop() if len(found) == 1 else None


def _row_named_in(message: str) -> str | None:
    """The row whose field an InputError names ("field 'site' has value ...")."""
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
