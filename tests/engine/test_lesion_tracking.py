"""``lesion_fates``: matching the lesions of two imaging studies by the rules of the exchange
format, and the fate of each (resolved, stable, improved, worsened, new).

Unit tests on small frames, one per rule, then Hypothesis properties on random lesion sets:
every active lesion gets exactly one fate, row order does not matter, a study compared with
itself is all stable, pairs do not leak into each other, and the independent reference
(``tests/reference/pardeo2017_reference.py``) matches the same lesions.
"""

from __future__ import annotations

import collections

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cnotrack.engine import lesion_fates
from reference.pardeo2017_reference import Lesion as ReferenceLesion
from reference.pardeo2017_reference import lesion_fates as reference_lesion_fates

SCHEMA = {"pair": pl.String, "bone": pl.String, "side": pl.String, "segment": pl.String,
          "activity": pl.String, "grade": pl.Int64, "symptomatic": pl.Boolean, "lesion_id": pl.String}
KEYS = list(SCHEMA)[1:]
MATCHED = ("stable", "improved", "worsened")


def study(*lesions: dict, pair: str = "P1") -> pl.DataFrame:
    """A study's lesions: each a dict of the lesion columns (missing ones empty)."""
    rows = [{"pair": pair, **{k: lesion.get(k) for k in KEYS}} for lesion in lesions]
    return pl.DataFrame(rows, schema=SCHEMA)


def lesion(bone: str, side: str | None = None, segment: str | None = None, **more) -> dict:
    return {"bone": bone, "side": side, "segment": segment, **more}


def fates(earlier: pl.DataFrame, later: pl.DataFrame) -> list[tuple]:
    """(fate, matched_by, earlier site, later site) per result row, in a stable order."""
    out = lesion_fates(earlier, later)
    rows = []
    for r in out.iter_rows(named=True):
        site_e = None if r["bone_earlier"] is None else (r["bone_earlier"], r["side_earlier"], r["segment_earlier"])
        site_l = None if r["bone_later"] is None else (r["bone_later"], r["side_later"], r["segment_later"])
        rows.append((r["fate"], r["matched_by"], site_e, site_l))
    return sorted(rows, key=repr)


def fate_counts(earlier: pl.DataFrame, later: pl.DataFrame) -> collections.Counter:
    return collections.Counter(lesion_fates(earlier, later)["fate"].to_list())


# ---------------------------------------------------------------- the result


def test_the_result_has_one_row_per_lesion_with_both_sides_columns() -> None:
    out = lesion_fates(study(lesion("femur", "left", "diaphysis", grade=2)),
                       study(lesion("femur", "left", "diaphysis", grade=1), lesion("sacrum")))
    assert out.columns[:3] == ["pair", "fate", "matched_by"]
    for column in ("bone", "side", "segment", "grade", "symptomatic", "lesion_id"):
        assert f"{column}_earlier" in out.columns and f"{column}_later" in out.columns
    assert out.height == 2
    assert sorted(out["fate"].to_list()) == ["improved", "new"]


def test_frames_with_only_bone_side_and_segment_are_enough() -> None:
    earlier = pl.DataFrame({"bone": ["femur", "tibia"], "side": ["left", "right"], "segment": ["diaphysis", "diaphysis"]})
    later = pl.DataFrame({"bone": ["femur"], "side": ["left"], "segment": ["diaphysis"]})
    assert fate_counts(earlier, later) == {"stable": 1, "resolved": 1}


def test_an_empty_earlier_study_makes_every_later_lesion_new() -> None:
    later = study(lesion("femur", "left", "diaphysis"), lesion("T7", None, "body"))
    assert fate_counts(study(), later) == {"new": 2}


def test_an_empty_later_study_resolves_every_earlier_lesion() -> None:
    earlier = study(lesion("femur", "left", "diaphysis"), lesion("T7", None, "body"))
    assert fate_counts(earlier, study()) == {"resolved": 2}


# ---------------------------------------------------------------- rule 1: lesion_id


def test_rule_1_rows_sharing_a_lesion_id_are_one_lesion_even_at_different_sites() -> None:
    earlier = study(lesion("femur", "left", "distal_metaphysis", lesion_id="A", grade=3))
    later = study(lesion("tibia", "left", "proximal_metaphysis", lesion_id="A", grade=2))
    assert fates(earlier, later) == [
        ("improved", "lesion_id", ("femur", "left", "distal_metaphysis"), ("tibia", "left", "proximal_metaphysis"))]


