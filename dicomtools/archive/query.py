"""``run_query``: one SQL statement over an index's views, errors as one line (exit 2)."""

from __future__ import annotations

import os
from typing import Any

from ..errors import InputError
from .store import connect


def run_query(index: str | os.PathLike[str], sql: str) -> tuple[list[str], list[tuple[Any, ...]]]:
    """Column names and rows of ``sql`` run over the index (views: reports, findings,
    measurements, evaluations, problems, files). A bad statement is an InputError naming
    DuckDB's reason in one line."""
    import duckdb
    if not sql.strip():
        raise InputError("query: the SQL statement is empty")
    con = connect(index)
    try:
        try:
            cursor = con.execute(sql)
            if cursor.description is None:  # a statement without a result (SET, CREATE ...)
                return [], []
            columns = [d[0] for d in cursor.description]
            return columns, cursor.fetchall()
        except duckdb.Error as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise InputError(f"query: {type(exc).__name__}: {first}") from None
    finally:
        con.close()
