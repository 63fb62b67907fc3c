"""dcmqi's TID 1500 JSON both ways: ``export_json`` (our SR -> the metadata JSON that dcmqi's
``tid1500writer`` takes) and ``import_json`` (that JSON + the files it names -> Report).

The JSON follows dcmqi's schema ``doc/schemas/sr-tid1500-schema.json`` (QIICR/dcmqi). Every
dcmqi group is a TID 1411 volumetric group: the writer refuses a group without a Referenced
Segment (a SEG instance UID, a segment number, a source series). A finding of ours without a
segmentation is refused (InputError naming the group) unless the caller asks for a
*placeholder* reference under dicomtools' own UID root (:data:`PLACEHOLDER_ROOT`;
``placeholder_segments=True``, ``--placeholder-segments``): the SR dcmqi then writes points at a
SEG that does not exist, so it is never done silently. ``import_json`` recognises the
placeholder and drops it again. What the JSON
cannot hold (report-level impression, acquisition context as such, coordinates, topographic
modifiers of a site, ...) is named in the notes ``export_report`` returns; docs/dcmqi.md
lists it all.

Export maps the content tree our writer builds from the Report (``sr.write.content_tree``),
item by item, so an SR of another tool (read into the open part of the model) exports too.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import vocab
from ..errors import InputError
from ..files import write_text
from ..levels import CODE_LEVELS
from ..model import Report
from ..phi import printable
from ..sr.codec import format_ds
from ..sr.content import CONTAINS, HAS_ACQ_CONTEXT, HAS_CONCEPT_MOD, HAS_OBS_CONTEXT, Item
from ..sr.read import read_sr
from ..sr.write import DEVICE_UID, _procedure_codes, content_tree
from ..values import ImageValue, Num
from ..vocab import Code, Concept
from .dcmqi_import import (
    ALGORITHM_NAME,
    ALGORITHM_PARAMETERS,
    ALGORITHM_VERSION,
    PLACEHOLDER_ROOT,
    POPULATION_DESCRIPTION,
    RWVM_CONCEPT,
    SCHEMA_URL,
    import_json,
    index_dicom,
)

__all__ = ["export_json", "export_report", "import_json", "export_command", "import_command",
           "PLACEHOLDER_ROOT"]

_INFERRED_FROM = "INFERRED FROM"
_HAS_PROPERTIES = "HAS PROPERTIES"


def _code(code: Code) -> dict[str, str]:
    """A dcmqi codeSequence object."""
    return {"CodeValue": code.value, "CodingSchemeDesignator": code.scheme,
            "CodeMeaning": code.meaning}


def _ds(value: float) -> str:
    """A number as the Decimal String (at most 16 characters) our SR writer stores."""
    return format_ds(value).decode("ascii").strip()


def _label(item: Item) -> str:
    name = item.name.meaning if item.name else "(no concept name)"
    return f"{item.value_type} '{name}'"


@dataclass
class _Group:
    """What one measurement group becomes, and what it lost (the notes)."""

    where: str
    out: dict[str, Any] = field(default_factory=dict)
    items: list[dict[str, Any]] = field(default_factory=list)
    evaluations: list[dict[str, Any]] = field(default_factory=list)
    mods: list[Item] = field(default_factory=list)  # the group's HAS CONCEPT MOD items
    levels: list[Code] = field(default_factory=list)  # vertebrae named as finding sites
    notes: list[str] = field(default_factory=list)

    def note(self, text: str) -> None:
        self.notes.append(f"{self.where}: {text}")


def _algorithm(children: list[Item]) -> tuple[dict[str, Any] | None, list[Item]]:
    """TID 4019 algorithm identification (TEXT name, version, parameters) among ``children``,
    and the children that are not part of it."""
    name = next((c.value for c in children if c.name == ALGORITHM_NAME and not c.children), None)
    version = next((c.value for c in children if c.name == ALGORITHM_VERSION and not c.children), None)
    if not isinstance(name, str) or not isinstance(version, str):
        return None, children  # dcmqi writes both or neither
    out: dict[str, Any] = {"AlgorithmName": name, "AlgorithmVersion": version}
    parameters = [c.value for c in children if c.name == ALGORITHM_PARAMETERS
                  and isinstance(c.value, str) and not c.children]
    if parameters:
        out["AlgorithmParameters"] = parameters
    rest = [c for c in children if c.name not in (ALGORITHM_NAME, ALGORITHM_VERSION,
                                                  ALGORITHM_PARAMETERS) or c.children]
    return out, rest


def _measurement(item: Item, group: _Group) -> dict[str, Any]:
    """A NUM (TID 300/1419) as a dcmqi measurementItem; children dcmqi has no key for are noted."""
    num = item.value
    assert isinstance(num, Num) and item.name is not None
    out: dict[str, Any] = {"value": _ds(num.value), "quantity": _code(item.name),
                           "units": _code(num.unit)}
    algorithm, children = _algorithm(item.children)
    modifiers, parameters, properties = [], [], []
    for child in children:
        plain = not child.children
        if child.relationship == HAS_CONCEPT_MOD and child.value_type == "CODE" and plain \
                and isinstance(child.value, Code) and child.name is not None:
            if child.name == Concept.DERIVATION and "derivationModifier" not in out:
                out["derivationModifier"] = _code(child.value)
            else:  # method, site and other modifiers: TID 1419 row 6 (dcmqi's reader ignores site/method)
                modifiers.append({"modifier": _code(child.name), "modifierValue": _code(child.value)})
        elif child.relationship == _INFERRED_FROM and child.value_type == "NUM" and plain \
                and isinstance(child.value, Num) and child.name is not None:
            parameters.append({"derivationParameter": _code(child.name),
                               "derivationParameterValue": _ds(child.value.value),
                               "derivationParameterUnits": _code(child.value.unit)})
        elif child.relationship == _HAS_PROPERTIES and child.value_type == "NUM" and plain \
                and isinstance(child.value, Num) and child.name is not None:
            properties.append({"numProperty": _code(child.name),
                               "numPropertyValue": _ds(child.value.value),
                               "numPropertyUnits": _code(child.value.unit)})
        elif child.relationship == _HAS_PROPERTIES and child.name == POPULATION_DESCRIPTION \
                and isinstance(child.value, str) and plain \
                and "measurementPopulationDescription" not in out:
            out["measurementPopulationDescription"] = child.value
        else:
            group.note(f"{_label(item)}: child {child.relationship} {_label(child)} has no "
                       "dcmqi key; left out")
    if modifiers:
        out["measurementModifiers"] = modifiers
    if parameters:
        out["measurementDerivationParameters"] = parameters
    if properties:
        out["measurementNumProperties"] = properties
    if algorithm:
        out["measurementAlgorithmIdentification"] = algorithm
    return out


def _site(item: Item, group: _Group) -> None:
    value = item.value
    assert isinstance(value, Code)
    laterality = [c for c in item.children if c.name == Concept.LATERALITY
                  and isinstance(c.value, Code) and not c.children]
    for child in item.children:
        if child is not (laterality[0] if laterality else None):
            group.note(f"finding site modifier {_label(child)} has no dcmqi key (only "
                       "Laterality qualifies FindingSite); left out")
    if value in CODE_LEVELS and ("FindingSite" not in group.out or group.levels):
        group.levels.append(value)  # settled in _finish: one vertebra, or "vertebra" + levels
    elif "FindingSite" in group.out:
        group.note(f"a second Finding Site '{value.meaning}' (dcmqi holds one); written as a "
                   "qualitative evaluation")
        group.evaluations.append({"conceptCode": _code(Concept.FINDING_SITE),
                                  "conceptValue": _code(value)})
        return
    else:
        group.out["FindingSite"] = _code(value)
    if laterality and isinstance(laterality[0].value, Code):
        group.out["Laterality"] = _code(laterality[0].value)


def _group_item(item: Item, group: _Group) -> None:
    """One child of a measurement group into the dcmqi group (or a note saying why not)."""
    vt, name, value, rel = item.value_type, item.name, item.value, item.relationship
    if name == Concept.TRACKING_IDENTIFIER and isinstance(value, str) \
            and "TrackingIdentifier" not in group.out:
        group.out["TrackingIdentifier"] = value
    elif name == Concept.TRACKING_UID and isinstance(value, str) \
            and "TrackingUniqueIdentifier" not in group.out:
        group.out["TrackingUniqueIdentifier"] = value
    elif name == Concept.REFERENCED_SEGMENT and isinstance(value, ImageValue) \
            and value.segment_number is not None and "segmentationSOPInstanceUID" not in group.out:
        group.out["ReferencedSegment"] = value.segment_number
        group.out["segmentationSOPInstanceUID"] = value.sop_instance_uid
    elif name == Concept.SOURCE_SERIES_FOR_SEGMENTATION and isinstance(value, str):
        group.out["SourceSeriesForImageSegmentation"] = value
    elif name == RWVM_CONCEPT and isinstance(value, ImageValue):
        group.out["rwvmMapUsedForMeasurement"] = value.sop_instance_uid
    elif name == Concept.FINDING and isinstance(value, Code) and "Finding" not in group.out:
        group.out["Finding"] = _code(value)
    elif name == Concept.FINDING_SITE and isinstance(value, Code):
        _site(item, group)
    elif name == Concept.MEASUREMENT_METHOD and rel == HAS_CONCEPT_MOD and isinstance(value, Code):
        group.out["MeasurementMethod"] = _code(value)
    elif vt == "NUM" and isinstance(value, Num) and name is not None:
        if rel == HAS_ACQ_CONTEXT:
            group.note(f"acquisition context {_label(item)} written as a measurement item "
                       "(dcmqi has no acquisition context)")
        group.items.append(_measurement(item, group))
    elif vt in ("CODE", "TEXT") and name is not None and isinstance(value, (Code, str)) \
            and rel in (CONTAINS, HAS_ACQ_CONTEXT, None):
        if rel == HAS_ACQ_CONTEXT:
            group.note(f"acquisition context {_label(item)} written as a qualitative "
                       "evaluation (dcmqi has no acquisition context)")
        if item.children:
            group.note(f"{_label(item)}: {len(item.children)} qualifier(s) have no dcmqi key; "
                       "left out")
        group.evaluations.append({"conceptCode": _code(name), "conceptValue":
                                  _code(value) if isinstance(value, Code) else value})
    elif vt == "TEXT" and name in (ALGORITHM_NAME, ALGORITHM_VERSION, ALGORITHM_PARAMETERS) \
            and _algorithm(group.mods)[0] is not None:
        pass  # gathered per group by _algorithm
    else:
        group.note(f"{rel} {_label(item)} has no dcmqi key (coordinates, image references and "
                   "other content are not in dcmqi's JSON); left out")


def _finish(group: _Group, index: int, series: str, placeholder: bool) -> dict[str, Any]:
    out = group.out
    if group.levels:
        if len(group.levels) == 1 and "FindingSite" not in out:
            out["FindingSite"] = _code(group.levels[0])  # one vertebra: it is the site
        else:  # several vertebrae: site "vertebra", each level a Vertebral level evaluation
            if "FindingSite" in out:
                group.note("vertebrae beside another Finding Site: written as Vertebral level "
                           "evaluations")
            out.setdefault("FindingSite", _code(vocab.SITES["vertebra"]))
            group.evaluations[:0] = [{"conceptCode": _code(Concept.VERTEBRAL_LEVEL),
                                      "conceptValue": _code(level)} for level in group.levels]
    if "Finding" not in out:
        name = Concept.FINDING
        raise InputError(f"{group.where}: no {name.meaning} ({name.value}, {name.scheme}); "
                         "dcmqi's tid1500writer requires one per group")
    out.setdefault("TrackingIdentifier", f"Measurement group {index}")
    if "segmentationSOPInstanceUID" not in out:
        if not placeholder:
            raise InputError(f"{group.where}: no segmentation; dcmqi's JSON holds only measurement "
                             "groups of a SEG segment: give the finding a segmentation, or ask for a "
                             "placeholder reference (--placeholder-segments; it names no real SEG)")
        group.note("no segmentation: a placeholder Referenced Segment "
                   f"({PLACEHOLDER_ROOT}.{index}, segment 1) is written, as dcmqi requires one; "
                   "import_json drops it again")
        out["ReferencedSegment"] = 1
        out["segmentationSOPInstanceUID"] = f"{PLACEHOLDER_ROOT}.{index}"
    out.setdefault("SourceSeriesForImageSegmentation", series)
    algorithm, _ = _algorithm(group.mods)
    if algorithm:
        out["measurementAlgorithmIdentification"] = algorithm
    if group.items:
        out["measurementItems"] = group.items
    if group.evaluations:
        out["qualitativeEvaluations"] = group.evaluations
    # the schema's property order, for people who read the file
    order = ("TrackingIdentifier", "TrackingUniqueIdentifier", "ReferencedSegment",
             "SourceSeriesForImageSegmentation", "segmentationSOPInstanceUID",
             "rwvmMapUsedForMeasurement", "MeasurementMethod", "Finding", "FindingSite",
             "Laterality", "measurementAlgorithmIdentification", "measurementItems",
             "qualitativeEvaluations")
    return {key: out[key] for key in order if key in out}


def _files_for(uids: list[str], folder: Path | None, what: str, where: str,
               indexes: dict[Path, dict[str, Path]]) -> list[str]:
    """File names (relative to ``folder``) of the instances ``uids``; the UIDs themselves
    when no folder is given (as dcmqi's own tid1500reader lists them). ``indexes``: folders
    already read (one walk per folder)."""
    if folder is None:
        return list(uids)
    if folder not in indexes:
        indexes[folder] = index_dicom(folder, where)
    found = indexes[folder]
    missing = [uid for uid in uids if uid not in found]
    if missing:
        raise InputError(f"{where}: {len(missing)} {what} referenced by the SR not found in "
                         f"{folder} (first: SOP Instance UID {missing[0]})")
    return [found[uid].relative_to(folder).as_posix() for uid in uids]


def export_report(report: Report, *, source_dir: str | os.PathLike | None = None,
                  context_dir: str | os.PathLike | None = None,
                  where: str = "report",
                  placeholder_segments: bool = False) -> tuple[dict[str, Any], list[str]]:
    """A Report as dcmqi TID 1500 JSON, and notes naming what the JSON cannot hold.

    ``source_dir``: folder of the source images (``--inputImageLibraryDirectory``);
    ``context_dir``: folder of the SEG files (``--inputCompositeContextDirectory``; default
    ``source_dir``). Without folders the instances are listed by SOP Instance UID.
    ``placeholder_segments``: a finding without segmentation gets a placeholder Referenced
    Segment (dcmqi requires one) instead of an InputError.
    """
    notes: list[str] = []
    images = [r for r in report.source_images if r.sop_class_uid != vocab.SEGMENTATION_STORAGE]
    seg_refs = [r for r in report.source_images if r.sop_class_uid == vocab.SEGMENTATION_STORAGE]
    items = content_tree(report)
    groups: list[dict[str, Any]] = []
    series = images[0].series_instance_uid if images else f"{PLACEHOLDER_ROOT}.0"
    if not images:
        notes.append(f"{where}: no source images: SourceSeriesForImageSegmentation is the "
                     f"placeholder {series} and the SR dcmqi writes has no patient or study")
    for top in items:
        if top.name == Concept.IMAGING_MEASUREMENTS:
            for index, group_item in enumerate(top.children, start=1):
                group = _Group(f"{where}: group {index}", mods=[
                    c for c in group_item.children if c.relationship == HAS_CONCEPT_MOD])
                for child in group_item.children:
                    _group_item(child, group)
                groups.append(_finish(group, index, series, placeholder_segments))
                notes.extend(group.notes)
        elif top.name == Concept.QUALITATIVE_EVALUATIONS:
            shown = ", ".join(f"'{c.name.meaning if c.name else '?'}'" for c in top.children)
            notes.append(f"{where}: report-level qualitative evaluations ({shown or 'none'}) have "
                         "no dcmqi key (impression included); left out")
        elif top.relationship in (HAS_OBS_CONTEXT, HAS_CONCEPT_MOD) or top.name == Concept.IMAGE_LIBRARY:
            continue  # observer, language, procedure reported, image library: mapped below
        else:
            notes.append(f"{where}: top-level {_label(top)} has no dcmqi key; left out")
    if report.indication:
        notes.append(f"{where}: the indication (Reason for Visit) has no dcmqi key; left out")
    seg_uids = list(dict.fromkeys(g["segmentationSOPInstanceUID"] for g in groups
                                  if not g["segmentationSOPInstanceUID"].startswith(PLACEHOLDER_ROOT + ".")))
    seg_uids += [r.sop_instance_uid for r in seg_refs if r.sop_instance_uid not in seg_uids]
    image_dir = Path(source_dir) if source_dir is not None else None
    seg_dir = Path(context_dir) if context_dir is not None else image_dir
    indexes: dict[Path, dict[str, Path]] = {}
    library = _files_for([r.sop_instance_uid for r in images], image_dir, "source image(s)", where,
                         indexes)
    composite = _files_for(seg_uids, seg_dir, "segmentation(s)", where, indexes)
    if not composite and library:
        # dcmqi takes patient and study from the composite context: a source image gives them
        composite = [library[0]]
        if seg_dir != image_dir:
            notes.append(f"{where}: no SEG: compositeContext names a source image, relative to "
                         "the image folder")
    if report.observer:
        observer: dict[str, str] = {"ObserverType": "PERSON", "PersonObserverName": report.observer}
    else:
        observer = {"ObserverType": "DEVICE", "DeviceObserverUID": DEVICE_UID,
                    "DeviceObserverName": "dicomtools"}
    out: dict[str, Any] = {"@schema": SCHEMA_URL,
                           "SeriesDescription": f"{report.procedure or 'Imaging'} measurements"[:64],
                           "SeriesNumber": "901", "InstanceNumber": "1"}
    if composite:
        out["compositeContext"] = composite
    if library:
        out["imageLibrary"] = library
    out.update({"observerContext": observer, "VerificationFlag": "UNVERIFIED",
                "CompletionFlag": "COMPLETE",
                "procedureReported": _code(_procedure_codes(report.procedure)[0])})
    if groups:
        out["Measurements"] = groups
    else:
        notes.append(f"{where}: no measurement group (a report without findings)")
    return out, notes


def export_json(sr_path: str | os.PathLike, source_dir: str | os.PathLike | None = None,
                context_dir: str | os.PathLike | None = None, *,
                placeholder_segments: bool = False) -> dict[str, Any]:
    """Our SR -> dcmqi TID 1500 JSON (see :func:`export_report` for the folders and
    placeholders)."""
    return export_report(read_sr(sr_path), source_dir=source_dir, context_dir=context_dir,
                         where=str(sr_path), placeholder_segments=placeholder_segments)[0]


def export_command(args: argparse.Namespace) -> int:
    """``dicomtools export dcmqi SR -o META.json``: writes the JSON atomically; what dcmqi's
    JSON cannot hold is listed on stderr."""
    sr = args.sr[0] if isinstance(args.sr, (list, tuple)) else args.sr
    source = getattr(args, "source", None)
    meta, notes = export_report(read_sr(sr), source_dir=source,
                                context_dir=getattr(args, "context", None) or source, where=str(sr),
                                placeholder_segments=bool(getattr(args, "placeholder_segments", False)))
    path = write_text(args.output, json.dumps(meta, indent=2) + "\n")
    for line in notes:
        print(f"dicomtools: note: {printable(line)}", file=sys.stderr)
    print(f"wrote {printable(path)} (dcmqi TID 1500 JSON, {len(meta.get('Measurements', []))} "
          f"group(s); {len(notes)} note(s) on what dcmqi's JSON cannot hold)")
    return 0


def import_command(args: argparse.Namespace) -> int:
    """``dicomtools import dcmqi META.json --source DIR -o SR.dcm``."""
    from ..sr.write import write_sr
    report = import_json(args.meta, args.source)
    path = write_sr(report, args.output)
    for line in report.warnings:
        print(f"dicomtools: note: {printable(line)}", file=sys.stderr)
    print(f"wrote {printable(path)} (SR with {len(report.findings)} finding(s) from "
          f"{printable(args.meta)})")
    return 0
