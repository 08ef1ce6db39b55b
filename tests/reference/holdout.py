"""Random hold-out cohorts for cross-checking ``pardeo2017`` against the reference.

``make_holdout_cohort(seed, n_patients, folder)`` writes a valid exchange-format CSV
folder (patients, treatments, assessments, labs, imaging, lesions) that is deterministic
for a seed and full of the cases where an implementation of the protocol can go wrong:

* eligibility: courses of exactly 181 and 182 days, ongoing courses with and without an
  assessment at or after day 182 (sometimes one with an empty PGA exactly on day 182),
  no anakinra, anakinra before (or on the same day as) the NSAID, a bisphosphonate
  started on the index day, topical-only glucocorticoids, glucocorticoids with an empty
  route, a short first anakinra course followed by a long second one, the brand
  ``Kineret``;
* timepoints: values on the window edges (days -90, 14, 120, 240) and just outside
  (-91, 15, 119, 241), ties (two values equally far from the target), empty PGA rows
  nearer the target than the filled ones, rows shuffled so file order is not date order;
* labs: ESR exactly 20 mm/h, CRP exactly 0.5 mg/dL (= the 5 mg/L default), censored
  ``<x`` values, an own ``ref_high`` (sometimes equal to the value), CRP in mg/L and
  mg/dL, month-6 values exactly equal to baseline in the other unit;
* lesions: bone scintigraphy with wb_mri/mri decoys in the windows, studies without
  lesions, inactive lesions, grade changes, lesion_ids reused at a different site,
  conflicting lesion_ids at one site, segment-less lesions that matching rule 3 should
  and should not pair, per-patient lesion_ids that repeat across patients;
* spelling: mixed-case vocabulary and column names, ``female``/``male``, ``YYYY-MM``
  birth dates, shuffled column order.

Only the constraints of a valid dataset are kept: unique patient_id and study_id; one
assessment per patient and date; one lab row per patient, date and test; one course per
patient, drug and start date; within a study no two lesions share bone, side and segment
and no two share a lesion_id; stop_date never before start_date.
"""

from __future__ import annotations

import csv
import pathlib
import random
from datetime import date, timedelta
from decimal import Decimal

__all__ = ["make_holdout_cohort"]

COLUMNS = {
    "patients": ["patient_id", "sex", "birth_date", "onset_date", "diagnosis_date", "center"],
    "treatments": [
        "patient_id", "drug", "start_date", "stop_date", "dose", "dose_unit", "route", "stop_reason",
    ],
    "assessments": ["patient_id", "date", "pga", "pga_vas", "bone_pain"],
    "labs": ["patient_id", "date", "test", "value", "unit", "ref_high", "ref_low"],
    "imaging": ["patient_id", "study_id", "date", "modality"],
    "lesions": ["study_id", "bone", "side", "segment", "activity", "grade", "symptomatic", "lesion_id"],
}

NSAIDS = ["naproxen", "ibuprofen", "indomethacin"]
BISPHOSPHONATES = ["pamidronate", "zoledronic acid"]
GLUCOCORTICOIDS = ["prednisone", "methylprednisolone"]
ANAKINRA_NAMES = ["anakinra", "Anakinra", "ANAKINRA", "Kineret", "kineret"]
PGA_LEVELS = ["none", "minimal", "mild", "moderate", "severe"]

LONG_BONE_SEGMENTS = ["proximal_metaphysis", "diaphysis", "distal_metaphysis", "distal_epiphysis", ""]
SIDES = ["left", "right"]
# bone -> (sides, segments)
BONES = {
    "femur": (SIDES, LONG_BONE_SEGMENTS),
    "tibia": (SIDES, LONG_BONE_SEGMENTS),
    "fibula": (SIDES, LONG_BONE_SEGMENTS),
    "clavicle": (SIDES, ["medial", "shaft", "lateral", ""]),
    "T5": ([""], ["body", "posterior_elements", ""]),
    "L2": ([""], ["body", "posterior_elements", ""]),
    "sacrum": ([""], [""]),
    "ilium": (SIDES, [""]),
    "calcaneus": (SIDES, [""]),
}

