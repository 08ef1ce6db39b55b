"""An independent reference implementation of the built-in protocol ``pardeo2017``.

This module exists only to cross-check cnotrack's own engine. It is written apart from
it, on purpose in a different style: the standard library only (``csv``, ``datetime``,
``fractions``, ``statistics``), no Polars, no cnotrack import, and it walks the cohort
patient by patient, one plain loop per rule of ``seed-protocol.md`` and of the lesion
matching of ``exchange-format.md``. Clarity matters more than speed here; where the
engine and this module disagree on a dataset, one of the two has a bug.

``evaluate_reference(folder)`` reads a folder of exchange-format CSV files (only
``patients.csv`` is required; a missing table has no rows) that is assumed to be valid,
and returns the JSON structure of ``seed-protocol.md``::

    {"protocol": "pardeo2017",
     "cohort": {"n": ..., "female": ..., "excluded": [{"patient_id": ..., "reason": ...}]},
     "endpoints": {"cohort.n": ..., "baseline.pga_mild_or_worse": {"n", "of", "missing"}, ...,
                   "month6.lesions.patients_missing": ...,
                   "last_followup.years": {"n", "median", "min", "max", "q1", "q3"}}}

Decisions where the specification leaves a choice (shared with the main engine):

* Column names and vocabulary values are compared case-insensitively after trimming;
  identifiers (patient_id, study_id, lesion_id) are case-sensitive (only trimmed).
* The index course is the patient's earliest ``anakinra`` course (brand ``Kineret``
  accepted). Prior courses must start strictly before the index date. A glucocorticoid
  course is systemic unless its route is ``topical``.
* The course lasted >= 182 days when ``stop - start >= 182`` days, or when it is ongoing
  and any assessment row (even with an empty PGA) is dated >= index + 182 days.
* Windows are inclusive, in days from the index date; the closest row to the target wins,
  a tie goes to the earlier date, rows with an empty value are ignored.
* A proportion's ``missing`` counts patients lacking any value the definition needs.
* Lab values are compared exactly (``fractions.Fraction`` parsed from the text), so that
  0.57 mg/dL is exactly 5.7 mg/L where binary floats give 5.699999999999999. ``<x`` is
  compared as x; ``>x`` is elevated when x >= limit and otherwise compared as x.
* Two anakinra courses (or two scintigraphies) on the same earliest date: the first row
  in file order wins (the hold-out generator never writes such ties).
* ``last_followup.years`` with no eligible patient having an assessment: n = 0 and the
  statistics are None.
* Language v2 (issue 10), under ``"v2"`` in the result: the lesion fates of baseline to month 6
  per region of the bone (``REGION_OF_BONE``) and per symptomatic value (``symptomatic``,
  ``not_symptomatic``), counted AFTER matching all active lesions: a lesion of the baseline study
  takes its own bone and symptomatic value, a new lesion its own; and the change in
  ``pga_vas`` (month 6 minus baseline) as a distribution.
* Settled in issue 10: the last follow-up PGA is the PGA recorded on the latest assessment
  date (of any assessment row); a latest visit without a PGA leaves it missing (v1 took the
  closest PGA at any distance). A new lesion with an empty ``symptomatic`` counts as not
  symptomatic (v1 made the patient missing in the symptomatic proportion).
"""

from __future__ import annotations

import csv
import math
import pathlib
import statistics
from datetime import date
from fractions import Fraction

__all__ = ["REGION_OF_BONE", "evaluate_reference"]

PROTOCOL = "pardeo2017"

# --- vocabulary the reference needs -------------------------------------------------

DRUG_CLASS = {
    "naproxen": "nsaid",
    "ibuprofen": "nsaid",
    "indomethacin": "nsaid",
    "pamidronate": "bisphosphonate",
    "zoledronic acid": "bisphosphonate",
    "prednisone": "glucocorticoid",
    "methylprednisolone": "glucocorticoid",
    "anakinra": "biologic",
    "kineret": "biologic",
    "adalimumab": "biologic",
}
BRAND_TO_GENERIC = {"kineret": "anakinra"}

