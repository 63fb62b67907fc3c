"""The archive index on the seed SRs: tables, query, incremental runs, patient keys, problems."""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import json
import os
import shutil
import stat
import time
from pathlib import Path

import pytest
from archive_fixtures import build_demo, counts, query, run_cli
from conftest import SAMPLES

from dicomtools.sr.read import read_sr


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    return build_demo(tmp_path_factory.mktemp("demo") / "seeds")


@pytest.fixture(scope="module")
def index(demo, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("idx") / "idx"
    code, _, err = run_cli("index", demo, "-o", out, "--workers", "1")
    assert code == 0, err
    return out


def _srs(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*.dcm") if p.name != "seg.dcm")


def test_every_sr_and_finding_is_a_row(demo, index):
    srs = _srs(demo)
    reports = [read_sr(p) for p in srs]
    n = counts(index)
    assert n["reports"] == len(srs) == 13
    assert n["findings"] == sum(len(r.findings) for r in reports)
    assert n["problems"] == 0
    # the SEG beside the mask SR is DICOM but no SR: skipped, not a problem
    (status, reason), = query(index, "SELECT status, reason FROM files WHERE path LIKE '%seg.dcm'")
    assert status == "skipped" and "Segmentation" in reason
    # one measurement row per NUM: diameters, volume, ADC statistics, activity, extent
    expected = sum(len(f.dimensions_mm or ()) + (f.volume_ml is not None)
                   + sum(v is not None for v in (f.adc_value, f.adc_min, f.adc_median))
                   + (f.activity_mbq is not None) + (3 if f.extent_mm else 0) + len(f.measurements)
                   for r in reports for f in r.findings)
    assert n["measurements"] == expected


def test_findings_rows_hold_every_field_of_the_finding(demo, index):
    by_path = {str(p): read_sr(p) for p in _srs(demo)}
    rows = query(index, "SELECT r.source_path, f.finding_index, f.finding_json, f.site, "
                        "f.site_code, f.present, f.vertebral_levels FROM findings f "
                        "JOIN reports r USING (report_id)")
    assert len(rows) == sum(len(r.findings) for r in by_path.values())
    for path, i, text, site, site_code, present, levels in rows:
        finding = by_path[path].findings[i]
        assert json.loads(text) == finding.to_json()
        assert site == finding.site and present == finding.present
        assert (levels or None) == (list(finding.vertebral_levels) if finding.vertebral_levels else None)
        if finding.site is not None:
            assert site_code  # coded: a code value from the vocabulary


def test_reports_row_names_file_and_study(demo, index):
    path = demo / "case1" / "wbmri.dcm"
    sr = read_sr(path)
    (row,) = query(index, "SELECT file_size, file_sha256, sop_instance_uid, study_instance_uid, "
                          "study_date, procedure, impression, dicomtools_version FROM reports "
                          f"WHERE source_path = '{path}'")
    assert row[0] == path.stat().st_size
    assert row[1] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert row[2] == sr.sr.sop_instance_uid and row[3] == sr.study.instance_uid
    assert row[4].strftime("%Y%m%d") == sr.study.date
    assert row[5] == sr.procedure and row[6] == sr.impression


def test_patient_ids_are_keyed_hashes(demo, index):
    key_file = index / "id.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    sr = read_sr(demo / "case1" / "wbmri.dcm")
    expected = hmac.new(key_file.read_bytes(), f"{sr.patient.id}\x00{sr.patient.issuer}".encode(),
                        hashlib.sha256).hexdigest()
    keys = {k for (k,) in query(index, "SELECT DISTINCT patient_key FROM reports")}
    assert expected in keys and len(keys) == 3
    assert query(index, "SELECT count(*) FROM reports WHERE patient_id IS NOT NULL "
                        "OR patient_name IS NOT NULL") == [(0,)]
    # no Patient ID or name anywhere in the index's bytes
    blob = b"".join(p.read_bytes() for p in (index / "shards").rglob("*.parquet"))
    for value in (sr.patient.id, sr.patient.name, "OMS-CASE-2", "OMS-CASE-3"):
        assert value.encode() not in blob


def test_keep_ids_and_shared_key(demo, tmp_path, index):
    kept = tmp_path / "kept"
    assert run_cli("index", demo, "-o", kept, "--workers", "1", "--keep-ids")[0] == 0
    ids = {i for (i,) in query(kept, "SELECT DISTINCT patient_id FROM reports")}
    assert ids == {"OMS-CASE-1", "OMS-CASE-2", "OMS-CASE-3"}
    code, _, err = run_cli("index", demo, "-o", kept, "--workers", "1")
    assert code == 2 and "--keep-ids" in err
    # one key given to two indexes: the same patient keys, so the indexes join
    key = tmp_path / "key"
    key.write_bytes(os.urandom(32).hex().encode())
    a, b = tmp_path / "a", tmp_path / "b"
    for out, folder in ((a, demo / "case1"), (b, demo)):
        assert run_cli("index", folder, "-o", out, "--workers", "1", "--id-key-file", key)[0] == 0
    ka = {k for (k,) in query(a, "SELECT DISTINCT patient_key FROM reports")}
    kb = {k for (k,) in query(b, "SELECT DISTINCT patient_key FROM reports")}
    assert len(ka) == 1 and ka < kb
    code, _, err = run_cli("index", demo, "-o", a, "--workers", "1")  # without the key now
    assert code == 2 and "another patient-ID key" in err


def test_second_run_reads_only_what_changed(demo, tmp_path):
    tree = tmp_path / "tree"
    shutil.copytree(demo, tree)
    out = tmp_path / "idx"
    assert run_cli("index", tree, "-o", out, "--workers", "1")[0] == 0
    first = counts(out)
    code, stdout, _ = run_cli("index", tree, "-o", out, "--workers", "1")
    assert code == 0 and " 0 SRs read" in stdout and "18 unchanged" in stdout
    assert counts(out) == first
    # a changed file is read again and replaces its rows
    changed = tree / "case2" / "us.dcm"
    os.utime(changed, ns=(time.time_ns(), time.time_ns() + 10**9))
    code, stdout, _ = run_cli("index", tree, "-o", out, "--workers", "1")
    assert " 1 SRs read" in stdout and counts(out) == first
    # a copy at a new path: a second file of the same SR, counted once
    shutil.copy(tree / "case1" / "mibg.dcm", tree / "case1" / "mibg-copy.dcm")
    run_cli("index", tree, "-o", out, "--workers", "1")
    now = counts(out)
    assert now["reports"] == first["reports"] and now["reports_all"] == first["reports_all"] + 1
    assert now["findings"] == first["findings"]
    assert query(out, "SELECT max(copies) FROM reports") == [(2,)]
    # a deleted file leaves the index
    (tree / "case3" / "wbmri.dcm").unlink()
    code, stdout, _ = run_cli("index", tree, "-o", out, "--workers", "1")
    assert "1 gone" in stdout
    assert counts(out)["reports"] == first["reports"] - 1
    from dicomtools.archive.store import load_state
    state = load_state(out)
    assert state == {p: (s, m, t) for p, s, m, t in
                     query(out, "SELECT path, size, mtime_ns, status FROM files")}
    assert state[str(tree / "case3" / "wbmri.dcm")][2] == "deleted"
    assert query(out, "SELECT count(*) FROM findings WHERE site = 'paravertebral' "
                      "AND laterality = 'right'") == [(0,)]


def test_problems_are_rows_with_reason_and_exit_code(demo, tmp_path):
    tree = tmp_path / "tree"
    tree.mkdir()
    good = demo / "case1" / "wbmri.dcm"
    shutil.copy(good, tree / "good.dcm")
    data = good.read_bytes()
    (tree / "cut.dcm").write_bytes(data[: len(data) - 300])
    (tree / "notes.txt").write_text("not DICOM")
    named = tmp_path / "named.bin"
    named.write_bytes(b"\0" * 200)
    out = tmp_path / "idx"
    code, _, err = run_cli("index", tree, named, "-o", out, "--workers", "1")
    assert code == 0, err
    rows = query(out, "SELECT path, error_class, exit_code, message FROM problems ORDER BY path")
    assert sorted((Path(p).name, c, e) for p, c, e, _ in rows) == [
        ("cut.dcm", "SRReadError", 4), ("named.bin", "SRReadError", 4)]
    assert all(Path(p).name in m for p, _, _, m in rows)  # the message names the file
    assert query(out, "SELECT status FROM files WHERE path LIKE '%notes.txt'") == [("skipped",)]
    assert counts(out)["reports"] == 1
    # unchanged problems are not read again, unless asked (or by a new dicomtools version)
    code, stdout, _ = run_cli("index", tree, named, "-o", out, "--workers", "1")
    assert "4 unchanged" in stdout and " 0 problems" in stdout
    code, stdout, _ = run_cli("index", tree, named, "-o", out, "--workers", "1",
                              "--retry-problems")
    assert "2 unchanged" in stdout and " 2 problems" in stdout
    settings = json.loads((out / "index.json").read_text())
    settings["reader_version"] = "0.0.1"
    (out / "index.json").write_text(json.dumps(settings))
    code, stdout, _ = run_cli("index", tree, named, "-o", out, "--workers", "1")
    assert " 2 problems" in stdout and len(query(out, "SELECT * FROM problems")) == 2
    # a problem file that is repaired is read on the next run and leaves the problems
    (tree / "cut.dcm").write_bytes(data)
    run_cli("index", tree, named, "-o", out, "--workers", "1")
    assert [Path(p).name for (p,) in query(out, "SELECT path FROM problems")] == ["named.bin"]


def test_query_formats_and_errors(index, tmp_path):
    sql = "SELECT procedure, count(*) AS n FROM reports GROUP BY procedure ORDER BY procedure"
    code, table, _ = run_cli("query", index, sql)
    assert code == 0 and table.splitlines()[0].split() == ["procedure", "n"]
    code, text, _ = run_cli("query", index, sql, "--format", "json")
    rows = json.loads(text)
    assert sum(r["n"] for r in rows) == 13
    code, text, _ = run_cli("query", index, sql, "--format", "csv")
    assert list(csv.reader(io.StringIO(text)))[1:] == [[r["procedure"], str(r["n"])] for r in rows]
    code, out, err = run_cli("query", index, "SELEC nothing")
    assert code == 2 and out == "" and err.count("\n") == 1 and "query:" in err
    code, _, err = run_cli("query", tmp_path, "SELECT 1")
    assert code == 2 and "not a dicomtools index" in err


def test_index_refuses_bad_arguments(demo, tmp_path):
    assert run_cli("index", tmp_path / "missing", "-o", tmp_path / "i")[0] == 2
    assert run_cli("index", demo, "-o", tmp_path / "i", "--workers", "0")[0] == 2
    (tmp_path / "file").write_text("x")
    assert run_cli("index", demo, "-o", tmp_path / "file")[0] == 2


def test_local_pool_gives_the_same_rows(demo, index, tmp_path):
    out = tmp_path / "pool"
    code, _, err = run_cli("index", demo, SAMPLES, "-o", out, "--workers", "2", "--batch", "3")
    assert code == 0, err
    pooled, inline = counts(out), counts(index)
    assert {k: v for k, v in pooled.items() if k not in ("labs", "files")} == \
        {k: v for k, v in inline.items() if k not in ("labs", "files")}
    assert pooled["labs"] == 2  # the two sample labs.json files, one result each
    assert len(list((out / "shards").iterdir())) > 2


def test_constants_kept_light_match_their_homes():
    import importlib

    from dicomtools.archive import worker
    from dicomtools.concordance import cli, match
    collect = importlib.import_module("dicomtools.concordance.collect")  # not the function
    assert cli.DEFAULT_WINDOW_DAYS == match.DEFAULT_WINDOW_DAYS
    assert worker._LABS_LIMIT == collect.MAX_LABS_BYTES
    assert worker.LAB_SUFFIXES == collect.LAB_SUFFIXES


def test_commands_start_without_heavy_imports():
    import subprocess
    import sys
    code = ("import sys, dicomtools.archive.cli, dicomtools.archive; "
            "heavy = [m for m in ('pyarrow', 'duckdb', 'dask', 'distributed', 'pydicom') "
            "if m in sys.modules]; print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_progress_shows_counts_and_rate(demo, tmp_path):
    code, _, err = run_cli("index", demo, "-o", tmp_path / "idx", "--workers", "1", "--batch", "4",
                           "--progress")
    assert code == 0
    lines = [line for line in err.splitlines() if line.startswith("index:")]
    assert len(lines) >= 4 and all("files/s" in line for line in lines)
    assert "18/18 files read" in lines[-1]


def test_odd_file_names_and_an_index_inside_the_tree(demo, tmp_path):
    tree = tmp_path / "tree"
    tree.mkdir()
    good = demo / "case1" / "wbmri.dcm"
    odd = os.fsdecode(bytes(tree) + b"/\xff\nodd.dcm")  # not UTF-8, with a newline
    shutil.copy(good, odd)
    out = tree / "idx"  # the index inside the folder indexed: its own files are not read
    code, _, err = run_cli("index", tree, "-o", out, "--workers", "1")
    assert code == 0, err
    (path,) = [p for (p,) in query(out, "SELECT source_path FROM reports")]
    assert path.endswith("\\xff\nodd.dcm")
    assert [p for (p,) in query(out, "SELECT path FROM files")] == [path]
    code, stdout, _ = run_cli("index", tree, "-o", out, "--workers", "1")
    assert code == 0 and "1 unchanged" in stdout and " 0 SRs read" in stdout
    os.unlink(odd)
    code, stdout, _ = run_cli("index", tree, "-o", out, "--workers", "1")
    assert "1 gone" in stdout and counts(out)["reports"] == 0


def test_large_images_are_skipped_by_their_meta_without_being_read(demo, tmp_path):
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, generate_uid
    tree = tmp_path / "tree"
    tree.mkdir()
    shutil.copy(demo / "case1" / "wbmri.dcm", tree / "sr.dcm")
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = CTImageStorage
    ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SOPClassUID, ds.SOPInstanceUID = CTImageStorage, ds.file_meta.MediaStorageSOPInstanceUID
    ds.Rows = ds.Columns = 1024
    ds.BitsAllocated, ds.SamplesPerPixel = 16, 1
    ds.PixelData = bytes(2 * 1024 * 1024)
    ds.save_as(tree / "image", enforce_file_format=True)  # no extension: DICM decides
    out = tmp_path / "idx"
    assert run_cli("index", tree, "-o", out, "--workers", "1")[0] == 0
    rows = query(out, "SELECT status, reason, sha256 FROM files WHERE path LIKE '%image'")
    assert rows == [("skipped", f"not an SR (SOP Class {CTImageStorage} CT Image Storage)", None)]
    (digest,) = query(out, "SELECT file_sha256 FROM reports")[0]
    assert digest == hashlib.sha256((tree / "sr.dcm").read_bytes()).hexdigest()
    assert counts(out)["problems"] == 0


def test_query_is_one_select_that_reads_nothing_but_the_index(tmp_path, index):
    """`query` runs one SELECT over the views: no COPY/INSTALL/ATTACH, no second statement,
    no file outside the index (read_csv('/etc/passwd'))."""
    from dicomtools.archive.query import run_query
    from dicomtools.errors import InputError
    assert run_query(index, "SELECT count(*) FROM reports")[1][0][0] > 0
    outside = tmp_path / "outside.csv"
    outside.write_text("a\n1\n")
    for sql, message in ((f"COPY (SELECT 1) TO '{tmp_path / 'x.csv'}'", "a COPY statement"),
                         ("SELECT 1; SELECT 2", "2 statements"),
                         (f"SELECT * FROM read_csv('{outside}')", "Permission")):
        with pytest.raises(InputError, match=message):
            run_query(index, sql)
    assert not (tmp_path / "x.csv").exists()
