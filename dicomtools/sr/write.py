"""Report -> DICOM SR (TID 1500 Imaging Measurement Report in a Comprehensive SR).

Layout (one TID 1501 group per finding; a report with no finding carries the TID 1500 row-12
Qualitative Evaluations container instead, which the standard allows and highdicom refuses,
highdicom#324)::

    CONTAINER Imaging Measurement Report                     TID 1500
      HAS CONCEPT MOD Language; HAS OBS CONTEXT observer     TID 1204, 1001
      HAS CONCEPT MOD Procedure reported                     CID 100
      CONTAINS Image Library > Image Library Group > IMAGE   TID 1600 (one group per series)
      CONTAINS Imaging Measurements                          row 6, if any finding
        CONTAINS Measurement Group (per finding)             TID 1501
          Tracking Identifier, Tracking UID, Finding, Finding Site (+ Laterality),
          Diameter NUM x n (reported order), Volume, ADC, coded evaluations
          (sr/rows.py), Vertebral level(s), acquisition context
          (radiopharmaceutical, radionuclide, administered activity, contrast agent);
          rows from sr/rows.py, selected per report type by templates/*.json
      CONTAINS Qualitative Evaluations > Impression          row 12, if impression or no finding
"""

from __future__ import annotations

import datetime as _dt
import os
import struct
from dataclasses import replace
from pathlib import Path

from pydicom.charset import convert_encodings, default_encoding
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.tag import Tag
from pydicom.uid import UID, ExplicitVRLittleEndian, generate_uid

from .. import __version__, standard_codes, terms, vocab
from ..errors import InputError
from ..files import save_dataset
from ..model import Finding, ImageRef, Report
from ..observations import Evaluation, Measurement
from ..values import ContentNode
from ..vocab import Concept
from .codec import CONTENT_SEQ, encode_content_value
from .content import (
    CONTAINS,
    HAS_ACQ_CONTEXT,
    HAS_CONCEPT_MOD,
    HAS_OBS_CONTEXT,
    ImageValue,
    Item,
    code_item,
    container,
    num_item,
    text_item,
)
from .rows import OPEN_PARTS, ROW_OF_FIELD, ROWS, write_row
from .templates import ReportTemplate, template_for

COMPREHENSIVE_SR = "1.2.840.10008.5.1.4.1.1.88.33"
COMPREHENSIVE_3D_SR = "1.2.840.10008.5.1.4.1.1.88.34"
# A fixed Device Observer UID for dicomtools (UUID-derived 2.25 root).
DEVICE_UID = "2.25.148106432961233427473012858716327436421"
_IMAGE_ENTRY = vocab.Code("260753009", "SCT", "Source")


def assign_tracking(report: Report) -> Report:
    """Give every finding a tracking identifier and UID (TID 1501 rows 2-3) where it has none.

    Identifiers count per report ("Finding 1"...); UIDs are new. The result is what a read-back
    of the written SR returns.
    """
    findings = []
    for index, finding in enumerate(report.findings, start=1):
        findings.append(finding if finding.tracking_id and finding.tracking_uid else finding.with_tracking(
            finding.tracking_id or f"{str(finding.finding or 'finding').capitalize()} {index}",
            finding.tracking_uid or generate_uid()))
    return replace(report, findings=tuple(findings))


def _finding_group(finding: Finding, template: ReportTemplate) -> Item:
    """One TID 1501 group (TID 1411 when the lesion is a segment of a SEG), written row by row
    from the row table; the open part follows the CONTAINS rows."""
    items: list[Item] = []
    acquisition: list[Item] = []
    for row in ROWS:
        if template.allows(row.name):
            written = write_row(row, finding)
            (acquisition if row.relationship == HAS_ACQ_CONTEXT else items).extend(written)
    items.extend(_measurement_item(m) for m in finding.measurements)
    items.extend(_evaluation_item(e) for e in finding.evaluations)
    items.extend(item_from_node(n) for n in finding.regions + finding.other)
    volumetric = finding.roi is not None or any(
        n.value_type == "SCOORD3D" or (n.value_type == "IMAGE" and isinstance(n.value, ImageValue)
                                       and n.value.segment_number is not None)
        for n in finding.regions)
    planar = any(n.value_type == "SCOORD" for n in finding.regions)
    tid = "1411" if volumetric else "1410" if planar else "1501"
    return container(Concept.MEASUREMENT_GROUP, CONTAINS, items + acquisition, tid)


