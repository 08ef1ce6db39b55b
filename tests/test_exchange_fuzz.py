"""Fuzzing: valid datasets mutated in odd ways are either accepted and then survive import and
export value for value, or rejected with problems that say where; never a traceback.

The comparison: the dataset as validated from the mutated files (typed tables, rows in key
order, ``_row`` left out, extra attributes as JSON) must equal the dataset validated from the
CSV export of the database it was imported into; and every text or identifier cell that was
accepted is stored as the format normalises it (trimmed, line breaks ``\\n``, a CSV cell's
spreadsheet quote removed).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import polars as pl
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from cnotrack import DatasetError, export_dataset, import_dataset, load_dataset, open_store, read_store
from cnotrack.exchange.schema import exchange_format
from cnotrack.exchange.spreadsheet import spreadsheet_text

from conftest import GOOD_TABLES, TABLES, csv_text, generic_rows, make_workbook, migrated_sqlite_url, read_csv_rows

DEMO = Path(__file__).resolve().parents[1] / "src" / "cnotrack" / "demo" / "pardeo2017"
FORMAT = exchange_format()
FUZZ = settings(max_examples=80, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

ODD_CELLS = [
    "１０", "١٥", "٣.٥", '"', '"1"5', ",", "a,b", "\n", "x\r\ny", "\r", "=1+2", "+1", "-1", "@SUM(A1)",
    "'=x", "''", "'", "\t", "\x00", "\x07", "a\ufeffb", "\ufeff", "1e-400", "1e400", "0e-9", "-0",
    " ", "", "NaN", "inf", "2020-02-30", "2020-1-1", "0000-01-01", "yes", "Y", "<0.5", "> 3", "_row",
    "x" * 33_000, "ü" * 300, "\u202e", "\U0001f600",
]
ODD_HEADERS = ["_row", "_extra", "__cells_ok", "", " ", "Patient_ID", "x", "a__1", "=cmd", "'=cmd", "\ufeffsex"]


def good_tables() -> dict[str, list[list[str]]]:
    """The good dataset of conftest (every table) as header + rows of text cells."""
    tables: dict[str, list[dict]] = {name: [dict(r) for r in rows] for name, rows in GOOD_TABLES.items()}
    patients = [p["patient_id"] for p in GOOD_TABLES["patients"]][:4]
    for name in TABLES:
        tables.setdefault(name, generic_rows(name, patients))
    visits = {}
    for row in tables["assessments"]:
        visits.setdefault(row["patient_id"], row["date"])
    tables["chaq"] = [dict(r, date=visits[r["patient_id"]]) for r in tables["chaq"] if r["patient_id"] in visits]
    out = {}
    for name, rows in tables.items():
        header = list(rows[0])
        out[name] = [header] + [["" if r.get(h) is None else str(r[h]) for h in header] for r in rows]
    return out


def demo_tables() -> dict[str, list[list[str]]]:
    """A slice of the demo cohort (its first rows per table), as text cells."""
    out = {}
    for path in sorted(DEMO.glob("*.csv")):
        rows = read_csv_rows(path)
        out[path.stem] = rows[:1] + rows[1:13]
    return out


BASES = [good_tables(), demo_tables()]


@st.composite
def mutated(draw) -> tuple[dict[str, list[list[str]]], dict]:
    """A base dataset with a few mutations; and how to write it (BOM, line ends, quotes)."""
    tables = {name: [list(r) for r in rows] for name, rows in draw(st.sampled_from(BASES)).items()}
    names = sorted(tables)
    for _ in range(draw(st.integers(1, 4))):
        name = draw(st.sampled_from(names))
        rows = tables[name]
        width = len(rows[0])
        # half of the mutations keep the dataset valid (odd text where text is free, an extra
        # column, a header in another case, a blank row), so that both outcomes are exercised
        kind = draw(st.sampled_from(["cell", "insert", "header", "drop", "dup", "swap", "unicode",
                                     "text", "text", "text", "extra", "extra", "case", "empty"]))
        free = [i for i, h in enumerate(rows[0]) if _is_text(name, h)]
        r = draw(st.integers(1, max(1, len(rows) - 1))) if len(rows) > 1 else None
        c = draw(st.integers(0, width - 1))
        if kind == "cell" and r is not None:
            rows[r][c] = draw(st.sampled_from(ODD_CELLS) | st.text(max_size=8))
        elif kind == "insert" and r is not None:
            odd = draw(st.sampled_from(['"', ",", "\n", "=", "'", "\t", "\r", " ", "\x00", "٣", "\ufeff"]))
            at = draw(st.integers(0, len(rows[r][c])))
            rows[r][c] = rows[r][c][:at] + odd + rows[r][c][at:]
        elif kind == "unicode" and r is not None:
            digits = str.maketrans("0123456789", draw(st.sampled_from(["０１２３４５６７８９", "٠١٢٣٤٥٦٧٨٩"])))
            rows[r][c] = rows[r][c].translate(digits)
        elif kind == "header":
            rows[0][c] = draw(st.sampled_from(ODD_HEADERS + rows[0]))
        elif kind == "drop" and width > 1:
            for row in rows:
                del row[c]
        elif kind == "dup":
            for row in rows:
                row.insert(c, row[c])
        elif kind == "swap" and r is not None:
            d = draw(st.integers(0, width - 1))
            rows[r][c], rows[r][d] = rows[r][d], rows[r][c]
        elif kind == "empty" and r is not None:
            rows.insert(r, [""] * width)
        elif kind == "text" and r is not None and free:
            at = draw(st.sampled_from(free))
            rows[r][at] = draw(st.sampled_from([x for x in ODD_CELLS if x.strip() and "\x00" not in x
                                                and "\x07" not in x]) | st.text(max_size=8))
        elif kind == "extra":
            header = draw(st.sampled_from(["_row", "_extra", "=cmd", "'=cmd", "note", "a__1", "ÉTAT"]))
            if header.lower() not in [h.strip().lower() for h in rows[0]]:
                rows[0].append(header)
                for row in rows[1:]:
                    row.append(draw(st.sampled_from(ODD_CELLS[:20] + ["", "plain"])))
        elif kind == "case":
            rows[0][c] = draw(st.sampled_from([rows[0][c].upper(), f"  {rows[0][c]} ", rows[0][c].title()]))
    style = {"bom": draw(st.booleans()), "crlf": draw(st.booleans()),
             "stray_quote": draw(st.sampled_from([None] * 6 + [0.1, 0.5, 0.9])) and
             (draw(st.sampled_from(names)), draw(st.floats(0, 1)))}
    return tables, style


def _is_text(table: str, header: str) -> bool:
    name = header.strip().lower()
    return name in FORMAT.table(table).column_names and FORMAT.table(table).column(name).type == "text"


def write_folder(folder: Path, tables: dict[str, list[list[str]]], style: dict) -> None:
    folder.mkdir()
    for name, rows in tables.items():
        text = csv_text(rows)
        if style["crlf"]:
            text = text.replace("\n", "\r\n")
        if style["stray_quote"] and style["stray_quote"][0] == name:
            at = int(style["stray_quote"][1] * len(text))
            text = text[:at] + '"' + text[at:]
        (folder / f"{name}.csv").write_bytes(("\ufeff" if style["bom"] else "") .encode() + text.encode("utf-8"))


def comparable(dataset) -> dict[str, pl.DataFrame]:
    """Typed tables in key order without the row numbers (which an export renumbers)."""
    out = {}
    for spec in FORMAT.tables:
        frame = dataset[spec.name].drop("_row", strict=False)
        columns = [c for c in frame.columns if c != "_extra"] + (["_extra"] if "_extra" in frame.columns else [])
        out[spec.name] = frame.select(columns).sort(list(spec.key), nulls_last=False)
    return out


def normalised(cell: str, *, csv_file: bool) -> str | None:
    text = cell.strip().replace("\r\n", "\n").replace("\r", "\n")
    if text == "":
        return None
    return spreadsheet_text(text) if csv_file else text


def check(source: Path, tables: dict[str, list[list[str]]] | None, *, csv_file: bool) -> None:
    try:
        data = load_dataset(source, keep_extra=True)
    except DatasetError as exc:
        event("rejected")
        assert exc.problems
        for p in exc.problems:
            assert p.table and p.message, p
            assert str(source.parent) not in p.table
            if p.value is not None and p.row is not None and p.row > 1:
                assert p.table.endswith((".csv", "]")), p
        return
    event("accepted")
    work = source.parent
    with open_store(migrated_sqlite_url(work, "fuzz.db")) as store:
        import_dataset(data, store)
        exported = export_dataset(read_store(store), work / "exported")
    again = load_dataset(exported, keep_extra=True)
    first, second = comparable(data), comparable(again)
    for name in first:
        assert first[name].equals(second[name]), (name, first[name], second[name])
    if tables is None:
        return
    for name, rows in tables.items():  # accepted text and identifier cells are kept as written
        spec = FORMAT.table(name)
        header = [(spreadsheet_text(h.strip()) if csv_file else h.strip()).lower() for h in rows[0]]
        typed = data[name].select("_row", *[c.name for c in spec.columns if c.type in ("id", "text")])
        by_row = {r["_row"]: r for r in typed.iter_rows(named=True)}
        for number, row in enumerate(rows[1:], start=2):
            if number not in by_row:
                continue
            for column, cell in zip(header, row):
                if column in typed.columns and column != "_row":
                    assert by_row[number][column] == normalised(cell, csv_file=csv_file), (name, number, column)


@given(mutated())
@FUZZ
def test_a_mutated_csv_dataset_is_kept_value_for_value_or_rejected_with_named_problems(case):
    tables, style = case
    with tempfile.TemporaryDirectory() as work:
        folder = Path(work) / "fuzzed"
        write_folder(folder, tables, style)
        plain = not style["stray_quote"] and not any("\r" in cell for rows in tables.values()
                                                     for row in rows for cell in row)
        check(folder, tables if plain else None, csv_file=True)


@given(mutated())
@settings(FUZZ, max_examples=20)
def test_a_mutated_workbook_is_kept_value_for_value_or_rejected_with_named_problems(case):
    tables, _ = case
    with tempfile.TemporaryDirectory() as work:
        book = Path(work) / "fuzzed.xlsx"
        sheets = {name: [[cell if cell != "" else None for cell in row] for row in rows]
                  for name, rows in tables.items()}
        try:
            make_workbook(book, **sheets)
        except Exception:  # noqa: BLE001 - openpyxl refuses control characters: no workbook to read
            return
        check(book, tables, csv_file=False)
