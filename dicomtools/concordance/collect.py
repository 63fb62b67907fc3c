"""SR files, directory trees or Reports -> one record per patient (Patient ID + issuer).

Nothing is dropped silently: a duplicate SOP Instance UID, an unreadable file, a special file
or a report without patient identity becomes a warning on the cohort.

Folders are read as data, not trusted:

- **Walk** (:class:`dicomtools.files.Walker`, the walker ``validate`` and ``pacs send`` use
  too). Iterative (no recursion), in name order. Symbolic links are followed, to files and to
  folders, but every real folder and file (device and inode) is read once however often it is
  given, nested in another given folder, or linked: a link back to a folder already read (a
  loop) is not followed again, and one line counts the paths reached more than once.
  Hidden files (name starting with ``.``) are not read.
- **Special files** (FIFOs, sockets, devices), broken links and link loops are skipped with a
  note, never opened: a file is stat-ed first, opened non-blocking, and checked again to be a
  regular file on the open descriptor. Unreadable files and folders are a note too.
- **Which files.** Files named ``*labs.json`` are labs files; any other file is read as an SR
  when it is DICOM (``DICM`` at byte 128), whatever its name; other files are counted as
  skipped (``.json .txt .md .csv .html`` files silently: findings files and our own tables).
  A large DICOM file whose file meta says it is not an SR is skipped without being read.
- **File names** appear escaped (dicomtools.phi.printable: undecodable bytes as ``\\xNN``,
  newlines and control characters as ``\\n``, ``\\x1b``) in every warning, note and origin.
- **Values.** Dates, ages and identifiers read from an SR are checked; a bad one is a warning
  naming the file and the attribute (never the value), and the exam is kept.
- **Duplicate SOP Instance UIDs.** All copies are read first; the copy that reads most cleanly
  is kept (in this order: placeable — Patient ID and a known procedure — before not; not a
  truncated prefix of another copy; fewer reader warnings and bad values; more identical
  copies; patient and study shared with other reports; the larger file; found first). Each
  other copy is a warning saying whether it is identical or differs, and why it lost.
- **Labs** results already read (same patient, test, result and date) are not counted twice.
- **Library warnings** (pydicom's UserWarning about a value) become one-line warnings naming
  the file, with the value masked.

Limits (defaults of :func:`collect`; each one reached is a message naming the path):

=================  =========  ==============================================================
``MAX_DEPTH``      64         folder levels below a given folder; deeper folders are not
                              entered (a warning per folder not entered)
``MAX_ENTRIES``    1,000,000  files and folders looked at in one run; more is an error
                              (InputError, exit 2): give narrower folders
``MAX_SR_BYTES``   32 MiB     an SR file larger than this is skipped with a warning
``MAX_LABS_BYTES`` 1 MiB      a labs file larger than this is skipped with a warning
=================  =========  ==============================================================
"""

from __future__ import annotations

import datetime as dt
import json
import os
import stat
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, replace

from ..errors import DicomToolsError, InputError
from ..files import Walker, file_kind, os_error_reason
from ..model import Patient, Report
from ..phi import library_warnings, mask_library_message, printable
from ..sr.read import SR_STORAGE, read_sr
from ..vocab import Code
from .records import (  # re-exported: the collector's public names
    Cohort,
    Exam,
    LabResult,
    PatientRecord,
    parse_date,
    value_problems,
)

LAB_SUFFIXES = ("labs.json",)
QUIET_SUFFIXES = (".json", ".txt", ".md", ".csv", ".html")  # ours and findings files: no note

MAX_DEPTH = 64
MAX_ENTRIES = 1_000_000
MAX_SR_BYTES = 32 * 1024 * 1024
MAX_LABS_BYTES = 1024 * 1024
_PEEK_SOP_CLASS_ABOVE = 1024 * 1024  # bytes; smaller files are simply read


def _patient_key(patient: Patient) -> tuple[str, str] | None:
    pid = patient.id.strip() if isinstance(patient.id, str) else None
    if not pid:
        return None
    issuer = patient.issuer.strip() if isinstance(patient.issuer, str) else ""
    return (pid, issuer)


# ---- reading one file -------------------------------------------------------------------
class _Unusable(Exception):
    """A file that is not read, with the note saying why (None: count it as skipped)."""

    def __init__(self, note: str | None = None):
        super().__init__(note)
        self.note = note


