"""The archive index under stress: kill -9 mid-run then re-run, a crash between the steps of a
commit, Dask (a LocalCluster started here), and concordance over the index against
concordance over the files (seed cases and a synthetic cohort)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from archive_fixtures import build_demo, counts, query, run_cli
from conftest import ROOT, SAMPLES
from foreign_corpus import PYDICOM_SRS, PYDICOM_TEST_FILES

from dicomtools.archive.synthetic import make_archive

COPIES = 360


@pytest.fixture(scope="module")
def archive(seed_srs, tmp_path_factory) -> Path:
    """Copies of the seed SRs and of pydicom's shipped SRs, new UIDs and patients."""
    templates = [*seed_srs.values(), *(PYDICOM_TEST_FILES / name for name in PYDICOM_SRS)]
    folder = tmp_path_factory.mktemp("archive") / "srs"
    make_archive(templates, folder, COPIES)
    return folder


@pytest.fixture(scope="module")
def clean_index(archive, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("clean") / "idx"
    code, _, err = run_cli("index", archive, "-o", out, "--workers", "1")
    assert code == 0, err
    return out


@pytest.fixture(scope="module")
def clean(clean_index) -> dict[str, int]:
    return counts(clean_index)


def _no_duplicates(index: Path) -> None:
    assert query(index, "SELECT count(*) - count(DISTINCT source_path) FROM reports_all") == [(0,)]
    assert query(index, "SELECT count(*) - count(DISTINCT sop_instance_uid) FROM reports") == [(0,)]
    assert query(index, "SELECT count(*) - count(DISTINCT (report_id, finding_index)) "
                        "FROM findings") == [(0,)]
    assert query(index, "SELECT count(*) - count(DISTINCT path) FROM files") == [(0,)]


def test_synthetic_archive_is_what_was_asked(archive, clean_index, clean, seed_srs):
    templates = len(seed_srs) + len(PYDICOM_SRS)
    assert len(list(archive.rglob("*.dcm"))) == COPIES
    # every copy its own SR (reports count one per SOP Instance UID) and new patients
    assert clean["reports"] == clean["reports_all"] == COPIES and clean["problems"] == 0
    patients = query(clean_index, "SELECT count(DISTINCT patient_key) FROM reports")[0][0]
    assert patients == -(-COPIES // templates)


def test_kill_9_mid_run_then_rerun_equals_a_clean_run(archive, clean, tmp_path):
    out = tmp_path / "idx"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "dicomtools", "index", str(archive), "-o",
                             str(out), "--workers", "2", "--batch", "8"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)  # its own group: the workers die with it
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and proc.poll() is None:
        shards = out / "shards"
        if shards.is_dir() and len(list(shards.iterdir())) >= 4:
            break
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL, "the run ended before it could be killed"
    partial = counts(out)
    assert 0 < partial["reports"] < COPIES  # killed mid-run, with whole shards committed
    _no_duplicates(out)
    code, stdout, err = run_cli("index", archive, "-o", out, "--workers", "2", "--batch", "8")
    assert code == 0, err
    assert f"{partial['files']:,} unchanged" in stdout  # the committed work is not redone
    assert counts(out) == clean
    _no_duplicates(out)
    assert not any((out / "pending").iterdir())


def test_a_crash_between_the_steps_of_a_commit_counts_nothing_twice(archive, clean, tmp_path):
    out = tmp_path / "idx"
    assert run_cli("index", archive, "-o", out, "--workers", "1", "--batch", "50")[0] == 0
    shards = sorted((out / "shards").iterdir())
    # killed after writing a shard's files, before its rename: a pending folder, ignored
    shutil.copytree(shards[0], out / "pending" / "r00000009-p1-000000000000")
    assert counts(out) == clean
    # a worker of a killed earlier run commits late (same files, older run): still once
    shutil.copytree(shards[1], out / "shards" / shards[1].name.replace("r00000001", "r00000000"))
    assert counts(out) == clean
    _no_duplicates(out)
    # the crawl state (read with pyarrow) chooses the entries the files view chooses
    from dicomtools.archive.store import load_state
    view = {p: (s, m, t) for p, s, m, t in query(out, "SELECT path, size, mtime_ns, status FROM files")}
    assert load_state(out) == view and len(view) == COPIES
    code, stdout, _ = run_cli("index", archive, "-o", out, "--workers", "1")
    assert code == 0 and " 0 SRs read" in stdout and counts(out) == clean
    assert not (out / "pending" / "r00000009-p1-000000000000").exists()


def test_a_second_writer_is_refused(archive, tmp_path):
    from dicomtools.archive.store import Lock
    out = tmp_path / "idx"
    lock = Lock(out)
    try:
        code, _, err = run_cli("index", archive, "-o", out, "--workers", "1")
        assert code == 2 and "another index run" in err
    finally:
        lock.release()


def test_dask_cluster_gives_the_rows_of_a_local_run(archive, clean, tmp_path):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  protocol="tcp", dashboard_address=None) as cluster:
        out = tmp_path / "idx"
        code, _, err = run_cli("index", archive, "-o", out, "--dask", cluster.scheduler_address,
                                    "--batch", "40")
        assert code == 0, err
    assert counts(out) == clean
    _no_duplicates(out)
    code, _, err = run_cli("index", archive, "-o", tmp_path / "x", "--dask", "tcp://127.0.0.1:9")
    assert code == 2 and "cannot reach the scheduler" in err


