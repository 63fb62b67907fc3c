"""Label map (+ ADC map) on a DICOM series -> SEG file + SR with one TID 1411 group per label.

The measured fields come from the mask; the user adds what a mask cannot know (site,
laterality, vertebral levels, signals) per label. A user value for a measured field, or a
label the mask does not have, is refused rather than silently overridden or dropped.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..files import save_dataset
from ..model import Finding, ImageRef, Report, Roi
from ..source import attach_source, load_source
from ..sr.write import assign_tracking, write_sr
from ..vocab import PROCEDURES, SEGMENTATION_STORAGE
from .measure import LesionMeasurement, measure_labels
from .nifti import load_adc_map, load_label_map
from .seg import build_seg, load_series, mask_on_series

MEASURED = {"volume_ml", "dimensions_mm", "extent_mm", "adc_value", "adc_unit", "adc_min",
            "adc_median", "roi", "modality", "procedure"}


@dataclass(frozen=True)
class MeasureResult:
    report: Report
    measurements: list[LesionMeasurement]
    seg_path: Path
    sr_path: Path


def significant(value: float, digits: int = 4) -> str:
    """A measured value for people, with its significant digits: 0.8 -> '0.8',
    709.8422 -> '709.8', 0.000812 -> '0.000812', 1234.5 -> '1234' (never '1' for 0.8)."""
    if value == 0 or not np.isfinite(value):
        return f"{value:g}"
    if abs(value) >= 10 ** digits:
        return f"{value:.0f}"
    text = np.format_float_positional(value, precision=digits, unique=False, fractional=False,
                                      trim="-")
    return text


def load_label_fields(path: str | os.PathLike | None) -> dict[int, dict]:
    """{"1": {"site": "adrenal gland", "laterality": "left", ...}, ...} -> {1: {...}}."""
    if path is None:
        return {}
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"{path}: cannot read label fields ({exc})") from None
    if not isinstance(data, dict):
        raise InputError(f"{path}: expected an object mapping label numbers to finding fields")
    out = {}
    for key, fields in data.items():
        if not str(key).isdigit() or not isinstance(fields, dict):
            raise InputError(f"{path}: key {key!r} must be a label number with an object of fields")
        given = sorted(set(fields) & MEASURED)
        if given:
            raise InputError(f"{path}: label {key}: {', '.join(given)} are measured from the "
                             "mask; remove them from the label fields")
        out[int(key)] = fields
    return out


def finding_for(measurement: LesionMeasurement, fields: dict, roi: Roi, where: str) -> Finding:
    adc = measurement.adc
    values = {"present": True, "finding": "lesion", "tracking_id": f"Lesion {measurement.label}"}
    values.update(fields)
    values.update(
        volume_ml=measurement.volume_ml,
        dimensions_mm=(measurement.max_inplane_diameter_mm,),
        extent_mm=measurement.extent_mm, roi=roi,
        adc_value=adc.mean if adc else None, adc_min=adc.minimum if adc else None,
        adc_median=adc.median if adc else None, adc_unit=adc.unit if adc else None)
    return Finding.from_json(values, where=where)


def measure_to_sr(mask: str | os.PathLike, source: str | os.PathLike, out_dir: str | os.PathLike,
                  *, adc: str | os.PathLike | None = None, adc_unit: str | None = None,
                  label_fields: dict[int, dict] | None = None,
                  procedure: str = "whole-body MRI", force: bool = False) -> MeasureResult:
    """Measure every label, write ``seg.dcm`` and ``sr.dcm`` into ``out_dir``.

    ``adc_unit`` must agree with the unit the ADC map's header declares unless ``force``."""
    if procedure not in PROCEDURES or PROCEDURES[procedure].modality != "MR":
        raise InputError(f"procedure {procedure!r}: measure needs an MR procedure "
                         f"({', '.join(p for p, v in PROCEDURES.items() if v.modality == 'MR')})")
    labels_img = load_label_map(mask)
    adc_img, unit = load_adc_map(adc, adc_unit, force=force) if adc is not None else (None, None)
    series = load_series(source)
    on_series = mask_on_series(np.asarray(labels_img.dataobj), labels_img.affine, series, str(mask))
    measurements = measure_labels(labels_img, adc_img, unit, force=force)
    label_fields = label_fields or {}
    missing = sorted(set(label_fields) - {m.label for m in measurements})
    if missing:
        raise InputError(f"label fields name label(s) {missing} that {mask} does not contain")
    names = {m.label: str(label_fields.get(m.label, {}).get("tracking_id", f"Lesion {m.label}"))
             for m in measurements}
    seg = build_seg(on_series, series, names)
    number_of = {label: n for n, label in enumerate(sorted(names), start=1)}
    findings = []
    for m in measurements:
        roi = Roi(str(seg.SOPInstanceUID), number_of[m.label], series.series_uid,
                  m.centroid_lps_mm if series.frame_of_reference_uid else None,
                  series.frame_of_reference_uid if series.frame_of_reference_uid else None)
        findings.append(finding_for(m, label_fields.get(m.label, {}), roi, f"{mask}: label {m.label}"))
    report = Report(modality="MR", procedure=procedure, findings=tuple(findings))
    report = attach_source(report, load_source(source), where=str(mask))
    seg_ref = ImageRef(SEGMENTATION_STORAGE, str(seg.SOPInstanceUID), str(seg.SeriesInstanceUID),
                       str(seg.StudyInstanceUID))
    report = assign_tracking(replace(report, source_images=(*report.source_images, seg_ref)))
    out = Path(out_dir)
    seg_path = out / "seg.dcm"
    save_dataset(seg, seg_path)
    sr_path = write_sr(report, out / "sr.dcm")
    return MeasureResult(report, measurements, seg_path, sr_path)
