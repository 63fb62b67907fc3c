"""A corpus of DICOM SRs written by OTHER tools, generated at test time.

Nothing here is a third-party file: every SR is produced on this machine by the real tool,
installed from its registry (highdicom and dcmqi from PyPI, DCMTK from Debian), from inputs
written by this module (Python calls, dcmqi meta JSON, DCMTK XML). The source images are the
project's own synthetic sample data (``sample_data/cases/case1/wbmri``) and pydicom's shipped
test image ``CT_small.dcm``; pydicom's own shipped SR test files are used in place.

    from foreign_corpus import build_corpus
    corpus = build_corpus(tmp_path)      # list of Entry; corpus.skipped: (tool, why) pairs
    python tests/foreign_corpus.py OUT_DIR   # build and list

A few files are built by a tool and then edited with pydicom or dcmodify where the tool cannot
produce a case the brief needs (``Entry.patched`` says so and ``description`` says what).
A tool that is not installed is skipped (``Corpus.skipped``); ``strict=True`` raises instead.
"""

from __future__ import annotations

import functools
import importlib.metadata
import json
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pydicom
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

ROOT = Path(__file__).resolve().parents[1]
MR_DIR = ROOT / "sample_data" / "cases" / "case1" / "wbmri"
PYDICOM_TEST_FILES = Path(pydicom.__file__).parent / "data" / "test_files"
PYDICOM_SRS = ("test-SR.dcm", "reportsi.dcm", "reportsi_with_empty_number_tags.dcm")


@dataclass(frozen=True)
class Entry:
    path: Path
    tool: str         # highdicom | dcmqi | dcmtk | pydicom
    name: str
    description: str
    provenance: str   # tool, version, licence, inputs
    patched: bool = False  # edited after the tool wrote it (pydicom / dcmodify)


class Corpus(list):
    """A list of :class:`Entry` with ``skipped``: (tool or entry, reason) for what was not built."""

    def __init__(self, entries=(), skipped=()):
        super().__init__(entries)
        self.skipped: list[tuple[str, str]] = list(skipped)


class ToolMissing(RuntimeError):
    pass


# ---- provenance ------------------------------------------------------------------------
def _pip(name: str) -> str:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def _deb(package: str) -> str:
    try:
        out = subprocess.run(["dpkg-query", "-W", "-f=${Version}", package],
                             capture_output=True, text=True, timeout=30)
        return out.stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


@functools.cache
def provenance(tool: str) -> str:
    """Which tool and licence produced the files (checked against the installed metadata:
    highdicom dist-info License-Expression MIT; pydicom classifier MIT; the dcmqi wheel's
    metadata says MIT (Imaging Data Commons packaging) while upstream QIICR/dcmqi
    LICENSE.txt is BSD-3-Clause; DCMTK's Debian copyright file: OFFIS BSD-3-Clause style)."""
    images = ("images: dicomtools sample_data/cases/case1/wbmri (the project's own synthetic "
              "data) or pydicom's test file CT_small.dcm (pydicom, MIT)")
    if tool == "highdicom":
        return (f"written by highdicom {_pip('highdicom')} (PyPI; licence MIT) from calls in "
                f"tests/foreign_corpus.py; pydicom {_pip('pydicom')} (MIT) for patches; {images}")
    if tool == "dcmqi":
        return (f"written by dcmqi {_pip('dcmqi')} tid1500writer (PyPI wheel; licence: wheel metadata MIT, "
                "upstream QIICR/dcmqi BSD-3-Clause) from meta JSON written by "
                f"tests/foreign_corpus.py; SEG by highdicom {_pip('highdicom')} (MIT); {images}")
    if tool == "dcmtk":
        return (f"written by DCMTK {_deb('dcmtk')} xml2dsr (Debian package dcmtk; licence "
                "OFFIS BSD-3-Clause) from DCMTK XML written by tests/foreign_corpus.py")
    if tool == "pydicom":
        return (f"shipped with pydicom {_pip('pydicom')} (PyPI; licence MIT) in pydicom/data/test_files, "
                "used in place (test-SR.dcm: OFFIS DCMTK dscope sample per pydicom's README)")
    raise ValueError(tool)


# ---- shared inputs ---------------------------------------------------------------------
@functools.cache
def _mr_paths() -> tuple[Path, ...]:
    return tuple(sorted(MR_DIR.glob("*.dcm")))


def _mr() -> list[Dataset]:
    return [pydicom.dcmread(p) for p in _mr_paths()]


def _ct_path() -> Path:
    return PYDICOM_TEST_FILES / "CT_small.dcm"


def _ct() -> Dataset:
    return pydicom.dcmread(_ct_path())


def _seg(images: list[Dataset], labels: list[str], path: Path) -> Dataset:
    """A binary SEG by highdicom with one box-shaped segment per label."""
    import highdicom as hd
    rows, cols = images[0].Rows, images[0].Columns
    mask = np.zeros((len(images), rows, cols, len(labels)), dtype=bool)
    for k in range(len(labels)):
        r0, c0 = rows // 4 + 8 * k, cols // 4 + 8 * k
        mask[:, r0:r0 + 6, c0:c0 + 6, k] = True
    descriptions = [hd.seg.SegmentDescription(
        segment_number=k + 1, segment_label=label,
        segmented_property_category=hd.sr.CodedConcept("49755003", "SCT", "Morphologically abnormal structure"),
        segmented_property_type=hd.sr.CodedConcept("4147007", "SCT", "Mass"),
        algorithm_type=hd.seg.SegmentAlgorithmTypeValues.MANUAL) for k, label in enumerate(labels)]
    seg = hd.seg.Segmentation(
        source_images=images, pixel_array=mask, segmentation_type=hd.seg.SegmentationTypeValues.BINARY,
        segment_descriptions=descriptions, series_instance_uid=hd.UID(), series_number=50,
        sop_instance_uid=hd.UID(), instance_number=1, manufacturer="foreign-corpus",
        manufacturer_model_name="highdicom", software_versions=_pip("highdicom"),
        device_serial_number="0")
    seg.save_as(path)
    return seg


# ---- highdicom ---------------------------------------------------------------------------
def _hd():
    import highdicom as hd
    return hd


def _cc(value: str, scheme: str, meaning: str):
    return _hd().sr.CodedConcept(value, scheme, meaning)


class _C:
    """Codes used below (SCT/DCM/UCUM/RADLEX/LN), as (value, scheme, meaning)."""
    LONG_AXIS = ("103339001", "SCT", "Long axis")
    SHORT_AXIS = ("103340004", "SCT", "Short axis")
    LENGTH = ("410668003", "SCT", "Length")
    DIAMETER = ("81827009", "SCT", "Diameter")
    AREA = ("42798000", "SCT", "Area")
    VOLUME = ("118565006", "SCT", "Volume")
    SUVBW = ("126401", "DCM", "SUVbw")
    HU = ("112031", "DCM", "Attenuation Coefficient")
    ADC = ("113041", "DCM", "Apparent Diffusion Coefficient")
    MEAN = ("373098007", "SCT", "Mean")
    MAXIMUM = ("56851009", "SCT", "Maximum")
    MINIMUM = ("255605001", "SCT", "Minimum")
    SD = ("386136009", "SCT", "Standard Deviation")
    PEAK = ("126031", "DCM", "Peak Value Within ROI")
    CM = ("cm", "UCUM", "centimeter")
    MM = ("mm", "UCUM", "millimeter")
    MM2 = ("mm2", "UCUM", "square millimeter")
    CM2 = ("cm2", "UCUM", "square centimeter")
    ML = ("ml", "UCUM", "milliliter")
    ML_UPPER = ("mL", "UCUM", "milliliter")
    CM3 = ("cm3", "UCUM", "cubic centimeter")
    MM3 = ("mm3", "UCUM", "cubic millimeter")
    SUV_UNIT = ("{SUVbw}g/ml", "UCUM", "Standardized Uptake Value body weight")
    HU_UNIT = ("[hnsf'U]", "UCUM", "Hounsfield unit")
    UM2S = ("um2/s", "UCUM", "um2/s")
    MM2S = ("mm2/s", "UCUM", "mm2/s")
    MASS = ("4147007", "SCT", "Mass")
    NODULE = ("27925004", "SCT", "Nodule")
    LESION = ("52988006", "SCT", "Lesion")
    NEOPLASM = ("108369006", "SCT", "Neoplasm")
    ADRENAL = ("23451007", "SCT", "Adrenal gland")
    KIDNEY = ("64033007", "SCT", "Kidney")
    LIVER = ("10200004", "SCT", "Liver")
    LUNG = ("39607008", "SCT", "Lung")
    UPPER_LOBE = ("45653009", "SCT", "Upper lobe of lung")
    LYMPH_NODE = ("59441001", "SCT", "Lymph node")
    MEDIASTINUM = ("72410000", "SCT", "Mediastinum")
    LEFT = ("7771000", "SCT", "Left")
    RIGHT = ("24028007", "SCT", "Right")
    SUPERIOR = ("264217000", "SCT", "Superior")
    MEDIAL = ("255561001", "SCT", "Medial")
    POSTERIOR = ("255551008", "SCT", "Posterior")
    RECIST = ("126081", "DCM", "RECIST 1.1")
    SUV_METHOD = ("126410", "DCM", "SUV body weight calculation method")
    MEASURED = ("258104002", "SCT", "Measured")
    ESTIMATED = ("414135002", "SCT", "Estimated")
    T2 = ("110805", "DCM", "T2 Weighted MR Signal Intensity")
    T1 = ("110804", "DCM", "T1 Weighted MR Signal Intensity")
    HYPER = ("RID35805", "RADLEX", "Hyperintense")
    HYPO = ("RID35804", "RADLEX", "Hypointense")
    BOUNDARY = ("111357", "DCM", "Lesion boundary")
    CIRCUMSCRIBED = ("263706005", "SCT", "Circumscribed")
    SHAPE = ("300842002", "SCT", "Shape")
    ROUND = ("42700002", "SCT", "Round")
    IRREGULAR = ("49608001", "SCT", "Irregular")
    NECROSIS = ("6574001", "SCT", "Necrosis")
    PRESENT = ("52101004", "SCT", "Present")
    HETEROGENEOUS = ("RID6060", "RADLEX", "Heterogeneous")
    ABNORMAL = ("263654008", "SCT", "Abnormal")
    WB_MRI = ("126022", "DCM", "Multiparametric MRI of whole body")
    MR_PROSTATE = ("719178004", "SCT", "Multiparametric MRI of prostate")
    MR_ANY = ("25056-3", "LN", "MRI unspecified body region")
    CT_ANY = ("25045-6", "LN", "CT unspecified body region")
    CT_CHEST = ("24627-2", "LN", "CT Chest")
    PET_FDG = ("443271005", "SCT", "PET/CT FDG imaging of whole body")
    IMAGING_PROCEDURE = ("363679005", "SCT", "Imaging procedure")