def test_rule_1_comes_before_the_site_so_a_lesion_at_the_old_site_without_the_id_is_new() -> None:
    earlier = study(lesion("femur", "left", "diaphysis", lesion_id="A"))
    later = study(lesion("femur", "left", "diaphysis"), lesion("clavicle", "left", "medial", lesion_id="A"))
    assert fates(earlier, later) == [
        ("new", None, None, ("femur", "left", "diaphysis")),
        ("stable", "lesion_id", ("femur", "left", "diaphysis"), ("clavicle", "left", "medial")),
    ]


# ---------------------------------------------------------------- rule 2: site


def test_rule_2_the_same_bone_side_and_segment_are_one_lesion() -> None:
    earlier = study(lesion("tibia", "right", "distal_epiphysis"), lesion("T7", None, "body"), lesion("sacrum"))
    later = study(lesion("sacrum"), lesion("T7", None, "body"), lesion("tibia", "right", "distal_epiphysis"))
    out = fates(earlier, later)
    assert [f[:2] for f in out] == [("stable", "site")] * 3


def test_rule_2_a_lesion_id_on_one_side_only_does_not_prevent_the_site_match() -> None:
    earlier = study(lesion("femur", "left", "diaphysis", lesion_id="A"))
    later = study(lesion("femur", "left", "diaphysis"))
    assert [f[:2] for f in fates(earlier, later)] == [("stable", "site")]


def test_rule_2_two_different_lesion_ids_are_never_one_lesion_even_at_the_same_site() -> None:
    earlier = study(lesion("clavicle", "left", "medial", lesion_id="A"))
    later = study(lesion("clavicle", "left", "medial", lesion_id="B"))
    assert fate_counts(earlier, later) == {"resolved": 1, "new": 1}


def test_the_other_side_of_a_paired_bone_is_a_different_lesion() -> None:
    earlier = study(lesion("femur", "left", "diaphysis"))
    later = study(lesion("femur", "right", "diaphysis"))
    assert fate_counts(earlier, later) == {"resolved": 1, "new": 1}


def test_another_segment_of_the_same_bone_is_a_different_lesion() -> None:
    earlier = study(lesion("femur", "left", "diaphysis"))
    later = study(lesion("femur", "left", "distal_metaphysis"))
    assert fate_counts(earlier, later) == {"resolved": 1, "new": 1}


# ---------------------------------------------------------------- rule 3: bone and side


@pytest.mark.parametrize("earlier_segment, later_segment", [(None, "distal_metaphysis"), ("shaft", None)])
def test_rule_3_a_lesion_without_segment_matches_the_only_candidate_of_the_same_bone_and_side(
        earlier_segment, later_segment) -> None:
    bone = "tibia" if "metaphysis" in str(later_segment) else "clavicle"
    earlier = study(lesion(bone, "left", earlier_segment, grade=1))
    later = study(lesion(bone, "left", later_segment, grade=3))
    assert [f[:2] for f in fates(earlier, later)] == [("worsened", "bone_and_side")]


def test_rule_3_does_not_match_when_the_later_study_has_two_candidates() -> None:
    earlier = study(lesion("tibia", "left"))
    later = study(lesion("tibia", "left", "distal_metaphysis"), lesion("tibia", "left", "proximal_metaphysis"))
    assert fate_counts(earlier, later) == {"resolved": 1, "new": 2}


def test_rule_3_does_not_match_when_the_earlier_study_has_two_candidates() -> None:
    earlier = study(lesion("femur", "right", "proximal_metaphysis"), lesion("femur", "right", "distal_metaphysis"))
    later = study(lesion("femur", "right"))
    assert fate_counts(earlier, later) == {"resolved": 2, "new": 1}


def test_rule_3_needs_one_of_the_two_without_a_segment() -> None:
    earlier = study(lesion("femur", "right", "diaphysis"))
    later = study(lesion("femur", "right", "distal_metaphysis"))
    assert fate_counts(earlier, later) == {"resolved": 1, "new": 1}


def test_rule_3_never_pairs_two_different_lesion_ids() -> None:
    earlier = study(lesion("femur", "right", lesion_id="C"))
    later = study(lesion("femur", "right", "distal_metaphysis", lesion_id="D"))
    assert fate_counts(earlier, later) == {"resolved": 1, "new": 1}


