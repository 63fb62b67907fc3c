"""The trees of the folder-fuzz campaign (see ``fuzz``): the pool of valid SRs, images and labs
files, and one archive-like folder tree made from it per seed."""

from __future__ import annotations

import json
import os
import random
import shutil
import socket
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # only for annotations: at run time the campaign may measure older code
    from ..model import Report

PLANTED = ("Plantedname", "Secretgiven", "PLANTEDID", "PLANTEDCTL", "Plantedlong")
_NAME_PARTS = [b"case", b"study 1", "M\u00fcller".encode(), b"\xff\xfe", b"a\nb", b"tab\there",
               b"\x1b[31mred", b"cr\r", b"x" * 180, b"-dash", b"semi;colon", b"quote'\"",
               b"back\\slash", "emoji \U0001F600".encode(), b"\xed\xa0\x80", b"\xc3\x28",
               b"bell\x07", b"del\x7f", b"sp ace ", b"\xe2\x80\xaertl", b"%s%n", b"|pipe|",
               b"<b>html<i>", b"DICOMDIR"]
_SR_SUFFIXES = [b".dcm", b"", b".DCM", b".sr", b".txt", b".json", b".bin"]
FORMATS = ("md", "md", "md", "json", "csv", "html")


def _uid(report) -> str:
    return (report.sr.sop_instance_uid if report.sr else "") or ""


# ---- the pool: valid SRs (read once), images, labs --------------------------------------
@dataclass
class Pool:
    root: Path
    clean: list[tuple[Path, Report]]        # (file, Report): valid SRs, each counted
    twins: dict[str, list[Path]]            # SOP UID -> copies that must lose (no Patient ID)
    images: list[Path]
    labs: list[tuple[Path, str]]            # (labs file, patient id)
    max_depth: int = 64


def _save_variant(src: Path, dst: Path, changes: dict[str, str | None], new_uid: bool = True) -> Path:
    import pydicom
    from pydicom import config
    from pydicom.uid import generate_uid
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds = pydicom.dcmread(src)
        if new_uid:
            uid = generate_uid()
            ds.SOPInstanceUID = uid
            ds.file_meta.MediaStorageSOPInstanceUID = uid
        for keyword, value in changes.items():
            if value is None:
                if keyword in ds:
                    delattr(ds, keyword)
            else:
                setattr(ds, keyword, value)
        old = config.settings.writing_validation_mode
        config.settings.writing_validation_mode = config.IGNORE
        try:
            ds.save_as(dst)
        finally:
            config.settings.writing_validation_mode = old
    return dst


def build_pool(root: Path, samples: Path | None = None, synthetic_patients: int = 6) -> Pool:
    """Write the pool under ``root``: seed-case SRs, a synthetic cohort, odd-but-valid
    variants, no-Patient-ID twins, images and labs files."""
    from ..sr.read import read_sr
    from ..sr.write import write_sr
    from .synthetic import cohort_reports
    samples = samples or Path(__file__).resolve().parents[2] / "sample_data" / "cases"
    root.mkdir(parents=True, exist_ok=True)
    files: list[Path] = []
    try:
        from ..build import build_from_files
        from ..demo import sample_inputs
        for findings, source, patient_only in sample_inputs(samples):
            report = build_from_files(findings, source, patient_only=patient_only)
            files.append(write_sr(report, root / f"seed_{findings.parent.name}_{findings.stem}.dcm"))
    except ImportError:
        pass
    reports, _ = cohort_reports(synthetic_patients, seed=11)
    for n, report in enumerate(reports):
        files.append(write_sr(report, root / f"syn_{n:03d}.dcm"))
    seeds = [f for f in files if f.name.startswith("seed_")] or files
    odd: list[dict[str, str | None]] = [
        {"StudyDate": "2015-05-12"}, {"StudyDate": "20151345"}, {"StudyDate": "abcdefgh"},
        {"PatientBirthDate": "2013-13-01"}, {"PatientBirthDate": "x"}, {"PatientAge": "17 months"},
        {"PatientSex": "Q"}, {"IssuerOfPatientID": "ISSUER" * 12},
        {"PatientID": "PLANTEDID" + "7" * 60, "PatientName": "Plantedname^Secretgiven^A^B^C^D"},
        {"PatientID": "PLANTEDCTL\x01ID", "PatientName": "Plantedlong" * 7},
        {"PatientID": "PLANTEDID-SHORT", "PatientName": "Plantedname^Secretgiven^Aa^Bb^Cc^Dd",
         "PatientBirthDate": "19990231"},
    ]
    for n, changes in enumerate(odd):
        files.append(_save_variant(seeds[n % len(seeds)], root / f"odd_{n:02d}.dcm", changes))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clean = [(f, read_sr(f)) for f in files]
    twins: dict[str, list[Path]] = {}
    for n, (f, report) in enumerate(clean[:len(seeds)]):
        twins[_uid(report)] = [
            _save_variant(f, root / f"twin_noid_{n:02d}.dcm", {"PatientID": None}, new_uid=False),
            _save_variant(f, root / f"twin_blank_{n:02d}.dcm", {"PatientID": "  "}, new_uid=False)]
    images = sorted(samples.glob("*/*/*.dcm"))[:6]
    labs = []
    for lab in sorted(samples.glob("*/labs.json")):
        labs.append((lab, json.loads(lab.read_text())["patient"]["id"]))
    for report in reports[:4]:
        if report.procedure == "whole-body MRI":
            path = root / f"{report.patient.id}.labs.json"
            path.write_text(json.dumps({"patient": {"id": report.patient.id,
                                                    "issuer": report.patient.issuer},
                                        "results": [{"test": "urine VMA", "result": "elevated",
                                                     "date": report.study.date}]}))
            labs.append((path, report.patient.id))
    import importlib
    limits = importlib.import_module(__package__ + ".collect")  # the module, not the function
    return Pool(root, clean, twins, images, labs, getattr(limits, "MAX_DEPTH", 64))


