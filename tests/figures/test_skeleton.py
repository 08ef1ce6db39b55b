"""The skeleton: every bone of the site vocabulary has a place, sides and ends are told apart,
and the clickable version tells bone, side and segment."""

from __future__ import annotations

import pytest

from cnotrack import anatomy
from cnotrack.figures import CANVAS, LONG_BONE_SEGMENTS, FigureInputError, site_position, skeleton_svg

from .conftest import parse

MIDLINE_X = CANVAS[0] / 2


def _sides(bone):
    return {"paired": ["left", "right"], "midline": [None], "optional": [None, "left", "right"]}[bone.laterality]


def test_every_bone_side_and_segment_of_the_vocabulary_has_a_place_on_the_canvas():
    for bone in anatomy().bones:
        for side in _sides(bone):
            for segment in (None, *anatomy().allowed_segments(bone.name)):
                x, y = site_position(bone.name, side, segment)
                assert 0 < x < CANVAS[0] and 0 < y < CANVAS[1], (bone.name, side, segment)


def test_the_patients_right_is_on_the_viewers_left_and_the_sides_mirror_each_other():
    for bone in anatomy().bones:
        if bone.laterality == "midline":
            continue
        right, left = site_position(bone.name, "right"), site_position(bone.name, "left")
        assert right[0] < MIDLINE_X < left[0], bone.name
        assert right[0] + left[0] == pytest.approx(2 * MIDLINE_X) and right[1] == left[1]


def test_midline_bones_sit_on_the_midline():
    for name in ("sternum", "sacrum", "coccyx", "skull", "C1", "T7", "L5"):
        assert site_position(name)[0] == MIDLINE_X
    assert site_position("T7", None, "posterior_elements") != site_position("T7", None, "body")


def test_long_bone_segments_run_from_proximal_to_distal_in_distinct_places():
    for bone in ("femur", "tibia", "fibula", "humerus", "radius", "ulna", "metatarsal_1", "metacarpal_5",
                 "finger_phalanx", "toe_phalanx"):
        places = [site_position(bone, "left", name) for name, _, _ in LONG_BONE_SEGMENTS]
        assert len(set(places)) == len(places), bone
        assert places[0][1] < places[-1][1], bone   # proximal above distal in anterior view
    assert site_position("femur", "left", "proximal_metaphysis") != site_position("femur", "left", "distal_metaphysis")


def test_every_site_is_its_own_place():
    seen = {}
    for bone in anatomy().bones:
        for side in _sides(bone):
            segments = [s for s in anatomy().allowed_segments(bone.name) if s not in ("epiphysis", "metaphysis")]
            for segment in segments or [None]:
                place = site_position(bone.name, side, segment)
                assert place not in seen, ((bone.name, side, segment), seen.get(place))
                seen[place] = (bone.name, side, segment)


def test_the_body_is_in_anatomical_order_from_head_to_foot():
    y = lambda *site: site_position(*site)[1]  # noqa: E731
    assert y("skull") < y("mandible") < y("C1") < y("T1") < y("L1") < y("sacrum") < y("coccyx")
    assert y("femur", "left", "distal_epiphysis") < y("tibia", "left", "proximal_epiphysis")
    assert y("talus", "left") < y("calcaneus", "left") < y("metatarsal_1", "left") < y("toe_phalanx", "left")
    assert y("humerus", "left", "distal_epiphysis") < y("radius", "left", "proximal_epiphysis")
    assert y("carpal", "left") < y("metacarpal_3", "left") < y("finger_phalanx", "left")
    x = lambda *site: site_position(*site)[0]  # noqa: E731
    assert x("radius", "left") > x("ulna", "left") and x("fibula", "left") > x("tibia", "left")  # lateral
    assert x("metatarsal_1", "left") < x("metatarsal_5", "left")   # big toe medial


def test_synonyms_are_accepted_and_unknown_sites_are_named_in_the_error():
    assert site_position("thigh bone", "Left", "diaphysis") == site_position("femur", "left", "diaphysis")
    with pytest.raises(FigureInputError, match="'wing' is not in the site vocabulary"):
        site_position("wing")
    with pytest.raises(FigureInputError, match="paired bone; give side"):
        site_position("femur")
    with pytest.raises(FigureInputError, match="segment 'body' does not apply to femur"):
        site_position("femur", "left", "body")


def test_the_clickable_skeleton_tells_bone_side_and_segment_of_every_element():
    root = parse(skeleton_svg(clickable=True))
    ids = [e.get("id") for e in root.iter() if e.get("id")]
    assert len(ids) == len(set(ids))
    bones = {(e.get("data-bone"), e.get("data-side")) for e in root.iter() if e.get("data-bone") and e.get("id")}
    for bone in anatomy().bones:
        for side in _sides(bone):
            if side is None and bone.laterality == "optional":
                continue   # the mandible and maxilla are drawn as a right and a left half
            assert (bone.name, side or "") in bones, (bone.name, side)
    zones = {}
    for group in root.iter():
        if group.get("data-bone") and group.get("id"):
            zones[group.get("data-bone"), group.get("data-side")] = {
                e.get("data-segment") for e in group.iter() if e.get("data-segment")}
    assert zones["femur", "left"] == {name for name, _, _ in LONG_BONE_SEGMENTS}
    assert zones["clavicle", "right"] == {"medial", "shaft", "lateral"}
    assert zones["T7", ""] == {"body", "posterior_elements"}
    assert zones["sternum", ""] == set()


def test_the_plain_skeleton_has_no_ids_or_zones():
    svg = skeleton_svg(clickable=False)
    assert ' id="' not in svg and "data-segment" not in svg.replace('data-segment="body"', "").replace(
        'data-segment="posterior_elements"', "")
