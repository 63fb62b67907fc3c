"""PACS pipelines against a real Orthanc (tests/pacs_server.py starts it on free 127.0.0.1 ports):
seed-case SRs out by C-STORE and STOW-RS, found by C-FIND and QIDO-RS, back by C-GET, C-MOVE
and WADO-RS, equal as datasets and as reports; verified store; every error a user meets, each
one clear message. DCMTK findscu/storescu are the independent oracle, Orthanc's REST API the
ground truth for what is stored."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pydicom
import pytest
from conftest import require_tool
from pacs_server import (
    AET,
    CRASH,
    REFUSE,
    SCU_AET,
    UNKNOWN_AET,
    free_port,
    make_sr,
    orthanc,  # noqa: F401  (the session fixture)
)

from dicomtools import pacs
from dicomtools.errors import InputError
from dicomtools.pacs import (
    DimseAddress,
    InstanceRef,
    PacsConnectionError,
    PacsHTTPError,
    PacsRejected,
    PacsTimeout,
    WebAddress,
    parse_pacs,
)
from dicomtools.pacs.common import query_dataset
from dicomtools.sr import read_sr

WAVEFORM_SR = "1.2.840.10008.5.1.4.1.1.88.77"  # unknown to Orthanc 1.10's DIMSE SCP


def run_cli(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dicomtools", *map(str, args)],
                          capture_output=True, text=True, timeout=300)


def header(path: Path) -> pydicom.Dataset:
    return pydicom.dcmread(path, stop_before_pixels=True)


@pytest.fixture
def seeds(seed_srs, orthanc):
    """The seed-case SRs, first removed from the PACS so each test stores them afresh."""
    for path in seed_srs.values():
        orthanc.delete_study(str(header(path).StudyInstanceUID))
    return seed_srs


def dcmtk(name: str) -> str:
    """A DCMTK tool by its Debian path: pynetdicom installs console scripts with the same names
    (findscu, storescu, echoscu...) that come first on PATH in a virtualenv or pyenv."""
    return require_tool(name, f"/usr/bin/{name}")


def findscu_uids(orthanc, study_uid: str, out: Path) -> list[str]:
    """SOP Instance UIDs DCMTK findscu gets for a study (responses as files: findscu's exit
    code is 0 even on an aborted association)."""
    tool = dcmtk("findscu")
    out.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run([tool, "-S", "-aet", SCU_AET, "-aec", AET, "127.0.0.1", str(orthanc.dicom_port),
                           "-k", "QueryRetrieveLevel=IMAGE", "-k", f"StudyInstanceUID={study_uid}",
                           "-k", "SeriesInstanceUID", "-k", "SOPInstanceUID", "-X", "-od", str(out)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return sorted(str(pydicom.dcmread(p).SOPInstanceUID) for p in out.glob("rsp*.dcm"))


# -- addresses ---------------------------------------------------------------------------------
def test_addresses_parse_and_bad_ones_are_refused_with_the_expected_form():
    assert parse_pacs("dicom://ORTHANC@127.0.0.1:4242") == DimseAddress("ORTHANC", "127.0.0.1", 4242, "DICOMTOOLS")
    assert parse_pacs("dicom://PACS@Host.example:104", calling_aet="ME").calling_aet == "ME"
    assert parse_pacs("http://127.0.0.1:8042/dicom-web/") == WebAddress("http://127.0.0.1:8042/dicom-web")
    for bad, says in [("ORTHANC@127.0.0.1:4242", "expected dicom://AET@host:port"),
                      ("dicom://127.0.0.1:4242", "expected dicom://AET@host:port"),
                      ("dicom://ORTHANC@127.0.0.1", "has no port"),
                      ("dicom://ORTHANC@127.0.0.1:99999", "not a number in 1-65535"),
                      ("dicom://SEVENTEEN_CHARS_AE@h:1", "not a valid AE title"),
                      ("dicom://ME:ORTHANC@h:1", "--aet"),
                      ("http://:8042/dicom-web", "has no host")]:
        with pytest.raises(InputError) as info:
            parse_pacs(bad)
        assert says in str(info.value), (bad, str(info.value))


# -- round trips ---------------------------------------------------------------------------------
def test_echo_over_dimse_and_dicomweb(orthanc):
    assert pacs.echo(orthanc.pacs) < 5
    assert pacs.echo(orthanc.dicomweb) < 5


def test_seed_srs_by_c_store_c_find_c_get_and_c_move(orthanc, seeds, tmp_path):
    paths = list(seeds.values())
    result = pacs.send(orthanc.pacs, paths, concurrency=4)
    assert result.counts() == {"stored": len(paths), "already present": 0, "failed": 0, "skipped": 0}
    assert all(r.pacs_status == 0x0000 for r in result.results)

    studies = []
    for key, path in seeds.items():
        original = pydicom.dcmread(path)
        study, sop = str(original.StudyInstanceUID), str(original.SOPInstanceUID)
        studies.append(study)
        assert orthanc.instance_uids_in_study(study) == [sop]  # ground truth: Orthanc's own index
        found = pacs.find(orthanc.pacs, "instance", StudyInstanceUID=study, Modality="SR")
        assert [f["SOPInstanceUID"] for f in found] == [sop], key
        assert findscu_uids(orthanc, study, tmp_path / "findscu" / key) == [sop], key
        (fetched,) = pacs.fetch(orthanc.pacs, tmp_path / "c-get", SOPInstanceUID=sop)
        # Dataset equality, not bytes: Orthanc rewrites the file meta of what it receives by C-STORE.
        assert pydicom.dcmread(fetched) == original, key
        assert pacs.fetch_reports(orthanc.pacs, StudyInstanceUID=study) == [read_sr(path)], key

    series = pacs.find(orthanc.pacs, "series", StudyInstanceUID=studies, Modality="SR")
    assert len(series) == len(paths)
    patient_ids = {str(header(p).PatientID) for p in paths}
    for patient_id in patient_ids:  # patient level: the Patient Root model
        (patient,) = pacs.find(orthanc.pacs, "patient", PatientID=patient_id)
        assert int(patient["NumberOfPatientRelatedStudies"]) >= 1
    with pytest.raises(InputError, match="QIDO-RS has no patient level"):
        pacs.find(orthanc.dicomweb, "patient")
    moved = pacs.fetch_reports(orthanc.pacs, move_port=orthanc.move_port, StudyInstanceUID=studies)
    expected = [read_sr(p) for p in paths]
    assert sorted(moved, key=lambda r: r.sr.sop_instance_uid) == \
        sorted(expected, key=lambda r: r.sr.sop_instance_uid)


def test_seed_srs_by_stow_qido_and_wado(orthanc, seeds, tmp_path):
    paths = list(seeds.values())
    result = pacs.send(orthanc.dicomweb, paths, concurrency=4)
    assert result.counts()["stored"] == len(paths) and result.ok
    for key, path in seeds.items():
        original = pydicom.dcmread(path)
        study, sop = str(original.StudyInstanceUID), str(original.SOPInstanceUID)
        assert orthanc.instance_uids_in_study(study) == [sop]
        found = pacs.find(orthanc.dicomweb, "instance", StudyInstanceUID=study, Modality="SR")
        assert [f["SOPInstanceUID"] for f in found] == [sop], key
        studies = pacs.find(orthanc.dicomweb, "study", StudyInstanceUID=study)
        assert [s["ModalitiesInStudy"] for s in studies] == ["SR"]
        # Stored over HTTP, found over DIMSE by an independent client.
        assert findscu_uids(orthanc, study, tmp_path / "findscu" / key) == [sop], key
        (fetched,) = pacs.fetch(orthanc.dicomweb, tmp_path / "wado", SOPInstanceUID=sop)
        assert pydicom.dcmread(fetched) == original, key
        assert pacs.fetch_reports(orthanc.dicomweb, StudyInstanceUID=study) == [read_sr(path)], key


def test_sr_sent_by_dcmtk_storescu_is_found_and_read_back(orthanc, tmp_path):
    storescu = dcmtk("storescu")
    path = make_sr(tmp_path / "by-storescu.dcm")
    original = pydicom.dcmread(path)
    proc = subprocess.run([storescu, "-R", "-aet", SCU_AET, "-aec", AET, "127.0.0.1",
                           str(orthanc.dicom_port), str(path)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    (found,) = pacs.find(orthanc.pacs, "series", StudyInstanceUID=original.StudyInstanceUID)
    assert found["SeriesInstanceUID"] == original.SeriesInstanceUID and found["Modality"] == "SR"
    assert pacs.fetch_reports(orthanc.pacs, StudyInstanceUID=original.StudyInstanceUID) == [read_sr(path)]
    # and what storescu stored counts as "already present" for us: nothing is sent twice
    result = pacs.send(orthanc.pacs, [path])
    assert [r.status for r in result.results] == ["already present"]


def test_resending_creates_no_duplicate(orthanc, seeds, tmp_path):
    paths = list(seeds.values())
    assert pacs.send(orthanc.pacs, paths).count("stored") == len(paths)
    for address in (orthanc.pacs, orthanc.dicomweb):
        again = pacs.send(address, paths, concurrency=2)
        assert [r.status for r in again.results] == ["already present"] * len(paths), address
    # Even a forced re-store of the same SOP Instance UID (C-STORE and STOW-RS both answer
    # success) leaves one instance.
    for address in (orthanc.pacs, orthanc.dicomweb):
        with pacs.connect(address) as client:
            assert all(s.ok for s in client.store_many([pydicom.dcmread(p) for p in paths]))
    for path in paths:
        ds = header(path)
        assert orthanc.instance_uids_in_study(str(ds.StudyInstanceUID)) == [ds.SOPInstanceUID]


@pytest.mark.parametrize("protocol", ["dimse", "dicomweb"])
def test_verified_store_catches_what_the_pacs_did_not_keep(orthanc, tmp_path, protocol):
    address = orthanc.pacs if protocol == "dimse" else orthanc.dicomweb
    good = make_sr(tmp_path / "good.dcm")
    refused = make_sr(tmp_path / "refused.dcm", series_description=REFUSE)
    crashed = make_sr(tmp_path / "crashed.dcm", series_description=CRASH)
    result = pacs.send(address, [good, refused, crashed], concurrency=1)
    by_name = {Path(r.path).name: r for r in result.results}
    assert by_name["good.dcm"].status == "stored"
    assert not result.ok
    # Orthanc's filter drops the instance yet answers success (C-STORE 0x0000 / STOW-RS lists
    # it as stored): only the query afterwards shows it is missing.
    refused_result = by_name["refused.dcm"]
    assert refused_result.status == "failed" and "did not keep it" in refused_result.message
    assert refused_result.pacs_status == 0x0000
    assert not orthanc.has_instance(refused_result.sop_instance_uid)
    crashed_result = by_name["crashed.dcm"]
    assert crashed_result.status == "failed"
    if protocol == "dimse":  # an internal error: Orthanc answers Refused: Out of Resources
        assert crashed_result.pacs_status == 0xA700
        assert "0xA700 (Failure: Refused: Out of Resources)" in crashed_result.message
    else:  # STOW-RS answers 200 with neither a stored nor a failed entry
        assert "neither as stored nor as failed" in crashed_result.message
    assert not orthanc.has_instance(crashed_result.sop_instance_uid)


def test_no_accepted_presentation_context_is_a_clear_per_instance_failure(orthanc, tmp_path):
    odd = make_sr(tmp_path / "waveform-annotation.dcm", sop_class=WAVEFORM_SR)
    good = make_sr(tmp_path / "good.dcm")
    result = pacs.send(orthanc.pacs, [odd, good])
    odd_result, good_result = result.results
    assert good_result.status == "stored"  # one refused class does not stop the batch
    assert odd_result.status == "failed"
    message = odd_result.message
    assert f"127.0.0.1:{orthanc.dicom_port}" in message and "accepted no presentation context" in message
    assert WAVEFORM_SR in message and "Waveform Annotation SR" in message
    # The same object is accepted over STOW-RS (which has no presentation contexts).
    assert [r.status for r in pacs.send(orthanc.dicomweb, [odd]).results] == ["stored"]
    proc = run_cli("send", make_sr(tmp_path / "again.dcm", sop_class=WAVEFORM_SR), "--pacs", orthanc.pacs)
    assert proc.returncode == 6 and "accepted no presentation context" in proc.stdout


# -- errors a user meets -------------------------------------------------------------------------
def test_connection_refused_names_the_endpoint():
    port = free_port()
    with pytest.raises(PacsConnectionError) as info:
        pacs.echo(f"dicom://{AET}@127.0.0.1:{port}")
    assert str(info.value).startswith(f"127.0.0.1:{port} (called AE 'ORTHANC', calling AE 'DICOMTOOLS')")
    assert "connection refused" in str(info.value)
    with pytest.raises(PacsConnectionError, match=rf"http://127.0.0.1:{port}/dicom-web: .*connection refused"):
        pacs.echo(f"http://127.0.0.1:{port}/dicom-web")


def test_wrong_called_ae_title_is_rejected(orthanc):
    with pytest.raises(PacsRejected) as info:
        pacs.echo(f"dicom://WRONG@127.0.0.1:{orthanc.dicom_port}")
    message = str(info.value)
    assert f"127.0.0.1:{orthanc.dicom_port}" in message and "association rejected" in message
    assert "Called AE title not recognised" in message and "'WRONG'" in message


def test_unknown_calling_ae_title_is_refused_queries_and_retrievals(orthanc, tmp_path):
    path = make_sr(tmp_path / "sr.dcm")
    assert pacs.send(orthanc.pacs, [path]).ok  # C-STORE and our own C-FIND as DICOMTOOLS
    ds = header(path)
    with pytest.raises(PacsRejected) as info:
        pacs.find(orthanc.pacs, "study", calling_aet=UNKNOWN_AET, StudyInstanceUID=ds.StudyInstanceUID)
    assert f"calling AE '{UNKNOWN_AET}'" in str(info.value) and "DicomModalities" in str(info.value)
    with pytest.raises(PacsRejected, match="aborted the association during C-FIND"):
        pacs.send(orthanc.pacs, [path], calling_aet=UNKNOWN_AET)


def test_timeouts_when_the_pacs_does_not_answer(orthanc):
    client = pacs.connect(orthanc.pacs, timeout=1)
    client.echo()  # association open before the PACS hangs
    try:
        with orthanc.frozen():
            with pytest.raises(PacsTimeout, match=r"no answer to the association request within 1 s"):
                pacs.echo(orthanc.pacs, timeout=1)
            with pytest.raises(PacsTimeout, match=r"no answer to C-FIND within 1 s"):
                client.find("study", query_dataset("study", {}))
            with pytest.raises(PacsTimeout, match=rf"{orthanc.dicomweb}: no answer to QIDO-RS within 1 s"):
                pacs.echo(orthanc.dicomweb, timeout=1)
    finally:
        client.close()
    assert pacs.echo(orthanc.pacs) < 5  # and it answers again afterwards


def test_http_errors_carry_the_pacs_message(orthanc, tmp_path):
    with pytest.raises(PacsHTTPError) as info:
        pacs.find(f"{orthanc.http_url}/no-such-root", "study")
    assert info.value.status == 404
    assert "QIDO-RS failed: HTTP 404 Not Found; PACS says: Unknown resource" in str(info.value)

    with pacs.connect(orthanc.dicomweb) as client, pytest.raises(PacsHTTPError) as info:
        list(client.retrieve([InstanceRef("1.2.3", "1.2.3.4", "1.2.3.4.5")]))
    assert info.value.status == 404
    assert "WADO-RS failed: HTTP 404 Not Found; PACS says: Accessing an inexistent item" in str(info.value)

    # A server-side failure (Orthanc's Lua hook raises on /crash/...): HTTP 500 and its details.
    with pytest.raises(PacsHTTPError) as info:
        pacs.send(f"{orthanc.http_url}/crash/dicom-web", [make_sr(tmp_path / "sr.dcm")])
    message = str(info.value)
    assert info.value.status == 500 and "HTTP 500 Internal Server Error" in message
    assert "Cannot execute a Lua command" in message and "simulated internal failure" in message
    assert "stopped after 0 of 1 instance verified" in message


# -- command line ---------------------------------------------------------------------------------
def test_cli_send_find_fetch_over_both_protocols(orthanc, seeds, tmp_path):
    paths = list(seeds.values())
    identifiers = set()
    for path in paths:
        ds = header(path)
        identifiers |= {str(ds.PatientName), str(ds.PatientID)} - {""}
    manifest = tmp_path / "send.jsonl"
    proc = run_cli("send", *paths, "--pacs", orthanc.pacs, "--manifest", manifest, "-j", "4")
    assert proc.returncode == 0, proc.stderr
    assert f"{len(paths)} stored, 0 already present, 0 failed, 0 skipped" in proc.stdout
    records = [json.loads(line) for line in manifest.read_text().splitlines()]
    assert sorted(r["status"] for r in records) == ["stored"] * len(paths)

    proc = run_cli("send", *paths, "--dicomweb", orthanc.dicomweb, "-v", "--progress")
    assert proc.returncode == 0 and proc.stdout.count("already present: ") == len(paths)
    n = len(paths)
    assert f"{n}/{n} [{'#' * 30}] stored 0, present {n}, failed 0" in proc.stderr  # the bar, on stderr

    original = pydicom.dcmread(paths[0])
    study = original.StudyInstanceUID
    for where in (["--pacs", orthanc.pacs], ["--dicomweb", orthanc.dicomweb]):
        proc = run_cli("find", *where, "--level", "instance", "-k", f"StudyInstanceUID={study}", "--json")
        assert proc.returncode == 0, proc.stderr
        assert [row["SOPInstanceUID"] for row in json.loads(proc.stdout)] == [original.SOPInstanceUID]
        plain = run_cli("find", *where, "--level", "study", "-k", "ModalitiesInStudy=SR")
        assert plain.returncode == 0 and study in plain.stdout
        out = tmp_path / where[0].strip("-")
        proc = run_cli("fetch", *where, "-k", f"StudyInstanceUID={study}", "-o", out)
        assert proc.returncode == 0, proc.stderr
        assert pydicom.dcmread(out / f"{original.SOPInstanceUID}.dcm") == original
        for text in (plain.stdout, plain.stderr, proc.stdout, proc.stderr):
            assert not any(i in text for i in identifiers), "patient identifier printed"
    proc = run_cli("fetch", "--pacs", orthanc.pacs, "-k", f"StudyInstanceUID={study}",
                   "--move-port", orthanc.move_port, "-o", tmp_path / "moved")
    assert proc.returncode == 0, proc.stderr
    assert pydicom.dcmread(tmp_path / "moved" / f"{original.SOPInstanceUID}.dcm") == original


def test_cli_errors_are_one_line_with_exit_code_6(orthanc, tmp_path):
    sr = make_sr(tmp_path / "sr.dcm")
    port = free_port()
    cases = [
        (["send", sr, "--pacs", f"dicom://ORTHANC@127.0.0.1:{port}"], f"127.0.0.1:{port}", "connection refused"),
        (["echo", "--pacs", f"dicom://WRONG@127.0.0.1:{orthanc.dicom_port}"], "'WRONG'", "association rejected"),
        (["find", "--pacs", orthanc.pacs, "--aet", UNKNOWN_AET], UNKNOWN_AET, "DicomModalities"),
        (["find", "--dicomweb", f"{orthanc.http_url}/crash/dicom-web"], "HTTP 500", "simulated internal failure"),
    ]
    for args, *expected in cases:
        proc = run_cli(*args)
        assert proc.returncode == 6, (args, proc.stderr)
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("dicomtools: error: "), proc.stderr
        assert all(e in lines[0] for e in expected), lines[0]
    proc = run_cli("send", sr, "--pacs", "orthanc:4242")
    assert proc.returncode == 2 and "expected dicom://AET@host:port" in proc.stderr
    proc = run_cli("fetch", "--pacs", orthanc.pacs, "-k", "NoSuchKeyword=1", "-o", tmp_path / "x")
    assert proc.returncode == 2 and "'NoSuchKeyword' is not a DICOM keyword" in proc.stderr


def test_concordance_from_the_pacs_reproduces_table_1(orthanc, seeds):
    """`dicomtools concordance --pacs`: the seed SRs, stored and fetched back, give Table 1."""
    from test_concordance import SEED_TABLE_1
    pacs.send(orthanc.pacs, list(seeds.values()), concurrency=2)
    patients = ["-k", "PatientID=OMS-CASE-1", "-k", "PatientID=OMS-CASE-2", "-k", "PatientID=OMS-CASE-3"]
    for option, address, keys in (("--pacs", orthanc.pacs, ["-k", "PatientID=OMS-CASE-*"]),
                                  ("--pacs", orthanc.pacs, patients),
                                  ("--dicomweb", orthanc.dicomweb, patients)):
        proc = subprocess.run([sys.executable, "-m", "dicomtools", "concordance", option, address,
                               *keys, "--format", "csv"], capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr
        rows = list(csv.reader(io.StringIO(proc.stdout)))
        assert [row[1:9] for row in rows[1:]] == SEED_TABLE_1, address


def test_cli_send_skips_non_dicom_files_with_a_note(orthanc, seeds, tmp_path):
    """`send out/` where the demo wrote concordance.* beside the SRs: those are skipped with a
    note, not counted as failures (exit 0); a batch with no DICOM file at all is bad input."""
    out = tmp_path / "out"
    (out / "case1").mkdir(parents=True)
    sr = out / "case1" / "mibg.dcm"
    sr.write_bytes(seeds["case1/mibg"].read_bytes())
    for fmt in ("md", "html", "json", "csv"):
        (out / f"concordance.{fmt}").write_text("not DICOM\n")
    proc = run_cli("send", out, "--pacs", orthanc.pacs)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "1 stored, 0 already present, 0 failed, 4 skipped" in proc.stdout
    for fmt in ("md", "html", "json", "csv"):
        assert f"skipped {out / f'concordance.{fmt}'}: not a DICOM file" in proc.stdout
    proc = run_cli("send", out / "concordance.md", "--pacs", orthanc.pacs)
    assert proc.returncode == 2 and "no DICOM file to send" in proc.stderr, proc.stderr


def test_cli_find_prints_patient_identifiers_only_with_show_ids(orthanc, seeds):
    path = seeds["case1/wbmri"]
    ds = header(path)
    assert pacs.send(orthanc.pacs, [path]).ok
    identifiers = {str(ds.PatientName), str(ds.PatientID)}
    key = ["-k", f"StudyInstanceUID={ds.StudyInstanceUID}", "-k", "PatientID", "-k", "PatientName"]
    for where in (["--pacs", orthanc.pacs], ["--dicomweb", orthanc.dicomweb]):
        plain = run_cli("find", *where, "--level", "study", *key)
        as_json = run_cli("find", *where, "--level", "study", *key, "--json")
        assert plain.returncode == as_json.returncode == 0, plain.stderr + as_json.stderr
        assert str(ds.StudyInstanceUID) in plain.stdout and "1 study found" in plain.stdout
        assert "(patient identifiers only with --show-ids)" in plain.stdout
        (row,) = json.loads(as_json.stdout)
        assert row["StudyInstanceUID"] == str(ds.StudyInstanceUID) and "PatientID" not in row
        for text in (plain.stdout, as_json.stdout):
            assert not any(i in text for i in identifiers)
        shown = run_cli("find", *where, "--level", "study", *key, "--show-ids")
        (row,) = json.loads(run_cli("find", *where, "--level", "study", *key, "--show-ids", "--json").stdout)
        assert str(ds.PatientID) in shown.stdout and row["PatientID"] == str(ds.PatientID)
