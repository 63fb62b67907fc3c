"""Concordance over real, messy archive folders (issue 14): one minimal tree per failure class
measured by the folder-fuzz campaign, then a bounded campaign over generated trees."""

from __future__ import annotations

import importlib
import json
import os
import shutil
import socket
import subprocess
import sys
import warnings
from dataclasses import replace
from pathlib import Path

import pydicom
import pytest
from conftest import SAMPLES

from dicomtools.concordance import collect, collect_reports, concordance, concordance_of_files
from dicomtools.concordance.collect import MAX_SR_BYTES, parse_date
from dicomtools.errors import InputError
from dicomtools.model import Finding, Patient, Report, Study

collect_module = importlib.import_module("dicomtools.concordance.collect")  # not the function

STRICT = {**os.environ, "PYTHONIOENCODING": "utf-8:strict"}


def cli(*args, timeout=120):
    """The CLI as a user runs it, with a stdout that refuses what UTF-8 cannot hold."""
    return subprocess.run([sys.executable, "-m", "dicomtools", *map(os.fsdecode, args)],
                          capture_output=True, timeout=timeout, env=STRICT)


def _variant(src: Path, dst, new_uid=True, **changes):
    from pydicom import config
    from pydicom.uid import generate_uid
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds = pydicom.dcmread(src)
        if new_uid:
            ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
        for keyword, value in changes.items():
            if value is None:
                delattr(ds, keyword)
            else:
                setattr(ds, keyword, value)
        old, config.settings.writing_validation_mode = config.settings.writing_validation_mode, 0
        try:
            ds.save_as(dst)
        finally:
            config.settings.writing_validation_mode = old
    return dst


@pytest.fixture()
def wbmri(seed_srs):
    return seed_srs["case1/wbmri"]


# ---- file names are data ----------------------------------------------------------------
def test_names_that_are_not_utf8_or_hold_newlines_are_printed_escaped(wbmri, tmp_path):
    folder = os.path.join(os.fsencode(tmp_path), b"arch\xffive\nx")
    os.mkdir(folder)
    shutil.copyfile(wbmri, os.path.join(folder, b"sr\xfe\x1b[31m.dcm"))
    with open(os.path.join(folder, b"notes\xff.bin"), "wb") as handle:
        handle.write(b"not dicom")
    os.symlink(b"/nonexistent\xff", os.path.join(folder, b"gone\n.dcm"))
    for fmt in ("md", "csv", "json", "html"):
        proc = cli("concordance", folder, "--format", fmt)
        assert proc.returncode == 0, proc.stderr
        out = proc.stdout.decode("utf-8")  # strict: every byte printed is UTF-8
        assert "\x1b" not in out and "\udcff" not in out
        if fmt == "json":
            out = "\n".join(json.loads(out)["warnings"])
        if fmt != "csv":  # CSV holds the table alone; the others name the files
            assert "arch\\xffive\\nx" in out, out
    proc = cli("concordance", folder)
    out = proc.stdout.decode()
    assert "notes\\xff.bin" in out  # the skipped file, named safely
    assert "gone\\n.dcm: broken symbolic link" in out
    proc = cli("concordance", os.path.join(folder, b"missing\xff"))
    assert proc.returncode == 2 and b"missing\\xff: no such file" in proc.stderr


# ---- deep trees and loops -------------------------------------------------------------------
def _chain(start, depth: int, name: str = "d") -> int:
    fd = os.open(start, os.O_RDONLY)
    for _ in range(depth):
        os.mkdir(name, dir_fd=fd)
        inner = os.open(name, os.O_RDONLY, dir_fd=fd)
        os.close(fd)
        fd = inner
    return fd


def _put(fd: int, name: str, data: bytes) -> None:
    out = os.open(name, os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd)
    os.write(out, data)
    os.close(out)


