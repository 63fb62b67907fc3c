"""The PACS subcommands: echo, send, find, fetch (registered by dicomtools.cli).

Patient names, IDs and birth dates are printed only with ``find --show-ids`` (plain or
--json), as ``concordance --show-ids``; progress and per-instance lines name files and SOP
Instance UIDs.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any, TextIO

from ..cli import plural
from ..errors import InputError
from .errors import PacsError

# common.LEVELS's names, here so that registering the commands loads no pydicom (common.py
# and batch.py import it; the commands import them when they run). tests/test_start_up.py
# checks they agree.
LEVEL_NAMES = ("patient", "study", "series", "instance")


class TextProgress:
    """'\\r 512/1000 [#####.....] stored 500, present 10, failed 2, 84.1/s' on a terminal."""

    def __init__(self, stream: TextIO, width: int = 30, every: float = 0.1):
        self.stream, self.width, self.every = stream, width, every
        self.started = time.monotonic()
        self.last = 0.0
        self.shown = False

    def __call__(self, done: int, total: int, tally: dict[str, int]) -> None:
        now = time.monotonic()
        if now - self.last < self.every and done < total:
            return
        self.last = now
        filled = int(self.width * done / total) if total else self.width
        rate = done / (now - self.started) if now > self.started else 0.0
        self.stream.write(f"\r{done:>{len(str(total))}}/{total} [{'#' * filled}{'.' * (self.width - filled)}]"
                          f" stored {tally.get('stored', 0)}, present {tally.get('already present', 0)},"
                          f" failed {tally.get('failed', 0)}, {rate:.1f}/s ")
        self.stream.flush()
        self.shown = True

    def finish(self) -> None:
        if self.shown:
            self.stream.write("\n")
            self.stream.flush()


def _address(args) -> str:
    return args.pacs or args.dicomweb


def _query(pairs: list[str] | None) -> dict[str, str]:
    """-k KEY=VALUE (match) or -k KEY (return the key), as findscu takes them."""
    query: dict[str, str] = {}
    for pair in pairs or []:
        key, _, value = pair.partition("=")
        if not key.strip():
            raise InputError(f"-k {pair!r}: expected KEYWORD=VALUE or KEYWORD (e.g. Modality=SR)")
        query[key.strip()] = value
    return query


def _cmd_echo(args) -> int:
    from . import api  # pynetdicom and dicomweb-client load only for PACS commands
    seconds = api.echo(_address(args), calling_aet=args.aet, timeout=args.timeout)
    print(f"{_address(args)}: answered in {seconds * 1000:.0f} ms")
    return 0


def _cmd_send(args) -> int:
    from . import api  # pynetdicom and dicomweb-client load only for PACS commands
    from .batch import FAILED, NOT_DICOM
    progress = TextProgress(sys.stderr) if args.progress or sys.stderr.isatty() else None
    try:
        result = api.send(_address(args), args.paths, concurrency=args.concurrency,
                          manifest=args.manifest, progress=progress, calling_aet=args.aet,
                          timeout=args.timeout)
    finally:
        if progress:
            progress.finish()
    if args.json:
        print(json.dumps(result.to_json(), indent=2))
    else:
        for r in result.results:
            if r.message == NOT_DICOM:
                print(f"skipped {r.path}: not a DICOM file")
            elif r.status == FAILED or args.verbose:
                print(f"{r.status}: {r.path} ({r.sop_instance_uid or 'no SOP Instance UID'})"
                      + (f": {r.message}" if r.message else ""))
        counts = result.counts()
        print(f"{result.pacs}: {counts['stored']} stored, {counts['already present']} already present, "
              f"{counts['failed']} failed, {counts['skipped']} skipped in {result.seconds:.1f} s "
              f"({result.rate:.1f}/s)")
    return 0 if result.ok else PacsError.exit_code


def _table(rows: list[dict[str, Any]]) -> str:
    columns = list(dict.fromkeys(k for row in rows for k in row))
    cells = [[_cell(row.get(c)) for c in columns] for row in rows]
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip()]
    lines += ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip() for r in cells]
    return "\n".join(lines)


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    return "\\".join(value) if isinstance(value, list) else str(value)


def _cmd_find(args) -> int:
    from . import api  # pynetdicom and dicomweb-client load only for PACS commands
    from .common import IDENTIFYING
    rows = api.find(_address(args), args.level, calling_aet=args.aet, timeout=args.timeout,
                    **_query(args.key))
    hidden = not args.show_ids and any(IDENTIFYING & set(r) for r in rows)
    if not args.show_ids:
        rows = [{k: v for k, v in row.items() if k not in IDENTIFYING} for row in rows]
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        if rows:
            print(_table(rows))
        print(f"{plural(len(rows), args.level, _LEVEL_PLURALS.get(args.level))} found"
              + (" (patient identifiers only with --show-ids)" if hidden else ""))
    return 0


_LEVEL_PLURALS = {"study": "studies", "series": "series"}


def _cmd_fetch(args) -> int:
    from . import api  # pynetdicom and dicomweb-client load only for PACS commands
    paths = api.fetch(_address(args), args.output, move_port=args.move_port, calling_aet=args.aet,
                      timeout=args.timeout, **_query(args.key))
    if args.json:
        print(json.dumps([str(p) for p in paths], indent=2))
    else:
        for path in paths:
            print(path)
        print(f"{plural(len(paths), 'instance')} fetched into {args.output}")
    return 0


def _pacs_options(p: argparse.ArgumentParser) -> None:
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument("--pacs", metavar="dicom://AET@host:port",
                       help="DIMSE peer: called AE title, host and port")
    where.add_argument("--dicomweb", metavar="URL", help="DICOMweb root, e.g. http://host:8042/dicom-web")
    p.add_argument("--aet", default=None, metavar="AET",
                   help="our calling AE title (default DICOMTOOLS); the PACS must know it for "
                        "find/fetch")
    p.add_argument("--timeout", type=float, default=30.0, metavar="S",
                   help="seconds to wait for the PACS (connect, association, each answer; default 30)")


def add_parsers(sub, epilog: str) -> None:
    """Register echo, send, find and fetch on the dicomtools subparsers."""
    fmt = argparse.RawDescriptionHelpFormatter

    p = sub.add_parser("echo", help="check a PACS answers (C-ECHO / QIDO-RS)", epilog=epilog,
                       formatter_class=fmt)
    _pacs_options(p)
    p.set_defaults(func=_cmd_echo)

    p = sub.add_parser("send", help="send DICOM files to a PACS and verify each one", epilog=epilog,
                       formatter_class=fmt,
                       description="C-STORE or STOW-RS, then a query per instance: stored / already "
                                   "present (not resent) / failed with the PACS status. Files "
                                   "that are not DICOM (no DICM preamble, e.g. the concordance "
                                   "tables beside the demo's SRs) are skipped with a note.")
    p.add_argument("paths", nargs="+", metavar="PATH", help="files or directories (recursive)")
    _pacs_options(p)
    p.add_argument("-j", "--concurrency", type=int, default=4, metavar="N",
                   help="parallel associations / HTTP sessions (default 4)")
    p.add_argument("--manifest", metavar="FILE",
                   help="JSON-lines log of verified instances; a re-run skips them (resume)")
    p.add_argument("--progress", action="store_true",
                   help="progress bar on stderr even when it is not a terminal")
    p.add_argument("-v", "--verbose", action="store_true", help="one line per file, not only failures")
    p.add_argument("--json", action="store_true", help="print every result as JSON")
    p.set_defaults(func=_cmd_send)

    p = sub.add_parser("find", help="query a PACS (C-FIND / QIDO-RS)", epilog=epilog, formatter_class=fmt)
    _pacs_options(p)
    p.add_argument("--level", choices=list(LEVEL_NAMES), default="study", help="query level (default study)")
    p.add_argument("-k", "--key", action="append", metavar="KEY[=VALUE]",
                   help="DICOM keyword to match (KEY=VALUE, wildcards * ?) or return (KEY); repeatable")
    p.add_argument("--json", action="store_true", help="print the answers as JSON")
    p.add_argument("--show-ids", action="store_true",
                   help="include the patient identifiers (name, ID, birth date, address; left "
                        "out by default, plain and --json alike: query results get shared)")
    p.set_defaults(func=_cmd_find)

    p = sub.add_parser("fetch", help="retrieve instances (C-GET, C-MOVE or WADO-RS)", epilog=epilog,
                       formatter_class=fmt)
    _pacs_options(p)
    p.add_argument("-k", "--key", action="append", metavar="KEY=VALUE", required=True,
                   help="instance-level match, e.g. -k StudyInstanceUID=1.2.3 -k Modality=SR")
    p.add_argument("-o", "--output", required=True, metavar="DIR", help="folder for <SOP UID>.dcm files")
    p.add_argument("--move-port", type=int, metavar="PORT",
                   help="use C-MOVE to our Storage SCP on this port (default: C-GET)")
    p.add_argument("--json", action="store_true", help="print the written paths as JSON")
    p.set_defaults(func=_cmd_fetch)