def _code(triple):
    return _cc(*triple)


def _tid(identifier: str, uid: str | None = None):
    hd = _hd()
    return hd.sr.TrackingIdentifier(uid=uid or hd.UID(), identifier=identifier)


def _m(name, value, unit, **kw):
    """A highdicom TID 300 Measurement; code triples are converted."""
    hd = _hd()
    for key in ("derivation", "method"):
        if isinstance(kw.get(key), tuple):
            kw[key] = _code(kw[key])
    return hd.sr.Measurement(name=_code(name), value=value, unit=_code(unit), **kw)


def _qe(name, value):
    return _hd().sr.QualitativeEvaluation(_code(name), _code(value))


def _site(location, laterality=None, modifier=None):
    return _hd().sr.FindingSite(_code(location), laterality=_code(laterality) if laterality else None,
                                topographical_modifier=_code(modifier) if modifier else None)


def _group(identifier, *, finding=_C.MASS, sites=(), measurements=(), evaluations=(), uid=None, **kw):
    hd = _hd()
    return hd.sr.MeasurementsAndQualitativeEvaluations(
        tracking_identifier=_tid(identifier, uid), finding_type=_code(finding) if finding else None,
        finding_sites=list(sites) or None, measurements=list(measurements) or None,
        qualitative_evaluations=list(evaluations) or None, **kw)


def _person():
    hd = _hd()
    return hd.sr.ObservationContext(observer_person_context=hd.sr.ObserverContext(
        observer_type=hd.sr.CodedConcept("121006", "DCM", "Person"),
        observer_identifying_attributes=hd.sr.PersonObserverIdentifyingAttributes(name="Reader^One")))


def _hd_document(groups, procedure, evidence, *, kind: str = "comprehensive",
                 observer: bool = True, other_evidence=()):
    """A TID 1500 MeasurementReport in a Comprehensive / Comprehensive 3D / Enhanced SR."""
    hd = _hd()
    report = hd.sr.MeasurementReport(
        observation_context=_person() if observer else hd.sr.ObservationContext(),
        procedure_reported=_code(procedure), imaging_measurements=list(groups),
        referenced_images=evidence)
    cls = {"comprehensive": hd.sr.ComprehensiveSR, "3d": hd.sr.Comprehensive3DSR,
           "enhanced": hd.sr.EnhancedSR}[kind]
    return cls(evidence=list(evidence) + list(other_evidence), content=report[0],
               series_instance_uid=hd.UID(), series_number=70, sop_instance_uid=hd.UID(),
               instance_number=1, manufacturer="foreign-corpus", is_complete=True)


def _plain(dataset: Dataset) -> Dataset:
    """A highdicom object as the plain pydicom Dataset a reader would get (to patch it)."""
    import io
    buffer = io.BytesIO()
    dataset.save_as(buffer, enforce_file_format=True)
    buffer.seek(0)
    return pydicom.dcmread(buffer)


def _find(items, concept_value: str):
    """Depth-first: the first content item whose concept name has this code value."""
    for item in items or ():
        names = item.get("ConceptNameCodeSequence")
        if names and names[0].CodeValue == concept_value:
            return item
        found = _find(item.get("ContentSequence"), concept_value)
        if found is not None:
            return found
    return None


def _num_item(name, value, unit, relationship: str) -> Dataset:
    ds = Dataset()
    ds.RelationshipType = relationship
    ds.ValueType = "NUM"
    ds.ConceptNameCodeSequence = Sequence([_code_ds(name)])
    measured = Dataset()
    measured.NumericValue = value
    measured.MeasurementUnitsCodeSequence = Sequence([_code_ds(unit)])
    ds.MeasuredValueSequence = Sequence([measured])
    return ds


def _code_ds(triple) -> Dataset:
    ds = Dataset()
    ds.CodeValue, ds.CodingSchemeDesignator, ds.CodeMeaning = triple
    return ds