def _measurement_item(m: Measurement) -> Item:
    item = num_item(m.concept_code, m.value, m.unit)
    if m.derivation is not None:
        item.children.append(code_item(Concept.DERIVATION, terms.code_for("derivation", m.derivation),
                                       HAS_CONCEPT_MOD))
    if m.method is not None:
        item.children.append(code_item(Concept.MEASUREMENT_METHOD, m.method, HAS_CONCEPT_MOD))
    if m.site is not None:
        item.children.append(code_item(Concept.FINDING_SITE, terms.code_for("site", m.site),
                                       HAS_CONCEPT_MOD))
    item.children.extend(item_from_node(n) for n in m.children)
    return item


def _evaluation_item(e: Evaluation) -> Item:
    vt = "CODE" if isinstance(e.value, vocab.Code) else "TEXT"
    return Item(vt, e.concept_code, CONTAINS, e.value, [item_from_node(n) for n in e.children])


def item_from_node(node: ContentNode) -> Item:
    """A kept content item, written back as it was read."""
    return Item(node.value_type, node.concept, node.relationship, node.value,
                [item_from_node(c) for c in node.children])


def _image_library(images: tuple[ImageRef, ...]) -> Item:
    groups: dict[str, list[Item]] = {}
    for ref in images:
        if ref.sop_class_uid == vocab.SEGMENTATION_STORAGE:
            continue  # a SEG is evidence, not a source image
        groups.setdefault(ref.series_instance_uid, []).append(
            Item("IMAGE", _IMAGE_ENTRY, CONTAINS, ImageValue(ref.sop_class_uid, ref.sop_instance_uid)))
    return container(Concept.IMAGE_LIBRARY, CONTAINS, [
        container(Concept.IMAGE_LIBRARY_GROUP, CONTAINS, entries) for entries in groups.values()])


def content_tree(report: Report) -> list[Item]:
    """The children of the root container, in TID 1500 row order."""
    if report.observer:
        observer = [code_item(Concept.OBSERVER_TYPE, vocab.OBSERVER_PERSON, HAS_OBS_CONTEXT),
                    Item("PNAME", Concept.PERSON_OBSERVER_NAME, HAS_OBS_CONTEXT, report.observer)]
    else:
        observer = [code_item(Concept.OBSERVER_TYPE, vocab.OBSERVER_DEVICE, HAS_OBS_CONTEXT),
                    Item("UIDREF", Concept.DEVICE_OBSERVER_UID, HAS_OBS_CONTEXT, DEVICE_UID),
                    text_item(Concept.DEVICE_OBSERVER_NAME, "dicomtools", HAS_OBS_CONTEXT)]
    items = [
        code_item(Concept.LANGUAGE, vocab.LANGUAGE_ENGLISH, HAS_CONCEPT_MOD,
                  [code_item(Concept.COUNTRY_OF_LANGUAGE, vocab.COUNTRY_US, HAS_CONCEPT_MOD)]),
        *observer,
        code_item(Concept.PROCEDURE_REPORTED, _procedure_codes(report.procedure)[0],
                  HAS_CONCEPT_MOD),
    ]
    if any(r.sop_class_uid != vocab.SEGMENTATION_STORAGE for r in report.source_images):
        items.append(_image_library(report.source_images))
    template = template_for(report.modality, report.procedure)
    if report.findings:
        items.append(container(Concept.IMAGING_MEASUREMENTS, CONTAINS,
                               [_finding_group(f, template) for f in report.findings]))
    if report.impression is not None or report.evaluations or not report.findings:
        evaluations = ([code_item(Concept.IMPRESSION, vocab.IMPRESSION[report.impression])]
                       if report.impression is not None else [])
        evaluations += [_evaluation_item(e) for e in report.evaluations]
        items.append(container(Concept.QUALITATIVE_EVALUATIONS, CONTAINS, evaluations))
    items.extend(item_from_node(n) for n in report.other)
    return items


_CID100 = {vocab.Code(v, s, m) for s, v, m in standard_codes.CIDS[100][1]}


def _procedure_codes(procedure: str | vocab.Code | None) -> tuple[vocab.Code, vocab.Code | None]:
    """(Procedure reported, Performed Procedure Code) of a procedure name or a kept code."""
    if isinstance(procedure, vocab.Code):
        # TID 1500 row 4 draws from CID 100; any other code is kept in the header's Performed
        # Procedure Code Sequence, beside the generic "Imaging procedure".
        if procedure in _CID100:
            return procedure, None
        return vocab.UNSPECIFIED_PROCEDURE, procedure
    if procedure is None:  # unknown (an SR of another tool that named none)
        return vocab.UNSPECIFIED_PROCEDURE, None
    known = vocab.PROCEDURES[procedure]
    return known.reported, known.performed


