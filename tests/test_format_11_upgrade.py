"""A version 1 database that kept, as extra attributes, values under the names that format 1.1
gives to new columns (a file's unknown ``race_ethnicity`` column imported with ``--keep-extra``):
migration 0011 moves them into the columns, or keeps them renamed where the column would not take
them; no dataset can hold an extra attribute named like a column of its table, so no export has a
column twice."""

from __future__ import annotations

import json

import polars as pl
import pytest
import sqlalchemy as sa

from cnotrack.demo import demo_folder
from cnotrack.engine.fingerprint import dataset_fingerprint
from cnotrack.errors import DatasetError
from cnotrack.exchange import export_dataset, load_dataset
from cnotrack.exchange.dataset import EXTRA, Dataset
from cnotrack.store import import_dataset, open_store, read_store

from conftest import migrate, sqlite_url


def _v1_store_with_extras(tmp_path) -> str:
    url = sqlite_url(tmp_path)
    with open_store(url) as store:
        import_dataset(load_dataset(demo_folder()), store)
    migrate(url, "0010", down=True)
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        first = conn.exec_driver_sql("SELECT min(id) FROM patients").scalar()
        conn.exec_driver_sql("UPDATE patients SET extra = ? WHERE id = ?",
                             (json.dumps({"race_ethnicity": "white", "school": "B"}), first))
        visits = [r[0] for r in conn.exec_driver_sql("SELECT id FROM assessments ORDER BY id LIMIT 2")]
        conn.exec_driver_sql("UPDATE assessments SET extra = ? WHERE id = ?",
                             (json.dumps({"disease_status": "Remission off treatment"}), visits[0]))
        conn.exec_driver_sql("UPDATE assessments SET extra = ? WHERE id = ?",
                             (json.dumps({"disease_status": "quiet", "active_lesion_count": "2 or 3"}), visits[1]))
    engine.dispose()
    migrate(url, "0011")
    return url


def test_migration_0011_moves_the_values_the_new_columns_take_and_keeps_the_others_renamed(tmp_path) -> None:
    with open_store(_v1_store_with_extras(tmp_path)) as store:
        stored = read_store(store)
    patients, visits = stored["patients"], stored["assessments"]
    moved = patients.filter(pl.col("race_ethnicity").is_not_null())
    assert moved["race_ethnicity"].to_list() == ["white"]
    assert json.loads(moved[EXTRA][0]) == {"school": "B"}
    assert visits.filter(pl.col("disease_status") == "remission_off_treatment").height == 1
    kept = [json.loads(x) for x in visits[EXTRA].drop_nulls()]
    assert {"disease_status (before format 1.1)": "quiet", "active_lesion_count (before format 1.1)": "2 or 3"} in kept


def test_an_upgraded_store_exports_a_readable_file_with_the_same_content(tmp_path) -> None:
    with open_store(_v1_store_with_extras(tmp_path)) as store:
        stored = read_store(store)
        export_dataset(stored, tmp_path / "out")
        back = load_dataset(tmp_path / "out", keep_extra=True)
        assert dataset_fingerprint(back) == dataset_fingerprint(stored)
        assert not import_dataset(back, store).changed
    header = (tmp_path / "out" / "patients.csv").read_text("utf-8").splitlines()[0].split(",")
    assert header.count("race_ethnicity") == 1


def test_a_dataset_with_an_extra_attribute_named_like_a_column_is_neither_imported_nor_exported(tmp_path) -> None:
    demo = load_dataset(demo_folder())
    tables = dict(demo.tables)
    tables["patients"] = demo["patients"].with_columns(
        pl.when(pl.int_range(pl.len()) == 2).then(pl.lit('{"race_ethnicity": "white"}')).alias(EXTRA))
    odd = Dataset(tables, source="odd")
    with open_store(sqlite_url(tmp_path)) as store, pytest.raises(DatasetError) as raised:
        import_dataset(odd, store)
    (problem,) = raised.value.problems
    assert (problem.table, problem.column, problem.row) == ("patients", "race_ethnicity", demo["patients"]["_row"][2])
    with pytest.raises(DatasetError):
        export_dataset(odd, tmp_path / "out")


def test_a_value_that_only_mentions_a_column_name_is_no_clash(tmp_path) -> None:
    demo = load_dataset(demo_folder())
    tables = dict(demo.tables)
    tables["patients"] = demo["patients"].with_columns(
        pl.lit(json.dumps({"note": 'the "race_ethnicity": field was empty'})).alias(EXTRA))
    export_dataset(Dataset(tables, source="fine"), tmp_path / "out")


@pytest.mark.parametrize("word", ["Kahnbein", "scafoide", "scaphoïde", "escafoides"])
def test_a_local_word_for_two_bones_names_neither(word) -> None:
    """German 'Kahnbein' (and the bare Italian, French and Spanish 'scaphoid') names the hand's
    scaphoid and the foot's navicular alike: only the qualified forms are read."""
    from cnotrack.vocabulary import anatomy, normalise_key

    lookup = anatomy().lookup()
    assert lookup.get(normalise_key(word)) is None
    assert lookup[normalise_key("Kahnbein des Fußes")] == "navicular"
    assert lookup[normalise_key("Kahnbein der Hand")] == "carpal"
