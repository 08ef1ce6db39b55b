"""The disclosure rule of a centre's aggregates: ``min_cell_count`` with complementary suppression.

Every count a centre shares is a *cell*. The rule, applied before the file is written:

1. **Primary suppression**: a cell with ``0 < count < min_cell_count`` is suppressed (a zero is
   shown: it tells nothing about a patient).
2. **Complementary suppression**: the cells are tied by *relations*, sets of cells of which one
   is the sum of the others (the yes, no and missing patients of a proportion and its
   denominator; a row or column of a 2 x k table and its total; the events and censored
   patients per time bin and their totals). If exactly one cell of a relation is suppressed it
   could be recomputed from the others, so the smallest other cell of the relation (a non-zero
   cell before a zero, a part before the total) is suppressed too; this repeats until every
   relation has none or at least two suppressed cells. In a table with margins every row and
   column then has 0 or at least 2 suppressed cells, so the suppressed cells form cycles and no
   one of them follows from the published ones.
3. In a histogram (values or times counted per bin) a zero is suppressed too when the threshold
   is above 1: there the position of a cell tells the value, so a suppressed bin must not tell
   that a patient is in it (a suppressed bin holds 0 to ``min_cell_count - 1``); and the bins
   are padded to whole spans (``sections.py``), so the first and last bins do not show the
   smallest and largest value.
4. Values computed from a suppressed group (a rank sum, a tie term) are suppressed with it; a
   signed-rank sum that proves that 0 < m < k patients moved one way is such a value
   (``sections._register_signs``).

A count the file does not hold but that follows from it (the patients *without* a counted
criterion: the cohort size minus the count) is a *virtual* cell: it is never written, but it
takes part in the rule, so that publishing 35 female patients of 38 is refused as surely as
publishing 3 male patients would be.

A suppressed cell is written ``{"suppressed": true}``. ``min_cell_count`` 0 or 1 suppresses
nothing. The rule and the threshold are recorded in the file (``disclosure``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["RULE", "SUPPRESSED", "Cells", "is_suppressed"]

RULE = ("min_cell_count: every count c with 0 < c < min_cell_count is suppressed (in a histogram of values or "
        "times every count below min_cell_count, zeros included, when min_cell_count > 1), and complementary "
        "cells so that no relation (parts and their total) has exactly one suppressed cell; values computed "
        "from a suppressed group are suppressed with it")
SUPPRESSED: dict[str, bool] = {"suppressed": True}

Path = tuple[Any, ...]


def is_suppressed(value: Any) -> bool:
    """Whether ``value`` is the suppressed-cell marker ``{"suppressed": true}``."""
    return isinstance(value, dict) and value.get("suppressed") is True


@dataclass
class Cells:
    """The counts of an aggregates document (by their path in it), their relations and the
    values that depend on them; ``apply`` suppresses in place by the rule above."""

    counts: dict[Path, int] = field(default_factory=dict)
    relations: list[tuple[Path, ...]] = field(default_factory=list)
    totals: set[Path] = field(default_factory=set)
    dependents: list[tuple[tuple[Path, ...], tuple[Path, ...]]] = field(default_factory=list)
    virtual: set[Path] = field(default_factory=set)
    histogram: set[Path] = field(default_factory=set)

    def count(self, path: Sequence[Any], value: int, *, histogram: bool = False) -> int:
        """Register the count at ``path`` (``histogram``: a count per bin); returns it."""
        self.counts[tuple(path)] = int(value)
        if histogram:
            self.histogram.add(tuple(path))
        return int(value)

    def complement(self, part: Sequence[Any], total: Sequence[Any], value: int) -> None:
        """Register the unwritten count ``total - part`` (``value``) as a virtual cell, related to both."""
        path = tuple(part) + ("(complement)",)
        self.counts[path] = int(value)
        self.virtual.add(path)
        self.relation([tuple(part), path], total)

    def remainder(self, parts: Iterable[Sequence[Any]], total: Sequence[Any], path: Sequence[Any], *,
                  histogram: bool = False) -> None:
        """Register the unwritten count ``total - sum(parts)`` (the part of ``total`` that no
        written part holds, such as the ungrouped patients' part of an endpoint) as a virtual
        cell at ``path``, with the relation of the parts, it and the total."""
        parts = [tuple(p) for p in parts]
        self.count(path, self.counts[tuple(total)] - sum(self.counts[p] for p in parts), histogram=histogram)
        self.virtual.add(tuple(path))
        self.relation(parts + [tuple(path)], total)

    def relation(self, parts: Iterable[Sequence[Any]], total: Sequence[Any]) -> None:
        """``total`` is the sum of ``parts`` (all registered counts)."""
        members = tuple(tuple(p) for p in parts) + (tuple(total),)
        self.totals.add(tuple(total))
        self.relations.append(members)

    def depends(self, values: Iterable[Sequence[Any]], on: Iterable[Sequence[Any]]) -> None:
        """The ``values`` are suppressed when any count of ``on`` is."""
        self.dependents.append((tuple(tuple(v) for v in values), tuple(tuple(o) for o in on)))

    def suppressed_paths(self, min_cell_count: int) -> set[Path]:
        """The paths to suppress under ``min_cell_count`` (counts and dependent values)."""
        hidden = {p for p, c in self.counts.items()
                  if 0 < c < min_cell_count or (min_cell_count > 1 and c == 0 and p in self.histogram)}
        changed = bool(hidden)
        while changed:
            changed = False
            for members in self.relations:
                hidden_here = [m for m in members if m in hidden]
                if len(hidden_here) != 1:
                    continue
                others = [m for m in members if m not in hidden]
                if not others:
                    continue
                pick = min(others, key=lambda m: (m in self.virtual, self.counts[m] == 0, m in self.totals,
                                                  self.counts[m], str(m)))
                hidden.add(pick)
                changed = True
        out = set(hidden)
        for values, on in self.dependents:
            if any(o in hidden for o in on):
                out.update(values)
        return out

    def apply(self, document: dict[str, Any], min_cell_count: int) -> int:
        """Replace every suppressed value of ``document`` by ``{"suppressed": true}``; returns how
        many were suppressed."""
        paths = self.suppressed_paths(min_cell_count) - self.virtual
        for path in paths:
            node = document
            for key in path[:-1]:
                node = node[key]
            node[path[-1]] = dict(SUPPRESSED)
        return len(paths)
