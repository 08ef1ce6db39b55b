"""The course chart: one SVG, one time axis, with lanes from top to bottom for the treatment
courses (a bar per course, coloured by drug class, a tick per single administration), ESR and
CRP (each with a dashed line at its upper limit; a censored value such as <0.5 drawn as an open
triangle pointing the way the true value lies), the physician's global assessment in words,
PGA and VAS on 0-10, and the imaging studies as markers.

Every text is escaped (``cnotrack.figures._svg``); the figure scales with its ``viewBox``; its
size is linear in the patient's records (one element or two per record)."""

from __future__ import annotations

from xml.sax.saxutils import escape

from ...figures._svg import FONT, attrs, num, text
from ...figures.palette import INK
from .axis import TimeAxis, time_axis
from .colours import SERIES
from .model import PGA_LEVELS, VAS_SERIES, Course, LabSeries

__all__ = ["WIDTH", "course_summary", "course_svg"]

WIDTH = 960.0
_LEFT, _RIGHT = 170.0, WIDTH - 20
_ROW, _GAP, _PANEL = 20.0, 18.0, 84.0
_MUTED, _GRID = "#555555", "#D9D9D9"


def _short(name: str, limit: int = 24) -> str:
    return name if len(name) <= limit else name[: limit - 1] + "…"


def _title(content: str) -> str:
    return f"<title>{escape(content)}</title>"


def _marker(shape: str, x: float, y: float, colour: str, tip: str, *, hollow: bool = False, r: float = 4.0) -> str:
    fill = "#ffffff" if hollow else colour
    paint = {"fill": fill, "stroke": colour, "stroke_width": "1.5"}
    if shape == "square":
        return f"<rect{attrs(x=x - r, y=y - r, width=2 * r, height=2 * r, **paint)}>{_title(tip)}</rect>"
    if shape in ("triangle", "down"):
        s = 1 if shape == "triangle" else -1
        pts = f"{num(x)},{num(y - s * r * 1.2)} {num(x + r * 1.1)},{num(y + s * r * 0.8)} {num(x - r * 1.1)},{num(y + s * r * 0.8)}"
        return f"<polygon{attrs(points=pts, **paint)}>{_title(tip)}</polygon>"
    if shape == "diamond":
        pts = f"{num(x)},{num(y - r * 1.4)} {num(x + r * 1.4)},{num(y)} {num(x)},{num(y + r * 1.4)} {num(x - r * 1.4)},{num(y)}"
        return f"<polygon{attrs(points=pts, **paint)}>{_title(tip)}</polygon>"
    return f"<circle{attrs(cx=x, cy=y, r=r, **paint)}>{_title(tip)}</circle>"


def _lane_label(y: float, label: str, *, sub: str | None = None) -> list[str]:
    out = [text(_LEFT - 8, y, label, size=12, anchor="end", weight="bold")]
    if sub:
        out.append(text(_LEFT - 8, y + 14, sub, size=10, anchor="end", fill=_MUTED))
    return out


def _treatments(course: Course, axis: TimeAxis, y: float) -> tuple[list[str], float]:
    if not course.drug_rows:
        return [], y
    out = _lane_label(y + 12, "Treatments") if len(course.drug_rows) > 1 else []
    row_of = {drug: i for i, drug in enumerate(course.drug_rows)}
    top = y + (18 if out else 0)
    for drug, i in row_of.items():
        cy = top + i * _ROW + _ROW / 2
        out.append(f'<line{attrs(x1=_LEFT, x2=_RIGHT, y1=cy, y2=cy, stroke=_GRID, stroke_width="1")}/>')
        out.append(text(_LEFT - 8, cy + 4, _short(drug), size=11, anchor="end"))
    for t in course.treatments:
        if t["start_date"] is None:
            continue
        cy = top + row_of[t["drug"]] * _ROW + _ROW / 2
        x0 = axis.x(t["start_date"])
        x1 = axis.x(t["stop_date"]) if t["stop_date"] else axis.x(axis.last)
        span = f"{t['start_date']} to {t['stop_date']}" if t["stop_date"] else f"from {t['start_date']}, ongoing"
        why = f", stopped for {t['stop_reason'].replace('_', ' ')}" if t.get("stop_reason") else ""
        tip = f"{t['drug']} ({t['class_label']}): {span}{why}"
        out.append(f"<rect{attrs(class_='course-bar', x=x0, y=cy - 6, width=max(x1 - x0, 3.0), height=12.0, rx='2', fill=t['colour'])}>"
                   f"{_title(tip)}</rect>")
        if not t["stop_date"]:  # ongoing: an arrow head at the axis end
            pts = f"{num(x1)},{num(cy - 8)} {num(x1 + 9)},{num(cy)} {num(x1)},{num(cy + 8)}"
            out.append(f"<polygon{attrs(points=pts, fill=t['colour'])}>{_title(tip)}</polygon>")
    for a in course.administrations:
        if a["date"] is None:
            continue
        cy = top + row_of[a["drug"]] * _ROW + _ROW / 2
        x = axis.x(a["date"])
        dose = " ".join(str(v) for v in (a.get("dose"), a.get("dose_unit"), a.get("route")) if v not in (None, ""))
        tip = f"{a['drug']} ({a['class_label']}) given on {a['date']}" + (f": {dose}" if dose else "")
        out.append(f"<line{attrs(class_='course-tick', x1=x, x2=x, y1=cy - 9, y2=cy + 9, stroke=a['colour'], stroke_width='3')}>"
                   f"{_title(tip)}</line>")
    return out, top + len(row_of) * _ROW + _GAP


