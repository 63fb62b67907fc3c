"""The index tables: their Arrow schemas, and one Report -> rows of each table.

Modelled on Imaging Data Commons' flattened TID 1500 (``measurement_groups``,
``quantitative_measurements``, ``qualitative_measurements``), with dicomtools' own columns:

* ``reports``: one row per SR file read (UIDs, patient key, study, procedure, impression, the
  file's path, size, mtime and SHA-256, the dicomtools version that read it);
* ``findings``: one row per finding (TID 1501 group): every field of ``Finding.to_json()``,
  coded terms as name + code + scheme + meaning, and the finding's whole JSON form;
* ``measurements``: one row per NUM of a group, the typed ones (diameters, extent, volume,
  ADC and its statistics, administered activity) as the writer encodes them, and the open
  ``measurements``;
* ``evaluations``: one row per qualitative evaluation (the typed CODE rows such as presence
  and T2 signal, the open ``evaluations`` of a finding, and report-level ones);
* ``problems``: one row per file that could not be read (error class, message, exit code);
* ``labs``: one row per result of a ``labs.json`` file (what concordance adds to a work-up);
* ``files``: the crawl state, one row per file looked at (the manifest of a shard).

Patient identifiers are kept only as a keyed hash (``patient_key``) unless asked.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pyarrow as pa

from .. import __version__, terms, vocab
from ..model import Finding, Report
from ..sr import rows as sr_rows
from ..values import Num, parse_date
from ..vocab import Code

_STR, _INT, _F64, _BOOL = pa.string(), pa.int64(), pa.float64(), pa.bool_()


def _coded(name: str) -> list[pa.Field]:
    """A term column and its code, scheme and meaning."""
    return [pa.field(name, _STR), pa.field(f"{name}_code", _STR), pa.field(f"{name}_scheme", _STR),
            pa.field(f"{name}_meaning", _STR)]


FILES = pa.schema([
    ("path", _STR), ("run", _INT), ("shard", _STR), ("size", _INT), ("mtime_ns", _INT),
    ("sha256", _STR), ("status", _STR),  # indexed | labs | problem | skipped | deleted
    ("reason", _STR), ("sop_instance_uid", _STR),
])

REPORTS = pa.schema([
    ("report_id", _STR), ("shard", _STR), ("run", _INT), ("source_path", _STR),
    ("file_size", _INT), ("file_mtime_ns", _INT), ("file_sha256", _STR),
    ("dicomtools_version", _STR),
    ("sop_instance_uid", _STR), ("series_instance_uid", _STR), ("study_instance_uid", _STR),
    ("sop_class_uid", _STR), ("content_date", _STR),
    ("patient_key", _STR), ("patient_id", _STR), ("issuer_of_patient_id", _STR),
    ("patient_name", _STR), ("patient_birth_date", _STR), ("patient_sex", _STR),
    ("patient_age", _STR), ("study_date", pa.date32()), ("study_date_text", _STR),
    ("study_time", _STR), ("study_description", _STR), ("modality", _STR),
    *_coded("procedure"), ("impression", _STR), ("observer", _STR), ("indication", _STR),
    ("finding_count", _INT), ("source_image_count", _INT),
    ("warnings", pa.list_(_STR)), ("warning_count", _INT),
    ("report_json", _STR),  # the report without patient, findings and image list
])

FINDINGS = pa.schema([
    ("report_id", _STR), ("finding_index", _INT), ("sop_instance_uid", _STR),
    ("patient_key", _STR), ("study_date", pa.date32()), ("modality", _STR), ("procedure", _STR),
    ("present", _BOOL), ("certainty", _STR), *_coded("finding"), *_coded("site"),
    *_coded("laterality"), ("vertebral_levels", pa.list_(_STR)),
    ("dimensions_mm", pa.list_(_F64)), ("volume_ml", _F64), ("t1_signal", _STR),
    ("t2_signal", _STR), ("diffusion_restricted", _BOOL), ("adc_value", _F64),
    ("adc_unit", _STR), ("adc_min", _F64), ("adc_median", _F64),
    ("adc_mm2_s", _F64),  # adc_value in mm2/s, whatever unit the SR used
    ("enhancement", _STR), ("enhancement_pattern", _STR), ("contrast_agent", _STR),
    *_coded("tracer"), ("activity_mbq", _F64), ("tracking_id", _STR), ("tracking_uid", _STR),
    ("roi_seg_instance_uid", _STR), ("roi_segment_number", _INT), ("roi_source_series_uid", _STR),
    ("roi_centroid_lps_mm", pa.list_(_F64)), ("roi_frame_of_reference_uid", _STR),
    ("extent_mm", pa.list_(_F64)), ("measurement_count", _INT), ("evaluation_count", _INT),
    ("region_count", _INT), ("other_count", _INT), ("finding_json", _STR),
])

MEASUREMENTS = pa.schema([
    ("report_id", _STR), ("finding_index", _INT), ("measurement_index", _INT),
    ("sop_instance_uid", _STR), ("patient_key", _STR), ("tracking_id", _STR),
    ("tracking_uid", _STR), ("source", _STR),  # the Finding field, or measurements[i]
    *_coded("concept"), ("value", _F64), ("unit", _STR), ("unit_meaning", _STR),
    *_coded("derivation"), ("method_code", _STR), ("method_scheme", _STR),
    ("method_meaning", _STR), *_coded("site"),
])

EVALUATIONS = pa.schema([
    ("report_id", _STR), ("finding_index", _INT),  # null: a report-level evaluation
    ("evaluation_index", _INT), ("sop_instance_uid", _STR), ("patient_key", _STR),
    ("tracking_uid", _STR), ("source", _STR), *_coded("concept"),
    ("value_code", _STR), ("value_scheme", _STR), ("value_meaning", _STR), ("value_text", _STR),
])

PROBLEMS = pa.schema([
    ("path", _STR), ("shard", _STR), ("run", _INT), ("size", _INT), ("mtime_ns", _INT),
    ("error_class", _STR), ("message", _STR), ("exit_code", _INT),
])

LABS = pa.schema([  # labs.json files (urine catecholamines ...), as concordance reads them
    ("source_path", _STR), ("shard", _STR), ("run", _INT), ("patient_key", _STR),
    ("patient_id", _STR), ("issuer_of_patient_id", _STR), ("test", _STR), ("result", _STR),
    ("date", pa.date32()),
])

#: Table name -> schema, in the order shards hold them.
SCHEMAS: dict[str, pa.Schema] = {"files": FILES, "reports": REPORTS, "findings": FINDINGS,
                                 "measurements": MEASUREMENTS, "evaluations": EVALUATIONS,
                                 "problems": PROBLEMS, "labs": LABS}
# The typed rows of a group that are NUMs, and the CODE rows that are qualitative evaluations.
_NUM_KINDS = ("diameters", "extent", "num", "adc")
_EVAL_ROWS = tuple(r for r in sr_rows.ROWS if r.kind == "code" and r.relationship == "CONTAINS")


def _term(kind: str, name: str, value: Any) -> dict[str, Any]:
    """A term as four columns: its dicomtools name (or a code's meaning), code, scheme, meaning."""
    if value is None:
        return {name: None, f"{name}_code": None, f"{name}_scheme": None, f"{name}_meaning": None}
    try:
        code = value if isinstance(value, Code) else terms.code_for(kind, value)
    except Exception:  # a term the tables do not hold a code for: keep its name
        code = None
    return {name: value.meaning if isinstance(value, Code) else str(value),
            f"{name}_code": code.value if code else None,
            f"{name}_scheme": code.scheme if code else None,
            f"{name}_meaning": code.meaning if code else None}


def _code_columns(prefix: str, code: Code | None) -> dict[str, Any]:
    return {f"{prefix}_code": code.value if code else None,
            f"{prefix}_scheme": code.scheme if code else None,
            f"{prefix}_meaning": code.meaning if code else None}


def _adc_mm2_s(f: Finding) -> float | None:
    if f.adc_value is None or f.adc_unit not in vocab.ADC_UNITS:
        return None
    return f.adc_value * vocab.ADC_UNITS[f.adc_unit] / vocab.ADC_UNITS["mm2/s"]


def _finding_row(f: Finding, index: int, common: dict[str, Any]) -> dict[str, Any]:
    roi = f.roi
    row: dict[str, Any] = {
        **common, "finding_index": index, "procedure": common["procedure"],
        "present": f.present, "certainty": f.certainty,
        **_term("finding", "finding", f.finding), **_term("site", "site", f.site),
        **_term("laterality", "laterality", f.laterality), **_term("tracer", "tracer", f.tracer),
        "vertebral_levels": list(f.vertebral_levels) if f.vertebral_levels else None,
        "dimensions_mm": list(f.dimensions_mm) if f.dimensions_mm else None,
        "extent_mm": list(f.extent_mm) if f.extent_mm else None,
        "adc_mm2_s": _adc_mm2_s(f),
        "roi_seg_instance_uid": roi.seg_instance_uid if roi else None,
        "roi_segment_number": roi.segment_number if roi else None,
        "roi_source_series_uid": roi.source_series_uid if roi else None,
        "roi_centroid_lps_mm": list(roi.centroid_lps_mm) if roi and roi.centroid_lps_mm else None,
        "roi_frame_of_reference_uid": roi.frame_of_reference_uid if roi else None,
        "measurement_count": len(f.measurements), "evaluation_count": len(f.evaluations),
        "region_count": len(f.regions), "other_count": len(f.other),
        "finding_json": json.dumps(f.to_json(), ensure_ascii=False, separators=(",", ":")),
    }
    for name in ("volume_ml", "t1_signal", "t2_signal", "diffusion_restricted", "adc_value",
                 "adc_unit", "adc_min", "adc_median", "enhancement", "enhancement_pattern",
                 "contrast_agent", "activity_mbq", "tracking_id", "tracking_uid"):
        row[name] = getattr(f, name)
    return row


def _measurement_rows(f: Finding, index: int, common: dict[str, Any]) -> list[dict[str, Any]]:
    """Every NUM of the group: the typed rows exactly as the writer encodes them, then the
    open measurements."""
    out: list[dict[str, Any]] = []
    base = {**common, "finding_index": index, "tracking_id": f.tracking_id,
            "tracking_uid": f.tracking_uid}

    def add(source: str, concept: Any, value: float, unit: Code, derivation: Any = None,
            method: Code | None = None, site: Any = None) -> None:
        out.append({**base, "measurement_index": len(out), "source": source,
                    **_term("any", "concept", concept), "value": value, "unit": unit.value,
                    "unit_meaning": unit.meaning, **_term("derivation", "derivation", derivation),
                    **_code_columns("method", method), **_term("site", "site", site)})

    for row in sr_rows.ROWS:
        if row.kind not in _NUM_KINDS:
            continue
        for item in sr_rows.write_row(row, f):
            if not isinstance(item.value, Num):
                continue
            derivation = next((c.value for c in item.children
                               if c.name == vocab.Concept.DERIVATION), None)
            add(row.name, item.name, item.value.value, item.value.unit, derivation)
    for i, m in enumerate(f.measurements):
        add(f"measurements[{i}]", m.concept, m.value, m.unit, m.derivation, m.method, m.site)
    return out


def _evaluation_rows(evaluations: list[tuple[str, Any, Any]], index: int | None,
                     tracking_uid: str | None, common: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for n, (source, concept, value) in enumerate(evaluations):
        coded = value if isinstance(value, Code) else None
        out.append({**common, "finding_index": index, "evaluation_index": n,
                    "tracking_uid": tracking_uid, "source": source,
                    **_term("any", "concept", concept), **_code_columns("value", coded),
                    "value_text": None if coded else value})
    return out


def _typed_evaluations(f: Finding) -> list[tuple[str, Any, Any]]:
    out: list[tuple[str, Any, Any]] = []
    for row in _EVAL_ROWS:
        for item in sr_rows.write_row(row, f):
            if isinstance(item.value, Code) and item.name is not None:
                out.append((row.name, item.name, item.value))
    out += [(f"evaluations[{i}]", e.concept, e.value) for i, e in enumerate(f.evaluations)]
    return out


def report_rows(report: Report, *, report_id: str, file: dict[str, Any],
                patient_key: Callable[[Report], str | None], keep_ids: bool) -> dict[str, list]:
    """Rows of reports, findings, measurements and evaluations for one SR read from a file.
    ``file`` holds source_path, file_size, file_mtime_ns, file_sha256, shard and run."""
    sr, patient, study = report.sr, report.patient, report.study
    key = patient_key(report)
    procedure = report.procedure
    header = report.to_json()
    for name in ("patient", "findings", "source_images"):
        header.pop(name, None)
    header.pop("warnings", None)
    study_date = parse_date(study.date)
    reports = [{
        "report_id": report_id, **file, "dicomtools_version": __version__,
        "sop_instance_uid": sr.sop_instance_uid if sr else None,
        "series_instance_uid": sr.series_instance_uid if sr else None,
        "sop_class_uid": sr.sop_class_uid if sr else None,
        "content_date": sr.content_date if sr else None,
        "study_instance_uid": study.instance_uid, "patient_key": key,
        "patient_id": patient.id if keep_ids else None,
        "issuer_of_patient_id": patient.issuer if keep_ids else None,
        "patient_name": patient.name if keep_ids else None,
        "patient_birth_date": patient.birth_date, "patient_sex": patient.sex,
        "patient_age": study.patient_age, "study_date": study_date, "study_date_text": study.date,
        "study_time": study.time, "study_description": study.description,
        "modality": report.modality, **_term("procedure", "procedure", procedure),
        "impression": report.impression, "observer": report.observer,
        "indication": report.indication, "finding_count": len(report.findings),
        "source_image_count": len(report.source_images), "warnings": list(report.warnings),
        "warning_count": len(report.warnings),
        "report_json": json.dumps(header, ensure_ascii=False, separators=(",", ":")),
    }]
    common = {"report_id": report_id, "sop_instance_uid": reports[0]["sop_instance_uid"],
              "patient_key": key}
    proc_name = reports[0]["procedure"]
    findings, measurements, evaluations = [], [], []
    for i, f in enumerate(report.findings):
        findings.append(_finding_row(f, i, {**common, "study_date": study_date,
                                            "modality": report.modality, "procedure": proc_name}))
        measurements += _measurement_rows(f, i, common)
        evaluations += _evaluation_rows(_typed_evaluations(f), i, f.tracking_uid, common)
    evaluations += _evaluation_rows([(f"report.evaluations[{i}]", e.concept, e.value)
                                     for i, e in enumerate(report.evaluations)], None, None, common)
    return {"reports": reports, "findings": findings, "measurements": measurements,
            "evaluations": evaluations}


def to_table(name: str, rows: list[dict[str, Any]]) -> pa.Table:
    """Rows of one table as an Arrow table with its explicit schema (missing keys: null).
    Text Parquet cannot hold (a lone surrogate from an undecodable value) is escaped."""
    try:
        return pa.Table.from_pylist(rows, schema=SCHEMAS[name])
    except (UnicodeEncodeError, pa.ArrowException):
        return pa.Table.from_pylist([{k: _clean(v) for k, v in row.items()} for row in rows],
                                    schema=SCHEMAS[name])


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        return value.encode("utf-8", "backslashreplace").decode("utf-8")
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value
