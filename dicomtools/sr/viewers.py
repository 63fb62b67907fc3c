"""Will a report display as measurements in OHIF or 3D Slicer? One line per reason.

Each check follows what the viewers' own SR loading code does (read, not copied):

- OHIF: ``extensions/cornerstone-dicom-sr/src/getSopClassHandlerModule.ts`` (OHIF/Viewers)
  accepts a report only when its title is (126000, DCM); walks Imaging Measurements (126010)
  -> Measurement Group (125007); keys each group by its Tracking Unique Identifier (112040,
  read without a guard) and labels it by its Tracking Identifier (112039); merges groups that
  share a Tracking UID into one measurement; draws a group from a SCOORD/SCOORD3D at group
  level (TID 1410) or, failing that, from the ContentSequence of every NUM (its INFERRED FROM
  SCOORD, read without a guard); takes the image to draw on from the SCOORD's IMAGE child
  (ReferencedSOPSequence) and labels the finding site only from a Finding Site coded
  (363698007, SCT) (``constants/CodeNameCodeSequenceValues.ts``, ``enums.ts``).
- Slicer: ``DICOMPlugins/DICOMTID1500Plugin.py`` (QIICR/QuantitativeReporting) offers a file
  only when Modality is SR, the SOP class is Enhanced, Comprehensive or Comprehensive 3D SR and
  ContentTemplateSequence[0].TemplateIdentifier is "1500"; it shows planar annotations of
  groups whose region is an Image Region (111030, DCM), else measurements of a SEG listed in
  CurrentRequestedProcedureEvidenceSequence (read by dcmqi ``libsrc/TID1500Reader.cpp``,
  which also warns without the TID 1500 DCMR template identification).

The checks are independent: a report may have several reasons, each names its viewer.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path

from pydicom.dataset import Dataset

from ..errors import SRReadError
from ..phi import printable
from .read import SR_STORAGE, open_dicom

# (CodeValue, CodingSchemeDesignator) of the concepts the viewers look for.
REPORT = ("126000", "DCM")
IMAGING_MEASUREMENTS = ("126010", "DCM")
MEASUREMENT_GROUP = ("125007", "DCM")
TRACKING_UID = ("112040", "DCM")
TRACKING_ID = ("112039", "DCM")
IMAGE_REGION = ("111030", "DCM")
FINDING_SITE = ("363698007", "SCT")
FINDING_SITE_SRT = ("G-C0E3", "SRT")  # the retired SNOMED-RT form older writers use
SLICER_SOP_CLASSES = {"1.2.840.10008.5.1.4.1.1.88.22": "Enhanced SR",
                      "1.2.840.10008.5.1.4.1.1.88.33": "Comprehensive SR",
                      "1.2.840.10008.5.1.4.1.1.88.34": "Comprehensive 3D SR"}
SEG_STORAGE = "1.2.840.10008.5.1.4.1.1.66.4"
GEOMETRY = ("SCOORD", "SCOORD3D")
MAX_ITEMS = 1_000_000  # content items walked: a bound on a hostile file, far above real SRs


def _concept(item: Dataset) -> tuple[str, str]:
    seq = item.get("ConceptNameCodeSequence")
    if not seq:
        return ("", "")
    code = seq[0]
    return (str(code.get("CodeValue", "") or code.get("LongCodeValue", "") or
                code.get("URNCodeValue", "") or ""), str(code.get("CodingSchemeDesignator", "") or ""))


def _meaning(item: Dataset) -> str:
    seq = item.get("ConceptNameCodeSequence")
    return printable(str(seq[0].get("CodeMeaning", ""))) if seq else ""


def _children(item: Dataset) -> list[Dataset]:
    return list(item.get("ContentSequence") or [])


def _value_type(item: Dataset) -> str:
    return str(item.get("ValueType", "") or "")


def _walk(root: Dataset) -> Iterator[Dataset]:
    """Every content item below ``root`` (iterative: deep trees do not exhaust the stack)."""
    stack, seen = list(reversed(_children(root))), 0
    while stack and seen < MAX_ITEMS:
        item = stack.pop()
        seen += 1
        yield item
        stack.extend(reversed(_children(item)))


def _code_text(item: Dataset) -> str:
    value, scheme = _concept(item)
    return f"({printable(value)}, {printable(scheme)}, {_meaning(item)!r})" if value else "none"


def _group_name(n: int, group: Dataset) -> str:
    for item in _children(group):
        if _concept(item) == TRACKING_ID and item.get("TextValue"):
            return f"measurement group {n} ({printable(str(item.TextValue))[:64]!r})"
    return f"measurement group {n}"


def _groups(ds: Dataset) -> tuple[bool, list[Dataset]]:
    """(has an Imaging Measurements container, its Measurement Groups)."""
    containers = [i for i in _children(ds) if _concept(i) == IMAGING_MEASUREMENTS]
    groups = [g for c in containers for g in _children(c)
              if _concept(g) == MEASUREMENT_GROUP and _value_type(g) == "CONTAINER"]
    return bool(containers), groups


def _header_problems(ds: Dataset) -> list[str]:
    out = []
    if _concept(ds) != REPORT:
        out.append(f"OHIF: document title is {_code_text(ds)}, not (126000, DCM, 'Imaging "
                   "Measurement Report'): OHIF's SR viewer refuses it ('only supports TID1500')")
    templates = ds.get("ContentTemplateSequence") or []
    identifier = str(templates[0].get("TemplateIdentifier", "")) if templates else ""
    if identifier != "1500":
        found = f"TemplateIdentifier {printable(identifier)!r}" if templates else "no ContentTemplateSequence"
        out.append(f"Slicer: {found}, not TID 1500 (DCMR): QuantitativeReporting's TID1500 plugin "
                   "does not offer the file, and dcmqi's tid1500reader warns")
    sop_class = str(ds.get("SOPClassUID", "") or "")
    if sop_class not in SLICER_SOP_CLASSES:
        out.append(f"Slicer: SOP class {printable(sop_class) or 'missing'} is not Enhanced, "
                   "Comprehensive or Comprehensive 3D SR, the classes QuantitativeReporting loads")
    if str(ds.get("Modality", "") or "") != "SR":
        out.append(f"Slicer: Modality is {printable(str(ds.get('Modality', '') or '')) or 'missing'!r}, "
                   "not 'SR': QuantitativeReporting's TID1500 plugin does not offer the file")
    return out


def _group_problems(n: int, group: Dataset) -> list[str]:
    name = _group_name(n, group)
    items = _children(group)
    concepts = [_concept(i) for i in items]
    out = []
    if not any(c == TRACKING_UID and _value_type(i) == "UIDREF" and i.get("UID")
               for c, i in zip(concepts, items, strict=True)):
        out.append(f"OHIF: {name} has no Tracking Unique Identifier (112040, DCM): OHIF keys "
                   "each measurement by it and fails to load the report without it")
    if not any(c == TRACKING_ID and i.get("TextValue") for c, i in zip(concepts, items, strict=True)):
        out.append(f"OHIF: {name} has no Tracking Identifier (112039, DCM): OHIF shows the "
                   "measurement without a label and cannot edit (rehydrate) it")
    top = [i for i in items if _value_type(i) in GEOMETRY]
    nums = [i for i in items if _value_type(i) == "NUM"]
    under_num = [c for i in nums for c in _children(i) if _value_type(c) in GEOMETRY]
    if not top and not under_num:
        out.append(f"OHIF: {name} has no SCOORD or SCOORD3D (at group level or INFERRED FROM "
                   "under a NUM): OHIF lists it as text only, nothing is drawn on an image")
    elif not top:
        bare = [_meaning(i) or "NUM" for i in nums if not _children(i)]
        if bare:
            out.append(f"OHIF: {name}: NUM {', '.join(repr(b) for b in bare[:3])} has no "
                       "content items: without a group-level SCOORD, OHIF reads every NUM's "
                       "INFERRED FROM SCOORD and fails on one without")
    for shape in top + under_num:
        if _value_type(shape) == "SCOORD" and not any(
                _value_type(c) == "IMAGE" and c.get("ReferencedSOPSequence") for c in _children(shape)):
            out.append(f"OHIF: {name}: a SCOORD has no selected-from IMAGE: OHIF cannot find the "
                       "image to draw it on")
            break
        if _value_type(shape) == "SCOORD3D" and not shape.get("ReferencedFrameOfReferenceUID"):
            out.append(f"OHIF: {name}: a SCOORD3D has no Referenced Frame of Reference UID: "
                       "OHIF cannot find the volume to draw it in")
            break
    for c, item in zip(concepts, items, strict=True):
        site_like = c in (FINDING_SITE, FINDING_SITE_SRT) or _meaning(item).lower() == "finding site"
        if not site_like:
            continue
        if _value_type(item) != "CODE":
            out.append(f"OHIF: {name}: finding site is {_value_type(item) or 'untyped'}, not "
                       "CODE: OHIF labels a site by its code meaning only")
        elif c != FINDING_SITE:
            out.append(f"OHIF: {name}: finding site coded as {_code_text(item)}, not (363698007, "
                       "SCT): OHIF does not map it, the measurement shows no site")
    return out


def _slicer_geometry(ds: Dataset, groups: list[Dataset]) -> list[str]:
    regions = any(_concept(i) == IMAGE_REGION and _value_type(i) in GEOMETRY
                  for g in groups for i in _children(g))
    seg = any(str(sop.get("ReferencedSOPClassUID", "")) == SEG_STORAGE
              for study in ds.get("CurrentRequestedProcedureEvidenceSequence") or []
              for series in study.get("ReferencedSeriesSequence") or []
              for sop in series.get("ReferencedSOPSequence") or [])
    if groups and not regions and not seg:
        return ["Slicer: no measurement group has an Image Region (111030, DCM) SCOORD/SCOORD3D "
                "and no SEG is listed in CurrentRequestedProcedureEvidenceSequence: "
                "QuantitativeReporting has no annotation to draw and no segmentation to load "
                "measurements from"]
    planar_2d = any(_concept(i) == IMAGE_REGION and _value_type(i) == "SCOORD"
                    for g in groups for i in _children(g))
    evidence = ds.get("CurrentRequestedProcedureEvidenceSequence") or []
    if planar_2d and not any(study.get("ReferencedSeriesSequence") for study in evidence):
        # DICOMTID1500Plugin takes the images of 2D regions from the first evidence series
        return ["Slicer: 2D Image Region groups but no series in "
                "CurrentRequestedProcedureEvidenceSequence: QuantitativeReporting looks the "
                "annotated series up there and cannot load it"]
    return []


def dataset_problems(ds: Dataset) -> list[str]:
    """Reasons a read SR dataset will not display as measurements in OHIF or Slicer."""
    out = _header_problems(ds)
    has_container, groups = _groups(ds)
    if not has_container:
        out.append("OHIF, Slicer: no Imaging Measurements container (126010, DCM) under the "
                   "document root: neither viewer finds a measurement group")
    elif not groups:
        out.append("OHIF, Slicer: the Imaging Measurements container holds no Measurement "
                   "Group (125007, DCM): there is nothing to show as a measurement")
    uids: dict[str, int] = {}
    for n, group in enumerate(groups, start=1):
        out.extend(_group_problems(n, group))
        for item in _children(group):
            if _concept(item) == TRACKING_UID and item.get("UID"):
                uid = str(item.UID)
                if uid in uids:
                    out.append(f"OHIF: {_group_name(n, group)} shares its Tracking UID with "
                               f"measurement group {uids[uid]}: OHIF merges them into one measurement")
                uids.setdefault(uid, n)
    out.extend(_slicer_geometry(ds, groups))
    return out


def viewer_problems(path: Path) -> list[str]:
    """One line per reason the SR at ``path`` will not display as measurements in OHIF or
    3D Slicer (QuantitativeReporting); [] when both would show its measurements. Raises
    SRReadError for a file that is not a readable DICOM SR."""
    ds = open_dicom(path)
    # pydicom decodes values when first read: a damaged one warns (quoting the value, which
    # may be a name) or raises here, not in open_dicom
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            sop_class = str(ds.get("SOPClassUID", "") or "")
            if sop_class not in SR_STORAGE:
                raise SRReadError(f"{printable(str(path))}: SOP class "
                                  f"{printable(sop_class) or 'missing'} is not a Structured Report")
            return dataset_problems(ds)
        except SRReadError:
            raise
        except Exception as exc:  # pydicom raises many types on damaged values
            raise SRReadError(f"{printable(str(path))}: a content item cannot be decoded "
                              f"({type(exc).__name__})") from None
