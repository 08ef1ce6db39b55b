"""A REDCap project as cnotrack reads it: the data dictionary, the events, the repeating
instruments, the missing-data codes and the flat records, whatever they were read from (files
exported from REDCap's web interface, or its API).

Nothing here is mapped to cnotrack's tables yet (``interop.redcap.mapping`` does that); every
record value stays the text REDCap exported, ``None`` where REDCap exported ``""``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

__all__ = ["Event", "Field", "RedcapProject", "RECORD_ROW", "PSEUDO_FIELDS"]

#: the column of ``RedcapProject.records`` that holds where each record row was in its source:
#: the row as a spreadsheet shows it (header = row 1) for CSV, the 1-based item for JSON
RECORD_ROW = "_row"

#: columns of a flat export that are not fields of the dictionary
PSEUDO_FIELDS = ("redcap_event_name", "redcap_repeat_instrument", "redcap_repeat_instance",
                 "redcap_data_access_group", "redcap_survey_identifier")


@dataclass(frozen=True)
class Field:
    """One row of the data dictionary."""

    name: str
    form: str
    field_type: str                              # text, radio, dropdown, checkbox, yesno, truefalse, calc, ...
    label: str
    choices: tuple[tuple[str, str], ...] = ()    # (code, label); yesno is (1 Yes, 0 No), truefalse (1 True, 0 False)
    validation: str | None = None                # text_validation_type_or_show_slider_number: date_ymd, number_comma_decimal, ...
    minimum: str | None = None
    maximum: str | None = None
    required: bool = False
    identifier: bool = False
    row: int = 0                                 # the dictionary row as a spreadsheet shows it (header = row 1)

    def checkbox_column(self, code: str) -> str:
        """The flat-export column of one checkbox choice: ``field___code``, the code lower-cased
        and every character other than a letter or digit turned into ``_``."""
        return f"{self.name}___" + "".join(c if c.isascii() and c.isalnum() else "_" for c in code.lower())


@dataclass(frozen=True)
class Event:
    unique_name: str
    label: str = ""
    arm: int = 1


@dataclass
class RedcapProject:
    """What was read of one REDCap project."""

    name: str                                    # the project title, else the records file's name
    fields: dict[str, Field]                     # dictionary order
    records: pl.DataFrame                        # every column String (None = ""), as exported, plus RECORD_ROW
    records_source: str                          # the records file's name (or "REDCap API")
    events: list[Event] = field(default_factory=list)           # empty for a classic project
    designations: dict[str, list[str]] = field(default_factory=dict)  # event -> its forms; empty = every form in every event
    repeating: set[tuple[str | None, str | None]] = field(default_factory=set)  # (event or None, form; form None = the whole event repeats)
    missing_codes: dict[str, str] = field(default_factory=dict)  # code -> label (REDCap's "missing data codes")
    sha256: dict[str, str] = field(default_factory=dict)        # every source file (or API content) -> SHA-256 of its bytes

    @property
    def record_id(self) -> str:
        """The record identifier field: the dictionary's first field."""
        return next(iter(self.fields))

    @property
    def forms(self) -> list[str]:
        """The instruments in dictionary order."""
        return list(dict.fromkeys(f.form for f in self.fields.values()))

    @property
    def longitudinal(self) -> bool:
        return bool(self.events) or "redcap_event_name" in self.records.columns
