"""Uploading a dataset: the validation table first, then what the import would change, and the
import only when confirmed.

The uploaded files wait in a private temporary folder under a random token that only the
user who uploaded them can confirm or cancel; the import itself is ``import_dataset`` (all or
nothing, audited with the user's name). Before the user confirms, the page shows per table the
rows the import would add (their values), change (for each changed row, by its key, every
changed column with its stored and its new value) and leave unchanged
(``cnotrack.store.import_diff``, in ``store/review.py``): at most ``DIFF_ROWS`` added and changed rows a table, then
"and N more", and the whole review as CSV (``POST /import/diff.csv`` with the upload's token,
computed again from the waiting files). After the import, the page shows what it did.

The review is computed only after ``check_import_allowed``: an investigator's upload that names
another center's patient or study is refused (403, naming only the file's identifiers) before
any stored value is read, so the review never shows another center's rows.

Bounded work: the request body is counted as it is received (``web.limits``: a chunked upload
has no Content-Length to trust) and stopped at ``max_upload_bytes()`` with a 413; the files are read
with the reader's upload limits (rows, columns, cells, workbook size). A pending upload's
folder is deleted when it is confirmed, cancelled or expires (expired ones are swept on every
upload, confirmation and cancellation, and all are deleted when the application shuts down).
No page or error names the server's temporary folder: problems are labelled with the uploaded
files' names.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, PlainTextResponse, Response
from starlette.datastructures import UploadFile

from ..errors import CnotrackError, DatasetError, Problem
from ..exchange import validate_dataset
from ..exchange.reader import UPLOAD_LIMITS, read_dataset
from ..store.review import import_diff
from ..store.importer import import_dataset
from ..users import User
from .deps import page_user
from .errors import ApiError
from .limits import MAX_UPLOAD_BYTES, MAX_UPLOAD_ENV_VAR, form_limits, max_upload_bytes
from .services import check_import_allowed
from .templating import render

__all__ = ["DIFF_ROWS", "MAX_UPLOAD_BYTES", "MAX_UPLOAD_ENV_VAR", "PENDING_SECONDS", "max_upload_bytes", "router"]

PENDING_SECONDS = 3600
#: The added and the changed rows the review shows a table (the rest: "and N more", and the CSV).
DIFF_ROWS = 25
_FOLDER_PREFIX = "cnotrack-upload-"
clock: Callable[[], float] = time.monotonic  # replaced by tests, to expire uploads without waiting


@contextlib.asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    yield
    pending = getattr(app.state, "pending_imports", None)
    if pending:
        for token in list(pending):
            _discard(pending, token)


router = APIRouter(include_in_schema=False, lifespan=_lifespan)


@dataclass
class PendingImport:
    folder: Path
    dataset_path: Path
    user_id: int
    source: str
    names: list[str]
    created: float


def _require_writer(user: User) -> None:
    if not user.can_write:
        raise ApiError(403, "forbidden", f"a {user.role.value} cannot import; ask an investigator or an admin")


@router.get("/import", response_class=HTMLResponse)
def import_page(request: Request, user: User = Depends(page_user)) -> Response:
    _require_writer(user)
    return render(request, "import.html", {})


def _load(path: Path, label: str):
    """Read (within the upload limits) and validate the uploaded dataset, labelled by the
    uploaded files' names, never by the temporary folder."""
    raw = read_dataset(path, limits=UPLOAD_LIMITS, label=label)
    dataset = validate_dataset(raw)
    dataset.source = label
    return dataset


def _hidden(text: object, folder: Path) -> object:
    """``text`` with the temporary folder's path removed (a last guard: labels never carry it)."""
    if not isinstance(text, str):
        return text
    for form in (str(folder) + os.sep, str(folder), folder.name):
        text = text.replace(form, "")
    return text


def _without_folder(problems: list[Problem], folder: Path) -> list[Problem]:
    return [Problem(*(_hidden(getattr(p, f), folder) for f in ("table", "row", "column", "value", "message")))
            for p in problems]


def _pending(request: Request) -> dict[str, PendingImport]:
    pending = request.app.state.pending_imports
    now = clock()
    for token, item in list(pending.items()):
        if now - item.created > PENDING_SECONDS:
            _discard(pending, token)
    return pending


def _discard(pending: dict[str, PendingImport], token: str) -> None:
    item = pending.pop(token, None)
    if item is not None:
        shutil.rmtree(item.folder, ignore_errors=True)