def _hd_entries(out: Path) -> list[tuple[str, str, Callable[[Path], Dataset], bool]]:
    """(name, description, build(path) -> dataset, patched) for every highdicom file."""
    hd = _hd()
    mr = _mr()
    ct = _ct()
    src = lambda ds: hd.sr.SourceImageForRegion(ds.SOPClassUID, ds.SOPInstanceUID)
    inputs = out / "inputs"

    def linear(path):
        g = _group("HD linear", sites=[_site(_C.ADRENAL, _C.LEFT)], measurements=[
            _m(_C.LONG_AXIS, 2.4, _C.CM, method=_C.RECIST),
            _m(_C.SHORT_AXIS, 1.6, _C.CM, method=_C.RECIST),
            _m(_C.LENGTH, 18.0, _C.MM),
            _m(_C.DIAMETER, 1.2, _C.CM)],
            evaluations=[_qe(_C.T2, _C.HYPER), _qe(_C.BOUNDARY, _C.CIRCUMSCRIBED)])
        return _hd_document([g], _C.WB_MRI, mr)

    def area_volume(path):
        groups = [
            _group("HD area", sites=[_site(_C.LIVER)], measurements=[
                _m(_C.AREA, 3.1, _C.CM2), _m(_C.AREA, 250.0, _C.MM2, method=_C.ESTIMATED)]),
            _group("HD volume ml", sites=[_site(_C.KIDNEY, _C.RIGHT)], measurements=[
                _m(_C.VOLUME, 4.2, _C.ML)]),
            _group("HD volume mm3", sites=[_site(_C.ADRENAL, _C.RIGHT)], measurements=[
                _m(_C.VOLUME, 800.0, _C.MM3)]),
            _group("HD two volumes", sites=[_site(_C.LIVER)], measurements=[
                _m(_C.VOLUME, 12.5, _C.CM3, method=_C.MEASURED),
                _m(_C.VOLUME, 14.0, _C.ML_UPPER, method=_C.ESTIMATED)]),
        ]
        return _hd_document(groups, _C.MR_ANY, mr)

    def pet_suv(path):
        g = _group("HD SUV", finding=_C.NEOPLASM, sites=[_site(_C.LYMPH_NODE), _site(_C.MEDIASTINUM)],
                   method=_code(_C.SUV_METHOD), measurements=[
                       _m(_C.SUVBW, 7.8, _C.SUV_UNIT, derivation=_C.MAXIMUM),
                       _m(_C.SUVBW, 5.9, _C.SUV_UNIT, derivation=_C.PEAK),
                       _m(_C.SUVBW, 4.1, _C.SUV_UNIT, derivation=_C.MEAN)],
                   evaluations=[_qe(_C.SHAPE, _C.IRREGULAR)])
        return _hd_document([g], _C.PET_FDG, [ct])

    def ct_hu(path):
        g = _group("HD nodule HU", finding=_C.NODULE,
                   sites=[_site(_C.UPPER_LOBE, _C.RIGHT, _C.POSTERIOR)], measurements=[
                       _m(_C.HU, 35.2, _C.HU_UNIT, derivation=_C.MEAN),
                       _m(_C.HU, -12.0, _C.HU_UNIT, derivation=_C.MINIMUM),
                       _m(_C.HU, 88.0, _C.HU_UNIT, derivation=_C.MAXIMUM),
                       _m(_C.HU, 14.1, _C.HU_UNIT, derivation=_C.SD),
                       _m(_C.DIAMETER, 0.9, _C.CM)],
                   evaluations=[_qe(_C.SHAPE, _C.ROUND)])
        return _hd_document([g], _C.CT_CHEST, [ct])

    def ct_any(path):
        g = _group("HD liver lesion", finding=_C.LESION, sites=[_site(_C.LIVER)], measurements=[
            _m(_C.LONG_AXIS, 31.0, _C.MM), _m(_C.SHORT_AXIS, 22.0, _C.MM),
            _m(_C.HU, 48.0, _C.HU_UNIT, derivation=_C.MEAN)])
        return _hd_document([g], _C.CT_ANY, [ct])

    def adc(path):
        groups = [
            _group("HD ADC um2/s", sites=[_site(_C.ADRENAL, _C.LEFT)], measurements=[
                _m(_C.ADC, 850.0, _C.UM2S, derivation=_C.MEAN),
                _m(_C.ADC, 610.0, _C.UM2S, derivation=_C.MINIMUM)],
                evaluations=[_qe(_C.T1, _C.HYPO)]),
            _group("HD ADC mm2/s", sites=[_site(_C.KIDNEY, _C.LEFT)], measurements=[
                _m(_C.ADC, 0.0011, _C.MM2S)]),
        ]
        return _hd_document(groups, _C.WB_MRI, mr)

    def properties(path):
        num = lambda name, v, unit: hd.sr.NumContentItem(
            name=_code(name), value=v, unit=_code(unit), relationship_type="HAS PROPERTIES")
        props = hd.sr.MeasurementProperties(
            normality=_code(_C.ABNORMAL),
            measurement_statistical_properties=hd.sr.MeasurementStatisticalProperties(
                values=[num(("121414", "DCM", "Standard deviation of population"), 3.5, _C.MM),
                        num(_C.MEAN, 20.0, _C.MM)], description="reference cohort"),
            upper_measurement_uncertainty=0.5, lower_measurement_uncertainty=0.4)
        g = _group("HD properties", sites=[_site(_C.ADRENAL, _C.LEFT)], measurements=[
            _m(_C.LONG_AXIS, 2.4, _C.CM, properties=props),
            _m(_C.VOLUME, 3.3, _C.ML)],
            evaluations=[_qe(_C.NECROSIS, _C.PRESENT)])
        return _hd_document([g], _C.WB_MRI, mr)

    def coordinates(path):
        m = _m(_C.DIAMETER, 1.7, _C.CM, referenced_coordinates=[hd.sr.CoordinatesForMeasurement(
            graphic_type="POLYLINE", graphic_data=np.array([[10.0, 12.0], [27.0, 12.0]]),
            source_image=src(mr[1]))], referenced_images=[
            hd.sr.SourceImageForMeasurement(mr[1].SOPClassUID, mr[1].SOPInstanceUID)])
        p = _m(_C.DIAMETER, 0.6, _C.CM, referenced_coordinates=[hd.sr.CoordinatesForMeasurement(
            graphic_type="POINT", graphic_data=np.array([[30.0, 31.0]]), source_image=src(mr[2]))])
        g = _group("HD measured on image", sites=[_site(_C.KIDNEY, _C.RIGHT)], measurements=[m, p])
        return _hd_document([g], _C.WB_MRI, mr)

    def inferred_num(path):
        g = _group("HD inferred volume", sites=[_site(_C.ADRENAL, _C.LEFT)], measurements=[
            _m(_C.VOLUME, 6.2, _C.ML), _m(_C.DIAMETER, 2.6, _C.CM)])
        sr = _plain(_hd_document([g], _C.WB_MRI, mr))
        volume = _find(sr.ContentSequence, _C.VOLUME[0])
        volume.ContentSequence = volume.get("ContentSequence") or Sequence()
        for name, value in ((_C.LONG_AXIS, 2.6), (_C.SHORT_AXIS, 2.1)):
            volume.ContentSequence.append(_num_item(name, value, _C.CM, "INFERRED FROM"))
        return sr

    def planar(path):
        region = hd.sr.ImageRegion(graphic_type="POLYLINE", graphic_data=np.array(
            [[10.0, 10.0], [30.0, 10.0], [30.0, 25.0], [10.0, 25.0], [10.0, 10.0]]),
            source_image=src(mr[0]))
        g = hd.sr.PlanarROIMeasurementsAndQualitativeEvaluations(
            tracking_identifier=_tid("HD planar polyline"), referenced_region=region,
            finding_type=_code(_C.MASS), finding_sites=[_site(_C.ADRENAL, _C.LEFT)],
            measurements=[_m(_C.AREA, 300.0, _C.MM2), _m(_C.LENGTH, 2.0, _C.CM),
                          _m(_C.ADC, 900.0, _C.UM2S, derivation=_C.MEAN)],
            qualitative_evaluations=[_qe(_C.T2, _C.HYPER)])
        point = hd.sr.ImageRegion(graphic_type="POINT", graphic_data=np.array([[40.0, 41.0]]),
                                  source_image=src(mr[1]))
        g2 = hd.sr.PlanarROIMeasurementsAndQualitativeEvaluations(
            tracking_identifier=_tid("HD planar point"), referenced_region=point,
            finding_type=_code(_C.NODULE), measurements=[_m(_C.DIAMETER, 4.0, _C.MM)])
        return _hd_document([g, g2], _C.WB_MRI, mr)

    def volumetric_3d(path):
        surface = hd.sr.VolumeSurface(
            graphic_type="ELLIPSOID", graphic_data=np.array(
                [[0, 0, 10], [0, 0, 20], [-5, 0, 15], [5, 0, 15], [0, -4, 15], [0, 4, 15]], dtype=float),
            frame_of_reference_uid=mr[0].FrameOfReferenceUID,
            source_images=[hd.sr.SourceImageForSegmentation(p.SOPClassUID, p.SOPInstanceUID) for p in mr])
        g = hd.sr.VolumetricROIMeasurementsAndQualitativeEvaluations(
            tracking_identifier=_tid("HD ellipsoid"), referenced_volume_surface=surface,
            finding_type=_code(_C.MASS), finding_sites=[_site(_C.ADRENAL, _C.RIGHT)],
            measurements=[_m(_C.VOLUME, 4.2, _C.ML), _m(_C.LONG_AXIS, 10.0, _C.MM),
                          _m(_C.SHORT_AXIS, 8.0, _C.MM)],
            qualitative_evaluations=[_qe(_C.SHAPE, _C.ROUND)])
        regions = [hd.sr.ImageRegion(graphic_type="POLYLINE", graphic_data=np.array(
            [[5.0, 5.0], [15.0, 5.0], [15.0, 15.0], [5.0, 5.0]]), source_image=src(ds)) for ds in mr]
        g2 = hd.sr.VolumetricROIMeasurementsAndQualitativeEvaluations(
            tracking_identifier=_tid("HD contours"), referenced_regions=regions,
            finding_type=_code(_C.LESION), measurements=[_m(_C.VOLUME, 1.9, _C.CM3)])
        return _hd_document([g, g2], _C.WB_MRI, mr, kind="3d")

    def volumetric_segment(path):
        seg = _seg(mr, ["lesion A", "lesion B"], inputs / "hd_seg_mr.dcm")
        groups = []
        for number, (label, volume, mean) in enumerate((("HD seg A", 2.5, 780.0),
                                                         ("HD seg B", 900.0, 1020.0)), start=1):
            ref = hd.sr.ReferencedSegment(
                sop_class_uid=seg.SOPClassUID, sop_instance_uid=seg.SOPInstanceUID,
                segment_number=number, source_series=hd.sr.SourceSeriesForSegmentation(
                    mr[0].SeriesInstanceUID))
            unit = _C.ML if number == 1 else _C.MM3
            groups.append(hd.sr.VolumetricROIMeasurementsAndQualitativeEvaluations(
                tracking_identifier=_tid(label), referenced_segment=ref, finding_type=_code(_C.MASS),
                finding_sites=[_site(_C.ADRENAL, _C.LEFT if number == 1 else _C.RIGHT)],
                measurements=[_m(_C.VOLUME, volume, unit),
                              _m(_C.ADC, mean, _C.UM2S, derivation=_C.MEAN)]))
        return _hd_document(groups, _C.WB_MRI, mr, other_evidence=[seg])

    def enhanced(path):
        groups = [_group("HD enhanced 1", sites=[_site(_C.LIVER)], measurements=[
                      _m(_C.DIAMETER, 2.2, _C.CM), _m(_C.VOLUME, 5.5, _C.ML)],
                      evaluations=[_qe(_C.BOUNDARY, _C.CIRCUMSCRIBED)]),
                  _group("HD enhanced 2", sites=[_site(_C.KIDNEY, _C.LEFT)], measurements=[
                      _m(_C.LONG_AXIS, 15.0, _C.MM), _m(_C.SHORT_AXIS, 9.0, _C.MM)])]
        return _hd_document(groups, _C.MR_ANY, mr, kind="enhanced")

    def multi_site(path):
        g = _group("HD multi-site", finding=_C.MASS, sites=[
            _site(_C.ADRENAL, _C.LEFT, _C.SUPERIOR), _site(_C.KIDNEY, _C.LEFT, _C.MEDIAL)],
            measurements=[_m(_C.LONG_AXIS, 3.1, _C.CM), _m(_C.SHORT_AXIS, 2.0, _C.CM)],
            evaluations=[_qe(_C.T2, _C.HYPER), _qe(_C.NECROSIS, _C.PRESENT)])
        return _hd_document([g], _C.WB_MRI, mr)

    def no_finding(path):
        g = _group("HD no finding type", finding=None, sites=[_site(_C.LIVER)],
                   measurements=[_m(_C.DIAMETER, 8.0, _C.MM), _m(_C.VOLUME, 0.3, _C.ML)])
        return _hd_document([g], _C.WB_MRI, mr)

    def shared_uid(path):
        uid = hd.UID()
        groups = [_group("HD shared A", uid=uid, sites=[_site(_C.ADRENAL, _C.LEFT)],
                         measurements=[_m(_C.DIAMETER, 1.0, _C.CM)]),
                  _group("HD shared B", uid=uid, sites=[_site(_C.ADRENAL, _C.LEFT)],
                         measurements=[_m(_C.DIAMETER, 1.4, _C.CM)])]
        return _hd_document(groups, _C.WB_MRI, mr)

    def text_procedure(path):
        g = _group("HD text procedure", sites=[_site(_C.LIVER)],
                   measurements=[_m(_C.DIAMETER, 2.0, _C.CM)])
        sr = _plain(_hd_document([g], _C.CT_ANY, [ct]))
        item = _find(sr.ContentSequence, "121058")
        item.ValueType = "TEXT"
        del item.ConceptCodeSequence
        item.TextValue = "CT abdomen with contrast"
        return sr

    def qualitative_only(path):
        g = _group("HD qualitative only", sites=[_site(_C.LIVER)], evaluations=[
            _qe(_C.BOUNDARY, _C.CIRCUMSCRIBED), _qe(_C.SHAPE, _C.ROUND),
            _qe(("RID6059", "RADLEX", "Enhancement pattern"), _C.HETEROGENEOUS)])
        return _hd_document([g], _C.CT_ANY, [ct])

    def algorithm(path):
        algo = hd.sr.AlgorithmIdentification(name="foreign-corpus-segmenter", version="1.0",
                                              parameters=["threshold=0.5"])
        g = _group("HD algorithm", sites=[_site(_C.LUNG, _C.LEFT)], algorithm_id=algo,
                   finding=_C.NODULE, session="session 1",
                   finding_category=_cc("49755003", "SCT", "Morphologically abnormal structure"),
                   measurements=[_m(_C.LONG_AXIS, 12.0, _C.MM, algorithm_id=algo),
                                 _m(_C.VOLUME, 0.9, _C.CM3)])
        return _hd_document([g], _C.CT_CHEST, [ct])

    def many_groups(path):
        groups = [_group(f"HD lesion {k}", sites=[_site(site, side)], measurements=[
            _m(_C.DIAMETER, d, _C.MM), _m(_C.VOLUME, v, _C.CM3)])
            for k, (site, side, d, v) in enumerate((
                (_C.ADRENAL, _C.LEFT, 26.0, 3.1), (_C.KIDNEY, _C.RIGHT, 14.0, 1.2),
                (_C.LIVER, None, 9.0, 0.4), (_C.ADRENAL, _C.RIGHT, 31.0, 5.0)), start=1)]
        return _hd_document(groups, _C.WB_MRI, mr, observer=False)

    def prostate(path):
        g = _group("HD prostate", finding=_C.LESION, sites=[_site(("41216001", "SCT", "Prostate"))],
                   measurements=[_m(_C.DIAMETER, 1.1, _C.CM),
                                 _m(_C.ADC, 720.0, _C.UM2S, derivation=_C.MEAN)],
                   evaluations=[_qe(_C.T2, _C.HYPO)])
        return _hd_document([g], _C.MR_PROSTATE, mr)

    def kos(path):
        return hd.ko.KeyObjectSelectionDocument(
            evidence=mr, content=hd.ko.KeyObjectSelection(
                document_title=_cc("113000", "DCM", "Of Interest"), referenced_objects=mr,
                description="key images of the left adrenal mass"),
            series_instance_uid=hd.UID(), series_number=71, sop_instance_uid=hd.UID(),
            instance_number=1, manufacturer="foreign-corpus")

    return [
        ("hd_linear_cm", "Comprehensive SR, TID 1501: Long Axis/Short Axis (cm, method RECIST), "
         "Length mm, Diameter cm; site + laterality; 2 CODE evaluations", linear, False),
        ("hd_area_volume", "Comprehensive SR, 4 TID 1501 groups: Area cm2 and mm2, Volume ml, "
         "Volume mm3, two Volumes (cm3, mL) in one group with methods", area_volume, False),
        ("hd_pet_suv", "PET/CT FDG: SUVbw {SUVbw}g/ml with derivation Maximum, Peak, Mean; two "
         "finding sites; method SUV bw", pet_suv, False),
        ("hd_ct_hu", "CT chest: Attenuation Coefficient [hnsf'U] mean/min/max/SD, Diameter cm; "
         "site with laterality and topographical modifier", ct_hu, False),
        ("hd_ct_liver", "CT unspecified: Long/Short Axis mm, HU mean", ct_any, False),
        ("hd_adc", "WB-MRI: ADC um2/s mean + minimum; ADC mm2/s without derivation", adc, False),
        ("hd_properties", "Long Axis with MeasurementProperties (normality, population mean/SD "
         "NUMs and uncertainty NUMs nested HAS PROPERTIES); Volume ml", properties, False),
        ("hd_coordinates", "Diameters with SCOORD POLYLINE/POINT and IMAGE nested under the NUM "
         "(INFERRED FROM / source of measurement)", coordinates, False),
        ("hd_inferred_num", "Volume with two NUMs (Long/Short Axis cm) nested INFERRED FROM "
         "(added with pydicom)", inferred_num, True),
        ("hd_planar", "TID 1410 groups: SCOORD POLYLINE (Area mm2, Length cm, ADC mean) and "
         "SCOORD POINT (Diameter mm)", planar, False),
        ("hd_volumetric_3d", "Comprehensive 3D SR, TID 1411: SCOORD3D ELLIPSOID volume surface "
         "(Volume ml, Long/Short Axis mm) and a group of SCOORD contours", volumetric_3d, False),
        ("hd_volumetric_segment", "TID 1411 groups referencing segments of a highdicom SEG: "
         "Volume ml / mm3, ADC mean um2/s", volumetric_segment, False),
        ("hd_enhanced", "Enhanced SR, 2 TID 1501 groups: Diameter cm, Volume ml, Long/Short "
         "Axis mm", enhanced, False),
        ("hd_multi_site", "two finding sites each with laterality and topographical modifier; "
         "Long/Short Axis cm; 2 evaluations", multi_site, False),
        ("hd_no_finding_type", "TID 1501 group without Finding: Diameter mm, Volume ml",
         no_finding, False),
        ("hd_shared_tracking_uid", "two groups sharing one Tracking UID (highdicom accepts it)",
         shared_uid, False),
        ("hd_text_procedure", "Procedure reported as TEXT (CODE changed to TEXT with pydicom)",
         text_procedure, True),
        ("hd_qualitative_only", "group with three CODE evaluations and no NUM",
         qualitative_only, False),
        ("hd_algorithm", "group with algorithm identification, session, finding category; "
         "Long Axis mm, Volume cm3", algorithm, False),
        ("hd_many_groups", "4 groups Diameter mm + Volume cm3 (device observer)", many_groups, False),
        ("hd_prostate", "Multiparametric MRI of prostate: Diameter cm, ADC mean um2/s",
         prostate, False),
        ("hd_kos", "Key Object Selection Document (highdicom KeyObjectSelectionDocument)", kos, False),
    ]


