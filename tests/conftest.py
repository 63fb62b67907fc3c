"""Shared fixtures. External tools are real (DCMTK, dicom3tools, PixelMed, dcmqi): a missing
tool skips its tests on a developer machine and fails them in CI (CI=true), where .ci/run
installs everything."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "sample_data" / "cases"
FOREIGN = ROOT / "sample_data" / "foreign"


def require_tool(name: str, path: str | None = None) -> str:
    """Path of an external tool; skip (locally) or fail (CI) when it is missing."""
    found = path if path and Path(path).exists() else shutil.which(name)
    if not found:
        message = f"external tool {name!r} is not installed"
        if os.environ.get("CI"):
            pytest.fail(message + " (CI must install it: see .ci/run)")
        pytest.skip(message)
    return found


@pytest.fixture(scope="session")
def seed_srs(tmp_path_factory) -> dict[str, Path]:
    """Every seed-case SR, built once from sample_data: {'case1/wbmri': path, ...}."""
    from dicomtools.build import build_from_files
    from dicomtools.demo import sample_inputs
    from dicomtools.sr import write_sr

    out = tmp_path_factory.mktemp("seed_srs")
    built = {}
    for findings, source, patient_only in sample_inputs(SAMPLES):
        key = f"{findings.parent.name}/{findings.stem}"
        report = build_from_files(findings, source, patient_only=patient_only)
        built[key] = write_sr(report, out / f"{findings.parent.name}_{findings.stem}.dcm")
    assert len(built) == 12, built
    return built
