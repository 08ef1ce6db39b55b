"""A competent, vectorised pandas implementation of the ``pardeo2017`` protocol: the benchmark's
baseline for cnotrack, reading the same CSV files itself.

``evaluate_folder(folder)`` reads an exchange-format CSV folder with ``pandas.read_csv``
(``pandas_reader.read_registry``: the varied spellings of a real export normalised, no use of
cnotrack's reader, validator or engine) and returns the endpoints in the JSON shape of
``seed-protocol.md`` (as ``tests/reference/pardeo2017_reference.py`` does)::

    {"protocol": "pardeo2017",
     "cohort": {"n", "female", "excluded": [{"patient_id", "reason"}, ...]},
     "endpoints": {"cohort.n": int, "baseline.pga_mild_or_worse": {"n", "of", "missing"}, ...,
                   "last_followup.years": {"n", "median", "min", "max", "q1", "q3"}}}

``python bench/pandas_baseline.py FOLDER [--out RESULT.json]`` does it as a process of its own
(the benchmark times that whole process).

It is written the way a data analyst fluent in pandas would write the protocol by hand: merges,
``groupby``, ``sort_values`` + ``drop_duplicates``, boolean masks, and no Python loop over
patients or rows. The definitions are the engine's (see ``cnotrack.engine`` and the decided
ambiguities in ``tests/reference/pardeo2017_reference.py``):

* index course: the first anakinra course; prior courses start strictly before the index date;
  a glucocorticoid counts unless its route is ``topical``; the course lasted >= 182 days when
  stop - start >= 182, or when ongoing with any assessment >= 182 days after the index date;
  an excluded patient's reasons are joined with "; " in the engine's wording;
* timepoints: inclusive windows in days from the index date; the closest row wins, a tie goes to
  the earlier date; rows with an empty value are ignored; ``last_followup`` is the latest
  assessment date (of any row): the PGA recorded that day, else missing (settled in issue 10);
* labs: CRP in mg/dL x 10, converted numbers (value and ref_high) rounded to 9 decimals; a row's
  own ref_high, else the default (ESR 20 mm/h, CRP 5 mg/L); ``<x`` compared as x, ``>x``
  elevated when x >= the limit;
* strict missing: a combined criterion (all / any) is missing when any part is missing;
* lesions: active lesions (activity not ``inactive``) of the bone scintigraphies chosen at
  baseline and month 6, matched by lesion_id (rule 1), then bone + side + segment (rule 2, an
  empty side or segment equals an empty one), then bone + side where one lacks a segment and
  each is the single unmatched lesion with that bone and side (rule 3); never across two
  different lesion_ids; a new lesion with an empty ``symptomatic`` counts as not symptomatic
  (settled in issue 10).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from pandas_reader import read_registry  # noqa: E402  (bench/ is no package)

__all__ = ["evaluate_folder", "evaluate_pardeo2017"]

INDEX_DRUG = "anakinra"
DRUG_CLASS = {
    "naproxen": "nsaid", "ibuprofen": "nsaid", "indomethacin": "nsaid", "diclofenac": "nsaid",
    "celecoxib": "nsaid", "etoricoxib": "nsaid", "meloxicam": "nsaid",
    "pamidronate": "bisphosphonate", "zoledronic acid": "bisphosphonate", "alendronate": "bisphosphonate",
    "neridronate": "bisphosphonate",
    "prednisone": "glucocorticoid", "prednisolone": "glucocorticoid", "methylprednisolone": "glucocorticoid",
    "dexamethasone": "glucocorticoid", "deflazacort": "glucocorticoid",
}
MIN_COURSE_DAYS = 182
BASELINE = (0, (-90, 14))
MONTH6 = (182, (120, 240))
DEFAULT_LIMIT = {"ESR": 20.0, "CRP": 5.0}
FACTOR = {("ESR", "mm/h"): 1.0, ("CRP", "mg/L"): 1.0, ("CRP", "mg/dL"): 10.0}
MODALITY = "bone_scintigraphy"
DAYS_PER_YEAR = 365.25
REASONS = (  # the engine's wording, in its order
    "no anakinra course",
    "no course of an NSAID before anakinra",
    "no course of a bisphosphonate or a systemic glucocorticoid before anakinra",
    "anakinra course shorter than 182 days",
    "anakinra course ongoing without an assessment at least 182 days after its start",
)


def evaluate_folder(folder: str | Path) -> dict[str, Any]:
    """The ``pardeo2017`` endpoints of the exchange-format CSV folder ``folder``."""
    return evaluate_pardeo2017(read_registry(folder))


def evaluate_pardeo2017(tables: dict[str, pd.DataFrame]) -> dict[str, Any]:
    """The ``pardeo2017`` endpoints of the typed tables of ``pandas_reader.read_registry``."""
    cohort, excluded = _cohort(tables)
    table = cohort.set_index("patient_id")[["sex", "index_date", "last_assessment_date"]]

    pga = tables["assessments"].loc[tables["assessments"]["pga"].notna(), ["patient_id", "date", "pga"]]
    for tp, spec in (("baseline", BASELINE), ("month6", MONTH6), ("last_followup", None)):
        chosen = _at_timepoint(pga, cohort, spec)
        table[f"pga@{tp}"] = chosen.set_index("patient_id")["pga"]

    labs = _canonical_labs(tables["labs"], cohort["patient_id"])
    for tp, spec in (("baseline", BASELINE), ("month6", MONTH6)):
        chosen = _at_timepoint(labs, cohort, spec, by=["test"])
        for test in ("ESR", "CRP"):
            one = chosen[chosen["test"] == test].set_index("patient_id")
            table[f"{test}@{tp}"] = one["value"]
            table[f"{test}@{tp}.elevated"] = _elevated(one).reindex(table.index)

    lesion_table, fates = _lesion_fates(tables, cohort)
    table = table.join(lesion_table)

    n = len(table)
    e: dict[str, Any] = {"cohort.n": n, "cohort.female": int((table["sex"] == "F").sum())}
    pga_b, pga_m, pga_l = table["pga@baseline"], table["pga@month6"], table["pga@last_followup"]
    e["baseline.pga_mild_or_worse"] = _proportion(_known(pga_b, pga_b.isin(["mild", "moderate", "severe"])))
    e["month6.pga_none_or_minimal"] = _proportion(_known(pga_m, pga_m.isin(["none", "minimal"])))
    esr_b, crp_b = table["ESR@baseline.elevated"], table["CRP@baseline.elevated"]
    esr_m, crp_m = table["ESR@month6.elevated"], table["CRP@month6.elevated"]
    e["baseline.esr_and_crp_elevated"] = _proportion(_all([esr_b, crp_b]))
    e["month6.esr_and_crp_normalized"] = _proportion(_all([_any([esr_b, crp_b]), _not(esr_m), _not(crp_m)]))
    e["month6.esr_and_crp_decreased"] = _proportion(_all([_below(table, "ESR"), _below(table, "CRP")]))

    has_pair = table["study@baseline"].notna() & table["study@month6"].notna()
    e["month6.lesions.baseline_total"] = int(table.loc[has_pair, "lesions@baseline"].sum())
    for fate in ("resolved", "stable", "improved", "worsened", "new"):
        e[f"month6.lesions.{fate}"] = int(fates.get(fate, 0))
    e["month6.lesions.patients_missing"] = int((~has_pair).sum())
    new = table["new"].where(has_pair)
    with_new = _known(new, new >= 1)
    e["month6.patients_with_new_lesions"] = _proportion(with_new)
    symptomatic = table["new_symptomatic"].where(has_pair)
    among = with_new.eq(True)
    e["month6.patients_with_symptomatic_new_lesions"] = _proportion(symptomatic[among])
    e["last_followup.pga_none_or_minimal"] = _proportion(_known(pga_l, pga_l.isin(["none", "minimal"])))
    years = (table["last_assessment_date"] - table["index_date"]).dt.days / DAYS_PER_YEAR
    e["last_followup.years"] = _distribution(years.dropna())

    return {"protocol": "pardeo2017",
            "cohort": {"n": n, "female": e["cohort.female"], "excluded": excluded},
            "endpoints": e}


# --------------------------------------------------------------------------- cohort

def _cohort(tables: dict[str, pd.DataFrame]) -> tuple[pd.DataFrame, list[dict[str, str]]]:
    patients = tables["patients"][["patient_id", "sex"]]
    treatments = tables["treatments"]
    index = (treatments.loc[treatments["drug"] == INDEX_DRUG, ["patient_id", "start_date", "stop_date"]]
             .sort_values(["patient_id", "start_date"]).drop_duplicates("patient_id")
             .rename(columns={"start_date": "index_date", "stop_date": "index_stop_date"}))
    last = tables["assessments"].groupby("patient_id")["date"].max().rename("last_assessment_date")
    table = patients.merge(index, on="patient_id", how="left").merge(last, on="patient_id", how="left")

    prior = treatments.merge(index[["patient_id", "index_date"]], on="patient_id")
    prior = prior[prior["start_date"] < prior["index_date"]]
    drug_class = prior["drug"].map(DRUG_CLASS)
    systemic = prior["route"].isna() | (prior["route"] != "topical")
    nsaid = prior.loc[drug_class == "nsaid", "patient_id"].unique()
    second = prior.loc[(drug_class == "bisphosphonate") | ((drug_class == "glucocorticoid") & systemic),
                       "patient_id"].unique()

    has_index = table["index_date"].notna()
    course = (table["index_stop_date"] - table["index_date"]).dt.days
    followed = (table["last_assessment_date"] - table["index_date"]).dt.days
    stopped = table["index_stop_date"].notna()
    flags = pd.DataFrame({
        REASONS[0]: ~has_index,
        REASONS[1]: has_index & ~table["patient_id"].isin(nsaid),
        REASONS[2]: has_index & ~table["patient_id"].isin(second),
        REASONS[3]: has_index & stopped & (course < MIN_COURSE_DAYS),
        REASONS[4]: has_index & ~stopped & ~(followed >= MIN_COURSE_DAYS),
    })
    eligible = ~flags.any(axis=1)
    # "; ".join of the reasons that apply, column by column
    reason = pd.Series("", index=table.index, dtype=object)
    for text, applies in flags.items():
        reason = reason.mask(applies, reason.where(reason == "", reason + "; ") + text)
    excluded = (pd.DataFrame({"patient_id": table["patient_id"], "reason": reason})[~eligible]
                .sort_values("patient_id"))
    cohort = table[eligible].sort_values("patient_id").reset_index(drop=True)
    return cohort, excluded.to_dict("records")


# --------------------------------------------------------------------------- timepoints

def _at_timepoint(rows: pd.DataFrame, cohort: pd.DataFrame, spec: tuple[int, tuple[int, int]] | None,
                  *, by: list[str] | None = None) -> pd.DataFrame:
    """Per patient (and ``by``), the row closest to the timepoint's target in its window; a tie
    goes to the earlier date. ``spec`` None = the row dated on the patient's last assessment."""
    keys = ["patient_id", *(by or [])]
    j = rows.merge(cohort[["patient_id", "index_date", "last_assessment_date"]], on="patient_id")
    day = (j["date"] - j["index_date"]).dt.days
    if spec is None:
        on_last = j["date"] == j["last_assessment_date"]
        j, distance = j[on_last], day[on_last] * 0
    else:
        target, (low, high) = spec
        inside = (day >= low) & (day <= high)
        j, distance = j[inside], (day[inside] - target).abs()
    j = j.assign(__distance=distance)
    return j.sort_values([*keys, "__distance", "date"]).drop_duplicates(keys, keep="first")


