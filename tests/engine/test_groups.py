"""Group comparisons (``compare:``) on a ten-patient fixture: groups, per-group numbers by hand,
and the tests against R.

Everyone starts the index drug on 2020-01-01 (day 0): anakinra P01-P05, etanercept P06-P10.
Baseline visit on day 0 (PGA, PGA VAS); a month-6 visit on 2020-07-01 (day 182, window 120-240).

===== ========== === ====== ============= ======== ============= =============================
id    index      sex center baseline PGA   PGA VAS  month-6 PGA   other visit (day: PGA)
===== ========== === ====== ============= ======== ============= =============================
P01   anakinra   F   Rome   severe        8        none          91: minimal
P02   anakinra   F   Rome   moderate      6        mild          274: mild
P03   anakinra   M   Rome   severe        9        minimal
P04   anakinra   M   Genoa  mild          4        none
P05   anakinra   F   Genoa  severe        7.5      (no visit)    60: moderate
P06   etanercept F   Genoa  moderate      5        moderate      366: none
P07   etanercept M          severe        9.5      severe
P08   etanercept F   Paris  mild          3        mild          244: minimal
P09   etanercept M   Paris  (none)        6.5      none
P10   etanercept F   Paris  moderate      2        moderate
===== ========== === ====== ============= ======== ============= =============================

Time to PGA none or minimal (days, event): P01 91 yes, P02 274 no, P03 182 yes, P04 182 yes,
P05 60 no, P06 366 yes, P07 182 no, P08 244 yes, P09 182 yes, P10 182 no.

By index drug: PGA none or minimal at month 6 is 3 of 5 on anakinra (P05 missing, so 3 of the
4 known) and 1 of 5 on etanercept. R 4.2.2 (survival 3.4), with its printed output::

    library(survival)
    f <- fisher.test(matrix(c(3, 1, 1, 4), nrow = 2))
    print(format(c(f$p.value, f$estimate, f$conf.int), digits = 15))
    # "0.206349206349206" "8.355085742271047" "0.307130386166818" "776.348239321548590"
    w <- wilcox.test(c(8, 6, 9, 4, 7.5), c(5, 9.5, 3, 6.5, 2))
    print(format(c(w$statistic, w$p.value), digits = 15))
    # W "17" "0.420634920634921"
    days <- c(91, 274, 182, 182, 60, 366, 182, 244, 182, 182)
    event <- c(1, 0, 1, 1, 0, 1, 0, 1, 1, 0)
    drug <- c(rep("anakinra", 5), rep("etanercept", 5))
    s <- survdiff(Surv(days, event) ~ drug)
    print(format(c(s$chisq, pchisq(s$chisq, 1, lower.tail = FALSE)), digits = 15))
    # "1.23938267752277" "0.26559006008899"
    sex <- c("F", "F", "M", "M", "F", "F", "M", "F", "M", "F")
    s2 <- survdiff(Surv(days, event) ~ sex)
    print(format(c(s2$chisq, pchisq(s2$chisq, 1, lower.tail = FALSE)), digits = 15))
    # "1.423661971830986" "0.232801599672877"
    vas <- c(8, 6, 9, 4, 7.5, 5, 9.5, 3, 6.5, 2)
    w2 <- wilcox.test(vas[sex == "F"], vas[sex == "M"])
    print(format(c(w2$statistic, w2$p.value), digits = 15))
    # W "6" "0.257142857142857"
    f2 <- fisher.test(matrix(c(1, 4, 3, 1), nrow = 2))   # F 1 of 5 known, M 3 of 4
    print(format(c(f2$p.value, f2$estimate, f2$conf.int), digits = 15))
    # "0.20634920634920645" "0.11968758081567979" "0.00128808175165555" "3.25594615524902231"
    sev <- c("yes", "no", "yes", "no", "yes", "no", "yes", "no", NA, "no")
    keep <- !is.na(sev)
    s3 <- survdiff(Surv(days[keep], event[keep]) ~ sev[keep])
    print(format(c(s3$chisq, pchisq(s3$chisq, 1, lower.tail = FALSE)), digits = 15))
    # "1.932099907493062" "0.164528887459944"
    w3 <- wilcox.test(vas[keep & sev == "no"], vas[keep & sev == "yes"])
    print(format(c(w3$statistic, w3$p.value), digits = 15))
    # W "0" "0.0158730158730159"
    # center, every group: Genoa P04 P05 P06, Paris P08 P09 P10, Rome P01 P02 P03
    k <- kruskal.test(list(Genoa = c(4, 7.5, 5), Paris = c(3, 6.5, 2), Rome = c(8, 6, 9)))
    print(format(c(k$statistic, k$p.value), digits = 15))
    # "3.822222222222223" "0.147915944206379"
    x <- suppressWarnings(chisq.test(matrix(c(1, 1, 1, 2, 2, 1), nrow = 2)))
    print(format(c(x$statistic, x$p.value), digits = 15))
    # "0.666666666666667" "0.716531310573789"
"""

