"""Per-lesion measurements from a NIfTI label map (and an optional ADC map).

Geometry conventions (all distances in mm, through the image affine):

* NIfTI world coordinates are RAS+; DICOM patient coordinates are LPS. A point converts as
  ``x_LPS = -x_RAS, y_LPS = -y_RAS, z_LPS = z_RAS``. Lengths are the same in both.
* A voxel is measured as a physical object, not a point: its footprint along a direction u
  is the width of the ellipsoid inscribed in the voxel, ``|Mᵀu|`` for the affine's 3×3
  part M (the voxel size for axis-aligned grids). The inscribed ellipsoid rather than the
  full parallelepiped keeps a sphere's extent on an oblique grid within one voxel: the
  parallelepiped's corners stick out by up to (√3 − 1) voxels along a world axis.
* ``extent_mm`` along world x/y/z (LR, AP, CC) = span of the voxel centres + the footprint.
* ``max_inplane_diameter_mm`` = largest caliper (Feret) width of the lesion within one slice
  of the grid, outer edge to outer edge: max over directions u in the slice plane of (span
  of the slice's voxel centres along u + in-plane footprint along u). For square pixels it
  is the largest centre-to-centre distance plus one pixel. The slice axis is the grid axis
  with the largest spacing (ties: the last tied axis, i.e. the third for isotropic grids).

For a convex object sampled at voxel centres on an orthogonal grid both are at most one
voxel above the analytic value (centres lie inside the object, the footprint is at most one
voxel); below it they stay within one voxel for lesions several voxels across (tested on
spheres, ellipsoids and boxes: the bound is reached, e.g. a sphere whose poles fall just
short of a voxel centre).
"""

from __future__ import annotations

from dataclasses import dataclass

import nibabel as nib
import numpy as np

from ..errors import InputError
from .nifti import (
    adc_array,
    checked_affine,
    float32_decimals,
    label_array,
    load_adc_map,
    load_label_map,
    resolve_adc_unit,
    source_name,
)

__all__ = ["AdcStats", "LesionMeasurement", "load_label_map", "load_adc_map",
           "measure_labels", "slice_axis", "ras_to_lps", "GRID_TOLERANCE"]

# Two grids are "the same" when their corner voxel centres agree within this fraction of
# the smallest voxel spacing: float32 header round-off passes, a real resampling does not.
GRID_TOLERANCE = 0.01

_COARSE = 180   # caliper directions over half a turn (1° apart) ...
_FINE = 33      # ... then this many across each promising 1° window (error < 1e-7 relative)
_CHUNK = 2_000_000  # points × directions evaluated at once, bounds memory for large lesions


@dataclass(frozen=True)
class AdcStats:
    """ADC statistics over a lesion's voxels with a finite ADC value, in the map's unit."""

    mean: float
    minimum: float
    median: float
    unit: str          # UCUM code, a key of dicomtools.vocab.ADC_UNITS
    voxels: int        # voxels with a finite ADC value inside the lesion


@dataclass(frozen=True)
class LesionMeasurement:
    """Measurements of one label of a label map (see the module docstring for definitions)."""

    label: int
    voxel_count: int
    volume_ml: float
    extent_mm: tuple[float, float, float]   # along patient LR, AP, CC
    max_inplane_diameter_mm: float          # largest diameter within one slice of the grid
    centroid_lps_mm: tuple[float, float, float]  # centre of mass, DICOM patient LPS, mm
    adc: AdcStats | None  # None without an ADC map, or when no lesion voxel has a finite ADC


def ras_to_lps(point: np.ndarray) -> np.ndarray:
    """NIfTI RAS+ world coordinates -> DICOM LPS patient coordinates (last axis = x, y, z)."""
    return np.asarray(point, dtype=np.float64) * np.array([-1.0, -1.0, 1.0])


def slice_axis(affine: np.ndarray) -> int:
    """The grid axis of the acquisition slices: the one with the largest voxel spacing.

    Spacings equal within 1e-4 (relative; float32 headers round) tie; the last tied axis wins,
    so an isotropic grid is sliced along its third axis.
    """
    spacing = np.linalg.norm(np.asarray(affine, dtype=np.float64)[:3, :3], axis=0)
    tied = np.flatnonzero(spacing >= spacing.max() * (1 - 1e-4))
    return int(tied[-1])