def _codes(items: list[Item]):
    """Every code of a content tree: concept names, CODE values, NUM units."""
    stack = list(items)
    while stack:
        item = stack.pop()
        for code in (item.name, item.value, getattr(item.value, "unit", None)):
            if isinstance(code, vocab.Code):
                yield code
        stack.extend(item.children)


def _private_schemes(items: list[Item]) -> set[str]:
    """Designators of private coding schemes (PS3.16 §8.2: they start with "99")."""
    return {code.scheme for code in _codes(items) if code.scheme.startswith("99")}


def _texts_ascii(items: list[Item]) -> bool:
    """True when every text the content tree holds is ASCII (binary values do not count)."""
    if not all(c.meaning.isascii() and c.value.isascii() and c.scheme.isascii()
               for c in _codes(items)):
        return False
    stack = list(items)
    while stack:
        item = stack.pop()
        if isinstance(item.value, str) and not item.value.isascii():
            return False
        stack.extend(item.children)
    return True


def _code_sequence(code: vocab.Code) -> Sequence:
    ds = Dataset()
    ds.CodeValue, ds.CodingSchemeDesignator, ds.CodeMeaning = code.value, code.scheme, code.meaning
    return Sequence([ds])


def _evidence(images: tuple[ImageRef, ...]) -> Sequence:
    studies: dict[str, dict[str, list[ImageRef]]] = {}
    for ref in images:
        studies.setdefault(ref.study_instance_uid, {}).setdefault(ref.series_instance_uid, []).append(ref)
    out = []
    for study_uid, series in studies.items():
        study = Dataset()
        study.StudyInstanceUID = study_uid
        study.ReferencedSeriesSequence = Sequence()
        for series_uid, refs in series.items():
            item = Dataset()
            item.SeriesInstanceUID = series_uid
            item.ReferencedSOPSequence = Sequence()
            for ref in refs:
                sop = Dataset()
                sop.ReferencedSOPClassUID = ref.sop_class_uid
                sop.ReferencedSOPInstanceUID = ref.sop_instance_uid
                item.ReferencedSOPSequence.append(sop)
            study.ReferencedSeriesSequence.append(item)
        out.append(study)
    return Sequence(out)


def check_writable(report: Report) -> None:
    """Refuse what cannot become a valid SR, naming the field: a report without procedure, a
    required field missing, or a field the report type's template has no row for (a T2 signal
    in a CT report)."""
    template = template_for(report.modality, report.procedure)
    for i, finding in enumerate(report.findings):
        for problem in finding_problems(finding, template):
            raise InputError(f"report: findings[{i}]: {problem} (procedure "
                             f"{str(report.procedure)!r}, template {template.name})")


def finding_problems(finding: Finding, template: ReportTemplate) -> list[str]:
    """What makes a finding unwritable in a template (also our validator's errors)."""
    problems = [f"field '{name}' is required in a {template.name} report"
                for name in sorted(template.required_fields) if getattr(finding, name) in (None, ())]
    for name, row in ROW_OF_FIELD.items():
        if not template.allows(row.name) and getattr(finding, name) is not None \
                and name not in ("modality", "procedure"):
            problems.append(f"field '{name}' has no row in a {template.name} report")
    for name in OPEN_PARTS:
        if getattr(finding, name) and not template.allows(name):
            problems.append(f"field '{name}' has no row in a {template.name} report")
    if finding.laterality and finding.site is None:
        problems.append(f"field 'laterality' {str(finding.laterality)!r} needs a site to qualify")
    return problems