# ---- one tree --------------------------------------------------------------------------------
@dataclass
class Tree:
    root: bytes
    paths: list[bytes] = field(default_factory=list)      # PATH arguments
    clean: list[Report] = field(default_factory=list)     # Reports that must be counted
    labs: list[Path] = field(default_factory=list)        # labs files that must be counted once
    kinds: list[str] = field(default_factory=list)        # what was planted
    options: list[str] = field(default_factory=list)
    window_days: int = 365


class _Maker:
    def __init__(self, pool: Pool, rng: random.Random, base: bytes):
        self.pool, self.rng = pool, rng
        self.tree = Tree(root=os.path.join(base, b"tree"))
        self.dirs: list[tuple[bytes, int]] = []  # (folder, depth below root)
        self.counter = 0
        self.placed: list[tuple[bytes, Report]] = []  # clean SR files placed
        self.placed_labs: list[bytes] = []

    def name(self, suffixes=(b"",), hidden_ok=False) -> bytes:
        self.counter += 1
        part = self.rng.choice(_NAME_PARTS) if self.rng.random() < 0.6 else b"f"
        name = b"%s_%d%s" % (part, self.counter, self.rng.choice(suffixes))
        if hidden_ok and self.rng.random() < 0.1:
            name = b"." + name
        return name

    def folder(self, max_depth: int | None = None) -> tuple[bytes, int]:
        options = [d for d in self.dirs if max_depth is None or d[1] <= max_depth]
        return self.rng.choice(options)

    def write(self, folder: bytes, name: bytes, data: bytes) -> bytes:
        path = os.path.join(folder, name)
        with open(path, "wb") as handle:
            handle.write(data)
        return path

    def make(self) -> Tree:
        rng, pool, tree = self.rng, self.pool, self.tree
        os.makedirs(tree.root)
        self.dirs.append((tree.root, 0))
        for _ in range(rng.randint(1, 5)):
            parent, depth = self.folder(max_depth=3)
            sub = os.path.join(parent, self.name())
            os.mkdir(sub)
            self.dirs.append((sub, depth + 1))
        # valid SRs and labs: these make the reference table
        for src, report in rng.sample(pool.clean, rng.randint(1, min(7, len(pool.clean)))):
            folder, _ = self.folder()
            path = os.path.join(folder, self.name(_SR_SUFFIXES))
            shutil.copyfile(src, path)
            self.placed.append((path, report))
            tree.clean.append(report)
        for lab, _pid in rng.sample(pool.labs, rng.randint(0, min(2, len(pool.labs)))):
            folder, _ = self.folder()
            path = os.path.join(folder, self.name() + b".labs.json")
            shutil.copyfile(lab, path)
            self.placed_labs.append(path)
            tree.labs.append(lab)
        makers = [getattr(self, n) for n in dir(self) if n.startswith("noise_")]
        for _ in range(rng.randint(3, 14)):
            maker = rng.choice(makers)
            try:
                maker()
                tree.kinds.append(maker.__name__[6:])
            except OSError:
                pass  # e.g. a name too long for this file system: nothing planted
        tree.paths.insert(0, tree.root)
        rng.shuffle(tree.paths)
        tree.window_days = rng.choice([365, 365, 30, 5000])
        tree.options = ["--format", rng.choice(FORMATS), "--window-days", str(tree.window_days)]
        return tree

    # -- noise: each must leave the table unchanged (or be flagged)
    def _a_clean_file(self):
        return self.rng.choice(self.placed)

    def noise_copy(self):
        path, _ = self._a_clean_file()
        folder, _ = self.folder()
        shutil.copyfile(path, os.path.join(folder, self.name(_SR_SUFFIXES)))

    def noise_hardlink(self):
        path, _ = self._a_clean_file()
        folder, _ = self.folder()
        os.link(path, os.path.join(folder, self.name(_SR_SUFFIXES)))

    def noise_symlink_file(self):
        path, _ = self._a_clean_file()
        folder, _ = self.folder()
        target = path if self.rng.random() < 0.5 else os.path.relpath(path, folder)
        os.symlink(target, os.path.join(folder, self.name(_SR_SUFFIXES)))

    def noise_symlink_folder(self):
        target, _ = self.folder()
        folder, _ = self.folder()
        os.symlink(target, os.path.join(folder, self.name()))

    def noise_loop(self):
        folder, _ = self.folder()
        kind = self.rng.randrange(3)
        if kind == 0:
            os.symlink(b".", os.path.join(folder, self.name()))
        elif kind == 1:
            os.symlink(self.tree.root, os.path.join(folder, self.name()))
        else:
            a, b = os.path.join(folder, self.name()), os.path.join(folder, self.name())
            os.symlink(b, a)
            os.symlink(a, b)

    def noise_dangling(self):
        folder, _ = self.folder()
        os.symlink(b"/nonexistent/" + self.name(), os.path.join(folder, self.name(_SR_SUFFIXES)))

    def _shadow_name(self) -> bytes:
        self.counter += 1
        return b"0000_%d%s" % (self.counter, self.rng.choice(_SR_SUFFIXES))  # sorts first

    def noise_truncated(self):
        path, _ = self._a_clean_file()
        data = _read(path)
        cut = self.rng.choice([self.rng.randrange(1, len(data)), len(data) - self.rng.randrange(1, 64),
                               self.rng.randrange(132, min(len(data), 2000))])
        folder = os.path.dirname(path) if self.rng.random() < 0.5 else self.folder()[0]
        self.write(folder, self._shadow_name(), data[:max(cut, 1)])

    def noise_flipped(self):
        path, _ = self._a_clean_file()
        data = bytearray(_read(path))
        for _ in range(self.rng.randint(1, 8)):
            i = self.rng.randrange(len(data))
            data[i] ^= 1 << self.rng.randrange(8) if self.rng.random() < 0.7 else self.rng.randrange(1, 256)
        folder = os.path.dirname(path) if self.rng.random() < 0.5 else self.folder()[0]
        self.write(folder, self._shadow_name(), bytes(data))

    def noise_twin_without_patient_id(self):
        path, report = self._a_clean_file()
        twins = self.pool.twins.get(_uid(report))
        if not twins:
            raise OSError("no twin")
        folder = os.path.dirname(path) if self.rng.random() < 0.5 else self.folder()[0]
        shutil.copyfile(self.rng.choice(twins), os.path.join(folder, self._shadow_name()))

    def noise_image(self):
        if not self.pool.images:
            raise OSError("no image")
        folder, _ = self.folder()
        shutil.copyfile(self.rng.choice(self.pool.images), os.path.join(folder, self.name(_SR_SUFFIXES)))

    def noise_text(self):
        folder, _ = self.folder()
        data = self.rng.choice([
            b"", b"hello\n", b"<html><body>report</body></html>", b'{"findings": []}',
            b"| a | b |\n", os.urandom(self.rng.randrange(1, 4000)),
            b"\0" * 128 + b"DICM" + os.urandom(self.rng.randrange(0, 600)),
            b"\0" * 128 + b"DICM", b"%PDF-1.4\n", b"\xff" * 300])
        suffix = self.rng.choice([b".txt", b".html", b".json", b".dcm", b"", b".md", b".csv"])
        self.write(folder, self.name((suffix,), hidden_ok=True), data)

    def noise_bad_labs(self):
        folder, _ = self.folder()
        data = self.rng.choice([
            b"{not json", b"[]", b'{"patient": 1}', b'{"patient": {"id": ["a"]}, "results": []}',
            b'{"patient": {"id": "NOPATIENT-1"}, "results": [{"test": "VMA", "result": "high", '
            b'"date": 20150101}]}',
            b'{"patient": {"id": "NOPATIENT-2"}, "results": [{"test": {"a": 1}, "result": null}]}',
            b'{"patient": {"id": "NOPATIENT-3"}, "results": "none"}',
            b"[" * 100_000 + b"]" * 100_000, b'{"a": ' * 50_000 + b"1" + b"}" * 50_000,
            b"\xff\xfe\x00{", b'{"patient": {"id": 12345678901234567890123}, "results": []}',
            b" " * (1024 * 1024 + 10), b""])
        self.write(folder, self.name() + b"labs.json", data)

    def noise_duplicate_labs(self):
        if not self.placed_labs:
            raise OSError("no labs placed")
        folder, _ = self.folder()
        shutil.copyfile(self.rng.choice(self.placed_labs), os.path.join(folder, self.name() + b".labs.json"))

    def _chain(self, start: bytes, depth: int, part: bytes = b"d") -> int:
        """A chain of ``depth`` folders below ``start`` (relative opens: longer than PATH_MAX
        is fine); returns a descriptor of the deepest one."""
        fd = os.open(start, os.O_RDONLY)
        for _ in range(depth):
            os.mkdir(part, dir_fd=fd)
            inner = os.open(part, os.O_RDONLY, dir_fd=fd)
            os.close(fd)
            fd = inner
        return fd

    def noise_deep(self):
        folder, depth = self.folder(max_depth=2)
        limit = self.pool.max_depth
        chain = self.rng.choice([3, limit - 3 - depth, limit + 2, 300, 1200])
        fd = self._chain(folder, chain)
        try:
            total = depth + chain
            if total < limit - 1 and self.rng.random() < 0.7:
                # a valid SR deep inside (within the limit): it must be found
                choices = [c for c in self.pool.clean if c[1] not in self.tree.clean]
                if choices:
                    src, report = self.rng.choice(choices)
                    out = os.open(b"deep.dcm", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd)
                    os.write(out, _read(src))
                    os.close(out)
                    self.tree.clean.append(report)
                    return
            out = os.open(b"x.dcm", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd)
            os.write(out, _read(self._a_clean_file()[0]))  # a copy: no effect
            os.close(out)
            if self.rng.random() < 0.3:
                os.symlink(folder, b"up", dir_fd=fd)  # a loop from the bottom
        finally:
            os.close(fd)

    def noise_long_path(self):
        folder, _ = self.folder(max_depth=1)
        fd = self._chain(folder, 24, b"n" * 200)  # ~4.8 kB of path: beyond PATH_MAX
        try:
            out = os.open(b"x.dcm", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd)
            os.write(out, _read(self._a_clean_file()[0]))
            os.close(out)
        finally:
            os.close(fd)

    def noise_fifo(self):
        folder, _ = self.folder()
        path = os.path.join(folder, self.name([*_SR_SUFFIXES, b"labs.json"]))
        os.mkfifo(path)
        if self.rng.random() < 0.5:
            self.tree.paths.append(path)

    def noise_socket(self):
        folder, _ = self.folder()
        path = os.path.join(folder, b"s%d" % self.counter)
        if len(path) > 100:
            raise OSError("socket path too long")
        with socket.socket(socket.AF_UNIX) as sock:
            sock.bind(path)

    def noise_device(self):
        folder, _ = self.folder()
        target = self.rng.choice([b"/dev/zero", b"/dev/null", b"/dev/urandom", b"/dev/tty"])
        name = self.name([*_SR_SUFFIXES, b"labs.json"])
        os.symlink(target, os.path.join(folder, name))
        if self.rng.random() < 0.2:
            self.tree.paths.append(b"/dev/null")

    def noise_unreadable(self):
        folder, _ = self.folder()
        if self.rng.random() < 0.5:
            path, _ = self._a_clean_file()
            copy = os.path.join(folder, self.name(_SR_SUFFIXES))
            shutil.copyfile(path, copy)
            os.chmod(copy, 0)
        else:
            sub = os.path.join(folder, self.name())
            os.mkdir(sub)
            self.write(sub, b"x.dcm", _read(self._a_clean_file()[0]))
            os.chmod(sub, 0)

    def noise_sparse(self):
        path, _ = self._a_clean_file()
        folder, _ = self.folder()
        copy = os.path.join(folder, self.name(_SR_SUFFIXES))
        shutil.copyfile(path if self.rng.random() < 0.6 or not self.pool.images
                        else self.rng.choice(self.pool.images), copy)
        os.truncate(copy, self.rng.choice([2, 40, 300]) * 1024 * 1024)

    def noise_given_twice(self):
        self.tree.paths.append(self.rng.choice([self.tree.root, self.folder()[0]]))

    def noise_given_file(self):
        self.tree.paths.append(self._a_clean_file()[0])

    def noise_given_link(self):
        link = os.path.join(os.path.dirname(self.tree.root), b"link_%d" % self.counter)
        self.counter += 1
        os.symlink(self.tree.root, link)
        self.tree.paths.append(link)


def _read(path) -> bytes:
    with open(path, "rb") as handle:
        return handle.read()


def make_tree(pool: Pool, seed: int, base: Path) -> Tree:
    return _Maker(pool, random.Random(seed), os.fsencode(base)).make()