def measure_labels(labels: nib.Nifti1Image, adc: nib.Nifti1Image | None = None,
                   adc_unit: str | None = None, *, force: bool = False) -> list[LesionMeasurement]:
    """Measure every non-zero label of ``labels``; one result per label, ascending.

    ``adc`` must share the label map's grid (shape and affine within ``GRID_TOLERANCE`` of a
    voxel). Its unit is the one declared in its header, or ``adc_unit``, which must agree
    with the header's unless ``force``; neither -> InputError. Without ``adc`` each result's
    ``adc`` is None (``adc_unit`` is ignored).

    Results are float64 computed from the decimals the files stand for: a NIfTI-1 affine
    and float32 ADC voxels are stored as float32, and are read as the shortest decimal that
    float32 stores the same way (``nifti.float32_decimals``), so a 0.8 mm slice gives 2.4 mm,
    not 2.4000000357627869; the results are then rounded to 15 significant digits, dropping
    float64 summation noise.
    """
    source = source_name(labels, "label map")
    affine = _decimal_affine(checked_affine(labels, source))
    values = label_array(labels, source)
    adc_values, unit = None, None
    if adc is not None:
        adc_source = source_name(adc, "ADC map")
        unit = resolve_adc_unit(adc, adc_source, adc_unit, force=force)
        adc_affine = checked_affine(adc, adc_source)
        adc_values = adc_array(adc, adc_source)
        _check_same_grid(values.shape, affine, source, adc_values.shape, adc_affine, adc_source)

    ijk = np.argwhere(values)  # C order: per-label subsets keep numpy's boolean-mask order
    found = values[tuple(ijk.T)]
    order = np.argsort(found, kind="stable")
    ijk, found = ijk[order], found[order]
    starts = np.flatnonzero(np.r_[True, found[1:] != found[:-1]])
    ends = np.r_[starts[1:], len(found)]
    axis = slice_axis(affine)
    return [_measure_one(int(found[a]), ijk[a:b], affine, axis, adc_values, unit)
            for a, b in zip(starts, ends, strict=True)]


def _decimal_affine(affine: np.ndarray) -> np.ndarray:
    """An affine whose entries are all float32 numbers (a NIfTI-1 header's) as the decimals
    they stand for; any other affine (float64 precision) unchanged."""
    if np.array_equal(affine.astype(np.float32).astype(np.float64), affine):
        return float32_decimals(affine)
    return affine


def _tidy(value: float) -> float:
    """A computed value to 15 significant digits: float64 rounding noise dropped."""
    return float(f"{value:.15g}")


def _check_same_grid(shape: tuple[int, ...], affine: np.ndarray, source: str,
                     adc_shape: tuple[int, ...], adc_affine: np.ndarray, adc_source: str) -> None:
    if tuple(adc_shape) != tuple(shape):
        raise InputError(f"{adc_source}: ADC map shape {tuple(adc_shape)} differs from the "
                         f"label map's {tuple(shape)} ({source}); resample the ADC map onto the "
                         "mask grid")
    # Compare where the grids put their 8 corner voxels: a geometric, unit-aware tolerance.
    corners = np.array(np.meshgrid(*[[0, n - 1] for n in shape], indexing="ij")).reshape(3, -1)
    corners = np.vstack([corners, np.ones(corners.shape[1])])
    gap = float(np.max(np.linalg.norm((affine @ corners - adc_affine @ corners)[:3], axis=0)))
    tolerance = GRID_TOLERANCE * float(np.linalg.norm(affine[:3, :3], axis=0).min())
    if gap > tolerance:
        raise InputError(f"{adc_source}: ADC map affine differs from the label map's ({source}) "
                         f"by up to {gap:.4g} mm at the grid corners (tolerance {tolerance:.3g} mm)"
                         f"; ADC affine {np.round(adc_affine, 4).tolist()}, label affine "
                         f"{np.round(affine, 4).tolist()}")


