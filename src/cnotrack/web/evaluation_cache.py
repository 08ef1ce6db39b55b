"""The evaluations the web application has computed, kept per state of the database.

Every page and API route that shows an evaluation (the dashboard, the evaluation page, its
downloads, ``/api/v1/evaluation``) asks :meth:`EvaluationCache.get` instead of evaluating. An
evaluation is kept under its **key**, everything its result depends on:

- the token of the clinical data, ``cnotrack.store.state.data_state(store)``: every write of
  clinical data (a record created, changed or deleted, an import that changed something) gives
  a new token, so a write by one user is seen by the next request of anyone, with no message
  between them; the token is read *before* the data, so a result is never kept under a token
  newer than the data it was computed from;
- the protocol, and whether the statistics were computed;
- the **scope** of the user (:func:`scope_of`): an admin sees every patient; anyone else sees
  the patients of their center, and the role is part of the scope too, so that no result ever
  passes from one center to another, nor from an investigator to a viewer.

The cache is bounded (least recently used first out, ``maxsize`` evaluations) and drops every
evaluation of an older token as soon as a newer one is seen. It is thread-safe: concurrent
requests for one key compute it once, the others wait for that result (or its error); requests
for other keys are not held up. A database without a state row (written outside cnotrack:
token ``"unknown"``) is evaluated on every request, never cached.

Each kept evaluation also keeps what the pages derive from it (:meth:`CachedEvaluation.derived`:
the dashboard's endpoint rows, the cohort's ids, the summary JSON), computed once per key.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any

from ..engine import Evaluation
from ..store.database import Store
from ..store.state import data_state
from ..users import User

__all__ = ["CachedEvaluation", "EvaluationCache", "UNKNOWN_STATE", "scope_of"]

#: The token ``data_state`` gives for a database it cannot follow: never cached.
UNKNOWN_STATE = "unknown"

Compute = Callable[[Store, User, str, bool], Evaluation]


def scope_of(user: User) -> tuple[str, str | None]:
    """What of the data ``user`` may see, as a key: ``("admin", None)`` for every patient, else
    ``(role, center)``."""
    return ("admin", None) if user.is_admin else (user.role.value, user.center)


@dataclass
class CachedEvaluation:
    """An evaluation with its key's token, and the values derived from it (each computed once)."""

    evaluation: Evaluation
    token: str
    _derived: dict[str, Any] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _making: dict[str, threading.Lock] = field(default_factory=dict, repr=False)

    def derived(self, name: str, make: Callable[[Evaluation], Any]) -> Any:
        """``make(evaluation)``, computed on the first call for ``name`` and kept with the evaluation.
        Concurrent first calls for one name compute it once; a value being computed (a Markdown
        download of a large cohort) never holds up a call for another name (the page's view)."""
        with self._lock:
            if name in self._derived:
                return self._derived[name]
            making = self._making.setdefault(name, threading.Lock())
        with making:
            with self._lock:
                if name in self._derived:
                    return self._derived[name]
            value = make(self.evaluation)
            with self._lock:
                self._derived[name] = value
                self._making.pop(name, None)
            return value


class _Pending:
    """A computation in progress: the requests that wait for it, then its result or error."""

    def __init__(self) -> None:
        self.done = threading.Event()
        self.result: CachedEvaluation | None = None
        self.error: BaseException | None = None


class EvaluationCache:
    """Evaluations per (data state, protocol, statistics, user scope); see the module.

    ``compute(store, user, protocol, statistics)`` evaluates (``services.compute_evaluation``);
    ``state(store)`` gives the data token (``cnotrack.store.state.data_state``). ``hits``,
    ``misses`` and ``computed`` count requests answered from the cache, requests that were not,
    and evaluations actually computed (concurrent misses of one key compute once)."""

    def __init__(self, compute: Compute, *, maxsize: int = 16, state: Callable[[Store], str] = data_state) -> None:
        if maxsize < 1:
            raise ValueError(f"maxsize {maxsize} must be at least 1")
        self._compute, self._state, self.maxsize = compute, state, maxsize
        self._lock = threading.Lock()
        self._entries: OrderedDict[Hashable, CachedEvaluation] = OrderedDict()
        self._pending: dict[Hashable, _Pending] = {}
        self._token: str | None = None
        self.hits = self.misses = self.computed = 0

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def get(self, store: Store, user: User, protocol: str, *, statistics: bool = True) -> CachedEvaluation:
        """The evaluation of ``protocol`` on the patients ``user`` may see, as the data is now."""
        token = self._state(store)  # before the data is read: see the module
        if token == UNKNOWN_STATE:
            with self._lock:
                self.misses += 1
                self.computed += 1
            return CachedEvaluation(self._compute(store, user, protocol, statistics), token)
        key = (token, protocol, statistics, scope_of(user))
        with self._lock:
            if token != self._token:  # the data changed: what was kept describes data gone
                self._entries.clear()
                self._token = token
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
                self.hits += 1
                return entry
            self.misses += 1
            pending = self._pending.get(key)
            owner = pending is None
            if owner:
                pending = self._pending[key] = _Pending()
                self.computed += 1
        if not owner:
            pending.done.wait()
            if pending.error is not None:
                raise pending.error
            assert pending.result is not None
            return pending.result
        return self._run(store, user, protocol, statistics, key, token, pending)

    def _run(self, store: Store, user: User, protocol: str, statistics: bool, key: Hashable, token: str,
             pending: _Pending) -> CachedEvaluation:
        try:
            entry = CachedEvaluation(self._compute(store, user, protocol, statistics), token)
        except BaseException as exc:
            pending.error = exc
            raise
        else:
            pending.result = entry
            return entry
        finally:
            with self._lock:
                self._pending.pop(key, None)
                if pending.result is not None and token == self._token:  # not if newer data came meanwhile
                    self._entries[key] = pending.result
                    while len(self._entries) > self.maxsize:
                        self._entries.popitem(last=False)
            pending.done.set()
