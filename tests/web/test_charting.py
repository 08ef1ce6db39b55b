"""Charting a follow-up scan in the web app: each lesion of the previous study is marked resolved,
still present (with its grade) or left undecided; the decision is one POST (htmx: the lesion's row,
without JavaScript: a redirect), kept as an audited lesion row of the follow-up study that the
evaluation's lesion fates read. Viewers chart nothing and see no controls; another center's study
and lesions answer as ones that do not exist; the bone list's search bounds its input."""

from __future__ import annotations

import re

import polars as pl

from cnotrack import records
from cnotrack.audit import audit_trail
from cnotrack.engine.lesion_tracking import lesion_fates
from cnotrack.lesion_decisions import follow_up

HX = {"HX-Request": "true"}


def _csrf(client) -> str:
    return client.headers["X-CSRF-Token"]


def _follow_up(web, study_id: str = "R1-S2") -> int:
    """A 6-month bone scan of R1 (whose baseline R1-S1 has a lesion at the left femur diaphysis)
    with a second baseline lesion at the right tibia proximal metaphysis, grade 2."""
    admin = web.accounts["admin"]
    records.create_record(web.store, admin, "lesions", {"study_id": "R1-S1", "bone": "tibia", "side": "right",
                                                        "segment": "proximal_metaphysis", "grade": 2})
    return records.create_record(web.store, admin, "imaging", {"patient_id": "R1", "study_id": study_id,
                                                               "date": "2020-07-01",
                                                               "modality": "bone_scintigraphy"})["id"]


def _previous_ids(page: str) -> dict[str, int]:
    rows = re.findall(r'<li id="previous-(\d+)" class="previous-lesion[^"]*" data-site="([^"]+)"', page)
    return {site: int(rid) for rid, site in rows}


def _swap(text: str, record_id: int, token: str) -> str:
    return re.sub(rf"(?<!\d){record_id}(?!\d)", "<id>", text.replace(token, "<token>"))


def _fates(web) -> dict[str, str]:
    """The lesion fates of R1's two studies, as the evaluation computes them."""
    lesions = records.visible_dataset(web.store, web.accounts["admin"])["lesions"]
    earlier = lesions.filter(pl.col("study_id") == "R1-S1")
    later = lesions.filter(pl.col("study_id") == "R1-S2")
    fates = lesion_fates(earlier, later)
    return {f"{r['side_earlier']} {r['bone_earlier']}": r["fate"] for r in fates.iter_rows(named=True)
            if r["bone_earlier"] is not None}


