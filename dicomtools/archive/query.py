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
            # Read-only over the index: DuckDB reads no other file and writes none (no COPY,
            # no read_csv('/etc/...')), and runs one SELECT, as the help says.
            con.execute(f"SET allowed_directories=[{_quoted(os.path.abspath(index) + os.sep)}]")
            con.execute("SET enable_external_access=false")
            statements = con.extract_statements(sql)
            if len(statements) != 1:
                raise InputError(f"query: {len(statements)} statements; give one SELECT statement")
            if statements[0].type != duckdb.StatementType.SELECT:
                raise InputError(f"query: a {statements[0].type.name} statement; the index is "
                                 "queried with one SELECT (or WITH ... SELECT) statement")
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


def _quoted(text: str) -> str:
    """A string literal for DuckDB's SQL."""
    return "'" + text.replace("'", "''") + "'"