PGA_ORDER = ["none", "minimal", "mild", "moderate", "severe"]

# Regions of the bones the hold-out generator writes, from the exchange format's site list
# (written out here by hand, not read from cnotrack's vocabulary).
REGION_OF_BONE = {
    "femur": "lower_limb", "tibia": "lower_limb", "fibula": "lower_limb", "calcaneus": "lower_limb",
    "clavicle": "chest_shoulder", "t5": "spine", "l2": "spine", "t7": "spine", "sacrum": "pelvis",
    "ilium": "pelvis",
}
FATE_NAMES = ["baseline", "resolved", "stable", "improved", "worsened", "new"]

DEFAULT_LIMIT_MG_L_OR_MM_H = {"esr": Fraction(20), "crp": Fraction(5)}

BASELINE_TARGET, BASELINE_WINDOW = 0, (-90, 14)
MONTH6_TARGET, MONTH6_WINDOW = 182, (120, 240)
MIN_COURSE_DAYS = 182

TRUE_WORDS = {"yes", "y", "true", "1"}
FALSE_WORDS = {"no", "n", "false", "0"}


# --- reading the folder ---------------------------------------------------------------


def read_table(folder: pathlib.Path, name: str) -> list[dict[str, str]]:
    """Rows of ``name.csv`` as dicts keyed by lower-case trimmed column names.

    Every cell is trimmed; a missing file means no rows.
    """
    path = pathlib.Path(folder) / f"{name}.csv"
    if not path.exists():
        return []
    rows = []
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header is None:
            return []
        columns = [column.strip().lower() for column in header]
        for cells in reader:
            if not any(cell.strip() for cell in cells):
                continue
            row = {}
            for column, cell in zip(columns, cells):
                row[column] = cell.strip()
            rows.append(row)
    return rows


def cell(row: dict[str, str], column: str) -> str:
    """The trimmed text of a cell, '' when the column or the value is absent."""
    return row.get(column, "") or ""


def word(row: dict[str, str], column: str) -> str:
    """A vocabulary cell in the form it is compared: trimmed, lower-case."""
    return cell(row, column).lower()


def parse_date(text: str) -> date | None:
    if not text:
        return None
    return date.fromisoformat(text[:10])


def parse_boolean(text: str) -> bool | None:
    text = text.strip().lower()
    if text in TRUE_WORDS:
        return True
    if text in FALSE_WORDS:
        return False
    return None


# --- choosing the value at a timepoint ----------------------------------------------


def closest_in_window(dated_items, index_date, target, window):
    """The item whose date is closest to ``index + target`` with day in ``window``.

    ``dated_items`` is a list of (date, item) in file order. A tie goes to the earlier
    date; two items on the very same date keep file order (the first wins).
    """
    low, high = window
    best = None
    best_key = None
    for item_date, item in dated_items:
        day = (item_date - index_date).days
        if day < low or day > high:
            continue
        key = (abs(day - target), item_date)
        if best_key is None or key < best_key:
            best_key = key
            best = item
    return best


# --- labs -----------------------------------------------------------------------------


class LabValue:
    """One ESR or CRP result, in mm/h (ESR) or mg/L (CRP), with its upper limit."""

    def __init__(self, number: Fraction, censor: str, limit: Fraction):
        self.number = number  # the x of "<x" / ">x", or the plain value
        self.censor = censor  # "", "<" or ">"
        self.limit = limit

    def is_elevated(self) -> bool:
        if self.censor == ">":
            return self.number >= self.limit
        return self.number > self.limit

    def is_normal(self) -> bool:
        return not self.is_elevated()

    def is_below(self, other: "LabValue") -> bool:
        """Lower than another value (a baseline one): compared as their numbers."""
        return self.number < other.number

    def __repr__(self) -> str:
        return f"LabValue({self.censor}{self.number}, limit={self.limit})"