# --------------------------------------------------------------------------- labs

def _canonical_labs(labs: pd.DataFrame, patients: pd.Series) -> pd.DataFrame:
    """ESR and CRP rows of ``patients`` in mm/h and mg/L, each with the upper limit it is judged by."""
    labs = labs[labs["test"].isin(list(DEFAULT_LIMIT)) & labs["patient_id"].isin(patients)]
    factor = _factor(labs)
    value = (labs["value"] * factor).round(9)
    limit = (labs["ref_high"] * factor).round(9).fillna(labs["test"].map(DEFAULT_LIMIT))
    return pd.DataFrame({"patient_id": labs["patient_id"], "date": labs["date"], "test": labs["test"],
                         "value": value, "censor": labs["censor"], "limit": limit})


def _factor(labs: pd.DataFrame) -> pd.Series:
    """Each row's conversion factor to the canonical unit (NaN for a unit the protocol lacks)."""
    test, unit = labs["test"].to_numpy(), labs["unit"].to_numpy()
    conditions = [(test == t) & (unit == u) for t, u in FACTOR]
    return pd.Series(np.select(conditions, list(FACTOR.values()), np.nan), index=labs.index)


def _elevated(chosen: pd.DataFrame) -> pd.Series:
    value, limit = chosen["value"], chosen["limit"]
    above = np.where(chosen["censor"] == ">", value >= limit, value > limit)
    return pd.Series(above, index=chosen.index, dtype=object).where(value.notna() & limit.notna(), None)


