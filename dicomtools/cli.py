"""The ``dicomtools`` command. Each subcommand is a few lines over the library.

File names are data (any bytes, not necessarily UTF-8, possibly newlines or terminal escapes):
every one printed goes through :func:`dicomtools.phi.printable`.
"""

from __future__ import annotations

import argparse
import errno
import importlib
import importlib.util
import json
import os
import sys
from pathlib import Path
from typing import Any, TextIO

from . import __version__
from .errors import DicomToolsError, InputError, SRReadError, ValidationFailed
from .phi import printable

EPILOG = """exit codes:
  0  success
  1  unexpected internal error (please report it)
  2  bad input (findings JSON, a value outside the vocabulary, a wrong unit)
  3  source images unusable (none found, mixed patients or studies)
  4  not a readable DICOM SR (missing, truncated, not DICOM, not SR)
  5  validation found errors / the demo found a mismatch
  6  PACS error (refused, rejected, timeout, HTTP error) or an instance not verified
  7  the findings differ (diff)
  141  the reader of our output went away (e.g. `dicomtools read SR --json | head`)
"""
SUB_EPILOG = "exit codes: see dicomtools --help"
_OUTPUT_ERRNOS = {errno.ENOSPC, errno.EIO, errno.EDQUOT, errno.EFBIG}
BROKEN_PIPE = 141  # 128 + SIGPIPE, what a shell reports for a writer whose reader went away

# -o FILE picks the output format from its extension when --format is not given.
FORMAT_BY_EXTENSION = {".md": "md", ".markdown": "md", ".csv": "csv", ".json": "json",
                       ".html": "html", ".htm": "html", ".txt": "md"}


def plural(count: int, word: str, many: str | None = None) -> str:
    """'1 patient', '3 patients', '1 month', '0 findings'."""
    return f"{count} {word if count == 1 else (many or word + 's')}"


class StatusLine:
    """Progress on stderr: one line rewritten in place on a terminal, or one line per step
    when ``force``d onto a file or pipe; silent otherwise (so stderr stays for errors)."""

    def __init__(self, stream: TextIO | None = None, *, force: bool = False):
        self.stream = stream or sys.stderr
        self.tty = _isatty(self.stream)
        self.enabled = self.tty or force
        self.shown = False

    def __call__(self, text: str) -> None:
        if not self.enabled:
            return
        if self.tty:
            width = max(20, _terminal_columns() - 1)
            if len(text) > width:  # keep the end: the step and the validator running
                text = "..." + text[-(width - 3):]
            self.stream.write("\r" + text + "\x1b[K")
        else:
            self.stream.write(text + "\n")
        self.stream.flush()
        self.shown = True

    def clear(self) -> None:
        """Wipe the line before other output goes to the terminal."""
        if self.tty and self.shown:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self.shown = False


def _isatty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def _terminal_columns() -> int:
    try:
        return os.get_terminal_size(sys.stderr.fileno()).columns
    except (OSError, ValueError, AttributeError):
        return 80


def _cmd_build(args) -> int:
    from .build import build_from_files
    from .sr.write import write_sr
    patient_only = args.patient_from is not None
    report = build_from_files(Path(args.findings), Path(args.patient_from or args.source),
                              patient_only=patient_only)
    path = write_sr(report, args.output)
    print(f"wrote {printable(path)} ({plural(len(report.findings), 'finding')}, {report.procedure})")
    return 0


def _cmd_read(args) -> int:
    from .describe import describe_finding
    from .sr.fast import read_report  # pydicom loads only for a file the fast path leaves
    report = read_report(args.sr)
    if args.json:
        print(json.dumps(report.to_json(), indent=2))
    else:
        print(f"{printable(args.sr)}: {report.procedure or 'unknown procedure'} "
              f"({report.modality or '?'}), impression {report.impression or '-'}")
        for finding in report.findings:
            print(f"  {finding.tracking_id or '-'}: {describe_finding(finding)}")
        for warning in report.warnings:
            print(f"  warning: {warning}")
    return 0


