"""Group comparisons (``compare:``): every endpoint per group, with the test between the groups.

Each eligible patient is put in one group of a comparison:

- ``by: index_drug | index_class | index_target | sex | center``: the value of that column of the
  cohort's table (the index course's drug, its class or target, the patient's sex or center);
  a patient without a value is ungrouped ("no center");
- ``by: <criterion>``: ``yes`` where the criterion is true, ``no`` where false; a patient
  lacking the data is ungrouped ("missing data for the criterion").

``groups`` keeps only those groups, in that order (patients of other groups are ungrouped, with
the reason); by default every group found, sorted. Every endpoint is then computed on the rows
of the per-patient table of each group (the table is built once; each group is a filter of it),
and compared:

- proportion: Fisher's exact test for two groups, chi-squared for more, over the patients
  with a known value (those with missing data are left out of the test);
- distribution: Mann-Whitney U (R ``wilcox.test``) for two groups, Kruskal-Wallis for more;
- time to event: the log-rank test (R ``survdiff``) over the patients analysed;
- count: no test (lesions of one patient are not independent; a count of patients is the
  group's size and has no test), with a note saying so.
"""

from __future__ import annotations

import polars as pl

from ..errors import ProtocolError
from ..protocols.describe import describe_criterion
from ..protocols.model import Comparison, Count, Distribution, Protocol, Proportion, TimeToEvent
from ..results import ComparisonResult, EndpointResult, GroupedEndpoint
from ..words import counted
from .criteria import criterion_expr
from .endpoints import compute_endpoints, distribution_values
from .patient_table import PatientTable

__all__ = ["compare_groups", "compute_comparisons", "group_expr", "group_label"]

_BY_WORDS = {"index_drug": "index drug", "index_class": "class of the index drug",
             "index_target": "target of the index drug", "sex": "sex", "center": "center"}
_SEX = {"F": "female", "M": "male", "U": "sex unknown"}
MISSING_CRITERION = "missing data for the criterion"


def group_expr(comparison: Comparison, columns: list[str]) -> pl.Expr:
    """The patient's group (String; null when the patient has none), over the patient table."""
    by = comparison.by
    if isinstance(by, str):
        if by not in columns:
            raise ProtocolError(f"compare by {by}: the cohort has no {by!r} column; compare by one of "
                                f"{', '.join(c for c in _BY_WORDS if c in columns)} or a criterion")
        return pl.col(by).cast(pl.String)
    met = criterion_expr(by)
    return pl.when(met).then(pl.lit("yes")).when(~met).then(pl.lit("no")).otherwise(pl.lit(None, pl.String))


def group_label(comparison: Comparison, group: str) -> str:
    """The group's label: ``group_labels``, else the sex in words, else the group's id."""
    if group in comparison.group_labels:
        return comparison.group_labels[group]
    if comparison.by == "sex":
        return _SEX.get(group, group)
    return group


def _by_words(comparison: Comparison, protocol: Protocol) -> str:
    if isinstance(comparison.by, str):
        return _BY_WORDS[comparison.by]
    return describe_criterion(comparison.by, protocol)


def compute_comparisons(protocol: Protocol, patients: PatientTable) -> dict[str, ComparisonResult]:
    """Every comparison of the protocol, keyed by ``Comparison.key``."""
    out: dict[str, ComparisonResult] = {}
    for comparison in protocol.compare:
        if comparison.key in out:
            raise ProtocolError(f"compare: two comparisons have the key {comparison.key!r}; give each an id")
        out[comparison.key] = compare_groups(protocol, patients, comparison)
    return out


def compare_groups(protocol: Protocol, patients: PatientTable, comparison: Comparison) -> ComparisonResult:
    """One comparison: the groups, the ungrouped patients with reasons, every endpoint per group."""
    table = patients.patients.with_columns(group_expr(comparison, patients.patients.columns).alias("__group"))
    found = sorted(table["__group"].drop_nulls().unique().to_list())
    order = list(comparison.groups) if comparison.groups else found
    missing_reason = (MISSING_CRITERION if not isinstance(comparison.by, str)
                      else f"no {_BY_WORDS[comparison.by]}")
    reason = (pl.when(pl.col("__group").is_null()).then(pl.lit(missing_reason))
              .when(~pl.col("__group").is_in(order))
              .then(pl.lit(f"{_by_words(comparison, protocol)} ") + pl.col("__group")
                    + pl.lit(" is not among the compared groups")))
    ungrouped = table.select("patient_id", reason.alias("reason")).drop_nulls("reason").sort("patient_id")
    per_group: dict[str, dict[str, EndpointResult]] = {}
    tables: dict[str, pl.DataFrame] = {}
    sizes = []
    for g in order:
        rows = table.filter(pl.col("__group") == g).drop("__group")
        lesions = patients.lesions
        if lesions.height and "patient_id" in lesions.columns:
            lesions = lesions.join(rows.select("patient_id"), on="patient_id", how="semi")
        tables[g] = rows
        per_group[g] = compute_endpoints(protocol, PatientTable(rows, lesions))
        sizes.append({"id": g, "label": group_label(comparison, g), "n": rows.height})
    endpoints = {}
    labels = [group_label(comparison, g) for g in order]
    for e in protocol.endpoints:
        results = {g: per_group[g][e.id] for g in order}
        test, note = _test(e, protocol, order, labels, results, tables)
        endpoints[e.id] = GroupedEndpoint(e.id, results, test, note)
    label = comparison.label or f"By {_by_words(comparison, protocol)}"
    return ComparisonResult(comparison.key, label, _by_words(comparison, protocol), sizes,
                            ungrouped.to_dicts(), endpoints)


def _test(e, protocol: Protocol, order: list[str], labels: list[str], results: dict[str, EndpointResult],
          tables: dict[str, pl.DataFrame]):
    """The test of one endpoint between the groups, or ``(None, note)``."""
    if len(order) < 2:
        return None, f"{counted(len(order), 'group')}: no test"
    from ..statistics import two_group

    if isinstance(e, Proportion):
        known = {g: (results[g].n, results[g].of - results[g].missing) for g in order}
        note = None
        if any(results[g].missing for g in order):
            note = "patients with missing data are left out of the test"
        if len(order) == 2:
            (ya, na), (yb, nb) = known[order[0]], known[order[1]]
            return two_group.fisher_exact(ya, na, yb, nb, variable=e.label, labels=(labels[0], labels[1])), note
        return two_group.chi_squared({lab: known[g] for g, lab in zip(order, labels)}, variable=e.label), note
    if isinstance(e, Distribution):
        values = {lab: distribution_values(e, tables[g], protocol).cast(pl.Float64).to_list()
                  for g, lab in zip(order, labels)}
        if len(order) == 2:
            a, b = values.values()
            return two_group.mann_whitney(a, b, variable=e.label, labels=(labels[0], labels[1])), None
        return two_group.kruskal_wallis(values, variable=e.label), None
    if isinstance(e, TimeToEvent):
        prefix = f"tte.{e.id}"
        used = pl.concat([tables[g].select(pl.col(f"{prefix}.days").alias("days"),
                                           pl.col(f"{prefix}.event").alias("event"),
                                           pl.col(f"{prefix}.excluded").alias("excluded"),
                                           pl.lit(lab).alias("group"))
                          for g, lab in zip(order, labels)]).filter(pl.col("excluded").is_null())
        return two_group.log_rank(used["days"].to_list(), used["event"].to_list(), used["group"].to_list(),
                                  variable=e.label), None
    if isinstance(e, Count) and e.lesions is not None:
        return None, "lesions of one patient are not independent: no test"
    return None, "a count of patients is the group's size: no test"