def _nice(value: float) -> float:
    """The smallest of 1, 2, 2.5, 5 times a power of ten at or above ``value`` (1 for nothing)."""
    if value <= 0:
        return 1.0
    return min(s * 10 ** p for s in (1, 2, 2.5, 5) for p in range(-3, 7) if s * 10 ** p >= value)


def _panel_frame(y: float, top: float) -> list[str]:
    return [f'<line{attrs(x1=_LEFT, x2=_LEFT, y1=y, y2=y + _PANEL, stroke=INK, stroke_width="1")}/>',
            f'<line{attrs(x1=_LEFT, x2=_RIGHT, y1=y + _PANEL, y2=y + _PANEL, stroke=_GRID, stroke_width="1")}/>',
            text(_LEFT - 4, y + 4, f"{num(top)}", size=10, anchor="end", fill=_MUTED),
            text(_LEFT - 4, y + _PANEL, "0", size=10, anchor="end", fill=_MUTED)]


def _lab_panel(series: LabSeries, axis: TimeAxis, y: float) -> tuple[list[str], float]:
    rows = [r for r in series.rows if r["value"] is not None]
    limits = [r["limit"] for r in rows if r["limit"] is not None]
    top = _nice(max([r["value"] for r in rows] + limits + [0.0]) * 1.1)
    at = lambda v: y + _PANEL - v / top * _PANEL
    colour, shape = SERIES[series.test]
    out = _lane_label(y + 34, series.test, sub=series.unit) + _panel_frame(y, top)
    runs: list[list] = []  # the limit's steps: [limit, first date, last date], a step between two values
    for r in rows:
        if r["limit"] is None:
            continue
        if runs and runs[-1][0] == r["limit"]:
            runs[-1][2] = r["date"]
        else:
            runs.append([r["limit"], r["date"], r["date"]])
    for i, (limit, _, last) in enumerate(runs):
        x0 = _LEFT if i == 0 else (axis.x(runs[i - 1][2]) + axis.x(runs[i][1])) / 2
        x1 = _RIGHT if i == len(runs) - 1 else (axis.x(last) + axis.x(runs[i + 1][1])) / 2
        source = next(r["limit_source"] for r in rows if r["limit"] == limit)
        tip = f"{series.test} upper limit {num(limit)} {series.unit} ({source})"
        out.append(f"<line{attrs(class_='course-limit', x1=x0, x2=x1, y1=at(limit), y2=at(limit), stroke=INK, stroke_width='1.5', stroke_dasharray='6 4')}>"
                   f"{_title(tip)}</line>")
        if x1 - x0 >= 100:
            out.append(text(x0 + 4, at(limit) - 4, f"upper limit {num(limit)}", size=10, fill=_MUTED))
    if len(rows) > 1:
        pts = " ".join(f"{num(axis.x(r['date']))},{num(at(r['value']))}" for r in rows)
        out.append(f"<polyline{attrs(points=pts, fill='none', stroke=colour, stroke_width='1.5')}/>")
    for r in rows:
        shown = f"{r['censor'] or ''}{num(r['value'])} {series.unit}"
        above = r["limit"] is not None and (r["value"] >= r["limit"] if r["censor"] == ">" else r["value"] > r["limit"])
        tip = (f"{series.test} {shown} on {r['date']}" + (f" (recorded {r['recorded']})" if r["recorded"] != shown else "")
               + (f"; upper limit {num(r['limit'])} ({r['limit_source']})" if r["limit"] is not None else "; no limit")
               + ("; above the limit" if above else ""))
        if r["censor"] in ("<", ">"):
            out.append(_marker("down" if r["censor"] == "<" else "triangle", axis.x(r["date"]), at(r["value"]), colour,
                               tip, hollow=True, r=4.5))
        else:
            out.append(_marker(shape, axis.x(r["date"]), at(r["value"]), colour, tip))
    return out, y + _PANEL + _GAP


def _pga_panel(course: Course, axis: TimeAxis, y: float) -> tuple[list[str], float]:
    visits = [v for v in course.visits if v.get("pga") in PGA_LEVELS]
    if not visits:
        return [], y
    height = 14.0 * (len(PGA_LEVELS) - 1)
    out = [text(_LEFT - 64, y + height / 2 + 4, "PGA", size=12, anchor="end", weight="bold")]
    for i, level in enumerate(PGA_LEVELS):
        ly = y + height - i * 14
        out.append(f'<line{attrs(x1=_LEFT, x2=_RIGHT, y1=ly, y2=ly, stroke=_GRID, stroke_width="1")}/>')
        out.append(text(_LEFT - 4, ly + 3, level, size=9, anchor="end", fill=_MUTED))
    colour, shape = SERIES["pga"]
    for v in visits:
        out.append(_marker(shape, axis.x(v["date"]), y + height - PGA_LEVELS.index(v["pga"]) * 14, colour,
                           f"PGA {v['pga']} on {v['date']}"))
    return out, y + height + _GAP