def _open_regular(path: str) -> int:
    """A non-blocking descriptor on ``path``, which must still be a regular file."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) \
        | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise _Unusable(f"{printable(path)}: cannot be read ({os_error_reason(exc)}); skipped") from None
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        raise _Unusable(f"{printable(path)}: not a regular file ({file_kind(mode)}); skipped")
    return fd


def _read_prefix(path: str, limit: int) -> bytes:
    fd = _open_regular(path)
    try:
        with os.fdopen(fd, "rb", closefd=True) as handle:
            return handle.read(limit)
    except OSError as exc:
        raise _Unusable(f"{printable(path)}: cannot be read ({os_error_reason(exc)}); skipped") from None


def _meta_sop_class(path: str) -> str | None:
    """The Media Storage SOP Class UID of the file meta (group 0002), None if unknown."""
    from pydicom.filereader import _read_file_meta_info, read_preamble
    fd = _open_regular(path)
    try:
        with os.fdopen(fd, "rb", closefd=True) as handle, warnings.catch_warnings():
            warnings.simplefilter("ignore")
            read_preamble(handle, False)
            meta = _read_file_meta_info(handle)
            value = meta.get("MediaStorageSOPClassUID")
            return str(value).strip("\x00 ") if value else None
    except _Unusable:
        raise
    except Exception:
        return None


@dataclass
class _Candidate:
    """One readable report, before duplicates are resolved."""

    report: Report
    origin: str
    path: str | None  # None for reports given in memory
    size: int
    order: int
    warnings: list[str]


# ---- collecting --------------------------------------------------------------------------
class _Collector:
    def __init__(self) -> None:
        self.records: dict[tuple[str, str], PatientRecord] = {}
        self.warnings: list[str] = []
        self.skipped: list[str] = []
        self.study_reports: dict[tuple, str] = {}
        self.candidates: list[_Candidate] = []
        self.lab_sources: dict[tuple[str, str], dict[tuple, str]] = {}
        self._keys: dict[tuple, set[str]] | None = None

    # -- files
    def read_file(self, path: str, st: os.stat_result) -> None:
        name = os.path.basename(path)
        origin = printable(path)
        try:
            if name.endswith(LAB_SUFFIXES):
                self.add_labs_file(path, st)
                return
            head = _read_prefix(path, 132)
            if len(head) < 132 or head[128:132] != b"DICM":
                if not name.lower().endswith(QUIET_SUFFIXES):
                    self.skipped.append(origin)  # not DICOM: text, PDF, empty...
                return
            if st.st_size > _PEEK_SOP_CLASS_ABOVE:
                sop_class = _meta_sop_class(path)
                if sop_class and sop_class not in SR_STORAGE:
                    self.skipped.append(origin)  # an image, a SEG: not read further
                    return
            if st.st_size > MAX_SR_BYTES:
                raise _Unusable(f"{origin}: {st.st_size:,} bytes, more than an SR may have "
                                f"({MAX_SR_BYTES // 2**20} MiB, limit MAX_SR_BYTES); skipped")
            self._read_sr(path, origin, st.st_size)
        except _Unusable as exc:
            if exc.note:
                self.warnings.append(exc.note)
            else:
                self.skipped.append(origin)

    def _read_sr(self, path: str, origin: str, size: int) -> None:
        report = None
        with library_warnings() as remarks:
            try:
                report = read_sr(path)
            except DicomToolsError:
                self.skipped.append(origin)  # images, SEG, PDFs, damaged files: named
            except RecursionError:
                self.warnings.append(f"{origin}: nested too deeply to be read; skipped")
            except Exception as exc:  # a reader defect must not end the whole run
                self.warnings.append(f"{origin}: could not be read ({type(exc).__name__} in the "
                                     "SR reader); skipped")
        values: tuple[str, ...] = ()
        if report is not None:
            p = report.patient
            values = tuple(v for v in (p.id, p.name, p.issuer, p.birth_date) if isinstance(v, str) and v)
        notes = [f"{origin}: pydicom: {mask_library_message(m, values)}" for m in remarks]
        if report is None:
            self.warnings.extend(notes)
            return
        self.candidates.append(_Candidate(report, origin, path, size, len(self.candidates), notes))

    def add_report(self, report: Report, origin: str) -> None:
        """A report given in memory (e.g. fetched from a PACS)."""
        self.candidates.append(_Candidate(report, printable(origin), None, 0,
                                          len(self.candidates), []))

    # -- duplicates
    def resolve(self) -> None:
        by_uid: dict[str, list[_Candidate]] = {}
        singles: list[_Candidate] = []
        for candidate in self.candidates:
            uid = candidate.report.sr.sop_instance_uid if candidate.report.sr else ""
            uid = (uid or "").strip()
            if uid:
                by_uid.setdefault(uid, []).append(candidate)
            else:
                singles.append(candidate)
        kept = list(singles)
        for group in by_uid.values():
            kept.append(self._choose(group) if len(group) > 1 else group[0])
        for candidate in sorted(kept, key=lambda c: c.order):
            self.warnings.extend(candidate.warnings)
            self._place(candidate.report, candidate.origin)

    def _choose(self, group: list[_Candidate]) -> _Candidate:
        contents: list[list[_Candidate]] = []  # clusters of copies with equal content
        for c in group:
            home = next((cl for cl in contents if cl[0].report == c.report), None)
            if home is None:
                contents.append([c])
            else:
                home.append(c)
        copies = {id(c): len(cl) for cl in contents for c in cl}
        truncated = {id(c) for c in group if any(self._is_prefix(c, o) for o in group if o is not c)}
        uid = group[0].report.sr.sop_instance_uid if group[0].report.sr else ""

        def score(c: _Candidate):
            report = c.report
            placeable = _patient_key(report.patient) is not None and isinstance(report.procedure, str)
            problems = len(report.warnings) + len(c.warnings) + len(value_problems(report))
            return (placeable, id(c) not in truncated, -problems, copies[id(c)],
                    self._agreement(report, uid), c.size, -c.order)
        best = max(group, key=score)
        for other in sorted(group, key=lambda c: c.order):
            if other is best:
                continue
            if other.report == best.report:
                self.warnings.append(f"{other.origin}: same SOP Instance UID and content as "
                                     f"{best.origin}; counted once")
                continue
            a, b = score(best), score(other)
            why = ("it has a Patient ID and a known procedure" if a[0] != b[0] else
                   "the other is a truncated copy" if a[1] != b[1] else
                   "it reads with fewer warnings" if a[2] != b[2] else
                   "more copies agree with it" if a[3] != b[3] else
                   "its patient and study agree with other reports" if a[4] != b[4] else
                   "it is the larger file (the other may be truncated)" if a[5] != b[5] else
                   "it was found first; nothing tells which is right, check both")
            self.warnings.append(f"{other.origin}: same SOP Instance UID as {best.origin} but "
                                 f"different content; {best.origin} is used ({why}), this copy "
                                 "is ignored")
        return best

    def _agreement(self, report: Report, uid: str) -> int:
        """How many other reports (other SOP Instance UIDs) share this one's patient and study:
        a damaged Patient ID or Study UID stands alone."""
        if self._keys is None:
            self._keys = {}
            for c in self.candidates:
                other = c.report.sr.sop_instance_uid if c.report.sr else ""
                for key in (("patient", _patient_key(c.report.patient)),
                            ("study", c.report.study.instance_uid)):
                    if key[1]:
                        self._keys.setdefault(key, set()).add(other)
        return sum(len(self._keys.get(key, set()) - {uid})
                   for key in (("patient", _patient_key(report.patient)),
                               ("study", report.study.instance_uid)) if key[1])

    @staticmethod
    def _is_prefix(short: _Candidate, long: _Candidate) -> bool:
        if not short.path or not long.path or short.size >= long.size:
            return False
        try:
            a = _read_prefix(short.path, MAX_SR_BYTES)
            b = _read_prefix(long.path, len(a))
        except _Unusable:
            return False
        return a == b

    # -- placing reports
    def _check(self, report: Report, origin: str) -> None:
        """Warnings for values that do not parse; the exam is kept either way."""
        self.warnings.extend(f"{origin}: {problem}" for problem in value_problems(report))

    def _place(self, report: Report, origin: str) -> None:
        key = _patient_key(report.patient)
        if key is None:
            self.warnings.append(f"{origin}: report has no Patient ID; cannot be placed in a "
                                 "patient's work-up, ignored")
            return
        procedure = report.procedure
        if procedure is None:
            self.warnings.append(f"{origin}: procedure not recognised; ignored for concordance")
            return
        if isinstance(procedure, Code):  # a coded procedure of another tool's SR
            self.warnings.append(f"{origin}: procedure '{printable(procedure.meaning)}' has no "
                                 "dicomtools name; ignored for concordance")
            return
        self._check(report, origin)
        date = parse_date(report.study.date)
        record = self.records.setdefault(key, PatientRecord(key, report.patient))
        record.exams.append(Exam(report, date, origin))
        study = (key, report.study.instance_uid, procedure)
        if report.study.instance_uid and study in self.study_reports:
            self.warnings.append(f"{origin}: a second {procedure} report of the study of "
                                 f"{self.study_reports[study]}; both are used")
        self.study_reports.setdefault(study, origin)

    def _patient(self, record: PatientRecord) -> Patient:
        """The patient of a record: from its first exam (in date order, not file order), with
        sex and birth date from the first exam where they are valid; a valid value that
        differs is a warning."""
        first = record.exams[0]
        chosen: dict[str, str | None] = {}
        for name, valid in (("sex", lambda v: v.strip() in ("M", "F", "O")),
                            ("birth_date", lambda v: parse_date(v) is not None)):
            source = None
            for exam in record.exams:
                value = getattr(exam.report.patient, name)
                if not isinstance(value, str) or not valid(value):
                    continue
                if source is None:
                    source, chosen[name] = exam, value.strip()
                elif value.strip() != chosen[name]:
                    self.warnings.append(f"{exam.origin}: patient {name.replace('_', ' ')} "
                                         f"differs from {source.origin}, whose value is used")
            chosen.setdefault(name, None)
        return replace(first.report.patient, **chosen)

    # -- labs
    def add_labs_file(self, path: str, st: os.stat_result | None = None) -> None:
        origin = printable(path)
        if st is not None and st.st_size > MAX_LABS_BYTES:
            raise _Unusable(f"{origin}: {st.st_size:,} bytes, more than a labs file may have "
                            f"({MAX_LABS_BYTES // 2**10} KiB, limit MAX_LABS_BYTES); skipped")
        data = _read_prefix(path, MAX_LABS_BYTES + 1)
        if len(data) > MAX_LABS_BYTES:
            raise _Unusable(f"{origin}: more than {MAX_LABS_BYTES // 2**10} KiB, the limit for a "
                            "labs file (MAX_LABS_BYTES); skipped")
        try:
            key, results, notes = read_labs_data(data, origin)
        except InputError as exc:
            raise _Unusable(f"{exc}; skipped") from None
        self.warnings.extend(notes)
        record = self.records.get(key)
        if record is None:  # labs may come before the SRs; the patient is filled in later
            record = self.records[key] = PatientRecord(key, Patient(id=key[0], issuer=key[1] or None))
        sources = self.lab_sources.setdefault(key, {})
        repeated = []
        for result in results:
            ident = (result.test, result.result, result.date)
            if ident in sources:
                repeated.append(sources[ident])
                continue
            sources[ident] = origin
            record.labs.append(result)
        if repeated:
            self.warnings.append(f"{origin}: {len(repeated)} lab result(s) already read from "
                                 f"{repeated[0]}; counted once")

    def cohort(self, walker: Walker | None = None) -> Cohort:
        if walker is not None:
            self.warnings.extend(walker.notes)
            if walker.repeats:
                self.warnings.append(f"{walker.repeats} path(s) reached more than once (a folder "
                                     "given twice, nested in another given path, or linked); "
                                     "each file is counted once")
        patients = []
        for record in self.records.values():
            if not record.exams:
                self.warnings.append(f"labs for a patient without any report "
                                     f"({len(record.labs)} result(s)); no work-up to attach them to")
                continue
            # The order does not depend on file names: date, procedure, SOP Instance UID.
            record.exams.sort(key=lambda e: (e.date or dt.date.min, e.procedure,
                                             e.report.sr.sop_instance_uid if e.report.sr else "",
                                             e.origin))
            record.labs.sort(key=lambda lab: (lab.date or dt.date.min, lab.test, lab.result))
            record.patient = self._patient(record)
            patients.append(record)
        return Cohort(patients, self.warnings, len(self.skipped), self.skipped[:5])


def read_labs_data(data: bytes, origin: str) -> tuple[tuple[str, str], list[LabResult], list[str]]:
    """A labs JSON document: {"patient": {"id", "issuer"}, "results": [{"test", "result",
    "date"}]} -> (patient key, results, warnings). A bad date is a warning; the result is kept."""
    expected = '{"patient": {"id": ..., "issuer": ...}, "results": [...]}'
    try:
        doc = json.loads(data.decode("utf-8"))
    except RecursionError:
        raise InputError(f"{origin}: not a labs file (JSON nested too deeply)") from None
    except (UnicodeDecodeError, ValueError) as exc:
        raise InputError(f"{origin}: not a labs file ({type(exc).__name__}: "
                         f"{printable(str(exc))[:120]}); expected {expected}") from None
    patient = doc.get("patient") if isinstance(doc, dict) else None
    results = doc.get("results") if isinstance(doc, dict) else None
    pid = patient.get("id") if isinstance(patient, dict) else None
    if not isinstance(patient, dict) or not isinstance(pid, (str, int)) or isinstance(pid, bool) \
            or not str(pid).strip() or not isinstance(results, list):
        raise InputError(f"{origin}: not a labs file (patient id or results missing or of the "
                         f"wrong type); expected {expected}")
    issuer = patient.get("issuer")
    issuer = issuer.strip() if isinstance(issuer, str) else ""
    out, notes = [], []
    for number, entry in enumerate(results, start=1):
        if not isinstance(entry, dict) or not isinstance(entry.get("test"), str) \
                or not isinstance(entry.get("result"), str):
            notes.append(f"{origin}: result {number} lacks a text 'test' or 'result'; ignored")
            continue
        date = parse_date(entry.get("date"))
        if entry.get("date") not in (None, "") and date is None:
            notes.append(f"{origin}: result {number}: date is not a date (YYYYMMDD); kept "
                         "without it")
        out.append(LabResult(printable(entry["test"].strip()), printable(entry["result"].strip()),
                             date))
    return (str(pid).strip(), issuer), out, notes


def read_labs(path: str | os.PathLike) -> tuple[tuple[str, str], list[LabResult]]:
    """A labs JSON file -> (patient key, results). Raises InputError for a file that is not one."""
    origin = printable(os.fsdecode(os.fspath(path)))
    try:
        data = _read_prefix(os.fsdecode(os.fspath(path)), MAX_LABS_BYTES + 1)
    except _Unusable as exc:
        raise InputError(exc.note or f"{origin}: cannot be read") from None
    if len(data) > MAX_LABS_BYTES:
        raise InputError(f"{origin}: larger than {MAX_LABS_BYTES // 2**10} KiB; not a labs file")
    key, results, _ = read_labs_data(data, origin)
    return key, results


def collect(paths: Iterable[str | os.PathLike] = (), reports: Iterable[Report] = (), *,
            max_depth: int = MAX_DEPTH, max_entries: int = MAX_ENTRIES) -> Cohort:
    """SR files and directory trees (non-SR files are counted and skipped; labs JSON read) and
    reports already in memory (e.g. fetched from a PACS), into one cohort. See the module
    docstring for how folders are walked and the limits."""
    collector = _Collector()
    for index, report in enumerate(reports):
        origin = f"report {report.sr.sop_instance_uid}" if report.sr else f"report #{index + 1}"
        collector.add_report(report, origin)
    walker = Walker(max_depth=max_depth, max_entries=max_entries)
    for found in walker.walk(paths):
        collector.read_file(found.path, found.stat)
    collector.resolve()
    return collector.cohort(walker)


def collect_files(paths: Iterable[str | os.PathLike], **limits) -> Cohort:
    """SR files, directory trees and labs files."""
    return collect(paths=paths, **limits)


def collect_reports(reports: Iterable[Report], labs: Iterable[str | os.PathLike] = ()) -> Cohort:
    """Reports already in memory (e.g. fetched from a PACS) plus optional labs files."""
    return collect(paths=labs, reports=reports)
