"""What the pages and the API share beyond ``cnotrack.records``: evaluating a protocol on the
patients a user may see (kept per database state: ``evaluation_cache``), and the imports a user
may make."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from ..engine import Evaluation, evaluate
from ..errors import AccessError, ProtocolError
from ..exchange.dataset import Dataset
from ..protocols import builtin_protocols, load_protocol
from ..records import visible_dataset
from ..store.database import Store
from ..store.schema import record_table
from ..users import User
from .evaluation_cache import CachedEvaluation, EvaluationCache
from .jsonsafe import jsonable

__all__ = ["cached_evaluation", "check_import_allowed", "compute_evaluation", "evaluate_for", "evaluation_json",
           "new_evaluation_cache", "protocol_names", "summary_json"]


def protocol_names() -> list[str]:
    return builtin_protocols()


def evaluate_for(store: Store, user: User, protocol: str, *, statistics: bool = True) -> Evaluation:
    """``cnotrack evaluate`` on the patients ``user`` may see. Only built-in protocols: the web
    never reads a protocol file named by a request."""
    _check_protocol(protocol)
    return evaluate(visible_dataset(store, user), load_protocol(protocol), statistics=statistics)


def _check_protocol(protocol: str) -> None:
    if protocol not in builtin_protocols():
        raise ProtocolError(f"no built-in protocol {protocol!r}; use one of {', '.join(builtin_protocols())}")


def compute_evaluation(store: Store, user: User, protocol: str, statistics: bool) -> Evaluation:
    """What the evaluation cache runs on a miss: :func:`evaluate_for` (looked up when called)."""
    return evaluate_for(store, user, protocol, statistics=statistics)


def new_evaluation_cache(maxsize: int = 16) -> EvaluationCache:
    """The cache of an application (``create_app``): :func:`compute_evaluation` per key."""
    return EvaluationCache(compute_evaluation, maxsize=maxsize)


def cached_evaluation(cache: EvaluationCache, store: Store, user: User, protocol: str, *,
                      statistics: bool = True) -> CachedEvaluation:
    """:func:`evaluate_for`, from ``cache`` if this state of the data was evaluated for this
    protocol and the user's scope (``evaluation_cache``)."""
    _check_protocol(protocol)
    return cache.get(store, user, protocol, statistics=statistics)


def evaluation_json(evaluation: Evaluation, *, detail: bool = True) -> dict[str, Any]:
    """The evaluation as ``cnotrack evaluate --format json`` writes it, as strict JSON: with the
    rows per patient, per lesion and per diagnostic criterion (``patients``, ``lesions``,
    ``diagnostic_criteria``) unless ``detail`` is false."""
    return jsonable(evaluation.as_json(detail=detail))


def summary_json(entry: CachedEvaluation) -> dict[str, Any]:
    """``evaluation_json(..., detail=False)`` of a cached evaluation, computed once per entry."""
    return entry.derived("summary_json", lambda e: evaluation_json(e, detail=False))


def check_import_allowed(store: Store, user: User, dataset: Dataset) -> None:
    """Raise ``AccessError`` unless ``user`` may import ``dataset``: an admin may import
    anything; an investigator only patients of their own center, and only over records of
    their own center's patients (an import updates, or restores, the records with the same
    key). Stored records count whether deleted or not, so that an import cannot take over
    another center's deleted patient or study; the refusal names only identifiers of the
    dataset, never what the database holds under them."""
    if user.is_admin:
        return
    if not user.can_write:
        raise AccessError(f"a {user.role.value} cannot import; ask an investigator or an admin")
    centers = set(dataset.patients["center"].to_list())
    if None in centers:
        n = dataset.patients["center"].null_count()
        raise AccessError(f"{n} patient{'s' if n != 1 else ''} of the dataset {'have' if n != 1 else 'has'} no "
                          f"center; {user.username} imports patients of {user.center!r} only: fill the center "
                          f"column of patients with {user.center!r}")
    if centers - {user.center}:
        others = ", ".join(sorted(repr(c) for c in centers - {user.center}))
        raise AccessError(f"the dataset has patients of other centers ({others}); {user.username} imports "
                          f"patients of {user.center!r} only: set their center column to {user.center!r}")
    patients, imaging = record_table("patients"), record_table("imaging")
    patient_ids = sorted(set(dataset.patients["patient_id"].to_list()))
    study_ids = sorted(set(dataset["imaging"]["study_id"].to_list()))
    not_mine = sa.or_(patients.c.center.is_(None), patients.c.center != user.center)
    clash: set[str] = set()
    with store.engine.connect() as conn:
        for chunk in _chunks(patient_ids):
            clash.update(conn.execute(sa.select(patients.c.patient_id)
                                      .where(patients.c.patient_id.in_(chunk), not_mine)).scalars())
        for chunk in _chunks(study_ids):
            clash.update(conn.execute(
                sa.select(imaging.c.study_id)
                .outerjoin(patients, patients.c.patient_id == imaging.c.patient_id)
                .where(imaging.c.study_id.in_(chunk), sa.or_(patients.c.id.is_(None), not_mine))).scalars())
    if clash:
        names = sorted(clash)
        more = f" and {len(names) - 5} more" if len(names) > 5 else ""
        raise AccessError(f"the identifiers {', '.join(names[:5])}{more} of the dataset are not available (taken "
                          "by records you cannot see); rename them or ask an admin")


def _chunks(values: list[str], size: int = 500) -> list[list[str]]:
    return [values[i:i + size] for i in range(0, len(values), size)]