@router.post("/import", response_class=HTMLResponse)
async def upload(request: Request, user: User = Depends(page_user)) -> Response:
    _require_writer(user)
    pending = _pending(request)
    form = await request.form(**form_limits(request.scope))
    uploads = [f for f in form.getlist("files") if isinstance(f, UploadFile) and f.filename]
    folder = Path(tempfile.mkdtemp(prefix=_FOLDER_PREFIX))
    names: list[str] = []
    try:
        for upload_file in uploads:
            name = Path(upload_file.filename.replace("\\", "/")).name
            if not name.lower().endswith((".csv", ".xlsx")) or name.startswith("."):
                raise _refusal(f"{name}: upload CSV files (patients.csv, ...) or one .xlsx workbook")
            if name in names:
                raise _refusal(f"{name}: the file is uploaded twice; upload each file once")
            with open(folder / name, "wb") as target:
                while chunk := await upload_file.read(2**20):
                    target.write(chunk)
            names.append(name)
        if not names:
            raise _refusal("choose the dataset's files: CSV files (one per table) or one .xlsx workbook")
        workbooks = [n for n in names if n.lower().endswith(".xlsx")]
        if workbooks and len(names) > 1:
            raise _refusal("upload either CSV files or one .xlsx workbook, not both")
        path = folder / workbooks[0] if workbooks else folder
        label = workbooks[0] if workbooks else "upload"
        source = "upload: " + ", ".join(sorted(names))
        dataset = await run_in_threadpool(_load, path, label)
        dataset.source = source
        store = request.app.state.store
        check_import_allowed(store, user, dataset)
        diff = await run_in_threadpool(import_diff, dataset, store)
    except DatasetError as exc:
        shutil.rmtree(folder, ignore_errors=True)
        problems = _without_folder(exc.problems, folder)
        return render(request, "import.html", {"problems": problems[:1000], "n_problems": len(problems),
                                               "names": names}, 422)
    except CnotrackError as exc:
        shutil.rmtree(folder, ignore_errors=True)
        if folder.name in str(exc):
            raise CnotrackError(str(_hidden(str(exc), folder))) from None
        raise
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    token = secrets.token_urlsafe(24)
    pending[token] = PendingImport(folder, path, user.id, source, names, clock())
    return render(request, "import.html", {"token": token, "diff": diff, "names": names,
                                           "pages": {n: t.page(DIFF_ROWS) for n, t in diff.tables.items()
                                                     if t.n_added or t.n_changed},
                                           "counts": dataset.row_counts()})


def _refusal(message: str) -> DatasetError:
    return DatasetError([Problem("upload", None, None, None, message)])


async def _claim(request: Request, user: User, *, take: bool = True) -> PendingImport:
    """The caller's pending upload named by the form's token, taken out of the waiting list
    (left in it with ``take=False``)."""
    form = await request.form(**form_limits(request.scope))
    pending = _pending(request)
    token = str(form.get("token") or "")
    item = pending.get(token)
    if item is None or item.user_id != user.id:
        raise ApiError(404, "not_found", "no upload waits for confirmation under this token (it was confirmed, "
                                         "cancelled or has expired); upload the files again")
    if take:
        pending.pop(token, None)
    return item


@router.post("/import/diff.csv")
async def diff_csv(request: Request, user: User = Depends(page_user)) -> Response:
    """The whole review of a waiting upload as CSV (``ImportDiff.csv``: one line per value an
    added row holds and per value a changed row changes), computed again from its files; the
    upload keeps waiting for its confirmation."""
    _require_writer(user)
    item = await _claim(request, user, take=False)
    store = request.app.state.store
    label = item.dataset_path.name if item.dataset_path != item.folder else "upload"
    try:
        dataset = await run_in_threadpool(_load, item.dataset_path, label)
        dataset.source = item.source
        check_import_allowed(store, user, dataset)
        diff = await run_in_threadpool(import_diff, dataset, store)
    except DatasetError as exc:
        problems = _without_folder(exc.problems, item.folder)
        return render(request, "import.html", {"problems": problems[:1000], "n_problems": len(problems),
                                               "names": item.names}, 422)
    return PlainTextResponse(diff.csv(), media_type="text/csv; charset=utf-8",
                             headers={"Content-Disposition": 'attachment; filename="cnotrack-import-review.csv"'})


@router.post("/import/confirm", response_class=HTMLResponse)
async def confirm(request: Request, user: User = Depends(page_user)) -> Response:
    _require_writer(user)
    item = await _claim(request, user)
    store = request.app.state.store
    try:
        label = item.dataset_path.name if item.dataset_path != item.folder else "upload"
        dataset = await run_in_threadpool(_load, item.dataset_path, label)
        dataset.source = item.source
        check_import_allowed(store, user, dataset)
        report = await run_in_threadpool(import_dataset, dataset, store, actor=user.username)
    except DatasetError as exc:
        problems = _without_folder(exc.problems, item.folder)
        return render(request, "import.html", {"problems": problems[:1000], "n_problems": len(problems),
                                               "names": item.names}, 422)
    finally:
        shutil.rmtree(item.folder, ignore_errors=True)
    return render(request, "import.html", {"report": report, "plan": report.plan})


@router.post("/import/cancel", response_class=HTMLResponse)
async def cancel(request: Request, user: User = Depends(page_user)) -> Response:
    _require_writer(user)
    item = await _claim(request, user)
    shutil.rmtree(item.folder, ignore_errors=True)
    return render(request, "import.html", {"cancelled": item.names})
