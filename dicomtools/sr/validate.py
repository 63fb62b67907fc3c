"""One validation API: our template checks plus dciodvfy, dsrdump and PixelMed's
DicomSRValidator, merged into one list of problems.

Each external tool reports differently (dciodvfy on stderr with exit 1 only for errors; dsrdump
with W:/E:/F: lines; PixelMed always exits 0 and needs three JVM flags on Java 17), so each has
a small parser here. A tool that is not installed is reported as skipped, never as passed.

The tools quote attribute values in their messages; every message is passed on with the values
of patient attributes masked (``Patient ID LO [1] = <***>``, see dicomtools.phi), and pydicom's
warnings raised while reading the file become one-line ``pydicom`` warnings without the value.
A tool that does not finish within its timeout, or cannot be started, is an error of that tool.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..errors import SRReadError
from ..files import file_kind
from ..phi import library_warnings, mask_library_message, mask_line, patient_values, printable
from .checks import check_dicomtools
from .read import SR_STORAGE, open_dicom

PIXELMED_JARS = ("/usr/share/java/pixelmed.jar", "/usr/share/java/commons-codec.jar")
_JAVA_FLAGS = ("-Djdk.xml.xpathExprOpLimit=0", "-Djdk.xml.xpathExprGrpLimit=0",
               "-Djdk.xml.xpathTotalOpLimit=0")
ALL_TOOLS = ("dicomtools", "dciodvfy", "dsrdump", "pixelmed")


@dataclass(frozen=True)
class Problem:
    severity: str  # "error" or "warning"
    tool: str
    message: str


@dataclass
class ValidationResult:
    path: str
    problems: list[Problem] = field(default_factory=list)
    ran: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)  # tool -> why

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def ok(self) -> bool:
        return not self.errors

    def grouped(self) -> list[tuple[Problem, int]]:
        """Problems with identical text counted once (dciodvfy repeats a warning per item)."""
        counts: dict[Problem, int] = {}
        for problem in self.problems:
            counts[problem] = counts.get(problem, 0) + 1
        return list(counts.items())

    def to_json(self) -> dict:
        return {"path": self.path, "ok": self.ok, "ran": self.ran, "skipped": self.skipped,
                "problems": [asdict(p) for p in self.problems]}


class _ToolFailed(Exception):
    """The tool did not finish in time or could not be started: one error of that tool."""


def _run(cmd: list[str], timeout: float = 120) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                              errors="replace", stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise _ToolFailed(f"did not finish within {timeout:g} s; stopped") from None
    except OSError as exc:
        raise _ToolFailed(f"could not be started ({exc.strerror or type(exc).__name__})") from None


def _classify(tool: str, text: str, errors: tuple[str, ...], warnings: tuple[str, ...],
              values: tuple[str, ...] = ()) -> list[Problem]:
    """Lines of a tool's output that start with an error or warning prefix, as Problems, with
    patient values masked (``values``: those of the file, masked wherever they appear) and
    control characters escaped."""
    problems = []
    for line in text.split("\n"):
        line = line.rstrip("\r")
        if line.startswith(errors):
            problems.append(Problem("error", tool, printable(mask_line(line, values))))
        elif line.startswith(warnings):
            problems.append(Problem("warning", tool, printable(mask_line(line, values))))
    return problems


def _with_exit_code(tool: str, problems: list[Problem], returncode: int) -> list[Problem]:
    if returncode != 0 and not any(p.severity == "error" for p in problems):
        problems.append(Problem("error", tool, f"exit code {returncode}"))
    return problems


def check_dciodvfy(path: Path, values: tuple[str, ...] = ()) -> list[Problem]:
    """dicom3tools: IOD, module and VR checks; everything is on stderr, exit 1 on errors.
    ``values``: patient values of the file to mask (validate() passes them)."""
    proc = _run(["dciodvfy", str(path)])
    problems = _classify("dciodvfy", proc.stderr + proc.stdout, ("Error",), ("Warning",), values)
    return _with_exit_code("dciodvfy", problems, proc.returncode)


def check_dsrdump(path: Path, values: tuple[str, ...] = ()) -> list[Problem]:
    """DCMTK: SR parsing and relationship constraints; W:/E:/F: lines on stderr."""
    proc = _run(["dsrdump", str(path)])
    problems = _classify("dsrdump", proc.stderr, ("E:", "F:"), ("W:",), values)
    return _with_exit_code("dsrdump", problems, proc.returncode)


def check_pixelmed(path: Path, values: tuple[str, ...] = ()) -> list[Problem]:
    """PixelMed DicomSRValidator with template checking (slow: ~10 s of JVM per file).
    It always exits 0, so completion is read from its output."""
    proc = _run(["java", *_JAVA_FLAGS, "-cp", ":".join(PIXELMED_JARS),
                 "com.pixelmed.validate.DicomSRValidator", "-checktemplateid",
                 "-checkcontentitemorder", "-checkambiguoustemplate", str(path)], timeout=300)
    problems = _classify("pixelmed", proc.stdout, ("Error",), ("Warning",), values)
    if "IOD validation complete" not in proc.stdout:
        tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        problems.append(Problem("error", "pixelmed", "validator did not complete: "
                                + printable(mask_line(tail, values))))
    return problems


def _available(tool: str) -> str | None:
    """None when the tool can run, else why not."""
    if tool == "pixelmed":
        if not shutil.which("java"):
            return "java not installed (apt-get install default-jre-headless)"
        missing = [jar for jar in PIXELMED_JARS if not Path(jar).exists()]
        return f"{missing[0]} missing (apt-get install libpixelmed-java)" if missing else None
    if tool in ("dciodvfy", "dsrdump") and not shutil.which(tool):
        package = "dicom3tools" if tool == "dciodvfy" else "dcmtk"
        return f"{tool} not installed (apt-get install {package})"
    return None


# The external tools, given the patient values to mask; our own checks get the dataset read.
_EXTERNAL: dict[str, Callable[[Path, tuple[str, ...]], list[Problem]]] = {
    "dciodvfy": check_dciodvfy, "dsrdump": check_dsrdump, "pixelmed": check_pixelmed}


def validate(path: str | Path, tools: tuple[str, ...] = ALL_TOOLS) -> ValidationResult:
    """Validate one SR file with the named checks. Other DICOM objects (a SEG, an image) get
    the IOD check (dciodvfy) only. Raises SRReadError if the file is not readable DICOM, or
    not a regular file (a FIFO, a device, a folder: never opened).

    Every message comes back with patient values masked; pydicom's warnings while reading
    become ``pydicom`` warnings (one line each, values masked)."""
    path = Path(path)
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise SRReadError(f"{printable(path)}: no such file") from None
    except OSError as exc:
        raise SRReadError(f"{printable(path)}: cannot be read ({exc.strerror})") from None
    if stat.S_ISDIR(mode):
        raise SRReadError(f"{printable(path)}: is a directory, not an SR file")
    if not stat.S_ISREG(mode):
        raise SRReadError(f"{printable(path)}: not a regular file ({file_kind(mode)}); not read")
    result = ValidationResult(str(path))
    with library_warnings() as remarks:
        ds = open_dicom(path)
        values = patient_values(ds)
        sop_class = str(ds.get("SOPClassUID", ""))
        if sop_class not in SR_STORAGE:
            for tool in tools:
                if tool != "dciodvfy":
                    result.skipped[tool] = "not an SR: only the IOD check (dciodvfy) applies"
            tools = tuple(t for t in tools if t == "dciodvfy")
        for tool in tools:
            if tool != "dicomtools" and tool not in _EXTERNAL:
                raise ValueError(f"unknown validator {tool!r}; choose from {', '.join(ALL_TOOLS)}")
            why_not = _available(tool)
            if why_not:
                result.skipped[tool] = why_not
                continue
            try:
                found = check_dicomtools(path, ds) if tool == "dicomtools" else _EXTERNAL[tool](path, values)
            except _ToolFailed as exc:
                found = [Problem("error", tool, str(exc))]
            result.problems.extend(Problem(p.severity, p.tool, printable(mask_line(p.message, values)))
                                   for p in found)
            result.ran.append(tool)
    for remark in dict.fromkeys(mask_library_message(m, values) for m in remarks):
        result.problems.append(Problem("warning", "pydicom", f"while reading: {remark}"))
    return result


_NOISE = re.compile(r"Unrecognized defined term <99DCMTLS>")


def is_expected_warning(problem: Problem) -> bool:
    """Warnings every dicomtools SR carries by design (the declared private scheme)."""
    return problem.severity == "warning" and bool(_NOISE.search(problem.message))
