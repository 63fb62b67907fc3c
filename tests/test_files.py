"""Atomic writes as a user meets them: permissions from the umask, no half-written file, and
the temporary files of a killed run cleaned up by the next write to the same folder."""

from __future__ import annotations

import os
import re
import signal
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from conftest import SAMPLES

from dicomtools.files import (
    ORPHAN_SECONDS,
    STALE_SECONDS,
    clean_stale_temp_files,
    collect_files,
    is_dicom_file,
    write_atomically,
    write_text,
)

CASE1 = SAMPLES / "case1"


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def with_umask(mask: int, call):
    old = os.umask(mask)
    try:
        return call()
    finally:
        os.umask(old)


def dead_pid() -> int:
    """The PID of a process that has exited (and been reaped)."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def age(path: Path, seconds: float) -> Path:
    then = time.time() - seconds
    os.utime(path, (then, then))
    return path


@pytest.mark.parametrize("umask, expected", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_new_files_get_the_permissions_the_umask_gives(tmp_path, umask, expected):
    path = with_umask(umask, lambda: write_text(tmp_path / "table.html", "<table/>"))
    assert mode(path) == expected and path.read_text() == "<table/>"


def test_replacing_a_file_keeps_its_permissions(tmp_path):
    path = tmp_path / "sr.dcm"
    path.write_bytes(b"old")
    path.chmod(0o640)
    with_umask(0o022, lambda: write_text(path, "new"))
    assert path.read_text() == "new" and mode(path) == 0o640


def test_cli_outputs_are_readable_by_others_under_umask_022(tmp_path):
    """SR and SEG written by the command line: 0644, not mkstemp's 0600."""
    def run(*args):
        return subprocess.run([sys.executable, "-m", "dicomtools", *map(str, args)],
                              capture_output=True, text=True, timeout=300,
                              preexec_fn=lambda: os.umask(0o022))
    out = tmp_path / "sr.dcm"
    proc = run("build", CASE1 / "mibg.json", "--source", CASE1 / "mibg", "-o", out)
    assert proc.returncode == 0, proc.stderr
    assert mode(out) == 0o644
    masks = SAMPLES.parent / "masks"
    proc = run("measure", masks / "case1_wbmri_lesion.nii", "--source", CASE1 / "wbmri",
               "-o", tmp_path / "m")
    assert proc.returncode == 0, proc.stderr
    assert mode(tmp_path / "m" / "seg.dcm") == mode(tmp_path / "m" / "sr.dcm") == 0o644


def test_a_failed_write_leaves_the_old_file_and_no_temporary_file(tmp_path):
    path = tmp_path / "out.dcm"
    path.write_bytes(b"complete")

    def broken(handle):
        handle.write(b"half")
        raise RuntimeError("disk full")
    with pytest.raises(RuntimeError):
        write_atomically(path, broken)
    assert path.read_bytes() == b"complete"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.dcm"]


def test_stale_temporary_files_are_removed_by_the_next_write(tmp_path):
    dead, alive = dead_pid(), os.getppid()

    def make(name: str, seconds: float) -> Path:
        (tmp_path / name).write_bytes(b"partial")
        return age(tmp_path / name, seconds)
    stale = make(f".big.dcm.{dead}.0123456789ab.tmp", STALE_SECONDS + 5)
    fresh = make(f".big.dcm.{dead}.0123456789ac.tmp", 0)  # writer just died: a minute's grace
    writing = make(f".other.dcm.{alive}.0123456789ad.tmp", STALE_SECONDS + 5)  # alive
    orphan = make(f".other.dcm.{alive}.0123456789ae.tmp", ORPHAN_SECONDS + 5)  # PID reused?
    legacy = make(".big.dcm.k3j_x9zq", ORPHAN_SECONDS + 5)  # mkstemp's, versions up to 0.1.0
    legacy_young = make(".big.dcm.a1b2c3d4", STALE_SECONDS + 5)
    legacy_other = make(".notes.txt.abcdefgh", ORPHAN_SECONDS + 5)  # not the target's name
    foreign = [make(name, ORPHAN_SECONDS + 5)
               for name in (".big.dcm.swp", ".hidden", "big.dcm.1.tmp", ".big.dcm.1.xyz.tmp")]
    write_text(tmp_path / "big.dcm", "done")
    left = {p.name for p in tmp_path.iterdir()}
    assert stale.name not in left and orphan.name not in left and legacy.name not in left
    assert {fresh.name, writing.name, legacy_young.name, legacy_other.name} <= left
    assert {p.name for p in foreign} <= left  # not our pattern: never touched
    assert (tmp_path / "big.dcm").read_text() == "done"


