"""What an import changes in one table, found with whole-frame operations (no loop over rows).

The dataset's rows are joined to the stored rows on the natural key. A row without a stored
partner is added. A stored row is found unchanged, without reading its values, when its
``row_hash`` equals the hash of the new row (and it is not deleted): the hash is a stable
xxhash64 (``polars-hash``) of the row's data columns in a canonical text form, written with
every row an import stores; a web edit clears it. Only the rows whose hash differs, is missing
(a row an older cnotrack or a web edit wrote) or cannot be compared (a file without some
columns: their stored values are kept; ``--keep-extra``) are compared value by value, column by
column, which also gives the columns each change touches.

The result is a ``TableWork``: frames of the rows to insert and to update, ready to be written
in bulk, and the plan (counts, changed columns) that ``plan_import`` reports.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import polars as pl
import polars_hash  # noqa: F401  (registers the ``nchash`` namespace)
import sqlalchemy as sa

from ..errors import DatasetError, Problem
from ..exchange.dataset import EXTRA, ROW, Dataset, empty_table
from ..exchange.schema import exchange_format
from ..exchange.validate import json_string
from .bulk import read_frame
from .digests import content_digest, digest_holds

__all__ = ["HASH", "PROVENANCE", "RowChange", "TablePlan", "TableWork", "data_columns", "insert_rows", "plan_table",
           "row_hash"]

HASH = "row_hash"
PROVENANCE = ("import_id", "source_file", "source_row")
_S = "_s_"  # prefix of the stored values beside the new ones


@dataclass(frozen=True)
class RowChange:
    """One stored row an import changes: its natural key, ``update`` or ``restore`` (a deleted
    row brought back), and the columns whose value changes."""

    key: dict[str, object]
    action: str
    columns: tuple[str, ...]


@dataclass
class TablePlan:
    """What an import does to one table."""

    added: int = 0
    changed: int = 0
    unchanged: int = 0
    restored: int = 0
    columns: dict[str, int] = field(default_factory=dict)   # changed column -> rows it changes in
    kept: tuple[str, ...] = ()                               # columns absent from the file: kept as stored
    changes: list[RowChange] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {"added": self.added, "changed": self.changed, "unchanged": self.unchanged,
                "restored": self.restored, "columns": dict(self.columns), "kept": list(self.kept)}


@dataclass
class TableWork:
    """The plan of one table and the rows that carry it out."""

    name: str
    plan: TablePlan
    inserts: pl.DataFrame      # data columns, source_*, row_hash
    updates: pl.DataFrame      # id, version (new), action, data columns (after), source_*, row_hash, _old_lesion_id
    before_after: pl.DataFrame  # id, action, key, before, after: JSON of the changed columns only
    #: the table's content digest after the import when its live rows are then exactly the
    #: dataset's (``cnotrack.store.digests``), else None
    content: str | None = None


def data_columns(name: str) -> list[str]:
    """The data columns of a record table (``censor`` after ``value`` in labs), then ``extra``."""
    return list(empty_table(name).columns) + ["extra"]


def _schema(name: str) -> dict[str, pl.DataType]:
    return dict(empty_table(name).schema) | {"extra": pl.String}


def row_hash(name: str) -> pl.Expr:
    """The stable hash of a row's data columns (``extra`` excluded), as a signed 64-bit integer.
    A column the format added after version 1 (``since``) counts only where it holds a value
    (then as ``\x1e`` name ``=`` value), so that a row that uses none keeps the hash a version 1
    row was stored with: an unchanged re-import after the upgrade still reads no stored row."""
    later = exchange_format().table(name).later_columns
    parts = [pl.col(c).cast(pl.String).fill_null("\x00") for c in data_columns(name)
             if c != "extra" and c not in later]
    text = pl.concat_str(parts, separator="\x1f")
    added = [pl.lit(f"\x1e{c}=") + pl.col(c).cast(pl.String) for c in data_columns(name) if c in later]
    if added:
        text = pl.concat_str([text, *added], ignore_nulls=True)
    return text.nchash.xxhash64().reinterpret(signed=True).alias(HASH)


def _present_columns(dataset: Dataset, name: str, frame: pl.DataFrame) -> set[str]:
    """The data columns of ``name`` the file had (all of them when the dataset does not say)."""
    columns = data_columns(name)
    if name in dataset.columns_present:
        had = set(dataset.columns_present[name])
        present = {c for c in columns if c in had}
        if "value" in present and name == "labs":
            present.add("censor")
        present |= set(exchange_format().table(name).key)
    else:
        present = set(columns) - {"extra"}
    if EXTRA in frame.columns:
        present.add("extra")
    return present


def _extra_names(dataset: Dataset, name: str, frame: pl.DataFrame) -> list[str]:
    """The extra (kept unknown) columns of the file: every attribute some row holds, and the
    columns the dataset says the file had beyond the format's."""
    names: set[str] = set()
    if EXTRA in frame.columns:
        for text in frame[EXTRA].drop_nulls().unique().to_list():
            names.update(json.loads(text))
    had = dataset.columns_present.get(name)
    if had:
        names |= set(had) - set(data_columns(name)) - {ROW}
    return sorted(names)


