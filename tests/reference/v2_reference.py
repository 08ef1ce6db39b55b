"""An independent reference for protocol language v2, hard-wired to the protocol ``V2_PROTOCOL``.

Written apart from the engine (standard library only, no cnotrack import), patient by patient,
from the rules of ``docs/protocols.md``. It reuses the v1 reference's CSV reading, value choice,
lab parsing and lesion matching (``pardeo2017_reference``), which are themselves independent of
the engine. ``evaluate_v2_reference(folder)`` returns per patient the eligibility, the index
course, values, changes, percent changes, lesion counts, time-to-event days/events and groups,
and per endpoint / per group the results the engine must reproduce (see ``V2_PROTOCOL``).

Rules implemented here (each from docs/protocols.md or the settled choices):

* index course: the first biologic course (anakinra, brand Kineret, or adalimumab); on one start
  day the longer course first (an ongoing one first, then the later stop), then the drug name;
* eligibility: an NSAID course started before the index date; the index course lasts 90 days
  (stop - start >= 90, or ongoing with an assessment on day 90 or later); ``require`` is
  ``any(center in [Rome, Milan], age at index >= 9)`` where ``any`` does not short-circuit (a
  missing center makes it missing, and missing excludes); ``exclude`` a methylprednisolone
  course started before the index date; ``exclude_patients`` H005;
* values: closest to the target day inside the window, earlier on a tie, rows with an empty
  value ignored; studies of one date: the smaller study_id;
* change = to - from; percent change = 100 (to - from) / from, missing when from is 0;
* lesion filters are applied after matching all active lesions; a lesion of the earlier study
  takes its own bone/symptomatic, a new lesion its own; empty symptomatic = not symptomatic;
* time to event: days from the start to the first event strictly after it (day > 0), else
  censored at the last assessment (new_lesion: the last later study); without an event and
  without follow-up after the start the patient is left out; Kaplan-Meier by product limit.
"""

from __future__ import annotations

import pathlib
import statistics
from datetime import date

from reference.pardeo2017_reference import (
    REGION_OF_BONE,
    Lesion,
    cell,
    lesion_fates,
    parse_date,
    parse_lab_value,
    percentile_linear,
    read_table,
    word,
)

__all__ = ["INDEX_VARIANTS", "V2_PROTOCOL", "evaluate_v2_reference", "kaplan_meier", "km_median", "protocol_text"]

