"""A NIfTI label map on a DICOM series -> DICOM SEG (highdicom), after checking that the mask
lies exactly on the series' voxel grid.

The mask may be stored in any axis order or direction (NIfTI tools reorient freely), so the
index mapping is recovered from the two affines; anything that is not a pure axis
permutation/flip with integer offsets is a geometry mismatch and is refused, naming how far
off it is, instead of being resampled silently.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pydicom
from pydicom.dataset import Dataset

from .. import __version__
from ..errors import InputError, SourceError

if TYPE_CHECKING:  # highdicom is imported lazily: it is slow to import
    import highdicom

_RAS_TO_LPS = np.diag([-1.0, -1.0, 1.0, 1.0])
_TOLERANCE_VOXELS = 1e-2  # affines agree to 1 % of a voxel


@dataclass(frozen=True)
class Series:
    """One image series, slices ordered along the slice normal, with its LPS affine."""

    datasets: tuple[Dataset, ...]
    affine_lps: np.ndarray  # (column, row, slice) index -> LPS mm
    shape: tuple[int, int, int]  # (slices, rows, columns)

    @property
    def series_uid(self) -> str:
        return str(self.datasets[0].SeriesInstanceUID)

    @property
    def frame_of_reference_uid(self) -> str | None:
        value = self.datasets[0].get("FrameOfReferenceUID")
        return str(value) if value else None


def load_series(path: str | os.PathLike) -> Series:
    """Read a single-frame image series (one folder); refuse mixed series or geometry."""
    root = Path(path)
    files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
    datasets = []
    for file in files:
        try:
            ds = pydicom.dcmread(file)
        except Exception:
            continue
        if "ImagePositionPatient" in ds and "PixelData" in ds:
            datasets.append(ds)
    if not datasets:
        raise SourceError(f"{root}: no DICOM image with a position (ImagePositionPatient) found")
    if len({str(d.SeriesInstanceUID) for d in datasets}) > 1:
        raise SourceError(f"{root}: images of more than one series; point to one series")
    orientation = np.array(datasets[0].ImageOrientationPatient, dtype=float)
    for ds in datasets:
        if not np.allclose(np.array(ds.ImageOrientationPatient, dtype=float), orientation, atol=1e-4):
            raise SourceError(f"{root}: slices with different ImageOrientationPatient")
        if (ds.Rows, ds.Columns) != (datasets[0].Rows, datasets[0].Columns):
            raise SourceError(f"{root}: slices of different sizes")
    row_dir, col_dir = orientation[:3], orientation[3:]
    normal = np.cross(row_dir, col_dir)
    datasets.sort(key=lambda d: float(np.dot(normal, np.array(d.ImagePositionPatient, dtype=float))))
    positions = np.array([d.ImagePositionPatient for d in datasets], dtype=float)
    if len(datasets) > 1:
        steps = np.diff(positions, axis=0)
        step = steps.mean(axis=0)
        if not np.allclose(steps, step, atol=1e-3) or np.linalg.norm(step) < 1e-6:
            raise SourceError(f"{root}: slices are not evenly spaced; cannot place a mask on them")
    else:
        step = normal * float(datasets[0].get("SliceThickness", 1.0) or 1.0)
    spacing_row, spacing_col = (float(v) for v in datasets[0].PixelSpacing)
    affine = np.eye(4)
    affine[:3, 0] = row_dir * spacing_col  # column index moves along the row direction
    affine[:3, 1] = col_dir * spacing_row
    affine[:3, 2] = step
    affine[:3, 3] = positions[0]
    shape = (len(datasets), int(datasets[0].Rows), int(datasets[0].Columns))
    return Series(tuple(datasets), affine, shape)


def mask_on_series(labels: np.ndarray, affine_ras: np.ndarray, series: Series,
                   name: str = "mask") -> np.ndarray:
    """The label array re-indexed as (slice, row, column) of the series; InputError if the mask
    is not on the series grid."""
    if labels.ndim != 3:
        raise InputError(f"{name}: expected a 3-D label map, got {labels.ndim}-D")
    mapping = np.linalg.inv(series.affine_lps) @ _RAS_TO_LPS @ affine_ras  # (i,j,k) -> (c,r,s)
    linear = mapping[:3, :3]
    rounded = np.round(linear)
    offset = mapping[:3, 3]
    is_permutation = (np.all(np.abs(np.abs(rounded).sum(axis=0) - 1) < 1e-9)
                      and np.all(np.abs(np.abs(rounded).sum(axis=1) - 1) < 1e-9))
    error = max(np.abs(linear - rounded).max(), np.abs(offset - np.round(offset)).max())
    if not is_permutation or error > _TOLERANCE_VOXELS:
        corner = (series.affine_lps @ mapping @ np.array([0, 0, 0, 1.0]))[:3]
        origin = series.affine_lps[:3, 3]
        raise InputError(
            f"{name}: not on the voxel grid of series {series.series_uid} "
            f"(index mapping off by {error:.3g} voxel; mask voxel (0,0,0) maps "
            f"{np.linalg.norm(corner - origin):.1f} mm from the series origin); "
            "resample the mask onto the DICOM series first")
    # Move each NIfTI axis to the series axis it maps to, flipping where the direction is reversed.
    target_axis = [int(np.argmax(np.abs(rounded[:, axis]))) for axis in range(3)]  # c=0, r=1, s=2
    out = labels
    for axis in range(3):
        if rounded[target_axis[axis], axis] < 0:
            out = np.flip(out, axis=axis)
    order = [target_axis.index(t) for t in (2, 1, 0)]  # (slice, row, column)
    out = np.transpose(out, order)
    starts = []
    for axis in range(3):
        sign = rounded[target_axis[axis], axis]
        start = offset[target_axis[axis]] + (sign < 0) * sign * (labels.shape[axis] - 1)
        starts.append(int(round(start)))
    start_by_target = {target_axis[a]: starts[a] for a in range(3)}
    if out.shape != series.shape or any(start_by_target[t] != 0 for t in range(3)):
        raise InputError(f"{name}: grid of shape {labels.shape} covers a different region than "
                         f"series {series.series_uid} {series.shape[::-1]} (columns, rows, slices); "
                         "crop or pad the mask to the series")
    return np.ascontiguousarray(out)


def build_seg(mask: np.ndarray, series: Series, labels: dict[int, str], *,
              series_number: int = 901) -> highdicom.seg.Segmentation:
    """A binary DICOM SEG with one segment per label (segment numbers 1..n in label order)."""
    import highdicom as hd
    from pydicom.sr.codedict import codes

    numbers = {label: n for n, label in enumerate(sorted(labels), start=1)}
    relabelled = np.zeros(mask.shape, dtype=np.uint16)
    for label, number in numbers.items():
        relabelled[mask == label] = number
    descriptions = [hd.seg.SegmentDescription(
        segment_number=number, segment_label=labels[label][:64],
        segmented_property_category=hd.sr.CodedConcept("49755003", "SCT",
                                                        "Morphologically abnormal structure"),
        segmented_property_type=codes.SCT.Lesion,
        algorithm_type=hd.seg.SegmentAlgorithmTypeValues.MANUAL,
        tracking_id=labels[label][:64], tracking_uid=hd.UID(),
    ) for label, number in numbers.items()]
    return hd.seg.Segmentation(
        source_images=list(series.datasets), pixel_array=relabelled,
        segmentation_type=hd.seg.SegmentationTypeValues.BINARY,
        segment_descriptions=descriptions, series_instance_uid=hd.UID(),
        series_number=series_number, sop_instance_uid=hd.UID(), instance_number=1,
        manufacturer="dicomtools", manufacturer_model_name="dicomtools measure",
        software_versions=__version__, device_serial_number="none",
        series_description="Lesion segmentation")