def test_decisions_are_kept_audited_changeable_and_change_the_lesion_fates(web):
    client = web.client("rome")
    study = _follow_up(web)
    page = client.get(f"/imaging/{study}").text
    ids = _previous_ids(page)
    femur, tibia = ids["left femur diaphysis"], ids["right tibia proximal metaphysis"]
    assert 'aria-live="polite"' in page and page.count("<select") >= 2
    # undecided: the format counts both as resolved, and the page says they are undecided
    assert set(_fates(web).values()) == {"resolved"} and page.count('class="tag">undecided') == 2

    resolved = client.post(f"/imaging/{study}/decisions/{tibia}", headers=HX,
                           data={"csrf_token": _csrf(client), "decision": "resolved"})
    assert resolved.status_code == 200 and 'class="tag resolved">resolved here' in resolved.text
    assert 'id="charting-status" hx-swap-oob="innerHTML">right tibia proximal metaphysis marked resolved' \
        in resolved.text
    assert 'id="skeleton-marks" hx-swap-oob="true"' in resolved.text
    assert "right tibia" not in resolved.text.split('id="current-lesions-card"')[1].split("</section>")[0]
    present = client.post(f"/imaging/{study}/decisions/{femur}", follow_redirects=False,
                          data={"csrf_token": _csrf(client), "decision": "present", "grade": "1"})
    assert present.status_code == 303 and present.headers["location"] == f"/imaging/{study}#previous-{femur}"

    # kept on reload, and read by the lesion fates: the tibia resolved, the femur stable
    page = client.get(f"/imaging/{study}").text
    assert "resolved here" in page and "still present (charted here), grade 1" in page
    assert _fates(web) == {"right tibia": "resolved", "left femur": "stable"}
    rows = {r["bone"]: r for r in records.list_records(web.store, web.accounts["rome"], "lesions",
                                                      filters={"study_id": "R1-S2"})}
    assert rows["tibia"]["activity"] == "inactive" and rows["femur"]["activity"] == "active"
    assert rows["femur"]["grade"] == 1 and rows["femur"]["segment"] == "diaphysis"

    # changeable: the tibia is still present after all, with a higher grade; then cleared
    client.post(f"/imaging/{study}/decisions/{tibia}", headers=HX,
                data={"csrf_token": _csrf(client), "decision": "present", "grade": "3"})
    assert _fates(web) == {"right tibia": "worsened", "left femur": "stable"}
    bad = client.post(f"/imaging/{study}/decisions/{tibia}", headers=HX,
                      data={"csrf_token": _csrf(client), "decision": "present", "grade": "7"})
    assert bad.status_code == 422 and "grade" in bad.text and 'role="alert"' in bad.text
    unknown = client.post(f"/imaging/{study}/decisions/{tibia}", headers=HX,
                          data={"csrf_token": _csrf(client), "decision": "<b>gone</b>"})
    assert unknown.status_code == 422 and "<b>gone" not in unknown.text and "choose one of" in unknown.text
    plain = client.post(f"/imaging/{study}/decisions/{tibia}", data={"csrf_token": _csrf(client), "grade": "2"})
    assert plain.status_code == 422 and "<h1>" in plain.text and "decision: not a decision" in plain.text
    assert _fates(web)["right tibia"] == "worsened"
    client.post(f"/imaging/{study}/decisions/{tibia}", headers=HX, data={"csrf_token": _csrf(client),
                                                                          "decision": "clear"})
    assert [r["bone"] for r in records.list_records(web.store, web.accounts["rome"], "lesions",
                                                    filters={"study_id": "R1-S2"})] == ["femur"]

    # every change is in the audit trail, by the investigator
    trail = [e for e in audit_trail(web.store, web.accounts["admin"], table="lesions") if e["actor"] == "rome"]
    assert [e["action"] for e in trail] == ["insert", "insert", "update", "delete"]

    # format 1.1 can say "not assessed": offered, kept as a not_assessed row, its own fate
    assert 'aria-label="Not assessed: right tibia proximal metaphysis">Not assessed</button>' \
        in client.get(f"/imaging/{study}").text
    saved = client.post(f"/imaging/{study}/decisions/{tibia}", headers=HX,
                        data={"csrf_token": _csrf(client), "decision": "not_assessed"})
    assert saved.status_code == 200 and "not assessed here" in saved.text
    assert _fates(web) == {"right tibia": "not_assessed", "left femur": "stable"}


def test_the_old_resolved_and_still_present_routes_record_the_same_decisions(web):
    client = web.client("rome")
    study = _follow_up(web)
    ids = _previous_ids(client.get(f"/imaging/{study}").text)
    tibia = ids["right tibia proximal metaphysis"]
    assert "resolved here" in client.post(f"/imaging/{study}/resolved/{tibia}", data={"csrf_token": _csrf(client)}).text
    assert _fates(web)["right tibia"] == "resolved"
    assert follow_up(web.store, web.accounts["rome"], study).previous_lesions[1]["decision"] == "resolved"
    client.post(f"/imaging/{study}/still-present/{tibia}", data={"csrf_token": _csrf(client)})
    assert _fates(web)["right tibia"] == "stable"


def test_a_viewer_sees_no_charting_controls_and_cannot_chart(web):
    study = _follow_up(web)
    viewer = web.client("viewer", raise_server_exceptions=False)
    page = viewer.get(f"/imaging/{study}").text
    assert "left femur diaphysis" in page and 'role="img"' in page
    assert 'role="button"' not in page and "<form" not in page.split("</header>")[1]
    assert 'id="bone-query"' not in page and "decisions/" not in page and "lesion-form" not in page
    femur = web.ids[("R1", "lesions")]
    token = _csrf(viewer)
    for path, data in ((f"/imaging/{study}/decisions/{femur}", {"decision": "resolved"}),
                       (f"/imaging/{study}/lesions", {"bone": "T7", "segment": "body"})):
        assert viewer.post(path, data={"csrf_token": token, **data}).status_code == 403, path
    assert viewer.get(f"/imaging/{study}/lesion-form", params={"bone": "T7"}).status_code == 403
    assert viewer.get(f"/imaging/{study}/bones", params={"q": "femur"}).status_code == 403
    assert records.list_records(web.store, web.accounts["admin"], "lesions", filters={"study_id": "R1-S2"}) == []