V2_PROTOCOL = """\
id: v2_check
title: v2 independent check
index_treatment: {classes: [biologic]}
eligibility:
  prior_treatments:
    - {label: an NSAID, classes: [nsaid]}
  minimum_course_days: 90
  require:
    - {any: [{center: {in: [Rome, Milan]}}, {age: {at: index, op: ">=", value: 9}}]}
  exclude:
    - {treatment: {drugs: [methylprednisolone], when: before_index}}
  exclude_patients:
    - {patient_id: H005, reason: declared duplicate}
timepoints:
  - {id: baseline, label: baseline, target_day: 0, window: [-90, 14]}
  - {id: month6, label: 6 months, target_day: 182, window: [120, 240]}
  - {id: last_followup, label: last follow-up, anchor: last_assessment}
imaging_modality: bone_scintigraphy
flare_definitions:
  biologic_gap_60:
    label: biologic restarted after 60 days without
    restart: {classes: [biologic]}
    gap_days: 60
compare:
  - {by: index_drug, groups: [anakinra, adalimumab]}
  - {by: sex, groups: [F, M]}
  - {id: rome, by: {center: {in: [Rome]}}}
endpoints:
  - {id: cohort.n, kind: count, label: patients, patients: all}
  - {id: pga_vas.change, kind: distribution, label: c, measure: {change: {of: pga_vas, from: baseline, to: month6}}}
  - {id: pga_vas.pchange, kind: distribution, label: c, measure: {percent_change: {of: pga_vas, from: baseline, to: month6}}}
  - {id: esr.month6, kind: distribution, label: c, measure: {value: {of: ESR, at: month6}}}
  - {id: crp.change, kind: distribution, label: c, measure: {change: {of: CRP, from: baseline, to: month6}}}
  - {id: crp.pchange, kind: distribution, label: c, measure: {percent_change: {of: CRP, from: baseline, to: month6}}}
  - {id: pga.change, kind: distribution, label: c, measure: {change: {of: pga, from: baseline, to: month6}}}
  - {id: lesions.change, kind: distribution, label: c, measure: {change: {of: lesions, from: baseline, to: month6}}}
  - {id: lesions.lower.baseline, kind: distribution, label: c, measure: {value: {of: lesions, at: baseline, regions: [lower_limb]}}}
  - {id: lesions.wb_mri.baseline, kind: distribution, label: c, measure: {lesion_count: {at: baseline, modality: wb_mri}}}
  - {id: age.onset, kind: distribution, label: c, measure: {age: {at: onset}}}
  - {id: esr.fell10, kind: proportion, label: c, criterion: {change: {of: ESR, from: baseline, to: month6, op: "<=", value: -10}}}
  - {id: crp.halved, kind: proportion, label: c, criterion: {change: {of: CRP, from: baseline, to: month6, op: "<=", value: -50, percent: true}}}
  - {id: pga.better, kind: proportion, label: c, criterion: {change: {of: pga, from: baseline, to: month6, op: "<", value: 0}}}
  - {id: new.sympt.lower, kind: proportion, label: c, criterion: {new_lesions: {from: baseline, to: month6, symptomatic: true, regions: [lower_limb]}}}
  - {id: new.spine, kind: proportion, label: c, criterion: {new_lesions: {from: baseline, to: month6, regions: [spine]}}, among: {center: {in: [Rome, Genoa]}}}
  - {id: lower.resolved, kind: count, label: c, lesions: {from: baseline, to: month6, fate: resolved, regions: [lower_limb]}}
  - {id: sympt.new, kind: count, label: c, lesions: {from: baseline, to: month6, fate: new, symptomatic: true}}
  - {id: silent.baseline, kind: count, label: c, lesions: {from: baseline, to: month6, fate: baseline, symptomatic: false}}
  - {id: clavicle.stable, kind: count, label: c, lesions: {from: baseline, to: month6, fate: stable, bones: [clavicle]}}
  - {id: wbmri.new, kind: count, label: c, lesions: {from: baseline, to: month6, fate: new, modality: wb_mri}}
  - {id: t_gc, kind: time_to_event, label: c, event: {treatment_started: {classes: [glucocorticoid]}}}
  - {id: t_stop, kind: time_to_event, label: c, event: {treatment_stopped: {reasons: [inefficacy, adverse_event]}}}
  - {id: t_stop_any, kind: time_to_event, label: c, event: {treatment_stopped: {}}}
  - {id: t_pga_none, kind: time_to_event, label: c, event: {pga_reached: {in: [none]}}}
  - {id: t_new_lower, kind: time_to_event, label: c, event: {new_lesion: {regions: [lower_limb]}}}
  - {id: t_new_any, kind: time_to_event, label: c, event: {new_lesion: {}}}
  - {id: t_flare, kind: time_to_event, label: c, event: {flare: {definition: biologic_gap_60}}}
  - {id: t_tnf_dx, kind: time_to_event, label: c, start: diagnosis, event: {treatment_started: {targets: [TNF]}}}
  - {id: t_second_line, kind: time_to_event, label: c, start: onset, event: {treatment_started: {line: second_line}}}
"""

