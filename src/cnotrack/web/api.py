"""The JSON API under ``/api/v1``: log in and out, records, the evaluation, the audit trail, users.

Each route is a thin wrapper over ``cnotrack.records`` (or ``cnotrack.users``), the same
functions the pages call. Errors have one shape (``web/errors.py``).
"""


import datetime as dt
from typing import Annotated, Any, Optional, Union

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictFloat, StrictInt, StrictStr, create_model

from .. import records
from ..exchange.schema import ColumnSpec, exchange_format
from ..security_log import ACTIONS, log_event, security_events
from ..users import (NoSuchUserError, Role, User, WrongPasswordError, add_user, delete_user, reset_password, set_user_disabled,
                     update_user)
from .auth import COOKIE, end_session
from .deps import api_user, change_own_password, login_or_refuse, set_session_cookie
from .errors import ApiError, ErrorBody
from .listing import MAX_API_LIMIT, record_page, record_sort_keys, user_page
from .services import cached_evaluation, evaluation_json, summary_json

__all__ = ["router"]

_ID = Annotated[int, Path(ge=1, le=2**31 - 1, description="The record's id (``id`` of a record).")]


def _text_filter(column: str) -> Any:
    """A list filter on ``column`` (each filter its own ``Query``: a shared one binds them all to
    one parameter)."""
    return Query(default=None, max_length=200, pattern=r"^[^\x00]*$",
                 description=f"only the records whose {column} is exactly this")
_ERRORS = {status: {"model": ErrorBody, "description": text} for status, text in {
    401: "not logged in", 403: "forbidden (role, center or CSRF token)", 404: "no such record",
    409: "a stale edit or a key already taken: both versions in details",
    422: "the record breaks the exchange format: details list column, value, message",
    429: "too many failed logins"}.items()}

router = APIRouter(prefix="/api/v1", responses=_ERRORS)


# ---- models built from the exchange format --------------------------------------------------

_OUT_TYPES: dict[str, Any] = {"date": dt.date, "number": float, "lab_value": float, "integer": int, "boolean": bool}
_Cell = Optional[Union[StrictBool, StrictInt, StrictFloat, StrictStr]]


def _describe(column: ColumnSpec) -> str:
    text = f"{column.type}" + (" (required)" if column.required else "")
    if column.choices:
        text += f"; one of {', '.join(column.choices)}"
    if column.min is not None or column.max is not None:
        text += f"; range {column.min if column.min is not None else ''} to {column.max if column.max is not None else ''}"
    if column.references:
        text += f"; refers to {column.references}"
    return text


def _camel(table: str) -> str:
    return "".join(part.title() for part in table.split("_"))


def _models(table: str) -> tuple[type[BaseModel], type[BaseModel], type[BaseModel]]:
    spec = exchange_format().table(table)
    given: dict[str, Any] = {c.name: (_Cell, Field(None, description=_describe(c))) for c in spec.columns}
    out: dict[str, Any] = {"id": (int, ...), "version": (int, ...)}
    out.update({c.name: (Optional[_OUT_TYPES.get(c.type, str)], None) for c in spec.columns})
    if table == "labs":
        given["censor"] = (Optional[StrictStr], Field(None, description="'<' or '>' for a censored value"))
        out["censor"] = (Optional[str], None)
    strict = ConfigDict(extra="forbid")
    create = create_model(f"{_camel(table)}Create", __config__=strict, **given)
    update = create_model(f"{_camel(table)}Update", __config__=strict, **given,
                          version=(int, Field(..., ge=1, le=2**31 - 1,
                                              description="the version the edit was made from")))
    return create, update, create_model(f"{_camel(table)}Record", **out)


class LoginRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: str = Field(max_length=200)
    password: str = Field(max_length=1024)


class UserOut(BaseModel):
    id: int
    username: str
    role: str
    center: Optional[str]
    created_at: str
    disabled: bool
    deleted: bool = Field(description="a deleted user keeps their name (never reused) and cannot log in")


class LoginResponse(BaseModel):
    user: UserOut
    csrf_token: str = Field(description="send it as X-CSRF-Token with every POST, PUT and DELETE")


class PasswordChange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    current_password: str = Field(max_length=1024)
    new_password: str = Field(max_length=1024, description="at least 12 characters, not easy to guess")


class NewPassword(BaseModel):
    model_config = ConfigDict(extra="forbid")
    password: str = Field(max_length=1024, description="at least 12 characters, not easy to guess")


class UserChange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: Optional[Role] = None
    center: Optional[str] = Field(None, max_length=200, description="required for a non-admin")