def build_highdicom(out: Path) -> list[Entry]:
    entries = []
    for name, description, build, patched in _hd_entries(out):
        path = out / f"{name}.dcm"
        dataset = build(path)
        dataset.save_as(path, enforce_file_format=True)
        entries.append(Entry(path, "highdicom", name, description, provenance("highdicom"), patched))
    return entries


# ---- dcmqi --------------------------------------------------------------------------------
def _json_code(triple) -> dict:
    return {"CodeValue": triple[0], "CodingSchemeDesignator": triple[1], "CodeMeaning": triple[2]}


def _item(value, quantity, units, derivation=None, **extra) -> dict:
    item = {"value": str(value), "quantity": _json_code(quantity), "units": _json_code(units)}
    if derivation:
        item["derivationModifier"] = _json_code(derivation)
    item.update(extra)
    return item


def _tid1500writer() -> str:
    found = shutil.which("tid1500writer")
    if found:
        return found
    try:
        import dcmqi  # the PyPI wheel ships the binaries
        candidate = Path(dcmqi.__file__).parent / "bin" / "tid1500writer"
        if candidate.exists():
            return str(candidate)
    except ImportError:
        pass
    raise ToolMissing("dcmqi tid1500writer not installed (pip install dcmqi)")


def _dcmqi_cases(out: Path) -> list[tuple[str, str, str, dict]]:
    """(name, description, image set 'mr'|'ct', meta JSON without context lists)."""
    person = {"ObserverType": "PERSON", "PersonObserverName": "Reader^Two"}
    device = {"ObserverType": "DEVICE", "DeviceObserverName": "corpus-device",
              "DeviceObserverUID": "2.25.1234567890123456789", "DeviceObserverManufacturer": "corpus"}
    mean, maximum, minimum, sd = _C.MEAN, _C.MAXIMUM, _C.MINIMUM, _C.SD
    modifier = {"modifier": _json_code(("106233006", "SCT", "Topographical modifier")),
                "modifierValue": _json_code(_C.MEDIAL)}
    num_property = {"numProperty": _json_code(("121414", "DCM", "Standard deviation of population")),
                    "numPropertyValue": "12.5", "numPropertyUnits": _json_code(_C.UM2S)}
    derivation_parameter = {
        "derivationParameter": _json_code(("112032", "DCM", "Threshold Attenuation Coefficient")),
        "derivationParameterValue": "-300", "derivationParameterUnits": _json_code(_C.HU_UNIT)}
    return [
        ("dcmqi_mr_wb", "TID 1411 x2 on an MR SEG: Volume cm3/ml, ADC mean/max/SD um2/s, method, "
         "qualitative CODE + TEXT evaluations, FindingSite + Laterality", "mr", {
            "observerContext": person, "procedureReported": _json_code(_C.WB_MRI),
            "Measurements": [
                {"TrackingIdentifier": "dcmqi lesion A", "ReferencedSegment": 1,
                 "Finding": _json_code(_C.MASS), "FindingSite": _json_code(_C.ADRENAL),
                 "Laterality": _json_code(_C.LEFT), "MeasurementMethod": _json_code(_C.MEASURED),
                 "measurementItems": [
                     _item(2.5, _C.VOLUME, _C.CM3),
                     _item(812.5, _C.ADC, _C.UM2S, mean),
                     _item(1104.0, _C.ADC, _C.UM2S, maximum),
                     _item(97.25, _C.ADC, _C.UM2S, sd)],
                 "qualitativeEvaluations": [
                     {"conceptCode": _json_code(_C.T2), "conceptValue": _json_code(_C.HYPER)},
                     {"conceptCode": _json_code(("121106", "DCM", "Comment")),
                      "conceptValue": "well defined, no invasion"}]},
                {"TrackingIdentifier": "dcmqi lesion B", "ReferencedSegment": 2,
                 "Finding": _json_code(_C.MASS), "FindingSite": _json_code(_C.KIDNEY),
                 "Laterality": _json_code(_C.RIGHT),
                 "measurementItems": [
                     _item(0.75, _C.VOLUME, _C.ML),
                     _item(640.0, _C.ADC, _C.UM2S, minimum)]}]}),
        ("dcmqi_mr_modifiers", "TID 1411 with per-item measurementModifiers (topographical "
         "modifier), a NUM property (HAS PROPERTIES NUM) and a device observer; MR, procedure "
         "MRI unspecified", "mr", {
            "observerContext": device, "procedureReported": _json_code(_C.MR_ANY),
            "Measurements": [
                {"TrackingIdentifier": "dcmqi modified", "ReferencedSegment": 1,
                 "Finding": _json_code(_C.LESION), "FindingSite": _json_code(_C.LIVER),
                 "measurementItems": [
                     _item(450.0, _C.ADC, _C.UM2S, mean, measurementModifiers=[modifier],
                           measurementNumProperties=[num_property]),
                     _item(3.25, _C.VOLUME, _C.CM3)]}]}),
        ("dcmqi_ct_imaging_procedure", "CT (CT_small) SEG, procedureReported SCT 363679005 "
         "'Imaging procedure': HU mean/min/max/SD, Volume ml, a derivation parameter NUM",
         "ct", {
            "observerContext": person, "procedureReported": _json_code(_C.IMAGING_PROCEDURE),
            "Measurements": [
                {"TrackingIdentifier": "dcmqi CT lesion", "ReferencedSegment": 1,
                 "Finding": _json_code(_C.LESION), "FindingSite": _json_code(_C.LIVER),
                 "MeasurementMethod": _json_code(_C.MEASURED),
                 "measurementItems": [
                     _item(37.3, _C.HU, _C.HU_UNIT, mean,
                           measurementDerivationParameters=[derivation_parameter]),
                     _item(-20.0, _C.HU, _C.HU_UNIT, minimum),
                     _item(96.0, _C.HU, _C.HU_UNIT, maximum),
                     _item(18.4, _C.HU, _C.HU_UNIT, sd),
                     _item(1.8, _C.VOLUME, _C.ML)],
                 "qualitativeEvaluations": [
                     {"conceptCode": _json_code(_C.SHAPE), "conceptValue": _json_code(_C.ROUND)}]}]}),
        ("dcmqi_ct_default_procedure", "CT SEG, no procedureReported (dcmqi writes its default "
         "'Imaging procedure'); two segments, Volume mL and HU mean", "ct", {
            "observerContext": device,
            "Measurements": [
                {"TrackingIdentifier": f"dcmqi CT {k}", "ReferencedSegment": k,
                 "Finding": _json_code(_C.NODULE), "FindingSite": _json_code(_C.LUNG),
                 "Laterality": _json_code(_C.LEFT if k == 1 else _C.RIGHT),
                 "measurementItems": [_item(v, _C.VOLUME, _C.ML_UPPER), _item(h, _C.HU, _C.HU_UNIT, mean)]}
                for k, v, h in ((1, 0.42, -610.0), (2, 1.35, 22.5))]}),
    ]