# The index treatment of ``V2_PROTOCOL`` can be swapped (``protocol_text``): name -> (the YAML of
# ``index_treatment``, the two index drugs compared by ``compare: {by: index_drug}``).
INDEX_VARIANTS = {
    "biologic": ("{classes: [biologic]}", ["anakinra", "adalimumab"]),
    "drugs_or_target": ("{drugs: [anakinra], targets: [TNF]}", ["anakinra", "adalimumab"]),
    "second_line": ("{line: second_line}", ["pamidronate", "zoledronic acid"]),
    "first_biologic_il1": ("{line: first_biologic, targets: [IL-1]}", ["anakinra", "adalimumab"]),
}


def protocol_text(variant: str = "biologic") -> str:
    """``V2_PROTOCOL`` with the index treatment and the compared index drugs of ``variant``."""
    index, drugs = INDEX_VARIANTS[variant]
    return (V2_PROTOCOL.replace("index_treatment: {classes: [biologic]}", f"index_treatment: {index}")
            .replace("groups: [anakinra, adalimumab]", f"groups: [{', '.join(drugs)}]"))


def index_course_of(courses, variant: str):
    """The index course of the variant, or None (no such course, or a line course of another
    target). The n-th line starts with the first course of the n-th drug ranked by first start,
    so order 1 is the first course of the selection."""
    if variant == "second_line":
        chosen = [r for r in courses if CLASS_OF.get(drug_of(r)) in SECOND_LINE_CLASSES and word(r, "route") != "topical"]
    else:
        chosen = [r for r in courses if CLASS_OF.get(drug_of(r)) == "biologic"]
    if not chosen:
        return None
    first = min(chosen, key=course_rank)
    if variant == "first_biologic_il1" and TARGET_OF.get(drug_of(first)) != "IL-1":
        return None
    return first


# the vocabulary the hold-out generator writes, by hand
CLASS_OF = {
    "naproxen": "nsaid", "ibuprofen": "nsaid", "indomethacin": "nsaid",
    "pamidronate": "bisphosphonate", "zoledronic acid": "bisphosphonate",
    "prednisone": "glucocorticoid", "methylprednisolone": "glucocorticoid",
    "anakinra": "biologic", "adalimumab": "biologic",
}
TARGET_OF = {"anakinra": "IL-1", "adalimumab": "TNF"}
GENERIC = {"kineret": "anakinra"}
PGA_CODE = {"none": 0, "minimal": 1, "mild": 2, "moderate": 3, "severe": 4}
SECOND_LINE_CLASSES = {"conventional_dmard", "bisphosphonate", "biologic", "jak_inhibitor"}

BASELINE, MONTH6 = (0, -90, 14), (182, 120, 240)
DISTRIBUTIONS = ["pga_vas.change", "pga_vas.pchange", "esr.month6", "crp.change", "crp.pchange",
                 "pga.change", "lesions.change", "lesions.lower.baseline", "lesions.wb_mri.baseline",
                 "age.onset"]
PROPORTIONS = ["esr.fell10", "crp.halved", "pga.better", "new.sympt.lower", "new.spine"]
COUNTS = ["lower.resolved", "sympt.new", "silent.baseline", "clavicle.stable", "wbmri.new"]
EVENTS = ["t_gc", "t_stop", "t_stop_any", "t_pga_none", "t_new_lower", "t_new_any", "t_flare",
          "t_tnf_dx", "t_second_line"]
STOP_REASONS = {"inefficacy", "adverse_event"}


def drug_of(row) -> str:
    name = word(row, "drug")
    return GENERIC.get(name, name)


def course_rank(row):
    """Earliest start; on one day the longer (ongoing first, later stop), then the name."""
    start = parse_date(cell(row, "start_date"))
    stop = parse_date(cell(row, "stop_date"))
    return (start, 0 if stop is None else 1, -(stop.toordinal() if stop else 0), drug_of(row))


def closest(items, index_date, timepoint):
    """(date, tiebreak, value) items: closest to the target in the window, earlier, tiebreak."""
    target, low, high = timepoint
    inside = [item for item in items if low <= (item[0] - index_date).days <= high]
    if not inside:
        return None
    return min(inside, key=lambda item: (abs((item[0] - index_date).days - target), item[0], item[1]))[2]


