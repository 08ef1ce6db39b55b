"""The dataset's checks found on the codes give what the checks of the rows give.

``column_typing.table_facts`` finds, while a table's codes exist, whether its key is unique,
its distinct (test, unit) pairs and lesion sites, whether its lesion_ids are unique per study
and each reference column's distinct identifiers; the checks then look at the rows only where
those show a problem. Here the same datasets are validated with those facts and without them
(every check on the rows, as before): the problems (row, column, value, message, order) and
the typed tables must be the same, for String columns and for Categorical ones, also when a
column's categories hold a text no cell holds any more (a row filtered away).
"""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cnotrack.errors import DatasetError
from cnotrack.exchange import validate
from cnotrack.exchange.column_typing import TableFacts, distinct_values, type_column, value_ids
from cnotrack.exchange.reader import RawDataset, RawTable, frame_columns
from cnotrack.exchange.schema import exchange_format

SETTINGS = settings(max_examples=70, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])

PATIENT_IDS = ["P1", "P2", "P3", " P1", "p1", "P9"]
DATES = ["2020-01-01", "2020-01-02", " 2020-01-01", "2020-02-30", None, "2019-12-31"]
COLUMNS = {
    "patients": {"patient_id": PATIENT_IDS[:4] + ["P4", "P5"], "sex": ["F", "m", "female", "U", "x"],
                 "birth_date": ["2010-01", "2010-01-05", None, "2010"], "onset_date": DATES},
    "imaging": {"patient_id": PATIENT_IDS, "study_id": ["S1", "S2", "S3", "s1", " S2", "S4"],
                "date": DATES, "modality": ["mri", "WB MRI", "xray", "pet"]},
    "labs": {"patient_id": PATIENT_IDS, "date": DATES, "test": ["CRP", "crp", "ESR", " esr", "xx"],
             "value": ["1", "<0.5", "2.5", "x", "> 3"], "unit": ["mg/L", "mg/dl", "mg/dL", "mm/h", " MG/L", None],
             "ref_high": [None, "5", "1"], "ref_low": [None, "2", "0"]},
    "lesions": {"study_id": ["S1", "S2", "S3", "s1", "S9"],
                "bone": ["femur", "tibia", "T7", "clavicle", "Thigh Bone", "sternum"],
                "side": ["left", "L", "right", None, "x", "Right "],
                "segment": [None, "diaphysis", "body", "metaphysis", "shaft"],
                "lesion_id": [None, "A", "B", " A", "a"]},
}


def _rows(table: str) -> st.SearchStrategy[list[dict[str, str | None]]]:
    cells = st.fixed_dictionaries({name: st.sampled_from(values) for name, values in COLUMNS[table].items()})
    return st.lists(cells, min_size=0, max_size=8)


def _raw(tables: dict[str, tuple[list[dict], list[dict]]], categorical: bool) -> RawDataset:
    """The dataset as the readers give it: each table's rows (``kept``) after rows (``dropped``)
    that a Categorical column's categories still hold."""
    raw = RawDataset("t")
    for name, (kept, dropped) in tables.items():
        header = list(COLUMNS[name])
        rows = dropped + kept
        names = frame_columns(len(header))
        frame = pl.DataFrame({column: [row[h] for row in rows] for column, h in zip(names, header)},
                             schema={column: pl.String for column in names})
        if categorical:
            frame = frame.with_columns(pl.all().cast(pl.Categorical(pl.Categories.random())))
        frame = frame.with_columns(pl.Series("_row", range(2 - len(dropped), len(rows) + 2 - len(dropped)),
                                             dtype=pl.Int64)).slice(len(dropped))
        raw.tables[name] = RawTable(name, f"{name}.csv", frame, header, escaped=True)
    return raw


def _outcome(raw: RawDataset):
    try:
        data = validate.validate_dataset(raw)
    except DatasetError as exc:
        return [(p.table, p.row, p.column, p.value, p.message) for p in exc.problems], None
    return [], data.tables


