"""Reading an exchange-format CSV folder with pandas, for the benchmark's pandas baseline.

What a data analyst fluent in pandas would write to read a registry's export: ``pandas.read_csv``
of each file (C parser, only the columns the protocol needs, vocabulary columns read as
``category``), then every spelling the exchange format accepts normalised the way
``docs/exchange-format.md`` says: column names and vocabulary values case-insensitive after
trimming, synonyms and brand names (from cnotrack's vocabulary files ``vocabularies/*.yaml`` and
the choices of ``exchange/format.yaml``, read as data with PyYAML: importing cnotrack itself
would cost the baseline a second of imports it does not need), ``female``/``male``, ``<x`` censored lab values,
lab units spelt any accepted way. Vocabulary columns are normalised on their categories (a few
dozen distinct spellings), then taken to the rows by their codes: no Python loop over rows.

It does not validate (the benchmark's registries are valid; an unknown spelling in a column the
protocol uses raises ``ValueError`` naming the file and column rather than passing as missing),
and it uses neither cnotrack's reader nor its validator or engine.

``read_registry(folder)`` returns the frames ``pandas_baseline.evaluate_pardeo2017`` takes:
canonical spellings, dates as ``datetime64``, labs with ``value`` (float), ``censor``
(``<``, ``>`` or None) and ``unit`` in its canonical spelling.
"""

from __future__ import annotations

import importlib.util
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

__all__ = ["COLUMNS", "read_registry"]

#: per file, its columns the protocol reads: id (text), date, vocabulary (category), other
COLUMNS = {
    "patients": {"patient_id": "id", "sex": "choice"},
    "treatments": {"patient_id": "id", "drug": "drug", "start_date": "date", "stop_date": "date",
                   "route": "choice"},
    "assessments": {"patient_id": "id", "date": "date", "pga": "choice"},
    "labs": {"patient_id": "id", "date": "date", "test": "lab_test", "value": "lab_value", "unit": "lab_unit",
             "ref_high": "number"},
    "imaging": {"patient_id": "id", "study_id": "id", "date": "date", "modality": "choice"},
    "lesions": {"study_id": "id", "bone": "bone", "side": "choice", "segment": "choice", "activity": "choice",
                "grade": "number", "symptomatic": "boolean", "lesion_id": "id"},
}
_CATEGORY = {"choice", "drug", "lab_test", "bone", "boolean", "lab_unit", "lab_value"}
_DTYPE = {"id": str, "date": str, "number": "float64"}
_TRUE, _FALSE = ("yes", "y", "true", "1"), ("no", "n", "false", "0")


def read_registry(folder: str | Path) -> dict[str, pd.DataFrame]:
    """The tables of the CSV folder that ``pardeo2017`` reads, typed and in canonical spellings."""
    folder = Path(folder)
    tables = {}
    for name, columns in COLUMNS.items():
        path = folder / f"{name}.csv"
        tables[name] = _read(path, name, columns) if path.exists() else _empty(columns)
    return tables


_EMPTY = {"date": "datetime64[ns]", "number": "float64", "lab_value": "float64"}


def _empty(columns: dict[str, str]) -> pd.DataFrame:
    """A table the folder does not have: no rows, the typed columns."""
    frame = pd.DataFrame({c: pd.Series(dtype=_EMPTY.get(kind, object)) for c, kind in columns.items()})
    return frame.assign(censor=pd.Series(dtype=object)) if "value" in columns else frame


def _read(path: Path, name: str, columns: dict[str, str]) -> pd.DataFrame:
    header = pd.read_csv(path, nrows=0, encoding="utf-8-sig").columns
    actual = {c.strip().lower(): c for c in header}
    present = [c for c in columns if c in actual]
    frame = pd.read_csv(
        path, encoding="utf-8-sig", usecols=[actual[c] for c in present],
        dtype={actual[c]: ("category" if columns[c] in _CATEGORY else _DTYPE[columns[c]]) for c in present},
        keep_default_na=False, na_values=[""],   # "None" is a PGA, "NA" may be a centre
    ).rename(columns={actual[c]: c for c in present})
    out = {}
    for column, kind in columns.items():
        if column not in frame:  # an optional column the file does not have: all empty
            out[column] = pd.Series(index=frame.index, dtype=_EMPTY.get(kind, object))
            continue
        raw = frame[column]
        if kind == "date":
            out[column] = pd.to_datetime(raw, format="%Y-%m-%d")
        elif kind == "number":
            out[column] = raw
        elif kind == "lab_value":
            out["value"], out["censor"] = _lab_value(raw)
        elif kind == "lab_unit":
            continue  # after the test: the unit's spelling depends on it
        elif kind in _CATEGORY:
            out[column] = _canonical(raw, _table(name, column, kind), f"{name}.csv", column, kind)
        else:
            out[column] = raw
    if "unit" in columns:
        out["unit"] = _lab_units(frame["unit"], frame["test"], path.name)
    return pd.DataFrame(out)


# --------------------------------------------------------------------------- vocabularies

