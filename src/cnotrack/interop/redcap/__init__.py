"""REDCap projects read into cnotrack datasets, and cnotrack datasets written as REDCap projects."""

from .dictionary import (
    DICTIONARY_COLUMNS, format_choices, parse_choices, parse_dictionary, parse_dictionary_json,
)
from .files import (
    parse_designations, parse_events, parse_missing_codes, parse_repeating, project_from_content,
    read_project,
)
from .project import Event, Field, RedcapProject
from .records import check_record_columns, parse_records

__all__ = [
    "DICTIONARY_COLUMNS", "Event", "Field", "RedcapProject", "check_record_columns", "format_choices",
    "parse_choices", "parse_designations", "parse_dictionary", "parse_dictionary_json", "parse_events",
    "parse_missing_codes", "parse_records", "parse_repeating", "project_from_content", "read_project",
]