def build_dcmqi(out: Path) -> list[Entry]:
    writer = _tid1500writer()
    inputs = out / "inputs"
    mr_images = _mr()
    ct = _ct()
    ct_dir = inputs / "ct"
    ct_dir.mkdir(parents=True, exist_ok=True)
    shutil.copy(_ct_path(), ct_dir / "CT_small.dcm")
    segs = {"mr": _seg(mr_images, ["lesion A", "lesion B"], inputs / "dcmqi_seg_mr.dcm"),
            "ct": _seg([ct], ["lesion 1", "lesion 2"], inputs / "dcmqi_seg_ct.dcm")}
    seg_names = {"mr": "dcmqi_seg_mr.dcm", "ct": "dcmqi_seg_ct.dcm"}
    libraries = {"mr": (MR_DIR, [p.name for p in _mr_paths()], mr_images[0]),
                 "ct": (ct_dir, ["CT_small.dcm"], ct)}
    entries = []
    for name, description, images, meta in _dcmqi_cases(out):
        library_dir, library, first = libraries[images]
        seg = segs[images]
        document = {
            "@schema": "https://raw.githubusercontent.com/qiicr/dcmqi/master/doc/schemas/sr-tid1500-schema.json#",
            "SeriesDescription": name, "SeriesNumber": "72", "InstanceNumber": "1",
            "compositeContext": [seg_names[images]], "imageLibrary": library,
            "VerificationFlag": "UNVERIFIED", "CompletionFlag": "COMPLETE",
            "activitySession": "1", "timePoint": "1", **meta}
        for group in document["Measurements"]:
            group["SourceSeriesForImageSegmentation"] = str(first.SeriesInstanceUID)
            group["segmentationSOPInstanceUID"] = str(seg.SOPInstanceUID)
        meta_path = inputs / f"{name}.json"
        meta_path.write_text(json.dumps(document, indent=1))
        path = out / f"{name}.dcm"
        proc = subprocess.run([writer, "--inputMetadata", str(meta_path), "--outputDICOM", str(path),
                               "--inputCompositeContextDirectory", str(inputs),
                               "--inputImageLibraryDirectory", str(library_dir)],
                              capture_output=True, text=True, timeout=120)
        if proc.returncode != 0 or not path.exists():
            raise RuntimeError(f"tid1500writer failed on {meta_path}: {proc.stdout[-800:]} {proc.stderr[-800:]}")
        entries.append(Entry(path, "dcmqi", name, description, provenance("dcmqi")))
    return entries


