"""A fast CLI start (issue 12): ``dicomtools --help`` and ``dicomtools read small.dcm`` load
neither pydicom, numpy nor highdicom (nor nibabel, pynetdicom, pyarrow, duckdb). Not timed
(benchmarks/bench_start.py measures): each case runs in a fresh interpreter under
``python -X importtime`` and the modules it imported are checked by name."""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("pydicom", "numpy", "highdicom", "nibabel", "pynetdicom", "pyarrow", "duckdb",
         "dicomweb_client", "requests")


def _run(*args: str) -> tuple[subprocess.CompletedProcess, set[str]]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "dicomtools", *args],
                          capture_output=True, text=True, timeout=120, env=env, cwd=ROOT)
    modules = set(re.findall(r"^import time:\s+\d+ \|\s+\d+ \|\s*([\w.]+)\s*$", done.stderr, re.M))
    assert "dicomtools.cli" in modules, done.stderr[-2000:]  # the import log was read
    return done, modules


def _heavy(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if m.split(".")[0] in HEAVY)


def test_help_lists_every_command_and_loads_no_heavy_module():
    done, modules = _run("--help")
    assert done.returncode == 0, done.stderr[-2000:]
    assert _heavy(modules) == []
    from dicomtools.cli import parser  # the full parser, plugins imported as usual
    (sub,) = [a for a in parser()._actions if isinstance(a, argparse._SubParsersAction)]
    listed = {line.split()[0] for line in done.stdout.splitlines()
              if line.startswith("    ") and line.split()}
    assert set(sub.choices) <= listed, set(sub.choices) - listed
    for choice in sub._choices_actions:  # every command with its one-line help
        assert choice.help and " ".join(choice.help.split()[:3]) in " ".join(done.stdout.split())


@pytest.mark.parametrize("json_out", [False, True])
def test_read_of_a_small_sr_loads_no_heavy_module(seed_srs, json_out):
    path = seed_srs["case1/wbmri"]
    done, modules = _run("read", str(path), *(["--json"] if json_out else []))
    assert done.returncode == 0, done.stderr[-2000:]
    assert _heavy(modules) == []
    assert "dicomtools.sr.fast" in modules and "dicomtools.sr.read" not in modules
    if not json_out:
        assert "paravertebral" in done.stdout


def test_read_of_a_file_the_fast_path_leaves_still_works(tmp_path, seed_srs):
    """A big endian file goes to read_sr (pydicom), with the same output."""
    import importlib.util
    spec = importlib.util.spec_from_file_location("dicomtools_fuzz", ROOT / "benchmarks" / "fuzz.py")
    fuzz = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("dicomtools_fuzz", fuzz)
    spec.loader.exec_module(fuzz)
    path = tmp_path / "big.dcm"
    path.write_bytes(fuzz.benign(seed_srs["case1/wbmri"].read_bytes(), "big"))
    done, modules = _run("read", str(path))
    plain, _ = _run("read", str(seed_srs["case1/wbmri"]))
    assert done.returncode == 0 and "pydicom" in modules
    assert done.stdout.splitlines()[1:] == plain.stdout.splitlines()[1:]


def test_a_plugin_command_runs_after_the_light_registration(tmp_path):
    done, _ = _run("concordance", "--help")
    assert done.returncode == 0 and "concordance" in done.stdout
    done, _ = _run("read", str(tmp_path / "missing.dcm"))
    assert done.returncode == 4 and done.stderr.strip().splitlines()[-1].startswith("dicomtools: error:")


def test_pacs_level_names_are_the_pacs_levels():
    from dicomtools.pacs import cli, common
    assert tuple(common.LEVELS) == cli.LEVEL_NAMES