BASELINE = (0, -90, 14)
MONTH6 = (182, 120, 240)

ELIGIBLE_KINDS = [
    "stopped_long", "stopped_182", "ongoing_late", "ongoing_late_empty_pga", "second_course",
    "gc_empty_route", "gc_systemic", "kineret_index",
]
EXCLUDED_KINDS = [
    "stopped_181", "ongoing_short", "no_anakinra", "anakinra_before_nsaid", "nsaid_same_day",
    "topical_gc_only", "no_second_line", "short_first_course", "bisphosphonate_same_day",
]
TIMEPOINT_PATTERNS = ["one", "one", "tie", "tie_max", "edge_in", "edge_both", "edge_out", "multi", "none"]


def _mixed_case(rng: random.Random, text: str) -> str:
    roll = rng.random()
    if roll < 0.7 or not text:
        return text
    if roll < 0.8:
        return text.upper()
    if roll < 0.9:
        return text.capitalize()
    return text.title()


def _iso(day: date) -> str:
    return day.isoformat()


def chosen_day(days, target: int, low: int, high: int):
    """The day the protocol picks: closest to target inside [low, high], tie earlier."""
    inside = [day for day in days if low <= day <= high]
    if not inside:
        return None
    return min(inside, key=lambda day: (abs(day - target), day))


def _pattern_days(rng: random.Random, pattern: str, timepoint) -> list[int]:
    target, low, high = timepoint
    reach = min(target - low, high - target)
    if pattern == "one":
        return [rng.randint(low, high)]
    if pattern == "tie":
        k = rng.randint(1, reach)
        return [target - k, target + k]
    if pattern == "tie_max":
        return [target - reach, target + reach]
    if pattern == "edge_in":
        edge = rng.choice([low, high])
        return [edge, edge - 1 if edge == low else edge + 1]
    if pattern == "edge_both":
        return [low, high, low - 1, high + 1]
    if pattern == "edge_out":
        return rng.choice([[low - 1], [high + 1], [low - 1, high + 1]])
    if pattern == "multi":
        return rng.sample(range(low, high + 1), 3)
    return []


