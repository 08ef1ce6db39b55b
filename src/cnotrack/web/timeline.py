"""A patient's course in date order, and how complete each patient's data is."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from ..exchange.dataset import Dataset
from ..figures._svg import modality_label

__all__ = ["COMPLETENESS_ITEMS", "completeness", "completeness_rows", "patient_timeline"]

#: What a patient's record should hold for an evaluation, as (label, test on the dataset).
COMPLETENESS_ITEMS = ("birth date", "onset date", "diagnosis date", "treatments", "visits", "labs", "imaging",
                      "lesions")


def completeness_rows(dataset: Dataset) -> list[dict[str, Any]]:
    """Per patient: how many records of each kind, and which of :data:`COMPLETENESS_ITEMS` are there."""
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for table in ("treatments", "assessments", "labs", "imaging", "adverse_events"):
        frame = dataset[table]
        if frame.height:
            for pid, n in frame.group_by("patient_id").len().iter_rows():
                counts[pid][table] = n
    lesions = dataset["lesions"].join(dataset["imaging"].select("study_id", "patient_id"), on="study_id", how="inner")
    if lesions.height:
        for pid, n in lesions.group_by("patient_id").len().iter_rows():
            counts[pid]["lesions"] = n
    return [completeness(p, counts[p["patient_id"]]) for p in dataset.patients.sort("patient_id").iter_rows(named=True)]


def completeness(patient: Mapping[str, Any], counts: Mapping[str, int]) -> dict[str, Any]:
    """One patient's row of the cohort list, from their record (``patient_id``, ``sex``,
    ``center``, the three dates) and their count of records per table (``lesions`` those of
    their imaging studies): ``counts``, ``missing`` (of :data:`COMPLETENESS_ITEMS`) and
    ``complete_percent``."""
    c = {k: n for k, n in counts.items() if n}
    present = {"birth date": patient["birth_date"] is not None, "onset date": patient["onset_date"] is not None,
               "diagnosis date": patient["diagnosis_date"] is not None, "treatments": c.get("treatments", 0) > 0,
               "visits": c.get("assessments", 0) > 0, "labs": c.get("labs", 0) > 0,
               "imaging": c.get("imaging", 0) > 0, "lesions": c.get("lesions", 0) > 0}
    return {"patient_id": patient["patient_id"], "sex": patient["sex"], "center": patient["center"], "counts": c,
            "missing": [k for k, ok in present.items() if not ok],
            "complete_percent": round(100 * sum(present.values()) / len(present))}


def _fmt(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else f"{value:g}"
    return str(value).replace("_", " ")


def patient_timeline(records: dict[str, list[dict[str, Any]]], lesions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Treatments, visits, labs (one entry per date), scans and adverse events, oldest first.

    Each entry: ``date``, ``kind``, ``text``, and ``links`` as (label, table, record id)."""
    events: list[dict[str, Any]] = []

    def add(date: dt.date | None, kind: str, text: str, links: list[tuple[str, str, int]], order: int,
            url: str | None = None) -> None:
        events.append({"date": date, "kind": kind, "text": text, "links": links, "order": order, "url": url})

    for t in records.get("treatments", []):
        dose = " ".join(x for x in (_fmt(t["dose"]), _fmt(t["dose_unit"]), _fmt(t["route"])) if x)
        add(t["start_date"], "treatment", f"Started {t['drug']}" + (f" ({dose})" if dose else ""),
            [("edit", "treatments", t["id"])], 1)
        if t["stop_date"] is not None:
            reason = f" ({_fmt(t['stop_reason'])})" if t["stop_reason"] else ""
            add(t["stop_date"], "treatment", f"Stopped {t['drug']}{reason}", [("edit", "treatments", t["id"])], 5)
    for a in records.get("assessments", []):
        parts = [f"PGA {_fmt(a['pga'])}" if a["pga"] else "",
                 f"pain VAS {_fmt(a['pain_vas'])}" if a["pain_vas"] is not None else "",
                 f"CHAQ-DI {_fmt(a['chaq_di'])}" if a["chaq_di"] is not None else "",
                 "bone pain" if a["bone_pain"] else "", "fever" if a["fever"] else ""]
        add(a["date"], "visit", "Visit" + (": " + ", ".join(p for p in parts if p) if any(parts) else ""),
            [("edit", "assessments", a["id"])], 2)
    by_date: dict[dt.date, list[dict[str, Any]]] = defaultdict(list)
    for lab in records.get("labs", []):
        by_date[lab["date"]].append(lab)
    for date, labs in by_date.items():
        text = "Labs: " + ", ".join(f"{lab['test']} {lab['censor'] or ''}{_fmt(lab['value'])} {lab['unit']}"
                                    for lab in sorted(labs, key=lambda r: r["test"]))
        add(date, "labs", text, [(lab["test"], "labs", lab["id"]) for lab in sorted(labs, key=lambda r: r["test"])], 3)
    counts: dict[str, int] = defaultdict(int)
    for lesion in lesions:
        counts[lesion["study_id"]] += 1
    for s in records.get("imaging", []):
        n = counts[s["study_id"]]
        add(s["date"], "scan", f"{modality_label(s['modality']).capitalize()} {s['study_id']}: "
            f"{n} lesion{'s' if n != 1 else ''} charted", [("edit", "imaging", s["id"])], 4, url=f"/imaging/{s['id']}")
    for e in records.get("adverse_events", []):
        grade = f", grade {e['grade']}" if e["grade"] is not None else ""
        serious = ", serious" if e["serious"] else ""
        add(e["onset_date"], "adverse event", f"Adverse event: {e['term']}{grade}{serious}",
            [("edit", "adverse_events", e["id"])], 6)
    events.sort(key=lambda e: (e["date"] or dt.date.min, e["order"]))
    return events