def _keys(values: pd.Index) -> pd.Index:
    """``cnotrack.vocabulary.normalise_key`` on an Index of distinct spellings."""
    return values.str.strip().str.lower().str.replace("_", " ").str.replace(r"\s+", " ", regex=True)


def _canonical(raw: pd.Series, table: dict, file: str, column: str, kind: str) -> pd.Series:
    """Each cell's canonical value (object; None where empty), through the categories."""
    categories = raw.cat.categories.astype(str)
    keys = categories.str.strip().str.lower() if kind == "boolean" else _keys(categories)
    canonical = pd.Series(keys).map(table)
    unknown = categories[canonical.isna().to_numpy()]
    if len(unknown):  # read_csv's categories are the spellings that occur
        raise ValueError(f"{file}, column {column}: {', '.join(map(repr, unknown[:5]))} not understood")
    values = np.append(canonical.to_numpy(object), None)  # code -1 (empty cell) -> the last: None
    return pd.Series(values[raw.cat.codes.to_numpy()], index=raw.index, dtype=object)


@cache
def _data(relative: str) -> dict:
    """A data file of the cnotrack package, found without importing the package."""
    package = Path(importlib.util.find_spec("cnotrack").submodule_search_locations[0])
    return yaml.safe_load((package / relative).read_text("utf-8"))


def _format() -> dict:
    return {t["name"]: {c["name"]: c for c in t["columns"]} for t in _data("exchange/format.yaml")["tables"]}


def _synonyms(entries: list[dict], key: str) -> dict[str, str]:
    local = lambda e: [s for names in e.get("local_names", {}).values() for s in names]  # noqa: E731
    return {_normalise(s): e[key] for e in entries for s in (e[key], *e.get("synonyms", ()), *local(e))}


def _lab_tests() -> list[dict]:
    return _data("vocabularies/labs.yaml")["tests"]


def _unit_lookup(test: dict) -> dict[str, str]:
    """``LabTest.unit_lookup``: each accepted unit spelling (lower case, no spaces) -> the unit."""
    table = {_unit_key(u): u for u in test["units"]}
    table.update({_unit_key(s): u for s, u in test.get("unit_synonyms", {}).items()})
    return table


def _unit_key(unit: str) -> str:
    return "".join(unit.strip().lower().split())


def _normalise(value: str) -> str:
    return " ".join(value.strip().lower().replace("_", " ").split())


@cache
def _table(name: str, column: str, kind: str) -> dict:
    if kind == "drug":
        return _synonyms(_data("vocabularies/drugs.yaml")["drugs"], "name")
    if kind == "lab_test":
        return _synonyms(_lab_tests(), "code")
    if kind == "bone":
        return _synonyms(_data("vocabularies/anatomy.yaml")["bones"], "name")
    if kind == "boolean":
        return {**{w: True for w in _TRUE}, **{w: False for w in _FALSE}}
    spec = _format()[name][column]
    table = {_normalise(c): c for c in spec["choices"]}
    table.update({_normalise(a): c for a, c in spec.get("aliases", {}).items()})
    return table


def _lab_units(raw: pd.Series, test: pd.Series, file: str) -> pd.Series:
    """Each lab unit in its canonical spelling for the row's test (``mg/dl`` -> ``mg/dL``): a
    table of (test spelling, unit spelling) -> unit, taken to the rows by the two category codes."""
    tests = {t["code"]: _unit_lookup(t) for t in _lab_tests()}
    test_codes = pd.Series(_keys(test.cat.categories.astype(str))).map(_table("labs", "test", "lab_test"))
    unit_keys = pd.Series(raw.cat.categories.astype(str).str.lower().str.replace(r"\s+", "", regex=True))
    table = np.full((len(test_codes) + 1, len(unit_keys) + 1), None, dtype=object)
    for i, code in enumerate(test_codes):  # a loop over the spellings of tests, not over rows
        if code in tests:
            table[i, :-1] = unit_keys.map(tests[code]).to_numpy(object)
    unit = table[test.cat.codes.to_numpy(), raw.cat.codes.to_numpy()]
    if pd.isna(unit).any() and raw.notna().to_numpy()[pd.isna(unit)].any():
        raise ValueError(f"{file}, column unit: a unit that does not suit its test")
    return pd.Series(unit, index=raw.index, dtype=object)


def _lab_value(raw: pd.Series) -> tuple[pd.Series, pd.Series]:
    """``<0.5`` -> (0.5, "<"); ``12`` -> (12.0, None); parsed once per distinct spelling."""
    text = pd.Series(raw.cat.categories.astype(str))
    censor = text.str.extract(r"^\s*([<>])", expand=False)
    number = pd.to_numeric(text.str.replace(r"^\s*[<>]=?\s*", "", regex=True))
    codes = raw.cat.codes.to_numpy()
    value = np.append(number.to_numpy(float), np.nan)[codes]
    censor = np.append(censor.astype(object).where(censor.notna(), None).to_numpy(object), None)[codes]
    return pd.Series(value, index=raw.index), pd.Series(censor, index=raw.index, dtype=object)
