"""Acceptance tests for reading other tools' SRs: the corpus of tests/foreign_corpus.py.

Every corpus file (highdicom, dcmqi tid1500writer, DCMTK xml2dsr, pydicom's shipped SRs) must
read without SRReadError; every NUM (concept + value + unit, units converted) and every
qualitative evaluation of every measurement group must come back when the Report is written
again with write_sr, as seen by the independent walker tests/sr_walk.py; every re-write must
pass dciodvfy, dsrdump and PixelMed; and reading the re-write must give the same findings,
procedure and impression as the first read.

PixelMed needs ~10 s per file and DicomSRValidator takes one file per run, so it is marked
slow and runs on a representative subset (PIXELMED_SUBSET).
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import foreign_corpus
import pytest
import sr_walk
from conftest import require_tool

from dicomtools.errors import SRReadError
from dicomtools.sr.read import read_sr
from dicomtools.sr.write import write_sr

PLANNED = foreign_corpus.planned_names()
NAMES = [name for _, name in PLANNED]
TOOL_OF = {name: tool for tool, name in PLANNED}
# One file per tool and per kind of content: TID 1501/1410/1411, nested NUMs, 3D, dose, KOS, text.
PIXELMED_SUBSET = ["hd_linear_cm", "hd_properties", "hd_planar", "hd_volumetric_3d",
                   "hd_volumetric_segment", "hd_kos", "dcmqi_mr_wb", "dcmqi_ct_imaging_procedure",
                   "dcmtk_xray_dose", "dcmtk_comprehensive_srt", "dcmtk_basic_text", "test-SR"]
_TOOLS = {"dcmqi": ("tid1500writer", None), "dcmtk": ("xml2dsr", None)}
PIXELMED_JARS = ("/usr/share/java/pixelmed.jar", "/usr/share/java/commons-codec.jar")
JAVA_FLAGS = ("-Djdk.xml.xpathExprOpLimit=0", "-Djdk.xml.xpathExprGrpLimit=0",
              "-Djdk.xml.xpathTotalOpLimit=0")


@pytest.fixture(scope="session")
def corpus(tmp_path_factory):
    built = foreign_corpus.build_corpus(tmp_path_factory.mktemp("foreign_corpus"))
    return {entry.name: entry for entry in built}


@pytest.fixture(scope="session")
def rewrites(tmp_path_factory, corpus):
    """name -> (first read, re-written path); built on demand, once."""
    out = tmp_path_factory.mktemp("foreign_rewrites")
    cache: dict[str, tuple] = {}

    def get(name: str):
        if name not in cache:
            entry = _entry(corpus, name)
            report = read_sr(entry.path)
            path = write_sr(report, out / f"{name}.dcm")
            cache[name] = (report, Path(path))
        return cache[name]
    return get


def _entry(corpus, name):
    tool = TOOL_OF[name]
    if tool in _TOOLS:
        require_tool(*_TOOLS[tool])
    if name not in corpus:
        pytest.fail(f"{name} was not built (tool {tool} installed?)")
    return corpus[name]


def test_corpus_is_complete_and_varied(corpus):
    for binary, path in _TOOLS.values():
        require_tool(binary, path)
    assert sorted(corpus) == sorted(NAMES)
    assert len(corpus) >= 30
    for entry in corpus.values():
        assert entry.path.is_file() and entry.provenance and "licence" in entry.provenance


@pytest.mark.parametrize("name", NAMES)
def test_reads_without_refusal(corpus, name):
    entry = _entry(corpus, name)
    try:
        report = read_sr(entry.path)
    except SRReadError as exc:
        pytest.fail(f"{entry.tool} {name} ({entry.description}) refused: {exc}")
    assert report is not None


@pytest.mark.parametrize("name", NAMES)
def test_every_num_and_evaluation_comes_back(corpus, rewrites, name):
    entry = _entry(corpus, name)
    original = sr_walk.walk_file(entry.path)
    _, path = rewrites(name)
    comparison = sr_walk.compare(original, sr_walk.walk_file(path))
    lost = [f"group {g.original.index} ({g.original.tracking_id}): NUM {n.label()}"
            for g in comparison.groups for n in g.nums_missing]
    lost += [f"group {g.original.index} ({g.original.tracking_id}): evaluation {e.label()}"
             for g in comparison.groups for e in g.evaluations_missing]
    assert not lost, f"{name}: lost {len(lost)}:\n" + "\n".join(lost)


@pytest.mark.parametrize("name", NAMES)
def test_every_derivation_comes_back(corpus, rewrites, name):
    entry = _entry(corpus, name)
    comparison = sr_walk.compare(sr_walk.walk_file(entry.path), sr_walk.walk_file(rewrites(name)[1]))
    lost = [n.label() for g in comparison.groups for n in g.derivation_lost]
    assert not lost, f"{name}: derivation lost on " + "; ".join(lost)


def _dciodvfy_errors(path: Path) -> set[str]:
    proc = subprocess.run([require_tool("dciodvfy"), str(path)], capture_output=True, text=True,
                          errors="replace", timeout=120)
    return {line for line in (proc.stderr + proc.stdout).splitlines() if line.startswith("Error")}


def _dsrdump_errors(path: Path) -> tuple[int, set[str]]:
    proc = subprocess.run([require_tool("dsrdump"), str(path)], capture_output=True, text=True,
                          errors="replace", timeout=120)
    # item positions ("1.5") move when header items are added, and the file name differs
    return proc.returncode, {re.sub(r'"[0-9.]+"|file: .*', "", line)
                             for line in proc.stderr.splitlines() if line.startswith(("E:", "F:"))}


# A re-write keeps content it cannot map exactly as it was (Report.other, Finding.other), so
# the faults of an invalid original (pydicom's deliberately odd test files) stay in it. The
# re-write must add no error: its errors are a subset of the original's, and an original with
# no error gives a re-write with none.
# pydicom's test-SR.dcm holds a TCOORD item, whose temporal values the codec does not decode
# yet: the item is kept (with a warning) but written without them.
_TCOORD = [pytest.param(n, marks=pytest.mark.xfail(strict=True, reason="TCOORD values not decoded"))
           if n == "test-SR" else n for n in NAMES]


@pytest.mark.parametrize("name", _TCOORD)
def test_rewrite_passes_dciodvfy(corpus, rewrites, name):
    entry = _entry(corpus, name)
    added = _dciodvfy_errors(rewrites(name)[1]) - _dciodvfy_errors(entry.path)
    assert not added, f"{name}: " + "\n".join(sorted(added))


@pytest.mark.parametrize("name", _TCOORD)
def test_rewrite_passes_dsrdump(corpus, rewrites, name):
    entry = _entry(corpus, name)
    code, errors = _dsrdump_errors(rewrites(name)[1])
    original_code, original_errors = _dsrdump_errors(entry.path)
    assert code == 0 or original_code != 0, f"{name}: exit {code}\n" + "\n".join(sorted(errors))
    assert not errors - original_errors, f"{name}: " + "\n".join(sorted(errors - original_errors))


def test_clean_originals_give_clean_rewrites(corpus, rewrites):
    """The subset rule above must not hide anything: list which originals have errors."""
    faulty = {name for name in NAMES if name in corpus and _dciodvfy_errors(corpus[name].path)}
    assert faulty <= {"test-SR", "reportsi", "reportsi_with_empty_number_tags",
                      "dcmtk_detail_sr_retired"}, faulty
    for name in sorted(set(corpus) - faulty):
        assert not _dciodvfy_errors(rewrites(name)[1]), name


def _pixelmed_errors(path: Path) -> set[str]:
    java = require_tool("java")
    for jar in PIXELMED_JARS:
        require_tool(Path(jar).name, jar)
    proc = subprocess.run([java, *JAVA_FLAGS, "-cp", ":".join(PIXELMED_JARS),
                           "com.pixelmed.validate.DicomSRValidator", "-checktemplateid",
                           "-checkcontentitemorder", "-checkambiguoustemplate", str(path)],
                          capture_output=True, text=True, errors="replace", timeout=300)
    assert "IOD validation complete" in proc.stdout, f"{path.name}: PixelMed did not complete: {proc.stderr[-500:]}"
    # item positions ("1.6.1.7.2:") move when header items are added
    return {re.sub(r"\b[0-9]+(\.[0-9]+)+: ", "", line)
            for line in proc.stdout.splitlines() if line.startswith("Error")}


@pytest.mark.slow
@pytest.mark.parametrize("name", [
    pytest.param(n, marks=pytest.mark.xfail(strict=True, reason="TCOORD values not decoded"))
    if n == "test-SR" else n for n in PIXELMED_SUBSET])
def test_rewrite_passes_pixelmed(corpus, rewrites, name):
    """No PixelMed error that the original did not have (see the subset rule above)."""
    entry = _entry(corpus, name)
    added = _pixelmed_errors(rewrites(name)[1]) - _pixelmed_errors(entry.path)
    assert not added, f"{name}: " + "\n".join(sorted(added))


@pytest.mark.parametrize("name", NAMES)
def test_reading_the_rewrite_gives_the_same_report(corpus, rewrites, name):
    _entry(corpus, name)
    first, path = rewrites(name)
    again = read_sr(path)
    for field in ("findings", "procedure", "impression"):
        assert getattr(again, field) == getattr(first, field), f"{name}: {field} differs after a re-write"


def test_imaging_procedure_on_a_ct_is_not_ultrasound(corpus):
    """dcmqi writes SCT 363679005 'Imaging procedure' for any modality; on a CT it is a CT."""
    report = read_sr(_entry(corpus, "dcmqi_ct_imaging_procedure").path)
    text = " ".join(str(getattr(report, f, "") or "") for f in ("modality", "procedure")).lower()
    assert "ultrasound" not in text and getattr(report, "modality", None) in (None, "CT")
