"""index --pacs / --dicomweb against a real Orthanc (tests/pacs_server.py): the SRs it holds
are fetched into the index's cache and indexed; a second run reads none of them again."""

from __future__ import annotations

from archive_fixtures import counts, query, run_cli
from pacs_server import orthanc  # noqa: F401  (the session fixture)
from pydicom.filereader import dcmread

from dicomtools import pacs


def test_index_the_srs_a_pacs_holds(orthanc, seed_srs, tmp_path):
    case1 = [p for key, p in seed_srs.items() if key.startswith("case1/")]
    for path in case1:
        orthanc.delete_study(str(dcmread(path, stop_before_pixels=True).StudyInstanceUID))
    assert pacs.send(orthanc.pacs, case1).ok
    out = tmp_path / "idx"
    code, stdout, err = run_cli("index", "-o", out, "--pacs", orthanc.pacs, "--workers", "1",
                                "-k", "PatientID=OMS-CASE-1")
    assert code == 0, err
    assert f"fetched {len(case1)} SRs" in stdout
    uids = {str(dcmread(p, stop_before_pixels=True).SOPInstanceUID) for p in case1}
    assert {u for (u,) in query(out, "SELECT sop_instance_uid FROM reports")} == uids
    first = counts(out)
    # again: every SR fetched, none new, none read again
    code, stdout, err = run_cli("index", "-o", out, "--pacs", orthanc.pacs, "--workers", "1",
                                "-k", "PatientID=OMS-CASE-1")
    assert code == 0, err
    assert "(0 new or changed)" in stdout and " 0 SRs read" in stdout
    assert counts(out) == first
    # the same SRs over DICOMweb: a second cache folder, each SR still counted once
    code, stdout, err = run_cli("index", "-o", out, "--dicomweb", orthanc.dicomweb, "--workers",
                                "1", "-k", "PatientID=OMS-CASE-1")
    assert code == 0, err
    now = counts(out)
    assert now["reports"] == first["reports"] and now["reports_all"] == 2 * first["reports_all"]
    assert query(out, "SELECT min(copies), max(copies) FROM reports") == [(2, 2)]
