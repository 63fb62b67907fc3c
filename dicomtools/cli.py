"""The ``dicomtools`` command. Each subcommand is a few lines over the library."""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from pathlib import Path

from . import __version__
from .errors import DicomToolsError, ValidationFailed

EPILOG = """exit codes:
  0  success
  1  unexpected internal error (please report it)
  2  bad input (findings JSON, a value outside the vocabulary, a wrong unit)
  3  source images unusable (none found, mixed patients or studies)
  4  not a readable DICOM SR (missing, truncated, not DICOM, not SR)
  5  validation found errors / the demo found a mismatch
  6  PACS error (refused, rejected, timeout, HTTP error) or an instance not verified
"""


def _cmd_build(args) -> int:
    from .build import build_from_files
    from .sr.write import write_sr
    patient_only = args.patient_from is not None
    report = build_from_files(Path(args.findings), Path(args.patient_from or args.source),
                              patient_only=patient_only)
    path = write_sr(report, args.output)
    print(f"wrote {path} ({len(report.findings)} finding(s), {report.procedure})")
    return 0


def _cmd_read(args) -> int:
    from .demo import describe_finding
    from .sr.read import read_sr
    report = read_sr(args.sr)
    if args.json:
        print(json.dumps(report.to_json(), indent=2))
    else:
        print(f"{args.sr}: {report.procedure or 'unknown procedure'} "
              f"({report.modality or '?'}), impression {report.impression or '-'}")
        for finding in report.findings:
            print(f"  {finding.tracking_id or '-'}: {describe_finding(finding)}")
        for warning in report.warnings:
            print(f"  warning: {warning}")
    return 0


def _cmd_validate(args) -> int:
    from .sr.validate import ALL_TOOLS, validate
    tools = tuple(t for t in ALL_TOOLS if t not in (args.skip or []))
    failed = False
    results = []
    for path in args.sr:
        result = validate(path, tools)
        results.append(result.to_json())
        failed |= not result.ok
        if not args.json:
            print(f"{path}: {'OK' if result.ok else 'ERRORS'} (ran: {', '.join(result.ran)})")
            for p, count in result.grouped():
                print(f"  {p.severity:7} {p.tool:10} {p.message}" + (f" (x{count})" if count > 1 else ""))
            for tool, why in result.skipped.items():
                print(f"  skipped {tool}: {why}")
    if args.json:
        print(json.dumps(results if len(results) > 1 else results[0], indent=2))
    return ValidationFailed.exit_code if failed else 0


def _cmd_demo(args) -> int:
    from . import demo
    samples = Path(args.samples) if args.samples else demo.default_samples()
    if not samples.is_dir():
        raise DicomToolsError(f"{samples}: sample cases not found (use --samples DIR)")
    tools = () if args.no_validate else (
        ("dicomtools", "dciodvfy", "dsrdump") if args.quick else
        ("dicomtools", "dciodvfy", "dsrdump", "pixelmed"))
    print(f"building seed-case SRs from {samples} into {args.out}")
    results = demo.run(samples, Path(args.out), tools, sys.stdout)
    print(demo.summary(results))
    print(demo.measure_sample(samples, Path(args.out), tools))
    print(f"\nconcordance (also in {Path(args.out) / 'concordance.html'}, .md, .json, .csv):")
    print(demo.concordance_tables(samples, Path(args.out)))
    bad = [r for r in results if not r.roundtrip_ok or (r.validation and not r.validation.ok)]
    print(f"{len(results) - len(bad)}/{len(results)} SRs built, valid and read back unchanged")
    return ValidationFailed.exit_code if bad else 0


_PLUGIN_MODULES = ("dicomtools.text.cli", "dicomtools.pacs.cli", "dicomtools.concordance.cli",
                   "dicomtools.masks.cli")


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="dicomtools", epilog=EPILOG,
                                  description="Imaging findings -> DICOM SR (TID 1500) -> findings.",
                                  formatter_class=argparse.RawDescriptionHelpFormatter)
    top.add_argument("--version", action="version", version=f"dicomtools {__version__}")
    sub = top.add_subparsers(dest="command", required=True)

    p = sub.add_parser("build", help="findings JSON + source DICOM -> SR", epilog=EPILOG,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("findings", help="findings JSON (procedure, impression, findings[])")
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument("--source", help="DICOM file or directory of the study's source images")
    where.add_argument("--patient-from", metavar="DIR",
                       help="report without images of its own (e.g. histopathology): take only "
                            "the patient from these images; the report gets a new study")
    p.add_argument("-o", "--output", required=True, help="SR file to write")
    p.set_defaults(func=_cmd_build)

    p = sub.add_parser("read", help="SR -> findings", epilog=EPILOG,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("sr")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.set_defaults(func=_cmd_read)

    p = sub.add_parser("validate", help="our checks + dciodvfy + dsrdump + PixelMed", epilog=EPILOG,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("sr", nargs="+")
    p.add_argument("--json", action="store_true")
    p.add_argument("--skip", action="append", choices=["dciodvfy", "dsrdump", "pixelmed"],
                   help="leave out one validator (repeatable)")
    p.set_defaults(func=_cmd_validate)

    p = sub.add_parser("demo", help="the main job on the shipped sample data", epilog=EPILOG,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--samples", help="folder of case folders (default: sample_data/cases)")
    p.add_argument("--out", default="out", help="where to write the SRs (default: out)")
    p.add_argument("--quick", action="store_true", help="skip PixelMed (~10 s per file)")
    p.add_argument("--no-validate", action="store_true", help="skip validation")
    p.set_defaults(func=_cmd_demo)

    # Each further step registers its own subcommands (text, pacs, concordance).
    for module in _PLUGIN_MODULES:
        try:
            plugin = importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name != module:
                raise
            continue
        plugin.add_parsers(sub, EPILOG)
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.func(args)
    except DicomToolsError as exc:
        print(f"dicomtools: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