def _merged_extra(stored: str | None, new: str | None, names: list[str]) -> str | None:
    """The stored extra attributes with the file's set (or cleared, for an empty cell)."""
    merged = json.loads(stored) if stored else {}
    for attribute in names:
        merged.pop(attribute, None)
    merged.update(json.loads(new) if new else {})
    return json.dumps(dict(sorted(merged.items())), ensure_ascii=False, sort_keys=True) if merged else None


def _merged_extra_expr(stored: pl.Series, names: list[str]) -> pl.Expr:
    """``_merged_extra`` of every row as one expression, on the JSON objects of text values that
    imports write (the file's attributes ``names`` replace the stored ones, an empty cell clears
    one; keys sorted, as ``json.dumps(..., sort_keys=True)`` writes them). Stored attributes of
    another type (only written outside cnotrack's import) are merged by ``_merged_extra``."""
    texts = stored.drop_nulls().unique()
    kept = texts.str.json_decode(infer_schema_length=None).dtype if texts.len() else pl.Struct({})
    if not all(f.dtype in (pl.String, pl.Null) for f in kept.fields):
        return pl.struct(_S + "extra", "extra").map_elements(
            lambda row: _merged_extra(row[_S + "extra"], row["extra"], names), return_dtype=pl.String).alias("extra")
    old_fields = [f.name for f in kept.fields if f.name not in names]
    old = pl.col(_S + "extra").str.json_decode(pl.Struct({f: pl.String for f in old_fields})) if old_fields else None
    new = pl.col("extra").str.json_decode(pl.Struct({f: pl.String for f in names})) if names else None
    values = {f: old.struct.field(f) for f in old_fields} | {f: new.struct.field(f) for f in names}
    if not values:
        return pl.lit(None, pl.String).alias("extra")
    pieces = [pl.when(v.is_not_null()).then(pl.lit(json.dumps(f, ensure_ascii=False) + ": ") + json_string(v))
              for f, v in sorted(values.items())]
    return pl.when(pl.any_horizontal([v.is_not_null() for v in values.values()])).then(
        "{" + pl.concat_str(pieces, separator=", ", ignore_nulls=True) + "}").otherwise(
        pl.lit(None, pl.String)).alias("extra")


def source_file(dataset: Dataset, name: str) -> str | None:
    if not dataset.sha256:
        return None
    files = list(dataset.sha256)
    if len(files) == 1 and files[0].lower().endswith(".xlsx"):
        return f"{files[0]}[{name}]"
    return next((f for f in files if f.strip().lower() == f"{name}.csv"), None)


def _new_rows(dataset: Dataset, name: str, present: set[str]) -> pl.DataFrame:
    frame = dataset[name]
    if EXTRA in frame.columns:
        frame = frame.rename({EXTRA: "extra"})
    schema = _schema(name)
    file = source_file(dataset, name)
    return frame.select(
        [(pl.col(c) if c in frame.columns and c in present else pl.lit(None)).cast(t).alias(c) for c, t in schema.items()]
        + [pl.lit(file, pl.String).alias("source_file"),
           (pl.col(ROW) if ROW in frame.columns else pl.lit(None)).cast(pl.Int64).alias("source_row")])


