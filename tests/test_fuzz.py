"""Fuzzing in CI (issue 11): the SR reader, the build step and the text extractor turn any
malformed input into a documented error (DicomToolsError: one line, the file, the field or
item and the value), never a traceback, a hang or a silent loss.

Hypothesis strategies and the seed-corpus mutators of benchmarks/fuzz.py (the longer
campaign: ``python benchmarks/fuzz.py --cases 10000``) over the seed SRs (conftest.seed_srs),
the sample findings files and the text corpus. Derandomized and bounded: about two minutes.
"""

from __future__ import annotations

import importlib.util
import io
import json
import random
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dicomtools import build
from dicomtools.build import load_findings, with_source
from dicomtools.errors import DicomToolsError, InputError, SRReadError
from dicomtools.model import Finding, Patient, Report, Study
from dicomtools.observations import Evaluation
from dicomtools.sr.read import read_sr
from dicomtools.sr.write import to_dataset, write_sr
from dicomtools.values import MAX_TREE_DEPTH, ContentNode

ROOT = Path(__file__).resolve().parents[1]
CASES = ROOT / "sample_data" / "cases"

_spec = importlib.util.spec_from_file_location("dicomtools_fuzz", ROOT / "benchmarks" / "fuzz.py")
fuzz = importlib.util.module_from_spec(_spec)
sys.modules["dicomtools_fuzz"] = fuzz
_spec.loader.exec_module(fuzz)

