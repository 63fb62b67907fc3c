"""``dicomtools extract`` and ``dicomtools text2sr`` (registered by dicomtools.cli)."""

from __future__ import annotations

import argparse
import json

from .. import vocab
from ..cli import plural

MAX_TEXT = 500_000  # = extract.MAX_TEXT (not imported: `dicomtools --help` stays fast)


def _describe(finding) -> str:
    from ..demo import describe_finding
    return describe_finding(finding)


def _cmd_extract(args) -> int:
    from .document import document_of
    from .extract import read_text
    from .reports import read_report_text
    text = read_report_text(args.report, encoding=args.encoding, max_bytes=args.max_bytes)
    extracted, indication = read_text(text, max_chars=args.max_bytes)
    if args.procedure:
        extracted = [e for e in extracted if e.finding.procedure == args.procedure]
    if args.json:  # the findings document: dicomtools build reads it as it is
        print(json.dumps(document_of(extracted, indication, sentences=not args.no_evidence),
                         indent=2, ensure_ascii=False))
        return 0
    if indication:
        print(f"indication: {indication[:120]!r}")
    if not extracted:
        from .prose import not_one_patient
        why = {"template": " (the text reads as a reporting template)",
               "cohort": " (the text reads as cohort statistics, about no one patient)",
               "general": " (the text reads as reference text, about no one patient's study)"}
        print(f"{args.report}: no imaging finding found{why.get(not_one_patient(text) or '', '')}")
    for e in extracted:
        f = e.finding
        print(f"{f.procedure or 'unknown procedure'}: {_describe(f)}")
        if not args.no_evidence:
            print(f"    from [{e.start}:{e.end}] {' '.join(e.sentence.split())[:120]!r}")
    return 0


def _cmd_text2sr(args) -> int:
    from .reports import read_report_text, text_to_sr
    text = read_report_text(args.report, encoding=args.encoding, max_bytes=args.max_bytes)
    written, skipped = text_to_sr(text, args.source, args.output,
                                  default_procedure=args.procedure, skip_missing=args.skip_missing)
    for w in written:
        print(f"wrote {w.path} ({plural(len(w.report.findings), 'finding')}, {w.procedure}, "
              f"impression {w.report.impression})")
    for procedure in skipped:
        print(f"skipped {procedure}: no source study of its modality")
    return 0


def add_parsers(sub, epilog: str) -> None:
    """Register the text subcommands on the top-level parser."""
    formatter = argparse.RawDescriptionHelpFormatter
    p = sub.add_parser("extract", help="report text -> findings (with provenance)", epilog=epilog,
                       formatter_class=formatter)
    p.add_argument("report", help="report text file (UTF-8)")
    p.add_argument("--json", action="store_true", help="print findings and evidence as JSON")
    p.add_argument("--procedure", choices=list(vocab.PROCEDURES),
                   help="only the findings of this procedure (one findings document per SR)")
    p.add_argument("--no-evidence", action="store_true",
                   help="do not print the quoted source sentences (report text may name the "
                        "patient); with --json, evidence keeps only the character offsets")
    _common(p)
    p.set_defaults(func=_cmd_extract)

    p = sub.add_parser("text2sr", help="report text + source DICOM -> one SR per procedure",
                       epilog=epilog, formatter_class=formatter)
    p.add_argument("report", help="report text file (UTF-8)")
    p.add_argument("--source", required=True,
                   help="DICOM folder of the patient's studies (one study per procedure)")
    p.add_argument("-o", "--output", required=True, help="folder to write the SRs to")
    p.add_argument("--procedure", choices=list(vocab.PROCEDURES),
                   help="procedure of findings whose text names none")
    p.add_argument("--skip-missing", action="store_true",
                   help="skip procedures without a source study instead of failing")
    _common(p)
    p.set_defaults(func=_cmd_text2sr)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--encoding", default="utf-8", help="text encoding (default utf-8)")
    p.add_argument("--max-bytes", type=int, default=MAX_TEXT,
                   help=f"refuse larger files (default {MAX_TEXT:,})")
