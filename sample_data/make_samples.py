#!/usr/bin/env python3
"""Regenerate the public DICOM sample data in ``sample_data/``.

Deterministic and offline: every output is derived from files shipped inside
the installed ``pydicom`` wheel (``pydicom.data.get_testdata_file``) or
synthesised with integer/IEEE-exact numpy arithmetic.  All UIDs are
``2.25.<UUID5>`` values of fixed strings, all dates are fixed fictional dates.

Usage::

    python sample_data/make_samples.py            # (re)write the files
    python sample_data/make_samples.py --check    # regenerate into a temp dir
                                                  # and compare byte by byte
    python sample_data/make_samples.py --out DIR  # write somewhere else

Outputs (relative to ``sample_data/``)::

    cases/case<N>/<exam>/*.dcm   per-case source image series (MR / NM)
    foreign/*.dcm                unmodified copies of pydicom's SR test files
    SHA256SUMS                   checksums of all of the above

The patients, dates and doses are pseudonymous stand-ins modelled on a
published case series of children with opsoclonus-myoclonus syndrome; the
pixel data carry no findings.
"""

from __future__ import annotations

import argparse
import datetime as dt
import filecmp
import hashlib
import shutil
import sys
import tempfile
import uuid
from pathlib import Path

import numpy as np
import pydicom
from pydicom.data import get_testdata_file
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian, UID

HERE = Path(__file__).resolve().parent

# --------------------------------------------------------------------------
# Deterministic identifiers
# --------------------------------------------------------------------------
_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://dicomtools.invalid/sample_data")


def testdata_path(name: str) -> str:
    """Path of a test file shipped inside the pydicom wheel (never downloads)."""
    path = get_testdata_file(name, download=False)
    if path is None:
        raise FileNotFoundError(f"{name} not found in the installed pydicom package")
    return path


def make_uid(*parts: object) -> UID:
    """Return a fixed ``2.25.<int>`` UID for the given key parts."""
    key = "/".join(str(p) for p in parts)
    return UID(f"2.25.{uuid.uuid5(_NAMESPACE, key).int}")


IMPLEMENTATION_CLASS_UID = make_uid("implementation", "make_samples", 1)
IMPLEMENTATION_VERSION_NAME = "DCMTOOLS_SMPL1"  # SH, <= 16 chars
MR_IMAGE_STORAGE = UID("1.2.840.10008.5.1.4.1.1.4")
NM_IMAGE_STORAGE = UID("1.2.840.10008.5.1.4.1.1.20")
ISSUER = "DICOMTOOLS-SAMPLE"
CHARSET = "ISO_IR 192"
DEID_METHOD = "Fictional pseudonymous sample patient; all dates fictional"  # LO <= 64


def code_item(value: str, scheme: str, meaning: str) -> Dataset:
    ds = Dataset()
    ds.CodeValue = value
    ds.CodingSchemeDesignator = scheme
    ds.CodeMeaning = meaning
    return ds


# Codes (meanings as in pydicom.sr.codedict, i.e. the DICOM PS3.16 CIDs)
SCT_I123 = ("21572004", "SCT", "^123^Iodine")  # CID 18
SCT_TC99M = ("72454006", "SCT", "^99m^Technetium")  # CID 18
SCT_MIBG_I123 = ("395787009", "SCT", "Iodine^123 3-Iodobenzylguanidine MIBG")  # CID 25
SCT_IV = ("47625008", "SCT", "Intravenous route")  # CID 11
SCT_RECUMBENT = ("102538003", "SCT", "recumbent")  # CID 19
SCT_SUPINE = ("40199007", "SCT", "supine")  # CID 20
SCT_HEADFIRST = ("102540008", "SCT", "headfirst")  # CID 21
SCT_ANTERIOR = ("399321004", "SCT", "Anterior projection")  # CID 26
SCT_POSTERIOR = ("399001007", "SCT", "Posterior projection")  # CID 26


