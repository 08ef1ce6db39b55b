"""A patient's course on one page (issue 14, item 2): the chart's bars, ticks, limits and
markers, the body maps' lesion fates and the protocol status, each checked against the
engine's own numbers for a small patient with known values; escaping of hostile text; center
isolation; a viewer sees no edit control; the page's size is linear in the patient's records."""

from __future__ import annotations

import datetime as dt
import re
from html import escape, unescape

import polars as pl
import pytest
import sqlalchemy as sa

from cnotrack import records
from cnotrack.engine.labs import canonical_labs
from cnotrack.engine.lesion_tracking import lesion_fates
from cnotrack.protocols import builtin_protocols, load_protocol
from cnotrack.web.course import (
    FATE_STYLE,
    SERIES,
    body_map_svg,
    build_course,
    contrast,
    course_svg,
    drug_class_legend,
    scan_maps,
)
from cnotrack.web.course.colours import BACKGROUNDS, MIN_CONTRAST
from cnotrack.web.services import cached_evaluation

#: A Rome patient with known values: two courses, a single administration, ESR judged by the
#: default and by the laboratory's limit, a CRP in mg/dL and a censored CRP, two visits, and two
#: scans (the second: one lesion persisting, one new, one resolved).
R3 = {
    "patients": [{"patient_id": "R3", "sex": "F", "birth_date": "2009-04", "center": "Rome"}],
    "treatments": [
        {"patient_id": "R3", "drug": "naproxen", "start_date": "2019-01-01", "stop_date": "2019-06-01",
         "stop_reason": "inefficacy"},
        {"patient_id": "R3", "drug": "anakinra", "start_date": "2019-06-15"}],
    "administrations": [{"patient_id": "R3", "drug": "pamidronate", "date": "2019-03-01", "dose": 1,
                         "dose_unit": "mg/kg", "route": "iv"}],
    "labs": [
        {"patient_id": "R3", "date": "2019-06-10", "test": "ESR", "value": 40, "unit": "mm/h"},
        {"patient_id": "R3", "date": "2019-06-10", "test": "CRP", "value": 2, "unit": "mg/dL"},
        {"patient_id": "R3", "date": "2019-12-10", "test": "ESR", "value": 10, "unit": "mm/h", "ref_high": 15},
        {"patient_id": "R3", "date": "2019-12-10", "test": "CRP", "value": 0.5, "censor": "<", "unit": "mg/L"}],
    "assessments": [
        {"patient_id": "R3", "date": "2019-06-10", "pga": "moderate", "pga_vas": 6, "pain_vas": 7},
        {"patient_id": "R3", "date": "2019-12-10", "pga": "minimal", "pga_vas": 1, "pain_vas": 2}],
    "imaging": [
        {"patient_id": "R3", "study_id": "R3-S1", "date": "2019-06-05", "modality": "bone_scintigraphy"},
        {"patient_id": "R3", "study_id": "R3-S2", "date": "2019-12-05", "modality": "bone_scintigraphy"}],
    "lesions": [
        {"study_id": "R3-S1", "bone": "femur", "side": "left", "segment": "diaphysis", "grade": 2},
        {"study_id": "R3-S1", "bone": "tibia", "side": "right", "segment": "distal_metaphysis", "grade": 1},
        {"study_id": "R3-S2", "bone": "femur", "side": "left", "segment": "diaphysis", "grade": 1},
        {"study_id": "R3-S2", "bone": "clavicle", "side": "left", "segment": "shaft"}],
}


@pytest.fixture
def r3(web):
    admin = web.accounts["admin"]
    for table, rows in R3.items():
        for row in rows:
            made = records.create_record(web.store, admin, table, row)
            web.ids.setdefault(("R3", table), made["id"])
    return web.ids[("R3", "patients")]


def _svg(html: str, css_class: str) -> list[str]:
    return re.findall(rf'<svg[^>]*class="{css_class}".*?</svg>', html, re.DOTALL)


def _titles(svg: str) -> list[str]:
    return [unescape(t) for t in re.findall(r"<title>(.*?)</title>", svg, re.DOTALL)]