def test_kill_9_while_writing_then_the_next_write_cleans_up(tmp_path):
    """The issue's case: a run killed mid-write leaves .OUT.dcm.<pid>.<random>.tmp; the next
    write to the folder removes it once it is a minute old (and never a complete output)."""
    script = textwrap.dedent(f"""
        import sys, time
        from dicomtools.files import write_atomically
        def slow(handle):
            handle.write(b"x" * 4096); handle.flush()
            print("writing", flush=True)
            time.sleep(60)
        write_atomically({str(tmp_path / 'out.dcm')!r}, slow)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "writing"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    proc.stdout.close()
    (temp,) = list(tmp_path.iterdir())
    assert temp.name.startswith(".out.dcm.") and temp.name.endswith(".tmp")
    assert not (tmp_path / "out.dcm").exists()  # never a half-written output
    write_text(tmp_path / "other.csv", "a,b\n")  # too soon: left alone
    assert temp.exists()
    age(temp, STALE_SECONDS + 5)
    write_text(tmp_path / "other.csv", "a,b\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["other.csv"]


def test_cleaning_never_raises(tmp_path):
    assert clean_stale_temp_files(tmp_path / "missing") == []
    folder = tmp_path / f".x.{dead_pid()}.0123456789ab.tmp"  # a folder with our name pattern
    folder.mkdir()
    age(folder, ORPHAN_SECONDS + 5)
    assert clean_stale_temp_files(tmp_path) == [] and folder.is_dir()


def test_long_names_still_get_a_temporary_file(tmp_path):
    name = "r" * 240 + ".dcm"
    assert write_text(tmp_path / name, "ok").read_text() == "ok"


def test_collect_files_and_is_dicom(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "x.dcm").write_bytes(b"\0" * 128 + b"DICM" + b"\0" * 8)
    (tmp_path / "a" / "notes.md").write_text("hi")
    (tmp_path / "a" / ".hidden.dcm").write_bytes(b"\0" * 128 + b"DICM")
    (tmp_path / "a" / "DICOMDIR").write_bytes(b"\0" * 128 + b"DICM")
    (tmp_path / "b.txt").write_text("named")
    found = collect_files([tmp_path / "a", tmp_path / "b.txt"], missing=FileNotFoundError)
    assert [(p.name, named) for p, named in found] == [("notes.md", False), ("x.dcm", False),
                                                        ("b.txt", True)]
    assert [is_dicom_file(p) for p, _ in found] == [False, True, False]
    assert not is_dicom_file(tmp_path / "nowhere")
    with pytest.raises(FileNotFoundError):
        collect_files([tmp_path / "nowhere"], missing=FileNotFoundError)


def _chain(start: Path, depth: int) -> int:
    """A chain of ``depth`` nested folders 'd' under ``start``; the innermost one, opened."""
    fd = os.open(start, os.O_RDONLY)
    for _ in range(depth):
        os.mkdir("d", dir_fd=fd)
        inner = os.open("d", os.O_RDONLY, dir_fd=fd)
        os.close(fd)
        fd = inner
    return fd


def test_collect_files_walks_deep_trees_iteratively_and_link_loops_once(tmp_path):
    fd = _chain(tmp_path, 1200)  # deeper than Python's recursion limit
    out = os.open("deep.dcm", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd)
    os.close(out)
    os.close(fd)
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "b" / "x.dcm").write_bytes(b"x")
    os.symlink(".", tmp_path / "a" / "b" / "self")
    os.symlink(tmp_path, tmp_path / "a" / "b" / "top")
    os.symlink(tmp_path / "a", tmp_path / "again")  # a second way into the same folder
    os.symlink(tmp_path / "y", tmp_path / "x")
    os.symlink(tmp_path / "x", tmp_path / "y")
    notes: list[str] = []
    try:
        found = collect_files([tmp_path], missing=FileNotFoundError, notes=notes)
    finally:
        subprocess.run(["rm", "-rf", str(tmp_path / "d")], check=True)
    assert [(p.name, named) for p, named in found] == [("x.dcm", False), ("deep.dcm", False)]
    assert len(found[1][0].parts) > 1200
    text = "\n".join(notes)
    assert "/x: symbolic link loop; skipped" in text
    assert "self: symbolic link to a folder already read" in text and "again: symbolic link" in text


def test_collect_files_never_opens_a_special_file(tmp_path):
    os.mkfifo(tmp_path / "pipe.dcm")
    (tmp_path / "sr.dcm").write_bytes(b"x")
    notes: list[str] = []
    found = collect_files([tmp_path], missing=FileNotFoundError, notes=notes)
    assert [p.name for p, _ in found] == ["sr.dcm"]
    assert notes == [f"{tmp_path / 'pipe.dcm'}: not a regular file (FIFO); skipped, not opened"]
    from dicomtools.errors import InputError
    with pytest.raises(InputError, match=r"pipe.dcm: not a regular file \(FIFO\); not opened"):
        collect_files([tmp_path / "pipe.dcm"], missing=FileNotFoundError)
    with pytest.raises(ValueError, match=r"pipe.dcm not a regular file \(FIFO\)"):
        collect_files([tmp_path / "pipe.dcm"], missing=FileNotFoundError,
                      unusable=lambda path, why: ValueError(f"{path} {why}"))


def test_an_output_that_cannot_be_written_is_bad_input_naming_it(tmp_path):
    from dicomtools.errors import InputError
    from dicomtools.files import write_text
    folder = tmp_path / "out"
    folder.mkdir()
    with pytest.raises(InputError, match="is a folder"):
        write_text(folder, "x")
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(InputError, match=r"file/sub\.txt: cannot write \("):
        write_text(blocker / "sub.txt", "x")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file", "out"] and not any(folder.iterdir())


def test_input_files_are_read_with_one_clear_error_per_problem(tmp_path):
    from dicomtools.errors import InputError
    from dicomtools.files import read_input_text
    good = tmp_path / "a.json"
    good.write_bytes("\ufeff{}".encode())
    assert read_input_text(good, "a findings file", 100) == "{}"
    (tmp_path / "big.json").write_bytes(b" " * 101)
    (tmp_path / "bad.json").write_bytes(b'{"x": "\xff"}')
    for name, message in (("missing.json", "no such file"), ("", "is a folder, not a findings file"),
                          ("big.json", "larger than the 100-byte limit of a findings file"),
                          ("bad.json", "not UTF-8 text (byte 0xff at offset 7)")):
        with pytest.raises(InputError, match=re.escape(message)):
            read_input_text(tmp_path / name, "a findings file", 100)


def test_links_fifos_and_devices_are_written_through_not_replaced(tmp_path):
    import threading

    from dicomtools.errors import InputError
    from dicomtools.files import write_text
    (tmp_path / "target.md").write_text("old")
    (tmp_path / "link.md").symlink_to("target.md")
    write_text(tmp_path / "link.md", "new")
    assert (tmp_path / "link.md").is_symlink() and (tmp_path / "target.md").read_text() == "new"
    (tmp_path / "dangling.md").symlink_to("created.md")
    write_text(tmp_path / "dangling.md", "made")
    assert (tmp_path / "dangling.md").is_symlink() and (tmp_path / "created.md").read_text() == "made"
    fifo = tmp_path / "pipe.md"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
    reader.start()
    write_text(fifo, "through the pipe")
    reader.join(10)
    assert got == [b"through the pipe"] and stat.S_ISFIFO(os.lstat(fifo).st_mode)
    if os.path.exists("/dev/full"):
        with pytest.raises(InputError, match="/dev/full: cannot write"):
            write_text("/dev/full", "x" * 100_000)
        assert stat.S_ISCHR(os.lstat("/dev/full").st_mode)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["created.md", "dangling.md", "link.md",
                                                          "pipe.md", "target.md"]