# --------------------------------------------------------------------------
# Seed cases (fictional dates; ages follow the published case series)
# --------------------------------------------------------------------------
CASES = [
    {
        "n": 1,
        "sex": "F",
        "birth": dt.date(2013, 9, 10),
        # presentation 2015-02-23 (abdominal ultrasound); WB-MRI one day later
        "exams": [
            {"key": "us", "kind": "US", "date": dt.date(2015, 2, 23), "time": "150000",
             "age": "017M"},
            {"key": "wbmri", "kind": "MR", "date": dt.date(2015, 2, 24), "time": "093000",
             "age": "017M"},
            {"key": "mibg", "kind": "MIBG", "date": dt.date(2015, 2, 26), "time": "103000",
             "age": "017M", "dose_mbq": "60", "injected": "20150225100000",
             "scan_length": 900},
        ],
    },
    {
        "n": 2,
        "sex": "M",
        "birth": dt.date(2014, 4, 2),
        # abdominal ultrasound, then mIBG, then the WB-MRI
        "exams": [
            {"key": "us", "kind": "US", "date": dt.date(2015, 5, 11), "time": "140000",
             "age": "013M"},
            {"key": "mibg", "kind": "MIBG", "date": dt.date(2015, 5, 12), "time": "101500",
             "age": "013M", "dose_mbq": "40", "injected": "20150511100000",
             "scan_length": 850},
            {"key": "wbmri", "kind": "MR", "date": dt.date(2015, 5, 14), "time": "091500",
             "age": "013M"},
        ],
    },
    {
        "n": 3,
        "sex": "M",
        "birth": dt.date(2001, 6, 20),
        # anti-GD2 immunoscintigraphy at 2 y; WB-MRI at 13 y 11 m; mIBG after WB-MRI
        "exams": [
            {"key": "antigd2", "kind": "ANTIGD2", "date": dt.date(2003, 9, 16), "time": "100000",
             "age": "002Y", "dose_mbq": None, "injected": "20030915100000",
             "scan_length": 1000},
            {"key": "wbmri", "kind": "MR", "date": dt.date(2015, 6, 3), "time": "090000",
             "age": "013Y"},
            {"key": "mibg", "kind": "MIBG", "date": dt.date(2015, 6, 10), "time": "110000",
             "age": "013Y", "dose_mbq": "108", "injected": "20150609110000",
             "scan_length": 1750},
        ],
    },
]

STUDY_DESCRIPTION = {
    "MR": "Whole-body MRI",
    "MIBG": "I-123 mIBG scintigraphy",
    "ANTIGD2": "Tc-99m anti-GD2 immunoscintigraphy",
    "US": "Abdominal ultrasound",
}


def dicom_age(birth: dt.date, on: dt.date) -> str:
    """DICOM AS value: months below 2 years (as clinicians state them), else years."""
    months = (on.year - birth.year) * 12 + (on.month - birth.month)
    if on.day < birth.day:
        months -= 1
    if months < 24:
        return f"{months:03d}M"
    return f"{months // 12:03d}Y"


def da(d: dt.date) -> str:
    return d.strftime("%Y%m%d")