def _below(table: pd.DataFrame, test: str) -> pd.Series:
    later, earlier = table[f"{test}@month6"], table[f"{test}@baseline"]
    return _known(later.notna() & earlier.notna(), later < earlier)


# --------------------------------------------------------------------------- lesions

def _lesion_fates(tables: dict[str, pd.DataFrame], cohort: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series]:
    imaging = tables["imaging"]
    studies = imaging.loc[imaging["modality"] == MODALITY, ["patient_id", "study_id", "date"]]
    lesions = tables["lesions"]
    lesions = lesions[lesions["activity"].isna() | (lesions["activity"] != "inactive")]
    counts = lesions.groupby("study_id").size().rename("n")
    out = pd.DataFrame(index=pd.Index(cohort["patient_id"], name="patient_id"))
    for tp, spec in (("baseline", BASELINE), ("month6", MONTH6)):
        chosen = _at_timepoint(studies, cohort, spec).set_index("patient_id")
        out[f"study@{tp}"] = chosen["study_id"]
        out[f"lesions@{tp}"] = chosen["study_id"].map(counts).fillna(0).astype(int)
    pairs = out[["study@baseline", "study@month6"]].dropna().reset_index()
    columns = ["study_id", "bone", "side", "segment", "grade", "symptomatic", "lesion_id"]
    e = pairs[["patient_id", "study@baseline"]].rename(columns={"study@baseline": "study_id"}) \
        .merge(lesions[columns], on="study_id").drop(columns="study_id")
    l_ = pairs[["patient_id", "study@month6"]].rename(columns={"study@month6": "study_id"}) \
        .merge(lesions[columns], on="study_id").drop(columns="study_id")
    e = e.fillna({"side": "", "segment": ""}).reset_index(drop=True).rename_axis("e").reset_index()
    l_ = l_.fillna({"side": "", "segment": ""}).reset_index(drop=True).rename_axis("l").reset_index()

    def pair(left, right, on, extra=None):
        m = left.merge(right, on=on, suffixes=("_e", "_l"))
        conflict = m["lesion_id_e"].notna() & m["lesion_id_l"].notna() & (m["lesion_id_e"] != m["lesion_id_l"])
        m = m[~conflict]
        return m[extra(m)] if extra is not None else m

    # rule 1: the same lesion_id
    by_id = e[e["lesion_id"].notna()].merge(l_[l_["lesion_id"].notna()], on=["patient_id", "lesion_id"],
                                            suffixes=("_e", "_l"))
    e2, l2 = e[~e["e"].isin(by_id["e"])], l_[~l_["l"].isin(by_id["l"])]
    # rule 2: the same bone, side and segment
    by_site = pair(e2, l2, ["patient_id", "bone", "side", "segment"])
    e3, l3 = e2[~e2["e"].isin(by_site["e"])], l2[~l2["l"].isin(by_site["l"])]
    # rule 3: the same bone and side, one without a segment, each the only unmatched one
    e3 = e3[e3.groupby(["patient_id", "bone", "side"])["e"].transform("size") == 1]
    l3 = l3[l3.groupby(["patient_id", "bone", "side"])["l"].transform("size") == 1]
    by_bone = pair(e3, l3, ["patient_id", "bone", "side"],
                   lambda m: (m["segment_e"] == "") | (m["segment_l"] == ""))

    matched = pd.concat([by_id[["patient_id", "e", "l", "grade_e", "grade_l"]],
                         by_site[["patient_id", "e", "l", "grade_e", "grade_l"]],
                         by_bone[["patient_id", "e", "l", "grade_e", "grade_l"]]], ignore_index=True)
    fate = np.select([matched["grade_l"] < matched["grade_e"], matched["grade_l"] > matched["grade_e"]],
                     ["improved", "worsened"], "stable")  # NaN grades compare False: stable
    resolved = e[~e["e"].isin(matched["e"])]
    new = l_[~l_["l"].isin(matched["l"])]
    all_fates = pd.concat([pd.Series(fate), pd.Series("resolved", index=resolved.index),
                           pd.Series("new", index=new.index)], ignore_index=True)

    out["new"] = new.groupby("patient_id").size().reindex(out.index).fillna(0).astype(int)
    # a patient with a symptomatic new lesion; an empty symptomatic counts as not symptomatic
    hit = new.loc[new["symptomatic"].eq(True), "patient_id"].unique()
    out["new_symptomatic"] = pd.Series(out.index.isin(hit), index=out.index).astype(object)
    return out, all_fates.value_counts()


