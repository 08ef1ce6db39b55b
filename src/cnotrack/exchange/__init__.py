"""The exchange format: reading, validating and writing datasets."""

from .dataset import Dataset
from .reader import CLI_LIMITS, UPLOAD_LIMITS, ReadLimits, read_dataset
from .schema import exchange_format
from .spreadsheet import spreadsheet_safe, spreadsheet_text
from .template import write_template
from .validate import check_dataset, load_dataset, validate_dataset
from .writer import export_dataset

__all__ = [
    "CLI_LIMITS",
    "UPLOAD_LIMITS",
    "Dataset",
    "ReadLimits",
    "check_dataset",
    "exchange_format",
    "export_dataset",
    "load_dataset",
    "read_dataset",
    "spreadsheet_safe",
    "spreadsheet_text",
    "validate_dataset",
    "write_template",
]