def parse_lab_value(row: dict[str, str]) -> LabValue | None:
    """A lab row's value converted to the protocol's units, or None when empty."""
    text = cell(row, "value").replace(" ", "")
    if not text:
        return None
    censor = ""
    if text[0] in "<>":
        censor, text = text[0], text[1:]
    number = Fraction(text)
    test = word(row, "test")
    unit = word(row, "unit").replace(" ", "")
    factor = Fraction(10) if (test == "crp" and unit == "mg/dl") else Fraction(1)
    ref_high_text = cell(row, "ref_high")
    if ref_high_text:
        limit = Fraction(ref_high_text) * factor
    else:
        limit = DEFAULT_LIMIT_MG_L_OR_MM_H[test]
    return LabValue(number * factor, censor, limit)


# --- lesions --------------------------------------------------------------------------


class Lesion:
    def __init__(self, row: dict[str, str]):
        self.bone = word(row, "bone")
        self.side = word(row, "side")
        self.segment = word(row, "segment")
        self.lesion_id = cell(row, "lesion_id")
        activity = word(row, "activity")
        self.active = activity in ("", "active")
        grade = cell(row, "grade")
        self.grade = int(grade) if grade else None
        self.symptomatic = parse_boolean(cell(row, "symptomatic"))

    def site(self):
        return (self.bone, self.side, self.segment)

    def __repr__(self) -> str:
        return f"Lesion({self.site()}, id={self.lesion_id!r}, grade={self.grade})"


def have_different_ids(a: Lesion, b: Lesion) -> bool:
    return bool(a.lesion_id) and bool(b.lesion_id) and a.lesion_id != b.lesion_id


def match_lesions(earlier: list[Lesion], later: list[Lesion]) -> dict[int, int]:
    """Match active lesions of two studies by rules 1-3; returns {earlier idx: later idx}."""
    early = [i for i, lesion in enumerate(earlier) if lesion.active]
    late = [j for j, lesion in enumerate(later) if lesion.active]
    matched: dict[int, int] = {}
    taken: set[int] = set()

    # Rule 1: a shared lesion_id.
    for i in early:
        if not earlier[i].lesion_id:
            continue
        for j in late:
            if j in taken:
                continue
            if later[j].lesion_id == earlier[i].lesion_id:
                matched[i] = j
                taken.add(j)
                break

    # Rule 2: same bone, side and segment, never across different lesion_ids.
    for i in early:
        if i in matched:
            continue
        for j in late:
            if j in taken:
                continue
            if later[j].site() != earlier[i].site():
                continue
            if have_different_ids(earlier[i], later[j]):
                continue
            matched[i] = j
            taken.add(j)
            break

    # Rule 3: same bone and side, one of the two without segment, and exactly one
    # still-unmatched lesion of each study with that bone and side.
    unmatched_early = [i for i in early if i not in matched]
    unmatched_late = [j for j in late if j not in taken]
    for i in unmatched_early:
        bone_side = (earlier[i].bone, earlier[i].side)
        same_early = [k for k in unmatched_early if (earlier[k].bone, earlier[k].side) == bone_side]
        same_late = [k for k in unmatched_late if (later[k].bone, later[k].side) == bone_side]
        if len(same_early) != 1 or len(same_late) != 1:
            continue
        j = same_late[0]
        if earlier[i].segment and later[j].segment:
            continue
        if have_different_ids(earlier[i], later[j]):
            continue
        matched[i] = j
        taken.add(j)
    return matched


def lesion_fates(earlier: list[Lesion], later: list[Lesion]):
    """(fates of the active earlier lesions, the new active later lesions)."""
    matched = match_lesions(earlier, later)
    fates = []
    for i, lesion in enumerate(earlier):
        if not lesion.active:
            continue
        if i not in matched:
            fates.append("resolved")
            continue
        follow = later[matched[i]]
        if lesion.grade is not None and follow.grade is not None:
            if follow.grade < lesion.grade:
                fates.append("improved")
            elif follow.grade > lesion.grade:
                fates.append("worsened")
            else:
                fates.append("stable")
        else:
            fates.append("stable")
    matched_later = set(matched.values())
    new = [lesion for j, lesion in enumerate(later) if lesion.active and j not in matched_later]
    return fates, new


# --- the evaluation -------------------------------------------------------------------