def age_years(birth_text: str, when: date | None):
    if not birth_text or when is None:
        return None
    birth = date.fromisoformat(birth_text + "-15") if len(birth_text) == 7 else date.fromisoformat(birth_text)
    return (when - birth).days / 365.25


def sub(a, b):
    return None if a is None or b is None else a - b


def pchange(before, after):
    if before is None or after is None or before == 0:
        return None
    return 100 * (after - before) / before


def keep_lower_limb(lesion) -> bool:
    return REGION_OF_BONE.get(lesion.bone) == "lower_limb"


def fate_rows(earlier, later):
    """(lesion, fate) for every active lesion of the earlier study and every new one."""
    fates, new = lesion_fates(earlier, later)
    active = [lesion for lesion in earlier if lesion.active]
    return list(zip(active, fates)) + [(lesion, "new") for lesion in new]


def kaplan_meier(subjects):
    """Product-limit curve of (days, event): [(day, n_risk, events, survival)] at each time."""
    times = sorted({days for days, _ in subjects})
    survival, curve = 1.0, []
    for t in times:
        n_risk = sum(1 for days, _ in subjects if days >= t)
        d = sum(1 for days, event in subjects if days == t and event)
        survival *= 1 - d / n_risk
        curve.append((t, n_risk, d, survival))
    return curve


def km_median(curve):
    """The smallest time with survival <= 0.5; where the curve is exactly 0.5 from an event time,
    the midpoint to the next event time, or to the last observed time when no event follows
    (R 4.2.2 / survival 3.5.3 ``quantile(survfit)``: for ``Surv(c(1828, 1983, 1985, 2402),
    c(0, 0, 1, 0))`` it gives 2193.5, while ``print(survfit)`` gives 1985); None when not reached."""
    events = [point for point in curve if point[2] > 0]
    for k, (t, _, _, s) in enumerate(events):
        if s <= 0.5 + 1e-8:
            if abs(s - 0.5) < 1e-8:
                following = events[k + 1][0] if k + 1 < len(events) else curve[-1][0]
                return (t + following) / 2
            return float(t)
    return None


def distribution(values):
    if not values:
        return {"n": 0, "median": None, "q1": None, "q3": None, "min": None, "max": None}
    ordered = sorted(values)
    return {"n": len(ordered), "median": statistics.median(ordered), "q1": percentile_linear(ordered, 0.25),
            "q3": percentile_linear(ordered, 0.75), "min": ordered[0], "max": ordered[-1]}


def sex_group(text: str):
    text = text.lower()
    return {"f": "F", "female": "F", "m": "M", "male": "M", "u": "U"}.get(text)


