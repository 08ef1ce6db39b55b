"""Where each stored record came from: the import, the file, its SHA-256 and the spreadsheet row.

A record row carries ``import_id`` (the import that last wrote it), ``source_file`` and
``source_row``; the SHA-256 of the file is not repeated in every row but kept once per import in
``imports.files`` (file name -> SHA-256; the file of ``book.xlsx[labs]`` is ``book.xlsx``), and
joined back here. A record created or edited on the web has none of them.
"""

from __future__ import annotations

import json

import polars as pl
import sqlalchemy as sa

from ..exchange.schema import exchange_format
from ..errors import RecordNotFoundError
from .database import Store
from .schema import imports, record_table

__all__ = ["record_provenance"]


def record_provenance(store: Store, table: str, record_ids: list[int] | None = None) -> pl.DataFrame:
    """``id, import_id, source_file, source_sha256, source_row`` of the rows of ``table`` (the
    given ids, or all; deleted rows included), in id order."""
    if table not in exchange_format().table_names:
        raise RecordNotFoundError(f"no record type {table!r}; the record types are "
                                  f"{', '.join(exchange_format().table_names)}")
    t = record_table(table)
    query = sa.select(t.c.id, t.c.import_id, t.c.source_file, t.c.source_row).order_by(t.c.id)
    if record_ids is not None:
        query = query.where(t.c.id.in_(record_ids))
    schema = {"id": pl.Int64, "import_id": pl.Int64, "source_file": pl.String, "source_row": pl.Int64}
    with store.engine.connect() as conn:
        rows = pl.DataFrame([tuple(r) for r in conn.execute(query)], schema=schema, orient="row")
        used = rows["import_id"].drop_nulls().unique().to_list()
        files = [(i, name, sha) for i, text in conn.execute(sa.select(imports.c.id, imports.c.files)
                                                             .where(imports.c.id.in_(used)))
                 for name, sha in json.loads(text).items()]
    shas = pl.DataFrame(files, schema={"import_id": pl.Int64, "_file": pl.String, "source_sha256": pl.String},
                        orient="row")
    return (rows.with_columns(pl.col("source_file").str.split("[").list.first().alias("_file"))
            .join(shas, on=["import_id", "_file"], how="left", maintain_order="left")
            .select("id", "import_id", "source_file", "source_sha256", "source_row"))
