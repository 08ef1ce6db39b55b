"""The database: schema, migrations, import, export.

The names are imported on first use: SQLAlchemy and Alembic cost half a second, and a command
that reads a folder (``cnotrack evaluate DIR``) imports only ``store.label`` of this package.
"""

from ..lazy import lazy_names

#: where each exported name is defined
_LAZY = {"Store": "database", "default_database_url": "database", "open_store": "database",
         "resolve_database_url": "database", "read_store": "exporter", "ImportPlan": "importer",
         "ImportReport": "importer", "TablePlan": "importer", "import_dataset": "importer",
         "plan_import": "importer", "data_state": "state", "ImportDiff": "review",
         "import_diff": "review"}


__getattr__ = lazy_names(__name__, _LAZY)


__all__ = [
    "ImportDiff",
    "ImportPlan",
    "ImportReport",
    "Store",
    "data_state",
    "default_database_url",
    "import_dataset",
    "import_diff",
    "open_store",
    "plan_import",
    "read_store",
    "resolve_database_url",
    "TablePlan",
]
