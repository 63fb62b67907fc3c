"""Masks on a real DICOM series: grid checks, SEG and SR read back by dcmqi, clear errors."""

from __future__ import annotations

import json
import subprocess
import sys

import nibabel as nib
import numpy as np
import pytest
from conftest import ROOT, require_tool

from dicomtools.errors import InputError
from dicomtools.masks.report import measure_to_sr
from dicomtools.masks.seg import load_series, mask_on_series
from dicomtools.sr import read_sr

SERIES = ROOT / "sample_data" / "cases" / "case1" / "wbmri"
MASK = ROOT / "sample_data" / "masks" / "case1_wbmri_lesion.nii"
ADC = ROOT / "sample_data" / "masks" / "case1_wbmri_adc.nii"
LABELS = {"1": {"site": "paravertebral", "laterality": "left", "vertebral_levels": "T9/10"}}


@pytest.fixture(scope="module")
def measured(tmp_path_factory):
    out = tmp_path_factory.mktemp("measure")
    return measure_to_sr(MASK, SERIES, out, adc=ADC, label_fields={1: LABELS["1"]})


def _world(img):
    idx = np.argwhere(np.asarray(img.dataobj) > 0)
    return set(map(tuple, np.round(nib.affines.apply_affine(img.affine, idx), 2)))


def test_mask_in_any_axis_order_or_direction_lands_on_the_series():
    series = load_series(SERIES)
    img = nib.load(MASK)
    data, affine = np.asarray(img.dataobj), img.affine
    reference = mask_on_series(data, affine, series)
    assert reference.shape == series.shape and reference.sum() == data.sum()
    # swap axes 0 and 2 and flip axis 1: the same voxels in world space
    swapped = np.flip(np.transpose(data, (2, 1, 0)), axis=1)
    perm = np.array([[0, 0, 1, 0], [0, 1, 0, 0], [1, 0, 0, 0], [0, 0, 0, 1]], float)
    flip = np.eye(4)
    flip[1, 1], flip[1, 3] = -1, data.shape[1] - 1
    moved = affine @ perm @ flip
    assert _world(nib.Nifti1Image(swapped, moved)) == _world(img)
    assert np.array_equal(mask_on_series(swapped, moved, series), reference)


def test_mask_off_the_grid_or_of_another_extent_is_refused():
    series = load_series(SERIES)
    img = nib.load(MASK)
    data = np.asarray(img.dataobj)
    shifted = img.affine.copy()
    shifted[:3, 3] += 0.5 * img.affine[:3, 0]  # half a voxel along i
    with pytest.raises(InputError, match="not on the voxel grid"):
        mask_on_series(data, shifted, series, "shifted.nii")
    with pytest.raises(InputError, match="different region"):
        mask_on_series(data[:, :, :2], img.affine, series, "cropped.nii")


def test_sr_carries_the_measurements(measured):
    back = read_sr(measured.sr_path)
    (finding,) = back.findings
    (m,) = measured.measurements
    assert back.warnings == ()
    assert finding.volume_ml == pytest.approx(m.volume_ml)
    assert finding.extent_mm == pytest.approx(m.extent_mm)
    assert finding.adc_value == pytest.approx(m.adc.mean) and finding.adc_unit == "10-6.mm2/s"
    assert (finding.site, finding.laterality, finding.vertebral_levels) == ("paravertebral", "left", ("T9", "T10"))
    assert finding.roi.segment_number == 1 and finding.roi.centroid_lps_mm == pytest.approx(m.centroid_lps_mm, abs=1e-3)
    assert any(r.sop_instance_uid == finding.roi.seg_instance_uid for r in back.source_images)


def test_validators_accept_seg_and_sr(measured):
    for path, iod in ((measured.seg_path, "Segmentation"), (measured.sr_path, "Comprehensive3DSR")):
        proc = subprocess.run([require_tool("dciodvfy"), str(path)], capture_output=True, text=True)
        lines = proc.stderr.splitlines()
        assert iod in lines and not [ln for ln in lines if ln.startswith("Error")], lines
    proc = subprocess.run([require_tool("dsrdump"), str(measured.sr_path)], capture_output=True, text=True)
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr


def test_dcmqi_reads_our_seg_back_to_the_same_mask(measured, tmp_path):
    tool = require_tool("segimage2itkimage")
    proc = subprocess.run([tool, "--inputDICOM", str(measured.seg_path), "--outputDirectory",
                           str(tmp_path), "--outputType", "nifti"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert _world(nib.load(tmp_path / "1.nii.gz")) == _world(nib.load(MASK))


def test_dcmqi_reads_volume_and_adc_from_our_sr(measured, tmp_path):
    tool = require_tool("tid1500reader")
    out = tmp_path / "sr.json"
    proc = subprocess.run([tool, "--inputDICOM", str(measured.sr_path), "--outputMetadata", str(out)],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    (group,) = json.loads(out.read_text())["Measurements"]
    items = {(i["quantity"]["CodeMeaning"], (i.get("derivationModifier") or {}).get("CodeMeaning")):
             float(i["value"]) for i in group["measurementItems"]}
    (m,) = measured.measurements
    assert items[("Volume", None)] == pytest.approx(m.volume_ml, rel=1e-6)
    assert items[("Apparent Diffusion Coefficient", "Mean")] == pytest.approx(m.adc.mean, rel=1e-6)
    assert items[("Apparent Diffusion Coefficient", "Minimum")] == pytest.approx(m.adc.minimum)
    assert items[("Apparent Diffusion Coefficient", "Median")] == pytest.approx(m.adc.median)
    assert group["ReferencedSegment"] == 1


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "dicomtools", "measure", *map(str, args)],
                          capture_output=True, text=True, timeout=300)


def _nifti(tmp_path, name, data, affine=None):
    path = tmp_path / name
    nib.save(nib.Nifti1Image(data, nib.load(MASK).affine if affine is None else affine), path)
    return path


@pytest.mark.parametrize("case, phrase", [
    ("empty", "empty mask"), ("four_d", "4-D"), ("adc_shape", "shape"),
    ("misaligned", "not on the voxel grid"), ("not_nifti", "")])
def test_wrong_inputs_give_one_clear_error(tmp_path, case, phrase):
    base = np.asarray(nib.load(MASK).dataobj)
    adc = ADC
    if case == "empty":
        mask = _nifti(tmp_path, "m.nii", np.zeros_like(base))
    elif case == "four_d":
        mask = _nifti(tmp_path, "m.nii", np.stack([base, base], axis=-1))
    elif case == "adc_shape":
        mask = MASK
        adc = _nifti(tmp_path, "adc.nii", np.ones((*base.shape[:2], 2), np.float32))
    elif case == "misaligned":
        affine = nib.load(MASK).affine.copy()
        affine[:3, 3] += 3.0
        mask = _nifti(tmp_path, "m.nii", base, affine)
    else:
        mask = tmp_path / "m.nii"
        mask.write_bytes(b"%PDF-1.4 not a nifti")
    proc = _cli(mask, "--adc", adc, "--adc-unit", "um2/s", "--source", SERIES, "-o", tmp_path / "out")
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2 and len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert phrase in lines[0] and not (tmp_path / "out" / "sr.dcm").exists()


def test_measure_prints_adc_with_its_digits_and_stores_the_decimal_not_float32_noise(tmp_path):
    """An ADC map in 10^-3 mm2/s holding 0.8 (float32: 0.800000011920929): printed as 0.8,
    not '1'; written to the SR as 0.8, not '0.80000001192093'."""
    base = np.asarray(nib.load(MASK).dataobj)
    img = nib.Nifti1Image(np.full(base.shape, 0.8, np.float32), nib.load(MASK).affine)
    img.header["descrip"] = b"ADC [10^-3 mm2/s]"
    nib.save(img, tmp_path / "adc.nii")
    proc = _cli(MASK, "--adc", tmp_path / "adc.nii", "--source", SERIES, "-o", tmp_path / "out")
    assert proc.returncode == 0, proc.stderr
    assert "ADC mean 0.8 min 0.8 median 0.8 10-3.mm2/s" in proc.stdout
    (finding,) = read_sr(tmp_path / "out" / "sr.dcm").findings
    assert finding.adc_value == 0.8 and finding.adc_min == 0.8 and finding.adc_median == 0.8
    data = (tmp_path / "out" / "sr.dcm").read_bytes()
    assert b"0.8000000" not in data and b"2.4000000" not in data  # ADC; 3 slices of 0.8 mm


def test_explicit_adc_unit_against_the_header_is_an_error_unless_forced(tmp_path):
    # the sample ADC map declares 10^-6 mm2/s; 10-3.mm2/s would write values 1000x too large
    args = (MASK, "--adc", ADC, "--adc-unit", "10-3.mm2/s", "--source", SERIES)
    proc = _cli(*args, "-o", tmp_path / "refused")
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2 and len(lines) == 1, proc.stderr
    assert "disagrees with the unit the header declares (10-6.mm2/s)" in lines[0] and "--force" in lines[0]
    assert not (tmp_path / "refused").exists()
    proc = _cli(*args, "--force", "-o", tmp_path / "forced")
    assert proc.returncode == 0 and "10-3.mm2/s" in proc.stdout, proc.stderr
    proc = _cli(MASK, "--adc", ADC, "--adc-unit", "um2/s", "--source", SERIES, "-o", tmp_path / "same")
    assert proc.returncode == 0, proc.stderr  # um2/s is the header's unit, spelled otherwise