class SessionRenewed(BaseModel):
    csrf_token: str = Field(description="the new session's CSRF token (the old session has ended)")


class SecurityEvent(BaseModel):
    id: int
    at: str
    actor: str
    action: str
    table: str = Field(description="sessions, users or reports")
    record_id: Optional[int] = Field(description="the id of the user concerned, if any")
    key: dict[str, Any]
    before: Optional[dict[str, Any]]
    after: Optional[dict[str, Any]]


class NewUser(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: str = Field(max_length=200)
    password: str = Field(max_length=1024)
    role: Role
    center: Optional[str] = Field(None, max_length=200)


class AuditEntry(BaseModel):
    id: int
    at: str
    actor: str
    action: str
    table: str
    record_id: int
    key: dict[str, Any]
    before: Optional[dict[str, Any]]
    after: Optional[dict[str, Any]]
    import_id: Optional[int]


class AuditList(BaseModel):
    items: list[AuditEntry]


# ---- log in and out ---------------------------------------------------------------------------

@router.post("/login", response_model=LoginResponse, tags=["session"],
             responses={415: {"model": ErrorBody, "description": "the body is not application/json"}})
def login(body: LoginRequest, request: Request, response: Response) -> dict[str, Any]:
    """Log in with a username (in any case) and password, as ``Content-Type: application/json``:
    sets the session cookie and returns the CSRF token. Throttled and audited."""
    user, token, csrf = login_or_refuse(request, body.username, body.password)
    set_session_cookie(request, response, token)
    return {"user": user.as_json(), "csrf_token": csrf}


@router.post("/logout", status_code=204, tags=["session"])
def logout(request: Request, user: User = Depends(api_user)) -> Response:
    """End the session (the cookie stops working, also where it was copied)."""
    end_session(request.app.state.store, request.cookies.get(COOKIE))
    log_event(request.app.state.store, "logout", actor=user.username, subject=user)
    response = Response(status_code=204)
    response.delete_cookie(COOKIE, path="/")
    return response


@router.get("/me", response_model=UserOut, tags=["session"])
def me(user: User = Depends(api_user)) -> dict[str, Any]:
    """The user of this session."""
    return user.as_json()


@router.post("/me/password", response_model=SessionRenewed, tags=["session"])
def change_my_password(body: PasswordChange, request: Request, response: Response,
                       user: User = Depends(api_user)) -> dict[str, Any]:
    """Change your own password (give the current one; throttled like logging in). Every session
    of yours ends; this one is replaced by a new one: its cookie is set, its CSRF token returned."""
    try:
        token, csrf = change_own_password(request, user, body.current_password, body.new_password)
    except WrongPasswordError as exc:
        raise ApiError(403, "wrong_password", str(exc)) from None
    set_session_cookie(request, response, token)
    return {"csrf_token": csrf}


# ---- records ----------------------------------------------------------------------------------

def _add_record_routes(table: str) -> None:
    create_model_, update_model, record_model = _models(table)
    columns = exchange_format().table(table).column_names
    tag = [table]

    sort_keys = record_sort_keys(table)

    def list_(request: Request, user: User = Depends(api_user),
              patient_id: Optional[str] = _text_filter("patient_id"),
              study_id: Optional[str] = _text_filter("study_id"),
              center: Optional[str] = _text_filter("center"),
              sort: str = Query("id", max_length=40, description=(
                  f"the order: one of {', '.join(sort_keys.columns)}, with '-' before it for descending "
                  "(ties in record id order); any other value is a 422")),
              limit: int = Query(100, ge=1, le=MAX_API_LIMIT, description="at most this many records"),
              offset: int = Query(0, ge=0, le=2**31 - 1, description="skip this many records first")
              ) -> dict[str, Any]:
        filters = {k: v for k, v in (("patient_id", patient_id), ("study_id", study_id), ("center", center))
                   if k in columns and v is not None}
        return record_page(request.app.state.store, user, table, filters=filters, sort=sort, limit=limit,
                           offset=offset)

    list_.__doc__ = (f"The {table} records you may see (filter by "
                     f"{', '.join(c for c in ('patient_id', 'study_id', 'center') if c in columns)}), a page at "
                     "a time: ``limit`` records after skipping ``offset``, in the order ``sort``; ``total`` counts "
                     "every record the filters keep. Sorting, paging and counting run in the database.")
    item_list = create_model(f"{_camel(table)}List", items=(list[record_model], ...), total=(int, ...),
                             limit=(int, ...), offset=(int, ...), sort=(str, ...))
    router.add_api_route(f"/{table}", list_, methods=["GET"], response_model=item_list, tags=tag,
                         name=f"list_{table}", summary=f"List {table}")

    def get(request: Request, record_id: _ID, user: User = Depends(api_user)) -> dict[str, Any]:
        return records.get_record(request.app.state.store, user, table, record_id)

    router.add_api_route(f"/{table}/{{record_id}}", get, methods=["GET"], response_model=record_model, tags=tag,
                         name=f"get_{table}", summary=f"Get one {table} record")

    def create(request: Request, body: create_model_, user: User = Depends(api_user)) -> dict[str, Any]:  # type: ignore[valid-type]
        return records.create_record(request.app.state.store, user, table, body.model_dump(exclude_none=True))

    router.add_api_route(f"/{table}", create, methods=["POST"], status_code=201, response_model=record_model,
                         tags=tag, name=f"create_{table}", summary=f"Create a {table} record")

    def update(request: Request, record_id: _ID, body: update_model, user: User = Depends(api_user)) -> dict[str, Any]:  # type: ignore[valid-type]
        values = body.model_dump(exclude_none=True)
        version = values.pop("version")
        return records.update_record(request.app.state.store, user, table, record_id, values, version)

    router.add_api_route(f"/{table}/{{record_id}}", update, methods=["PUT"], response_model=record_model, tags=tag,
                         name=f"update_{table}",
                         summary=f"Replace a {table} record (give the version you read: a stale one gets 409)")

    def delete(request: Request, record_id: _ID, user: User = Depends(api_user),
               version: Optional[int] = Query(None, ge=1, le=2**31 - 1)) -> Response:
        records.delete_record(request.app.state.store, user, table, record_id, version)
        return Response(status_code=204)

    router.add_api_route(f"/{table}/{{record_id}}", delete, methods=["DELETE"], status_code=204, tags=tag,
                         name=f"delete_{table}",
                         summary=f"Delete a {table} record (soft: it stays in the audit trail)")

    def restore(request: Request, record_id: _ID, user: User = Depends(api_user)) -> dict[str, Any]:
        return records.restore_record(request.app.state.store, user, table, record_id)

    router.add_api_route(f"/{table}/{{record_id}}/restore", restore, methods=["POST"], response_model=record_model,
                         tags=tag, name=f"restore_{table}",
                         summary=f"Restore a deleted {table} record with the values it had (admins only: else 403; "
                                 "409 if it is not deleted or its key is taken)")


for _table in records.RECORD_TYPES:
    _add_record_routes(_table)


# ---- evaluation, audit trail, users -----------------------------------------------------------

@router.get("/evaluation", tags=["evaluation"], response_model=dict[str, Any])
def evaluation(request: Request, protocol: str = Query("pardeo2017", max_length=100),
               detail: bool = Query(True, description="with the rows per patient, per lesion and per diagnostic "
                                    "criterion (patients, lesions, diagnostic_criteria); false: the summary only"),
               user: User = Depends(api_user)) -> dict[str, Any]:
    """``cnotrack evaluate --format json`` on the patients you may see, with every patient's and
    lesion's row unless ``detail=false`` (one evaluation or report at a time per user: a second
    one while the first runs gets 429). The evaluation is computed once per state of the data
    and kept until the next change: asking again costs no evaluation."""
    state = request.app.state
    with state.report_slots.hold(user):
        entry = cached_evaluation(state.evaluations, state.store, user, protocol)
        return evaluation_json(entry.evaluation) if detail else summary_json(entry)


@router.get("/audit", tags=["audit"], response_model=AuditList)
def audit(request: Request, user: User = Depends(api_user),
          table: Optional[str] = Query(None, max_length=40, pattern=r"^[a-z_]+$"),
          record_id: Optional[int] = Query(None, ge=1, le=2**31 - 1),
          limit: int = Query(1000, ge=1, le=MAX_API_LIMIT, description="at most this many entries"),
          offset: int = Query(0, ge=0, le=2**31 - 1, description="skip this many of the newest entries"),
          actor: Optional[str] = Query(None, max_length=200, pattern=r"^[^\x00-\x1f]*$",
                                       description="only this user's changes (any case)"),
          patient_id: Optional[str] = Query(None, max_length=200, pattern=r"^[^\x00-\x1f]*$",
                                            description="only the records of this patient"),
          date_from: Optional[dt.date] = Query(None, alias="from", description="from this day (UTC), included"),
          date_to: Optional[dt.date] = Query(None, alias="to", description="to this day (UTC), included"),
          ) -> dict[str, Any]:
    """The audit trail (who, when, which record, before and after) of the records you may see:
    the newest ``limit`` entries (at most 1000) after skipping the ``offset`` newest, oldest
    first; for the next page, ask again with ``offset`` raised by ``limit``. ``actor``,
    ``patient_id``, ``from`` and ``to`` narrow it in the database."""
    from ..audit import AuditFilter

    where = AuditFilter(actor=actor or None, patient_id=patient_id or None, date_from=date_from, date_to=date_to)
    return {"items": records.audit_trail(request.app.state.store, user, table=table, record_id=record_id,
                                         limit=limit, offset=offset, where=where)}


def _admin(user: User) -> None:
    if not user.is_admin:
        raise ApiError(403, "forbidden", "only an admin manages users")


@router.get("/users", tags=["users"], response_model=list[UserOut])
def users(request: Request, user: User = Depends(api_user),
          sort: str = Query("username", max_length=40, description=(
              "the order: username, role, center or created_at, with '-' before it for descending "
              "(deleted users last); any other value is a 422")),
          limit: int = Query(MAX_API_LIMIT, ge=1, le=MAX_API_LIMIT, description="at most this many users"),
          offset: int = Query(0, ge=0, le=2**31 - 1, description="skip this many users first")
          ) -> list[dict[str, Any]]:
    """The users (admins only), ``limit`` of them after skipping ``offset``, sorted in the database."""
    _admin(user)
    page = user_page(request.app.state.store, sort=sort, size=limit, offset=offset, max_size=MAX_API_LIMIT)
    return [u.as_json() for u in page.items]


@router.post("/users", tags=["users"], response_model=UserOut, status_code=201)
def create_user(body: NewUser, request: Request, user: User = Depends(api_user)) -> dict[str, Any]:
    """Create a user (admins only); the password needs at least 12 characters and must not be
    easy to guess. Names are case-insensitive, and a deleted user's name is never reused."""
    _admin(user)
    return add_user(request.app.state.store, body.username, body.password, body.role, body.center,
                    actor=user.username).as_json()


_USERNAME = Annotated[str, Path(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9._@-]+$",
                                description="the user's name, in any case")]