def _validate_targets(paths: list[str]) -> tuple[list[tuple[str, Path | DicomToolsError]], list[Path],
                                                list[str]]:
    """In the order given: each file to check, or the error a path gave (missing, not a regular
    file or folder, a folder without DICOM files); the non-DICOM files found in folders
    (skipped, not errors); and the notes of the walk (special files, link loops, unreadable
    folders inside the folders given: skipped, never opened)."""
    from .files import collect_files, is_dicom_file
    targets: list[tuple[str, Path | DicomToolsError]] = []
    skipped: list[Path] = []
    notes: list[str] = []
    for raw in paths:
        try:
            found = collect_files(
                [raw], notes=notes,
                missing=lambda p: SRReadError(f"{printable(p)}: no such file or directory"),
                unusable=lambda p, why: SRReadError(f"{printable(p)}: {why}; not opened"))
        except SRReadError as exc:
            targets.append((raw, exc))
            continue
        dicom = [p for p, named in found if named or is_dicom_file(p)]
        skipped += [p for p, named in found if not named and p not in dicom]
        if not dicom:
            targets.append((raw, SRReadError(f"{printable(raw)}: no DICOM file in this folder")))
        targets += [(str(p), p) for p in dicom]
    return targets, skipped, notes


def _viewer_problems(path: Path) -> list[str]:
    from .sr.viewers import viewer_problems
    return viewer_problems(path)


def _cmd_validate(args) -> int:
    from .demo import validate_each
    from .sr.validate import ALL_TOOLS
    tools = tuple(t for t in ALL_TOOLS if t not in (args.skip or []))
    targets, skipped, notes = _validate_targets(args.sr)
    total = sum(isinstance(t, Path) for _, t in targets)
    status = StatusLine(force=args.progress)
    worst, n = 0, 0
    results: list[dict[str, Any]] = []
    tally = {"ok": 0, "errors": 0, "unreadable": 0}
    for name, target in targets:
        try:
            if isinstance(target, DicomToolsError):
                raise target
            n += 1
            result = validate_each(target, tools, status, f"validating {n}/{total} {printable(target)}:")
            viewers = _viewer_problems(target) if args.viewers else None
        except DicomToolsError as exc:
            status.clear()
            print(f"dicomtools: error: {exc}", file=sys.stderr)
            results.append({"path": printable(name), "ok": False, "error": str(exc),
                            "exit_code": exc.exit_code})
            tally["unreadable"] += 1
            worst = max(worst, exc.exit_code)
            continue
        status.clear()
        results.append({**result.to_json(), "path": printable(result.path),
                        **({"viewers": viewers} if viewers is not None else {})})
        tally["ok" if result.ok else "errors"] += 1
        if not result.ok:
            worst = max(worst, ValidationFailed.exit_code)
        if not args.json:
            print(f"{printable(target)}: {'OK' if result.ok else 'ERRORS'} (ran: {', '.join(result.ran)})")
            for p, count in result.grouped():
                print(f"  {p.severity:7} {p.tool:10} {p.message}" + (f" (x{count})" if count > 1 else ""))
            for tool, why in result.skipped.items():
                print(f"  skipped {tool}: {why}")
            for line in viewers or ():
                print(f"  warning viewers    {line}")
            if viewers == []:
                print("  viewers: displays as measurements in OHIF and Slicer")
    status.clear()
    aside = sys.stderr if args.json else sys.stdout
    for path in skipped:
        print(f"skipped {printable(path)}: not a DICOM file", file=aside)
    for note in notes:
        print(note, file=aside)
    if args.json:
        single = len(args.sr) == 1 and len(results) == 1 and not Path(args.sr[0]).is_dir()
        print(json.dumps(results[0] if single else results, indent=2))
    elif len(results) > 1 or skipped:
        parts = [f"{tally['ok']} OK", f"{tally['errors']} with errors", f"{tally['unreadable']} unreadable"]
        print(f"{plural(len(results), 'file')} checked: {', '.join(parts)}"
              + (f"; {plural(len(skipped), 'non-DICOM file')} skipped" if skipped else ""))
    return worst


def _cmd_demo(args) -> int:
    from . import demo
    samples = Path(args.samples) if args.samples else demo.default_samples()
    demo.check_samples(samples, given=args.samples is not None)
    tools = () if args.no_validate else (
        ("dicomtools", "dciodvfy", "dsrdump") if args.quick else
        ("dicomtools", "dciodvfy", "dsrdump", "pixelmed"))
    status = StatusLine(force=args.progress)
    print(f"building seed-case SRs from {printable(samples)} into {printable(args.out)}")
    results = demo.run(samples, Path(args.out), tools, sys.stdout, progress=status)
    print(demo.summary(results))
    line = demo.measure_sample(samples, Path(args.out), tools, progress=status)
    status.clear()
    print(line)
    status("concordance: reading the SRs back")
    table = demo.concordance_tables(samples, Path(args.out))
    status.clear()
    print(f"\nconcordance (also in {printable(Path(args.out) / 'concordance.html')}, .md, .json, .csv):")
    print(table)
    bad = [r for r in results if not r.roundtrip_ok or (r.validation and not r.validation.ok)]
    print(f"{len(results) - len(bad)}/{len(results)} SRs built, valid and read back unchanged")
    return ValidationFailed.exit_code if bad else 0


