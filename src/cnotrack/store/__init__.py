"""The database: schema, migrations, import, export."""

from .database import Store, default_database_url, open_store, resolve_database_url
from .exporter import read_store
from .importer import ImportPlan, ImportReport, TablePlan, import_dataset, plan_import
from .state import data_state

__all__ = [
    "ImportPlan",
    "ImportReport",
    "Store",
    "data_state",
    "default_database_url",
    "import_dataset",
    "open_store",
    "plan_import",
    "read_store",
    "resolve_database_url",
    "TablePlan",
]
