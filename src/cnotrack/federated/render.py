"""The combined result in words and tables: text, JSON, Markdown (HTML and PDF in ``report.py``).

Every output has the same parts as the single-centre report: the cohort, a centres table (each
centre's size, its ``min_cell_count`` and how many cells it suppressed), the outcomes with the
pooled figure beside each centre's own, the paired tests, the time-to-event analyses and the
comparisons of groups. An
approximate number says so with its bin width; a centre-stratified test is named as such.
A suppressed cell shows as ``suppressed``, not ``<k``: a cell hidden as a complement may hold
any count, and the file does not say which cells were below the threshold (saying so would
narrow the hidden counts).
"""

from __future__ import annotations

import json
from typing import Any

from ..report.model import NO_ADVICE
from ..statistics.group_test import NAMES
from ..statistics.paired import format_p
from .combine import Combined
from .disclosure import is_suppressed

__all__ = ["Table", "combined_json", "combined_markdown", "combined_tables", "combined_text", "summary_lines"]

Table = dict[str, Any]   # {"id", "title", "header": [...], "rows": [[...]], "notes": [...]}


SUPPRESSED_WORD = "suppressed"


def _cell(value: Any, k: int) -> str:
    if is_suppressed(value):
        return SUPPRESSED_WORD
    return "" if value is None else str(value)


def _pct(yes: int, of: int) -> str:
    return "n/a" if of == 0 else f"{100 * yes / of:.1f}%"


def _num(x: float | None, digits: int = 2) -> str:
    return "n/a" if x is None else f"{x:.{digits}f}"


def _centre_figure(kind: str, figure: dict[str, Any], k: int) -> str:
    if kind == "proportion":
        if any(is_suppressed(figure[x]) for x in ("yes", "of")):
            return f"{_cell(figure['yes'], k)} of {_cell(figure['of'], k)}"
        return f"{figure['yes']} of {figure['of']} ({_pct(figure['yes'], figure['of'])})"
    if kind == "count":
        return _cell(figure["value"], k)
    if kind == "distribution":
        return f"n = {_cell(figure['n'], k)}"
    return f"{_cell(figure['events'], k)} events in {_cell(figure['n'], k)}"


def _change_test(test: dict[str, Any] | None) -> str:
    """A change's pooled signed-rank test, named as the centre-stratified test it is."""
    if not test:
        return ""
    name = "stratified Wilcoxon signed-rank (by centre)"
    if test.get("p_value") is None:
        return f"; {name}: {test.get('note') or 'not made'}"
    return f"; {name}, {format_p(test['p_value'])}"


def _pooled_words(e: dict[str, Any], inline: bool = False) -> tuple[str, str]:
    """The pooled figure and its interval or approximation label (``inline``: the label also in
    the figure, after a binned median, for tables without a column for it)."""
    p = e.get("pooled")
    if p is None:
        return e.get("note") or "not computable", e.get("approximate") or ""
    kind = e["kind"]
    if kind == "proportion":
        ci = p.get("ci95")
        ci_words = f"{100 * ci[0]:.1f}% to {100 * ci[1]:.1f}% (Clopper-Pearson, exact)" if ci else "no interval"
        missing = ("; missing count suppressed" if p["missing"] is None
                   else f", {p['missing']} missing" if p["missing"] else "")
        return f"{p['n']} of {p['of']} ({_pct(p['n'], p['of'])}){missing}", ci_words
    if kind == "count":
        return str(p["value"]), "exact"
    if kind == "distribution":
        test = _change_test(e.get("test"))
        if p.get("median") is None:
            return f"n = {p['n']}" + (f"; {e['note']}" if e.get("note") else "") + test, e["approximate"]
        unit = f" {p['unit']}" if p.get("unit") else ""
        label = f", {e['approximate']}" if inline else ""
        return (f"median {p['median']:.2f}{unit} (IQR {p['q1']:.2f} to {p['q3']:.2f}; n = {p['n']}){label}" + test,
                f"{e['approximate']}: within {e['bound']:g}")
    median = "not reached" if p["median_years"] is None else f"median {p['median_years']:.2f} years" + (
        f", {e['approximate']}" if inline else "")
    return f"{median}; {p['events']} events in {p['n']}", e["approximate"]


def _heterogeneity(e: dict[str, Any]) -> str:
    h = e.get("heterogeneity")
    if not h or h.get("q") is None:
        return (h or {}).get("note") or ""
    return f"Q = {h['q']:.2f} on {h['df']} df, {format_p(h['p_value'])}, I² = {h['i2_percent']:.0f}%"


