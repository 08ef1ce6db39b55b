"""A patient's status for a protocol, read from the protocol's cached evaluation (one per state
of the data, user scope and protocol: ``web.evaluation_cache``), never evaluated per patient:
eligible, or excluded with the cohort's reason per criterion; the values chosen at each
timepoint (with their date, censoring and the limit each lab value was judged by); the changes
and lesion fates between timepoints; and each per-patient response endpoint (true / false /
not known)."""

from __future__ import annotations

import re
from typing import Any

import polars as pl

from ...engine import Evaluation
from ...protocols.model import Proportion

__all__ = ["patient_status"]

_VALUE = re.compile(r"^(?P<m>[^@>()\[\]]+)@(?P<tp>[A-Za-z0-9_]+)$")
_CHANGE = re.compile(r"^(?P<kind>p?change)\((?P<m>[^)]+)\)@(?P<a>[A-Za-z0-9_]+)>(?P<b>[A-Za-z0-9_]+)$")
_FATES = re.compile(r"^(?P<a>[A-Za-z0-9_]+)>(?P<b>[A-Za-z0-9_]+)\.(?P<fate>resolved|stable|improved|worsened|new)$")
_SKIP = {"study", "lesions"}  # said better by the fates and counts below


def _fmt(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else f"{value:.3g}" if abs(value) < 1000 else f"{value:.0f}"
    return str(value).replace("_", " ")


def _words(measure: str) -> str:
    return {"pga_vas": "PGA (VAS)", "pain_vas": "pain VAS", "patient_global_vas": "patient global VAS",
            "chaq_di": "CHAQ-DI", "pga": "PGA"}.get(measure, measure.replace("_", " "))


def _timepoints(evaluation: Evaluation, row: dict[str, Any]) -> list[dict[str, Any]]:
    labels = {t.id: t.label for t in evaluation.protocol.timepoints}
    out = {tid: {"id": tid, "label": label, "measures": [], "changes": [], "fates": []} for tid, label in labels.items()}
    for column, value in row.items():
        if value is None:
            continue
        if m := _VALUE.match(column):
            if m["tp"] in out and m["m"] not in _SKIP:
                extra = {k: row.get(f"{column}.{k}") for k in ("censor", "date", "limit", "limit_source")}
                shown = f"{extra['censor'] or ''}{_fmt(value)}"
                out[m["tp"]]["measures"].append({"measure": _words(m["m"]), "value": shown, **extra})
        elif m := _CHANGE.match(column):
            if m["b"] in out:
                what = "change" if m["kind"] == "change" else "% change"
                out[m["b"]]["changes"].append({"measure": _words(m["m"]), "what": f"{what} since {labels.get(m['a'], m['a'])}",
                                               "value": _fmt(value)})
        elif (m := _FATES.match(column)) and m["b"] in out and value:
            out[m["b"]]["fates"].append(f"{_fmt(value)} {m['fate']} since {labels.get(m['a'], m['a'])}")
    return [t for t in out.values() if t["measures"] or t["changes"] or t["fates"]]


def patient_status(evaluation: Evaluation, patient_id: str) -> dict[str, Any]:
    """The status of ``patient_id`` in ``evaluation``: ``protocol`` (id, title), ``state``
    (``eligible``, ``excluded`` or ``absent``: not among the evaluated patients), ``reasons``
    (one per criterion not met), ``index`` (drug, class, date), ``timepoints`` and ``responses``
    (label, value: yes / no / not known)."""
    protocol = evaluation.protocol
    base: dict[str, Any] = {"protocol": protocol.id, "title": protocol.title, "reasons": [], "index": None,
                            "timepoints": [], "responses": []}
    rows = evaluation.patients.filter(pl.col("patient_id") == patient_id)
    if rows.height:
        row = rows.row(0, named=True)
        responses = []
        for e in protocol.endpoints:
            if isinstance(e, Proportion) and e.id in row:
                among = row.get(f"{e.id}.among", True)
                if among is False:
                    continue  # the endpoint does not count this patient
                value = row[e.id]
                responses.append({"id": e.id, "label": e.label,
                                  "value": "not known" if value is None else "yes" if value else "no"})
        return {**base, "state": "eligible", "responses": responses, "timepoints": _timepoints(evaluation, row),
                "index": {"drug": row.get("index_drug"), "class": row.get("index_class"), "date": row.get("index_date")}}
    excluded = evaluation.cohort.excluded.filter(pl.col("patient_id") == patient_id)
    if excluded.height:
        reasons = [r for r in excluded["reason"][0].split("; ") if r]
        return {**base, "state": "excluded", "reasons": reasons}
    return {**base, "state": "absent"}