# ---- DCMTK xml2dsr ------------------------------------------------------------------------
class _X:
    """Builds DCMTK's XML (the dsr2xml / xml2dsr format, /usr/share/dcmtk/dsr2xml.xsd)."""

    @staticmethod
    def code_children(parent: ET.Element, triple) -> None:
        ET.SubElement(parent, "value").text = triple[0]
        scheme = ET.SubElement(parent, "scheme")
        ET.SubElement(scheme, "designator").text = triple[1]
        ET.SubElement(parent, "meaning").text = triple[2]

    @classmethod
    def _item(cls, tag: str, relationship: str | None, concept, children=()) -> ET.Element:
        element = ET.Element(tag)
        if relationship:
            ET.SubElement(element, "relationship").text = relationship
        if concept:
            cls.code_children(ET.SubElement(element, "concept"), concept)
        for child in children:
            element.append(child)
        return element

    @classmethod
    def container(cls, relationship, concept, children, template: str | None = None,
                  flag: str = "SEPARATE") -> ET.Element:
        element = ET.Element("container", flag=flag)
        if template:
            t = ET.SubElement(element, "template")
            ET.SubElement(t, "resource").text = "DCMR"
            ET.SubElement(t, "id").text = template
        if relationship:
            ET.SubElement(element, "relationship").text = relationship
        cls.code_children(ET.SubElement(element, "concept"), concept)
        for child in children:
            element.append(child)
        return element

    @classmethod
    def code(cls, relationship, concept, value, children=()) -> ET.Element:
        element = cls._item("code", relationship, concept, children)
        cls.code_children(element, value)
        return element

    @classmethod
    def num(cls, relationship, concept, value, unit, children=()) -> ET.Element:
        element = cls._item("num", relationship, concept, children)
        ET.SubElement(element, "value").text = str(value)
        cls.code_children(ET.SubElement(element, "unit"), unit)
        return element

    @classmethod
    def text(cls, relationship, concept, value, children=()) -> ET.Element:
        element = cls._item("text", relationship, concept, children)
        ET.SubElement(element, "value").text = value
        return element

    @classmethod
    def uidref(cls, relationship, concept, value) -> ET.Element:
        element = cls._item("uidref", relationship, concept)
        ET.SubElement(element, "value").text = value
        return element

    @classmethod
    def datetime(cls, relationship, concept, value) -> ET.Element:
        element = cls._item("datetime", relationship, concept)
        ET.SubElement(element, "value").text = value
        return element

    @classmethod
    def pname(cls, relationship, concept, first, last) -> ET.Element:
        element = cls._item("pname", relationship, concept)
        value = ET.SubElement(element, "value")
        ET.SubElement(value, "first").text = first
        ET.SubElement(value, "last").text = last
        return element

    @classmethod
    def image(cls, relationship, concept, sop_class, sop_class_name, sop_instance,
              segments: str | None = None, children=()) -> ET.Element:
        element = cls._item("image", relationship, concept, children)
        value = ET.SubElement(element, "value")
        ET.SubElement(value, "sopclass", uid=sop_class).text = sop_class_name
        ET.SubElement(value, "instance", uid=sop_instance)
        if segments:
            ET.SubElement(value, "segments").text = segments
        return element

    @classmethod
    def scoord(cls, relationship, concept, graphic_type, data, children=()) -> ET.Element:
        element = cls._item("scoord", relationship, concept, children)
        element.set("type", graphic_type)
        ET.SubElement(element, "data").text = data
        return element

    @classmethod
    def scoord3d(cls, relationship, concept, graphic_type, data, frame_of_reference) -> ET.Element:
        element = cls._item("scoord3d", relationship, concept)
        element.set("type", graphic_type)
        ET.SubElement(element, "data", uid=frame_of_reference).text = data
        return element

    @staticmethod
    def document(report_type: str, sop_class: str, sop_name: str, root: ET.Element, *,
                 uid_root: str, patient=("CORPUS-DCMTK", "Corpus", "Dcmtk"),
                 completion: str | None = "COMPLETE", verification: str | None = "UNVERIFIED",
                 evidence: list[tuple[str, str, str, str, str]] = ()) -> bytes:
        report = ET.Element("report", type=report_type)
        ET.SubElement(report, "sopclass", uid=sop_class).text = sop_name
        ET.SubElement(report, "charset").text = "ISO_IR 100"
        ET.SubElement(report, "modality").text = "KO" if "KeyObject" in sop_name else "SR"
        device = ET.SubElement(report, "device")
        ET.SubElement(device, "manufacturer").text = "foreign-corpus"
        ET.SubElement(device, "model").text = "DCMTK xml2dsr"
        ET.SubElement(device, "serial").text = "1"
        ET.SubElement(device, "version").text = _deb("dcmtk")
        p = ET.SubElement(report, "patient")
        ET.SubElement(p, "id").text = patient[0]
        name = ET.SubElement(p, "name")
        ET.SubElement(name, "first").text = patient[2]
        ET.SubElement(name, "last").text = patient[1]
        ET.SubElement(p, "sex").text = "O"
        study = ET.SubElement(report, "study", uid=f"{uid_root}.1")
        ET.SubElement(study, "id").text = "CORPUS"
        ET.SubElement(study, "date").text = "2024-05-06"
        ET.SubElement(study, "time").text = "10:11:12"
        series = ET.SubElement(report, "series", uid=f"{uid_root}.2")
        ET.SubElement(series, "number").text = "73"
        instance = ET.SubElement(report, "instance", uid=f"{uid_root}.3")
        ET.SubElement(instance, "number").text = "1"
        if evidence:
            ev = ET.SubElement(report, "evidence", type="Current Requested Procedure")
            studies: dict[str, dict[str, list]] = {}
            for study_uid, series_uid, sop_class_uid, sop_class_name, sop_uid in evidence:
                studies.setdefault(study_uid, {}).setdefault(series_uid, []).append(
                    (sop_class_uid, sop_class_name, sop_uid))
            for study_uid, series_map in studies.items():
                s = ET.SubElement(ev, "study", uid=study_uid)
                for series_uid, refs in series_map.items():
                    se = ET.SubElement(s, "series", uid=series_uid)
                    for sop_class_uid, sop_class_name, sop_uid in refs:
                        value = ET.SubElement(se, "value")
                        ET.SubElement(value, "sopclass", uid=sop_class_uid).text = sop_class_name
                        ET.SubElement(value, "instance", uid=sop_uid)
        document = ET.SubElement(report, "document")
        if completion:
            ET.SubElement(document, "completion", flag=completion)
        if verification:
            ET.SubElement(document, "verification", flag=verification)
        content = ET.SubElement(document, "content")
        ET.SubElement(content, "date").text = "2024-05-06"
        ET.SubElement(content, "time").text = "10:30:00"
        content.append(root)
        body = ET.tostring(report, encoding="ISO-8859-1").split(b"?>", 1)[-1].lstrip()
        return b'<?xml version="1.0" encoding="ISO-8859-1"?>\n' + body


CONTAINS, HAS_CONCEPT_MOD, HAS_OBS_CONTEXT, HAS_PROPERTIES, HAS_ACQ_CONTEXT, INFERRED_FROM = (
    "CONTAINS", "HAS CONCEPT MOD", "HAS OBS CONTEXT", "HAS PROPERTIES", "HAS ACQ CONTEXT", "INFERRED FROM")
_UID_ROOT = "1.2.826.0.1.3680043.10.1447.7"  # fixed, so the DCMTK inputs are reproducible


def _dcmtk_observer(x=_X) -> list[ET.Element]:
    return [x.code(HAS_OBS_CONTEXT, ("121005", "DCM", "Observer Type"), ("121007", "DCM", "Device")),
            x.uidref(HAS_OBS_CONTEXT, ("121012", "DCM", "Device Observer UID"), f"{_UID_ROOT}.99"),
            x.text(HAS_OBS_CONTEXT, ("121013", "DCM", "Device Observer Name"), "corpus-modality")]


def _xray_dose() -> ET.Element:
    x = _X
    events = []
    for k, (dap, dose, kvp, ms) in enumerate(((1.2e-5, 0.0021, 70, 125.0), (2.4e-5, 0.0039, 81, 200.0)), 1):
        events.append(x.container(CONTAINS, ("113706", "DCM", "Irradiation Event X-Ray Data"), [
            x.code(CONTAINS, ("113764", "DCM", "Acquisition Plane"), ("113622", "DCM", "Single Plane")),
            x.uidref(CONTAINS, ("113769", "DCM", "Irradiation Event UID"), f"{_UID_ROOT}.10.{k}"),
            x.datetime(CONTAINS, ("111526", "DCM", "DateTime Started"), f"2024-05-06T10:1{k}:00"),
            x.code(CONTAINS, ("113721", "DCM", "Irradiation Event Type"),
                   ("113611", "DCM", "Stationary Acquisition")),
            x.num(CONTAINS, ("122130", "DCM", "Dose Area Product"), dap, ("Gy.m2", "UCUM", "Gy.m2")),
            x.num(CONTAINS, ("113738", "DCM", "Dose (RP)"), dose, ("Gy", "UCUM", "Gy")),
            x.num(CONTAINS, ("113733", "DCM", "KVP"), kvp, ("kV", "UCUM", "kV")),
            x.num(CONTAINS, ("113824", "DCM", "Exposure Time"), ms, ("ms", "UCUM", "ms")),
        ], template="10003"))
    accumulated = x.container(CONTAINS, ("113702", "DCM", "Accumulated X-Ray Dose Data"), [
        x.code(HAS_CONCEPT_MOD, ("113764", "DCM", "Acquisition Plane"), ("113622", "DCM", "Single Plane")),
        x.container(CONTAINS, ("113702", "DCM", "Accumulated X-Ray Dose Data"), [
            x.num(CONTAINS, ("113722", "DCM", "Dose Area Product Total"), 3.6e-5, ("Gy.m2", "UCUM", "Gy.m2")),
            x.num(CONTAINS, ("113725", "DCM", "Dose (RP) Total"), 0.006, ("Gy", "UCUM", "Gy")),
            x.num(CONTAINS, ("113731", "DCM", "Total Number of Radiographic Frames"), 2,
                  ("1", "UCUM", "no units")),
        ], template="10004"),
    ], template="10002")
    return x.container(None, ("113701", "DCM", "X-Ray Radiation Dose Report"), [
        x.code(HAS_CONCEPT_MOD, ("121058", "DCM", "Procedure reported"), ("113704", "DCM", "Projection X-Ray"),
               [x.code(HAS_CONCEPT_MOD, ("363703001", "SCT", "Has Intent"),
                       ("261004008", "SCT", "Diagnostic Intent"))]),
        *_dcmtk_observer(),
        x.code(HAS_OBS_CONTEXT, ("113705", "DCM", "Scope of Accumulation"), ("113014", "DCM", "Study"),
               [x.uidref(HAS_PROPERTIES, ("110180", "DCM", "Study Instance UID"), f"{_UID_ROOT}.20.1")]),
        accumulated, *events,
        x.code(CONTAINS, ("113854", "DCM", "Source of Dose Information"),
               ("113856", "DCM", "Automated Data Collection")),
    ], template="10001")


