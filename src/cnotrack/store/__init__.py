"""The database: schema, migrations, import, export."""

from .database import Store, default_database_url, open_store, resolve_database_url
from .exporter import read_store
from .importer import ImportReport, import_dataset

__all__ = [
    "ImportReport",
    "Store",
    "default_database_url",
    "import_dataset",
    "open_store",
    "read_store",
    "resolve_database_url",
]