# --------------------------------------------------------------------------- three-valued logic

# True / False / None in object series; None = the patient lacks the data

def _known(known: pd.Series, value: pd.Series) -> pd.Series:
    """``value`` where ``known`` (a Boolean mask, or a series whose missing values mark unknown)."""
    mask = known if known.dtype == bool else known.notna()
    return value.astype(bool).astype(object).where(mask, None)


def _all(parts: list[pd.Series]) -> pd.Series:
    frame = pd.concat(parts, axis=1)
    return frame.eq(True).all(axis=1).astype(object).where(frame.notna().all(axis=1), None)


def _any(parts: list[pd.Series]) -> pd.Series:
    frame = pd.concat(parts, axis=1)
    return frame.eq(True).any(axis=1).astype(object).where(frame.notna().all(axis=1), None)


def _not(part: pd.Series) -> pd.Series:
    return part.eq(False).astype(object).where(part.notna(), None)


def _proportion(values: pd.Series) -> dict[str, int]:
    return {"n": int(values.eq(True).sum()), "of": int(len(values)), "missing": int(values.isna().sum())}


def _distribution(values: pd.Series) -> dict[str, Any]:
    if values.empty:
        return {"n": 0, "median": None, "min": None, "max": None, "q1": None, "q3": None}
    return {"n": int(len(values)), "median": float(values.median()), "min": float(values.min()),
            "max": float(values.max()), "q1": float(values.quantile(0.25)), "q3": float(values.quantile(0.75))}


def main() -> None:
    parser = argparse.ArgumentParser(description="The pardeo2017 endpoints of a CSV folder, with pandas.")
    parser.add_argument("folder", type=Path)
    parser.add_argument("--out", type=Path, help="write the JSON here (default: standard output)")
    args = parser.parse_args()
    text = json.dumps(evaluate_folder(args.folder))
    if args.out:
        args.out.write_text(text, "utf-8")
    else:
        print(text)


if __name__ == "__main__":
    main()
