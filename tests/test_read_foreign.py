"""The reader takes SRs written by others without raising, and bad files with one clear error."""

from __future__ import annotations

import json
import subprocess
from dataclasses import replace

import pydicom
import pytest
from pydicom.data import get_testdata_file

from conftest import FOREIGN, SAMPLES, require_tool
from dicomtools.errors import SRReadError
from dicomtools.sr.read import read_sr

MR_FILES = sorted((SAMPLES / "case1" / "wbmri").glob("*.dcm"))


@pytest.mark.parametrize("name", ["test-SR.dcm", "reportsi.dcm", "reportsi_with_empty_number_tags.dcm"])
def test_shipped_foreign_srs_read_with_warnings_not_exceptions(name):
    report = read_sr(FOREIGN / name)
    assert report.sr is not None and report.sr.sop_instance_uid
    assert report.warnings, "a non-TID-1500 SR must say what it could not map"
    assert any("TID 1500" in w for w in report.warnings)


def test_highdicom_written_sr_maps_measurements(tmp_path):
    import highdicom as hd
    from pydicom.sr.codedict import codes

    image = pydicom.dcmread(MR_FILES[0])
    group = hd.sr.MeasurementsAndQualitativeEvaluations(
        tracking_identifier=hd.sr.TrackingIdentifier(uid=hd.UID(), identifier="HD lesion"),
        finding_type=codes.SCT.Mass,
        finding_sites=[hd.sr.FindingSite(codes.SCT.AdrenalGland, laterality=codes.SCT.Left)],
        measurements=[
            hd.sr.Measurement(name=codes.SCT.Diameter, value=1.2, unit=codes.UCUM.Centimeter),
            hd.sr.Measurement(name=codes.SCT.Volume, value=800.0, unit=codes.UCUM.CubicMillimeter),
        ],
        qualitative_evaluations=[hd.sr.QualitativeEvaluation(
            codes.DCM.T2WeightedMRSignalIntensity, hd.sr.CodedConcept("RID35805", "RADLEX", "Hyperintense"))],
    )
    report = hd.sr.MeasurementReport(
        observation_context=hd.sr.ObservationContext(),
        procedure_reported=codes.cid100.MultiparametricMRIOfWholeBody,
        imaging_measurements=[group], referenced_images=[image])
    sr = hd.sr.ComprehensiveSR(evidence=[image], content=report[0], series_instance_uid=hd.UID(),
                               series_number=10, sop_instance_uid=hd.UID(), instance_number=1,
                               manufacturer="test")
    path = tmp_path / "hd.dcm"
    sr.save_as(path)
    back = read_sr(path)
    assert back.procedure == "whole-body MRI"
    (finding,) = back.findings
    assert (finding.tracking_id, finding.finding, finding.site, finding.laterality) == \
        ("HD lesion", "mass", "adrenal gland", "left")
    assert finding.dimensions_mm == (12.0,)  # 1.2 cm, converted to mm
    assert finding.volume_ml == pytest.approx(0.8)  # 800 mm3
    assert finding.t2_signal == "hyper"
    assert back.source_images and back.source_images[0].sop_instance_uid == image.SOPInstanceUID