def combined_tables(c: Combined) -> list[Table]:
    """The tables of the combined result: centres, outcomes, paired tests, time to event, comparisons."""
    k = {x["name"]: x["min_cell_count"] for x in c.centres}
    names = [x["name"] for x in c.centres]
    tables: list[Table] = [{
        "id": "centres", "title": "Centres", "header": ["Centre", "Eligible patients", "min_cell_count",
                                                         "Suppressed cells", "Dataset SHA-256"],
        "rows": [[x["name"], _cell(x["n"], x["min_cell_count"]), str(x["min_cell_count"]), str(x["suppressed"]),
                  x["dataset_sha256"][:16] + "…"] for x in c.centres],
        "notes": [("A cell shown as suppressed holds a count c with 0 < c < that centre's min_cell_count, or was "
                   "hidden with such a cell so that it cannot be recomputed from the totals.")]}]
    rows = []
    for e in c.endpoints.values():
        figure, interval = _pooled_words(e)
        rows.append([e["label"], figure, interval, _heterogeneity(e)]
                    + [_centre_figure(e["kind"], e["centres"][n], k[n]) for n in names])
    tables.append({"id": "outcomes", "title": "Outcomes, pooled and per centre",
                   "header": ["Endpoint", "Pooled", "95% CI or approximation", "Heterogeneity"] + names,
                   "rows": rows, "notes": [("Counts, proportions and their intervals are exact: the same as the "
                                            "evaluation of the pooled rows.")]})
    paired_rows = []
    for key, p in c.paired.items():
        pooled = p.get("pooled")
        if pooled is None:
            paired_rows.append([p["variable"], key.split(".")[0].replace("_vs_", " vs "), p.get("note") or "", "", ""])
            continue
        if p["test"] == "mcnemar_exact":
            words = f"b = {pooled['b']}, c = {pooled['c']} of {pooled['pairs']} pairs"
            method = "exact McNemar (pooled table; exact)"
        else:
            words = f"V = {_num(pooled['statistic'], 1)} over {pooled['pairs']} pairs"
            method = "stratified Wilcoxon signed-rank (by centre)"
        paired_rows.append([p["variable"], key.split(".")[0].replace("_vs_", " vs "), words,
                            format_p(pooled.get("p_value")), method])
    if paired_rows:
        tables.append({"id": "paired", "title": "Paired comparisons",
                       "header": ["Variable", "Timepoints", "Pooled", "p", "Method"], "rows": paired_rows,
                       "notes": []})
    surv_rows = []
    for key, s in c.survival.items():
        figure, label = _pooled_words(s | {"kind": "time_to_event"})
        surv_rows.append([s["label"], figure, label]
                         + [_centre_figure("time_to_event", s["centres"][n], k[n]) for n in names])
    if surv_rows:
        tables.append({"id": "time-to-event", "title": "Time to event (Kaplan-Meier)",
                       "header": ["Analysis", "Pooled", "Approximation"] + names, "rows": surv_rows,
                       "notes": [("Approximate: the Kaplan-Meier estimate of the times rounded up to the end of "
                                  "their bin.")]})
    for key, comp in c.comparisons.items():
        groups = comp["groups"]
        rows = []
        for e in comp["endpoints"].values():
            cells = []
            for g in groups:
                ge = e["groups"].get(g["id"], {})
                cells.append(_pooled_words(ge | {"kind": e["kind"]}, inline=True)[0] if ge.get("pooled") is not None
                             else (ge.get("note") or "not computable"))  # binned medians labelled in the cell
            test = e.get("test")
            if test:
                name = ("van Elteren (stratified by centre)" if e.get("stratified")
                        else NAMES.get(test.get("test", ""), test.get("test", "")))
                if e.get("approximate"):
                    name += f", {e['approximate']}"
                words = f"{name}, {format_p(test.get('p_value'))}" if test.get("p_value") is not None else \
                    f"{name}: {test.get('note') or 'not made'}"
            else:
                words = e.get("note") or ""
            rows.append([e["label"]] + cells + [words])
        tables.append({"id": f"comparison-{key}", "title": f"Comparison of groups: {comp['label']}",
                       "header": ["Endpoint"] + [f"{g['label']} (n = {g['n'] if g['n'] is not None else 'n/a'})"
                                                 for g in groups] + ["Test"],
                       "rows": rows, "notes": []})
    return tables


def summary_lines(c: Combined) -> list[str]:
    """The opening lines: what was combined, and the synthetic-data notice when it applies."""
    n = c.cohort.get("n")
    lines = [f"Protocol {c.protocol_id}, combined from {len(c.centres)} centre(s) by shared aggregates: "
             + (f"{n} eligible patients." if n is not None else "the pooled number of patients is suppressed.")]
    if c.synthetic.get("patients"):
        lines.insert(0, f"SYNTHETIC DATA: {c.synthetic['patients']} of {c.synthetic['of']} patients are synthetic "
                        "(marked synthetic in the data); they are not real patients.")
    return lines + c.notes


def combined_text(c: Combined) -> str:
    """The combined result as plain text."""
    out = summary_lines(c)
    for t in combined_tables(c):
        out += ["", t["title"], "-" * len(t["title"])]
        for row in t["rows"]:
            out.append("  " + " | ".join(f"{h}: {v}" if i else v for i, (h, v) in enumerate(zip(t["header"], row))))
        out += [f"  ({n})" for n in t["notes"]]
    return "\n".join(out + ["", NO_ADVICE]) + "\n"


def _md(value: str) -> str:
    return value.replace("|", "\\|").replace("<", "&lt;")


def combined_markdown(c: Combined) -> str:
    """The combined result as Markdown (a heading per table)."""
    out = [f"# Combined evaluation: {c.protocol_id}", ""] + [_md(x) for x in summary_lines(c)]
    for t in combined_tables(c):
        out += ["", f"## {t['title']}", "", "| " + " | ".join(_md(h) for h in t["header"]) + " |",
                "|" + "---|" * len(t["header"])]
        out += ["| " + " | ".join(_md(v) for v in row) + " |" for row in t["rows"]]
        out += [""] + [f"*{_md(n)}*" for n in t["notes"]]
    return "\n".join(out + ["", NO_ADVICE]) + "\n"


def combined_json(c: Combined) -> str:
    """The combined result as JSON text (``Combined.as_json``)."""
    return json.dumps(c.as_json(), indent=2, ensure_ascii=False) + "\n"