def to_dataset(report: Report, *, series_number: int = 900, instance_number: int = 1,
               now: _dt.datetime | None = None) -> Dataset:
    """Build the SR dataset. Findings without tracking IDs get them (see assign_tracking)."""
    check_writable(report)
    report = assign_tracking(report)
    now = now or _dt.datetime.now().astimezone()
    template = template_for(report.modality, report.procedure)
    performed = _procedure_codes(report.procedure)[1]
    sop_uid = generate_uid()

    try:
        tree = content_tree(report)
        raw = encode_content_value(tree)
    except (UnicodeEncodeError, struct.error, ValueError, OverflowError) as exc:
        raise InputError(f"report: a value cannot be encoded in DICOM ({exc})") from None
    # Comprehensive 3D SR only where 3D coordinates exist (a lesion's centre of mass, or a
    # SCOORD3D region kept from another tool's SR).
    sop_class = (COMPREHENSIVE_3D_SR if b"SCOORD3D" in raw else COMPREHENSIVE_SR)
    # UTF-8 only when a text needs it: DCMTK's VR checker warns about ISO_IR 192.
    header = (report.patient.name, report.patient.id, report.patient.issuer, report.study.id,
              report.study.description, report.study.accession_number, report.indication,
              str(report.procedure))
    ascii_only = _texts_ascii(tree) and all(text.isascii() for text in header if text)
    charset = None if ascii_only else "ISO_IR 192"

    ds = Dataset()
    if charset:
        ds.SpecificCharacterSet = charset
    ds.InstanceCreationDate = now.strftime("%Y%m%d")
    ds.InstanceCreationTime = now.strftime("%H%M%S")
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = sop_uid
    ds.StudyDate = report.study.date or ""
    ds.ContentDate = now.strftime("%Y%m%d")
    ds.StudyTime = report.study.time or ""
    ds.ContentTime = now.strftime("%H%M%S")
    if now.utcoffset() is not None:  # the dates and times above are local to this offset
        ds.TimezoneOffsetFromUTC = now.strftime("%z")
    ds.AccessionNumber = report.study.accession_number or ""
    ds.Modality = "SR"
    ds.Manufacturer = "dicomtools"
    ds.ReferringPhysicianName = ""
    if report.study.description:
        ds.StudyDescription = report.study.description
    ds.SeriesDescription = f"{report.procedure} report"[:64]
    private = _private_schemes(tree)
    if private:  # declare every private scheme used (ours, and others' kept from their SRs)
        ds.CodingSchemeIdentificationSequence = Sequence()
        for designator in sorted(private):
            scheme = Dataset()
            scheme.CodingSchemeDesignator = designator
            ours = designator == vocab.LOCAL_SCHEME
            scheme.CodingSchemeName = vocab.LOCAL_SCHEME_NAME if ours else "private scheme"
            scheme.CodingSchemeResponsibleOrganization = ("dicomtools project" if ours else
                                                          "unknown (kept from the SR read)")
            ds.CodingSchemeIdentificationSequence.append(scheme)
    ds.ReferencedPerformedProcedureStepSequence = Sequence()
    ds.PatientName = report.patient.name or ""
    ds.PatientID = report.patient.id or ""
    if report.patient.issuer:
        ds.IssuerOfPatientID = report.patient.issuer
    ds.PatientBirthDate = report.patient.birth_date or ""
    ds.PatientSex = report.patient.sex or ""
    if report.study.patient_age:
        ds.PatientAge = report.study.patient_age
    if report.indication:
        ds.ReasonForVisit = report.indication  # Patient Study module: the chief complaint
    ds.SoftwareVersions = __version__
    ds.StudyInstanceUID = report.study.instance_uid or generate_uid()
    ds.SeriesInstanceUID = generate_uid()
    ds.StudyID = report.study.id or ""
    ds.SeriesNumber = series_number
    ds.InstanceNumber = instance_number
    ds.ValueType = "CONTAINER"
    ds.ConceptNameCodeSequence = _code_sequence(template.title)
    ds.ContinuityOfContent = "SEPARATE"
    in_study = tuple(r for r in report.source_images if r.study_instance_uid == ds.StudyInstanceUID)
    other = tuple(r for r in report.source_images if r.study_instance_uid != ds.StudyInstanceUID)
    if in_study:
        ds.CurrentRequestedProcedureEvidenceSequence = _evidence(in_study)
    if other:
        ds.PertinentOtherEvidenceSequence = _evidence(other)
    ds.CompletionFlag = "COMPLETE"
    ds.VerificationFlag = "UNVERIFIED"
    ds.PerformedProcedureCodeSequence = _code_sequence(performed) if performed else Sequence()
    template_item = Dataset()
    template_item.MappingResource = "DCMR"
    template_item.TemplateIdentifier = "1500"
    ds.ContentTemplateSequence = Sequence([template_item])
    ds[CONTENT_SEQ] = RawDataElement(Tag(CONTENT_SEQ), "SQ", len(raw), raw, 0, False, True)

    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = UID(sop_class)
    ds.file_meta.MediaStorageSOPInstanceUID = sop_uid
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    # Declare the encoding we already used, so pydicom writes our raw bytes as they are. The
    # character set must equal pydicom's own reading of SpecificCharacterSet: if they differ,
    # dcmwrite re-parses the raw ContentSequence into Datasets and re-encodes it (~30x slower).
    ds.set_original_encoding(False, True, convert_encodings(charset) if charset else default_encoding)
    return ds


def write_sr(report: Report, path: str | os.PathLike, **kwargs) -> Path:
    """Write the SR atomically: a failure never leaves a half-written file at ``path``."""
    return save_dataset(to_dataset(report, **kwargs), path)
