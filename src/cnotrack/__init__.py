"""cnotrack: clinical research on cohorts of children with chronic nonbacterial osteomyelitis.

The library comes first; the ``cnotrack`` command and the web application are thin layers
over the functions exported here. cnotrack supports research; it gives no treatment advice.
"""

__version__ = "0.1.0"

from .errors import (  # noqa: E402
    CnotrackError,
    DatasetError,
    EvaluationError,
    InstrumentInputError,
    Problem,
    ProtocolError,
    StoreError,
    VocabularyError,
)
from .exchange import (  # noqa: E402
    Dataset,
    check_dataset,
    export_dataset,
    load_dataset,
    validate_dataset,
    write_template,
)
from .lazy import lazy_names  # noqa: E402
from .vocabulary import anatomy, drugs, lab_tests  # noqa: E402

#: names of the store, imported on first use: SQLAlchemy and Alembic cost a second of start-up
#: that a command reading a folder (``cnotrack evaluate DIR``, ``validate``) never needs
_LAZY = {"ImportReport": "store", "Store": "store", "import_dataset": "store", "open_store": "store",
         "read_store": "store"}


__getattr__ = lazy_names(__name__, _LAZY)

__all__ = [
    "CnotrackError",
    "Dataset",
    "DatasetError",
    "EvaluationError",
    "ImportReport",
    "InstrumentInputError",
    "Problem",
    "ProtocolError",
    "Store",
    "StoreError",
    "VocabularyError",
    "__version__",
    "anatomy",
    "check_dataset",
    "drugs",
    "export_dataset",
    "import_dataset",
    "lab_tests",
    "load_dataset",
    "open_store",
    "read_store",
    "validate_dataset",
    "write_template",
]
