"""An archive-wide findings index: SR files -> Parquet shards (pyarrow) -> SQL (DuckDB).

    from dicomtools.archive import build_index, connect, run_query
    build_index(["/archive/sr"], "findings-index")            # all cores; again: only changes
    con = connect("findings-index")                            # DuckDB with the views
    con.sql("SELECT site, count(*) FROM findings GROUP BY site").show()

Views: ``reports``, ``findings``, ``measurements``, ``evaluations``, ``problems`` (and
``files``, the crawl state). Layout and crash safety: :mod:`dicomtools.archive.store`;
columns: :mod:`dicomtools.archive.tables`; docs/archive.md has query examples.
"""

from __future__ import annotations

from typing import Any

__all__ = ["build_index", "connect", "run_query", "iter_reports", "IndexResult"]


def __getattr__(name: str) -> Any:  # lazy: importing the package loads neither pyarrow nor duckdb
    if name in ("build_index", "IndexResult"):
        from . import runner
        return getattr(runner, name)
    if name == "connect":
        from .store import connect
        return connect
    if name == "run_query":
        from .query import run_query
        return run_query
    if name == "iter_reports":
        from .reports import iter_reports
        return iter_reports
    raise AttributeError(name)