def test_dask_local_cluster_option(seed_srs, tmp_path):
    folder = next(iter(seed_srs.values())).parent
    out = tmp_path / "idx"
    code, _, err = run_cli("index", folder, "-o", out, "--dask", "local", "--workers", "2",
                           "--batch", "4")
    assert code == 0, err
    assert counts(out)["reports"] == len(seed_srs)


def _concordance(*argv) -> dict:
    code, out, err = run_cli("concordance", *argv, "--format", "json")
    assert code == 0, err
    return json.loads(out)


def _md(*argv) -> list[str]:
    code, out, err = run_cli("concordance", *argv)
    assert code == 0, err
    # the one line that differs by design: the files concordance skipped on its walk (images)
    return [line for line in out.splitlines() if "non-SR file(s) skipped" not in line]


def test_concordance_over_the_index_equals_over_the_files_seed(tmp_path):
    demo = build_demo(tmp_path / "seeds")
    cases = [demo / "case1", demo / "case2", demo / "case3"]
    out = tmp_path / "idx"
    assert run_cli("index", *cases, SAMPLES, "-o", out, "--workers", "1")[0] == 0
    from_files = _md(*cases, SAMPLES)
    assert _md("--index", out) == from_files
    assert any("urine catecholamines" in line for line in from_files)  # labs came through
    assert "| Case 1 | 17 months | female |" in "\n".join(from_files)


def test_concordance_over_the_index_equals_over_the_files_synthetic(tmp_path):
    from dicomtools.concordance.synthetic import write_cohort
    cohort = tmp_path / "cohort"
    truth = write_cohort(40, cohort)
    kept, hashed = tmp_path / "kept", tmp_path / "hashed"
    assert run_cli("index", cohort, "-o", kept, "--workers", "1", "--keep-ids")[0] == 0
    assert run_cli("index", cohort, "-o", hashed, "--workers", "1")[0] == 0
    files = _concordance(cohort)
    assert len(files["rows"]) == 40 and files["sensitivity"]["whole-body MRI"]["detected"] == \
        truth["mri_detected"]
    assert _concordance("--index", kept) == files
    # hashed keys order patients of one index date differently: same rows, labels aside
    other = _concordance("--index", hashed)
    for key in ("sensitivity", "agreement", "columns", "warnings"):
        assert other[key] == files[key]

    def cells(doc: dict) -> list[str]:
        return sorted(json.dumps({k: v for k, v in r.items() if k != "label"}, sort_keys=True)
                      for r in doc["rows"])
    assert cells(other) == cells(files)


def test_compaction_keeps_every_row_once(archive, clean, tmp_path):
    out = tmp_path / "idx"
    assert run_cli("index", archive, "-o", out, "--workers", "1", "--batch", "50")[0] == 0
    before = sorted((out / "shards").iterdir())
    saved = tmp_path / "saved"
    shutil.copytree(before[0], saved)
    code, stdout, _ = run_cli("index", "--compact", "-o", out)
    assert code == 0 and f"{len(before)} shards into one" in stdout
    assert len(list((out / "shards").iterdir())) == 1
    assert counts(out) == clean
    # killed after the compacted shard's commit, before the old ones were removed: once
    shutil.copytree(saved, out / "shards" / before[0].name)
    assert counts(out) == clean
    _no_duplicates(out)
    code, stdout, _ = run_cli("index", archive, "-o", out, "--workers", "1")
    assert code == 0 and " 0 SRs read" in stdout and counts(out) == clean