def _time_to_event(name, patient, index, index_course, courses, assessments, studies, lesions_by_study):
    """(days, event) or None (left out) for one patient and one time-to-event endpoint."""
    if name == "t_tnf_dx":
        start = parse_date(cell(patient, "diagnosis_date"))
    elif name == "t_second_line":
        start = parse_date(cell(patient, "onset_date"))
    else:
        start = index
    if start is None:
        return None
    last = max((parse_date(cell(row, "date")) for row in assessments), default=None)
    censor = None if last is None else (last - start).days
    event_day = None

    def first_start(rows):
        days = [(parse_date(cell(row, "start_date")) - start).days for row in rows]
        days = [day for day in days if day > 0]
        return min(days, default=None)

    if name == "t_gc":
        event_day = first_start([r for r in courses if CLASS_OF.get(drug_of(r)) == "glucocorticoid"])
    elif name == "t_tnf_dx":
        event_day = first_start([r for r in courses if TARGET_OF.get(drug_of(r)) == "TNF"])
    elif name == "t_second_line":
        chosen = [r for r in courses if CLASS_OF.get(drug_of(r)) in SECOND_LINE_CLASSES
                  and word(r, "route") != "topical"]
        if chosen:
            event_day = first_start([min(chosen, key=course_rank)])
    elif name in ("t_stop", "t_stop_any"):
        stop = parse_date(cell(index_course, "stop_date"))
        if stop is not None:
            stop_day = (stop - start).days
            counts = name == "t_stop_any" or word(index_course, "stop_reason") in STOP_REASONS
            if counts and stop_day > 0:
                event_day = stop_day
            censor = stop_day
    elif name == "t_pga_none":
        days = [(parse_date(cell(r, "date")) - start).days for r in assessments if word(r, "pga") == "none"]
        event_day = min([day for day in days if day > 0], default=None)
    elif name == "t_flare":
        biologics = sorted([r for r in courses if CLASS_OF.get(drug_of(r)) == "biologic"],
                           key=lambda r: (parse_date(cell(r, "start_date")),
                                          -(parse_date(cell(r, "stop_date")) or date.max).toordinal()))
        previous_end, flares = None, []
        for row in biologics:
            begin = parse_date(cell(row, "start_date"))
            if previous_end is not None and (begin - previous_end).days > 60:
                flares.append((begin - start).days)
            end = parse_date(cell(row, "stop_date")) or date.max
            previous_end = end if previous_end is None else max(previous_end, end)
        event_day = min([day for day in flares if day > 0], default=None)
    elif name in ("t_new_lower", "t_new_any"):
        base = closest([(d, s, (d, s)) for d, s in studies], index, BASELINE)
        if base is None:
            return None
        base_date, base_id = base
        later = sorted((d, s) for d, s in studies if d > base_date and s != base_id and (d - start).days > 0)
        censor = max(((d - start).days for d, _ in later), default=None)
        for d, s in later:
            rows = fate_rows(lesions_by_study.get(base_id, []), lesions_by_study.get(s, []))
            if any(fate == "new" and (name == "t_new_any" or keep_lower_limb(lesion)) for lesion, fate in rows):
                event_day = (d - start).days
                break
    if event_day is not None:
        return (event_day, True)
    if censor is None or censor <= 0:
        return None
    return (censor, False)


