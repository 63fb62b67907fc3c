"""Shared pieces of the archive tests: the demo's seed SRs, a synthetic archive, index reads."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

from dicomtools.cli import main


def run_cli(*argv: str) -> tuple[int, str, str]:
    """dicomtools in this process: (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(a) for a in argv])
    return code, out.getvalue(), err.getvalue()


def build_demo(folder: Path) -> Path:
    """The seed-case SRs as ``dicomtools demo --quick --no-validate --out DIR`` writes them."""
    code, _, err = run_cli("demo", "--quick", "--no-validate", "--out", folder)
    assert code == 0, err
    return folder


def counts(index: Path) -> dict[str, int]:
    """Rows of every view of an index."""
    from dicomtools.archive import connect
    con = connect(index)
    try:
        return {name: con.execute(f"SELECT count(*) FROM {name}").fetchone()[0]
                for name in ("reports", "reports_all", "findings", "measurements", "evaluations",
                             "problems", "labs", "files")}
    finally:
        con.close()


def query(index: Path, sql: str) -> list[tuple]:
    from dicomtools.archive import run_query
    return run_query(index, sql)[1]