def _manage(user: User, change, *args: Any, **kwargs: Any) -> User:
    _admin(user)
    try:
        return change(*args, actor=user.username, **kwargs)
    except NoSuchUserError as exc:
        raise ApiError(404, "not_found", str(exc)) from None


@router.get("/users/events", tags=["users"], response_model=list[SecurityEvent])
def user_events(request: Request, user: User = Depends(api_user),
                action: Optional[str] = Query(None, max_length=20, pattern=r"^[a-z_]+$",
                                              description=f"one of {', '.join(ACTIONS)}"),
                limit: int = Query(500, ge=1, le=MAX_API_LIMIT)) -> list[dict[str, Any]]:
    """The security events, newest first (admins only): logins, failed logins, lock-outs,
    logouts, user changes and report downloads. Never a password."""
    _admin(user)
    return security_events(request.app.state.store, user, action=action, limit=limit)


@router.post("/users/{username}/disable", tags=["users"], response_model=UserOut)
def disable_user(username: _USERNAME, request: Request, user: User = Depends(api_user)) -> dict[str, Any]:
    """Disable a user (admins only): they cannot log in, and their sessions end at once."""
    return _manage(user, set_user_disabled, request.app.state.store, username, True).as_json()


@router.post("/users/{username}/enable", tags=["users"], response_model=UserOut)
def enable_user(username: _USERNAME, request: Request, user: User = Depends(api_user)) -> dict[str, Any]:
    """Enable a disabled user again (admins only)."""
    return _manage(user, set_user_disabled, request.app.state.store, username, False).as_json()


@router.post("/users/{username}/password", tags=["users"], response_model=UserOut)
def reset_user_password(username: _USERNAME, body: NewPassword, request: Request,
                        user: User = Depends(api_user)) -> dict[str, Any]:
    """Give a user a new password (admins only); their sessions end."""
    return _manage(user, reset_password, request.app.state.store, username, body.password).as_json()


@router.patch("/users/{username}", tags=["users"], response_model=UserOut)
def change_user(username: _USERNAME, body: UserChange, request: Request, user: User = Depends(api_user)) -> dict[str, Any]:
    """Change a user's role and center (admins only)."""
    return _manage(user, update_user, request.app.state.store, username, role=body.role,
                   center=body.center).as_json()


@router.delete("/users/{username}", tags=["users"], status_code=204)
def remove_user(username: _USERNAME, request: Request, user: User = Depends(api_user)) -> Response:
    """Delete a user (admins only): they cannot log in again and their sessions end; the name
    stays reserved, since the audit trail names them by it."""
    _manage(user, delete_user, request.app.state.store, username)
    return Response(status_code=204)