def _vas_panel(course: Course, axis: TimeAxis, y: float) -> tuple[list[str], float]:
    if not any(v.get(c) is not None for v in course.visits for c in VAS_SERIES):
        return [], y
    at = lambda v: y + _PANEL - v / 10 * _PANEL
    out = _lane_label(y + 34, "VAS", sub="0 to 10") + _panel_frame(y, 10.0)
    for column, label in VAS_SERIES.items():
        colour, shape = SERIES[column]
        points = [(v["date"], v[column]) for v in course.visits if v.get(column) is not None]
        if len(points) > 1:
            pts = " ".join(f"{num(axis.x(d))},{num(at(value))}" for d, value in points)
            out.append(f"<polyline{attrs(points=pts, fill='none', stroke=colour, stroke_width='1.2')}/>")
        for d, value in points:
            out.append(_marker(shape, axis.x(d), at(value), colour, f"{label}: {num(float(value))} on {d}"))
    legend_x = _LEFT + 8
    for column, label in VAS_SERIES.items():
        colour, shape = SERIES[column]
        out.append(_marker(shape, legend_x, y + _PANEL + 12, colour, label, r=3.5))
        out.append(text(legend_x + 8, y + _PANEL + 16, label, size=10))
        legend_x += 12 + len(label) * 5.6 + 16
    return out, y + _PANEL + 20 + _GAP


def _scans(course: Course, axis: TimeAxis, y: float) -> tuple[list[str], float]:
    if not course.studies:
        return [], y
    out = _lane_label(y + 12, "Scans")
    colour, shape = SERIES["scan"]
    for s in course.studies:
        out.append(_marker(shape, axis.x(s["date"]), y + 8, colour,
                           f"{s['modality'].replace('_', ' ')} {s['study_id']} on {s['date']}", r=5))
    return out, y + 26


def _axis(axis: TimeAxis, y: float, top: float) -> list[str]:
    out = [f'<line{attrs(x1=_LEFT, x2=_RIGHT, y1=y, y2=y, stroke=INK, stroke_width="1")}/>']
    for date, label in axis.ticks():
        x = axis.x(date)
        out.append(f'<line{attrs(x1=x, x2=x, y1=top, y2=y, stroke=_GRID, stroke_width="0.8")}/>')
        out.append(f'<line{attrs(x1=x, x2=x, y1=y, y2=y + 5, stroke=INK, stroke_width="1")}/>')
        out.append(text(x, y + 18, label, size=11, anchor="middle"))
    return out


def course_summary(course: Course) -> str:
    """The chart in one sentence (its accessible name)."""
    if not course.dates:
        return "Course chart: nothing dated is recorded yet"
    first, last = min(course.dates), max(course.dates)
    parts = [f"{len(course.treatments)} treatment course{'s' if len(course.treatments) != 1 else ''}"
             + (f" ({', '.join(dict.fromkeys(t['drug'] for t in course.treatments))})" if course.treatments else ""),
             f"{len(course.administrations)} single administration{'s' if len(course.administrations) != 1 else ''}",
             *(f"{len(s.rows)} {s.test} value{'s' if len(s.rows) != 1 else ''}" for s in course.labs),
             f"{len(course.visits)} visit{'s' if len(course.visits) != 1 else ''}",
             f"{len(course.studies)} scan{'s' if len(course.studies) != 1 else ''}"]
    return f"Course chart from {first} to {last}: " + ", ".join(parts) + ". The table below gives every value."


def course_svg(course: Course) -> str:
    """The chart as an inline SVG element (``role="img"``, named by :func:`course_summary`)."""
    axis = time_axis(course.dates, _LEFT, _RIGHT)
    if axis is None:
        return ""
    body: list[str] = []
    y = 12.0
    for part in (lambda y: _treatments(course, axis, y),
                 *(lambda y, s=s: _lab_panel(s, axis, y) for s in course.labs),
                 lambda y: _pga_panel(course, axis, y),
                 lambda y: _vas_panel(course, axis, y),
                 lambda y: _scans(course, axis, y)):
        drawn, y = part(y)
        body += drawn
    body = _axis(axis, y + 4, 12.0) + body
    height = y + 30
    summary = course_summary(course)
    return (f'<svg xmlns="http://www.w3.org/2000/svg" class="course-chart" viewBox="0 0 {num(WIDTH)} {num(height)}" '
            f'role="img"{attrs(aria_label=summary, font_family=FONT)}>{_title(summary)}'
            f'<rect width="{num(WIDTH)}" height="{num(height)}" fill="#ffffff"/>' + "".join(body) + "</svg>")
