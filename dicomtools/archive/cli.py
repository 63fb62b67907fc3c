"""``dicomtools index`` and ``dicomtools query`` (registered by dicomtools.cli).

Module-level imports stay light (the CLI's start-up); pyarrow, duckdb and dask are imported
by the commands.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

_FORMATS = ("table", "json", "csv")
_MAX_CELL = 60  # characters of a cell in --format table; json and csv print whole values


def _cmd_index(args: argparse.Namespace) -> int:
    import sys

    from ..cli import StatusLine, plural
    from ..phi import printable
    from .runner import build_index
    if args.compact and not args.paths and not (args.pacs or args.dicomweb):
        return _compact(args.output)
    status = StatusLine(force=args.progress)
    result = build_index(args.paths, args.output, workers=args.workers, dask=args.dask,
                         keep_ids=args.keep_ids, id_key_file=args.id_key_file,
                         batch_size=args.batch, progress=status,
                         pacs=args.pacs or args.dicomweb, keys=args.key, calling_aet=args.aet,
                         retry_problems=args.retry_problems)
    status.clear()
    if args.pacs or args.dicomweb:
        print(f"fetched {result.fetched:,} SRs from {printable(args.pacs or args.dicomweb)} "
              f"({result.fetched_changed:,} new or changed)")
    for note in result.notes:
        print(note, file=sys.stderr)
    rows = ", ".join(f"{result.rows.get(t, 0):,} {t}" for t in
                     ("reports", "findings", "measurements", "evaluations", "problems", "labs"))
    rate = (result.indexed + result.problems + result.skipped + result.labs) / max(result.seconds, 1e-9)
    print(f"index {printable(args.output)} run {result.run}: {plural(result.seen, 'file')} found, "
          f"{result.unchanged:,} unchanged, {result.indexed:,} SRs read, {result.labs:,} labs files, "
          f"{result.problems:,} "
          f"problems, {result.skipped:,} skipped (not SR), {result.deleted:,} gone; "
          f"new rows: {rows}; {result.seconds:.1f} s ({rate:,.0f} files/s)")
    if result.problems:
        print(f"  the problems: dicomtools query {printable(args.output)} "
              "\"SELECT path, error_class, message FROM problems\"")
    return _compact(args.output) if args.compact else 0


def _compact(index: str) -> int:
    from ..phi import printable
    from .compact import compact
    removed, _ = compact(index)
    print(f"compacted {printable(index)}: {removed:,} shards into one" if removed
          else f"{printable(index)}: no shard to compact")
    return 0


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, (list, dict)):
        return json.dumps(value, default=str, ensure_ascii=False)
    return str(value)


def _json_value(value: Any) -> Any:
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, (list, tuple)):
        return [_json_value(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _json_value(v) for k, v in value.items()}
    return str(value)  # dates, decimals, UUIDs


def render(columns: list[str], rows: list[tuple], fmt: str) -> str:
    """Query results as an aligned text table, a JSON list of objects, or CSV."""
    from ..phi import printable
    if fmt == "json":
        return json.dumps([{c: _json_value(v) for c, v in zip(columns, row, strict=True)}
                           for row in rows], indent=2, ensure_ascii=False) + "\n"
    if fmt == "csv":
        import csv
        import io
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(columns)
        writer.writerows([[_cell(v) for v in row] for row in rows])
        return buffer.getvalue()
    cells = [[printable(_cell(v)) for v in row] for row in rows]
    cells = [[c if len(c) <= _MAX_CELL else c[:_MAX_CELL - 3] + "..." for c in row] for row in cells]
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip(),
             "  ".join("-" * w for w in widths)]
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells]
    lines.append(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")
    return "\n".join(lines) + "\n"


def _cmd_query(args: argparse.Namespace) -> int:
    from .query import run_query
    columns, rows = run_query(args.index, args.sql)
    print(render(columns, rows, args.format), end="")
    return 0


def add_parsers(sub: Any, epilog: str) -> None:
    """Register ``index`` and ``query`` on the top-level parser."""
    formatter = argparse.RawDescriptionHelpFormatter
    p = sub.add_parser(
        "index", help="SR folders -> archive findings index (Parquet, queried with DuckDB)",
        epilog=epilog, formatter_class=formatter,
        description="Read every SR under the folders and files given into an index folder of "
                    "Parquet shards: reports, findings, measurements, evaluations, problems. "
                    "A second run reads only new or changed files (path, size, mtime); an "
                    "interrupted run continues where it stopped. Patient IDs are stored as a "
                    "keyed hash (HMAC-SHA256, key in INDEX/id.key) unless --keep-ids.")
    p.add_argument("paths", nargs="*", metavar="PATH", help="folders and SR files")
    p.add_argument("-o", "--output", required=True, metavar="INDEX", help="index folder")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--pacs", metavar="dicom://AET@host:port",
                       help="also index the SRs of this PACS (C-FIND + C-GET), fetched into "
                            "INDEX/fetched/ (only new or changed ones are read again)")
    where.add_argument("--dicomweb", metavar="URL", help="also index the SRs of a DICOMweb server")
    p.add_argument("--aet", metavar="AET", help="our calling AE title (default DICOMTOOLS)")
    p.add_argument("-k", "--key", action="append", default=[], metavar="KEY=VALUE",
                   help="PACS query key limiting the SRs fetched, e.g. -k StudyDate=2015-2016")
    p.add_argument("--workers", type=int, metavar="N",
                   help="local worker processes (default: all cores; 1: in this process)")
    p.add_argument("--dask", metavar="SCHEDULER",
                   help="run the batches on dask.distributed: a scheduler address "
                        "(tcp://host:8786; the index folder must be shared) or 'local'")
    p.add_argument("--keep-ids", action="store_true",
                   help="store Patient ID, issuer and name as read (default: keyed hash only)")
    p.add_argument("--id-key-file", metavar="FILE",
                   help="HMAC key for the patient hash (default: INDEX/id.key, made once); "
                        "share it to join indexes")
    p.add_argument("--batch", type=int, default=256, metavar="N",
                   help="files per shard (default 256)")
    p.add_argument("--progress", action="store_true",
                   help="progress lines on stderr even when it is not a terminal")
    p.add_argument("--retry-problems", action="store_true",
                   help="read the files listed in problems again even if unchanged (done "
                        "anyway on the first run of a new dicomtools version)")
    p.add_argument("--compact", action="store_true",
                   help="then rewrite the index as one shard (faster queries); alone, "
                        "without PATH, only that")
    p.set_defaults(func=_cmd_index)

    p = sub.add_parser(
        "query", help="SQL over an archive index (DuckDB)", epilog=epilog, formatter_class=formatter,
        description="Run SQL over the index's views: reports, findings, measurements, "
                    "evaluations, problems (and files, the crawl state). See docs/archive.md.")
    p.add_argument("index", metavar="INDEX", help="index folder made by dicomtools index")
    p.add_argument("sql", metavar="SQL", help="one SELECT statement over the views (reports, findings, measurements, "
                        "evaluations, problems, labs, files); nothing outside the index is read "
                        "or written")
    p.add_argument("--format", choices=_FORMATS, default="table",
                   help="table: aligned columns for people; json: a list of row objects; csv")
    p.set_defaults(func=_cmd_query)