from __future__ import annotations

import json

import pytest

import cnotrack
from cnotrack.engine import evaluate
from cnotrack.protocols import parse_protocol
from cnotrack.results import ComparisonResult, GroupedEndpoint
from conftest import write_tables


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> cnotrack.Dataset:
    rows = [("P01", "anakinra", "F", "Rome", "severe", 8, "none", ("2020-04-01", "minimal")),
            ("P02", "anakinra", "F", "Rome", "moderate", 6, "mild", ("2020-10-01", "mild")),
            ("P03", "anakinra", "M", "Rome", "severe", 9, "minimal", None),
            ("P04", "anakinra", "M", "Genoa", "mild", 4, "none", None),
            ("P05", "anakinra", "F", "Genoa", "severe", 7.5, None, ("2020-03-01", "moderate")),
            ("P06", "etanercept", "F", "Genoa", "moderate", 5, "moderate", ("2021-01-01", "none")),
            ("P07", "etanercept", "M", "", "severe", 9.5, "severe", None),
            ("P08", "etanercept", "F", "Paris", "mild", 3, "mild", ("2020-09-01", "minimal")),
            ("P09", "etanercept", "M", "Paris", "", 6.5, "none", None),
            ("P10", "etanercept", "F", "Paris", "moderate", 2, "moderate", None)]
    patients = "patient_id,sex,center\n" + "\n".join(f"{r[0]},{r[2]},{r[3]}" for r in rows)
    treatments = "patient_id,drug,start_date\n" + "\n".join(f"{r[0]},{r[1]},2020-01-01" for r in rows)
    visits = []
    for pid, _, _, _, pga0, vas, pga6, other in rows:
        visits.append(f"{pid},2020-01-01,{pga0},{vas}")
        if pga6:
            visits.append(f"{pid},2020-07-01,{pga6},")
        if other:
            visits.append(f"{pid},{other[0]},{other[1]},")
    return cnotrack.load_dataset(write_tables(tmp_path_factory.mktemp("groups"), patients=patients,
                                       treatments=treatments,
                                       assessments="patient_id,date,pga,pga_vas\n" + "\n".join(visits)))


PROTOCOL = """
id: groups_fixture
title: group comparisons fixture
index_treatment: {drugs: [anakinra, etanercept]}
timepoints:
  - {id: baseline, label: baseline, target_day: 0, window: [-30, 14]}
  - {id: month6, label: 6 months, target_day: 182, window: [120, 240]}
compare:
  - {by: index_drug}
  - {by: sex, groups: [F, M]}
  - {id: severe, by: {pga: {at: baseline, in: [severe]}}, group_labels: {"yes": severe at baseline, "no": not severe}}
  - {id: two_centers, by: center, groups: [Rome, Genoa]}
  - {id: centers, by: center}
endpoints:
  - {id: n, kind: count, label: patients, patients: all}
  - {id: new, kind: count, label: new lesions, lesions: {from: baseline, to: month6, fate: new}}
  - {id: pga6, kind: proportion, label: PGA none or minimal at 6 months, criterion: {pga: {at: month6, in: [none, minimal]}}}
  - {id: vas, kind: distribution, label: PGA VAS at baseline, measure: {assessment_value: {field: pga_vas, at: baseline}}}
  - {id: remission, kind: time_to_event, label: Time to PGA none or minimal, event: {pga_reached: {in: [none, minimal]}}}
"""


@pytest.fixture(scope="module")
def evaluation(dataset):
    return evaluate(dataset, parse_protocol(PROTOCOL), statistics=False)


def test_groups_by_index_drug_have_the_numbers_worked_by_hand(evaluation):
    c = evaluation.comparisons["index_drug"]
    assert isinstance(c, ComparisonResult)
    assert c.groups == [{"id": "anakinra", "label": "anakinra", "n": 5}, {"id": "etanercept", "label": "etanercept", "n": 5}]
    assert c.ungrouped == []
    pga6 = c.endpoints["pga6"]
    assert isinstance(pga6, GroupedEndpoint)
    a, e = pga6.groups["anakinra"], pga6.groups["etanercept"]
    assert (a.n, a.of, a.missing) == (3, 5, 1) and (e.n, e.of, e.missing) == (1, 5, 0)
    assert pga6.note == "patients with missing data are left out of the test"
    assert pga6.test.p_value == pytest.approx(0.206349206349206, abs=1e-9)
    assert pga6.test.estimate == pytest.approx(8.355085742271047, abs=1e-6)
    assert pga6.test.ci95 == pytest.approx((0.307130386166818, 776.348239321548590), rel=1e-6)
    vas = c.endpoints["vas"]
    assert vas.groups["anakinra"].median == 7.5 and vas.groups["etanercept"].median == 5
    assert vas.test.statistic == 17 and vas.test.p_value == pytest.approx(0.420634920634921, abs=1e-12)
    km = c.endpoints["remission"]
    assert (km.groups["anakinra"].n, km.groups["anakinra"].events) == (5, 3)
    assert (km.groups["etanercept"].n, km.groups["etanercept"].events) == (5, 3)
    # anakinra: 91 (5 at risk) -> 4/5; 182 (3 at risk, 2 events) -> 4/15: median 182 days
    assert km.groups["anakinra"].median_years == pytest.approx(182 / 365.25, abs=1e-12)
    assert km.test.statistic == pytest.approx(1.23938267752277, abs=1e-9)
    assert km.test.p_value == pytest.approx(0.26559006008899, abs=1e-9)
    assert c.endpoints["n"].groups["anakinra"].value == 5 and c.endpoints["n"].test is None
    assert c.endpoints["new"].test is None
    assert c.endpoints["new"].note == "lesions of one patient are not independent: no test"


