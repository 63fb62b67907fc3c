"""``dicomtools render`` and ``dicomtools diff`` (registered by dicomtools.cli).

Module-level imports stay light (argparse, pathlib, typing): ``dicomtools --help`` imports
this module, and pydicom is loaded only when a command runs.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

DIFFER = 7  # exit code of diff when the findings differ (dicomtools.sr.diff.DIFFER)


def _cmd_render(args: Any) -> int:
    from ..files import write_text
    from ..phi import printable
    from .render import render_file
    # the format: --format, else the -o file's extension (dicomtools.cli refuses one that
    # names no format of render), else text; an unwritable -o is files.write_text's error
    out = render_file(args.sr, args.format, show_patient=args.show_patient)
    if args.output:
        write_text(args.output, out)
        print(f"wrote {printable(args.output)} ({args.format})")
    else:
        print(out, end="")
    return 0


def _cmd_diff(args: Any) -> int:
    import json

    from ..errors import InputError, SRReadError
    from ..phi import printable
    from .diff import diff_files, diff_folders
    a, b = Path(args.a), Path(args.b)
    for path in (a, b):
        if not path.exists():
            raise SRReadError(f"{printable(path)}: no such file or folder")
    if a.is_dir() != b.is_dir():
        raise InputError(f"{printable(a)}, {printable(b)}: give two SR files or two folders, "
                         "not one of each")
    result: Any = diff_folders(a, b) if a.is_dir() else diff_files(a, b)
    if args.json:
        print(json.dumps(result.to_json(), indent=2, ensure_ascii=False))
    else:
        print("\n".join(result.lines()))
    return 0 if result.same else DIFFER


def add_parsers(sub: Any, epilog: str) -> None:
    """Register render and diff on the top-level parser."""
    formatter = argparse.RawDescriptionHelpFormatter
    p = sub.add_parser("render", help="any SR -> its whole content tree as text or HTML", epilog=epilog,
                       formatter_class=formatter,
                       description="Draw the content tree of any DICOM SR (TID 1500, Basic Text, "
                                   "Enhanced, Comprehensive, Key Object Selection, dose reports): one "
                                   "line per content item with relationship, value type, concept name "
                                   "and value. The patient is not shown unless --show-patient.")
    p.add_argument("sr", metavar="SR", help="DICOM SR file")
    p.add_argument("--format", choices=["text", "html"], default="text", help="output format")
    p.add_argument("-o", "--output", metavar="FILE", help="write to FILE (default: standard output)")
    p.add_argument("--show-patient", action="store_true", help="show patient name and ID in the header")
    p.set_defaults(func=_cmd_render)

    p = sub.add_parser("diff", help="semantic diff of two SRs (or two folders of SRs)", epilog=epilog,
                       formatter_class=formatter,
                       description="Compare the findings of two SRs: findings paired by tracking UID, "
                                   "else by site/laterality/level; added, removed and changed findings "
                                   "field by field, and report-level changes. What changes on every "
                                   "write (UIDs, creation date/time) is ignored. Two folders: files "
                                   "paired by SOP Instance UID, else study + series + procedure, else "
                                   "relative path, else study + procedure. Exit 0 when the findings "
                                   f"are the same, {DIFFER} when they differ.")
    p.add_argument("a", metavar="A", help="SR file or folder")
    p.add_argument("b", metavar="B", help="SR file or folder to compare with A")
    p.add_argument("--json", action="store_true", help="print the differences as JSON")
    p.set_defaults(func=_cmd_diff)
