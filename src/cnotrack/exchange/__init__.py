"""The exchange format: reading, validating and writing datasets."""

from .dataset import Dataset
from .reader import read_dataset
from .schema import exchange_format
from .template import write_template
from .validate import check_dataset, load_dataset, validate_dataset
from .writer import export_dataset

__all__ = [
    "Dataset",
    "check_dataset",
    "exchange_format",
    "export_dataset",
    "load_dataset",
    "read_dataset",
    "validate_dataset",
    "write_template",
]
