"""Batch send against a real Orthanc: 1 000 generated SRs with concurrency 4 over DIMSE and over
STOW-RS, every one verified and none duplicated; and the same batch with Orthanc killed a third
of the way through and restarted, which a re-run with the manifest completes with nothing lost,
nothing duplicated and nothing verified sent again. Throughput is printed (pytest -s) and recorded as
a test property (--junitxml)."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest
from pacs_server import (
    make_batch,
    make_sr,
    orthanc,  # noqa: F401  (the session fixture)
)

from dicomtools import pacs
from dicomtools.pacs import Manifest, PacsError

COUNT = 1000


def manifest_records(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def assert_all_on_pacs_once(orthanc, study_uid: str, paths: list[Path]) -> None:
    """Orthanc's own index: exactly the batch's SOP Instance UIDs, each once."""
    from dicomtools.pacs.batch import read_header

    stored = orthanc.instance_uids_in_study(study_uid)
    assert len(stored) == len(set(stored)) == len(paths)
    assert set(stored) == {read_header(p).sop_uid for p in paths}


@pytest.mark.slow
@pytest.mark.parametrize("protocol", ["dimse", "dicomweb"])
def test_thousand_srs_concurrency_4_all_verified_none_duplicated(orthanc, tmp_path, protocol,
                                                                 record_property):
    address = orthanc.pacs if protocol == "dimse" else orthanc.dicomweb
    started = time.monotonic()
    study_uid, paths = make_batch(tmp_path / "srs", COUNT)
    generated = time.monotonic() - started
    manifest = tmp_path / "send.jsonl"
    calls = []
    result = pacs.send(address, [tmp_path / "srs"], concurrency=4, manifest=manifest,
                       progress=lambda done, total, tally: calls.append((done, total)))
    assert result.counts() == {"stored": COUNT, "already present": 0, "failed": 0, "skipped": 0}
    assert_all_on_pacs_once(orthanc, study_uid, paths)
    records = manifest_records(manifest)
    assert len(records) == COUNT and {r["status"] for r in records} == {"stored"}
    assert len({r["sop_instance_uid"] for r in records}) == COUNT
    assert calls[-1] == (COUNT, COUNT) and len(calls) >= COUNT // 16

    rate = result.rate
    record_property(f"{protocol}_srs_per_second", round(rate, 1))
    print(f"\n{protocol}: {COUNT} SRs generated in {generated:.1f} s; sent and verified with "
          f"concurrency 4 in {result.seconds:.1f} s = {rate:.0f} SRs/s")

    # Re-run with the manifest: nothing is sent or even queried again.
    again = pacs.send(address, [tmp_path / "srs"], concurrency=4, manifest=manifest)
    assert again.counts()["skipped"] == COUNT and again.ok
    assert len(manifest_records(manifest)) == COUNT
    # Without it, every instance is found already there and none is sent twice.
    fresh = pacs.send(address, [tmp_path / "srs"], concurrency=4)
    assert fresh.counts()["already present"] == COUNT
    assert_all_on_pacs_once(orthanc, study_uid, paths)


@pytest.mark.slow
def test_batch_interrupted_by_a_pacs_restart_resumes_from_its_manifest(orthanc, tmp_path):
    study_uid, paths = make_batch(tmp_path / "srs", COUNT)
    manifest = tmp_path / "send.jsonl"
    outcome: dict = {}

    def first_run():
        try:
            outcome["result"] = pacs.send(orthanc.pacs, [tmp_path / "srs"], concurrency=4,
                                          manifest=manifest, timeout=10)
        except PacsError as exc:
            outcome["error"] = exc

    worker = threading.Thread(target=first_run)
    worker.start()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and worker.is_alive():
        if manifest.exists() and len(manifest.read_bytes().splitlines()) >= COUNT // 3:
            break
        time.sleep(0.02)
    orthanc.crash()  # stopped dead a third of the way through the batch
    worker.join(timeout=60)
    print(f"\nfirst run: {outcome}")
    assert not worker.is_alive()
    try:
        error = outcome.get("error")
        assert error is not None, "the batch finished before Orthanc was stopped"
        message = str(error)
        assert f"127.0.0.1:{orthanc.dicom_port}" in message
        assert "run again with the same manifest to resume" in message
        verified_first = {r["sop_instance_uid"] for r in manifest_records(manifest)
                          if r["status"] in ("stored", "already present")}
        assert COUNT // 3 <= len(verified_first) < COUNT * 2 // 3
    finally:
        orthanc.start(attempts=5, keep_ports=True)  # same ports and storage
    # What Orthanc holds now is what it had committed when it died; none of it is lost.
    assert verified_first <= set(orthanc.instance_uids_in_study(study_uid))

    second = pacs.send(orthanc.pacs, [tmp_path / "srs"], concurrency=4, manifest=manifest)
    counts = second.counts()
    print(f"re-run after restart: {counts} in {second.seconds:.1f} s")
    assert second.ok and counts["failed"] == 0
    assert counts["skipped"] == len(verified_first)  # nothing verified is sent again
    # Instances the PACS took but the first run could not confirm are found, not resent.
    assert counts["stored"] + counts["already present"] == COUNT - len(verified_first)
    assert_all_on_pacs_once(orthanc, study_uid, paths)
    records = manifest_records(manifest)
    verified = {r["sop_instance_uid"] for r in records if r["status"] in ("stored", "already present")}
    assert len(verified) == COUNT


def test_manifest_ignores_a_torn_last_line_and_other_pacs(tmp_path, orthanc):
    path = make_sr(tmp_path / "srs" / "one.dcm")
    manifest = tmp_path / "send.jsonl"
    result = pacs.send(orthanc.pacs, [path], manifest=manifest)
    assert result.ok
    uid = result.results[0].sop_instance_uid
    with open(manifest, "ab") as handle:  # a kill in the middle of a write
        handle.write(b'{"sop_instance_uid": "1.2.3", "status": "sto')
    assert Manifest(manifest).verified(str(pacs.parse_pacs(orthanc.pacs))) == {uid: str(path)}
    assert Manifest(manifest).verified(orthanc.dicomweb) == {}  # another PACS: nothing verified
    again = pacs.send(orthanc.pacs, [path], manifest=manifest)
    assert [r.status for r in again.results] == ["skipped"]
    other = pacs.send(orthanc.dicomweb, [path], manifest=manifest)
    assert [r.status for r in other.results] == ["already present"]
    lines = manifest.read_text().splitlines()
    assert all(json.loads(line) for line in lines if not line.startswith('{"sop_instance_uid": "1.2.3"'))
    assert json.loads(lines[-1])["pacs"] == orthanc.dicomweb  # appended on its own line