def test_the_chart_shows_courses_ticks_limits_values_and_scans_as_the_engine_has_them(web, r3):
    page = web.client("rome").get(f"/patients/{r3}")
    assert page.status_code == 200
    [chart] = _svg(page.text, "course-chart")
    assert 'role="img"' in chart and 'viewBox="0 0 960 ' in chart
    assert "2 treatment courses (naproxen, anakinra), 1 single administration" in unescape(chart)
    titles = _titles(chart)
    # bars by drug class: the colour the legend gives the class
    colours = {key: colour for key, _, colour in drug_class_legend()}
    bars = re.findall(r'<rect class="course-bar"[^>]*fill="(#[0-9A-F]{6})"><title>([^<]*)', chart)
    assert [(c, unescape(t)) for c, t in bars] == [
        (colours["nsaid"], "naproxen (NSAID): 2019-01-01 to 2019-06-01, stopped for inefficacy"),
        (colours["biologic"], "anakinra (Biologic): from 2019-06-15, ongoing")]
    ticks = re.findall(r'<line class="course-tick"[^>]*stroke="(#[0-9A-F]{6})"', chart)
    assert ticks == [colours["bisphosphonate"]]
    assert "pamidronate (Bisphosphonate) given on 2019-03-01: 1.0 mg/kg iv" in titles
    # the limits and values are the engine's canonical ones (CRP 2 mg/dL = 20 mg/L)
    frame = pl.DataFrame(R3["labs"]).with_columns(pl.col("date").str.to_date(), pl.col("value").cast(pl.Float64),
                                                  pl.col("ref_high").cast(pl.Float64))
    engine = canonical_labs(frame, load_protocol("pedcno")).sort("date", "test").to_dicts()
    assert [(r["test"], r["value"], r["limit"], r["limit_source"]) for r in engine] == [
        ("CRP", 20.0, 5.0, "cnotrack default"), ("ESR", 40.0, 20.0, "cnotrack default"),
        ("CRP", 0.5, 5.0, "cnotrack default"), ("ESR", 10.0, 15.0, "laboratory")]
    limits = [t for t in titles if "upper limit" in t and " on " not in t]
    assert limits == ["ESR upper limit 20 mm/h (cnotrack default)", "ESR upper limit 15 mm/h (laboratory)",
                      "CRP upper limit 5 mg/L (cnotrack default)"]
    assert chart.count('class="course-limit"') == 3 and 'stroke-dasharray="6 4"' in chart
    assert ("CRP 20 mg/L on 2019-06-10 (recorded 2 mg/dL); upper limit 5 (cnotrack default); above the limit"
            in titles)
    # the censored value is drawn as such: an open triangle, its title <0.5
    assert "CRP <0.5 mg/L on 2019-12-10; upper limit 5 (cnotrack default)" in titles
    assert re.search(r'<polygon[^>]*fill="#ffffff"[^>]*><title>CRP &lt;0.5', chart)
    assert "PGA moderate on 2019-06-10" in titles and "pain (VAS 0-10): 7 on 2019-06-10" in titles
    scans = [t for t in titles if t.startswith("bone scintigraphy")]
    assert scans == ["bone scintigraphy R3-S1 on 2019-06-05", "bone scintigraphy R3-S2 on 2019-12-05"]
    # the data table says it all in words
    assert "<caption>C-reactive protein (CRP, mg/L)</caption>" in page.text and "&lt;0.5" in page.text


def test_body_maps_give_each_lesion_the_engines_fate_against_the_previous_scan(web, r3):
    page = web.client("rome").get(f"/patients/{r3}")
    maps = _svg(page.text, "course-body-map")
    assert len(maps) == 2 and page.text.count('<symbol id="course-skeleton"') == 1
    first, second = (_titles(m) for m in maps)
    assert first[0].startswith("Body map of bone scintigraphy R3-S1 of 2019-06-05 (first study): 2 present")
    engine = lesion_fates(pl.DataFrame(R3["lesions"][:2]), pl.DataFrame(R3["lesions"][2:]))
    assert sorted(engine["fate"].to_list()) == ["improved", "new", "resolved"]
    assert second[0] == ("Body map of bone scintigraphy R3-S2 of 2019-12-05 compared with R3-S1 of 2019-06-05: "
                         "1 new, 1 persisting, 1 resolved")
    assert sorted(second[1:]) == ["left clavicle shaft: new",
                                  "left femur diaphysis: persisting, improved (grade 2 to 1), grade 1",
                                  "right tibia distal metaphysis: resolved, grade 1"]
    colours = {fate: colour for fate, (_, colour, _) in FATE_STYLE.items()}
    assert f'stroke="{colours["resolved"]}"' in maps[1] and f'fill="{colours["new"]}"' in maps[1]