def common_patient_study(ds: Dataset, case: dict, exam: dict, modality: str) -> None:
    """Patient, General Study, Patient Study, General Series, SOP Common bits."""
    n = case["n"]
    date = da(exam["date"])
    ds.SpecificCharacterSet = CHARSET
    ds.InstanceCreationDate = date
    ds.InstanceCreationTime = exam["time"]
    ds.StudyDate = date
    ds.SeriesDate = date
    ds.AcquisitionDate = date
    ds.ContentDate = date
    ds.StudyTime = exam["time"]
    ds.SeriesTime = exam["time"]
    ds.AcquisitionTime = exam["time"]
    ds.ContentTime = exam["time"]
    ds.AccessionNumber = f"SMPL{n}{exam['key'].upper()}"[:16]
    ds.Modality = modality
    ds.ReferringPhysicianName = ""
    ds.StudyDescription = STUDY_DESCRIPTION[exam["kind"]]
    # Patient
    ds.PatientName = f"Case{n}^OMS"
    ds.PatientID = f"OMS-CASE-{n}"
    ds.IssuerOfPatientID = ISSUER
    ds.PatientBirthDate = da(case["birth"])
    ds.PatientSex = case["sex"]
    ds.PatientIdentityRemoved = "YES"
    ds.DeidentificationMethod = DEID_METHOD
    ds.PatientAge = exam["age"]
    # Study / series
    ds.StudyInstanceUID = make_uid("case", n, exam["key"], "study")
    ds.SeriesInstanceUID = make_uid("case", n, exam["key"], "series", 1)
    ds.StudyID = f"C{n}-{exam['key'].upper()}"[:16]
    ds.SeriesNumber = 1
    ds.FrameOfReferenceUID = make_uid("case", n, exam["key"], "frame-of-reference")
    ds.PositionReferenceIndicator = ""
    ds.BodyPartExamined = "WHOLEBODY"


def file_meta_for(ds: Dataset) -> FileMetaDataset:
    fm = FileMetaDataset()
    fm.MediaStorageSOPClassUID = ds.SOPClassUID
    fm.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    fm.TransferSyntaxUID = ExplicitVRLittleEndian
    fm.ImplementationClassUID = IMPLEMENTATION_CLASS_UID
    fm.ImplementationVersionName = IMPLEMENTATION_VERSION_NAME
    return fm


