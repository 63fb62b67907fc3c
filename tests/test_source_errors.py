"""Source images that cannot be used: the error names the file (issue 11)."""

from __future__ import annotations

from pathlib import Path

import pydicom
import pytest

from dicomtools.cli import main
from dicomtools.errors import SourceError
from dicomtools.source import load_source

ROOT = Path(__file__).resolve().parents[1]
WBMRI = ROOT / "sample_data" / "cases" / "case1" / "wbmri"


def _one_image_with(tmp_path: Path, keyword: str, value: str) -> Path:
    folder = tmp_path / "img\nnewline"  # a file name that must be printed escaped
    folder.mkdir()
    ds = pydicom.dcmread(sorted(WBMRI.glob("*.dcm"))[0])
    setattr(ds, keyword, value)
    ds.save_as(folder / "a.dcm")
    return folder


def test_control_character_in_a_header_is_a_source_error_naming_the_file(tmp_path):
    folder = _one_image_with(tmp_path, "StudyDescription", "bad\x01desc")
    with pytest.raises(SourceError) as caught:
        load_source(folder)
    message = str(caught.value)
    assert "img\\nnewline/a.dcm" in message and "description" in message and "U+0001" in message
    assert "\n" not in message


def test_build_from_such_images_exits_3_and_writes_nothing(tmp_path, capsys):
    folder = _one_image_with(tmp_path, "StudyDescription", "bad\x01desc")
    out = tmp_path / "out.dcm"
    code = main(["build", str(ROOT / "sample_data/cases/case1/wbmri.json"), "--source", str(folder),
                 "-o", str(out)])
    assert code == SourceError.exit_code == 3
    assert "a.dcm" in capsys.readouterr().err
    assert not out.exists() and not any(p.name.startswith(".") for p in tmp_path.iterdir())


def test_missing_source_folder_name_is_printed_escaped(tmp_path):
    with pytest.raises(SourceError, match=r"no\\x1bsuch: no such file"):
        load_source(tmp_path / "no\x1bsuch")
