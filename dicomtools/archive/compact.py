"""Compaction: the current rows of every shard rewritten as one shard, the old ones removed.

An index of 100,000 SRs read in batches of 256 holds ~400 shards; a query opens every one of
them. Compacting writes the rows the views show now (entries of deleted files included) into
one new shard of a new run, commits it with one rename, and only then removes the old
shards. At every moment the views count each row once: once the new shard is committed its
entries are the latest for every path, so the old shards' rows are no longer seen, whether
or not they have been removed yet (a kill between the two steps leaves only extra files).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from ..errors import InputError
from ..phi import printable
from . import store

# The rows to keep, from the views of connect() (raw rows of the current shards).
_ROWS = {
    "files": "SELECT * EXCLUDE (shard_dir) FROM files",
    "reports": "SELECT * EXCLUDE (shard_dir) FROM reports_all",
    **{t: f"SELECT x.* EXCLUDE (shard_dir) FROM {t}_raw x SEMI JOIN reports_all r "
          "ON x.report_id = r.report_id AND x.shard_dir = r.shard_dir"
       for t in ("findings", "measurements", "evaluations")},
    "problems": "SELECT * EXCLUDE (shard_dir) FROM problems",
    "labs": "SELECT * EXCLUDE (shard_dir) FROM labs",
}


def compact(index: str | os.PathLike[str]) -> tuple[int, str]:
    """Rewrite the index as one shard; returns (shards removed, the new shard's name)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from .tables import SCHEMAS
    from .worker import shard_name
    folder = Path(index)
    if store.read_settings(folder) is None:
        raise InputError(f"{printable(folder)}: not a dicomtools index (no index.json)")
    lock = store.Lock(folder)
    try:
        settings = store.read_settings(folder) or {}
        run = int(settings.get("next_run", 1))
        settings["next_run"] = run + 1
        store.write_settings(folder, settings)
        store.clean_pending(folder)
        old = sorted((folder / "shards").iterdir()) if store.has_shards(folder) else []
        if not old:
            return 0, ""
        name = shard_name(run)
        con = store.connect(folder)
        try:
            tables = {}
            for table, sql in _ROWS.items():
                data = con.sql(sql).to_arrow_table()
                data = data.select(SCHEMAS[table].names).cast(SCHEMAS[table])
                for column, value in (("shard", name), ("run", run)):
                    if column in data.column_names:
                        i = data.column_names.index(column)
                        kind = SCHEMAS[table].field(column).type
                        data = data.set_column(i, column, pc.cast(
                            pa.repeat(pa.scalar(value, kind), len(data)), kind))
                tables[table] = data
        finally:
            con.close()
        store.write_shard(folder, name, tables)  # the commit: from here the old rows are unseen
        for shard in old:
            shutil.rmtree(shard, ignore_errors=True)
        return len(old), name
    finally:
        lock.release()
