"""`dicomtools concordance PATH... [--format md|csv|json|html] [-o FILE]`."""

from __future__ import annotations

import argparse

from ..files import write_text
from .match import DEFAULT_WINDOW_DAYS


def add_parsers(sub, epilog: str) -> None:
    p = sub.add_parser("concordance", help="per-patient cross-modality table from SRs",
                       epilog=epilog, formatter_class=argparse.RawDescriptionHelpFormatter,
                       description="Group SRs by patient, match findings across modalities, "
                                   "and print a Table-1 style per-patient table with a cohort "
                                   "summary. Files named labs.json add non-imaging evidence.")
    p.add_argument("paths", nargs="+", metavar="PATH", help="SR files or directory trees")
    p.add_argument("--format", choices=["md", "csv", "json", "html"], default="md")
    p.add_argument("-o", "--output", help="write to this file instead of stdout")
    p.add_argument("--window-days", type=int, default=DEFAULT_WINDOW_DAYS,
                   help=f"exams this close to the index exam form one work-up "
                        f"(default {DEFAULT_WINDOW_DAYS})")
    p.add_argument("--label", default="Case", help="row label prefix (default: Case)")
    p.add_argument("--show-ids", action="store_true",
                   help="add a Patient ID column (off by default: tables get shared)")
    p.set_defaults(func=_cmd_concordance)


def _cmd_concordance(args) -> int:
    from ..errors import InputError
    from . import concordance_of_files
    if args.window_days < 0:
        raise InputError(f"--window-days {args.window_days}: must be 0 or more")
    report = concordance_of_files(args.paths, window_days=args.window_days, label=args.label,
                                  show_ids=args.show_ids)
    if not report.rows:
        raise InputError(f"no SR with a patient found under {', '.join(args.paths)}")
    text = report.render(args.format)
    if args.output:
        write_text(args.output, text)
        print(f"wrote {args.output} ({len(report.rows)} patients)")
    else:
        print(text, end="")
    return 0