class _Patient:
    """Everything generated for one patient, keyed so that the dataset stays valid."""

    def __init__(self, rng: random.Random, patient_id: str, kind: str, index: date):
        self.rng = rng
        self.patient_id = patient_id
        self.kind = kind
        self.index = index
        self.courses: dict[tuple[str, str], dict] = {}
        self.assessments: dict[int, dict] = {}
        self.labs: dict[tuple[int, str], dict] = {}
        self.studies: list[dict] = []
        self.lesions: list[dict] = []
        self.next_lesion_id = 1

    def day(self, offset: int) -> str:
        return _iso(self.index + timedelta(days=offset))

    # -- treatments ------------------------------------------------------------------

    def add_course(self, drug: str, start: int, stop: int | None, route: str = "", canonical: str = ""):
        canonical = canonical or drug.lower()
        while (canonical, self.day(start)) in self.courses:
            start -= 1
        row = {
            "patient_id": self.patient_id,
            "drug": drug,
            "start_date": self.day(start),
            "stop_date": "" if stop is None else self.day(max(stop, start)),
            "route": route,
        }
        if canonical == "anakinra":
            row.update(dose="2", dose_unit="mg/kg/day")
        if stop is not None and self.rng.random() < 0.5:
            row["stop_reason"] = self.rng.choice(["inefficacy", "adverse_event", "remission", "other"])
        self.courses[(canonical, row["start_date"])] = row

    def add_treatments(self) -> None:
        rng, kind = self.rng, self.kind
        nsaid_start = -rng.randint(200, 1500)
        if kind == "anakinra_before_nsaid":
            nsaid_start = rng.randint(1, 60)
        if kind == "nsaid_same_day":
            nsaid_start = 0
        nsaid_stop = None if rng.random() < 0.3 else nsaid_start + rng.randint(30, 400)
        self.add_course(_mixed_case(rng, rng.choice(NSAIDS)), nsaid_start, nsaid_stop, "oral")

        second_start = rng.randint(nsaid_start + 1, -1) if nsaid_start < -1 else -rng.randint(30, 300)
        if kind in ("gc_empty_route", "gc_systemic", "topical_gc_only"):
            route = {"gc_empty_route": "", "gc_systemic": rng.choice(["oral", "iv"]), "topical_gc_only": "topical"}[kind]
            self.add_course(_mixed_case(rng, rng.choice(GLUCOCORTICOIDS)), second_start, second_start + rng.randint(10, 90), route)
            if kind == "topical_gc_only" and rng.random() < 0.5:
                self.add_course(rng.choice(GLUCOCORTICOIDS), second_start - 40, second_start - 20, "topical")
        elif kind == "bisphosphonate_same_day":
            self.add_course(rng.choice(BISPHOSPHONATES), 0, rng.randint(0, 200), "iv")
        elif kind == "no_second_line":
            if rng.random() < 0.5:  # a systemic glucocorticoid, but only after the index date
                self.add_course("prednisone", rng.randint(1, 100), None, "oral")
        else:
            self.add_course(_mixed_case(rng, rng.choice(BISPHOSPHONATES)), second_start, second_start + rng.randint(1, 300), "iv")
            if rng.random() < 0.3:  # a topical glucocorticoid on top, which adds nothing
                self.add_course("prednisone", second_start - 10, second_start + 5, "topical")

        anakinra = rng.choice(ANAKINRA_NAMES)
        if kind == "kineret_index":
            anakinra = rng.choice(["Kineret", "KINERET"])
        stops = {
            "stopped_long": rng.randint(183, 1100),
            "stopped_182": 182,
            "stopped_181": 181,
        }
        if kind == "no_anakinra":
            if rng.random() < 0.5:
                self.add_course("adalimumab", rng.randint(0, 30), None, "sc")
            return
        if kind in ("ongoing_late", "ongoing_late_empty_pga", "ongoing_short"):
            self.add_course(anakinra, 0, None, "sc", "anakinra")
        elif kind == "short_first_course":
            self.add_course(anakinra, 0, rng.randint(20, 150), "sc", "anakinra")
            second = rng.randint(160, 400)
            self.add_course(rng.choice(ANAKINRA_NAMES), second, rng.choice([None, second + 400]), "sc", "anakinra")
        elif kind == "second_course":
            first_stop = rng.randint(182, 500)
            self.add_course(anakinra, 0, first_stop, "sc", "anakinra")
            second = first_stop + rng.randint(1, 200)
            self.add_course(rng.choice(ANAKINRA_NAMES), second, None, "sc", "anakinra")
        else:
            stop = stops.get(kind, rng.randint(183, 1100))
            self.add_course(anakinra, 0, stop, "sc", "anakinra")
            if rng.random() < 0.3:
                self.add_course("adalimumab", stop + rng.randint(0, 60), None, "sc")

    # -- assessments -----------------------------------------------------------------

    def add_assessment(self, offset: int, pga: str | None) -> None:
        if offset in self.assessments:
            return
        row = {"patient_id": self.patient_id, "date": self.day(offset), "pga": pga or ""}
        if self.rng.random() < 0.3:
            row["pga_vas"] = str(self.rng.randint(0, 10))
        if self.rng.random() < 0.3:
            row["bone_pain"] = self.rng.choice(["yes", "no", "Y", "N", "true", "0"])
        self.assessments[offset] = row

    def random_pga(self, worst: int) -> str:
        level = PGA_LEVELS[min(self.rng.randint(0, worst), 4)]
        return _mixed_case(self.rng, level)

    def add_assessments(self) -> None:
        rng, kind = self.rng, self.kind
        if kind in ("stopped_long", "stopped_182") and rng.random() < 0.08:
            return  # eligible by the stop date, with no assessment at all
        for timepoint, worst in ((BASELINE, 6), (MONTH6, 3)):
            pattern = rng.choice(TIMEPOINT_PATTERNS + ["empty_nearer", "empty_nearer"])
            if pattern == "empty_nearer":
                target, low, high = timepoint
                self.add_assessment(target + rng.choice([-1, 0, 1]), None)
                self.add_assessment(rng.choice([low, high, target - 20, target + 10]), self.random_pga(worst))
                continue
            for offset in _pattern_days(rng, pattern, timepoint):
                self.add_assessment(offset, None if rng.random() < 0.1 else self.random_pga(worst))
        if rng.random() < 0.4:
            self.add_assessment(-rng.randint(120, 600), self.random_pga(4))
        for _ in range(rng.randint(0, 4)):
            self.add_assessment(rng.randint(250, 1100), self.random_pga(2))
        if rng.random() < 0.3:  # the latest visit has no PGA
            latest = max(self.assessments, default=0)
            self.add_assessment(latest + rng.randint(1, 120), None)
        if kind == "ongoing_late_empty_pga":
            for offset in [offset for offset in self.assessments if offset >= 182]:
                del self.assessments[offset]
            self.add_assessment(182, None)
        elif kind == "ongoing_late" and max(self.assessments, default=0) < 182:
            self.add_assessment(rng.choice([182, rng.randint(183, 700)]), self.random_pga(2))
        elif kind == "ongoing_short":
            for offset in [offset for offset in self.assessments if offset >= 182]:
                del self.assessments[offset]
            if rng.random() < 0.6:
                self.add_assessment(181, self.random_pga(2))

    # -- labs --------------------------------------------------------------------------

    def random_lab(self, test: str, later: bool = False) -> dict:
        """An ESR or CRP row; ``later`` values run lower (treatment works, mostly)."""
        rng = self.rng
        top = 0.3 if later else 1.0
        row = {"test": _mixed_case(rng, test)}
        if test == "ESR":
            row["unit"] = rng.choice(["mm/h", "mm/h", "MM/H"])
            roll = rng.random()
            if roll < 0.2:
                value = "20"
            elif roll < 0.25:
                value = "20.0"
            elif roll < 0.3:
                value = "<2"
            elif roll < 0.33:
                value = ">140"
            else:
                value = str(rng.randint(2, int(90 * top)))
            if rng.random() < 0.25:
                row["ref_high"] = rng.choice(["10", "15", "20", "25", value.strip("<>")])
        else:
            per_dl = rng.random() < 0.45
            row["unit"] = rng.choice(["mg/dL", "mg/dl", "MG/DL"]) if per_dl else rng.choice(["mg/L", "mg/l"])
            roll = rng.random()
            if per_dl:
                if roll < 0.2:
                    value = "0.5"
                elif roll < 0.3:
                    value = "<0.5"
                elif roll < 0.35:
                    value = rng.choice(["0.49", "0.51", "<0.3"])
                else:
                    value = f"{rng.uniform(0.02, 15 * top):.2f}"
                if rng.random() < 0.25:
                    row["ref_high"] = rng.choice(["0.5", "0.3", "1", "0.8", value.strip("<>")])
            else:
                if roll < 0.2:
                    value = "5"
                elif roll < 0.3:
                    value = rng.choice(["<5", "<0.5", "<3", "<6"])
                elif roll < 0.35:
                    value = rng.choice(["4.9", "5.1", "5.0"])
                else:
                    value = f"{rng.uniform(0.2, 150 * top):.1f}"
                if rng.random() < 0.25:
                    row["ref_high"] = rng.choice(["3", "5", "10", "8.0", value.strip("<>")])
        row["value"] = value
        if "ref_high" in row and rng.random() < 0.5:
            row["ref_low"] = "0"
        return row

    def add_lab(self, offset: int, test: str, row: dict) -> None:
        if (offset, test) in self.labs:
            return
        row = dict(row, patient_id=self.patient_id, date=self.day(offset))
        self.labs[(offset, test)] = row

    def add_labs(self) -> None:
        rng = self.rng
        for test in ("ESR", "CRP"):
            for timepoint in (BASELINE, MONTH6):
                pattern = rng.choice(TIMEPOINT_PATTERNS + ["one", "tie", "multi"])
                for offset in _pattern_days(rng, pattern, timepoint):
                    self.add_lab(offset, test, self.random_lab(test, later=timepoint is MONTH6))
            for _ in range(rng.randint(0, 2)):
                self.add_lab(rng.choice([-rng.randint(91, 400), rng.randint(241, 900)]), test, self.random_lab(test))
        if rng.random() < 0.3:
            self.add_lab(0, "SAA", {"test": "SAA", "value": str(rng.randint(1, 300)), "unit": "mg/L"})
        self.make_month6_equal_baseline()

    def make_month6_equal_baseline(self) -> None:
        """Sometimes the month-6 value equals the baseline one (CRP in the other unit)."""
        rng = self.rng
        for test in ("ESR", "CRP"):
            if rng.random() > 0.2:
                continue
            days = [offset for offset, row_test in self.labs if row_test == test]
            base_day, m6_day = chosen_day(days, *BASELINE), chosen_day(days, *MONTH6)
            if base_day is None or m6_day is None:
                continue
            base, follow = self.labs[(base_day, test)], self.labs[(m6_day, test)]
            if base["value"][0] in "<>":
                continue
            follow["value"] = base["value"]
            follow["unit"] = base["unit"]
            follow.pop("ref_high", None)
            follow.pop("ref_low", None)
            if test == "CRP":
                amount = Decimal(base["value"])
                if base["unit"].lower() == "mg/dl":
                    follow["value"], follow["unit"] = format((amount * 10).normalize(), "f"), "mg/L"
                else:
                    follow["value"], follow["unit"] = format((amount / 10).normalize(), "f"), "mg/dL"

    # -- imaging -----------------------------------------------------------------------

    def new_lesion_id(self) -> str:
        lesion_id = f"L{self.next_lesion_id}"
        self.next_lesion_id += 1
        return lesion_id

    def random_site(self, bones: list[str]) -> tuple[str, str, str]:
        bone = self.rng.choice(bones)
        sides, segments = BONES[bone]
        return bone, self.rng.choice(sides), self.rng.choice(segments)

    def random_lesion(self, site) -> dict:
        rng = self.rng
        bone, side, segment = site
        return {
            "bone": bone,
            "side": side,
            "segment": segment,
            "activity": rng.choices(["", "active", "Active", "inactive"], [0.55, 0.2, 0.1, 0.15])[0],
            "grade": rng.choice(["", "", "1", "2", "3"]),
            "symptomatic": rng.choice(["", "", "yes", "no", "no", "Yes", "NO"]),
            "lesion_id": self.new_lesion_id() if rng.random() < 0.3 else "",
        }

    def random_lesions(self, bones: list[str], count: int) -> list[dict]:
        lesions: list[dict] = []
        for _ in range(count * 2):
            if len(lesions) >= count:
                break
            _add_unique(lesions, self.random_lesion(self.random_site(bones)))
        return lesions

    def follow_lesions(self, earlier: list[dict], bones: list[str]) -> list[dict]:
        """A later study derived from an earlier one, exercising every matching rule."""
        rng = self.rng
        later: list[dict] = []
        for lesion in earlier:
            roll = rng.random()
            follow = self.random_lesion((lesion["bone"], lesion["side"], lesion["segment"]))
            follow["lesion_id"] = lesion["lesion_id"] if rng.random() < 0.7 else follow["lesion_id"]
            follow["activity"] = rng.choice(["", "", "active"])
            sides, segments = BONES[lesion["bone"]]
            if roll < 0.25:
                continue  # absent at the later study
            elif roll < 0.5:
                grade = lesion["grade"] or "2"
                follow["grade"] = rng.choice(["", grade, str(max(1, int(grade) - 1)), str(min(3, int(grade) + 1))])
            elif roll < 0.6:
                follow["segment"] = ""  # rule 3 candidate
            elif roll < 0.67:
                follow["segment"] = rng.choice(segments)  # maybe a segment where there was none
            elif roll < 0.74:
                if not lesion["lesion_id"]:
                    lesion["lesion_id"] = self.new_lesion_id()
                follow = self.random_lesion(self.random_site(bones))
                follow["lesion_id"] = lesion["lesion_id"]  # rule 1 at a different site
            elif roll < 0.82:
                follow["activity"] = rng.choice(["inactive", "Inactive"])
            elif roll < 0.88:
                follow["lesion_id"] = self.new_lesion_id()  # a different id at the same site
                if not lesion["lesion_id"]:
                    lesion["lesion_id"] = self.new_lesion_id()
            elif roll < 0.94 and len(sides) == 2:
                follow["side"] = "right" if lesion["side"] == "left" else "left"
            _add_unique(later, follow)
        for _ in range(rng.choice([0, 0, 1, 1, 2, 3])):
            new = self.random_lesion(self.random_site(bones))
            new["activity"] = rng.choice(["", "active", "inactive"])
            _add_unique(later, new)
        return later

    def add_study(self, offset: int, modality: str, lesions: list[dict]) -> None:
        study_id = f"{self.patient_id}-S{len(self.studies) + 1}"
        self.studies.append(
            {"patient_id": self.patient_id, "study_id": study_id, "date": self.day(offset), "modality": modality}
        )
        for lesion in lesions:
            row = dict(lesion, study_id=study_id)
            for column in ("bone", "side", "segment"):
                row[column] = _mixed_case(self.rng, row[column])
            self.lesions.append(row)

    def add_imaging(self) -> None:
        rng = self.rng
        bones = rng.sample(list(BONES), rng.randint(2, 5))  # few bones: many shared bone+side
        days = set()
        for timepoint in (BASELINE, MONTH6):
            days.update(_pattern_days(rng, rng.choice(TIMEPOINT_PATTERNS), timepoint))
        if rng.random() < 0.3:
            days.add(-rng.randint(100, 400))
        if rng.random() < 0.4:
            days.add(rng.randint(300, 900))
        base_day, m6_day = chosen_day(days, *BASELINE), chosen_day(days, *MONTH6)
        baseline = self.random_lesions(bones, rng.choice([0, 1, 3, 5, 7, 9]))
        month6 = self.follow_lesions(baseline, bones)  # may give baseline lesions an id
        for offset in sorted(days):
            if offset == base_day:
                lesions = baseline
            elif offset == m6_day:
                lesions = month6
            else:
                lesions = self.follow_lesions(self.random_lesions(bones, rng.randint(0, 5)), bones)
            self.add_study(offset, _mixed_case(rng, "bone_scintigraphy"), lesions)
        for _ in range(rng.choice([0, 0, 1, 2])):  # decoys on other modalities, near the targets
            offset = rng.choice([0, 1, -1, 182, 181, 183, base_day or 0, m6_day or 182])
            modality = rng.choice(["wb_mri", "wb_mri", "WB_MRI", "mri"])
            self.add_study(offset, modality, self.random_lesions(bones, rng.randint(1, 5)))


