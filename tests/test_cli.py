"""The command line, run as a user runs it: a real subprocess, real files."""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from conftest import FOREIGN, ROOT, SAMPLES

CASE1 = SAMPLES / "case1"


def run(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "dicomtools", *map(str, args)],
                          capture_output=True, text=True, cwd=cwd, timeout=300)


def test_build_read_validate(tmp_path):
    out = tmp_path / "case1_wbmri.dcm"
    proc = run("build", CASE1 / "wbmri.json", "--source", CASE1 / "wbmri", "-o", out)
    assert proc.returncode == 0, proc.stderr
    proc = run("read", out, "--json")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    (finding,) = report["findings"]
    assert finding["vertebral_levels"] == ["T9", "T10"] and finding["dimensions_mm"] == [26, 11, 22]
    assert report["patient"]["id"] == "OMS-CASE-1"  # asked for with --json: the full record
    proc = run("validate", out, "--skip", "pixelmed", "--json")
    result = json.loads(proc.stdout)
    assert result["ok"] is True and "dicomtools" in result["ran"]


def test_plain_read_does_not_print_patient_identifiers(tmp_path):
    out = tmp_path / "sr.dcm"
    run("build", CASE1 / "mibg.json", "--source", CASE1 / "mibg", "-o", out)
    proc = run("read", out)
    assert proc.returncode == 0 and "negative uptake" in proc.stdout
    assert "OMS-CASE-1" not in proc.stdout and "Case1^OMS" not in proc.stdout


