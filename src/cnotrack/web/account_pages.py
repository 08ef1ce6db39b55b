"""The pages of the accounts: the users (admins: add, change role and center, reset a password,
disable, enable, delete after confirmation, the security events) and one's own password.
Each calls ``cnotrack.users`` as ``cnotrack users ...`` and the API do."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ..errors import UserError
from ..security_log import ACTIONS, security_events
from ..users import (NoSuchUserError, Role, User, WrongPasswordError, add_user, delete_user, find_user,
                     reset_password, set_user_disabled, update_user)
from .deps import change_own_password, page_user, set_session_cookie
from .errors import ApiError
from .listing import USER_SORT_KEYS, user_page as users_listed
from .templating import render

__all__ = ["router"]

router = APIRouter(include_in_schema=False)
#: The users a page of the Users page lists.
USERS_PAGE_SIZE = 100
UserName = Annotated[str, Path(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9._@-]+$")]


def _see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def _admin(user: User) -> None:
    if not user.is_admin:
        raise ApiError(403, "forbidden", "only an admin manages users")


def _account(request: Request, username: str) -> User:
    found = find_user(request.app.state.store, username)
    if found is None:
        raise ApiError(404, "not_found", f"no user named {username!r}")
    return found


async def _form(request: Request, *names: str) -> dict[str, str]:
    form = await request.form()
    return {k: str(form.get(k) or "") for k in names}


def _users_page(request: Request, status: int = 200, *, page: int = 1, sort: str | None = None,
                **context: Any) -> Response:
    listed = users_listed(request.app.state.store, sort=sort, page=page, size=USERS_PAGE_SIZE)
    return render(request, "users.html", {"users": listed.items, "listed": listed,
                                          "links": listed.links("/users") if listed.pages > 1 else [],
                                          "roles": [r.value for r in Role], "form": {}, **context}, status)


@router.get("/users", response_class=HTMLResponse)
def users_page(request: Request, page: int = Query(1, ge=1, le=2**31 - 1),
               sort: str = Query(USER_SORT_KEYS.default, max_length=40), user: User = Depends(page_user)) -> Response:
    """The users, ``USERS_PAGE_SIZE`` a page, sorted in the database (``listing.user_page``)."""
    _admin(user)
    return _users_page(request, page=page, sort=sort)


@router.post("/users", response_class=HTMLResponse)
async def users_submit(request: Request, user: User = Depends(page_user)) -> Response:
    _admin(user)
    values = await _form(request, "username", "password", "role", "center")
    try:
        await run_in_threadpool(add_user, request.app.state.store, values["username"], values["password"],
                                values["role"], values["center"] or None, actor=user.username)
    except UserError as exc:
        return _users_page(request, 422, message=str(exc), form={**values, "password": ""})
    return _see_other("/users")


@router.get("/users/events", response_class=HTMLResponse)
def events_page(request: Request, action: str | None = Query(None, max_length=20),
                user: User = Depends(page_user)) -> Response:
    _admin(user)
    events = security_events(request.app.state.store, user, action=action or None, limit=500)
    return render(request, "user_events.html", {"events": events, "action": action or "", "actions": list(ACTIONS)})


def _edit_page(request: Request, account: User, status: int = 200, message: str = "") -> Response:
    return render(request, "user_edit.html", {"account": account, "roles": [r.value for r in Role],
                                              "message": message}, status)


@router.get("/users/{username}/edit", response_class=HTMLResponse)
def user_page(request: Request, username: UserName, user: User = Depends(page_user)) -> Response:
    _admin(user)
    return _edit_page(request, _account(request, username))


async def _change(request: Request, username: str, user: User, change, *args: Any, **kwargs: Any) -> Response:
    _admin(user)
    account = _account(request, username)
    try:
        await run_in_threadpool(lambda: change(request.app.state.store, account.username, *args, actor=user.username,
                                               **kwargs))
    except NoSuchUserError as exc:
        raise ApiError(404, "not_found", str(exc)) from None
    except UserError as exc:
        return _edit_page(request, account, 422, str(exc))
    return _see_other("/users")


@router.post("/users/{username}/disable")
async def disable_submit(request: Request, username: UserName, user: User = Depends(page_user)) -> Response:
    return await _change(request, username, user, set_user_disabled, True)


@router.post("/users/{username}/enable")
async def enable_submit(request: Request, username: UserName, user: User = Depends(page_user)) -> Response:
    return await _change(request, username, user, set_user_disabled, False)


@router.post("/users/{username}/password")
async def reset_submit(request: Request, username: UserName, user: User = Depends(page_user)) -> Response:
    values = await _form(request, "password")
    return await _change(request, username, user, reset_password, values["password"])


@router.post("/users/{username}/role")
async def role_submit(request: Request, username: UserName, user: User = Depends(page_user)) -> Response:
    values = await _form(request, "role", "center")
    return await _change(request, username, user, update_user, role=values["role"], center=values["center"] or None)


@router.get("/users/{username}/delete", response_class=HTMLResponse)
def delete_page(request: Request, username: UserName, user: User = Depends(page_user)) -> Response:
    _admin(user)
    return render(request, "user_delete.html", {"account": _account(request, username)})


@router.post("/users/{username}/delete")
async def delete_submit(request: Request, username: UserName, user: User = Depends(page_user)) -> Response:
    _admin(user)
    account = _account(request, username)
    values = await _form(request, "confirm")
    if values["confirm"].strip().lower() != account.username.lower():
        return render(request, "user_delete.html", {
            "account": account, "message": f"type the username {account.username} to confirm; nothing was deleted"},
            422)
    return await _change(request, username, user, delete_user)


# ---- one's own password -------------------------------------------------------------------------

@router.get("/account/password", response_class=HTMLResponse)
def password_page(request: Request, changed: bool = False, user: User = Depends(page_user)) -> Response:
    return render(request, "account_password.html", {"changed": changed})


@router.post("/account/password", response_class=HTMLResponse)
async def password_submit(request: Request, user: User = Depends(page_user)) -> Response:
    values = await _form(request, "current_password", "new_password", "repeat_password")
    if values["new_password"] != values["repeat_password"]:
        return render(request, "account_password.html", {"message": "the two new passwords differ; nothing was "
                                                                    "changed"}, 422)
    try:
        token, _ = await run_in_threadpool(change_own_password, request, user, values["current_password"],
                                           values["new_password"])
    except WrongPasswordError as exc:
        return render(request, "account_password.html", {"message": str(exc)}, 403)
    except UserError as exc:
        return render(request, "account_password.html", {"message": str(exc)}, 422)
    except ApiError as exc:
        if exc.status != 429:
            raise
        response = render(request, "account_password.html", {"message": exc.message}, 429)
        response.headers.update(exc.headers or {})
        return response
    response = _see_other("/account/password?changed=true")
    set_session_cookie(request, response, token)
    return response