def test_every_colour_has_three_to_one_against_the_page_and_the_bones():
    colours = [c for _, _, c in drug_class_legend()] + [c for _, c, _ in FATE_STYLE.values()]
    colours += [c for c, _ in SERIES.values()]
    assert all(contrast(c, bg) >= MIN_CONTRAST for c in colours for bg in BACKGROUNDS), colours
    assert len({c for _, _, c in drug_class_legend()}) == len(drug_class_legend())


def test_the_protocol_status_is_the_cached_evaluations_row(web, r3):
    client = web.client("rome")
    page = client.get(f"/patients/{r3}")
    for name in builtin_protocols():
        assert f'hx-get="/patients/{r3}/protocols/{name}" hx-trigger="load"' in page.text
    cache, rome = web.app.state.evaluations, web.accounts["rome"]
    fragment = client.get(f"/patients/{r3}/protocols/pardeo2017").text
    computed = cache.computed
    evaluation = cached_evaluation(cache, web.store, rome, "pardeo2017", statistics=False).evaluation
    assert cache.computed == computed  # the fragment's evaluation was kept, and is this one
    assert evaluation.protocol.id == "pardeo2017" and evaluation.patients.height + evaluation.cohort.excluded.height
    row = evaluation.patients.filter(pl.col("patient_id") == "R3")
    if row.height:
        values = row.row(0, named=True)
        assert "<strong>Eligible</strong>" in fragment and f"index treatment {values['index_drug']}" in fragment
        assert f"<td>ESR</td><td>{values['ESR@baseline']:g}</td>" in fragment
    else:
        reasons = evaluation.cohort.excluded.filter(pl.col("patient_id") == "R3")["reason"][0].split("; ")
        assert "<strong>Not eligible</strong>" in fragment and reasons
        assert all(f"<li>{escape(r)}</li>" in fragment for r in reasons)
    fragment = client.get(f"/patients/{r3}/protocols/pedcno").text
    pedcno = cached_evaluation(cache, web.store, rome, "pedcno", statistics=False).evaluation
    values = pedcno.patients.filter(pl.col("patient_id") == "R3").row(0, named=True)
    # known: the first CNO treatment is naproxen of 2019-01-01; baseline values chosen by the engine
    assert values["index_drug"] == "naproxen" and "index treatment naproxen from 2019-01-01" in fragment
    responses = 0
    for e in pedcno.protocol.endpoints:
        if e.id in values and values.get(f"{e.id}.among", True) is not False:
            shown = "not known" if values[e.id] is None else "yes" if values[e.id] else "no"
            assert f"<td>{escape(e.label)}</td><td>{shown}</td>" in fragment
            responses += 1
    assert responses and fragment.count("<td>") >= 2 * responses
    for column, value in values.items():  # every value chosen at a timepoint is shown
        if re.fullmatch(r"(pga_vas|pain_vas|ESR|CRP)@\w+", column) and value is not None:
            assert f"<td>{escape(column.split('@')[0]).replace('pga_vas', 'PGA (VAS)').replace('pain_vas', 'pain VAS')}</td><td>{value:g}</td>" in fragment, column
    assert client.get(f"/patients/{r3}/protocols/no-such").status_code == 404


def test_another_centers_patient_answers_as_one_that_does_not_exist(web, r3):
    genoa = web.client("genoa")
    missing = 10 ** 6
    for path in ("/patients/{}", "/patients/{}/protocols/pedcno"):
        theirs, none = genoa.get(path.format(r3)), genoa.get(path.format(missing))
        assert theirs.status_code == none.status_code == 404
        main = lambda r, n: re.search(r"<main\b.*</main>", r.text, re.DOTALL)[0].replace(str(n), "N")
        assert main(theirs, r3) == main(none, missing)
        assert "R3" not in theirs.text


def test_a_viewer_sees_the_course_but_no_edit_control(web, r3):
    page = web.client("viewer").get(f"/patients/{r3}")
    assert page.status_code == 200 and _svg(page.text, "course-chart")
    assert "/edit" not in page.text and "/new?" not in page.text and "Add:" not in page.text
    bare = web.client("viewer").get(f"/patients/{web.ids[('R2', 'patients')]}").text
    assert "Nothing dated is recorded yet." in bare and not _svg(bare, "course-chart")
    rome = web.client("rome").get(f"/patients/{r3}").text
    assert f"/records/treatments/{web.ids[('R3', 'treatments')]}/edit" in rome and "Add:" in rome