def _measure_one(label: int, ijk: np.ndarray, affine: np.ndarray, axis: int,
                 adc_values: np.ndarray | None, unit: str | None) -> LesionMeasurement:
    linear, offset = affine[:3, :3], affine[:3, 3]
    count = len(ijk)
    centres = ijk @ linear.T  # world positions minus the offset, mm
    # The footprint of the inscribed ellipsoid along world axis a is |row a of M|.
    extent = np.ptp(centres, axis=0) + np.linalg.norm(linear, axis=1)
    centroid = ras_to_lps(linear @ ijk.mean(axis=0) + offset)
    stats = None
    if adc_values is not None:
        inside = adc_values[tuple(ijk.T)]
        inside = inside[np.isfinite(inside)]
        if inside.dtype == np.float32:  # the decimals stored: 0.8, not 0.800000011920929
            inside = float32_decimals(inside)
        if inside.size:
            stats = AdcStats(mean=_tidy(np.mean(inside)), minimum=_tidy(np.min(inside)),
                             median=_tidy(np.median(inside)), unit=str(unit),
                             voxels=int(inside.size))
    x, y, z = (_tidy(v) for v in extent)
    cx, cy, cz = (_tidy(v) for v in centroid)
    return LesionMeasurement(
        label=label, voxel_count=count,
        volume_ml=_tidy(count * abs(float(np.linalg.det(linear))) / 1000.0),
        extent_mm=(x, y, z),
        max_inplane_diameter_mm=_tidy(_max_inplane_diameter(ijk, linear, axis)),
        centroid_lps_mm=(cx, cy, cz),
        adc=stats)


def _max_inplane_diameter(ijk: np.ndarray, linear: np.ndarray, axis: int) -> float:
    """Largest Feret diameter over the slices (see module docstring), in mm."""
    p, q = (a for a in range(3) if a != axis)
    v = ijk[np.lexsort((ijk[:, q], ijk[:, p], ijk[:, axis]))]
    # Only the first and last voxel of each row (slice, p) matter: every vertex of a slice's
    # convex hull is a row extreme, and the Feret width depends on the hull alone.
    new_row = np.r_[True, np.any(v[1:, [axis, p]] != v[:-1, [axis, p]], axis=1)]
    first = np.flatnonzero(new_row)
    last = np.r_[first[1:] - 1, len(v) - 1]
    v = v[np.unique(np.r_[first, last])]
    slice_starts = np.flatnonzero(np.r_[True, v[1:, axis] != v[:-1, axis]])
    # 2-D coordinates in an orthonormal basis of the slice plane; the slice's own offset is
    # common to its points and drops out of every width.
    e_p, e_q = linear[:, p], linear[:, q]
    b1 = e_p / np.linalg.norm(e_p)
    b2 = e_q - (e_q @ b1) * b1
    b2 /= np.linalg.norm(b2)
    edges = np.array([[e_p @ b1, e_q @ b1], [e_p @ b2, e_q @ b2]])  # columns: pixel edges
    points = v[:, [p, q]] @ edges.T
    step = np.pi / _COARSE
    thetas = np.arange(_COARSE) * step
    widths = _slice_widths(points, slice_starts, thetas, edges)  # (slices, directions)
    best = float(widths.max())
    # Each slice's true maximum is within half a step of a sample worth >= max·cos(step/2), so
    # refining around samples above best·cos(step/2) cannot miss the overall maximum.
    threshold = best * np.cos(step / 2)
    window = np.linspace(-step / 2, step / 2, _FINE)
    bounds = np.r_[slice_starts, len(points)]
    for s in np.flatnonzero(widths.max(axis=1) >= threshold):
        fine = (thetas[widths[s] >= threshold][:, None] + window).ravel()
        sub = points[bounds[s]:bounds[s + 1]]
        best = max(best, float(_slice_widths(sub, np.array([0]), fine, edges).max()))
    return best


def _slice_widths(points: np.ndarray, starts: np.ndarray, thetas: np.ndarray,
                  edges: np.ndarray) -> np.ndarray:
    """Caliper widths (outer edge to outer edge) of each slice group along each direction."""
    directions = np.stack([np.cos(thetas), np.sin(thetas)], axis=1)
    footprint = np.linalg.norm(directions @ edges, axis=1)  # |Eᵀu|: inscribed-ellipse width
    bounds = np.r_[starts, len(points)]
    out = np.empty((len(starts), len(thetas)))
    per_chunk = max(1, _CHUNK // max(1, len(thetas)))
    s = 0
    while s < len(starts):
        # Take whole slices until the chunk holds about per_chunk points (at least one slice).
        e = max(s + 1, int(np.searchsorted(bounds, bounds[s] + per_chunk, side="right")) - 1)
        e = min(e, len(starts))
        proj = points[bounds[s]:bounds[e]] @ directions.T
        local = starts[s:e] - bounds[s]
        out[s:e] = (np.maximum.reduceat(proj, local, axis=0)
                    - np.minimum.reduceat(proj, local, axis=0))
        s = e
    return out + footprint