def test_groups_by_sex_follow_the_declared_order(evaluation):
    c = evaluation.comparisons["sex"]
    assert [(g["id"], g["label"], g["n"]) for g in c.groups] == [("F", "female", 6), ("M", "male", 4)]
    pga6 = c.endpoints["pga6"]
    assert (pga6.groups["F"].n, pga6.groups["F"].of, pga6.groups["F"].missing) == (1, 6, 1)
    assert (pga6.groups["M"].n, pga6.groups["M"].of) == (3, 4)
    assert pga6.test.p_value == pytest.approx(0.20634920634920645, abs=1e-9)
    assert pga6.test.estimate == pytest.approx(0.11968758081567979, abs=1e-6)
    assert c.endpoints["vas"].test.statistic == 6
    assert c.endpoints["vas"].test.p_value == pytest.approx(0.257142857142857, abs=1e-12)
    assert c.endpoints["remission"].test.statistic == pytest.approx(1.423661971830986, abs=1e-9)
    assert c.endpoints["remission"].test.p_value == pytest.approx(0.232801599672877, abs=1e-9)


def test_groups_by_a_criterion_leave_out_a_patient_lacking_its_data(evaluation):
    c = evaluation.comparisons["severe"]
    assert [(g["id"], g["label"], g["n"]) for g in c.groups] == [("no", "not severe", 5),
                                                                  ("yes", "severe at baseline", 4)]
    assert c.ungrouped == [{"patient_id": "P09", "reason": "missing data for the criterion"}]
    assert c.endpoints["remission"].test.statistic == pytest.approx(1.932099907493062, abs=1e-9)
    assert c.endpoints["remission"].test.p_value == pytest.approx(0.164528887459944, abs=1e-9)
    assert c.endpoints["vas"].test.statistic == 0
    assert c.endpoints["vas"].test.p_value == pytest.approx(0.0158730158730159, abs=1e-12)


def test_groups_restricted_by_groups_and_a_missing_center(evaluation):
    c = evaluation.comparisons["two_centers"]
    assert [(g["id"], g["n"]) for g in c.groups] == [("Rome", 3), ("Genoa", 3)]
    assert c.ungrouped == [{"patient_id": "P07", "reason": "no center"}] + [
        {"patient_id": p, "reason": "center Paris is not among the compared groups"} for p in ("P08", "P09", "P10")]
    assert c.endpoints["n"].groups["Rome"].value == 3


def test_three_groups_get_kruskal_wallis_and_chi_squared(evaluation):
    c = evaluation.comparisons["centers"]
    assert [g["id"] for g in c.groups] == ["Genoa", "Paris", "Rome"]
    assert c.endpoints["vas"].test.statistic == pytest.approx(3.822222222222223, abs=1e-9)
    assert c.endpoints["vas"].test.p_value == pytest.approx(0.147915944206379, abs=1e-9)
    assert c.endpoints["pga6"].test.statistic == pytest.approx(0.666666666666667, abs=1e-9)
    assert c.endpoints["pga6"].test.p_value == pytest.approx(0.716531310573789, abs=1e-9)


def test_comparisons_are_in_the_json_and_each_patient_has_its_group(evaluation):
    js = json.loads(json.dumps(evaluation.as_json(detail=False)))
    assert list(js["comparisons"]) == ["index_drug", "sex", "severe", "two_centers", "centers"]
    sex = js["comparisons"]["sex"]
    assert set(sex) == {"label", "by", "groups", "ungrouped", "endpoints"}
    assert sex["label"] == "By sex" and sex["by"] == "sex"
    assert set(sex["endpoints"]["pga6"]) == {"groups", "test", "note"}
    assert sex["endpoints"]["pga6"]["groups"]["F"]["n"] == 1
    assert sex["endpoints"]["pga6"]["test"]["test"] == "fisher_exact"
    assert sex["endpoints"]["remission"]["test"]["test"] == "log_rank"
    groups = dict(evaluation.patients.select("patient_id", "group.severe").iter_rows())
    assert groups["P01"] == "yes" and groups["P02"] == "no" and groups["P09"] is None