def _bad_inputs(tmp_path):
    sr = tmp_path / "good.dcm"
    run("build", CASE1 / "wbmri.json", "--source", CASE1 / "wbmri", "-o", sr)
    data = sr.read_bytes()
    (tmp_path / "truncated.dcm").write_bytes(data[:len(data) // 2])
    (tmp_path / "renamed.dcm").write_bytes(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\n%%EOF")
    findings = json.loads((CASE1 / "wbmri.json").read_text())
    findings["findings"][0]["dimensions_cm"] = findings["findings"][0].pop("dimensions_mm")
    (tmp_path / "wrong_unit.json").write_text(json.dumps(findings))
    findings = json.loads((CASE1 / "mibg.json").read_text())
    findings["findings"][0]["adc_unit"] = "mCi"
    (tmp_path / "bad_unit_value.json").write_text(json.dumps(findings))
    (tmp_path / "broken.json").write_text("{\"procedure\": ")


@pytest.mark.parametrize("args, code, phrase", [
    (["read", "{t}/truncated.dcm"], 4, "truncated"),
    (["read", CASE1 / "wbmri" / "MR001.dcm"], 4, "not a DICOM SR"),
    (["read", "{t}/renamed.dcm"], 4, "not a DICOM file"),
    (["validate", "{t}/renamed.dcm"], 4, "not a DICOM file"),
    (["build", "{t}/wrong_unit.json", "--source", CASE1 / "wbmri", "-o", "{t}/x.dcm"], 2, "dimensions_cm"),
    (["build", "{t}/bad_unit_value.json", "--source", CASE1 / "mibg", "-o", "{t}/x.dcm"], 2, "'adc_unit'"),
    (["build", "{t}/broken.json", "--source", CASE1 / "wbmri", "-o", "{t}/x.dcm"], 2, "not valid JSON"),
    (["build", CASE1 / "wbmri.json", "--source", "{t}/nowhere", "-o", "{t}/x.dcm"], 3, "no such file"),
    (["build", CASE1 / "wbmri.json", "--source", CASE1 / "mibg", "-o", "{t}/x.dcm"], 2, "source images are NM"),
    (["build", CASE1 / "wbmri.json", "--source", SAMPLES, "-o", "{t}/x.dcm"], 3, "more than one"),
])
def test_bad_input_gives_one_clear_line_and_nonzero_exit(tmp_path, args, code, phrase):
    _bad_inputs(tmp_path)
    proc = run(*[str(a).replace("{t}", str(tmp_path)) for a in args])
    assert proc.returncode == code, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("dicomtools: error:"), proc.stderr
    assert phrase in lines[0] and "Traceback" not in proc.stderr
    assert not (tmp_path / "x.dcm").exists()  # never a half-written file
    assert "OMS-CASE" not in proc.stderr  # errors name files and fields, not patients


def test_help_documents_exit_codes():
    proc = run("--help")
    assert proc.returncode == 0 and "exit codes:" in proc.stdout and "not a readable DICOM SR" in proc.stdout


def _subcommands() -> dict[str, argparse.ArgumentParser]:
    from dicomtools.cli import parser
    (sub,) = [a for a in parser()._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(sub.choices)


def test_exit_code_table_once_in_top_help_and_every_option_has_help():
    top = run("--help").stdout
    assert top.count("exit codes:") == 1 and top.count("not a readable DICOM SR") == 1
    commands = _subcommands()
    assert {"build", "read", "validate", "demo", "concordance", "measure", "send", "find"} <= set(commands)
    for name, sub in commands.items():
        text = sub.format_help()
        assert "exit codes: see dicomtools --help" in text and "not a readable DICOM SR" not in text, name
        for action in sub._actions:
            assert action.help or isinstance(action, argparse._HelpAction), f"{name} {action.dest}: no help"
    assert "DICOM SR file" in commands["read"].format_help()
    assert "print the results as JSON" in commands["validate"].format_help()
    assert "from the -o file's extension" in commands["concordance"].format_help()


def test_messages_use_singular_for_one(tmp_path):
    proc = run("build", CASE1 / "mibg.json", "--source", CASE1 / "mibg", "-o", tmp_path / "sr.dcm")
    assert proc.returncode == 0 and "(1 finding, I-123 mIBG scintigraphy)" in proc.stdout, proc.stdout
    from dicomtools.cli import plural
    assert plural(1, "month") == "1 month" and plural(3, "year") == "3 years"
    assert plural(1, "patient") == "1 patient" and plural(2, "study", "studies") == "2 studies"


def test_version_in_one_place():
    import tomllib

    import dicomtools
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert "version" not in project and "version" in project["dynamic"]
    assert run("--version").stdout.strip() == f"dicomtools {dicomtools.__version__}"
    assert '"0.1.0"' not in (ROOT / "dicomtools" / "masks" / "seg.py").read_text()
    assert (ROOT / "dicomtools" / "py.typed").is_file()


def test_closed_pipe_ends_quietly(tmp_path):
    """`dicomtools read SR --json | head`: the reader goes away; no traceback, exit 0 or 141."""
    sr = tmp_path / "sr.dcm"
    run("build", CASE1 / "wbmri.json", "--source", CASE1 / "wbmri", "-o", sr)
    proc = subprocess.Popen([sys.executable, "-m", "dicomtools", "read", str(sr), "--json"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()  # before the first write: every write meets a closed pipe
    stderr = proc.stderr.read().decode()
    proc.stderr.close()
    assert proc.wait(timeout=120) in (0, 141) and stderr == "", stderr
    shell = subprocess.run(f"{sys.executable} -m dicomtools read {sr} --json | head -c 10",
                           shell=True, capture_output=True, text=True, timeout=120)
    assert shell.stdout == '{\n  "modal' and "Traceback" not in shell.stderr, shell.stderr


# -- validate: files and folders, every one checked, all reported ------------------------------
@pytest.fixture
def out_folder(seed_srs, tmp_path):
    """A demo-like output folder: two SRs and the concordance tables written beside them."""
    out = tmp_path / "out"
    (out / "case1").mkdir(parents=True)
    for key in ("case1/mibg", "case1/wbmri"):
        shutil.copy(seed_srs[key], out / f"{key}.dcm")
    (out / "concordance.md").write_text("| Case 1 |\n")
    (out / "concordance.html").write_text("<table></table>\n")
    return out


def test_validate_checks_every_file_and_folder_then_reports_all(out_folder, seed_srs):
    good = seed_srs["case2/mibg"]
    proc = run("validate", good, ROOT / "README.md", out_folder, FOREIGN / "test-SR.dcm",
               "--skip", "pixelmed")
    assert proc.returncode == 5, proc.stdout + proc.stderr  # the worst: errors (5) > unreadable (4)
    out = proc.stdout
    for path in (good, out_folder / "case1" / "mibg.dcm", out_folder / "case1" / "wbmri.dcm"):
        assert f"{path}: OK" in out
    assert f"{FOREIGN / 'test-SR.dcm'}: ERRORS" in out
    assert f"skipped {out_folder / 'concordance.md'}: not a DICOM file" in out
    assert "5 files checked: 3 OK, 1 with errors, 1 unreadable; 2 non-DICOM files skipped" in out
    (line,) = proc.stderr.strip().splitlines()
    assert line.startswith("dicomtools: error: ") and "README.md: not a DICOM file" in line
    # an unreadable file no longer stops the run: the file after it is still checked
    proc = run("validate", ROOT / "README.md", good, "--skip", "pixelmed")
    assert proc.returncode == 4 and f"{good}: OK" in proc.stdout


def test_validate_folder_json_and_empty_folder(out_folder, tmp_path):
    proc = run("validate", out_folder, "--skip", "pixelmed", "--json")
    assert proc.returncode == 0, proc.stderr
    results = json.loads(proc.stdout)  # a folder: always a list
    assert [Path(r["path"]).name for r in results] == ["mibg.dcm", "wbmri.dcm"]
    assert all(r["ok"] for r in results) and "concordance.md: not a DICOM file" in proc.stderr
    (tmp_path / "empty").mkdir()
    proc = run("validate", tmp_path / "empty", tmp_path / "nowhere", "--json")
    assert proc.returncode == 4
    assert [r["error"] for r in json.loads(proc.stdout)] == [
        f"{tmp_path / 'empty'}: no DICOM file in this folder", f"{tmp_path / 'nowhere'}: no such file or directory"]


def test_validate_shows_progress_on_stderr(out_folder):
    proc = run("validate", out_folder, "--skip", "pixelmed", "--progress")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stderr.splitlines()
    assert f"validating 1/2 {out_folder / 'case1' / 'mibg.dcm'}: dicomtools" in lines
    assert f"validating 2/2 {out_folder / 'case1' / 'wbmri.dcm'}: dsrdump" in lines
    quiet = run("validate", out_folder, "--skip", "pixelmed")  # not a terminal: no progress
    assert quiet.returncode == 0 and quiet.stderr == ""


def test_progress_names_the_slow_validator_and_validate_each_equals_validate(monkeypatch, seed_srs):
    from dicomtools import demo
    from dicomtools.sr.validate import validate
    sr = seed_srs["case1/wbmri"]
    tools = ("dicomtools", "dciodvfy", "dsrdump")
    assert demo.validate_each(sr, tools).to_json() == validate(sr, tools).to_json()
    lines: list[str] = []

    class Collect:
        def __call__(self, text):
            lines.append(text)

        def clear(self):
            pass
    monkeypatch.setattr(demo, "validate", lambda path, tools: demo.ValidationResult(str(path), ran=list(tools)))
    result = demo.validate_each(sr, ("dicomtools", "pixelmed"), Collect(), "validating 1/1 x:")
    assert lines == ["validating 1/1 x: dicomtools", "validating 1/1 x: pixelmed (slow: ~10 s a file)"]
    assert result.ran == ["dicomtools", "pixelmed"]


# -- -o picks the format ---------------------------------------------------------------------
def test_output_extension_picks_the_format(out_folder, tmp_path):
    for name, check in [("t.html", lambda t: t.startswith("<!DOCTYPE html")),
                        ("t.csv", lambda t: t.startswith(",Age at presentation")),
                        ("t.json", lambda t: isinstance(json.loads(t), dict)),
                        ("t.md", lambda t: t.startswith("|")),
                        ("t.txt", lambda t: t.startswith("|"))]:  # unknown: the default, md
        proc = run("concordance", out_folder, "-o", tmp_path / name)
        assert proc.returncode == 0, proc.stderr
        assert check((tmp_path / name).read_text()), name
    proc = run("concordance", out_folder, "-o", tmp_path / "x.json", "--format", "md")
    assert proc.returncode == 0 and (tmp_path / "x.json").read_text().startswith("|")  # explicit wins
    proc = run("concordance", out_folder, "--format", "csv")
    assert proc.stdout.startswith(",Age at presentation")
    assert run("concordance", out_folder).stdout.startswith("|")  # stdout: the default


def test_demo_main_job(tmp_path):
    proc = run("demo", "--quick", "--out", tmp_path / "out")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "12/12 SRs built, valid and read back unchanged" in proc.stdout
    assert len(list((tmp_path / "out").glob("case*/*.dcm"))) == 12
    assert "mask -> seg.dcm + sr.dcm" in proc.stdout and "SR and SEG valid" in proc.stdout
    assert "read back unchanged" in proc.stdout
    assert "| Case 3 | 13 years 11 months | male |" in proc.stdout  # the concordance table
    assert "OMS-CASE" not in proc.stdout


# -- demo from an installed package ------------------------------------------------------------
def _build_wheel(tmp_path: Path) -> Path:
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    for name in ("dicomtools", "templates", "sample_data"):
        shutil.copytree(ROOT / name, src / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    cmd = [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "--disable-pip-version-check",
           "-w", str(tmp_path / "wheel"), str(src)]
    if importlib.util.find_spec("wheel"):  # bdist_wheel is here: no isolated build environment
        cmd.insert(5, "--no-build-isolation")
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    if proc.returncode != 0:
        message = f"cannot build a wheel here: {proc.stderr.strip()[-500:]}"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    (wheel,) = (tmp_path / "wheel").glob("dicomtools-*.whl")
    return wheel


def test_demo_runs_from_an_installed_package_with_progress(tmp_path):
    wheel = _build_wheel(tmp_path)
    names = zipfile.ZipFile(wheel).namelist()
    assert "dicomtools/sample_data/cases/case1/wbmri/MR001.dcm" in names
    assert "dicomtools/sample_data/masks/case1_wbmri_adc.nii" in names and "dicomtools/py.typed" in names
    assert not [n for n in names if "make_samples" in n or "make_masks" in n]
    site, work = tmp_path / "site", tmp_path / "elsewhere"
    work.mkdir()
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--disable-pip-version-check",
                    "--target", str(site), str(wheel)], check=True, capture_output=True, timeout=300)
    env = {**os.environ, "PYTHONPATH": str(site)}
    where = subprocess.run([sys.executable, "-c", "import dicomtools; print(dicomtools.__file__)"],
                           capture_output=True, text=True, cwd=work, env=env)
    assert where.stdout.startswith(str(site)), where.stdout  # the installed copy, not the checkout
    proc = subprocess.run([sys.executable, "-m", "dicomtools", "demo", "--quick", "--progress"],
                          capture_output=True, text=True, cwd=work, env=env, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"from {site / 'dicomtools' / 'sample_data' / 'cases'}" in proc.stdout
    assert "12/12 SRs built, valid and read back unchanged" in proc.stdout
    progress = proc.stderr.splitlines()
    assert "1/12 case1/mibg: building" in progress and "12/12 case3/wbmri: validating with dsrdump" in progress
    assert "mask: validating the SEG with dciodvfy" in progress


def test_demo_without_sample_data_is_bad_input_naming_what_is_missing(tmp_path, monkeypatch, capsys):
    from dicomtools import cli, demo
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(demo, "PACKAGE_SAMPLES", tmp_path / "pkg" / "sample_data" / "cases")
    monkeypatch.setattr(demo, "CHECKOUT_SAMPLES", tmp_path / "src" / "sample_data" / "cases")
    assert cli.main(["demo", "--out", str(tmp_path / "out")]) == 2
    message = capsys.readouterr().err
    assert message.startswith("dicomtools: error:") and "sample cases not found" in message
    assert str(tmp_path / "pkg" / "sample_data" / "cases") in message and "--samples" in message
    cases = tmp_path / "mine" / "cases"
    shutil.copytree(SAMPLES, cases)
    assert cli.main(["demo", "--samples", str(cases), "--out", str(tmp_path / "out")]) == 2
    assert "case1_wbmri_lesion.nii" in capsys.readouterr().err  # masks/ beside cases/ is missing
    assert not (tmp_path / "out").exists()


def test_status_line_rewrites_one_terminal_line_and_keeps_the_step(monkeypatch):
    import io

    from dicomtools import cli

    class Terminal(io.StringIO):
        def isatty(self):
            return True
    monkeypatch.setattr(cli, "_terminal_columns", lambda: 40)
    term = Terminal()
    status = cli.StatusLine(term)
    status("validating 3/12 " + "/very/long" * 10 + "/sr.dcm: pixelmed (slow: ~10 s a file)")
    status.clear()
    first, cleared = term.getvalue().split("\x1b[K")[:2]
    assert first.startswith("\r...") and first.endswith("pixelmed (slow: ~10 s a file)") and len(first) == 40
    assert cleared == "\r"
    quiet = io.StringIO()  # not a terminal, not forced: nothing
    cli.StatusLine(quiet)("step")
    assert quiet.getvalue() == ""
    forced = io.StringIO()
    cli.StatusLine(forced, force=True)("step")
    assert forced.getvalue() == "step\n"


# -- validate: file names are data; special files are never opened ----------------------------
STRICT = {**os.environ, "PYTHONIOENCODING": "utf-8:strict"}
ONLY_OURS = ("--skip", "dciodvfy", "--skip", "dsrdump", "--skip", "pixelmed")


def strict_run(*args, timeout=120):
    """The CLI with a stdout and stderr that refuse what UTF-8 cannot hold; bytes back."""
    return subprocess.run([sys.executable, "-m", "dicomtools", *map(os.fsdecode, args)],
                          capture_output=True, timeout=timeout, env=STRICT)


def test_validate_prints_file_names_that_are_not_utf8_escaped(seed_srs, tmp_path):
    folder = os.path.join(os.fsencode(tmp_path), b"f\xffolder")
    os.mkdir(folder)
    sr = os.path.join(folder, b"sr\xfe\n.dcm")
    shutil.copyfile(seed_srs["case1/wbmri"], sr)
    with open(os.path.join(folder, b"notes\xff.txt"), "wb") as handle:
        handle.write(b"not DICOM")
    proc = strict_run("validate", sr, *ONLY_OURS)
    assert proc.returncode == 0, proc.stderr
    assert b"f\\xffolder/sr\\xfe\\n.dcm: OK" in proc.stdout and b"Traceback" not in proc.stderr
    proc = strict_run("validate", folder, *ONLY_OURS, "--progress")
    assert proc.returncode == 0 and b"Traceback" not in proc.stderr, proc.stderr
    assert b"skipped " + os.fsencode(tmp_path) + b"/f\\xffolder/notes\\xff.txt: not a DICOM file" in proc.stdout
    assert b"validating 1/1 " in proc.stderr and b"sr\\xfe\\n.dcm: dicomtools" in proc.stderr
    proc = strict_run("validate", folder, os.path.join(folder, b"gone\xff"), *ONLY_OURS, "--json")
    assert proc.returncode == 4, proc.stderr
    results = json.loads(proc.stdout)
    assert [r["path"].rsplit("/", 1)[-1] for r in results] == ["sr\\xfe\\n.dcm", "gone\\xff"]
    assert results[1]["error"].endswith("f\\xffolder/gone\\xff: no such file or directory")


def test_validate_a_fifo_says_it_is_not_a_regular_file_and_never_opens_it(seed_srs, tmp_path):
    os.mkfifo(tmp_path / "pipe.dcm")  # opening it for reading would block: the timeout tells
    proc = run("validate", tmp_path / "pipe.dcm")
    assert proc.returncode == 4, proc.stderr
    assert proc.stderr.strip() == f"dicomtools: error: {tmp_path / 'pipe.dcm'}: not a regular file (FIFO); not opened"
    shutil.copy(seed_srs["case1/wbmri"], tmp_path / "sr.dcm")
    proc = run("validate", tmp_path, *ONLY_OURS)  # in a folder: a note, the rest is checked
    assert proc.returncode == 0, proc.stderr
    assert f"{tmp_path / 'sr.dcm'}: OK" in proc.stdout
    assert f"{tmp_path / 'pipe.dcm'}: not a regular file (FIFO); skipped, not opened" in proc.stdout


def test_output_format_from_an_unknown_extension_is_refused(tmp_path, capsys, seed_srs):
    from dicomtools.cli import main
    out = tmp_path / "table.xlsx"
    assert main(["concordance", str(seed_srs["case1/wbmri"].parent), "-o", str(out)]) == 2
    assert "cannot tell the output format from '.xlsx'; give --format" in capsys.readouterr().err
    assert not out.exists()


def test_a_full_stdout_is_one_error_line_not_a_traceback(tmp_path, seed_srs):
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full")
    with open("/dev/full", "w") as full:
        proc = subprocess.run([sys.executable, "-m", "dicomtools", "concordance",
                               str(seed_srs["case1/wbmri"].parent)],
                              stdout=full, stderr=subprocess.PIPE, text=True, timeout=300)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr == "dicomtools: error: cannot write the output (No space left on device)\n"


def test_extract_json_piped_into_build_from_standard_input(tmp_path):
    report = tmp_path / "r.txt"
    report.write_text("MRI spine: 2.3 cm mass at Th12-L1 left paravertebral, restricted diffusion.\n")
    extracted = run("extract", "--json", report)
    assert extracted.returncode == 0, extracted.stderr
    out = tmp_path / "sr.dcm"
    proc = subprocess.run([sys.executable, "-m", "dicomtools", "build", "-", "--source",
                           str(SAMPLES / "case3" / "wbmri"), "-o", str(out)],
                          input=extracted.stdout, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    back = run("read", "--json", out)
    finding = json.loads(back.stdout)["findings"][0]
    assert finding["vertebral_levels"] == ["T12", "L1"] and finding["laterality"] == "left"
    bad = subprocess.run([sys.executable, "-m", "dicomtools", "build", "-", "--source",
                          str(SAMPLES / "case3" / "wbmri"), "-o", str(tmp_path / "x.dcm")],
                         input="{", capture_output=True, text=True, timeout=300)
    assert bad.returncode == 2 and bad.stderr.startswith("dicomtools: error: standard input: not valid JSON")