@SETTINGS
@given(tables=st.fixed_dictionaries({name: st.tuples(_rows(name), _rows(name)) for name in COLUMNS}),
       categorical=st.booleans())
def test_the_checks_found_on_the_codes_are_the_checks_of_the_rows(monkeypatch, tables, categorical):
    problems, typed = _outcome(_raw(tables, categorical))
    with monkeypatch.context() as patch:
        patch.setattr(validate, "table_facts", lambda spec, frame, coded: TableFacts())
        slow_problems, slow_typed = _outcome(_raw(tables, categorical))
    assert problems == slow_problems
    if typed is None:
        assert slow_typed is None
    else:
        assert typed.keys() == slow_typed.keys()
        for name in typed:
            assert typed[name].equals(slow_typed[name]), name
            assert typed[name].schema == slow_typed[name].schema, name


@pytest.mark.parametrize("categorical", [False, True])
def test_a_duplicate_found_only_on_the_codes_of_equal_values_is_reported(categorical):
    """Two texts that type to one value (``crp`` and `` CRP``) are one key, whichever code each has."""
    labs = [{"patient_id": "P1", "date": "2020-01-01", "test": t, "value": "1", "unit": "mg/L",
             "ref_high": None, "ref_low": None} for t in ("crp", " CRP")]
    patients = [{"patient_id": "P1", "sex": "F", "birth_date": None, "onset_date": None}]
    problems, _ = _outcome(_raw({"labs": (labs, []), "patients": (patients, [])}, categorical))
    assert [(p[1], p[2]) for p in problems] == [(3, "test")]


TYPED_COLUMNS = [(t.name, c) for t in exchange_format().tables for c in t.columns
                 if t.name in ("patients", "labs", "lesions", "imaging")]
CELLS = st.sampled_from([None, "", " ", "P1", " P1 ", "p1", "2020-01-02", " 2020-01-02", "2020-02-30", "2020-01",
                         "CRP", "crp", " Crp", "mg/dL", "mg/dl", "femur", "Thigh Bone", "left", "L", "'=1",
                         "a\r\nb", "a\nb", "\x07", "1", "1.0", "<0.5"])


@SETTINGS
@given(column=st.sampled_from(TYPED_COLUMNS), cells=st.lists(CELLS, min_size=1, max_size=10),
       dropped=st.lists(CELLS, max_size=3), categorical=st.booleans())
def test_the_ids_of_the_values_are_equal_exactly_where_the_values_are(column, cells, dropped, categorical):
    """``value_ids`` (the codes themselves when ``distinct_codes``) and ``distinct_values`` say
    of the rows what their typed values say, also with categories that no cell holds."""
    _, spec = column
    frame = pl.DataFrame({"c": dropped + cells}, schema={"c": pl.String})
    if categorical:
        frame = frame.with_columns(pl.col("c").cast(pl.Categorical(pl.Categories.random())))
    frame = frame.with_columns(pl.Series("_row", range(len(dropped) + len(cells)), dtype=pl.Int64)).slice(len(dropped))
    typed = type_column(frame, "c", spec.name, spec, escaped=True, label="t.csv", problems=[])
    for key, values in typed.outputs.items():
        ids, size = value_ids(typed, key)
        assert len(ids) == len(cells) and all(0 <= i < size for i in ids.tolist())
        shown = values.to_list()
        for i in range(len(cells)):
            for j in range(len(cells)):
                assert (ids[i] == ids[j]) == (shown[i] == shown[j]), (shown[i], shown[j])
        got = distinct_values({key: (typed, key)}).get_column(key)
        assert sorted(got.to_list(), key=repr) == sorted(set(shown), key=repr)
    both = list(typed.outputs)
    if len(both) == 2:  # a lab value: its value and its censor together
        pairs = distinct_values({k: (typed, k) for k in both})
        expected = pl.DataFrame(typed.outputs).unique()
        assert sorted(pairs.rows(), key=repr) == sorted(expected.rows(), key=repr)
