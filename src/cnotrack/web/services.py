"""What the pages and the API share beyond ``cnotrack.records``: evaluating a protocol on the
patients a user may see, and the imports a user may make."""

from __future__ import annotations

from typing import Any

from ..engine import Evaluation, evaluate
from ..errors import AccessError, ProtocolError
from ..exchange.dataset import Dataset
from ..protocols import builtin_protocols, load_protocol
from ..records import visible_dataset
from ..store.database import Store
from ..store.exporter import read_store
from ..users import User
from .jsonsafe import jsonable

__all__ = ["check_import_allowed", "evaluate_for", "evaluation_json", "protocol_names"]


def protocol_names() -> list[str]:
    return builtin_protocols()


def evaluate_for(store: Store, user: User, protocol: str, *, statistics: bool = True) -> Evaluation:
    """``cnotrack evaluate`` on the patients ``user`` may see. Only built-in protocols: the web
    never reads a protocol file named by a request."""
    if protocol not in builtin_protocols():
        raise ProtocolError(f"no built-in protocol {protocol!r}; use one of {', '.join(builtin_protocols())}")
    return evaluate(visible_dataset(store, user), load_protocol(protocol), statistics=statistics)


def evaluation_json(evaluation: Evaluation) -> dict[str, Any]:
    """The evaluation as ``cnotrack evaluate --format json`` writes it, as strict JSON."""
    return jsonable(evaluation.as_json())


def check_import_allowed(store: Store, user: User, dataset: Dataset) -> None:
    """Raise ``AccessError`` unless ``user`` may import ``dataset``: an admin may import
    anything; an investigator only patients of their own center, and only over records of
    their own center's patients (an import updates the records with the same key)."""
    if user.is_admin:
        return
    if not user.can_write:
        raise AccessError(f"a {user.role.value} cannot import; ask an investigator or an admin")
    centers = set(dataset.patients["center"].to_list())
    if centers - {user.center}:
        others = ", ".join(sorted(repr(c) for c in centers - {user.center}))
        raise AccessError(f"the dataset has patients of other centers ({others}); {user.username} imports "
                          f"patients of {user.center!r} only: set their center column to {user.center!r}")
    stored = read_store(store)
    mine = set(stored.patients.filter(stored.patients["center"] == user.center)["patient_id"].to_list())
    taken = set(stored.patients["patient_id"].to_list()) - mine
    clash = sorted(set(dataset.patients["patient_id"].to_list()) & taken)
    studies = dict(zip(stored["imaging"]["study_id"].to_list(), stored["imaging"]["patient_id"].to_list()))
    clash += sorted(s for s in dataset["imaging"]["study_id"].to_list() if s in studies and studies[s] not in mine)
    if clash:
        raise AccessError(f"the dataset names records of another center ({', '.join(clash[:5])}); "
                          "rename them or ask an admin")
