"""A patient's course as the page draws it: treatment courses and administrations with their
drug class, ESR and CRP in canonical units with the upper limit each is judged by (the engine's
``canonical_labs``), PGA and VAS per visit, and the imaging studies.

The laboratory values are the engine's: converted to the test's canonical unit, each judged by
the laboratory's own upper limit when the row gives one, else by cnotrack's configured default
(``vocabularies/labs.yaml``: ESR 20 mm/h, CRP 5 mg/L); ``limit_source`` says which. A protocol
may set other defaults: its status below the chart shows the values as that protocol judged them."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import polars as pl

from ...engine.labs import canonical_labs
from ...protocols import builtin_protocols, load_protocol
from ...protocols.model import Protocol
from ...vocabulary import drugs, lab_tests
from .colours import class_colour

__all__ = ["CHARTED_LABS", "PGA_LEVELS", "VAS_SERIES", "Course", "LabSeries", "build_course"]

#: The laboratory tests charted, in order.
CHARTED_LABS = ("ESR", "CRP")
#: The physician's global assessment in words, lowest first (the exchange format's choices).
PGA_LEVELS = ("none", "minimal", "mild", "moderate", "severe")
#: The 0-10 scales of a visit: column -> label.
VAS_SERIES = {"pga_vas": "PGA (VAS 0-10)", "patient_global_vas": "patient global (VAS 0-10)",
              "pain_vas": "pain (VAS 0-10)"}


@dataclass
class LabSeries:
    """One test's values, oldest first: rows with ``date``, ``value``, ``censor``, ``unit``,
    ``limit``, ``limit_source``, ``id`` (``value`` None where the unit could not be converted)."""

    test: str
    label: str
    unit: str
    rows: list[dict[str, Any]]


@dataclass
class Course:
    """What the chart and its table show (every list oldest first)."""

    treatments: list[dict[str, Any]]          # + drug_class, class_label, colour, days
    administrations: list[dict[str, Any]]     # + drug_class, class_label, colour
    labs: list[LabSeries]
    visits: list[dict[str, Any]]
    studies: list[dict[str, Any]]
    drug_rows: list[str] = field(default_factory=list)   # the drugs, one chart row each
    dates: list[dt.date] = field(default_factory=list)   # every date the axis must hold


@cache
def _without_protocol_defaults() -> Protocol:
    """A protocol with no reference limits of its own: ``canonical_labs`` then judges a value
    by the laboratory's limit, else cnotrack's default."""
    return load_protocol(builtin_protocols()[0]).model_copy(update={"reference_limits": {}})


def _drug_facts(name: str) -> tuple[str | None, str]:
    vocabulary = drugs()
    try:
        key = vocabulary.drug(name).drug_class
    except KeyError:
        return None, "unknown class"
    return key, vocabulary.classes[key]


def _with_class(row: dict[str, Any]) -> dict[str, Any]:
    key, label = _drug_facts(row["drug"])
    return {**row, "drug_class": key, "class_label": label, "colour": class_colour(key)}


def _number(value: float | None) -> str:
    if value is None:
        return ""
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def _labs(rows: list[dict[str, Any]]) -> list[LabSeries]:
    wanted = [r for r in rows if r["test"] in CHARTED_LABS and r["date"] is not None]
    if not wanted:
        return []
    frame = pl.DataFrame(
        [{k: r[k] for k in ("id", "date", "test", "value", "censor", "unit", "ref_high")} | {"patient_id": ""}
         for r in wanted],
        schema={"id": pl.Int64, "date": pl.Date, "test": pl.String, "value": pl.Float64, "censor": pl.String,
                "unit": pl.String, "ref_high": pl.Float64, "patient_id": pl.String})
    converted = canonical_labs(frame, _without_protocol_defaults(), keep=("id",)).sort("date", "id")
    given = {r["id"]: r for r in wanted}
    out = []
    for code in CHARTED_LABS:
        test = lab_tests().test(code)
        series = converted.filter(pl.col("test") == code).to_dicts()
        for r in series:
            o = given[r["id"]]
            r["recorded"] = f"{o['censor'] or ''}{_number(o['value'])} {o['unit'] or ''}".strip()
        if series:
            out.append(LabSeries(code, test.label, test.canonical_unit, series))
    return out


def build_course(records: dict[str, list[dict[str, Any]]]) -> Course:
    """The course of one patient from their records (``patient_records``)."""
    treatments = sorted((_with_class(t) for t in records.get("treatments", [])),
                        key=lambda t: (t["start_date"] or dt.date.max, t["id"]))
    for t in treatments:
        t["days"] = (t["stop_date"] - t["start_date"]).days if t["start_date"] and t["stop_date"] else None
    given = sorted((_with_class(a) for a in records.get("administrations", [])),
                   key=lambda a: (a["date"] or dt.date.max, a["id"]))
    visits = sorted((v for v in records.get("assessments", []) if v["date"] is not None),
                    key=lambda v: (v["date"], v["id"]))
    studies = sorted((s for s in records.get("imaging", []) if s["date"] is not None),
                     key=lambda s: (s["date"], s["id"]))
    labs = _labs(records.get("labs", []))
    rows: list[str] = []
    for item in sorted([*((t["start_date"], t["drug"]) for t in treatments if t["start_date"]),
                        *((a["date"], a["drug"]) for a in given if a["date"])]):
        if item[1] not in rows:
            rows.append(item[1])
    dates = [*(t["start_date"] for t in treatments), *(t["stop_date"] for t in treatments),
             *(a["date"] for a in given), *(v["date"] for v in visits), *(s["date"] for s in studies),
             *(r["date"] for series in labs for r in series.rows)]
    return Course(treatments, given, labs, visits, studies, rows, [d for d in dates if d is not None])