def _stored_schema(name: str, *, values: bool) -> dict[str, pl.DataType]:
    schema = _schema(name)
    key = list(exchange_format().table(name).key)
    wanted = schema if values else {c: schema[c] for c in key + (["lesion_id"] if name == "lesions" else [])}
    return {"id": pl.Int64, **wanted, "version": pl.Int64, "deleted_at": pl.String, HASH: pl.Int64}


def _stored(conn: sa.Connection | None, name: str, engine: sa.Engine | None, *, values: bool) -> pl.DataFrame:
    """The stored rows: id, key (every data column with ``values``), version, deleted, row_hash
    (none without a connection)."""
    schema = _stored_schema(name, values=values)
    frame = read_frame(conn, name, schema, engine=engine) if conn is not None else pl.DataFrame(schema=schema)
    return frame.with_columns(pl.col("deleted_at").is_not_null().alias("deleted")).drop("deleted_at")


def insert_rows(dataset: Dataset, name: str) -> pl.DataFrame:
    """The rows ``plan_table`` inserts when no row of ``name`` is stored: every row of the
    dataset, in its order (``TableWork.inserts``)."""
    new = _new_rows(dataset, name, _present_columns(dataset, name, dataset[name]))
    return new.with_columns(row_hash(name)).select(*data_columns(name), "source_file", "source_row", HASH)


def plan_table(conn: sa.Connection, dataset: Dataset, name: str, engine: sa.Engine | None = None) -> TableWork:
    """Compare the dataset's ``name`` rows with the stored ones (see the module)."""
    engine = engine or conn.engine
    key = list(exchange_format().table(name).key)
    columns = data_columns(name)
    frame = dataset[name]
    present = _present_columns(dataset, name, frame)
    new = _new_rows(dataset, name, present)
    # a file without a column of format 1.1 (a version 1 file) is compared by row hash as if the
    # column were empty: a stored row that has a value there differs and is compared by value,
    # which keeps that value (an absent column is kept as stored)
    absent_later = [c for c in exchange_format().table(name).later_columns if c not in present]
    whole = present | set(absent_later) >= set(columns) - {"extra"} and "extra" not in present
    plan = TablePlan(kept=tuple(c for c in columns if c not in present and c != "extra") if frame.height else ())
    digest = None
    if whole:
        new = new.with_columns(row_hash(name))
        digest = content_digest(new.get_column(HASH))
    # the table as the last import left it, holding exactly these rows: nothing to read or compare
    same_content = digest is not None and conn is not None and digest_holds(conn, name, new.height, digest)
    stored = _stored(None if same_content else conn, name, engine, values=not whole)
    if same_content:
        plan.unchanged, new = new.height, new.clear()
    joined = new.join(stored.rename({c: _S + c for c in stored.columns if c not in key}), on=key, how="left",
                      nulls_equal=True, maintain_order="left")
    inserts = joined.filter(pl.col(_S + "id").is_null()).select(new.columns)
    matched = joined.filter(pl.col(_S + "id").is_not_null())
    if whole:
        same = (pl.col(_S + HASH) == pl.col(HASH)) & ~pl.col(_S + "deleted")
        plan.unchanged += matched.filter(same).height
        suspects = matched.filter(~same.fill_null(False)).select(new.columns)
        full = _stored(conn if suspects.height else None, name, engine, values=True)
        matched = suspects.join(full.rename({c: _S + c for c in full.columns if c not in key}), on=key,
                                how="inner", nulls_equal=True, maintain_order="left")
    extra_names = _extra_names(dataset, name, frame) if "extra" in present else []
    after = [(pl.col(c) if c in present and c != "extra" else pl.col(_S + c)).alias(c) for c in columns if c != "extra"]
    if "extra" in present:
        after.append(_merged_extra_expr(matched[_S + "extra"], extra_names))
    else:
        after.append(pl.col(_S + "extra").alias("extra"))
    flags = [pl.col(c).ne_missing(pl.col(_S + c)).alias(f"_changed_{c}") for c in columns]
    matched = matched.with_columns([pl.col(k).alias(_S + k) for k in key])  # joined on: equal
    compared = matched.with_columns(after).with_columns(flags)
    writing = pl.any_horizontal([pl.col(f"_changed_{c}") for c in columns]) | pl.col(_S + "deleted")
    plan.unchanged += compared.filter(~writing).height
    updates = compared.filter(writing).with_columns(
        pl.when(pl.col(_S + "deleted")).then(pl.lit("restore")).otherwise(pl.lit("update")).alias("action"),
        (pl.col(_S + "version") + 1).alias("version"), pl.col(_S + "id").alias("id"), row_hash(name))
    plan.added = inserts.height
    plan.changed = updates.height
    plan.restored = updates.filter(pl.col("action") == "restore").height
    counts = updates.select([pl.col(f"_changed_{c}").sum() for c in columns]).row(0) if updates.height else ()
    plan.columns = {c: int(n) for c, n in zip(columns, counts) if n}
    changed_lists = updates.select(*key, "action", *[f"_changed_{c}" for c in columns]).to_dicts()
    plan.changes = [RowChange({k: r[k] for k in key}, r["action"], tuple(c for c in columns if r[f"_changed_{c}"]))
                    for r in changed_lists]
    if not whole or inserts.height:
        inserts = inserts.with_columns(row_hash(name))
    work = TableWork(name, plan, inserts.select(*columns, "source_file", "source_row", HASH),
                     updates.select("id", "version", "action", *columns, "source_file", "source_row", HASH, *([pl.col(_S + "lesion_id").alias("_old_lesion_id")]
                                                          if name == "lesions" else [])),
                     _before_after(updates, name, key, columns))
    live = stored.filter(~pl.col("deleted")).height + plan.added + plan.restored
    # a value kept in an absent 1.1 column makes the stored rows differ from the file's hashes
    kept_later = bool(absent_later) and matched.height > 0 and bool(matched.select(
        pl.any_horizontal([pl.col(_S + c).is_not_null() for c in absent_later]).any()).item())
    if digest is not None and not kept_later and (same_content or live == frame.height):
        work.content = digest
    if name == "lesions":
        _check_lesion_ids(dataset, stored, work)
    return work


