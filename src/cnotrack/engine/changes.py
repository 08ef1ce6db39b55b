"""Values, changes and percent changes of a variable between two timepoints, per patient.

The variable (``of``) is one of ``pga`` (coded none = 0, minimal = 1, mild = 2, moderate = 3,
severe = 4, column ``pga_ord@<tp>``), ``pga_vas``, ``patient_global_vas``, ``pain_vas``,
``chaq_di`` (the CHAQ disability index, from the items when not given: ``chaq.py``), ``lesions``
(active lesions on the timepoint's study, under an optional lesion filter: ``lesions@<tp>`` or
``lesions[<key>]@<tp>``) or a laboratory test code (canonical units; a censored ``<x`` or ``>x``
is taken as x, and the method says how many were).

The change from ``from`` to ``to`` is ``to - from`` (column ``change(<of>)@<from>><to>``); the
percent change is ``100 (to - from) / from`` (``pchange(<of>)@<from>><to>``), missing when
``from`` is 0 (the method counts those patients). Either is missing when a value is.
"""

from __future__ import annotations

import polars as pl

from ..protocols.model import PGA_ORDER

__all__ = ["add_changes", "add_pga_ordinal", "censored_count", "change_column", "describe_variable", "lesions_column",
           "pair_prefix", "pga_ordinal_expr", "study_column", "value_column", "variable_name",
           "zero_baseline_count"]


def study_column(tp: str, modality: str | None = None) -> str:
    """``study@<tp>`` for the protocol's modality, ``study[<modality>]@<tp>`` for another one."""
    return f"study[{modality}]@{tp}" if modality else f"study@{tp}"


def lesions_column(tp: str, key: str = "") -> str:
    """``lesions@<tp>`` without a filter, ``lesions[<key>]@<tp>`` with one."""
    return f"lesions[{key}]@{tp}" if key else f"lesions@{tp}"


def pair_prefix(first: str, second: str, key: str = "") -> str:
    """``<from>><to>`` without a filter, ``<from>><to>[<key>]`` with one (then ``.<fate>``)."""
    return f"{first}>{second}[{key}]" if key else f"{first}>{second}"


def variable_name(of: str, key: str = "") -> str:
    """The variable as written in change columns: ``lesions[<key>]`` for filtered lesions."""
    return f"lesions[{key}]" if of == "lesions" and key else of


def value_column(of: str, tp: str, key: str = "") -> str:
    """The column holding ``of`` at ``tp``: ``pga_ord@<tp>``, ``lesions[<key>]@<tp>``, ``ESR@<tp>``..."""
    if of == "pga":
        return f"pga_ord@{tp}"
    if of == "lesions":
        return lesions_column(tp, key)
    return f"{of}@{tp}"


def change_column(of: str, first: str, second: str, key: str = "", *, percent: bool = False) -> str:
    """``change(<of>)@<from>><to>`` or, with ``percent``, ``pchange(<of>)@<from>><to>``."""
    return f"{'pchange' if percent else 'change'}({variable_name(of, key)})@{first}>{second}"


def pga_ordinal_expr(column: str) -> pl.Expr:
    """The PGA level of ``column`` coded 0 (none) to 4 (severe), null when missing."""
    return pl.col(column).replace_strict(list(PGA_ORDER), list(range(len(PGA_ORDER))), default=None,
                                         return_dtype=pl.Int64)


def add_pga_ordinal(table: pl.DataFrame, timepoints: set[str]) -> pl.DataFrame:
    return table.with_columns([pga_ordinal_expr(f"pga@{tp}").alias(f"pga_ord@{tp}") for tp in sorted(timepoints)])


def add_changes(table: pl.DataFrame, changes) -> pl.DataFrame:
    """Add the change and percent-change column of each ``(of, key, from, to)`` of ``changes``."""
    columns = []
    for of, key, first, second in sorted(changes):
        before = pl.col(value_column(of, first, key)).cast(pl.Float64)
        after = pl.col(value_column(of, second, key)).cast(pl.Float64)
        columns.append((after - before).alias(change_column(of, first, second, key)))
        columns.append(pl.when(before == 0).then(None).otherwise(100 * (after - before) / before)
                       .alias(change_column(of, first, second, key, percent=True)))
    return table.with_columns(columns) if columns else table


def zero_baseline_count(table: pl.DataFrame, of: str, first: str, second: str, key: str = "") -> int:
    """Patients with both values whose ``from`` value is 0 (no percent change)."""
    before, after = pl.col(value_column(of, first, key)), pl.col(value_column(of, second, key))
    return int(table.select(((before == 0) & after.is_not_null()).sum()).item())


def censored_count(table: pl.DataFrame, of: str, timepoints: tuple[str, ...], used: pl.Expr) -> int:
    """Censored lab values (``<x``, ``>x``) among the patients ``used`` at ``timepoints``."""
    total = 0
    for tp in timepoints:
        censor = f"{of}@{tp}.censor"
        if censor in table.columns:
            total += int(table.select((pl.col(censor).is_not_null() & used).sum()).item())
    return total


_WORDS = {"pga": "PGA (none 0, minimal 1, mild 2, moderate 3, severe 4)",
          "pga_vas": "physician global assessment (0-10)", "patient_global_vas": "patient global assessment (0-10)",
          "pain_vas": "pain (0-10)", "chaq_di": "CHAQ disability index", "lesions": "number of active lesions"}


def describe_variable(of: str, lesion_filter=None) -> str:
    """The variable in words: "pain (0-10)", "number of active symptomatic lesions of the spine"."""
    if of != "lesions":
        return _WORDS.get(of, f"{of} (canonical unit; a censored <x or >x taken as x)")
    if lesion_filter is None:
        return _WORDS["lesions"]
    kind = {None: "", True: "symptomatic ", False: "not symptomatic "}[lesion_filter.symptomatic]
    text = f"number of active {kind}lesions"
    sites = [r.replace("_", " ") for r in lesion_filter.regions] + list(lesion_filter.bones)
    if sites:
        text += " of the " + " or ".join(sites)
    if lesion_filter.modality:
        text += f" on {lesion_filter.modality.replace('_', ' ')}"
    return text