_PLUGIN_MODULES = ("dicomtools.text.cli", "dicomtools.pacs.cli", "dicomtools.concordance.cli",
                   "dicomtools.masks.cli", "dicomtools.sr.cli", "dicomtools.archive.cli",
                   "dicomtools.interop.cli")
_FORMATTER = argparse.RawDescriptionHelpFormatter


_BUILTIN = ("build", "read", "validate", "demo")


def parser(only: str | None = None) -> argparse.ArgumentParser:
    """The dicomtools argument parser. ``only``: the command about to run, when it is one of
    ours (not a plugin's): the plugins' commands are then not registered, so that running
    it loads none of their modules."""
    top = argparse.ArgumentParser(prog="dicomtools", epilog=EPILOG,
                                  description="Imaging findings -> DICOM SR (TID 1500) -> findings.",
                                  formatter_class=_FORMATTER)
    top.add_argument("--version", action="version", version=f"dicomtools {__version__}")
    sub = top.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("build", help="findings JSON + source DICOM -> SR", epilog=SUB_EPILOG,
                       formatter_class=_FORMATTER)
    p.add_argument("findings", help="findings JSON (procedure, impression, findings[]), or - for "
                                    "standard input (extract --json | build -)")
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument("--source", help="DICOM file or directory of the study's source images")
    where.add_argument("--patient-from", metavar="DIR",
                       help="report without images of its own (e.g. histopathology): take only "
                            "the patient from these images; the report gets a new study")
    p.add_argument("-o", "--output", required=True, help="SR file to write")
    p.set_defaults(func=_cmd_build)

    p = sub.add_parser("read", help="SR -> findings", epilog=SUB_EPILOG, formatter_class=_FORMATTER,
                       description="Read a DICOM SR (ours or another tool's) back into findings. "
                                   "Plain output prints the findings only, never the patient.")
    p.add_argument("sr", metavar="SR", help="DICOM SR file (TID 1500 measurement report)")
    p.add_argument("--json", action="store_true",
                   help="print the whole report as JSON, patient and study included")
    p.set_defaults(func=_cmd_read)

    p = sub.add_parser("validate", help="our checks + dciodvfy + dsrdump + PixelMed", epilog=SUB_EPILOG,
                       formatter_class=_FORMATTER,
                       description="Check every file named and every DICOM file under the folders "
                                   "named, then report all of them; the exit code is the worst "
                                   "one (4 unreadable, 5 validation errors). Files in folders "
                                   "that are not DICOM are skipped with a note; FIFOs, "
                                   "sockets, devices and link loops are never opened.")
    p.add_argument("sr", nargs="+", metavar="PATH", help="SR (or other DICOM) files and folders")
    p.add_argument("--json", action="store_true",
                   help="print the results as JSON: one object for one file, else a list "
                        "(unreadable files as {path, ok: false, error, exit_code})")
    p.add_argument("--skip", action="append", choices=["dciodvfy", "dsrdump", "pixelmed"],
                   help="leave out one validator (repeatable); pixelmed takes ~10 s a file")
    p.add_argument("--viewers", action="store_true",
                   help="also warn where a report will not display as measurements in OHIF or "
                        "3D Slicer, naming each reason (title, template, tracking UID, geometry, "
                        "...); warnings only, the exit code is unchanged")
    p.add_argument("--progress", action="store_true",
                   help="progress lines on stderr even when it is not a terminal")
    p.set_defaults(func=_cmd_validate)

    p = sub.add_parser("demo", help="the main job on the shipped sample data", epilog=SUB_EPILOG,
                       formatter_class=_FORMATTER,
                       description="Build every seed-case SR from the sample data, validate it, "
                                   "read it back, measure the sample lesion mask and print the "
                                   "concordance table. The sample data ships with the package.")
    p.add_argument("--samples", metavar="DIR",
                   help="folder of case folders (default: the sample_data/cases shipped with "
                        "the package, or ./sample_data/cases)")
    p.add_argument("--out", default="out", help="where to write the SRs (default: out)")
    p.add_argument("--quick", action="store_true", help="skip PixelMed (~10 s per file)")
    p.add_argument("--no-validate", action="store_true", help="skip validation")
    p.add_argument("--progress", action="store_true",
                   help="progress lines on stderr even when it is not a terminal")
    p.set_defaults(func=_cmd_demo)

    # Each further step registers its own subcommands (text, pacs, concordance).
    for module in () if only in _BUILTIN else _PLUGIN_MODULES:
        try:
            plugin = _plugin(module)
        except ModuleNotFoundError as exc:
            # a step not installed (the module or its package); anything else missing is a bug
            if not exc.name or not (module == exc.name or module.startswith(exc.name + ".")):
                raise
            continue
        plugin.add_parsers(sub, SUB_EPILOG)
    for command in sub.choices.values():
        _format_follows_output(command)
    return top