def test_dcmqi_written_sr_reads(tmp_path):
    """dcmqi's tid1500writer output (TID 1411 groups referencing a SEG) reads without raising."""
    writer = require_tool("tid1500writer")
    import highdicom as hd
    import numpy as np
    images = [pydicom.dcmread(p) for p in MR_FILES]
    mask = np.zeros((len(images), images[0].Rows, images[0].Columns), dtype=bool)
    mask[:, 20:30, 20:30] = True
    seg = hd.seg.Segmentation(
        source_images=images, pixel_array=mask, segmentation_type=hd.seg.SegmentationTypeValues.BINARY,
        segment_descriptions=[hd.seg.SegmentDescription(
            segment_number=1, segment_label="lesion",
            segmented_property_category=hd.sr.CodedConcept("49755003", "SCT", "Morphologically abnormal structure"),
            segmented_property_type=hd.sr.CodedConcept("4147007", "SCT", "Mass"),
            algorithm_type=hd.seg.SegmentAlgorithmTypeValues.MANUAL)],
        series_instance_uid=hd.UID(), series_number=5, sop_instance_uid=hd.UID(), instance_number=1,
        manufacturer="test", manufacturer_model_name="test", software_versions="0", device_serial_number="0")
    seg_path = tmp_path / "seg.dcm"
    seg.save_as(seg_path)
    meta = {
        "@schema": "https://raw.githubusercontent.com/qiicr/dcmqi/master/doc/schemas/sr-tid1500-schema.json#",
        "SeriesDescription": "dcmqi", "SeriesNumber": "11", "InstanceNumber": "1",
        "compositeContext": ["seg.dcm"], "imageLibrary": [p.name for p in MR_FILES],
        "observerContext": {"ObserverType": "PERSON", "PersonObserverName": "Reader1"},
        "VerificationFlag": "UNVERIFIED", "CompletionFlag": "COMPLETE", "activitySession": "1",
        "timePoint": "1",
        "procedureReported": {"CodeValue": "126022", "CodingSchemeDesignator": "DCM",
                              "CodeMeaning": "Multiparametric MRI of whole body"},
        "Measurements": [{
            "TrackingIdentifier": "dcmqi lesion", "ReferencedSegment": 1,
            "SourceSeriesForImageSegmentation": str(images[0].SeriesInstanceUID),
            "segmentationSOPInstanceUID": str(seg.SOPInstanceUID),
            "Finding": {"CodeValue": "4147007", "CodingSchemeDesignator": "SCT", "CodeMeaning": "Mass"},
            "FindingSite": {"CodeValue": "23451007", "CodingSchemeDesignator": "SCT", "CodeMeaning": "Adrenal gland"},
            "measurementItems": [{
                "value": "2.5",
                "quantity": {"CodeValue": "118565006", "CodingSchemeDesignator": "SCT", "CodeMeaning": "Volume"},
                "units": {"CodeValue": "cm3", "CodingSchemeDesignator": "UCUM", "CodeMeaning": "cubic centimeter"}}],
        }],
    }
    (tmp_path / "meta.json").write_text(json.dumps(meta))
    out = tmp_path / "dcmqi.dcm"
    proc = subprocess.run([writer, "--inputMetadata", str(tmp_path / "meta.json"), "--outputDICOM", str(out),
                           "--inputCompositeContextDirectory", str(tmp_path),
                           "--inputImageLibraryDirectory", str(MR_FILES[0].parent)],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    back = read_sr(out)
    (finding,) = back.findings
    assert finding.tracking_id == "dcmqi lesion" and finding.volume_ml == 2.5
    assert finding.site == "adrenal gland" and back.observer == "Reader1"
    # what has no model field (time point, session...) is kept as content and named
    assert back.findings[0].other and any("kept as content" in w for w in back.warnings)


def _strip_identity(report):
    return replace(report, sr=None)


def test_implicit_vr_copy_reads_the_same(seed_srs, tmp_path):
    ds = pydicom.dcmread(seed_srs["case1/wbmri"])
    ds.ContentSequence  # parse, so pydicom can re-encode it
    ds.file_meta.TransferSyntaxUID = pydicom.uid.ImplicitVRLittleEndian
    path = tmp_path / "implicit.dcm"
    ds.save_as(path, enforce_file_format=True)
    assert pydicom.dcmread(path).original_encoding == (True, True)
    assert _strip_identity(read_sr(path)) == _strip_identity(read_sr(seed_srs["case1/wbmri"]))


def test_undefined_length_sequences_read_the_same(seed_srs, tmp_path):
    ds = pydicom.dcmread(seed_srs["case3/wbmri"])

    def undefine(elem):
        elem.is_undefined_length = True
        for item in elem.value:
            item.is_undefined_length_sequence_item = True
            for child in item:
                if child.VR == "SQ":
                    undefine(child)
    undefine(ds["ContentSequence"])
    path = tmp_path / "undefined.dcm"
    ds.save_as(path)
    assert b"\xfe\xff\xdd\xe0" in path.read_bytes()  # sequence delimiters really written
    assert _strip_identity(read_sr(path)) == _strip_identity(read_sr(seed_srs["case3/wbmri"]))


def test_pydicom_dataset_path_equals_raw_path(seed_srs):
    from dicomtools.sr.read import report_from_dataset
    ds = pydicom.dcmread(seed_srs["case2/wbmri"])
    raw = report_from_dataset(ds)
    ds.ContentSequence  # force pydicom to parse: the slow path
    assert report_from_dataset(ds) == raw


# ---- bad files: one clear error naming the file -------------------------------------
def _bad_files(tmp_path, seed_srs):
    whole = seed_srs["case1/wbmri"].read_bytes()
    truncated = tmp_path / "truncated.dcm"
    truncated.write_bytes(whole[: len(whole) * 2 // 3])
    pdf = tmp_path / "report.dcm"
    pdf.write_bytes(b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n%%EOF\n")
    empty = tmp_path / "empty.dcm"
    empty.write_bytes(b"")
    return {"truncated": truncated, "pdf": pdf, "empty": empty, "image": MR_FILES[0],
            "directory": tmp_path, "missing": tmp_path / "nope.dcm"}


@pytest.mark.parametrize("kind, phrase", [
    ("truncated", "truncated"), ("pdf", "not a DICOM file"), ("empty", "not a"),
    ("image", "not a DICOM SR"), ("directory", "directory"), ("missing", "no such file")])
def test_bad_files_raise_one_clear_error(tmp_path, seed_srs, kind, phrase):
    path = _bad_files(tmp_path, seed_srs)[kind]
    with pytest.raises(SRReadError) as info:
        read_sr(path)
    message = str(info.value)
    assert phrase in message and str(path.name) in message and "\n" not in message


def test_real_pydicom_truncated_mr_is_not_an_sr():
    with pytest.raises(SRReadError):
        read_sr(get_testdata_file("MR_truncated.dcm"))


def test_presence_with_qualifiers_is_never_lost(tmp_path):
    """A 'Presence = Absent' item that carries a child stays absent (it was read as present)."""
    from pydicom.dataset import Dataset
    from pydicom.sequence import Sequence

    from dicomtools.model import Finding, Report
    from dicomtools.sr import write_sr
    path = write_sr(Report(modality="MR", procedure="MRI", findings=(
        Finding(present=False, finding="mass", site="liver"),)), tmp_path / "absent.dcm")
    ds = pydicom.dcmread(path)
    group = ds.ContentSequence[-1].ContentSequence[0]
    presence = next(i for i in group.ContentSequence
                    if i.ConceptNameCodeSequence[0].CodeValue == "121052")
    note = Dataset()
    note.RelationshipType, note.ValueType = "HAS PROPERTIES", "TEXT"
    note.ConceptNameCodeSequence = Sequence([Dataset()])
    concept = note.ConceptNameCodeSequence[0]
    concept.CodeValue, concept.CodingSchemeDesignator, concept.CodeMeaning = "121106", "DCM", "Comment"
    note.TextValue = "checked on two sequences"
    presence.ContentSequence = Sequence([note])
    ds.save_as(tmp_path / "qualified.dcm")
    (finding,) = read_sr(tmp_path / "qualified.dcm").findings
    assert finding.present is False
    assert any(n.value == "checked on two sequences" for n in finding.other)


def test_other_private_schemes_are_declared(tmp_path):
    from dicomtools.model import Finding, Report
    from dicomtools.sr import write_sr
    report = Report(modality="MR", procedure="MRI", findings=(Finding(
        site={"code": "X1", "scheme": "99OTHER", "meaning": "Presacral space"}),))
    ds = pydicom.dcmread(write_sr(report, tmp_path / "p.dcm"))
    assert {i.CodingSchemeDesignator for i in ds.CodingSchemeIdentificationSequence} >= {"99OTHER"}
