"""Uploading a dataset: the validation table first, the import only when confirmed.

The uploaded files wait in a private temporary folder under a random token that only the
user who uploaded them can confirm; the import itself is ``import_dataset`` (all or nothing,
audited with the user's name).
"""

from __future__ import annotations

import secrets
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import UploadFile

from ..errors import DatasetError, Problem
from ..exchange import read_dataset, validate_dataset
from ..store.importer import import_dataset
from ..users import User
from .deps import page_user
from .errors import ApiError
from .services import check_import_allowed
from .templating import render

__all__ = ["router"]

router = APIRouter(include_in_schema=False)
MAX_UPLOAD_BYTES = 50 * 1024 * 1024
_PENDING_SECONDS = 3600


@dataclass
class PendingImport:
    folder: Path
    dataset_path: Path
    user_id: int
    source: str
    created: float


def _require_writer(user: User) -> None:
    if not user.can_write:
        raise ApiError(403, "forbidden", f"a {user.role.value} cannot import; ask an investigator or an admin")


@router.get("/import", response_class=HTMLResponse)
def import_page(request: Request, user: User = Depends(page_user)) -> Response:
    _require_writer(user)
    return render(request, "import.html", {})


def _load(path: Path, source: str):
    raw = read_dataset(path)
    dataset = validate_dataset(raw)
    dataset.source = source
    return dataset


@router.post("/import", response_class=HTMLResponse)
async def upload(request: Request, user: User = Depends(page_user)) -> Response:
    _require_writer(user)
    if int(request.headers.get("content-length") or 0) > MAX_UPLOAD_BYTES:
        raise ApiError(413, "too_large", f"the upload is larger than {MAX_UPLOAD_BYTES // 2**20} MB")
    form = await request.form()
    uploads = [f for f in form.getlist("files") if isinstance(f, UploadFile) and f.filename]
    folder = Path(tempfile.mkdtemp(prefix="cnotrack-upload-"))
    names = []
    try:
        for upload_file in uploads:
            name = Path(upload_file.filename.replace("\\", "/")).name
            if not name.lower().endswith((".csv", ".xlsx")) or name.startswith("."):
                raise _refusal(f"{name}: upload CSV files (patients.csv, ...) or one .xlsx workbook")
            (folder / name).write_bytes(await upload_file.read())
            names.append(name)
        if not names:
            raise _refusal("choose the dataset's files: CSV files (one per table) or one .xlsx workbook")
        workbooks = [n for n in names if n.lower().endswith(".xlsx")]
        if workbooks and len(names) > 1:
            raise _refusal("upload either CSV files or one .xlsx workbook, not both")
        path = folder / workbooks[0] if workbooks else folder
        source = "upload: " + ", ".join(sorted(names))
        dataset = await run_in_threadpool(_load, path, source)
        check_import_allowed(request.app.state.store, user, dataset)
    except DatasetError as exc:
        shutil.rmtree(folder, ignore_errors=True)
        return render(request, "import.html", {"problems": exc.problems[:1000], "n_problems": len(exc.problems),
                                               "names": names}, 422)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    pending = request.app.state.pending_imports
    _forget_old(pending)
    token = secrets.token_urlsafe(24)
    pending[token] = PendingImport(folder, path, user.id, source, time.monotonic())
    return render(request, "import.html", {"token": token, "counts": dataset.row_counts(), "names": names})


def _refusal(message: str) -> DatasetError:
    return DatasetError([Problem("upload", None, None, None, message)])


def _forget_old(pending: dict[str, PendingImport]) -> None:
    now = time.monotonic()
    for token, item in list(pending.items()):
        if now - item.created > _PENDING_SECONDS:
            shutil.rmtree(item.folder, ignore_errors=True)
            pending.pop(token, None)


@router.post("/import/confirm", response_class=HTMLResponse)
async def confirm(request: Request, user: User = Depends(page_user)) -> Response:
    _require_writer(user)
    form = await request.form()
    pending = request.app.state.pending_imports
    item = pending.get(str(form.get("token") or ""))
    if item is None or item.user_id != user.id:
        raise ApiError(404, "not_found", "no upload waits for confirmation under this token; upload the files again")
    pending.pop(str(form.get("token")), None)
    store = request.app.state.store
    try:
        dataset = await run_in_threadpool(_load, item.dataset_path, item.source)
        check_import_allowed(store, user, dataset)
        report = await run_in_threadpool(import_dataset, dataset, store, actor=user.username)
    finally:
        shutil.rmtree(item.folder, ignore_errors=True)
    return render(request, "import.html", {"report": report})