def evaluate_v2_reference(folder: pathlib.Path, variant: str = "biologic") -> dict:
    """Per patient and per endpoint results of ``protocol_text(variant)`` on the CSV folder."""
    compared = INDEX_VARIANTS[variant][1]
    folder = pathlib.Path(folder)
    patients = read_table(folder, "patients")
    treatments = read_table(folder, "treatments")
    assessments = read_table(folder, "assessments")
    labs = read_table(folder, "labs")
    imaging = read_table(folder, "imaging")
    lesions_by_study: dict[str, list[Lesion]] = {}
    for row in read_table(folder, "lesions"):
        lesions_by_study.setdefault(cell(row, "study_id"), []).append(Lesion(row))

    eligible, excluded, per_patient = [], [], {}
    for patient in patients:
        pid = cell(patient, "patient_id")
        courses = [r for r in treatments if cell(r, "patient_id") == pid]
        visits = [r for r in assessments if cell(r, "patient_id") == pid]
        index_course = index_course_of(courses, variant)
        if index_course is None:
            excluded.append(pid)
            continue
        index = parse_date(cell(index_course, "start_date"))
        ok = any(CLASS_OF.get(drug_of(r)) == "nsaid" and parse_date(cell(r, "start_date")) < index for r in courses)
        stop = parse_date(cell(index_course, "stop_date"))
        if stop is not None:
            ok = ok and (stop - index).days >= 90
        else:
            ok = ok and any((parse_date(cell(r, "date")) - index).days >= 90 for r in visits)
        center = cell(patient, "center")
        in_center = None if not center else center in ("Rome", "Milan")
        old_enough = age_years(cell(patient, "birth_date"), index)
        old_enough = None if old_enough is None else old_enough >= 9
        required = None if None in (in_center, old_enough) else (in_center or old_enough)
        ok = ok and required is True
        ok = ok and not any(drug_of(r) == "methylprednisolone" and parse_date(cell(r, "start_date")) < index
                            for r in courses)
        ok = ok and pid != "H005"
        if not ok:
            excluded.append(pid)
            continue
        eligible.append(pid)

        # values at the timepoints
        pga = [(parse_date(cell(r, "date")), "", PGA_CODE[word(r, "pga")]) for r in visits if word(r, "pga")]
        vas = [(parse_date(cell(r, "date")), "", float(cell(r, "pga_vas"))) for r in visits if cell(r, "pga_vas")]
        values = {}
        for tp_name, tp in (("baseline", BASELINE), ("month6", MONTH6)):
            values[f"pga_ord@{tp_name}"] = closest(pga, index, tp)
            values[f"pga_vas@{tp_name}"] = closest(vas, index, tp)
            for test in ("ESR", "CRP"):
                rows = []
                for r in labs:
                    if cell(r, "patient_id") == pid and word(r, "test") == test.lower():
                        value = parse_lab_value(r)
                        if value is not None:
                            rows.append((parse_date(cell(r, "date")), "", float(value.number)))
                values[f"{test}@{tp_name}"] = closest(rows, index, tp)
        studies = {}
        for modality in ("bone_scintigraphy", "wb_mri"):
            studies[modality] = [(parse_date(cell(r, "date")), cell(r, "study_id")) for r in imaging
                                 if cell(r, "patient_id") == pid and word(r, "modality") == modality]
        chosen = {(m, tp_name): closest([(d, s, s) for d, s in studies[m]], index, tp)
                  for m in studies for tp_name, tp in (("baseline", BASELINE), ("month6", MONTH6))}

        def active(study, keep=lambda lesion: True):
            return None if study is None else sum(
                1 for lesion in lesions_by_study.get(study, []) if lesion.active and keep(lesion))

        values["lesions@baseline"] = active(chosen[("bone_scintigraphy", "baseline")])
        values["lesions@month6"] = active(chosen[("bone_scintigraphy", "month6")])
        values["lesions[regions=lower_limb]@baseline"] = active(chosen[("bone_scintigraphy", "baseline")], keep_lower_limb)
        values["lesions[modality=wb_mri]@baseline"] = active(chosen[("wb_mri", "baseline")])
        for of in ("pga_vas", "ESR", "CRP", "pga_ord", "lesions"):
            shown = "pga" if of == "pga_ord" else of
            values[f"change({shown})@baseline>month6"] = sub(values[f"{of}@month6"], values[f"{of}@baseline"])
            values[f"pchange({shown})@baseline>month6"] = pchange(values[f"{of}@baseline"], values[f"{of}@month6"])
        values["age.onset"] = age_years(cell(patient, "birth_date"), parse_date(cell(patient, "onset_date")))

        # lesion fates under filters
        fates = {}
        for modality in ("bone_scintigraphy", "wb_mri"):
            a, b = chosen[(modality, "baseline")], chosen[(modality, "month6")]
            fates[modality] = None if a is None or b is None else fate_rows(
                lesions_by_study.get(a, []), lesions_by_study.get(b, []))
        bs = fates["bone_scintigraphy"]

        def count(rows, fate, keep):
            if rows is None:
                return None
            if fate == "baseline":
                return sum(1 for lesion, f in rows if f != "new" and keep(lesion))
            return sum(1 for lesion, f in rows if f == fate and keep(lesion))

        counts = {
            "lower.resolved": count(bs, "resolved", keep_lower_limb),
            "sympt.new": count(bs, "new", lambda lesion: lesion.symptomatic is True),
            "silent.baseline": count(bs, "baseline", lambda lesion: lesion.symptomatic is not True),
            "clavicle.stable": count(bs, "stable", lambda lesion: lesion.bone == "clavicle"),
            "wbmri.new": count(fates["wb_mri"], "new", lambda lesion: True),
        }

        def compare_le(value, limit):
            return None if value is None else value <= limit

        criteria = {
            "esr.fell10": compare_le(values["change(ESR)@baseline>month6"], -10),
            "crp.halved": compare_le(values["pchange(CRP)@baseline>month6"], -50),
            "pga.better": None if values["change(pga)@baseline>month6"] is None
            else values["change(pga)@baseline>month6"] < 0,
            "new.sympt.lower": None if bs is None else any(
                f == "new" and lesion.symptomatic is True and keep_lower_limb(lesion) for lesion, f in bs),
            "new.spine": None if bs is None else any(
                f == "new" and REGION_OF_BONE.get(lesion.bone) == "spine" for lesion, f in bs),
            "new.spine.among": None if not center else center in ("Rome", "Genoa"),
        }
        tte = {name: _time_to_event(name, patient, index, index_course, courses, visits,
                                    studies["bone_scintigraphy"], lesions_by_study) for name in EVENTS}
        groups = {
            "index_drug": drug_of(index_course) if drug_of(index_course) in compared else None,
            "sex": sex_group(cell(patient, "sex")) if sex_group(cell(patient, "sex")) in ("F", "M") else None,
            "rome": None if not center else ("yes" if center == "Rome" else "no"),
        }
        per_patient[pid] = {"index_drug": drug_of(index_course), "index_date": index, "values": values,
                            "counts": counts, "criteria": criteria, "tte": tte, "groups": groups}

    def results(ids):
        out = {"cohort.n": len(ids)}
        for name in DISTRIBUTIONS:
            column = {"pga_vas.change": "change(pga_vas)@baseline>month6",
                      "pga_vas.pchange": "pchange(pga_vas)@baseline>month6", "esr.month6": "ESR@month6",
                      "crp.change": "change(CRP)@baseline>month6", "crp.pchange": "pchange(CRP)@baseline>month6",
                      "pga.change": "change(pga)@baseline>month6", "lesions.change": "change(lesions)@baseline>month6",
                      "lesions.lower.baseline": "lesions[regions=lower_limb]@baseline",
                      "lesions.wb_mri.baseline": "lesions[modality=wb_mri]@baseline", "age.onset": "age.onset"}[name]
            found = [per_patient[p]["values"][column] for p in ids]
            known = [v for v in found if v is not None]
            out[name] = dict(distribution(known), missing=len(found) - len(known), values=known)
        for name in PROPORTIONS:
            group = [p for p in ids if name != "new.spine" or per_patient[p]["criteria"]["new.spine.among"] is True]
            found = [per_patient[p]["criteria"][name] for p in group]
            out[name] = {"n": sum(1 for v in found if v is True), "of": len(group),
                         "missing": sum(1 for v in found if v is None)}
        for name in COUNTS:
            out[name] = sum(per_patient[p]["counts"][name] or 0 for p in ids)
        for name in EVENTS:
            subjects = [per_patient[p]["tte"][name] for p in ids if per_patient[p]["tte"][name] is not None]
            curve = kaplan_meier(subjects)
            out[name] = {"n": len(subjects), "events": sum(1 for _, e in subjects if e),
                         "excluded": len(ids) - len(subjects), "curve": curve, "median_days": km_median(curve),
                         "subjects": subjects}
        return out

    comparisons = {}
    for cid, order in (("index_drug", compared), ("sex", ["F", "M"]), ("rome", ["no", "yes"])):
        comparisons[cid] = {g: results([p for p in eligible if per_patient[p]["groups"][cid] == g]) for g in order}
    return {"eligible": eligible, "excluded": sorted(excluded), "patients": per_patient,
            "endpoints": results(eligible), "comparisons": comparisons}