def _site_key(lesion: dict) -> tuple[str, str, str]:
    return (lesion["bone"].lower(), lesion["side"].lower(), lesion["segment"].lower())


def _add_unique(lesions: list[dict], lesion: dict) -> None:
    """Add a lesion to a study's list unless its site is taken; drop a clashing lesion_id."""
    if any(_site_key(other) == _site_key(lesion) for other in lesions):
        return
    if lesion["lesion_id"] and any(other["lesion_id"] == lesion["lesion_id"] for other in lesions):
        lesion = dict(lesion, lesion_id="")
    lesions.append(lesion)


def _patient_row(rng: random.Random, patient: _Patient) -> dict:
    index = patient.index
    birth = index - timedelta(days=rng.randint(2800, 16 * 365))  # always before the onset
    onset = index - timedelta(days=rng.randint(1600, 2600))  # before every treatment
    row = {
        "patient_id": patient.patient_id,
        "sex": rng.choice(["F", "F", "M", "M", "U", "f", "m", "female", "Female", "MALE", "male"]),
        "birth_date": _iso(birth) if rng.random() < 0.7 else _iso(birth)[:7],
        "center": rng.choice(["Rome", "Genoa", "", "Milan"]),
    }
    if rng.random() < 0.7:
        row["onset_date"] = _iso(onset)
    if rng.random() < 0.7:
        row["diagnosis_date"] = _iso(onset + timedelta(days=rng.randint(30, 200)))
    return row


