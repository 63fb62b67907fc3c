"""Property: for random valid reports, write -> read gives back an equal report, every field."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dicomtools import terms, vocab
from dicomtools.errors import InputError
from dicomtools.levels import ALL_LEVELS, CODE_LEVELS
from dicomtools.model import Finding, ImageRef, Patient, Report, Roi, Study
from dicomtools.observations import Evaluation, Measurement
from dicomtools.sr import assign_tracking, read_sr, write_sr
from dicomtools.sr.templates import template_for

uids = st.lists(st.integers(1, 10**12), min_size=2, max_size=5).map(
    lambda parts: "1.2." + ".".join(map(str, parts)))
# Text that survives DICOM: no control characters or backslash, no edge whitespace.
texts = st.text(st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp"),
                              blacklist_characters="\\"), min_size=1, max_size=40).map(str.strip) \
    .filter(lambda t: bool(t) and t.isprintable())
sizes = st.floats(0.1, 999.0, allow_nan=False).map(lambda x: round(x, 3))


@st.composite
def level_lists(draw):
    start = draw(st.integers(0, len(ALL_LEVELS) - 1))
    length = draw(st.integers(1, min(5, len(ALL_LEVELS) - start)))
    levels = ALL_LEVELS[start:start + length]
    return levels if draw(st.booleans()) else tuple(draw(st.permutations(levels)))


def maybe(strategy):
    return st.none() | strategy


# Any site, finding type and measurement concept of the tables generated from PS3.16.
# (a vertebra named as the site becomes site "vertebra" + its level: tested in test_model)
any_site = st.sampled_from(sorted(t for t in terms.names("site")
                                  if terms.code_for("site", t) not in CODE_LEVELS))
any_finding = st.sampled_from(sorted(terms.names("finding")))
any_concept = st.sampled_from(sorted(terms.names("measurement")))
any_unit = st.sampled_from(["mm", "cm", "mm2", "cm3", "mL", "{SUVbw}g/ml", "[hnsf'U]", "um2/s", "1"])
any_derivation = st.sampled_from(sorted(terms.names("derivation")))
codes = st.builds(vocab.Code, st.from_regex(r"[0-9]{4,9}", fullmatch=True),
                  st.sampled_from(["SCT", "DCM", "99TEST"]), texts)
measurements = st.builds(
    Measurement, concept=any_concept | codes, value=st.floats(-1e6, 1e6, allow_nan=False),
    unit=any_unit, derivation=maybe(any_derivation), method=maybe(codes), site=maybe(any_site))
evaluations = st.builds(Evaluation, concept=any_concept | codes, value=texts | codes)


@st.composite
def findings(draw, modality: str, procedure: str):
    template = template_for(modality, procedure)
    allowed = template.allows

    def field(row: str, strategy):
        return draw(strategy) if allowed(row) else None

    site = draw(maybe(st.sampled_from(sorted(vocab.SITES)) | any_site))
    kinds = st.sampled_from(sorted(vocab.FINDING_TYPES)) | any_finding
    adc = field("adc_value", maybe(st.tuples(st.floats(1, 5000, allow_nan=False),
                                             st.sampled_from(sorted(vocab.ADC_UNITS)))))
    stats = draw(st.tuples(maybe(st.floats(0, 5000, allow_nan=False)), maybe(st.floats(0, 5000, allow_nan=False))))
    # centroids are FL (float32) in SCOORD3D: draw values float32 can hold exactly
    coordinate = st.integers(-4000, 4000).map(lambda v: v / 8)
    centroid = draw(maybe(st.tuples(coordinate, coordinate, coordinate))) if allowed("centroid") else None
    roi = field("roi", maybe(st.builds(Roi, uids, st.integers(1, 20), uids, st.just(centroid),
                                       uids if centroid else st.none())))
    tracer = draw(st.sampled_from(sorted(vocab.TRACERS))) if "tracer" in template.required_fields \
        else field("tracer", maybe(st.sampled_from(sorted(vocab.TRACERS))))
    return Finding(
        present=draw(st.sampled_from([True, False, None])),
        certainty=draw(maybe(st.sampled_from(["definite", "possible"]))),
        finding=draw(kinds if "finding" in template.required_fields else maybe(kinds)),
        site=site,
        laterality=draw(maybe(st.sampled_from(sorted(vocab.LATERALITY)))) if site else None,
        vertebral_levels=draw(maybe(level_lists())),
        dimensions_mm=draw(maybe(st.lists(sizes, min_size=1, max_size=3).map(tuple))),
        volume_ml=draw(maybe(st.floats(0.001, 10000, allow_nan=False))),
        t1_signal=field("t1_signal", maybe(st.sampled_from(["hyper", "iso", "hypo"]))),
        t2_signal=field("t2_signal", maybe(st.sampled_from(["hyper", "iso", "hypo"]))),
        diffusion_restricted=field("diffusion_restricted", maybe(st.booleans())),
        adc_value=adc[0] if adc else None,
        adc_unit=adc[1] if adc else None,
        adc_min=stats[0] if adc else None,
        adc_median=stats[1] if adc else None,
        roi=roi,
        extent_mm=field("extent_mm", maybe(st.tuples(sizes, sizes, sizes))),
        enhancement=field("enhancement", maybe(st.sampled_from(sorted(vocab.ENHANCEMENT)))),
        enhancement_pattern=field("enhancement_pattern", maybe(st.sampled_from(sorted(vocab.ENHANCEMENT_PATTERN)))),
        contrast_agent=field("contrast_agent", maybe(st.sampled_from(sorted(vocab.CONTRAST_AGENTS)))),
        tracer=tracer,
        activity_mbq=field("activity_mbq", maybe(st.floats(0.5, 1000, allow_nan=False))),
        tracking_id=draw(maybe(texts)),
        tracking_uid=draw(maybe(uids)),
        measurements=tuple(draw(st.lists(measurements, max_size=3))),
        evaluations=tuple(draw(st.lists(evaluations, max_size=2))),
    )


@st.composite
def reports(draw):
    procedure = draw(st.sampled_from(sorted(vocab.PROCEDURES)))
    modality = vocab.PROCEDURES[procedure].modality
    study_uid = draw(uids)
    images = draw(st.lists(st.builds(ImageRef, st.just("1.2.840.10008.5.1.4.1.1.4"), uids, uids,
                                     st.sampled_from([study_uid, "1.2.3.4"])), max_size=4))
    found = draw(st.lists(findings(modality, procedure), max_size=4,
                          unique_by=lambda f: f.tracking_uid or id(f)))
    return Report(
        modality=modality, procedure=procedure, findings=tuple(found),
        impression=draw(maybe(st.sampled_from(["normal", "abnormal", "equivocal"]))),
        observer=draw(maybe(st.sampled_from(["Doe^Jane", "Müller^Jörg", "山田^太郎"]))),
        indication=draw(maybe(texts)),
        patient=Patient(id=draw(maybe(st.from_regex(r"[A-Z0-9-]{1,12}", fullmatch=True))),
                        name=draw(maybe(st.sampled_from(["Case1^OMS", "Ærø^Ønskebørn"]))),
                        issuer=draw(maybe(st.just("SITE-A"))), birth_date=draw(maybe(st.just("20130910"))),
                        sex=draw(maybe(st.sampled_from(["F", "M", "O"])))),
        study=Study(instance_uid=study_uid, date=draw(maybe(st.just("20150224"))),
                    time=draw(maybe(st.just("101500"))), id=draw(maybe(st.just("S1"))),
                    accession_number=draw(maybe(st.just("ACC1"))),
                    description=draw(maybe(texts)), patient_age=draw(maybe(st.just("017M")))),
        source_images=tuple(images),
    )


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                   HealthCheck.function_scoped_fixture])
@given(report=reports())
def test_write_then_read_gives_the_same_report(tmp_path, report):
    report = assign_tracking(report)
    path = write_sr(report, tmp_path / "rt.dcm")
    back = read_sr(path)
    assert back.warnings == ()
    assert replace(back, sr=None) == report.with_findings_in_context()


def test_negative_range_bilateral_and_empty_reports_roundtrip(tmp_path):
    cases = [
        Report(modality="NM", procedure="I-123 mIBG scintigraphy", impression="normal", findings=(
            Finding(present=False, finding="uptake", site="whole body", tracer="I-123 mIBG",
                    activity_mbq=60),)),
        Report(modality="MR", procedure="whole-body MRI", findings=(
            Finding(finding="mass", site="paravertebral", laterality="right",
                    vertebral_levels="T11 to L1", dimensions_mm=(29, 15, 54)),
            Finding(finding="lesion", site="vertebra", vertebral_levels=["L2", "L3"]),
            Finding(finding="mass", site="adrenal gland", laterality="bilateral", present=None,
                    certainty="possible"))),
        Report(modality="MR", procedure="whole-body MRI"),  # no finding, no impression
        Report(modality="US", procedure="ultrasound", impression="normal"),
    ]
    for i, report in enumerate(cases):
        report = assign_tracking(report)
        back = read_sr(write_sr(report, tmp_path / f"{i}.dcm"))
        assert back.study.instance_uid  # none given: the writer made a new study
        expected = replace(report.with_findings_in_context(), study=back.study)
        assert replace(back, sr=None) == expected, i


def test_paravertebral_at_a_level_differs_from_a_lesion_in_the_vertebra(tmp_path):
    at_level = Finding(finding="mass", site="paravertebral", vertebral_levels="T9/10")
    in_bone = Finding(finding="lesion", site="vertebra", vertebral_levels="T9/10")
    report = assign_tracking(Report(modality="MR", procedure="whole-body MRI",
                                    findings=(at_level, in_bone)))
    back = read_sr(write_sr(report, tmp_path / "levels.dcm"))
    assert [(f.site, f.vertebral_levels) for f in back.findings] == \
        [("paravertebral", ("T9", "T10")), ("vertebra", ("T9", "T10"))]


def test_missing_tracking_is_assigned_and_read_back(tmp_path):
    report = Report(modality="MR", procedure="MRI", findings=(Finding(finding="mass"), Finding()))
    back = read_sr(write_sr(report, tmp_path / "t.dcm"))
    assert [f.tracking_id for f in back.findings] == ["Mass 1", "Finding 2"]
    assert all(f.tracking_uid for f in back.findings)


def test_diameters_keep_reported_order_and_gain_no_axis(tmp_path):
    import pydicom
    report = Report(modality="MR", procedure="MRI", findings=(Finding(dimensions_mm=(10, 30, 20)),))
    path = write_sr(report, tmp_path / "d.dcm")
    assert read_sr(path).findings[0].dimensions_mm == (10.0, 30.0, 20.0)
    names = {item.ConceptNameCodeSequence[0].CodeMeaning
             for item in pydicom.dcmread(path).ContentSequence[-1].ContentSequence[0].ContentSequence
             if item.ValueType == "NUM"}
    assert names == {"Diameter"}  # no Width/Depth/Height or long/short axis invented


def test_unwritable_report_leaves_no_file(tmp_path):
    report = Report(modality="CT", procedure="CT",  # CT has no T2 signal row
                    findings=(Finding(present=True, finding="mass", t2_signal="hyper"),))
    target = tmp_path / "never.dcm"
    with pytest.raises(InputError, match="t2_signal"):
        write_sr(report, target)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("observer", ["Muller^Hans", "Müller^Hans"])
def test_content_bytes_are_written_as_encoded_not_reparsed(observer):
    """pydicom re-parses a raw ContentSequence when the declared character set does not match
    its own (a 30x slowdown found by benchmarks/bench_sr.py); the raw element must survive."""
    from io import BytesIO

    from dicomtools.sr import to_dataset
    from dicomtools.sr.codec import CONTENT_SEQ
    ds = to_dataset(Report(modality="MR", procedure="MRI", observer=observer,
                           findings=(Finding(finding="mass", dimensions_mm=(1, 2)),)))
    raw = ds.get_item(CONTENT_SEQ).value
    buffer = BytesIO()
    ds.save_as(buffer, enforce_file_format=True)
    assert ds.get_item(CONTENT_SEQ).is_raw  # __getitem__ would have replaced it
    assert raw in buffer.getvalue()