def proportion(n: int, of: int, missing: int) -> dict[str, int]:
    return {"n": n, "of": of, "missing": missing}


def percentile_linear(sorted_values: list[float], fraction: float) -> float:
    """numpy.percentile(..., method='linear'), including numpy's two-sided lerp."""
    position = (len(sorted_values) - 1) * fraction
    low = math.floor(position)
    high = min(low + 1, len(sorted_values) - 1)
    t = position - low
    a, b = sorted_values[low], sorted_values[high]
    if t >= 0.5:
        return b - (b - a) * (1 - t)
    return a + (b - a) * t


def distribution(values: list[float]) -> dict:
    if not values:
        return {"n": 0, "median": None, "min": None, "max": None, "q1": None, "q3": None}
    ordered = sorted(values)
    return {
        "n": len(ordered),
        "median": statistics.median(ordered),
        "min": ordered[0],
        "max": ordered[-1],
        "q1": percentile_linear(ordered, 0.25),
        "q3": percentile_linear(ordered, 0.75),
    }


def evaluate_reference(folder: pathlib.Path) -> dict:
    """Evaluate ``pardeo2017`` on the CSV folder, patient by patient."""
    folder = pathlib.Path(folder)
    patients = read_table(folder, "patients")
    treatments = read_table(folder, "treatments")
    assessments = read_table(folder, "assessments")
    labs = read_table(folder, "labs")
    imaging = read_table(folder, "imaging")
    lesion_rows = read_table(folder, "lesions")

    lesions_by_study: dict[str, list[Lesion]] = {}
    for row in lesion_rows:
        lesions_by_study.setdefault(cell(row, "study_id"), []).append(Lesion(row))

    eligible = []  # (patient row, index date)
    excluded = []
    for patient in patients:
        patient_id = cell(patient, "patient_id")
        courses = [row for row in treatments if cell(row, "patient_id") == patient_id]
        patient_assessments = [row for row in assessments if cell(row, "patient_id") == patient_id]

        anakinra = []
        for row in courses:
            drug = word(row, "drug")
            if BRAND_TO_GENERIC.get(drug, drug) == "anakinra":
                anakinra.append(row)
        if not anakinra:
            excluded.append({"patient_id": patient_id, "reason": "no anakinra course"})
            continue
        index_course = min(anakinra, key=lambda row: parse_date(cell(row, "start_date")))
        index_date = parse_date(cell(index_course, "start_date"))

        prior_nsaid = False
        prior_bisphosphonate_or_systemic_gc = False
        for row in courses:
            start = parse_date(cell(row, "start_date"))
            if start >= index_date:
                continue
            drug_class = DRUG_CLASS.get(word(row, "drug"))
            if drug_class == "nsaid":
                prior_nsaid = True
            if drug_class == "bisphosphonate":
                prior_bisphosphonate_or_systemic_gc = True
            if drug_class == "glucocorticoid" and word(row, "route") != "topical":
                prior_bisphosphonate_or_systemic_gc = True
        if not prior_nsaid:
            excluded.append({"patient_id": patient_id, "reason": "no NSAID course before anakinra"})
            continue
        if not prior_bisphosphonate_or_systemic_gc:
            excluded.append(
                {
                    "patient_id": patient_id,
                    "reason": "no bisphosphonate or systemic glucocorticoid course before anakinra",
                }
            )
            continue

        stop = parse_date(cell(index_course, "stop_date"))
        if stop is not None:
            long_enough = (stop - index_date).days >= MIN_COURSE_DAYS
        else:
            long_enough = False
            for row in patient_assessments:
                if (parse_date(cell(row, "date")) - index_date).days >= MIN_COURSE_DAYS:
                    long_enough = True
        if not long_enough:
            excluded.append(
                {"patient_id": patient_id, "reason": "anakinra course shorter than 182 days"}
            )
            continue
        eligible.append((patient, index_date))

    excluded.sort(key=lambda item: item["patient_id"])

    n_eligible = len(eligible)
    female = 0
    baseline_pga_mild = [0, 0]  # n, missing
    month6_pga_low = [0, 0]
    esr_crp_elevated = [0, 0]
    esr_crp_normalized = [0, 0]
    esr_crp_decreased = [0, 0]
    lesion_counts = {"baseline_total": 0, "resolved": 0, "stable": 0, "improved": 0, "worsened": 0, "new": 0}
    lesions_missing = 0
    patients_with_new = 0
    patients_with_new_of_symptomatic = [0, 0, 0]  # n, of, missing
    last_pga_low = [0, 0]
    followup_years = []
    # language v2 (issue 10): lesion fates under filters, applied after matching, and the change
    # in physician global VAS from baseline to month 6
    filtered = {}
    pga_vas_changes = []

    for patient, index_date in eligible:
        patient_id = cell(patient, "patient_id")
        if word(patient, "sex") in ("f", "female"):
            female += 1

        # PGA, from assessments with a non-empty pga.
        patient_assessments = [row for row in assessments if cell(row, "patient_id") == patient_id]
        pga_rows = [
            (parse_date(cell(row, "date")), word(row, "pga"))
            for row in patient_assessments
            if word(row, "pga")
        ]
        baseline_pga = closest_in_window(pga_rows, index_date, BASELINE_TARGET, BASELINE_WINDOW)
        month6_pga = closest_in_window(pga_rows, index_date, MONTH6_TARGET, MONTH6_WINDOW)

        if baseline_pga is None:
            baseline_pga_mild[1] += 1
        elif PGA_ORDER.index(baseline_pga) >= PGA_ORDER.index("mild"):
            baseline_pga_mild[0] += 1

        if month6_pga is None:
            month6_pga_low[1] += 1
        elif month6_pga in ("none", "minimal"):
            month6_pga_low[0] += 1

        # Last follow-up: the latest assessment row; a PGA only when dated on that day.
        last_pga = None
        if patient_assessments:
            last_date = max(parse_date(cell(row, "date")) for row in patient_assessments)
            followup_years.append((last_date - index_date).days / 365.25)
            for pga_date, pga in pga_rows:
                if pga_date == last_date:
                    last_pga = pga
                    break
        if last_pga is None:
            last_pga_low[1] += 1
        elif last_pga in ("none", "minimal"):
            last_pga_low[0] += 1

        # Physician global VAS change (month 6 minus baseline), from rows with a pga_vas.
        vas_rows = [(parse_date(cell(row, "date")), float(cell(row, "pga_vas")))
                    for row in patient_assessments if cell(row, "pga_vas")]
        vas_baseline = closest_in_window(vas_rows, index_date, BASELINE_TARGET, BASELINE_WINDOW)
        vas_month6 = closest_in_window(vas_rows, index_date, MONTH6_TARGET, MONTH6_WINDOW)
        if vas_baseline is not None and vas_month6 is not None:
            pga_vas_changes.append(vas_month6 - vas_baseline)

        # ESR and CRP.
        values = {}
        for test in ("esr", "crp"):
            rows = []
            for row in labs:
                if cell(row, "patient_id") != patient_id or word(row, "test") != test:
                    continue
                value = parse_lab_value(row)
                if value is None:
                    continue
                rows.append((parse_date(cell(row, "date")), value))
            values[("baseline", test)] = closest_in_window(
                rows, index_date, BASELINE_TARGET, BASELINE_WINDOW
            )
            values[("month6", test)] = closest_in_window(
                rows, index_date, MONTH6_TARGET, MONTH6_WINDOW
            )
        base_esr = values[("baseline", "esr")]
        base_crp = values[("baseline", "crp")]
        m6_esr = values[("month6", "esr")]
        m6_crp = values[("month6", "crp")]

        if base_esr is None or base_crp is None:
            esr_crp_elevated[1] += 1
        elif base_esr.is_elevated() and base_crp.is_elevated():
            esr_crp_elevated[0] += 1

        if None in (base_esr, base_crp, m6_esr, m6_crp):
            esr_crp_normalized[1] += 1
            esr_crp_decreased[1] += 1
        else:
            if (base_esr.is_elevated() or base_crp.is_elevated()) and (
                m6_esr.is_normal() and m6_crp.is_normal()
            ):
                esr_crp_normalized[0] += 1
            if m6_esr.is_below(base_esr) and m6_crp.is_below(base_crp):
                esr_crp_decreased[0] += 1

        # Lesions on bone scintigraphy.
        studies = [
            (parse_date(cell(row, "date")), cell(row, "study_id"))
            for row in imaging
            if cell(row, "patient_id") == patient_id
            and word(row, "modality") == "bone_scintigraphy"
        ]
        baseline_study = closest_in_window(studies, index_date, BASELINE_TARGET, BASELINE_WINDOW)
        month6_study = closest_in_window(studies, index_date, MONTH6_TARGET, MONTH6_WINDOW)
        if baseline_study is None or month6_study is None:
            lesions_missing += 1
            continue
        fates, new = lesion_fates(
            lesions_by_study.get(baseline_study, []), lesions_by_study.get(month6_study, [])
        )
        lesion_counts["baseline_total"] += len(fates)
        for fate in fates:
            lesion_counts[fate] += 1
        lesion_counts["new"] += len(new)
        baseline_lesions = [lesion for lesion in lesions_by_study.get(baseline_study, []) if lesion.active]
        kept_rows = [(lesion, fate) for lesion, fate in zip(baseline_lesions, fates)]
        kept_rows += [(lesion, "new") for lesion in new]
        for lesion, fate in kept_rows:
            names = [REGION_OF_BONE.get(lesion.bone, "unknown")]
            names.append("symptomatic" if lesion.symptomatic is True else "not_symptomatic")
            for name in names:
                tally = filtered.setdefault(name, dict.fromkeys(FATE_NAMES, 0))
                tally[fate] += 1
                if fate != "new":
                    tally["baseline"] += 1
        if new:
            patients_with_new += 1
            patients_with_new_of_symptomatic[1] += 1
            # an empty symptomatic (None) counts as not symptomatic: only a True counts
            flags = [lesion.symptomatic for lesion in new]
            if True in flags:
                patients_with_new_of_symptomatic[0] += 1

    endpoints = {
        "cohort.n": n_eligible,
        "cohort.female": female,
        "baseline.pga_mild_or_worse": proportion(baseline_pga_mild[0], n_eligible, baseline_pga_mild[1]),
        "month6.pga_none_or_minimal": proportion(month6_pga_low[0], n_eligible, month6_pga_low[1]),
        "baseline.esr_and_crp_elevated": proportion(esr_crp_elevated[0], n_eligible, esr_crp_elevated[1]),
        "month6.esr_and_crp_normalized": proportion(
            esr_crp_normalized[0], n_eligible, esr_crp_normalized[1]
        ),
        "month6.esr_and_crp_decreased": proportion(esr_crp_decreased[0], n_eligible, esr_crp_decreased[1]),
        "month6.lesions.baseline_total": lesion_counts["baseline_total"],
        "month6.lesions.resolved": lesion_counts["resolved"],
        "month6.lesions.stable": lesion_counts["stable"],
        "month6.lesions.improved": lesion_counts["improved"],
        "month6.lesions.worsened": lesion_counts["worsened"],
        "month6.lesions.new": lesion_counts["new"],
        "month6.lesions.patients_missing": lesions_missing,
        "month6.patients_with_new_lesions": proportion(patients_with_new, n_eligible, lesions_missing),
        "month6.patients_with_symptomatic_new_lesions": proportion(*patients_with_new_of_symptomatic),
        "last_followup.pga_none_or_minimal": proportion(last_pga_low[0], n_eligible, last_pga_low[1]),
        "last_followup.years": distribution(followup_years),
    }
    v2 = {f"month6.lesions.{name}.{fate}": count
          for name, tally in sorted(filtered.items()) for fate, count in tally.items()}
    v2["month6.pga_vas_change"] = distribution(pga_vas_changes)
    return {
        "protocol": PROTOCOL,
        "cohort": {"n": n_eligible, "female": female, "excluded": excluded},
        "endpoints": endpoints,
        "v2": v2,
    }
