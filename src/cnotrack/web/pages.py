"""The web pages: login and the cohort dashboard; the other pages are in their own modules
(``patient_pages``, ``record_pages``, ``history_pages``, ``audit_pages``, ``imaging_pages``,
``import_pages``, ``evaluation_pages``, ``account_pages``). Each page calls the library
(``cnotrack.records``, ``cnotrack.users``, the engine) exactly as the API does."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response

from ..users import User
from ..security_log import log_event
from .auth import COOKIE, LOGIN_COOKIE, end_session, login_form_token
from .deps import login_or_refuse, page_user, set_session_cookie
from .errors import ApiError
from .evaluation_view import endpoint_rows
from .listing import MAX_PAGE_SIZE, Page
from .patient_list import (ELIGIBILITY, MAX_FILTER_LENGTH, PATIENT_SORT_KEYS, PatientFilters, center_choices,
                           drug_choices, patient_list_page)
from .paths import see_other
from .services import cached_evaluation
from .templating import render

__all__ = ["router"]

router = APIRouter(include_in_schema=False)
#: The protocol whose cohort and results the dashboard shows, and its patients a page.
DASHBOARD_PROTOCOL = "pardeo2017"
DASHBOARD_PAGE_SIZE = 50


# ---- log in and out -------------------------------------------------------------------------

def _login_form(request: Request, username: str, message: str = "", status: int = 200) -> Response:
    """The login page, with its login token (``auth.login_form_token``): the form's hidden field
    and, as the ``cnotrack_login`` cookie, the value it was made from."""
    nonce, field = login_form_token(request)
    response = render(request, "login.html", {"username": username, "message": message, "login_token": field},
                      status)
    response.set_cookie(LOGIN_COOKIE, nonce, max_age=7200, path="/login", httponly=True, samesite="strict",
                        secure=request.url.scheme == "https")
    return response


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request) -> Response:
    return _login_form(request, "")


@router.post("/login", response_class=HTMLResponse)
async def login_submit(request: Request) -> Response:
    """Log in (the login token was checked by ``auth.csrf_protect``)."""
    form = await request.form()
    username, password = str(form.get("username") or ""), str(form.get("password") or "")
    try:
        _, token, _ = await run_in_threadpool(login_or_refuse, request, username, password)
    except ApiError as exc:
        if exc.status not in (401, 429):
            raise
        response = _login_form(request, username, exc.message, exc.status)
        if exc.headers:
            response.headers.update(exc.headers)
        return response
    response = see_other("/")
    set_session_cookie(request, response, token)
    response.delete_cookie(LOGIN_COOKIE, path="/login")
    return response


@router.post("/logout")
def logout_submit(request: Request, user: User = Depends(page_user)) -> Response:
    end_session(request.app.state.store, request.cookies.get(COOKIE))
    log_event(request.app.state.store, "logout", actor=user.username, subject=user)
    response = see_other("/login")
    response.delete_cookie(COOKIE, path="/")
    return response


# ---- the cohort -------------------------------------------------------------------------------

def _filters(q: str = Query("", max_length=MAX_FILTER_LENGTH, description="patient id, center or drug contains"),
             center: str = Query("", max_length=MAX_FILTER_LENGTH),
             drug: str = Query("", max_length=MAX_FILTER_LENGTH),
             eligibility: str = Query("", max_length=MAX_FILTER_LENGTH)) -> PatientFilters:
    return PatientFilters(q=q, center=center, drug=drug, eligibility=eligibility)


@router.get("/", response_class=HTMLResponse)
def dashboard(request: Request, page: int = Query(1, ge=1, le=2**31 - 1),
              size: int = Query(DASHBOARD_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE),
              sort: str = Query(PATIENT_SORT_KEYS.default, max_length=40), filters: PatientFilters = Depends(_filters),
              user: User = Depends(page_user)) -> Response:
    """The cohort: the ``pardeo2017`` results (from the evaluation cache) above one page of the
    patients, found, filtered, sorted and paged in the database (``patient_list``). An htmx
    request (``HX-Request``, not a history restore) gets the patient list alone."""
    state = request.app.state
    PATIENT_SORT_KEYS.parse(sort)  # a refused sort is a 422 before it costs an evaluation
    entry = cached_evaluation(state.evaluations, state.store, user, DASHBOARD_PROTOCOL, statistics=False)
    cohort = entry.derived("eligible_ids", lambda e: frozenset(e.cohort.eligible["patient_id"].to_list()))
    listed = patient_list_page(state.store, user, page=page, size=size, sort=sort, cohort=cohort, filters=filters)
    partial = request.headers.get("HX-Request") == "true" and request.headers.get("HX-History-Restore-Request") != "true"
    context = {"patients": listed.items, "listed": listed, "filters": filters, "partial": partial,
               "links": listed.links("/", **filters.params()) if listed.pages > 1 else [],
               "sort_links": _sort_links(listed, filters), "protocol": DASHBOARD_PROTOCOL,
               "eligibility_words": ELIGIBILITY}
    if partial:
        response = render(request, "_patient_list.html", context)
    else:
        response = render(request, "dashboard.html", {
            **context, "endpoints": entry.derived("endpoint_rows", endpoint_rows), "n_eligible": entry.evaluation.n,
            "centers": center_choices(state.store, user) if user.is_admin else [], "drugs": drug_choices()})
    response.headers["Vary"] = "HX-Request"
    return response


def _sort_links(listed: Page, filters: PatientFilters | None = None) -> dict[str, str]:
    """Per sort key, the address of the first page sorted by it (descending if it is the current
    key), with the same filters."""
    current = listed.sort.lstrip("-")
    params = filters.params() if filters else {}
    out = {}
    for key in PATIENT_SORT_KEYS.columns:
        order = f"-{key}" if key == current and not listed.sort.startswith("-") else key
        out[key] = f"/?{urlencode({**params, 'page': 1, 'size': listed.size, 'sort': order})}"
    return out


# ---- the other page modules ---------------------------------------------------------------------

from . import account_pages, audit_pages, history_pages, patient_pages, picker_pages, record_pages  # noqa: E402

for _module in (patient_pages, record_pages, history_pages, audit_pages, account_pages, picker_pages):
    router.include_router(_module.router)
