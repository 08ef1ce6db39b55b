"""Every error cnotrack raises on purpose.

One base class, so that callers (the CLI, the web app, a user's script) can catch
cnotrack's own errors apart from bugs::

    CnotrackError
    ├── DatasetError          a dataset broke the exchange format; carries every Problem
    ├── VocabularyError       a vocabulary file shipped with cnotrack (or given by a user) is malformed
    ├── ProtocolError         a protocol file is malformed, or names something unknown
    ├── StoreError            the database cannot be opened, migrated or written
    ├── EvaluationError       a protocol cannot be evaluated on this data
    ├── InstrumentInputError  an instrument was given a missing, unknown or out-of-range input
    ├── FigureInputError      a figure was given a value it cannot draw
    ├── UserError             a user account cannot be created or changed as asked
    ├── AggregatesError       an aggregates file cannot be written, read or combined (cnotrack.federated)
    ├── NodeError             a vantage6 node's configuration or a task's input cannot be used
    ├── AccessError           the user may not do this (their role or center)       web: 403
    ├── RecordNotFoundError   no such record, or one the user may not see exists     web: 404
    └── RecordConflictError   a stale edit, a key already taken, a record in use     web: 409

A message names the file, row, column, key or parameter, the bad value and the fix.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

__all__ = [
    "AccessError",
    "CnotrackError",
    "DatasetError",
    "EvaluationError",
    "FigureInputError",
    "InstrumentInputError",
    "Problem",
    "ProtocolError",
    "RecordConflictError",
    "RecordNotFoundError",
    "StoreError",
    "UserError",
    "VocabularyError",
]


class CnotrackError(Exception):
    """Base class of every error cnotrack raises on purpose."""


@dataclass(frozen=True, order=True)
class Problem:
    """One problem in a dataset: where it is, what was found, what would be valid.

    ``row`` is the row as a spreadsheet shows it (the header is row 1); it is
    ``None`` for problems of a whole table or column.
    """

    table: str
    row: int | None
    column: str | None
    value: str | None
    message: str

    def as_dict(self) -> dict[str, object]:
        return asdict(self)

    def __str__(self) -> str:
        where = self.table
        if self.row is not None:
            where += f", row {self.row}"
        if self.column:
            where += f", column {self.column!r}"
        value = "" if self.value is None else f" (value {self.value!r})"
        return f"{where}: {self.message}{value}"


class DatasetError(CnotrackError):
    """A dataset has one or more problems; all of them are in ``problems``."""

    def __init__(self, problems: list[Problem], source: str | None = None) -> None:
        self.problems = sorted(problems, key=_problem_order)
        self.source = source
        n = len(self.problems)
        head = f"{source}: " if source else ""
        lines = "\n".join(f"  - {p}" for p in self.problems[:20])
        more = f"\n  ... and {n - 20} more" if n > 20 else ""
        super().__init__(
            f"{head}{n} problem{'s' if n != 1 else ''} in the dataset; nothing was imported.\n{lines}{more}"
        )


def _problem_order(p: Problem) -> tuple:
    return (p.table, p.row if p.row is not None else -1, p.column or "", p.message)


class VocabularyError(CnotrackError):
    """A vocabulary data file is malformed."""


class ProtocolError(CnotrackError):
    """A protocol file is malformed or refers to something unknown."""


class StoreError(CnotrackError):
    """The database cannot be opened, migrated or written."""


class EvaluationError(CnotrackError):
    """A protocol cannot be evaluated on the data given."""


class InstrumentInputError(CnotrackError):
    """An instrument input is missing, unknown or out of its range."""


class FigureInputError(CnotrackError, ValueError):
    """A figure was given a value it cannot draw (an unknown bone, a malformed curve); the
    message names the parameter, the value and what would be valid."""


class UserError(CnotrackError):
    """A user account cannot be created or changed as asked (a taken name, a short password)."""


class AccessError(CnotrackError):
    """The user may not do this: their role does not allow it, or the record belongs to a
    patient of another center."""


class RecordNotFoundError(CnotrackError):
    """No record of this table has this id (or it was deleted)."""


class RecordConflictError(CnotrackError):
    """The change conflicts with the database: the record changed since it was read (``current``
    is the stored version, ``submitted`` the one sent), its key is taken, or other records
    still refer to it."""

    def __init__(self, message: str, *, current: dict | None = None, submitted: dict | None = None) -> None:
        super().__init__(message)
        self.current = current
        self.submitted = submitted