def _plugin(module: str) -> Any:
    """A plugin's cli module, loaded from its file without running its package's __init__
    when the package is not loaded yet: some of those import numpy, nibabel or pydicom
    (~0.5 s) that registering the commands does not need; a command imports what it uses
    when it runs."""
    if module in sys.modules:
        return sys.modules[module]
    package, _, leaf = module.rpartition(".")
    path = Path(__file__).parent / package.partition(".")[2] / f"{leaf}.py"
    if package in sys.modules or not path.is_file():
        return importlib.import_module(module)
    spec = importlib.util.spec_from_file_location(module, path)
    if spec is None or spec.loader is None:
        return importlib.import_module(module)
    plugin = importlib.util.module_from_spec(spec)
    sys.modules[module] = plugin
    try:
        spec.loader.exec_module(plugin)
    except BaseException:
        del sys.modules[module]
        raise
    return plugin


def _command_of(argv: list[str]) -> str | None:
    """The subcommand named on the command line (the first word that is not an option)."""
    return next((word for word in argv if not word.startswith("-")), None)


def _format_follows_output(p: argparse.ArgumentParser) -> None:
    """A subcommand with --format and -o/--output: without --format, the format comes from
    the output file's extension (FORMAT_BY_EXTENSION), else the subcommand's default."""
    actions = {a.dest: a for a in p._actions}
    fmt, output = actions.get("format"), actions.get("output")
    if fmt is None or output is None or not fmt.choices or "-o" not in output.option_strings:
        return
    default = fmt.default
    fmt.default = None
    described = f"default: from the -o file's extension, else {default}"
    fmt.help = f"{fmt.help or 'output format'} ({described})"
    p.set_defaults(_format_default=default, _format_choices=tuple(fmt.choices))


def _resolve_format(args: argparse.Namespace) -> None:
    if getattr(args, "format", "") is not None or not hasattr(args, "_format_default"):
        return
    output = getattr(args, "output", None)
    suffix = Path(output).suffix.lower() if output else ""
    chosen = FORMAT_BY_EXTENSION.get(suffix)
    choices = args._format_choices
    if chosen == "md" and chosen not in choices and "text" in choices:
        chosen = "text"  # .txt / .md for a command whose plain format is called text
    if suffix and chosen not in choices:  # never write one format under another's name
        raise InputError(f"{printable(str(output))}: cannot tell the output format from {suffix!r}; "
                         f"give --format ({', '.join(choices)})")
    args.format = chosen or args._format_default


def main(argv: list[str] | None = None) -> int:
    try:
        words = sys.argv[1:] if argv is None else argv
        args = parser(_command_of(words)).parse_args(words)
        _resolve_format(args)
        code = args.func(args)
        sys.stdout.flush()  # a closed pipe shows up here, not at interpreter exit
        return code
    except DicomToolsError as exc:
        print(f"dicomtools: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except BrokenPipeError:
        _silence_stdout()
        return BROKEN_PIPE
    except OSError as exc:  # our stdout cannot take the output (a full disk, an I/O error)
        if exc.errno not in _OUTPUT_ERRNOS:
            raise
        _silence_stdout()
        print(f"dicomtools: error: cannot write the output ({exc.strerror})", file=sys.stderr)
        return InputError.exit_code
    except KeyboardInterrupt:
        return 130


def _silence_stdout() -> None:
    """The reader of our output went away (``| head``): point stdout at /dev/null so the
    interpreter's final flush does not print a second BrokenPipeError."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass


if __name__ == "__main__":
    sys.exit(main())