def _ct_dose() -> ET.Element:
    x = _X
    acquisitions = []
    for k, (ctdi, dlp, length) in enumerate(((12.3, 456.7, 350.0), (8.1, 120.5, 140.0)), 1):
        acquisitions.append(x.container(CONTAINS, ("113819", "DCM", "CT Acquisition"), [
            x.text(CONTAINS, ("125203", "DCM", "Acquisition Protocol"), f"Protocol {k}"),
            x.code(CONTAINS, ("123014", "DCM", "Target Region"), ("818981001", "SCT", "Abdomen")),
            x.code(CONTAINS, ("113820", "DCM", "CT Acquisition Type"), ("116152004", "SCT", "Spiral Acquisition")),
            x.uidref(CONTAINS, ("113769", "DCM", "Irradiation Event UID"), f"{_UID_ROOT}.11.{k}"),
            x.container(CONTAINS, ("113822", "DCM", "CT Acquisition Parameters"), [
                x.num(CONTAINS, ("113824", "DCM", "Exposure Time"), 4.5, ("s", "UCUM", "s")),
                x.num(CONTAINS, ("113825", "DCM", "Scanning Length"), length, ("mm", "UCUM", "mm")),
            ]),
            x.container(CONTAINS, ("113829", "DCM", "CT Dose"), [
                x.num(CONTAINS, ("113830", "DCM", "Mean CTDIvol"), ctdi, ("mGy", "UCUM", "mGy")),
                x.num(CONTAINS, ("113838", "DCM", "DLP"), dlp, ("mGy.cm", "UCUM", "mGy.cm")),
            ]),
        ], template="10013"))
    return x.container(None, ("113701", "DCM", "X-Ray Radiation Dose Report"), [
        x.code(HAS_CONCEPT_MOD, ("121058", "DCM", "Procedure reported"),
               ("77477000", "SCT", "Computed Tomography X-Ray")),
        *_dcmtk_observer(),
        x.code(HAS_OBS_CONTEXT, ("113705", "DCM", "Scope of Accumulation"), ("113014", "DCM", "Study"),
               [x.uidref(HAS_PROPERTIES, ("110180", "DCM", "Study Instance UID"), f"{_UID_ROOT}.20.2")]),
        x.container(CONTAINS, ("113811", "DCM", "CT Accumulated Dose Data"), [
            x.num(CONTAINS, ("113812", "DCM", "Total Number of Irradiation Events"), 2,
                  ("{events}", "UCUM", "events")),
            x.num(CONTAINS, ("113813", "DCM", "CT Dose Length Product Total"), 577.2,
                  ("mGy.cm", "UCUM", "mGy.cm")),
        ], template="10012"),
        *acquisitions,
    ], template="10011")


def _radiopharmaceutical_dose() -> ET.Element:
    x = _X
    return x.container(None, ("113500", "DCM", "Radiopharmaceutical Radiation Dose Report"), [
        x.code(HAS_CONCEPT_MOD, ("121058", "DCM", "Procedure reported"),
               ("44139-4", "LN", "PET whole body")),
        x.container(CONTAINS, ("113502", "DCM", "Radiopharmaceutical Administration"), [
            x.code(CONTAINS, ("349358000", "SCT", "Radiopharmaceutical agent"),
                   ("35321007", "SCT", "Fluorodeoxyglucose F^18^")),
            x.code(CONTAINS, ("89457008", "SCT", "Radionuclide"), ("77004003", "SCT", "^18^Fluorine")),
            x.uidref(CONTAINS, ("113503", "DCM", "Radiopharmaceutical Administration Event UID"),
                     f"{_UID_ROOT}.12.1"),
            x.datetime(CONTAINS, ("123003", "DCM", "Radiopharmaceutical Start DateTime"), "2024-05-06T09:00:00"),
            x.num(CONTAINS, ("113507", "DCM", "Administered activity"), 250.0, ("MBq", "UCUM", "MBq")),
            x.code(CONTAINS, ("410675002", "SCT", "Route of administration"),
                   ("47625008", "SCT", "Intravenous route")),
        ], template="10022"),
    ], template="10021")


def _basic_text() -> ET.Element:
    x = _X
    return x.container(None, ("11528-7", "LN", "Radiology Report"), [
        x.container(CONTAINS, ("121070", "DCM", "Findings"), [
            x.text(CONTAINS, ("121071", "DCM", "Finding"),
                   "Left adrenal mass of 26 mm, hyperintense on T2."),
            x.text(CONTAINS, ("121071", "DCM", "Finding"), "No other lesion."),
        ]),
        x.container(CONTAINS, ("121076", "DCM", "Conclusions"), [
            x.text(CONTAINS, ("121077", "DCM", "Conclusion"), "Adrenal neuroblastic tumour likely."),
        ]),
    ])


def _tid1500(srt: bool, with_3d: bool = False, evidence=None) -> ET.Element:
    """TID 1500 written by hand in DCMTK XML; ``srt``: old SNOMED-RT (SRT) codes throughout."""
    x = _X
    s = (lambda sct, srt_code, meaning: (srt_code, "SRT", meaning)) if srt else \
        (lambda sct, srt_code, meaning: (sct, "SCT", meaning))
    finding_site = s("363698007", "G-C0E3", "Finding Site")
    laterality = s("272741003", "G-C171", "Laterality")
    left = s("7771000", "G-A101", "Left")
    derivation = ("121401", "DCM", "Derivation")
    group_items = [
        x.text(HAS_OBS_CONTEXT, ("112039", "DCM", "Tracking Identifier"), "DCMTK lesion 1"),
        x.uidref(HAS_OBS_CONTEXT, ("112040", "DCM", "Tracking Unique Identifier"),
                 f"{_UID_ROOT}.30.{1 + int(srt) + 2 * int(with_3d)}"),
        x.code(CONTAINS, ("121071", "DCM", "Finding"), s("4147007", "M-03000", "Mass")),
        x.code(HAS_CONCEPT_MOD, finding_site, s("23451007", "T-B3000", "Adrenal gland"),
               [x.code(HAS_CONCEPT_MOD, laterality, left)]),
        x.num(CONTAINS, s("103339001", "G-A185", "Long Axis"), 2.6, ("cm", "UCUM", "cm")),
        x.num(CONTAINS, s("103340004", "G-A186", "Short Axis"), 1.1, ("cm", "UCUM", "cm")),
        x.num(CONTAINS, s("118565006", "G-D705", "Volume"), 3.9, ("ml", "UCUM", "ml")),
        x.num(CONTAINS, ("113041", "DCM", "Apparent Diffusion Coefficient"), 790, ("um2/s", "UCUM", "um2/s"),
              [x.code(HAS_CONCEPT_MOD, derivation, s("373098007", "R-00317", "Mean"))]),
        x.code(CONTAINS, ("110805", "DCM", "T2 Weighted MR Signal Intensity"),
               ("RID35805", "RADLEX", "Hyperintense")),
    ]
    if with_3d:
        group_items.append(x.scoord3d(CONTAINS, ("111030", "DCM", "Image Region"), "POINT",
                                      "12.5/-30.25/101", f"{_UID_ROOT}.40"))
    group2 = [
        x.text(HAS_OBS_CONTEXT, ("112039", "DCM", "Tracking Identifier"), "DCMTK lesion 2"),
        x.uidref(HAS_OBS_CONTEXT, ("112040", "DCM", "Tracking Unique Identifier"),
                 f"{_UID_ROOT}.31.{1 + int(srt) + 2 * int(with_3d)}"),
        x.code(HAS_CONCEPT_MOD, finding_site, s("10200004", "T-62000", "Liver")),
        x.num(CONTAINS, s("81827009", "M-02550", "Diameter"), 14, ("mm", "UCUM", "mm")),
        x.num(CONTAINS, ("112031", "DCM", "Attenuation Coefficient"), 41.5, ("[hnsf'U]", "UCUM", "Hounsfield unit"),
              [x.code(HAS_CONCEPT_MOD, derivation, s("56851009", "G-A437", "Maximum"))]),
    ]
    children = [
        x.code(HAS_CONCEPT_MOD, ("121049", "DCM", "Language of Content Item and Descendants"),
               ("eng", "RFC5646", "English")),
        x.code(HAS_OBS_CONTEXT, ("121005", "DCM", "Observer Type"), ("121006", "DCM", "Person")),
        x.pname(HAS_OBS_CONTEXT, ("121008", "DCM", "Person Observer Name"), "Three", "Reader"),
        x.code(HAS_CONCEPT_MOD, ("121058", "DCM", "Procedure reported"),
               s("363679005", "P0-0099A", "Imaging procedure") if srt
               else ("25056-3", "LN", "MRI unspecified body region")),
    ]
    if evidence:
        children.append(x.container(CONTAINS, ("111028", "DCM", "Image Library"), [
            x.container(CONTAINS, ("126200", "DCM", "Image Library Group"), [
                x.image(CONTAINS, None, cls_uid, cls_name, sop) for _, _, cls_uid, cls_name, sop in evidence])]))
    children.append(x.container(CONTAINS, ("126010", "DCM", "Imaging Measurements"), [
        x.container(CONTAINS, ("125007", "DCM", "Measurement Group"), group_items, template="1501"),
        x.container(CONTAINS, ("125007", "DCM", "Measurement Group"), group2, template="1501"),
    ]))
    return x.container(None, ("126000", "DCM", "Imaging Measurement Report"), children, template="1500")