def _json_members(columns: list[str], prefix: str) -> pl.Expr:
    """``{"col": value, ...}`` of the columns that changed in each row (as JSON text)."""
    members = [pl.when(pl.col(f"_changed_{c}")).then(
        pl.struct(pl.col(prefix + c).alias(c)).struct.json_encode().str.slice(1).str.strip_suffix("}"))
        for c in columns]
    return pl.concat_str([pl.lit("{"), pl.concat_str(members, separator=",", ignore_nulls=True), pl.lit("}")])


def _before_after(updates: pl.DataFrame, name: str, key: list[str], columns: list[str]) -> pl.DataFrame:
    if updates.is_empty():
        return pl.DataFrame(schema={"id": pl.Int64, "action": pl.String, "key": pl.String, "before": pl.String,
                                    "after": pl.String})
    return updates.select("id", "action", pl.struct(key).struct.json_encode().alias("key"),
                          _json_members(columns, _S).alias("before"), _json_members(columns, "").alias("after"))


def _check_lesion_ids(dataset: Dataset, stored: pl.DataFrame, work: TableWork) -> None:
    """A lesion_id names one lesion of its study: refuse a row whose lesion_id a stored lesion
    that the import leaves as it is already holds."""
    touched = work.updates["id"]
    holders = stored.filter(pl.col("lesion_id").is_not_null() & ~pl.col("deleted") & ~pl.col("id").is_in(touched.implode()))
    if holders.is_empty():
        return
    wanted = pl.concat([work.updates.select("study_id", "lesion_id", "source_row"),
                        work.inserts.select("study_id", "lesion_id", "source_row")]).filter(
        pl.col("lesion_id").is_not_null())
    clashes = wanted.join(holders.select("study_id", "lesion_id", pl.col("id").alias("holder"), "bone", "side",
                                         "segment"), on=["study_id", "lesion_id"], how="inner")
    if clashes.is_empty():
        return
    label = source_file(dataset, "lesions") or "lesions"
    problems = [Problem(label, r["source_row"], "lesion_id", str(r["lesion_id"]),
                        f"a stored lesion of study {r['study_id']} (record {r['holder']}, "
                        f"{' '.join(str(r[c]) for c in ('bone', 'side', 'segment') if r[c] is not None)}) already "
                        "has this lesion_id; give another, or change that lesion first")
                for r in clashes.to_dicts()]
    raise DatasetError(problems, source=dataset.source)