def _kinds(rng: random.Random, n_patients: int) -> list[str]:
    """Every kind of patient once (two eligible per excluded), then random ones."""
    eligible, excluded = ELIGIBLE_KINDS[:], EXCLUDED_KINDS[:]
    rng.shuffle(eligible)
    rng.shuffle(excluded)
    kinds: list[str] = []
    while eligible or excluded:
        for _ in range(2):
            if eligible:
                kinds.append(eligible.pop())
        if excluded:
            kinds.append(excluded.pop())
    while len(kinds) < n_patients:
        pool = ELIGIBLE_KINDS if rng.random() < 0.7 else EXCLUDED_KINDS
        kinds.append(rng.choice(pool))
    return kinds[:n_patients]


def _header(rng: random.Random, columns: list[str]) -> list[str]:
    roll = rng.random()
    if roll < 0.6:
        return columns
    if roll < 0.75:
        return [column.upper() for column in columns]
    if roll < 0.9:
        return [column.title() for column in columns]
    return [f" {column} " for column in columns]


def _write_table(rng: random.Random, folder: pathlib.Path, name: str, rows: list[dict]) -> None:
    columns = COLUMNS[name][:]
    if rng.random() < 0.3:
        rng.shuffle(columns)
    rows = rows[:]
    rng.shuffle(rows)
    with (folder / f"{name}.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(_header(rng, columns))
        for row in rows:
            writer.writerow([row.get(column, "") for column in columns])


def make_holdout_cohort(seed: int, n_patients: int, folder: pathlib.Path) -> None:
    """Write a random, valid, adversarial exchange-format CSV folder for ``seed``."""
    rng = random.Random(seed)
    folder = pathlib.Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    tables: dict[str, list[dict]] = {name: [] for name in COLUMNS}
    for number, kind in enumerate(_kinds(rng, n_patients), start=1):
        patient_id = f"{'h' if rng.random() < 0.1 else 'H'}{number:03d}"
        index = date(2010, 1, 1) + timedelta(days=rng.randint(0, 12 * 365))
        patient = _Patient(rng, patient_id, kind, index)
        patient.add_treatments()
        patient.add_assessments()
        patient.add_labs()
        patient.add_imaging()
        tables["patients"].append(_patient_row(rng, patient))
        tables["treatments"].extend(patient.courses.values())
        tables["assessments"].extend(patient.assessments.values())
        tables["labs"].extend(patient.labs.values())
        tables["imaging"].extend(patient.studies)
        tables["lesions"].extend(patient.lesions)
    for name, rows in tables.items():
        _write_table(rng, folder, name, rows)