def test_rule_3_counts_only_the_lesions_that_rules_1_and_2_left_unmatched() -> None:
    earlier = study(lesion("femur", "left", "diaphysis"), lesion("femur", "left"))
    later = study(lesion("femur", "left", "diaphysis"), lesion("femur", "left", "distal_metaphysis"))
    out = fates(earlier, later)
    assert sorted(f[:2] for f in out) == [("stable", "bone_and_side"), ("stable", "site")]


def test_rule_3_on_a_midline_bone_compares_the_empty_sides() -> None:
    earlier = study(lesion("T7", None, None))
    later = study(lesion("T7", None, "body"))
    assert [f[:2] for f in fates(earlier, later)] == [("stable", "bone_and_side")]


# ---------------------------------------------------------------- activity and grades


def test_inactive_lesions_take_no_part_at_either_study() -> None:
    earlier = study(lesion("femur", "left", "diaphysis"), lesion("tibia", "right", "diaphysis", activity="inactive"))
    later = study(lesion("femur", "left", "diaphysis", activity="inactive"), lesion("tibia", "right", "diaphysis"))
    assert fates(earlier, later) == [
        ("new", None, None, ("tibia", "right", "diaphysis")),
        ("resolved", None, ("femur", "left", "diaphysis"), None),
    ]


def test_an_explicitly_active_lesion_is_like_one_with_activity_left_empty() -> None:
    earlier = study(lesion("sacrum", activity="active"))
    later = study(lesion("sacrum"))
    assert fate_counts(earlier, later) == {"stable": 1}


@pytest.mark.parametrize("before, after, fate", [
    (3, 1, "improved"), (1, 2, "worsened"), (2, 2, "stable"), (2, None, "stable"), (None, 3, "stable"),
    (None, None, "stable"),
])
def test_a_matched_lesion_is_improved_worsened_or_stable_by_its_grades(before, after, fate) -> None:
    earlier = study(lesion("femur", "left", "diaphysis", grade=before))
    later = study(lesion("femur", "left", "diaphysis", grade=after))
    assert fate_counts(earlier, later) == {fate: 1}


# ---------------------------------------------------------------- pairs


def test_lesions_of_different_pairs_are_never_matched() -> None:
    earlier = pl.concat([study(lesion("femur", "left", "diaphysis"), pair="P1"),
                         study(lesion("sacrum"), pair="P2")])
    later = pl.concat([study(lesion("sacrum"), pair="P1"),
                       study(lesion("femur", "left", "diaphysis"), pair="P2")])
    out = lesion_fates(earlier, later)
    assert sorted(zip(out["pair"], out["fate"])) == [("P1", "new"), ("P1", "resolved"), ("P2", "new"), ("P2", "resolved")]


def test_rule_3_counts_candidates_within_each_pair_only() -> None:
    earlier = pl.concat([study(lesion("tibia", "left"), pair="P1"), study(lesion("tibia", "left"), pair="P2")])
    later = pl.concat([study(lesion("tibia", "left", "diaphysis"), pair="P1"),
                       study(lesion("tibia", "left", "diaphysis"), pair="P2")])
    assert fate_counts(earlier, later) == {"stable": 2}


def test_bug_a_study_whose_side_column_is_all_empty_can_be_compared_with_one_that_has_sides() -> None:
    """BUG (engine/lesion_tracking.py, _complete/_prepare): a frame built from Python values
    whose ``side`` (or ``segment``) is empty on every row has Polars dtype Null, and the join
    of rule 2 raises SchemaError instead of treating the empty sides as empty strings."""
    earlier = pl.DataFrame({"bone": ["sacrum"], "side": [None], "segment": [None]})
    later = pl.DataFrame({"bone": ["sacrum", "femur"], "side": [None, "left"], "segment": [None, "diaphysis"]})
    assert fate_counts(earlier, later) == {"stable": 1, "new": 1}


# ---------------------------------------------------------------- properties

