"""What an import would change, row by row and value by value: the review before it is confirmed.

``plan_import`` counts; ``import_diff(dataset, store)`` shows. For every table it gives the rows
the import would add (their values), the rows it would change (for each, identified by its
natural key and record id, every column whose value changes, with the stored value and the new
one; a deleted row the import brings back is marked ``restore``) and the number of rows it
would leave as they are. It is computed exactly as the import computes its plan
(``cnotrack.store.changes.plan_table``: the same join on the natural key, the same row hashes,
columns the file does not have kept as stored, extra attributes merged), so the review says
what the import then does, as long as nothing is written in between (the web app plans again
when the import is confirmed).

Vectorised: the stored values of the changed rows are read in one query per table and joined
to the new ones on the record id; the changed values come out in long form (one row per
changed value) from one comparison per column over whole frames, never a Python loop over
rows. Reading a bounded page for display (``TableDiff.page``) or the whole diff as CSV
(``ImportDiff.csv``) works on those frames.

Who may see the diff is the caller's question: the diff holds the stored values of every row
the dataset's keys match, so the web app computes it only after ``check_import_allowed`` has
refused an investigator's dataset that names another center's patients or studies.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from ..exchange.dataset import Dataset, empty_table
from ..exchange.schema import exchange_format
from ..exchange.spreadsheet import spreadsheet_safe_expr
from .bulk import read_frame
from .changes import TablePlan, data_columns, plan_table
from .database import Store
from .importer import ImportPlan, _refuse_column_named_extras

__all__ = ["CHANGE_SCHEMA", "ImportDiff", "TableDiff", "import_diff"]

#: The long form of the changed values: one row per changed value of a changed row.
CHANGE_SCHEMA: dict[str, pl.DataType] = {"record_id": pl.Int64, "action": pl.String, "key": pl.String,
                                         "column": pl.String, "old": pl.String, "new": pl.String}
_OLD = "_old_"
_IDS_PER_QUERY = 20_000


@dataclass
class TableDiff:
    """What an import would do to one table."""

    name: str
    key: tuple[str, ...]
    #: the rows to add: ``key`` (the natural key as ``col=value, ...``) and every data column
    added: pl.DataFrame
    #: one row per changed row: ``record_id``, ``action`` (update or restore), ``key``
    changed_rows: pl.DataFrame
    #: one row per changed value (``CHANGE_SCHEMA``), the values as text (empty: null)
    changes: pl.DataFrame
    #: the import's plan of the table (counts, changed columns and how many rows each changes)
    plan: TablePlan = field(default_factory=TablePlan)

    @property
    def unchanged(self) -> int:
        return self.plan.unchanged

    @property
    def kept(self) -> tuple[str, ...]:
        """The columns the file does not have: kept as stored."""
        return self.plan.kept

    @property
    def n_added(self) -> int:
        return self.added.height

    @property
    def n_changed(self) -> int:
        return self.changed_rows.height

    @property
    def n_restored(self) -> int:
        return self.changed_rows.filter(pl.col("action") == "restore").height

    def page(self, limit: int = 50, offset: int = 0) -> dict[str, Any]:
        """A bounded page of this table's review, for display: at most ``limit`` added rows and
        ``limit`` changed rows (each with its list of (column, old, new)), from ``offset`` on,
        and how many of each are left out."""
        rows = self.changed_rows.slice(offset, limit)
        values = self.changes.join(rows.select("record_id"), on="record_id", how="semi")
        grouped: dict[int, list[tuple[str, str | None, str | None]]] = {}
        for record_id, column, old, new in values.select("record_id", "column", "old", "new").iter_rows():
            grouped.setdefault(record_id, []).append((column, old, new))  # bounded by the page
        changed = [{"record_id": r["record_id"], "action": r["action"], "key": r["key"],
                    "values": grouped.get(r["record_id"], [])} for r in rows.to_dicts()]
        added = self.added.slice(offset, limit)
        shown = [c for c in added.columns if c != "key" and added.get_column(c).null_count() < added.height]
        return {"changed": changed, "more_changed": max(0, self.n_changed - offset - rows.height),
                "added": added.select("key", *shown).rows(), "added_columns": shown,
                "more_added": max(0, self.n_added - offset - added.height)}

    def as_dict(self) -> dict[str, object]:
        return {"added": self.n_added, "changed": self.n_changed, "restored": self.n_restored,
                "unchanged": self.unchanged, "kept": list(self.kept)}


@dataclass
class ImportDiff:
    """What importing a dataset would change, table by table (``import_diff``)."""

    source: str
    tables: dict[str, TableDiff] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        return any(t.n_added or t.n_changed for t in self.tables.values())

    @property
    def plan(self) -> ImportPlan:
        """The counts alone, as ``plan_import`` gives them."""
        return ImportPlan(source=self.source, tables={n: t.plan for n, t in self.tables.items()})

    def long_frame(self) -> pl.DataFrame:
        """The whole diff in long form: ``table``, ``action`` (add, update, restore),
        ``record_id`` (none for an added row), ``key``, ``column``, ``old``, ``new``: one row per
        value an added row holds and per value a changed row changes (a restored row that
        changes nothing has one row with an empty column)."""
        parts = []
        for name, t in self.tables.items():
            added = _long_added(t)
            restored_only = t.changed_rows.join(t.changes.select("record_id").unique(), on="record_id", how="anti")
            bare = restored_only.select("record_id", "action", "key", pl.lit(None, pl.String).alias("column"),
                                        pl.lit(None, pl.String).alias("old"), pl.lit(None, pl.String).alias("new"))
            for part in (added, t.changes, bare):
                if part.height:
                    parts.append(part.select(pl.lit(name).alias("table"), *CHANGE_SCHEMA))
        if not parts:
            return pl.DataFrame(schema={"table": pl.String, **CHANGE_SCHEMA})
        return pl.concat(parts, how="vertical_relaxed")

    def csv(self) -> str:
        """``long_frame`` as CSV (no cell starts a spreadsheet formula)."""
        frame = self.long_frame()
        text_columns = [c for c, t in frame.schema.items() if t == pl.String]
        frame = frame.with_columns(spreadsheet_safe_expr(pl.col(c)).alias(c) for c in text_columns)
        buffer = io.StringIO()
        frame.write_csv(buffer)
        return buffer.getvalue()

    def as_dict(self) -> dict[str, object]:
        return {"source": self.source, "tables": {n: t.as_dict() for n, t in self.tables.items()}}


def _long_added(t: TableDiff) -> pl.DataFrame:
    values = [c for c in t.added.columns if c != "key"]
    if not t.added.height or not values:
        return pl.DataFrame(schema=CHANGE_SCHEMA)
    frame = t.added.select("key", *[pl.col(c).cast(pl.String) for c in values]).with_row_index("_n")
    return (frame.unpivot(index=["_n", "key"], on=values, variable_name="column", value_name="new")
            .filter(pl.col("new").is_not_null()).sort("_n", maintain_order=True)
            .select(pl.lit(None, pl.Int64).alias("record_id"), pl.lit("add").alias("action"), "key", "column",
                    pl.lit(None, pl.String).alias("old"), "new"))


def _key_text(key: list[str]) -> pl.Expr:
    """The natural key as ``col=value, col=value`` (an empty key column as ``col=``)."""
    parts = [pl.lit(f"{k}=") + pl.col(k).cast(pl.String).fill_null("") for k in key]
    return pl.concat_str(parts, separator=", ").alias("key")


def _stored_values(conn, name: str, ids: pl.Series, engine) -> pl.DataFrame:
    """The stored data columns of the rows ``ids`` (integers from the plan: written into the
    query as numbers), a bounded number of ids a query."""
    schema = {"id": pl.Int64, **dict(empty_table(name).schema), "extra": pl.String}
    frames = []
    values = ids.cast(pl.Int64).sort()
    for start in range(0, values.len(), _IDS_PER_QUERY):
        chunk = values.slice(start, _IDS_PER_QUERY)
        where = "id IN (" + chunk.cast(pl.String).str.join(",").item() + ")"
        frames.append(read_frame(conn, name, schema, where=where, engine=engine))
    return pl.concat(frames) if frames else pl.DataFrame(schema=schema)


def _table_diff(conn, dataset: Dataset, name: str, engine) -> TableDiff:
    key = list(exchange_format().table(name).key)
    columns = data_columns(name)
    work = plan_table(conn, dataset, name, engine)
    added = work.inserts.select(_key_text(key), *[c for c in columns if c != "extra"],
                                *(["extra"] if work.inserts.get_column("extra").null_count() < work.inserts.height
                                  else []))
    updates = work.updates.select("id", "action", _key_text(key), *columns)
    stored = _stored_values(conn, name, updates.get_column("id"), engine)
    both = updates.join(stored.rename({c: _OLD + c for c in columns}), on="id", how="left")
    pieces = [both.filter(pl.col(c).ne_missing(pl.col(_OLD + c))).select(
        pl.col("id").alias("record_id"), "action", "key", pl.lit(c).alias("column"),
        pl.col(_OLD + c).cast(pl.String).alias("old"), pl.col(c).cast(pl.String).alias("new"))
        for c in columns]
    order = {c: i for i, c in enumerate(columns)}
    changes = (pl.concat(pieces) if pieces else pl.DataFrame(schema=CHANGE_SCHEMA)).with_columns(
        pl.col("column").replace_strict(order, return_dtype=pl.Int64).alias("_c")).sort(
        "record_id", "_c").drop("_c")
    changed_rows = updates.select(pl.col("id").alias("record_id"), "action", "key")
    return TableDiff(name, tuple(key), added, changed_rows, changes, work.plan)


def import_diff(dataset: Dataset, store: Store) -> ImportDiff:
    """What ``import_dataset(dataset, store)`` would add, change (old -> new, per column, per
    row) and leave unchanged in each table, computed without writing anything (see the module).

    Raises ``DatasetError`` for what the import would refuse, as ``plan_import`` does."""
    _refuse_column_named_extras(dataset)  # the import's own refusal, before any comparison
    diff = ImportDiff(source=dataset.source)
    with store.engine.connect() as conn:
        for name in exchange_format().table_names:
            diff.tables[name] = _table_diff(conn, dataset, name, store.engine)
    return diff