FAST = settings(deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def seeds(seed_srs) -> dict[str, bytes]:
    return {name: path.read_bytes() for name, path in seed_srs.items()}


@pytest.fixture(scope="module")
def clean(seed_srs) -> dict[str, Report]:
    return {name: read_sr(path) for name, path in seed_srs.items()}


@pytest.fixture()
def cached_build(monkeypatch):
    """The build step with each source folder read once (the same calls)."""
    load_source, load_studies = fuzz.cached_sources()
    monkeypatch.setattr(build, "load_source", load_source)
    monkeypatch.setattr(build, "load_studies", load_studies)


def _read(tmp_path: Path, data: bytes) -> Report | SRReadError:
    path = tmp_path / "case.dcm"
    path.write_bytes(data)
    try:
        return read_sr(path)
    except SRReadError as exc:
        message = str(exc)
        assert "\n" not in message and len(message) <= 1000 and "case.dcm" in message, message
        return exc


# -- reader: truncation ---------------------------------------------------------------------
def _cuts(data: bytes) -> list[int]:
    """60 offsets spread over the file, and element and item boundaries (start of the
    header, start of the value) sampled over it."""
    offsets = {len(data) * i // 60 for i in range(60)}
    boundaries = [b for e in fuzz.elements(data) for b in (e.offset, e.offset + e.header)]
    offsets |= set(random.Random(len(data)).sample(boundaries, min(60, len(boundaries))))
    return sorted(o for o in offsets if o < len(data))


def test_a_truncated_seed_sr_is_an_error(tmp_path, seeds):
    """Every seed SR cut at ~120 offsets (inside elements and items, and between them):
    always SRReadError, never a success."""
    read = [(name, cut) for name, data in seeds.items() for cut in _cuts(data)
            if not isinstance(_read(tmp_path, data[:cut]), SRReadError)]
    assert not read, read[:10]


def test_a_missing_required_attribute_is_named_in_a_warning(tmp_path, seeds):
    import pydicom
    ds = pydicom.dcmread(io.BytesIO(seeds["case1/wbmri"]))
    del ds.CompletionFlag
    path = tmp_path / "incomplete.dcm"
    ds.save_as(path)
    assert any("CompletionFlag" in w for w in read_sr(path).warnings)


def test_truncation_names_the_element_and_what_is_missing(tmp_path, seeds):
    data = seeds["case1/wbmri"]
    content = next(e for e in fuzz.elements(data) if e.tag == 0x0040A730 and e.depth == 0)
    result = _read(tmp_path, data[:content.offset + content.header + 100])
    assert isinstance(result, SRReadError)
    assert "truncated" in str(result) and "(0040,A730) ContentSequence" in str(result)
    assert f"{content.length - 100:,} of them are missing" in str(result)
    result = _read(tmp_path, data[:content.offset])  # cut between two elements
    assert isinstance(result, SRReadError) and "no Content Sequence" in str(result)


# -- reader: benign encodings ---------------------------------------------------------------
@pytest.mark.parametrize("how", fuzz.BENIGN)
def test_benign_reencodings_read_back_equal(tmp_path, seeds, clean, how):
    """Undefined lengths, implicit VR, big endian, deflate, trailing padding."""
    for name, data in seeds.items():
        other = fuzz.benign(data, how, random.Random(name))
        if how.startswith("big"):
            assert other[128:132] == b"DICM" and b"1.2.840.10008.1.2.2" in other[:400]
        result = _read(tmp_path, other)
        assert isinstance(result, Report), (name, result)
        assert replace(result, sr=None) == replace(clean[name], sr=None), name
        assert result.warnings == clean[name].warnings, (name, result.warnings)


def test_a_truncated_reencoding_is_an_error_too(tmp_path, seeds):
    data = seeds["case1/wbmri"]
    for how in ("undefined", "implicit-undefined", "big-undefined", "deflate"):
        other = fuzz.benign(data, how)
        last = len(other) - (2 if how == "deflate" else 1)  # (a deflate stream may end in a pad byte)
        for cut in (last, len(other) - 9, len(other) // 2, len(other) * 3 // 4):
            result = _read(tmp_path, other[:cut])
            assert isinstance(result, SRReadError) or result.warnings, (how, cut)


# -- reader: nesting, width, mutations -----------------------------------------------------
@pytest.mark.parametrize("depth", [30, MAX_TREE_DEPTH - 4, MAX_TREE_DEPTH + 1, 1000, 100_000])
@pytest.mark.parametrize("undefined", [False, True])
def test_deep_content_reads_or_is_refused_with_its_depth(tmp_path, seeds, depth, undefined):
    if depth > 5000 and not undefined:
        pytest.skip("defined lengths are built whole: too large")
    data = fuzz._append_content(seeds["case1/wbmri"], fuzz._deep_item(depth, undefined))
    result = _read(tmp_path, data)
    if depth < MAX_TREE_DEPTH:
        assert isinstance(result, Report) and result.findings
    else:
        assert isinstance(result, SRReadError) and "nested deeper" in str(result)


def test_many_items_read(tmp_path, seeds):
    data = fuzz._append_content(seeds["case1/wbmri"], fuzz._text_item(b"x") * 5000)
    start = time.perf_counter()
    result = _read(tmp_path, data)
    assert isinstance(result, Report) and len(result.other) == 5000
    assert time.perf_counter() - start < 10


def test_text_a_dicom_value_cannot_hold_is_shown_replaced_with_a_warning(tmp_path, seeds):
    data = fuzz._append_content(seeds["case1/wbmri"], fuzz._text_item(b"a\0b\x01c"))
    result = _read(tmp_path, data)
    assert isinstance(result, Report)
    assert result.other[-1].value == "a\ufffdb\ufffdc"
    assert any("U+FFFD" in w for w in result.warnings)
    write_sr(result, tmp_path / "again.dcm")  # what was read can be written back
    assert read_sr(tmp_path / "again.dcm").other[-1].value == "a\ufffdb\ufffdc"


@settings(FAST, max_examples=400)
@given(st.integers(0, 2**32))
def test_reader_on_seed_mutations(tmp_path, seeds, clean, seed):
    """The campaign's mutators (flips, cuts, garbage, wrong VRs and tags, deep and wide
    content, bad UIDs and charsets, header values, re-encodings)."""
    case = fuzz.reader_case(seeds, random.Random(seed))
    result = _read(tmp_path, case.data)
    if isinstance(result, Report):
        if case.truncated:
            assert [w for w in result.warnings if w not in clean[case.seed].warnings], case.kind
        if case.benign:
            assert replace(result, sr=None) == replace(clean[case.seed], sr=None), case.kind


@settings(FAST, max_examples=200)
@given(st.data())
def test_reader_on_byte_edits(tmp_path, seeds, data):
    name = data.draw(st.sampled_from(sorted(seeds)))
    raw = bytearray(seeds[name])
    for _ in range(data.draw(st.integers(1, 6))):
        raw[data.draw(st.integers(0, len(raw) - 1))] = data.draw(st.integers(0, 255))
    cut = data.draw(st.one_of(st.none(), st.integers(0, len(raw))))
    _read(tmp_path, bytes(raw[:cut] if cut is not None else raw))


# -- build: findings JSON ------------------------------------------------------------------
def _seed_findings() -> list[tuple[str, dict, Path, bool]]:
    return fuzz.seed_findings()


def _build(tmp_path: Path, payload: bytes, source: Path, patient_only: bool):
    """findings bytes -> (built report, read-back) or the InputError/SourceError."""
    path = tmp_path / "findings.json"
    path.write_bytes(payload)
    try:
        _, report = load_findings(path)
        report = with_source(report, source, patient_only=patient_only, where=str(path))
        write_sr(report, tmp_path / "out.dcm")
    except DicomToolsError as exc:
        message = str(exc)
        assert "\n" not in message and len(message) <= 1000, message
        assert exc.exit_code in (2, 3), message
        return exc
    back = read_sr(tmp_path / "out.dcm")
    assert replace(back, sr=None) == report.with_findings_in_context(), \
        fuzz._diff(report.with_findings_in_context().to_json(), replace(back, sr=None).to_json())
    assert not [w for w in back.warnings if "kept as content" not in w], back.warnings
    return report


@settings(FAST, max_examples=300)
@given(st.integers(0, 2**32))
def test_build_on_findings_mutations(tmp_path, cached_build, seed):
    """The campaign's findings mutators: types, NaN and huge numbers, deep nesting, text of
    every kind, bad bytes, duplicate keys, many findings."""
    case = fuzz.build_case(_seed_findings(), random.Random(seed))
    result = _build(tmp_path, case.payload, case.source, case.patient_only)
    if isinstance(result, Report) and case.original is not None:
        assert not fuzz._text_changes(case.original, result), case.kind


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(st.characters(exclude_categories=[]),
                                                                        max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8)


@settings(FAST, max_examples=300)
@given(st.data())
def test_build_on_any_json_value_anywhere(tmp_path, cached_build, data):
    _, findings, source, patient_only = data.draw(st.sampled_from(_seed_findings()))
    findings = json.loads(json.dumps(findings))
    paths = fuzz._paths(findings)[1:]
    path = data.draw(st.sampled_from(paths))
    fuzz._set(findings, path, data.draw(_json))
    payload = json.dumps(findings, allow_nan=True).encode("ascii")
    _build(tmp_path, payload, source, patient_only)


TEXT_FIELDS = [
    ("indication", lambda v: {"indication": v}),
    ("observer", lambda v: {"observer": v}),
    ("tracking_id", lambda v: {"findings": [{"present": True, "tracking_id": v}]}),
    ("value", lambda v: {"findings": [{"present": True, "evaluations": [
        {"concept": {"code": "121106", "scheme": "DCM", "meaning": "Comment"}, "value": v}]}]}),
    ("value", lambda v: {"findings": [{"present": True, "other": [
        {"value_type": "TEXT", "relationship": "HAS PROPERTIES",
         "concept": {"code": "121106", "scheme": "DCM", "meaning": "Comment"}, "value": v}]}]}),
    ("description", lambda v: {"study": {"description": v}}),
    ("id", lambda v: {"study": {"id": v}}),
    ("meaning", lambda v: {"findings": [{"present": True, "finding":
                                         {"code": "4147007", "scheme": "SCT", "meaning": v}}]}),
]


@pytest.mark.parametrize("field, make", TEXT_FIELDS)
@pytest.mark.parametrize("bad", ["a\x00b", "a\x01b", "\x1b$B", "a\x7fb", "a\x85b", "a\ud800b", "x\x1f",
                                 "a\x0bb"])
def test_text_dicom_cannot_hold_is_refused_naming_the_field(field, make, bad):
    data = {"procedure": "whole-body MRI", "findings": [], **make(bad)}
    with pytest.raises(InputError, match=f"'{field}'") as info:
        Report.from_json(data, where="f.json")
    assert "f.json" in str(info.value) and "\n" not in str(info.value)


@pytest.mark.parametrize("value, kept", [("line one\nline two", "line one\nline two"),
                                         ("tab\there", "tab\there"), ("  padded  ", "padded"),
                                         ("Frühling 日本語 😀", "Frühling 日本語 😀"),
                                         ("back\\slash", "back\\slash")])
def test_text_dicom_holds_round_trips(tmp_path, cached_build, value, kept):
    data = json.loads((CASES / "case1" / "wbmri.json").read_text(encoding="utf-8"))
    data["indication"] = value
    data["findings"][0]["tracking_id"] = value
    data["findings"][0]["evaluations"] = [
        {"concept": {"code": "121106", "scheme": "DCM", "meaning": "Comment"}, "value": value}]
    report = _build(tmp_path, json.dumps(data).encode(), CASES / "case1" / "wbmri", False)
    assert isinstance(report, Report)
    assert report.indication == kept and report.findings[0].tracking_id == kept
    assert report.findings[0].evaluations[0].value == kept


def test_names_and_header_strings_hold_no_control_character_nor_backslash():
    for bad in ("Doe\tJane", "Doe\\Jane", "Doe\nJane"):
        with pytest.raises(InputError, match="'observer'"):
            Report(modality="MR", procedure="whole-body MRI", observer=bad)
        with pytest.raises(InputError, match="'description'"):
            Study(description=bad)
    with pytest.raises(InputError, match="'name'") as info:
        Patient(name="Doe\x00Jane")
    assert "Doe" not in str(info.value)  # patient data is not quoted
    assert Study(description="  CT thorax ").description == "CT thorax"
    assert Study(description="").description is None


@pytest.mark.parametrize("text, phrase", [
    ('{"procedure": "whole-body MRI", "indication": "a", "indication": "b"}', "given twice"),
    ('{"procedure": "whole-body MRI", "findings": [{"present": true, "volume_ml": 1' + "0" * 5000 + "}]}",
     "not valid JSON"),
    ('{"procedure": "whole-body MRI", "indication": ' + "[" * 100_000 + "]" * 100_000 + "}", "nested"),
    ('{"procedure": "whole-body MRI", "findings": [{"present": true, "volume_ml": NaN}]}', "volume_ml"),
    ('{"procedure": "whole-body MRI", "findings": [{"present": true, "volume_ml": ' + "9" * 400 + "}]}",
     "volume_ml"),
    ('{"procedure": "whole-body MRI", "study": {"date": "2024-01-01"}}', "'date'"),
    ('{"procedure": "whole-body MRI", "study": {"description": 4}}', "'description'"),
    ('{"procedure": "whole-body MRI", "patient": ["x"]}', "patient"),
    ('{"procedure": "whole-body MRI", "observer": {"name": "x"}}', "'observer'"),
    ('{"procedure": "whole-body MRI", "findings": [{"present": true, "other": [{"value_type": '
     '"CONTAINER", "value": "lost"}]}]}', "CONTAINER"),
])
def test_malformed_findings_files_are_one_line_input_errors(tmp_path, text, phrase):
    path = tmp_path / "findings.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError, match=phrase) as info:
        load_findings(path)
    message = str(info.value)
    assert str(path) in message and "\n" not in message and len(message) <= 1000


def test_a_byte_order_mark_is_accepted(tmp_path):
    path = tmp_path / "findings.json"
    path.write_bytes(b"\xef\xbb\xbf" + (CASES / "case1" / "wbmri.json").read_bytes())
    assert load_findings(path)[1].procedure == "whole-body MRI"


def test_long_values_are_shown_short_in_messages():
    with pytest.raises(InputError) as info:
        Finding.from_json({"present": True, "certainty": "x" * 1_000_000})
    assert len(str(info.value)) < 300
    with pytest.raises(InputError) as info:
        Report.from_json({"procedure": "whole-body MRI", "y" * 100_000: 1})
    assert len(str(info.value)) < 600


def test_content_kept_as_other_that_is_an_evaluation_or_a_region_is_held_there():
    comment = {"code": "121106", "scheme": "DCM", "meaning": "Comment"}
    finding = Finding.from_json({"present": True, "other": [
        {"value_type": "TEXT", "relationship": "CONTAINS", "concept": comment, "value": "lobulated"},
        {"value_type": "SCOORD", "relationship": "CONTAINS", "concept": comment,
         "value": {"graphic_type": "POINT", "data": [0.1, 0.2]}}]})
    assert finding.other == ()
    assert [e.value for e in finding.evaluations] == ["lobulated"]
    assert isinstance(finding.evaluations[0], Evaluation)
    assert finding.regions[0].value.data == pytest.approx((0.1, 0.2), rel=1e-7)  # float32, as stored


def test_writing_refuses_text_built_in_python_that_dicom_cannot_hold():
    node = ContentNode("TEXT", "HAS PROPERTIES", None, "a\x00b")  # not checked by the constructor
    report = Report(modality="MR", procedure="whole-body MRI",
                    findings=(Finding(present=True, other=(node,)),))
    with pytest.raises(InputError, match="U\\+0000"):
        to_dataset(report)


# -- text extractor --------------------------------------------------------------------------
@settings(FAST, max_examples=150)
@given(st.text(st.characters(exclude_categories=[]), max_size=400))
def test_extract_takes_any_text(text):
    from dicomtools.text.extract import extract_findings
    try:
        for found in extract_findings(text):
            json.dumps(found.to_json())
    except InputError:
        pass


@settings(FAST, max_examples=60)
@given(st.integers(0, 2**32))
def test_extract_on_corpus_mutations(tmp_path, seed):
    from dicomtools.text.extract import extract_findings
    from dicomtools.text.reports import read_report_text
    case = fuzz.text_case(fuzz.text_corpus(), random.Random(seed))
    if len(case.payload) > 120_000:
        return  # the long ones run in the campaign and in the linear-time test below
    path = tmp_path / "report.txt"
    path.write_bytes(case.payload)
    try:
        extract_findings(read_report_text(path))
    except InputError as exc:
        assert "\n" not in str(exc)


@pytest.mark.parametrize("unit", ["mass ", "T 9/10 ", "2.6 x ", "-\n", "no ", ". "])
def test_extract_time_is_linear(unit):
    from dicomtools.text.extract import extract_findings

    def seconds(size: int) -> float:
        text = (unit * (size // len(unit) + 1))[:size]
        start = time.perf_counter()
        extract_findings(text)
        return time.perf_counter() - start
    small, large = seconds(25_000), seconds(200_000)
    assert large < max(1.0, 20 * small), (small, large)  # 8x the text; quadratic would be 64x


# -- the campaign itself, a few cases of each --------------------------------------------
def test_the_campaign_runs_clean(tmp_path, cached_build):
    worker = fuzz.Worker(tmp_path / "work", patch=False)
    tallies = {name: fuzz.Tally() for name in ("reader", "build", "text")}
    for campaign, count in (("reader", 120), ("build", 120), ("text", 25)):
        for index in range(count):
            case = worker.make(campaign, 7, index)
            if campaign == "text" and len(case.payload) > 120_000:
                continue
            tallies[campaign].add(worker.run(campaign, 7, index))
    report = fuzz.report(tallies)
    for tally in tallies.values():
        assert tally.undocumented == tally.hangs == tally.silent == tally.bad_messages == 0, report
    assert tallies["reader"].truncated and tallies["reader"].benign, report