LONG_BONE = [None, "proximal_epiphysis", "proximal_metaphysis", "diaphysis", "distal_metaphysis", "distal_epiphysis"]
SITES = (
    [(bone, side, seg) for bone in ("femur", "tibia") for side in ("left", "right") for seg in LONG_BONE]
    + [("clavicle", side, seg) for side in ("left", "right") for seg in (None, "medial", "shaft", "lateral")]
    + [("T7", None, seg) for seg in (None, "body", "posterior_elements")]
    + [("sacrum", None, None)]
)
# few sites, so that rules 2 and 3 meet often
SMALL_SITES = [s for s in SITES if s[0] in ("tibia", "T7", "sacrum") or s[:2] == ("femur", "left")]


@st.composite
def studies(draw, pair: str = "P1") -> pl.DataFrame:
    """One study: unique sites, lesion_ids from a small pool (unique within the study)."""
    sites = draw(st.lists(st.sampled_from(SMALL_SITES), unique=True, max_size=8))
    ids = draw(st.permutations(["A", "B", "C", "D", "E", "F", "G", "H"]))
    rows = []
    for (bone, side, segment), lesion_id in zip(sites, ids):
        rows.append({
            "pair": pair, "bone": bone, "side": side, "segment": segment,
            "activity": draw(st.sampled_from([None, None, "active", "inactive"])),
            "grade": draw(st.sampled_from([None, 1, 2, 3])),
            "symptomatic": draw(st.sampled_from([None, True, False])),
            "lesion_id": lesion_id if draw(st.booleans()) else None,
        })
    return pl.DataFrame(rows, schema=SCHEMA)


def active(frame: pl.DataFrame) -> int:
    return frame.filter(pl.col("activity").is_null() | (pl.col("activity") != "inactive")).height


PROPERTY = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(earlier=studies(), later=studies())
def test_every_active_earlier_lesion_has_one_fate_and_every_active_later_lesion_is_matched_or_new(
        earlier, later) -> None:
    counts = fate_counts(earlier, later)
    assert counts["resolved"] + counts["stable"] + counts["improved"] + counts["worsened"] == active(earlier)
    assert counts["new"] + sum(counts[f] for f in MATCHED) == active(later)
    out = lesion_fates(earlier, later)
    assert out["bone_earlier"].drop_nulls().len() == active(earlier)
    assert out["bone_later"].drop_nulls().len() == active(later)


@PROPERTY
@given(earlier=studies(), later=studies(), seed=st.integers(0, 2**16))
def test_shuffling_the_rows_of_either_study_changes_no_fate(earlier, later, seed) -> None:
    shuffled_e = earlier.sample(fraction=1.0, shuffle=True, seed=seed)
    shuffled_l = later.sample(fraction=1.0, shuffle=True, seed=seed + 1)
    expected = fates(earlier, later)
    assert fates(shuffled_e, later) == expected
    assert fates(earlier, shuffled_l) == expected
    assert fates(shuffled_e, shuffled_l) == expected


@PROPERTY
@given(lesions=studies())
def test_a_study_compared_with_itself_is_stable_in_every_active_lesion(lesions) -> None:
    counts = fate_counts(lesions, lesions)
    assert counts == ({"stable": active(lesions)} if active(lesions) else {})


@PROPERTY
@given(first_e=studies("P1"), first_l=studies("P1"), second_e=studies("P2"), second_l=studies("P2"))
def test_matching_two_pairs_at_once_equals_matching_each_pair_alone(first_e, first_l, second_e, second_l) -> None:
    together = fates(pl.concat([first_e, second_e]), pl.concat([first_l, second_l]))
    alone = sorted(fates(first_e, first_l) + fates(second_e, second_l), key=repr)
    assert together == alone


def _reference_lesions(frame: pl.DataFrame) -> list[ReferenceLesion]:
    text = {True: "yes", False: "no", None: ""}
    return [ReferenceLesion({
        "bone": r["bone"], "side": r["side"] or "", "segment": r["segment"] or "",
        "activity": r["activity"] or "", "grade": "" if r["grade"] is None else str(r["grade"]),
        "symptomatic": text[r["symptomatic"]], "lesion_id": r["lesion_id"] or "",
    }) for r in frame.iter_rows(named=True)]


@PROPERTY
@given(earlier=studies(), later=studies())
def test_the_independent_reference_gives_the_same_fates(earlier, later) -> None:
    reference, new = reference_lesion_fates(_reference_lesions(earlier), _reference_lesions(later))
    expected = collections.Counter(reference) + collections.Counter({"new": len(new)})
    assert fate_counts(earlier, later) == +expected
