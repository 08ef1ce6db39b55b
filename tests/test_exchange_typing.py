"""Typing a column through its distinct values gives, row for row, what typing every cell gives.

``column_typing.type_column`` parses each distinct text once and gathers the values back onto
the rows; the reference here applies the same cell parsers (``cells.parse_column``) to every
cell directly. Both must agree on the typed values, the problems (row, column, value, message)
and which rows failed, for a String column and for a Categorical one (the native CSV reader's).
"""

from __future__ import annotations

import json

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cnotrack.exchange.cells import parse_column
from cnotrack.exchange.column_typing import UNSTORABLE, type_column
from cnotrack.exchange.schema import exchange_format
from cnotrack.exchange.spreadsheet import spreadsheet_text_expr
from cnotrack.exchange.validate import json_string

SETTINGS = settings(max_examples=150, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow])
COLUMNS = [(t.name, c) for t in exchange_format().tables for c in t.columns
           if t.name in ("patients", "labs", "lesions", "treatments", "assessments")]
CELLS = st.sampled_from([
    None, "", " ", "P1", " P1 ", "2020-01-02", "2020-02-30", "2020-01", "0000-01-01", "yes", " No ", "Y",
    "maybe", "1", "2.5", "-1", "1e400", "1e-400", "１０", "<0.5", "> 3", "<", "CRP", "crp", "mg/dL", "MG/DL ",
    "femur", "Thigh Bone", "left", "L", "female", "F", "x" * 201, "a\r\nb", "a\rb", "\x07", "'=1+2", "''",
    "=cmd", "\ufeff", "na", "3", "0",
])


def reference(cells: list[str | None], spec, escaped: bool):
    """Every cell cleaned and parsed on its own (the expressions the typing used to run)."""
    frame = pl.DataFrame({"_row": list(range(2, len(cells) + 2)), "c": cells},
                         schema={"_row": pl.Int64, "c": pl.String})
    clean = pl.col("c").str.strip_chars().str.replace_all("\r\n?", "\n").replace("", None)
    frame = frame.with_columns(clean.alias("c")).with_columns(pl.col("c").str.contains(UNSTORABLE).alias("bad"))
    if escaped:
        frame = frame.with_columns(spreadsheet_text_expr(pl.col("c")).alias("c"))
    value, message = parse_column(pl.col("c"), spec)
    if spec.required:
        message = pl.when(pl.col("c").is_null()).then(pl.lit("a value is required here")).otherwise(message)
    out = frame.with_columns(value.alias("value"), message.alias("message"))
    problems = [(r, c) for r, c in out.filter(pl.col("bad")).select("_row", "c").iter_rows()]
    problems += [(r, c, m) for r, c, m in out.filter(pl.col("message").is_not_null())
                 .select("_row", "c", "message").iter_rows()]
    return out.get_column("value"), problems, out.get_column("message").is_not_null()


@SETTINGS
@given(st.sampled_from(COLUMNS), st.lists(CELLS, min_size=1, max_size=12), st.booleans(), st.booleans())
def test_typing_each_distinct_text_once_is_typing_every_cell(column, cells, escaped, categorical):
    table, spec = column
    frame = pl.DataFrame({"c": cells, "_row": list(range(2, len(cells) + 2))},
                         schema={"c": pl.String, "_row": pl.Int64})
    if categorical:
        frame = frame.with_columns(pl.col("c").cast(pl.Categorical(pl.Categories.random())))
    problems: list = []
    typed = type_column(frame, "c", spec.name, spec, escaped=escaped, label="t.csv", problems=problems)
    value, expected, failed = reference(cells, spec, escaped)
    if spec.type == "lab_value":
        got = pl.struct(typed.outputs["value"].alias("value"), typed.outputs["censor"].alias("censor"))
        assert pl.select(got.alias("v")).to_series().to_list() == value.to_list()
    else:
        assert typed.outputs[spec.name].to_list() == value.to_list()
        assert typed.outputs[spec.name].dtype == value.dtype
    unstorable = [(p.row, p.value) for p in problems if "control character" in p.message]
    parsed = [(p.row, p.value, p.message) for p in problems if "control character" not in p.message]
    assert unstorable + parsed == expected
    assert all(p.table == "t.csv" and p.column == spec.name for p in problems)
    assert (typed.failed.to_list() if typed.failed is not None else [False] * len(cells)) == failed.to_list()


@SETTINGS
@given(st.text())
def test_the_vectorised_json_string_is_json_dumps(text):
    assert pl.select(json_string(pl.lit(text))).item() == json.dumps(text, ensure_ascii=False)