def test_deep_tree_is_walked_iteratively_and_the_depth_limit_is_a_message(seed_srs, tmp_path):
    fd = _chain(tmp_path, 10)
    _put(fd, "shallow.dcm", seed_srs["case1/wbmri"].read_bytes())
    os.close(fd)
    fd = _chain(tmp_path / "d" / "d", 1500, "e")  # far deeper than Python's recursion limit
    _put(fd, "deep.dcm", seed_srs["case1/mibg"].read_bytes())
    os.close(fd)
    cohort = collect([tmp_path])
    (patient,) = cohort.patients
    assert [e.report.procedure for e in patient.exams] == ["whole-body MRI"]
    assert any("levels below the path given (limit MAX_DEPTH)" in w for w in cohort.warnings)
    shallow = collect([tmp_path], max_depth=5)
    assert not shallow.patients
    assert any("more than 5 levels" in w for w in shallow.warnings)
    subprocess.run(["rm", "-rf", str(tmp_path / "d")], check=True)


def test_symlink_loops_are_followed_once(wbmri, tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    shutil.copy(wbmri, tmp_path / "a" / "b" / "sr.dcm")
    os.symlink(".", tmp_path / "a" / "b" / "self")
    os.symlink(tmp_path, tmp_path / "a" / "b" / "top")
    os.symlink(tmp_path / "y", tmp_path / "x")
    os.symlink(tmp_path / "x", tmp_path / "y")
    os.symlink(tmp_path / "a", tmp_path / "again")  # a second way into the same folder
    cohort = collect([tmp_path])
    assert len(cohort.patients[0].exams) == 1
    assert any("x: symbolic link loop" in w for w in cohort.warnings)
    assert any("self: symbolic link to a folder already read" in w for w in cohort.warnings)


# ---- values are parsed defensively ----------------------------------------------------------
def test_malformed_dates_ages_and_ids_are_warnings_and_the_exam_is_kept(wbmri, tmp_path):
    _variant(wbmri, tmp_path / "odd.dcm", StudyDate="2015-13-45", PatientBirthDate="x1",
             PatientAge="17 months", PatientSex="Q", PatientID="P" * 70)
    (tmp_path / "x.labs.json").write_text(json.dumps(
        {"patient": {"id": "P" * 70, "issuer": "DICOMTOOLS-SAMPLE"},
         "results": [{"test": "VMA", "result": "normal", "date": 20150101}]}))
    cohort = collect([tmp_path])
    (patient,) = cohort.patients
    assert len(patient.exams) == 1 and patient.exams[0].date is None
    text = "\n".join(cohort.warnings)
    for attribute in ("Study Date", "Patient's Birth Date", "Patient's Age", "Patient's Sex",
                      "Patient ID is 70 characters long"):
        assert f"odd.dcm: {attribute}" in text, text
    assert "x.labs.json: result 1: date is not a date" in text
    assert "2015-13-45" not in text and "x1" not in text and "P" * 70 not in text
    assert patient.labs[0].result == "normal"
    report = concordance(cohort)
    assert report.rows[0].cells["Age at presentation"] == "unknown"
    for bad in (20150101, None, ["2015"], {"a": 1}, "2015-01-01", "20151345", ""):
        assert parse_date(bad) is None
    assert parse_date("20150512") == parse_date("20150512101500.000")


def test_a_reader_defect_is_a_warning_not_a_crash(seed_srs, tmp_path, monkeypatch):
    shutil.copy(seed_srs["case1/wbmri"], tmp_path / "a.dcm")
    shutil.copy(seed_srs["case1/mibg"], tmp_path / "b.dcm")
    real = collect_module.read_sr

    def broken(path):
        if str(path).endswith("b.dcm"):
            raise NotImplementedError("a code path the reader does not have")
        return real(path)
    monkeypatch.setattr(collect_module, "read_sr", broken)
    cohort = collect([tmp_path])
    assert len(cohort.patients[0].exams) == 1
    assert any("b.dcm: could not be read (NotImplementedError" in w for w in cohort.warnings)


# ---- each path counted once -------------------------------------------------------------
@pytest.fixture()
def case_folder(seed_srs, tmp_path):
    folder = tmp_path / "cases"
    for key, path in seed_srs.items():
        sub = folder / key.split("/")[0]
        sub.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, sub / path.name)
    for labs in SAMPLES.glob("*/labs.json"):
        shutil.copy(labs, folder / labs.parent.name / "labs.json")
    return folder