def test_another_centers_study_and_lesions_answer_as_ones_that_do_not_exist(web):
    study = _follow_up(web)
    genoa_study = records.create_record(web.store, web.accounts["admin"], "imaging", {
        "patient_id": "G1", "study_id": "G1-S2", "date": "2020-07-01", "modality": "bone_scintigraphy"})["id"]
    genoa_lesion = web.ids[("G1", "lesions")]
    client = web.client("rome", raise_server_exceptions=False)
    token = _csrf(client)
    missing = 987654
    for path in (f"/imaging/{genoa_study}", f"/imaging/{genoa_study}/bones?q=femur",
                 f"/imaging/{genoa_study}/lesion-form?bone=femur&side=left"):
        answer = client.get(path)
        assert answer.status_code == 404 and "G1" not in answer.text, path
        other = client.get(path.replace(f"/{genoa_study}", f"/{missing}"))
        assert (other.status_code, _swap(other.text, missing, token)) == (404, _swap(answer.text, genoa_study, token))
    for url in (f"/imaging/{study}/decisions/{genoa_lesion}", f"/imaging/{genoa_study}/decisions/{genoa_lesion}"):
        answer = client.post(url, headers=HX, data={"csrf_token": token, "decision": "resolved"})
        assert answer.status_code == 404 and "G1" not in answer.text and "Genoa" not in answer.text, url
    # a lesion of this study itself, or of R1's baseline seen from the baseline, is not a previous lesion
    baseline = web.ids[("R1", "imaging")]
    own = web.ids[("R1", "lesions")]
    assert client.post(f"/imaging/{baseline}/decisions/{own}", data={"csrf_token": token,
                                                                     "decision": "resolved"}).status_code == 404
    assert records.list_records(web.store, web.accounts["admin"], "lesions", filters={"study_id": "G1-S2"}) == []


def test_the_bone_list_finds_sites_by_words_escapes_and_bounds_its_input(web):
    client = web.client("rome")
    study = _follow_up(web)
    found = client.get(f"/imaging/{study}/bones", params={"q": "left femur distal"}).text
    assert "left femur distal metaphysis" in found and "right femur" not in found
    assert f'hx-get="/imaging/{study}/lesion-form?bone=femur&amp;side=left&amp;segment=distal_metaphysis"' in found
    assert found.count('class="bone-match"') == 3  # the distal diaphysis, metaphysis and epiphysis
    assert client.get(f"/imaging/{study}/bones", params={"q": "T7"}).text.count('class="bone-match"') == 3
    many = client.get(f"/imaging/{study}/bones", params={"q": "e"}).text
    assert many.count('class="bone-match"') == 12 and "type more to narrow" in many
    hostile = client.get(f"/imaging/{study}/bones", params={"q": '"><script>alert(1)</script>' + "x" * 5000})
    assert hostile.status_code == 200 and "<script>alert" not in hostile.text and "0 matches" in hostile.text
    # without JavaScript: the page itself lists the matches and opens the form of one
    page = client.get(f"/imaging/{study}", params={"q": "sternum"}).text
    assert 'value="sternum"' in page and f'href="/imaging/{study}?bone=sternum&amp;side=&amp;segment=#lesion-panel"' in page
    form = client.get(f"/imaging/{study}", params={"bone": "sternum"}).text
    assert "Chart a lesion: sternum" in form and 'name="study_id"' not in form
    assert form.count("<option") < 200  # no picker of every record of the database


def test_every_zone_of_the_skeleton_is_a_named_button_with_one_tab_stop(web):
    client = web.client("rome")
    study = _follow_up(web)
    page = client.get(f"/imaging/{study}").text
    buttons = re.findall(r'role="button" tabindex="(-1|0)" aria-label="([^"]+)"(?: data-state="\w+")? data-x="[\d.]+"', page)
    assert len(buttons) > 300 and [t for t, _ in buttons].count("0") == 1
    labels = [label for _, label in buttons]
    assert len(set(labels)) == len(labels)
    assert "left femur diaphysis, lesion at the previous study" in labels and "T7 body" in labels
    client.post(f"/imaging/{study}/decisions/{_previous_ids(page)['left femur diaphysis']}",
                data={"csrf_token": _csrf(client), "decision": "present"})
    assert 'aria-label="left femur diaphysis, lesion charted"' in client.get(f"/imaging/{study}").text