HOSTILE = "<script>alert('x')</script>\"&'"


def test_every_text_of_the_svgs_is_escaped():
    day = dt.date(2020, 1, 1)
    treatment = {"id": 1, "drug": HOSTILE, "start_date": day, "stop_date": None, "stop_reason": HOSTILE,
                 "dose": None, "dose_unit": None, "route": None}
    study = {"id": 1, "study_id": HOSTILE, "date": day, "modality": HOSTILE}
    course = build_course({"treatments": [treatment], "imaging": [study],
                           "administrations": [{**treatment, "date": day, "dose_unit": HOSTILE}],
                           "assessments": [{"id": 1, "date": day, "pga": "mild", "pga_vas": 2.0}]})
    svg = course_svg(course)
    lesion = {"id": 1, "study_id": HOSTILE, "bone": "femur", "side": "left", "segment": None, "grade": None,
              "activity": None, "symptomatic": None, "lesion_id": HOSTILE}
    [scan] = scan_maps(course.studies, [lesion])
    for drawn in (svg, body_map_svg(scan)):
        assert "<script" not in drawn and "alert('x')</script>\"" not in drawn
        assert "&lt;script&gt;" in drawn
        # every attribute value is quoted and holds no raw quote of the same kind
        assert not re.search(r'="[^"]*<', drawn)


def _statements(web, client, path: str) -> tuple[int, int]:
    """(SQL statements run, bytes) of one page."""
    seen = []
    listen = lambda *args: seen.append(args[2])
    sa.event.listen(web.store.engine, "before_cursor_execute", listen)
    try:
        size = len(client.get(path).content)
    finally:
        sa.event.remove(web.store.engine, "before_cursor_execute", listen)
    return len(seen), size


def test_the_page_grows_linearly_with_the_patients_records_and_reads_them_in_constant_queries(web, r3):
    client = web.client("rome")
    client.get(f"/patients/{r3}")
    queries, _ = _statements(web, client, f"/patients/{r3}")
    admin = web.accounts["admin"]
    for i in range(2):  # more studies, each with a lesion: still one query for all the lesions
        study = f"R3-S{i + 3}"
        records.create_record(web.store, admin, "imaging", {"patient_id": "R3", "study_id": study,
                                                            "date": f"2020-0{i + 1}-01", "modality": "wb_mri"})
        records.create_record(web.store, admin, "lesions", {"study_id": study, "bone": "femur", "side": "left"})
    with_studies, small = _statements(web, client, f"/patients/{r3}")
    assert with_studies == queries
    for i in range(10):
        day = dt.date(2020, 1, 1) + dt.timedelta(days=7 * i)
        records.create_record(web.store, admin, "labs", {"patient_id": "R3", "date": day.isoformat(), "test": "ESR",
                                                         "value": 10 + i, "unit": "mm/h"})
    queries_after, large = _statements(web, client, f"/patients/{r3}")
    assert queries_after == queries
    per_value = (large - small) / 10
    assert 200 < per_value < 1200, per_value
    assert large < 200_000


def test_hostile_text_in_the_records_is_shown_as_text_on_the_page(web):
    admin, study = web.accounts["admin"], "R2" + HOSTILE
    records.create_record(web.store, admin, "imaging", {"patient_id": "R2", "study_id": study, "date": "2020-01-01",
                                                        "modality": "wb_mri"})
    records.create_record(web.store, admin, "lesions", {"study_id": study, "bone": "femur", "side": "left"})
    records.create_record(web.store, admin, "adverse_events", {"patient_id": "R2", "onset_date": "2020-02-01",
                                                               "term": HOSTILE})
    page = web.client("rome").get(f"/patients/{web.ids[('R2', 'patients')]}").text
    assert "<script>alert" not in page and "alert('x')</script>" not in page
    [chart] = _svg(page, "course-chart")
    [body_map] = _svg(page, "course-body-map")
    assert "whole-body MRI R2&lt;script&gt;" in body_map and "R2&lt;script&gt;" in chart
    assert "Adverse event: &lt;script&gt;" in page
