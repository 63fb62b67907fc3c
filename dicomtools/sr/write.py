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
          (templates/finding-group.json), Vertebral level(s), acquisition context
          (radiopharmaceutical, radionuclide, administered activity, contrast agent)
      CONTAINS Qualitative Evaluations > Impression          row 12, if impression or no finding
"""

from __future__ import annotations

import datetime as _dt
import json
import os
from dataclasses import replace
from pathlib import Path

from pydicom.charset import convert_encodings, default_encoding
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.tag import Tag
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

from .. import __version__, vocab
from ..errors import InputError
from ..files import save_dataset
from ..levels import LEVEL_CODES
from ..model import Finding, ImageRef, Report
from ..vocab import Concept
from .codec import CONTENT_SEQ, encode_content_value
from .content import (CONTAINS, HAS_ACQ_CONTEXT, HAS_CONCEPT_MOD, HAS_OBS_CONTEXT, ImageValue,
                      Item, Point3D, code_item, container, num_item, text_item)
from .templates import group_template, template_for

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
        findings.append(replace(
            finding,
            tracking_id=finding.tracking_id or f"{(finding.finding or 'finding').capitalize()} {index}",
            tracking_uid=finding.tracking_uid or generate_uid(),
        ))
    return replace(report, findings=tuple(findings))


def _finding_group(finding: Finding) -> Item:
    """One TID 1501 group, or TID 1411 when the lesion is a segment of a SEG."""
    items: list[Item] = [
        Item("TEXT", Concept.TRACKING_IDENTIFIER, HAS_OBS_CONTEXT, finding.tracking_id),
        Item("UIDREF", Concept.TRACKING_UID, HAS_OBS_CONTEXT, finding.tracking_uid),
    ]
    roi = finding.roi
    if roi is not None:
        items.append(Item("IMAGE", Concept.REFERENCED_SEGMENT, CONTAINS, ImageValue(
            vocab.SEGMENTATION_STORAGE, roi.seg_instance_uid, roi.segment_number)))
        items.append(Item("UIDREF", Concept.SOURCE_SERIES_FOR_SEGMENTATION, CONTAINS,
                          roi.source_series_uid))
    if finding.finding is not None:
        items.append(code_item(Concept.FINDING, vocab.FINDING_TYPES[finding.finding]))
    items.extend(_site_items(finding))
    items.extend(_measurement_items(finding))
    acquisition: list[Item] = []
    for coded in group_template().coded_fields:
        value = getattr(finding, coded.field)
        if value is None and not coded.always:
            continue
        item = code_item(coded.concept, coded.values[value], coded.relationship)
        (acquisition if coded.relationship == HAS_ACQ_CONTEXT else items).append(item)
    if finding.site != "vertebra":
        for level in finding.vertebral_levels or ():
            items.append(code_item(Concept.VERTEBRAL_LEVEL, LEVEL_CODES[level]))
    if roi is not None and roi.centroid_lps_mm is not None:
        items.append(Item("SCOORD3D", Concept.CENTER_OF_MASS, CONTAINS,
                          Point3D(*roi.centroid_lps_mm, roi.frame_of_reference_uid)))
    acquisition.extend(_radiopharmaceutical_items(finding))
    template = "1411" if roi is not None else group_template().template_id
    return container(Concept.MEASUREMENT_GROUP, CONTAINS, items + acquisition, template)


def _measurement_items(finding: Finding) -> list[Item]:
    """TID 300 NUMs: diameters (reported order, no axis), extents (axes stated), volume, ADC."""
    items = [num_item(Concept.DIAMETER, size, vocab.UNIT_MM) for size in finding.dimensions_mm or ()]
    if finding.extent_mm is not None:
        items += [num_item(concept, size, vocab.UNIT_MM) for concept, size in
                  zip((Concept.WIDTH_LR, Concept.DEPTH_AP, Concept.HEIGHT_CC), finding.extent_mm)]
    if finding.volume_ml is not None:
        items.append(num_item(Concept.VOLUME, finding.volume_ml, vocab.UNIT_CM3))
    if finding.adc_value is not None:
        unit = vocab.Code(finding.adc_unit, "UCUM", finding.adc_unit)
        # A lone ADC value keeps no derivation (a reader's ROI value); a segmented lesion's
        # statistics name theirs (CID 7464).
        derived = finding.adc_min is not None or finding.adc_median is not None
        for derivation, value in (("mean", finding.adc_value), ("minimum", finding.adc_min),
                                  ("median", finding.adc_median)):
            if value is None:
                continue
            item = num_item(Concept.ADC, value, unit)
            if derived:
                item.children.append(code_item(Concept.DERIVATION, vocab.DERIVATIONS[derivation],
                                               HAS_CONCEPT_MOD))
            items.append(item)
    return items


def _radiopharmaceutical_items(finding: Finding) -> list[Item]:
    """TID 10022 rows as acquisition context of the group (an extension TID 1501 allows)."""
    items = []
    if finding.tracer is not None:
        tracer = vocab.TRACERS[finding.tracer]
        items.append(code_item(Concept.RADIOPHARMACEUTICAL, tracer.agent, HAS_ACQ_CONTEXT))
        items.append(code_item(Concept.RADIONUCLIDE, tracer.nuclide, HAS_ACQ_CONTEXT))
    if finding.activity_mbq is not None:
        items.append(num_item(Concept.ADMINISTERED_ACTIVITY, finding.activity_mbq,
                              vocab.UNIT_MBQ, HAS_ACQ_CONTEXT))
    return items


def _site_items(finding: Finding) -> list[Item]:
    laterality = ([code_item(Concept.LATERALITY, vocab.LATERALITY[finding.laterality],
                             HAS_CONCEPT_MOD)] if finding.laterality else [])
    if finding.site == "vertebra" and finding.vertebral_levels:
        # A lesion *in* vertebrae: the vertebrae are the finding sites.
        return [code_item(Concept.FINDING_SITE, LEVEL_CODES[level], HAS_CONCEPT_MOD,
                          list(laterality)) for level in finding.vertebral_levels]
    if finding.site is None:
        return []  # laterality without a site is refused by check_writable
    return [code_item(Concept.FINDING_SITE, vocab.SITES[finding.site], HAS_CONCEPT_MOD, laterality)]


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
        code_item(Concept.PROCEDURE_REPORTED, vocab.PROCEDURES[report.procedure].reported,
                  HAS_CONCEPT_MOD),
    ]
    if any(r.sop_class_uid != vocab.SEGMENTATION_STORAGE for r in report.source_images):
        items.append(_image_library(report.source_images))
    if report.findings:
        items.append(container(Concept.IMAGING_MEASUREMENTS, CONTAINS,
                               [_finding_group(f) for f in report.findings]))
    if report.impression is not None or not report.findings:
        evaluations = ([code_item(Concept.IMPRESSION, vocab.IMPRESSION[report.impression])]
                       if report.impression is not None else [])
        items.append(container(Concept.QUALITATIVE_EVALUATIONS, CONTAINS, evaluations))
    return items


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
    """Refuse what cannot become a valid SR, naming the field."""
    if report.procedure is None or report.modality is None:
        raise InputError("report: 'procedure' (and its modality) is needed to write an SR")
    template = template_for(report.modality)
    for i, finding in enumerate(report.findings):
        for name in template.required_fields:
            if getattr(finding, name) is None:
                raise InputError(f"report: findings[{i}]: field '{name}' is required in a "
                                 f"{template.name} report (procedure {report.procedure!r})")
        if finding.laterality and finding.site is None:
            raise InputError(f"report: findings[{i}]: laterality {finding.laterality!r} "
                             "needs a site to qualify")


def to_dataset(report: Report, *, series_number: int = 900, instance_number: int = 1,
               now: _dt.datetime | None = None) -> Dataset:
    """Build the SR dataset. Findings without tracking IDs get them (see assign_tracking)."""
    check_writable(report)
    report = assign_tracking(report)
    now = now or _dt.datetime.now()
    template = template_for(report.modality)
    procedure = vocab.PROCEDURES[report.procedure]
    sop_uid = generate_uid()
    # Comprehensive 3D SR only where 3D coordinates exist (a lesion's centre of mass).
    sop_class = (COMPREHENSIVE_3D_SR if any(f.roi and f.roi.centroid_lps_mm for f in report.findings)
                 else COMPREHENSIVE_SR)

    raw = encode_content_value(content_tree(report))
    # UTF-8 only when needed: DCMTK's VR checker warns about ISO_IR 192. Every string the SR
    # holds is in the report's JSON form or in vocab (ASCII, checked in tests).
    ascii_only = json.dumps(report.to_json(), ensure_ascii=False).isascii()
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
    ds.AccessionNumber = report.study.accession_number or ""
    ds.Modality = "SR"
    ds.Manufacturer = "dicomtools"
    ds.ReferringPhysicianName = ""
    if report.study.description:
        ds.StudyDescription = report.study.description
    ds.SeriesDescription = f"{report.procedure} report"
    if vocab.LOCAL_SCHEME.encode() in raw:  # declare the private scheme where it is used
        scheme = Dataset()
        scheme.CodingSchemeDesignator = vocab.LOCAL_SCHEME
        scheme.CodingSchemeName = vocab.LOCAL_SCHEME_NAME
        scheme.CodingSchemeResponsibleOrganization = "dicomtools project"
        ds.CodingSchemeIdentificationSequence = Sequence([scheme])
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
    ds.PerformedProcedureCodeSequence = _code_sequence(procedure.performed)
    template_item = Dataset()
    template_item.MappingResource = "DCMR"
    template_item.TemplateIdentifier = "1500"
    ds.ContentTemplateSequence = Sequence([template_item])
    ds[CONTENT_SEQ] = RawDataElement(Tag(CONTENT_SEQ), "SQ", len(raw), raw, 0, False, True)

    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = sop_class
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