def test_the_same_folder_given_twice_or_nested_is_counted_once(case_folder, tmp_path):
    once = concordance_of_files([case_folder])
    os.symlink(case_folder, tmp_path / "link")
    shutil.copy(case_folder / "case2" / "labs.json", case_folder / "case2" / "copy.labs.json")
    again = concordance_of_files([case_folder, case_folder / "case2", tmp_path / "link",
                                  case_folder / "case3" / "labs.json", case_folder])
    assert [r.cells for r in again.rows] == [r.cells for r in once.rows]
    assert [r.notes for r in again.rows] == [r.notes for r in once.rows]
    assert any("reached more than once" in w for w in again.cohort.warnings)
    assert any("labs.json: 1 lab result(s) already read from" in w for w in again.cohort.warnings)


# ---- duplicate SOP Instance UIDs --------------------------------------------------------
def test_a_valid_sr_is_not_shadowed_by_a_damaged_copy_with_its_uid(wbmri, tmp_path):
    data = wbmri.read_bytes()
    (tmp_path / "0000_cut.dcm").write_bytes(data[:1300])            # reads, but cut short
    _variant(wbmri, tmp_path / "0001_noid.dcm", new_uid=False, PatientID=None)
    shutil.copy(wbmri, tmp_path / "0002_copy.dcm")
    shutil.copy(wbmri, tmp_path / "zzzz_valid.dcm")
    cohort = collect([tmp_path])
    (patient,) = cohort.patients
    (exam,) = patient.exams
    assert exam.report.findings and exam.origin.endswith("0002_copy.dcm")
    text = "\n".join(cohort.warnings)
    assert "0001_noid.dcm: same SOP Instance UID as" in text and "different content" in text
    assert "zzzz_valid.dcm: same SOP Instance UID and content as" in text
    assert "it has a Patient ID and a known procedure" in text


def test_two_different_copies_both_readable_keep_one_and_say_so(wbmri, tmp_path):
    _variant(wbmri, tmp_path / "a.dcm", new_uid=False, StudyDate="20150102")
    shutil.copy(wbmri, tmp_path / "b.dcm")
    shutil.copy(wbmri, tmp_path / "c.dcm")
    cohort = collect([tmp_path])
    (exam,) = cohort.patients[0].exams
    assert exam.origin.endswith("b.dcm")  # two identical copies outvote one
    assert any("a.dcm: same SOP Instance UID as" in w and "more copies agree" in w
               for w in cohort.warnings)


# ---- special files ---------------------------------------------------------------------------
def test_a_fifo_given_as_path_or_in_a_tree_is_skipped_not_opened(wbmri, tmp_path):
    shutil.copy(wbmri, tmp_path / "sr.dcm")
    os.mkfifo(tmp_path / "pipe.dcm")
    os.mkfifo(tmp_path / "labs.json")
    proc = cli("concordance", tmp_path / "pipe.dcm", tmp_path, timeout=60)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout.decode()
    assert "pipe.dcm: not a regular file (FIFO); skipped, not opened" in out
    assert "labs.json: not a regular file (FIFO)" in out
    proc = cli("validate", tmp_path / "pipe.dcm", "--skip", "pixelmed", timeout=60)
    assert proc.returncode == 4  # ends, without opening it
    from dicomtools.errors import SRReadError
    from dicomtools.sr.validate import validate
    with pytest.raises(SRReadError, match=r"pipe.dcm: not a regular file \(FIFO\); not read"):
        validate(tmp_path / "pipe.dcm", ("dicomtools",))


def test_sockets_and_links_to_devices_are_skipped(wbmri, tmp_path):
    shutil.copy(wbmri, tmp_path / "sr.dcm")
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(tmp_path / "sock"))
    os.symlink("/dev/zero", tmp_path / "zero.dcm")
    os.symlink("/dev/zero", tmp_path / "zero.labs.json")
    cohort = collect([tmp_path, "/dev/null"])
    assert len(cohort.patients[0].exams) == 1
    text = "\n".join(cohort.warnings)
    assert "sock: not a regular file (socket)" in text
    assert "zero.dcm: not a regular file (character device)" in text
    assert "zero.labs.json: not a regular file (character device)" in text
    assert "/dev/null: not a regular file (character device)" in text