def _key_object(evidence) -> ET.Element:
    x = _X
    return x.container(None, ("113000", "DCM", "Of Interest"), [
        x.text(CONTAINS, ("113012", "DCM", "Key Object Description"), "images with the adrenal mass"),
        *[x.image(CONTAINS, None, cls_uid, cls_name, sop) for _, _, cls_uid, cls_name, sop in evidence],
    ])


def _xml2dsr() -> str:
    found = shutil.which("xml2dsr")
    if not found:
        raise ToolMissing("DCMTK xml2dsr not installed (apt-get install dcmtk)")
    return found


def _dcmtk_cases(evidence) -> list[tuple[str, str, tuple[str, str, str], ET.Element, dict]]:
    """(name, description, (report type, SOP Class UID, DCMTK SOP name), root item, options)."""
    comp = ("Comprehensive SR", "1.2.840.10008.5.1.4.1.1.88.33", "ComprehensiveSRStorage")
    return [
        ("dcmtk_xray_dose", "X-Ray Radiation Dose SR, TID 10001 projection X-ray: accumulated "
         "DAP/dose, two irradiation events with DAP, Dose (RP), KVP, exposure time",
         ("X-Ray Radiation Dose SR", "1.2.840.10008.5.1.4.1.1.88.67", "XRayRadiationDoseSRStorage"),
         _xray_dose(), {}),
        ("dcmtk_ct_dose", "X-Ray Radiation Dose SR, TID 10011 CT: DLP total, two CT acquisitions "
         "with CTDIvol and DLP",
         ("X-Ray Radiation Dose SR", "1.2.840.10008.5.1.4.1.1.88.67", "XRayRadiationDoseSRStorage"),
         _ct_dose(), {}),
        ("dcmtk_radiopharmaceutical_dose", "Radiopharmaceutical Radiation Dose SR, TID 10021: "
         "F-18 FDG, administered activity 250 MBq",
         ("Radiopharmaceutical Radiation Dose SR", "1.2.840.10008.5.1.4.1.1.88.68",
          "RadiopharmaceuticalRadiationDoseSRStorage"), _radiopharmaceutical_dose(), {}),
        ("dcmtk_basic_text", "Basic Text SR: findings and conclusion as TEXT",
         ("Basic Text SR", "1.2.840.10008.5.1.4.1.1.88.11", "BasicTextSRStorage"), _basic_text(), {}),
        ("dcmtk_enhanced_tid1500", "Enhanced SR with hand-written TID 1500 (SCT codes): Long/Short "
         "Axis cm, Volume ml, ADC mean, HU max; 2 groups",
         ("Enhanced SR", "1.2.840.10008.5.1.4.1.1.88.22", "EnhancedSRStorage"),
         _tid1500(srt=False, evidence=evidence), {"evidence": evidence}),
        ("dcmtk_comprehensive_srt", "Comprehensive SR with TID 1500 in retired SNOMED-RT (SRT) "
         "codes (G-C0E3 Finding Site, G-A185 Long Axis, G-D705 Volume, ...), procedure "
         "'Imaging procedure' (P0-0099A)", comp, _tid1500(srt=True, evidence=evidence),
         {"evidence": evidence}),
        ("dcmtk_comprehensive3d", "Comprehensive 3D SR with TID 1500 and a SCOORD3D POINT",
         ("Comprehensive 3D SR", "1.2.840.10008.5.1.4.1.1.88.34", "Comprehensive3DSRStorage"),
         _tid1500(srt=False, with_3d=True, evidence=evidence), {"evidence": evidence}),
        ("dcmtk_key_object", "Key Object Selection Document referencing the MR images",
         ("Key Object Selection Document", "1.2.840.10008.5.1.4.1.1.88.59",
          "KeyObjectSelectionDocumentStorage"), _key_object(evidence),
         {"evidence": evidence, "completion": None, "verification": None}),
    ]


def build_dcmtk(out: Path) -> list[Entry]:
    xml2dsr = _xml2dsr()
    inputs = out / "inputs"
    inputs.mkdir(parents=True, exist_ok=True)
    mr = _mr()
    evidence = [(str(d.StudyInstanceUID), str(d.SeriesInstanceUID), str(d.SOPClassUID),
                 "MRImageStorage", str(d.SOPInstanceUID)) for d in mr]
    cases = _dcmtk_cases(evidence)
    entries = []
    for index, (name, description, (report_type, sop_class, sop_name), root, kw) in enumerate(cases):
        xml = _X.document(report_type, sop_class, sop_name, root, uid_root=f"{_UID_ROOT}.{100 + index}", **kw)
        xml_path = inputs / f"{name}.xml"
        xml_path.write_bytes(xml)
        path = out / f"{name}.dcm"
        _run_xml2dsr(xml2dsr, xml_path, path)
        entries.append(Entry(path, "dcmtk", name, description, provenance("dcmtk")))
    # The retired Detail SR (Detail SR Storage - Trial, 1.2.840.10008.5.1.4.1.1.88.3): DCMTK no
    # longer writes it, so a DCMTK Comprehensive SR gets the retired SOP Class by dcmodify.
    source = out / "dcmtk_comprehensive_srt.dcm"
    detail = out / "dcmtk_detail_sr_retired.dcm"
    if source.exists() and shutil.which("dcmodify"):
        shutil.copy(source, detail)
        retired = "1.2.840.10008.5.1.4.1.1.88.3"
        # dcmodify updates (0002,0002) Media Storage SOP Class UID along with (0008,0016)
        subprocess.run(["dcmodify", "-nb", "-m", f"(0008,0016)={retired}", str(detail)],
                       check=True, capture_output=True, timeout=60)
        entries.append(Entry(detail, "dcmtk", "dcmtk_detail_sr_retired",
                             "retired Detail SR (SOP Class 1.2.840.10008.5.1.4.1.1.88.3, set with "
                             "DCMTK dcmodify on the SRT Comprehensive SR)", provenance("dcmtk"), True))
    return entries


def _run_xml2dsr(xml2dsr: str, xml_path: Path, path: Path) -> None:
    proc = subprocess.run([xml2dsr, str(xml_path), str(path)], capture_output=True, text=True, timeout=60)
    if proc.returncode != 0 or not path.exists():
        raise RuntimeError(f"xml2dsr failed on {xml_path}: {proc.stdout[-1000:]} {proc.stderr[-1000:]}")


# ---- pydicom shipped files ----------------------------------------------------------------
def pydicom_entries() -> list[Entry]:
    descriptions = {
        "test-SR.dcm": "Comprehensive SR, OFFIS test document (no TID 1500; NUMs outside groups)",
        "reportsi.dcm": "Basic Text SR",
        "reportsi_with_empty_number_tags.dcm": "Basic Text SR with empty number tags",
    }
    return [Entry(PYDICOM_TEST_FILES / name, "pydicom", Path(name).stem, descriptions[name],
                  provenance("pydicom")) for name in PYDICOM_SRS if (PYDICOM_TEST_FILES / name).exists()]


# ---- the corpus ----------------------------------------------------------------------------
BUILDERS: dict[str, Callable[[Path], list[Entry]]] = {
    "highdicom": build_highdicom, "dcmqi": build_dcmqi, "dcmtk": build_dcmtk,
}


def build_corpus(out: str | Path, tools: tuple[str, ...] = ("highdicom", "dcmqi", "dcmtk", "pydicom"),
                 strict: bool = False) -> Corpus:
    """Build every file of the corpus into ``out`` (inputs in ``out/inputs``) and list them."""
    out = Path(out)
    (out / "inputs").mkdir(parents=True, exist_ok=True)
    corpus = Corpus()
    for tool in tools:
        if tool == "pydicom":
            corpus.extend(pydicom_entries())
            continue
        try:
            corpus.extend(BUILDERS[tool](out))
        except (ToolMissing, ImportError) as exc:
            if strict:
                raise
            corpus.skipped.append((tool, str(exc)))
    return corpus


def planned_names() -> list[tuple[str, str]]:
    """(tool, name) of every file build_corpus makes when all tools are installed (cheap:
    builds nothing), for test parametrisation."""
    names = [("highdicom", name) for name, *_ in _hd_entries(Path("."))]
    names += [("dcmqi", name) for name, *_ in _dcmqi_cases(Path("."))]
    names += [("dcmtk", name) for name, *_ in _dcmtk_cases([])] + [("dcmtk", "dcmtk_detail_sr_retired")]
    names += [("pydicom", Path(n).stem) for n in PYDICOM_SRS if (PYDICOM_TEST_FILES / n).exists()]
    return names


def manifest(corpus: Corpus) -> list[dict]:
    return [{"path": str(e.path), "tool": e.tool, "name": e.name, "description": e.description,
             "provenance": e.provenance, "patched": e.patched} for e in corpus]


if __name__ == "__main__":  # pragma: no cover
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "foreign_corpus_out")
    built = build_corpus(target)
    for e in built:
        print(f"{e.tool:10} {e.name:32} {'(patched) ' if e.patched else ''}{e.description}")
    for tool, why in built.skipped:
        print(f"skipped {tool}: {why}")
    print(f"{len(built)} files in {target}")
