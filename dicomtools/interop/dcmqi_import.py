"""dcmqi TID 1500 JSON -> Report: the checks of dcmqi's schema, the files the JSON names,
and the mapping of its measurement groups to Findings.

The checks mirror ``sr-tid1500-schema.json`` (QIICR/dcmqi; required code fields, Decimal
String values, no unknown keys) plus what dcmqi's ``tid1500writer`` needs to run (a
TrackingIdentifier and a Finding per group). Every error names the file, the JSON path and
the value. The JSON ``tid1500reader`` writes is read too: it lists instances by SOP Instance
UID instead of file name, and puts ``measurementMethod``, ``activitySession`` and
``timePoint`` inside each group.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import pydicom
from pydicom.errors import InvalidDicomError
from pydicom.sr.codedict import codes as _pydicom_codes
from pydicom.uid import RealWorldValueMappingStorage

from .. import terms, vocab
from ..build import MAX_FINDINGS_BYTES, parse_findings
from ..errors import InputError, SourceError, show
from ..files import read_input_text
from ..model import MODALITIES, Finding, ImageRef, Patient, Report, Roi, Study
from ..observations import Evaluation, Measurement
from ..phi import printable
from ..source import load_source
from ..sr.content import HAS_CONCEPT_MOD
from ..sr.read import report_from_dataset
from ..sr.write import DEVICE_UID, to_dataset
from ..values import ContentNode, ImageValue, Num, is_uid
from ..vocab import Code, Concept

SCHEMA_URL = ("https://raw.githubusercontent.com/qiicr/dcmqi/master/doc/schemas/"
              "sr-tid1500-schema.json#")
#: Root of the placeholder Referenced Segment UIDs export writes for a finding without a
#: segmentation (dcmqi's writer requires one): an arc of dicomtools' own device UID.
PLACEHOLDER_ROOT = f"{DEVICE_UID}.9"


def _dcm(keyword: str) -> Code:
    code = getattr(_pydicom_codes.DCM, keyword)  # PS3.16 via pydicom: no code spelt here
    return Code(code.value, code.scheme_designator, code.meaning)


ALGORITHM_NAME = _dcm("AlgorithmName")
ALGORITHM_VERSION = _dcm("AlgorithmVersion")
ALGORITHM_PARAMETERS = _dcm("AlgorithmParameters")
POPULATION_DESCRIPTION = _dcm("PopulationDescription")
RWVM_CONCEPT = _dcm("RealWorldValueMapUsedForMeasurement")

_DS = re.compile(r"^( )*(-|\+)?[0-9]*(.[0-9]+)?((e|E)(-|\+)?[0-9]+)?( )*$")  # the schema's DS
_CODE_KEYS = ("CodeValue", "CodingSchemeDesignator", "CodeMeaning")
_TOP = ("@schema", "compositeContext", "imageLibrary", "observerContext", "activitySession",
        "timePoint", "measurementMethod", "procedureReported", "VerificationFlag",
        "CompletionFlag", "SeriesDescription", "SeriesNumber", "InstanceNumber", "Measurements")
_GROUP = ("TrackingIdentifier", "TrackingUniqueIdentifier", "ReferencedSegment",
          "SourceSeriesForImageSegmentation", "segmentationSOPInstanceUID",
          "rwvmMapUsedForMeasurement", "MeasurementMethod", "Finding", "FindingSite", "Laterality",
          "measurementAlgorithmIdentification", "measurementItems", "qualitativeEvaluations")
_READER_GROUP = ("measurementMethod", "activitySession", "timePoint")  # tid1500reader's output
_ITEM = ("value", "quantity", "units", "derivationModifier", "measurementModifiers",
         "measurementDerivationParameters", "measurementNumProperties",
         "measurementPopulationDescription", "measurementAlgorithmIdentification")


class _Where:
    """The file and the JSON path of a value, for error messages."""

    def __init__(self, file: str, path: str = ""):
        self.file, self.path = file, path

    def __truediv__(self, key: str | int) -> _Where:
        step = f"[{key}]" if isinstance(key, int) else (f".{key}" if self.path else key)
        return _Where(self.file, self.path + step)

    def fail(self, value: Any, expected: str) -> InputError:
        return InputError(f"{self.file}: {self.path or '(top level)'}: value {show(value)}; "
                          f"expected {expected}")


def _object(value: Any, where: _Where, keys: tuple[str, ...]) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise where.fail(value, "a JSON object")
    unknown = sorted(set(value) - set(keys), key=str)
    if unknown:
        raise InputError(f"{where.file}: {where.path or '(top level)'}: unknown key(s) "
                         f"{', '.join(show(k) for k in unknown[:5])} (dcmqi's schema allows "
                         f"{', '.join(keys)})")
    return value


def _string(value: Any, where: _Where, limit: int | None = None) -> str:
    if not isinstance(value, str) or (limit is not None and len(value) > limit):
        raise where.fail(value, "a string" + (f" of at most {limit} characters" if limit else ""))
    return value


def _uid(value: Any, where: _Where) -> str:
    if not is_uid(value):
        raise where.fail(value, "a DICOM UID (digits and dots, at most 64 characters)")
    return value


def _code(value: Any, where: _Where) -> Code:
    data = _object(value, where, _CODE_KEYS)
    for key in _CODE_KEYS:
        if key not in data:
            raise InputError(f"{where.file}: {where.path}: code without '{key}' (dcmqi's "
                             "codeSequence requires CodeValue, CodingSchemeDesignator, CodeMeaning)")
        _string(data[key], where / key, 64)
    return vocab.code_from_json(data, f"{where.file}: {where.path}")


def _list(value: Any, where: _Where) -> list[Any]:
    if not isinstance(value, list) or not value:
        raise where.fail(value, "a non-empty list (dcmqi's schema: minItems 1)")
    return value


def _number(value: Any, where: _Where) -> float | None:
    """A DS string as a float; None for dcmqi's 'nan' (its writer skips such a value) and
    for a value beyond the range of a double ('1e999'), which no DS can hold."""
    if isinstance(value, str) and value.strip().lower() == "nan":
        return None
    if not isinstance(value, str) or len(value) > 16 or not _DS.match(value) or not value.strip():
        raise where.fail(value, "a Decimal String of at most 16 characters, e.g. \"37.3\"")
    try:
        number = float(value)
    except ValueError:
        raise where.fail(value, "a Decimal String, e.g. \"37.3\"") from None
    if not math.isfinite(number):
        return None
    return number


def read_meta(path: str | os.PathLike) -> dict[str, Any]:
    """A dcmqi metadata file as a JSON object (every way it can be unreadable an InputError)."""
    where = printable(path)
    text = read_input_text(path, "a dcmqi JSON file", MAX_FINDINGS_BYTES)
    data = parse_findings(text, where)
    return _object(data, _Where(where), _TOP)


def index_dicom(folder: str | os.PathLike, where: str) -> dict[str, Path]:
    """SOP Instance UID -> file, for every DICOM file under ``folder``."""
    root = Path(folder)
    if not root.is_dir():
        raise InputError(f"{where}: {root} is not a folder")
    found: dict[str, Path] = {}
    for path in sorted(p for p in root.rglob("*") if p.is_file() and not p.name.startswith(".")):
        try:
            ds = pydicom.dcmread(path, stop_before_pixels=True, specific_tags=["SOPInstanceUID"])
            uid = str(ds.get("SOPInstanceUID", "") or "")
        except (InvalidDicomError, EOFError, OSError, ValueError, TypeError):
            continue
        if uid:
            found.setdefault(uid, path)
    return found


class _Files:
    """The instances a dcmqi JSON names (file names, or SOP Instance UIDs as tid1500reader
    writes them), found under the source folder."""

    def __init__(self, folder: Path, file: str):
        self.folder, self.file = folder, file
        self._index: dict[str, Path] | None = None
        if not folder.is_dir():
            raise InputError(f"{file}: --source {folder}: no such folder")

    def path(self, name: str, where: _Where) -> Path:
        candidate = self.folder / name
        try:
            if candidate.is_file():
                return candidate
        except OSError as exc:  # a name longer than the OS allows, a loop of links ...
            raise InputError(f"{where.file}: {where.path}: value {show(name)}: cannot be looked "
                             f"up in {self.folder} ({exc.strerror or type(exc).__name__})") from None
        if is_uid(name):
            if self._index is None:
                self._index = index_dicom(self.folder, self.file)
            if name in self._index:
                return self._index[name]
        raise InputError(f"{where.file}: {where.path}: value {show(name)}: no such file in "
                         f"{self.folder} (nor a DICOM file with that SOP Instance UID)")

    def context(self, name: str, where: _Where):
        path = self.path(name, where)
        try:
            return load_source(path)
        except SourceError as exc:
            raise InputError(f"{where.file}: {where.path}: value {show(name)}: {path} is not a "
                             f"usable DICOM instance ({exc})") from None


def _left_out(value: str, path: str) -> str:
    """The note on a number left out: 'nan' as dcmqi spells it, another value as it is."""
    if value.strip().lower() == "nan":
        return f"{path}: value 'nan' left out (as dcmqi's tid1500writer skips it)"
    return (f"{path}: value {show(value.strip())} left out (beyond the range of a number: no "
            "Decimal String holds it)")


def _measurement(data: Any, where: _Where, warnings: list[str]) -> Measurement | None:
    item = _object(data, where, _ITEM)
    for key in ("value", "quantity", "units"):
        if key not in item:
            raise InputError(f"{where.file}: {where.path}: '{key}' is required")
    value = _number(item["value"], where / "value")
    quantity, unit = _code(item["quantity"], where / "quantity"), _code(item["units"], where / "units")
    if unit.scheme != "UCUM":  # a measurement's unit is UCUM (TID 300); dcmqi does not check
        raise (where / "units" / "CodingSchemeDesignator").fail(unit.scheme, "UCUM")
    if value is None:
        return None
    derivation = _code(item["derivationModifier"], where / "derivationModifier") \
        if "derivationModifier" in item else None
    method = site = None
    children: list[ContentNode] = []
    for i, modifier in enumerate(_list(item["measurementModifiers"], where / "measurementModifiers")
                                 if "measurementModifiers" in item else ()):
        at = where / "measurementModifiers" / i
        mod = _object(modifier, at, ("modifier", "modifierValue"))
        name, mod_value = _code(mod.get("modifier"), at / "modifier"), _code(mod.get("modifierValue"),
                                                                            at / "modifierValue")
        if name == Concept.MEASUREMENT_METHOD and method is None:
            method = mod_value
        elif name == Concept.FINDING_SITE and site is None:
            site = mod_value
        else:
            children.append(ContentNode("CODE", HAS_CONCEPT_MOD, name, mod_value))
    for key, relationship, names in (
            ("measurementDerivationParameters", "INFERRED FROM",
             ("derivationParameter", "derivationParameterValue", "derivationParameterUnits")),
            ("measurementNumProperties", "HAS PROPERTIES",
             ("numProperty", "numPropertyValue", "numPropertyUnits"))):
        for i, entry in enumerate(_list(item[key], where / key) if key in item else ()):
            at = where / key / i
            part = _object(entry, at, names)
            number = _number(part.get(names[1]), at / names[1])
            concept, units = _code(part.get(names[0]), at / names[0]), _code(part.get(names[2]), at / names[2])
            if number is not None:  # units of any scheme are kept as dcmqi gives them
                children.append(ContentNode("NUM", relationship, concept, Num(number, units)))
            else:
                warnings.append(_left_out(part[names[1]], (at / names[1]).path))
    if "measurementPopulationDescription" in item:
        text = _string(item["measurementPopulationDescription"], where / "measurementPopulationDescription")
        children.append(ContentNode("TEXT", "HAS PROPERTIES", POPULATION_DESCRIPTION, text))
    if "measurementAlgorithmIdentification" in item:
        children += _algorithm(item["measurementAlgorithmIdentification"],
                               where / "measurementAlgorithmIdentification")
    try:
        return Measurement(terms.term_for("any", quantity), value, unit,
                           terms.term_for("derivation", derivation) if derivation else None,
                           method, terms.term_for("site", site) if site else None, tuple(children))
    except InputError as exc:
        raise InputError(f"{where.file}: {where.path}: {exc}") from None


def _algorithm(data: Any, where: _Where) -> list[ContentNode]:
    """TID 4019 algorithm identification as HAS CONCEPT MOD TEXT items."""
    algorithm = _object(data, where, ("AlgorithmName", "AlgorithmVersion", "AlgorithmParameters"))
    for key in ("AlgorithmName", "AlgorithmVersion"):
        if key not in algorithm:  # dcmqi's writer reads both unconditionally
            raise InputError(f"{where.file}: {where.path}: '{key}' is required")
    out = [ContentNode("TEXT", HAS_CONCEPT_MOD, ALGORITHM_NAME,
                       _string(algorithm["AlgorithmName"], where / "AlgorithmName")),
           ContentNode("TEXT", HAS_CONCEPT_MOD, ALGORITHM_VERSION,
                       _string(algorithm["AlgorithmVersion"], where / "AlgorithmVersion"))]
    for i, parameter in enumerate(_list(algorithm["AlgorithmParameters"], where / "AlgorithmParameters")
                                  if "AlgorithmParameters" in algorithm else ()):
        out.append(ContentNode("TEXT", HAS_CONCEPT_MOD, ALGORITHM_PARAMETERS,
                               _string(parameter, where / "AlgorithmParameters" / i)))
    return out


def _group(data: Any, where: _Where, segs: set[str], warnings: list[str]) -> Finding:
    group = _object(data, where, _GROUP + _READER_GROUP)
    for key in ("TrackingIdentifier", "Finding"):
        if key not in group:  # tid1500writer dereferences both
            raise InputError(f"{where.file}: {where.path}: '{key}' is required (dcmqi's "
                             "tid1500writer needs it)")
    other: list[ContentNode] = []
    regions: list[ContentNode] = []
    for key in ("MeasurementMethod", "measurementMethod"):
        if key in group:
            other.append(ContentNode("CODE", HAS_CONCEPT_MOD, Concept.MEASUREMENT_METHOD,
                                     _code(group[key], where / key)))
    if "measurementAlgorithmIdentification" in group:
        other += _algorithm(group["measurementAlgorithmIdentification"],
                            where / "measurementAlgorithmIdentification")
    for key in ("activitySession", "timePoint"):
        if key in group:
            _string(group[key], where / key)
            warnings.append(f"{where.path}.{key} is not kept (no model field)")
    roi = None
    seg_uid = _uid(group["segmentationSOPInstanceUID"], where / "segmentationSOPInstanceUID") \
        if "segmentationSOPInstanceUID" in group else None
    segment = group.get("ReferencedSegment")
    if segment is not None and (isinstance(segment, bool) or not isinstance(segment, (int, float))
                                or segment != int(segment) or not 1 <= segment <= 65535):
        raise (where / "ReferencedSegment").fail(segment, "a segment number 1-65535")
    series = _uid(group["SourceSeriesForImageSegmentation"], where / "SourceSeriesForImageSegmentation") \
        if "SourceSeriesForImageSegmentation" in group else None
    placeholder = seg_uid is not None and seg_uid.startswith(PLACEHOLDER_ROOT + ".")
    if seg_uid is not None and not placeholder:
        if seg_uid not in segs:
            raise (where / "segmentationSOPInstanceUID").fail(
                seg_uid, "the SOP Instance UID of a SEG listed in compositeContext")
        if segment is None:
            raise InputError(f"{where.file}: {where.path}: 'ReferencedSegment' is required "
                             "with segmentationSOPInstanceUID")
        if series is not None:
            roi = Roi(seg_uid, int(segment), series)
        else:
            regions.append(ContentNode("IMAGE", "CONTAINS", Concept.REFERENCED_SEGMENT, ImageValue(
                vocab.SEGMENTATION_STORAGE, seg_uid, int(segment))))
    if "rwvmMapUsedForMeasurement" in group:
        _uid(group["rwvmMapUsedForMeasurement"], where / "rwvmMapUsedForMeasurement")
        warnings.append(f"{where.path}.rwvmMapUsedForMeasurement is not kept (the SR would "
                        "reference a Real World Value Map it cannot list as evidence)")
    measurements = []
    for i, item in enumerate(_list(group["measurementItems"], where / "measurementItems")
                             if "measurementItems" in group else ()):
        measurement = _measurement(item, where / "measurementItems" / i, warnings)
        if measurement is None:
            warnings.append(_left_out(item["value"], f"{where.path}.measurementItems[{i}]"))
        else:
            measurements.append(measurement)
    evaluations: list[Evaluation] = []
    for i, entry in enumerate(_list(group["qualitativeEvaluations"], where / "qualitativeEvaluations")
                              if "qualitativeEvaluations" in group else ()):
        at = where / "qualitativeEvaluations" / i
        evaluation = _object(entry, at, ("conceptCode", "conceptValue"))
        concept = _code(evaluation.get("conceptCode"), at / "conceptCode")
        raw = evaluation.get("conceptValue")
        if not isinstance(raw, (str, dict)):
            raise (at / "conceptValue").fail(raw, "a code object or a string (dcmqi's schema)")
        value: Code | str = raw if isinstance(raw, str) else _code(raw, at / "conceptValue")
        try:
            evaluations.append(Evaluation(terms.term_for("any", concept), value))
        except InputError as exc:
            raise InputError(f"{where.file}: {at.path}: {exc}") from None
    tracking_uid = _uid(group["TrackingUniqueIdentifier"], where / "TrackingUniqueIdentifier") \
        if "TrackingUniqueIdentifier" in group else None
    # Presence is the finding's own field (our writer always writes it): a stated presence
    # sets it, instead of becoming a second, contradicting presence item
    present: bool | None = True
    presence = {code: value for value, code in vocab.PRESENCE.items()}
    for stated in evaluations:
        if stated.concept_code == Concept.PRESENCE and isinstance(stated.value, Code) \
                and stated.value in presence and not stated.children:
            present = presence[stated.value]
            evaluations.remove(stated)
            break
    if "Laterality" in group and "FindingSite" not in group:  # dcmqi writes it under the site
        raise (where / "Laterality").fail(group["Laterality"], "a FindingSite beside it to qualify")
    finding = terms.term_for("finding", _code(group["Finding"], where / "Finding"))
    site = terms.term_for("site", _code(group["FindingSite"], where / "FindingSite")) \
        if "FindingSite" in group else None
    laterality = terms.term_for("laterality", _code(group["Laterality"], where / "Laterality")) \
        if "Laterality" in group else None
    tracking_id = _string(group["TrackingIdentifier"], where / "TrackingIdentifier", 64)
    try:
        return Finding(present=present, tracking_id=tracking_id, tracking_uid=tracking_uid, roi=roi,
                       finding=finding, site=site, laterality=laterality,
                       measurements=tuple(measurements), evaluations=tuple(evaluations),
                       regions=tuple(regions), other=tuple(other))
    except InputError as exc:
        raise InputError(f"{where.file}: {where.path}: {exc}") from None


def _check_top(meta: dict[str, Any], where: _Where) -> None:
    for key in ("@schema", "activitySession", "timePoint"):
        if key in meta:
            _string(meta[key], where / key)
    for key, limit in (("SeriesDescription", 64), ("SeriesNumber", 12), ("InstanceNumber", 12)):
        if key in meta:
            _string(meta[key], where / key, limit)
    for key, allowed in (("VerificationFlag", ("VERIFIED", "UNVERIFIED")),
                         ("CompletionFlag", ("PARTIAL", "COMPLETE"))):
        if key in meta and meta[key] not in allowed:
            raise (where / key).fail(meta[key], " or ".join(allowed))
    for key in ("measurementMethod", "procedureReported"):
        if key in meta:
            _code(meta[key], where / key)


def _observer(meta: dict[str, Any], where: _Where, warnings: list[str]) -> str | None:
    if "observerContext" not in meta:
        return None
    at = where / "observerContext"
    kind = meta["observerContext"].get("ObserverType") if isinstance(meta["observerContext"], dict) else None
    if kind == "PERSON":
        observer = _object(meta["observerContext"], at, ("ObserverType", "PersonObserverName"))
        if "PersonObserverName" not in observer:
            raise InputError(f"{where.file}: {at.path}: 'PersonObserverName' is required for a PERSON")
        return _string(observer["PersonObserverName"], at / "PersonObserverName", 64)
    if kind == "DEVICE":
        device = _object(meta["observerContext"], at, (
            "ObserverType", "DeviceObserverUID", "DeviceObserverName", "DeviceObserverManufacturer",
            "DeviceObserverModelName", "DeviceObserverSerialNumber"))
        for key, value in device.items():
            (_uid if key == "DeviceObserverUID" else _string)(value, at / key)
        if device.get("DeviceObserverUID") != DEVICE_UID:  # ours comes back as it was
            warnings.append("observerContext: the device observer is not kept; the SR written "
                            "names dicomtools as its device observer")
        return None
    raise (at / "ObserverType").fail(kind, "PERSON or DEVICE")


def import_json(meta_path: str | os.PathLike, source_dir: str | os.PathLike) -> Report:
    """dcmqi TID 1500 JSON + the folder holding the files it names (``imageLibrary``: source
    images; ``compositeContext``: SEG and other instances) -> Report, ready for ``write_sr``.

    The Report is what our reader gives for the SR this JSON describes (typed fields such as
    ``volume_ml`` filled), without an SR identity; notes go to ``Report.warnings``.
    """
    file = str(meta_path)
    meta = read_meta(meta_path)
    where = _Where(file)
    _check_top(meta, where)
    warnings: list[str] = []
    for key in ("activitySession", "timePoint", "measurementMethod"):
        if key in meta:  # tid1500writer copies the first two into every group, ignores the third
            warnings.append(f"{key} is not kept (no model field)")
    observer = _observer(meta, where, warnings)
    files = _Files(Path(source_dir), file)
    images: list[ImageRef] = []
    contexts = []
    library = []
    for key in ("imageLibrary", "compositeContext"):
        for i, name in enumerate(_list(meta[key], where / key) if key in meta else ()):
            context = files.context(_string(name, where / key / i), where / key / i)
            contexts.append((key, context))
            images.extend(context.images)
            if key == "imageLibrary":
                library.extend(context.modalities)
    patients = {c.patient.id for _, c in contexts if c.patient.id}  # a SEG may lack the issuer
    if len(patients) > 1:
        raise SourceError(f"{file}: the files it names belong to more than one patient; an SR "
                          "reports on one")
    # dcmqi takes patient and study from the (last) composite context file, else there are none
    chosen = [c for k, c in contexts if k == "compositeContext"] or [c for _, c in contexts]
    patient, study = (chosen[-1].patient, chosen[-1].study) if chosen else (Patient(), Study())
    segs = {r.sop_instance_uid for r in images if r.sop_class_uid == vocab.SEGMENTATION_STORAGE}
    findings = [_group(g, where / "Measurements" / i, segs, warnings)
                for i, g in enumerate(_list(meta["Measurements"], where / "Measurements")
                                      if "Measurements" in meta else ())]
    # A Real World Value Map is not an image: our writer would list it in the Image Library
    # (dsrdump then refuses the SR), and a reference without evidence is a dciodvfy error
    keep = [r for r in images if r.sop_class_uid != RealWorldValueMappingStorage]
    modalities = set(library) & set(MODALITIES)
    procedure = _code(meta["procedureReported"], where / "procedureReported") \
        if "procedureReported" in meta else None
    try:
        report = Report(modality=modalities.pop() if len(modalities) == 1 else None,
                        procedure=procedure, findings=tuple(findings), observer=observer,
                        patient=patient, study=study, source_images=tuple(keep))
        # the reader's own mapping fills the typed fields (one mapping, not two)
        back = report_from_dataset(to_dataset(report), source=file)
    except InputError as exc:
        raise InputError(f"{file}: {exc}") from None
    return replace(back, sr=None, warnings=tuple(warnings) + back.warnings)