def test_an_unreadable_file_or_folder_is_a_note(wbmri, tmp_path, monkeypatch):
    shutil.copy(wbmri, tmp_path / "sr.dcm")
    shutil.copy(wbmri, tmp_path / "secret.dcm")
    (tmp_path / "closed").mkdir()
    real_open, real_scandir = os.open, os.scandir

    def fake_open(path, *args, **kwargs):
        if os.fsdecode(path).endswith("secret.dcm"):
            raise PermissionError(13, "Permission denied")
        return real_open(path, *args, **kwargs)

    def fake_scandir(path="."):
        if os.fsdecode(path).endswith("closed"):
            raise PermissionError(13, "Permission denied")
        return real_scandir(path)
    monkeypatch.setattr(collect_module.os, "open", fake_open)
    monkeypatch.setattr(collect_module.os, "scandir", fake_scandir)
    cohort = collect([tmp_path])
    monkeypatch.undo()
    assert len(cohort.patients[0].exams) == 1
    text = "\n".join(cohort.warnings)
    assert "secret.dcm: cannot be read (Permission denied); skipped" in text
    assert "closed: folder cannot be read (Permission denied)" in text


# ---- limits ------------------------------------------------------------------------------------
def test_limits_are_clear_messages(wbmri, tmp_path):
    for n in range(8):
        shutil.copy(wbmri, tmp_path / f"{n}.dcm")
    with pytest.raises(InputError, match=r"more than 5 files and folders .*give narrower"):
        collect([tmp_path], max_entries=5)
    big = tmp_path / "big" / "huge.dcm"
    big.parent.mkdir()
    shutil.copy(wbmri, big)
    os.truncate(big, MAX_SR_BYTES + 1)  # sparse: an SR meta, then nothing
    labs = tmp_path / "big" / "huge.labs.json"
    labs.write_bytes(b" " * (collect_module.MAX_LABS_BYTES + 1))
    cohort = collect([tmp_path / "big"])
    text = "\n".join(cohort.warnings)
    assert "huge.dcm: 33,554,433 bytes, more than an SR may have (32 MiB, limit MAX_SR_BYTES)" in text
    assert "huge.labs.json: 1,048,577 bytes, more than a labs file may have" in text
    image = tmp_path / "image" / "big_image.dcm"
    image.parent.mkdir()
    shutil.copy(SAMPLES / "case1" / "wbmri" / "MR001.dcm", image)
    os.truncate(image, 3 * 2**20)  # large: the file meta says MR, so it is not read
    assert collect([image.parent]).skipped_files == 1


def test_bad_labs_files_are_warnings_not_the_end_of_the_run(wbmri, tmp_path):
    shutil.copy(wbmri, tmp_path / "sr.dcm")
    (tmp_path / "a.labs.json").write_text("{not json")
    (tmp_path / "b.labs.json").write_text("[" * 100_000 + "]" * 100_000)
    (tmp_path / "c.labs.json").write_text('{"patient": {"id": ["x"]}, "results": []}')
    cohort = collect([tmp_path])
    assert len(cohort.patients) == 1
    text = "\n".join(cohort.warnings)
    assert "a.labs.json: not a labs file (JSONDecodeError" in text
    assert "b.labs.json: not a labs file (JSON nested too deeply)" in text
    assert "c.labs.json: not a labs file (patient id or results missing" in text


def test_a_file_of_any_name_is_read_by_its_content(wbmri, tmp_path):
    shutil.copy(wbmri, tmp_path / "report.txt")  # an SR, whatever its name
    (tmp_path / "readme.txt").write_text("hello")  # ours / findings files: no note
    (tmp_path / "blob.bin").write_bytes(b"\0" * 128 + b"DICM" + b"\xff" * 50)
    cohort = collect([tmp_path])
    assert len(cohort.patients[0].exams) == 1
    assert cohort.skipped_names == [printable_path(tmp_path / "blob.bin")]