def save(ds: Dataset, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    ds.file_meta = file_meta_for(ds)
    ds.save_as(path, enforce_file_format=True)


# --------------------------------------------------------------------------
# MR: three instances derived from pydicom's MR_small.dcm
# --------------------------------------------------------------------------
MR_SOURCE = "MR_small.dcm"
# Attributes kept from the source (image geometry, pixel module, acquisition).
MR_KEEP = [
    "ImageType", "Manufacturer", "ScanningSequence", "SequenceVariant",
    "ScanOptions", "MRAcquisitionType", "SliceThickness", "RepetitionTime",
    "EchoTime", "NumberOfAverages", "ImagingFrequency", "ImagedNucleus",
    "EchoNumbers", "EchoTrainLength", "FlipAngle", "PatientPosition",
    "ImageOrientationPatient", "SamplesPerPixel", "PhotometricInterpretation",
    "Rows", "Columns", "PixelSpacing", "BitsAllocated", "BitsStored", "HighBit",
    "PixelRepresentation", "SmallestImagePixelValue", "LargestImagePixelValue",
    "WindowCenter", "WindowWidth", "PixelData",
]


def make_mr_series(case: dict, exam: dict, outdir: Path) -> list[Path]:
    src = pydicom.dcmread(testdata_path(MR_SOURCE))
    n = case["n"]
    paths = []
    z0 = float(src.ImagePositionPatient[2])
    thickness = float(src.SliceThickness)
    for i in (1, 2, 3):
        ds = Dataset()
        for kw in MR_KEEP:
            if kw in src:
                ds[kw] = src[kw]
        ds.SOPClassUID = MR_IMAGE_STORAGE
        ds.SOPInstanceUID = make_uid("case", n, exam["key"], "series", 1, "instance", i)
        common_patient_study(ds, case, exam, "MR")
        ds.SeriesDescription = "WB-MRI STIR ax"
        ds.ProtocolName = "WB-MRI"
        # Make the acquisition attributes match the STIR description.
        ds.ScanningSequence = ["SE", "IR"]
        ds.InversionTime = "150"
        ds.EchoTrainLength = "1"
        ds.MRAcquisitionType = "2D"
        ds.AcquisitionNumber = 1
        ds.InstanceNumber = i
        x, y = src.ImagePositionPatient[0], src.ImagePositionPatient[1]
        z = z0 + (i - 1) * thickness
        ds.ImagePositionPatient = [f"{float(x):.4f}", f"{float(y):.4f}", f"{z:.4f}"]
        ds.SliceLocation = f"{z:.4f}"
        ds.ImageComments = (
            f"dicomtools sample stand-in; pixel data of pydicom test file {MR_SOURCE} "
            "(NEMA WG04 MR1, downsized head MR); not a patient image"
        )
        ds.DerivationDescription = f"Copied pixel data from pydicom test file {MR_SOURCE}"
        p = outdir / f"MR{i:03d}.dcm"
        save(ds, p)
        paths.append(p)
    return paths


# --------------------------------------------------------------------------
# NM: synthetic whole-body planar scintigram (anterior + posterior frames)
# --------------------------------------------------------------------------
ROWS = COLS = 64

# Organ blobs in patient coordinates: (name, v, x, half-height, half-width)
# v: 0 = vertex .. 1 = soles (scaled to the body length), x: + = patient left
# (in units of body length).  Weights are (anterior, posterior) counts.
BODY_PARTS = [
    ("head", 0.09, 0.0, 0.09, 0.075),
    ("neck", 0.19, 0.0, 0.04, 0.03),
    ("trunk", 0.38, 0.0, 0.19, 0.11),
    ("pelvis", 0.55, 0.0, 0.08, 0.10),
    ("arm_r", 0.38, -0.135, 0.18, 0.035),
    ("arm_l", 0.38, 0.135, 0.18, 0.035),
    ("leg_r", 0.78, -0.05, 0.22, 0.04),
    ("leg_l", 0.78, 0.05, 0.22, 0.04),
]
UPTAKE = {
    # physiological I-123 mIBG distribution (no lesions)
    "MIBG": [
        ("parotid_r", 0.155, -0.04, 0.015, 0.015, 90, 60),
        ("parotid_l", 0.155, 0.04, 0.015, 0.015, 90, 60),
        ("nasal", 0.11, 0.0, 0.012, 0.012, 40, 10),
        ("heart", 0.31, 0.03, 0.04, 0.04, 120, 60),
        ("liver", 0.40, -0.045, 0.05, 0.06, 260, 160),
        ("bowel", 0.50, 0.0, 0.05, 0.07, 30, 25),
        ("bladder", 0.58, 0.0, 0.025, 0.03, 300, 150),
    ],
    # physiological Tc-99m antibody distribution: blood pool, liver, spleen,
    # kidneys, bladder (no lesions)
    "ANTIGD2": [
        ("heart", 0.31, 0.03, 0.045, 0.045, 200, 120),
        ("aorta", 0.40, 0.0, 0.12, 0.012, 80, 60),
        ("liver", 0.40, -0.045, 0.05, 0.06, 280, 200),
        ("spleen", 0.40, 0.06, 0.03, 0.025, 140, 180),
        ("kidney_r", 0.44, -0.04, 0.03, 0.018, 90, 160),
        ("kidney_l", 0.43, 0.04, 0.03, 0.018, 90, 160),
        ("bladder", 0.58, 0.0, 0.025, 0.03, 220, 110),
    ],
}
BACKGROUND = 12  # relative counts per pixel in soft tissue
COUNT_SCALE = 6  # overall count level


def _bump(vv: np.ndarray, xx: np.ndarray, v0: float, x0: float, hv: float, hx: float) -> np.ndarray:
    """Smooth compact bump (1 - r^2)^2 using only IEEE-exact + - * / ops."""
    d2 = ((vv - v0) / hv) ** 2 + ((xx - x0) / hx) ** 2
    t = np.clip(1.0 - d2, 0.0, None)
    return t * t


def _hash_uniform(shape: tuple[int, ...], seed: int) -> np.ndarray:
    """Deterministic uniform [0, 1) values from an integer hash (splitmix64)."""
    offset = (seed * 0x9E3779B97F4A7C15 + 0x9E3779B97F4A7C15) % 2**64
    z = np.arange(np.prod(shape), dtype=np.uint64) + np.uint64(offset)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    z = z ^ (z >> np.uint64(31))
    return ((z >> np.uint64(11)).astype(np.float64) / float(2**53)).reshape(shape)


def synth_wholebody(kind: str, seed: int) -> np.ndarray:
    """Return uint16 array (2, ROWS, COLS): frame 0 anterior, frame 1 posterior."""
    margin = 2
    body_len_px = ROWS - 2 * margin
    r = np.arange(ROWS, dtype=np.float64)[:, None]
    c = np.arange(COLS, dtype=np.float64)[None, :]
    vv = (r - margin + 0.5) / body_len_px + 0.0 * c
    # column index increases towards patient left in the anterior view
    # (row direction +x) and towards patient right in the posterior view.
    x_ant = (c - COLS / 2 + 0.5) / body_len_px + 0.0 * r
    frames = []
    for view, xx in ((0, x_ant), (1, -x_ant)):
        img = np.zeros((ROWS, COLS), dtype=np.float64)
        body = np.zeros_like(img)
        for _name, v0, x0, hv, hx in BODY_PARTS:
            body = np.maximum(body, _bump(vv, xx, v0, x0, hv, hx))
        img += BACKGROUND * np.minimum(body * 8.0, 1.0)
        for _name, v0, x0, hv, hx, w_ant, w_post in UPTAKE[kind]:
            img += (w_ant if view == 0 else w_post) * _bump(vv, xx, v0, x0, hv, hx)
        img = img * COUNT_SCALE
        # counting noise: sum of 3 uniforms (var 1/4) scaled to sd ~ sqrt(counts)
        u = _hash_uniform((3, ROWS, COLS), seed * 2 + view)
        noise = (u[0] + u[1] + u[2] - 1.5) * 2.0 * np.sqrt(img)
        frames.append(np.floor(np.clip(img + noise, 0.0, 65535.0) + 0.5))
    return np.stack(frames).astype(np.uint16)


def make_nm(case: dict, exam: dict, outdir: Path) -> list[Path]:
    n = case["n"]
    kind = exam["kind"]
    pixels = synth_wholebody(kind, seed=n * 10 + (1 if kind == "MIBG" else 2))
    scan_length = exam["scan_length"]  # mm, head to toe incl. margins
    spacing = f"{scan_length / ROWS:.4f}"
    velocity = 2.0  # mm/s
    duration_ms = int(scan_length / velocity * 1000)

    ds = Dataset()
    ds.SOPClassUID = NM_IMAGE_STORAGE
    ds.SOPInstanceUID = make_uid("case", n, exam["key"], "series", 1, "instance", 1)
    ds.ImageType = ["DERIVED", "PRIMARY", "WHOLE BODY", "EMISSION"]
    common_patient_study(ds, case, exam, "NM")
    ds.Manufacturer = "dicomtools sample generator (synthetic)"
    ds.SeriesDescription = "WB ANT/POST"
    ds.ProtocolName = "Whole body planar"
    ds.InstanceNumber = 1
    ds.PatientOrientation = ""
    ds.ImageComments = (
        "dicomtools sample stand-in; synthetic phantom with physiological "
        "distribution only (no findings); not a patient image"
    )
    ds.DerivationDescription = "Synthetic phantom generated by sample_data/make_samples.py"
    ds.LossyImageCompression = "00"
    ds.AcquisitionContextSequence = Sequence()

    # NM/PET Patient Orientation
    po = code_item(*SCT_RECUMBENT)
    po.PatientOrientationModifierCodeSequence = Sequence([code_item(*SCT_SUPINE)])
    ds.PatientOrientationCodeSequence = Sequence([po])
    ds.PatientGantryRelationshipCodeSequence = Sequence([code_item(*SCT_HEADFIRST)])

    # Image pixel / NM image pixel
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows = ROWS
    ds.Columns = COLS
    ds.PixelSpacing = [spacing, spacing]
    ds.BitsAllocated = 16
    ds.BitsStored = 16
    ds.HighBit = 15
    ds.PixelRepresentation = 0
    ds.SmallestImagePixelValue = int(pixels.min())
    ds.LargestImagePixelValue = int(pixels.max())
    ds.WindowCenter = str(int(pixels.max()) // 4)
    ds.WindowWidth = str(int(pixels.max()) // 2)

    # Multi-frame / NM multi-frame
    ds.NumberOfFrames = 2
    ds.FrameIncrementPointer = [0x00540010, 0x00540020]
    ds.EnergyWindowVector = [1, 1]
    ds.NumberOfEnergyWindows = 1
    ds.DetectorVector = [1, 2]
    ds.NumberOfDetectors = 2

    # NM image
    ds.CountsAccumulated = int(pixels.astype(np.int64).sum())
    ds.AcquisitionTerminationCondition = "MANU"
    ds.ActualFrameDuration = duration_ms
    ds.ScanVelocity = f"{velocity:.1f}"
    ds.ScanLength = scan_length
    ds.WholeBodyTechnique = "1PS"

    # NM isotope
    if kind == "MIBG":
        nuclide, peak, ew_name = SCT_I123, 159.0, "I-123 159 keV"
        rp_text = "Iobenguane I-123"
        rp_code = SCT_MIBG_I123
        collimator = "LEHR"
    else:
        nuclide, peak, ew_name = SCT_TC99M, 140.5, "Tc-99m 140 keV"
        rp_text = "Tc-99m anti-GD2 monoclonal antibody"
        rp_code = None  # no code for this agent in DICOM CID 25
        collimator = "LEHR"
    ew = Dataset()
    rng = Dataset()
    rng.EnergyWindowLowerLimit = f"{peak * 0.9:.1f}"
    rng.EnergyWindowUpperLimit = f"{peak * 1.1:.1f}"
    ew.EnergyWindowRangeSequence = Sequence([rng])
    ew.EnergyWindowName = ew_name  # SH <= 16
    ds.EnergyWindowInformationSequence = Sequence([ew])
    rp = Dataset()
    rp.RadiopharmaceuticalRoute = "IV"
    rp.AdministrationRouteCodeSequence = Sequence([code_item(*SCT_IV)])
    # Injection date is documented in README; the NM Isotope Module only has a TM.
    rp.RadiopharmaceuticalStartTime = exam["injected"][8:]
    if exam["dose_mbq"] is not None:
        rp.RadionuclideTotalDose = exam["dose_mbq"]  # (0018,1074) is in MBq
    rp.Radiopharmaceutical = rp_text
    rp.RadionuclideCodeSequence = Sequence([code_item(*nuclide)])
    if rp_code is not None:
        rp.RadiopharmaceuticalCodeSequence = Sequence([code_item(*rp_code)])
    ds.RadiopharmaceuticalInformationSequence = Sequence([rp])

    # NM detector: head 1 anterior, head 2 posterior
    dets = []
    for view_code, row_dir in ((SCT_ANTERIOR, "1"), (SCT_POSTERIOR, "-1")):
        d = Dataset()
        d.CollimatorGridName = collimator
        d.CollimatorType = "PARA"
        d.FocalDistance = None
        d.ImageOrientationPatient = [row_dir, "0", "0", "0", "0", "-1"]
        d.ImagePositionPatient = None
        vc = code_item(*view_code)
        vc.ViewModifierCodeSequence = Sequence()
        d.ViewCodeSequence = Sequence([vc])
        dets.append(d)
    ds.DetectorInformationSequence = Sequence(dets)

    ds.PixelData = pixels.astype("<u2").tobytes()
    p = outdir / "NM001.dcm"
    save(ds, p)
    return [p]


# --------------------------------------------------------------------------
# Foreign SRs: unmodified copies of pydicom test files
# --------------------------------------------------------------------------
FOREIGN = ["test-SR.dcm", "reportsi.dcm", "reportsi_with_empty_number_tags.dcm"]


US_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.6.1"


def make_us(case: dict, exam: dict, outdir: Path) -> list[Path]:
    """One synthetic 8-bit B-mode frame (speckle over a smooth abdominal outline, no lesion)."""
    n = case["n"]
    size = 64
    vv, xx = np.meshgrid(np.arange(size, dtype=np.float64), np.arange(size, dtype=np.float64),
                         indexing="ij")
    organ = _bump(vv, xx, 30.0, 32.0, 22.0, 26.0)
    speckle = _hash_uniform((size, size), seed=n * 10 + 3)
    pixels = (20.0 + 150.0 * organ * (0.6 + 0.4 * speckle)).astype(np.uint8)

    ds = Dataset()
    ds.SOPClassUID = US_IMAGE_STORAGE
    ds.SOPInstanceUID = make_uid("case", n, exam["key"], "series", 1, "instance", 1)
    ds.ImageType = ["DERIVED", "PRIMARY", "ABDOMINAL"]
    common_patient_study(ds, case, exam, "US")
    ds.BodyPartExamined = "ABDOMEN"
    ds.Manufacturer = "dicomtools sample generator (synthetic)"
    ds.SeriesDescription = "Abdomen B-mode"
    ds.InstanceNumber = 1
    ds.PatientOrientation = ""
    ds.ImageComments = ("dicomtools sample stand-in; synthetic speckle phantom without "
                        "findings; not a patient image")
    ds.LossyImageCompression = "00"
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows = size
    ds.Columns = size
    ds.BitsAllocated = 8
    ds.BitsStored = 8
    ds.HighBit = 7
    ds.PixelRepresentation = 0
    ds.PixelData = pixels.tobytes()
    path = outdir / "US001.dcm"
    save(ds, path)
    return [path]


def copy_foreign(outdir: Path) -> list[Path]:
    outdir.mkdir(parents=True, exist_ok=True)
    paths = []
    for name in FOREIGN:
        p = outdir / name
        shutil.copyfile(testdata_path(name), p)
        paths.append(p)
    return paths


def generate(root: Path) -> list[Path]:
    for case in CASES:
        for exam in case["exams"]:
            assert dicom_age(case["birth"], exam["date"]) == exam["age"], (case["n"], exam)
    written: list[Path] = []
    for case in CASES:
        for exam in case["exams"]:
            outdir = root / "cases" / f"case{case['n']}" / exam["key"]
            if exam["kind"] == "MR":
                written += make_mr_series(case, exam, outdir)
            elif exam["kind"] == "US":
                written += make_us(case, exam, outdir)
            else:
                written += make_nm(case, exam, outdir)
    written += copy_foreign(root / "foreign")
    lines = []
    for p in sorted(written):
        digest = hashlib.sha256(p.read_bytes()).hexdigest()
        lines.append(f"{digest}  {p.relative_to(root).as_posix()}\n")
    (root / "SHA256SUMS").write_text("".join(lines), encoding="utf-8")
    return written + [root / "SHA256SUMS"]


def check(root: Path) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        fresh = generate(Path(tmp))
        bad = 0
        for p in fresh:
            rel = p.relative_to(tmp)
            committed = root / rel
            if not committed.is_file():
                print(f"MISSING  {rel}")
                bad += 1
            elif not filecmp.cmp(p, committed, shallow=False):
                print(f"DIFFERS  {rel}")
                bad += 1
        expected = {p.relative_to(tmp).as_posix() for p in fresh}
        for sub in ("cases", "foreign"):
            for p in sorted((root / sub).rglob("*")):
                # hand-written findings/pathology/lab JSON live beside the images
                if (p.is_file() and p.suffix != ".json"
                        and p.relative_to(root).as_posix() not in expected):
                    print(f"EXTRA    {p.relative_to(root)}")
                    bad += 1
    print("OK: sample data is up to date" if not bad else f"{bad} problem(s)")
    return 1 if bad else 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--check", action="store_true",
                    help="regenerate into a temp dir and compare with the committed files")
    ap.add_argument("--out", type=Path, default=HERE, help="output root (default: this folder)")
    args = ap.parse_args(argv)
    if args.check:
        return check(args.out)
    for p in generate(args.out):
        print(p.relative_to(args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
