"""`dicomtools concordance PATH... [--index INDEX] [--format md|csv|json|html] [-o FILE]`.

Imports stay light here (the CLI's start-up): the matcher, the SR reader and the index
reader are imported by the command.
"""

from __future__ import annotations

import argparse
import tempfile

# = match.DEFAULT_WINDOW_DAYS (a test checks); kept here so that --help imports no matcher
DEFAULT_WINDOW_DAYS = 365


def add_parsers(sub, epilog: str) -> None:
    p = sub.add_parser("concordance", help="per-patient cross-modality table from SRs",
                       epilog=epilog, formatter_class=argparse.RawDescriptionHelpFormatter,
                       description="Group SRs by patient, match findings across modalities, "
                                   "and print a Table-1 style per-patient table with a cohort "
                                   "summary. Files named labs.json add non-imaging evidence. "
                                   "Every file is read once however often it is given, nested "
                                   "or linked; link loops, FIFOs, sockets and devices are "
                                   "skipped with a note. Limits: folders 64 levels deep, "
                                   "1,000,000 files and folders per run, SR files of 32 MiB. "
                                   "With --index, the reports come from an archive index "
                                   "(dicomtools index) instead of the SR files.")
    p.add_argument("paths", nargs="*", metavar="PATH",
                   help="SR files or directory trees (and labs.json files)")
    p.add_argument("--index", metavar="INDEX",
                   help="take the reports from this archive index (no SR file is read); "
                        "PATHs given too add their SRs and labs.json files")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--pacs", metavar="dicom://AET@host:port",
                       help="also take the SRs held by this PACS (C-FIND + C-GET)")
    where.add_argument("--dicomweb", metavar="URL", help="also take the SRs of a DICOMweb server")
    p.add_argument("--aet", metavar="AET", help="our calling AE title (default DICOMTOOLS)")
    p.add_argument("-k", "--key", action="append", default=[], metavar="KEY=VALUE",
                   help="PACS query key limiting the SRs fetched, e.g. -k PatientID=OMS-CASE-1; "
                        "repeat a key for either value")
    p.add_argument("--format", choices=["md", "csv", "json", "html"], default="md")
    p.add_argument("-o", "--output", help="write to this file instead of stdout")
    p.add_argument("--window-days", type=int, default=DEFAULT_WINDOW_DAYS,
                   help=f"exams this close to the index exam form one work-up "
                        f"(default {DEFAULT_WINDOW_DAYS})")
    p.add_argument("--sensitivity-workup-only", action="store_true",
                   help="count only exams inside the work-up window in the sensitivities "
                        "(default: every exam of the patient, any interval)")
    p.add_argument("--label", default="Case", help="row label prefix (default: Case)")
    p.add_argument("--show-ids", action="store_true",
                   help="add a Patient ID column (off by default: tables get shared)")
    p.set_defaults(func=_cmd_concordance)


def _fetch(address: str, aet: str | None, keys: list[str]) -> list:
    """Reports of the SRs matching the keys; a key given twice means either value (one query
    per value: wildcards are not honoured by every QIDO-RS server, e.g. Orthanc's plugin 1.7)."""
    from ..errors import InputError
    from ..pacs import fetch_reports
    values: dict[str, list[str]] = {}
    for key in keys:
        name, sep, value = key.partition("=")
        if not sep or not name:
            raise InputError(f"--key {key!r}: expected KEY=VALUE, e.g. PatientID=OMS-CASE-1")
        values.setdefault(name, []).append(value)
    repeated = [name for name, vals in values.items() if len(vals) > 1]
    if len(repeated) > 1:
        raise InputError(f"--key: only one key may repeat (got {', '.join(repeated)})")
    fixed = {name: vals[0] for name, vals in values.items() if len(vals) == 1}
    queries = [{**fixed, repeated[0]: v} for v in values[repeated[0]]] if repeated else [fixed]
    seen: dict[str, object] = {}
    for query in queries:
        for report in fetch_reports(address, calling_aet=aet, **query):
            seen.setdefault(report.sr.sop_instance_uid if report.sr else str(id(report)), report)
    return list(seen.values())


def _cmd_concordance(args) -> int:
    from ..errors import InputError
    from ..files import write_text
    from ..phi import printable
    from . import collect, concordance
    if args.window_days < 0:
        raise InputError(f"--window-days {args.window_days}: must be 0 or more")
    address = args.pacs or args.dicomweb
    if not args.paths and not address and not args.index:
        raise InputError("give SR paths, --index, --pacs or --dicomweb")
    reports = []
    if address:
        reports = _fetch(address, args.aet, args.key)
    notes: list[str] = []
    paths = list(args.paths)
    with tempfile.TemporaryDirectory(prefix="dicomtools-labs-") as labs:
        if args.index:
            from ..archive.reports import iter_reports, write_labs
            reports += list(iter_reports(args.index, notes))
            if write_labs(args.index, labs):
                paths.append(labs)  # the index's labs results, keyed as its reports
        cohort = collect(paths, reports)
    cohort.warnings[:0] = notes
    report = concordance(cohort, window_days=args.window_days,
                         label=args.label, show_ids=args.show_ids,
                         sensitivity_workup_only=args.sensitivity_workup_only)
    if not report.rows:
        where = ", ".join(printable(p) for p in args.paths + ([address] if address else [])
                          + ([args.index] if args.index else []))
        raise InputError(f"no SR with a patient found in {where}")
    text = report.render(args.format)
    if args.output:
        write_text(args.output, text)
        print(f"wrote {printable(args.output)} ({len(report.rows)} patients)")
    else:
        print(text, end="")
    return 0