def printable_path(path) -> str:
    from dicomtools.phi import printable
    return printable(str(path))


def test_library_warnings_become_our_own_one_line_warnings(wbmri, tmp_path, monkeypatch, caplog):
    from pydicom.misc import warn_and_log
    _variant(wbmri, tmp_path / "long.dcm", PatientID="ID" + "9" * 70)
    real = collect_module.read_sr

    def noisy(path):  # pydicom's own wording and channel (a warning and a log record)
        warn_and_log("Invalid value for VR LO: 'ID9999999999'.")
        return real(path)
    monkeypatch.setattr(collect_module, "read_sr", noisy)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a leaked UserWarning would fail here
        cohort = collect([tmp_path])
    assert len(cohort.patients[0].exams) == 1
    assert any(w.endswith("long.dcm: pydicom: Invalid value for VR LO: '***'.")
               for w in cohort.warnings), cohort.warnings
    assert not any("9" * 10 in w for w in cohort.warnings)
    assert "9" * 10 not in caplog.text  # pydicom's logger was muted while reading


# ---- outside the work-up window (issue 11) ------------------------------------------------------
def test_an_exam_outside_the_window_shows_its_result_and_interval():
    patient = Patient(id="P1", issuer="X")
    reports = [
        Report(modality="MR", procedure="whole-body MRI", patient=patient, study=Study(date="20150601"),
               findings=(Finding(present=True, finding="mass", site="adrenal gland", laterality="left"),)),
        Report(modality="NM", procedure="I-123 mIBG scintigraphy", patient=patient,
               study=Study(date="20100101"),
               findings=(Finding(present=False, finding="uptake", site="whole body",
                                 tracer="I-123 mIBG"),)),
    ]
    row = concordance(collect_reports(reports)).rows[0]
    assert row.cells["Whole-body Scintigraphy"] == \
        "negative (5 years 5 months before the index exam, outside the 365-day work-up window)"
    assert row.cells["Abdominal ultrasound"] == "not performed"
    wide = concordance(collect_reports(reports), window_days=5000).rows[0]
    assert wide.cells["Whole-body Scintigraphy"] == "negative"
    inside_and_out = [*reports, replace(reports[1], study=Study(date="20150603"))]
    assert concordance(collect_reports(inside_and_out)).rows[0].cells["Whole-body Scintigraphy"] \
        == "negative"


# ---- the campaign -------------------------------------------------------------------------
def test_folder_fuzz_campaign(tmp_path):
    """A bounded campaign (the long one: benchmarks/fuzz_folders.py --trees 10000): no
    undocumented error, no hang, no silent loss, no planted patient value, no control
    character in the output."""
    from dicomtools.concordance.fuzz import run_campaign
    summary = run_campaign(48, seed=14, timeout=40, work=tmp_path)
    report = "\n".join(summary.lines())
    assert summary.count("error") == 0, report
    assert summary.count("undocumented") == 0, report
    assert summary.count("hang") == 0, report
    assert not summary.silent, report
    assert not summary.phi and not summary.unsafe and not summary.stderr_noise, report


def test_a_coded_procedure_without_a_name_is_a_warning_not_a_crash():
    """Foreign SRs keep their procedure as a code (open model); concordance cannot place it."""
    from dicomtools.vocab import Code
    coded = Report(modality="MR", procedure=Code("46358-8", "LN", "MRI whole body\nx"),
                   patient=Patient(id="P1", issuer="X"), study=Study(date="20150101"))
    named = Report(modality="MR", procedure="whole-body MRI", patient=Patient(id="P1", issuer="X"),
                   study=Study(date="20150101"))
    report = concordance(collect_reports([coded, named]))
    assert len(report.patients[0].exams) == 1
    assert any("procedure 'MRI whole body\\nx' has no dicomtools name; ignored" in w
               for w in report.cohort.warnings)
    json.loads(report.render("json"))
