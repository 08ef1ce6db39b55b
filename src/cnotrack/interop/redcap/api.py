"""Reading a REDCap project from its API: the same ``RedcapProject`` as the exported files give.

``pull_project(url, token)`` asks the project's API (form data POSTed to ``URL``, the address
REDCap's API page shows, ending in ``/api/``) for what a data manager would otherwise export by
hand: the project's settings (``content=project``: title, missing-data codes, longitudinal or
not, repeating or not), the data dictionary (``metadata``), the events and the forms each event
designates (``event``, ``formEventMapping``, longitudinal projects only), the repeating
instruments and events (``repeatingFormsEvents``), the export field names
(``exportFieldNames``, checked against the ``field___code`` rule cnotrack reads checkboxes
with), then the records: flat, raw codes, raw headers, with the data access group column. The
answers go through the very parsers that read exported files (``files.project_from_content``),
so a project pulled from the API and the same project exported by hand read the same, problems
included. ``RedcapPull.save(folder)`` writes what was pulled as the files a web export gives, so
that ``cnotrack redcap import`` can replay a pull without the API.

The token is a password to the project. It is held in a ``RedcapToken``, whose ``repr`` and
``str`` are redacted; it is sent only as a form field of the POST body (httpx logs request URLs,
never bodies), never appears in an error message (REDCap's own error text is scrubbed of it too),
and is never written to a file, a provenance record or a report. Only ``https://`` URLs are
accepted, except on the loopback interface (a local test server).
"""

from __future__ import annotations

import csv
import hashlib
import io
import ipaddress
import json
import os
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from ...errors import CnotrackError, DatasetError, Problem
from ...exchange.reader import CLI_LIMITS, ReadLimits
from .project import RedcapProject

__all__ = ["RedcapApiError", "RedcapClient", "RedcapPull", "RedcapToken", "api_url", "fetch_pull",
           "pull_project", "token_from_env"]

_TOKEN_SHAPE = re.compile(r"[0-9A-Fa-f]{32}|[0-9A-Fa-f]{64}")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_LOOPBACK_NAMES = {"localhost"}
#: seconds to wait for the server to answer; a large project's records take a while
DEFAULT_TIMEOUT = 300.0
#: the most bytes one answer may have when the read limits set none (a registry's records are far fewer)
DEFAULT_MAX_ANSWER_BYTES = 2 << 30
_REDACTED = "[REDCap API token]"


class RedcapApiError(CnotrackError):
    """The REDCap API could not be asked, or refused: a bad URL or token, no export rights, a
    server error, a timeout. ``content`` is the API content type asked for (``metadata``,
    ``record``, ...), ``status`` the HTTP status (None when there was no answer)."""

    def __init__(self, message: str, *, content: str | None = None, status: int | None = None) -> None:
        super().__init__(message)
        self.content = content
        self.status = status


class RedcapToken:
    """A REDCap API token: 32 hexadecimal characters (64 for a super token), checked on creation.

    ``repr`` and ``str`` never show it; ``reveal()`` gives it to the one place that sends it.
    It cannot be pickled (so it cannot leak into a cache or a worker's arguments)."""

    __slots__ = ("_value",)

    def __init__(self, value: str, *, origin: str = "the token") -> None:
        value = value.strip()
        if not _TOKEN_SHAPE.fullmatch(value):
            odd = "" if all(c in "0123456789abcdefABCDEF" for c in value) else ", not all of them 0-9 or A-F"
            raise RedcapApiError(
                f"{origin} is not a REDCap API token: a token is 32 hexadecimal characters (64 for a super "
                f"token), this one has {len(value)}{odd}. Copy it again from the project's API page "
                "(Applications > API).")
        self._value = value

    def reveal(self) -> str:
        return self._value

    def scrub(self, text: str) -> str:
        """``text`` with the token (any case) replaced by a placeholder."""
        return re.sub(re.escape(self._value), _REDACTED, text, flags=re.IGNORECASE)

    def __repr__(self) -> str:
        return f"RedcapToken({_REDACTED!r})"

    __str__ = __repr__

    def __reduce__(self):
        raise TypeError("a REDCap API token is not pickled")


def token_from_env(name: str, environ: dict[str, str] | None = None) -> RedcapToken:
    """The token held by the environment variable ``name``; the error names the variable, never
    its value. A ``name`` that is itself shaped like a token is refused (without echoing it):
    the token was typed on the command line, where the shell history keeps it."""
    environ = os.environ if environ is None else environ
    if _TOKEN_SHAPE.fullmatch(name.strip()):
        raise RedcapApiError(
            "--token-env takes the NAME of an environment variable that holds the token, and what was given "
            "looks like the token itself. It is now in your shell history: regenerate the token on the "
            "project's API page, then `export REDCAP_TOKEN=...` (or use a prompt) and give --token-env REDCAP_TOKEN.")
    if not _ENV_NAME.fullmatch(name):
        raise RedcapApiError(f"--token-env {name!r} is not an environment variable name "
                             "(letters, digits and _, not starting with a digit), e.g. --token-env REDCAP_TOKEN")
    value = environ.get(name)
    if not value or not value.strip():
        raise RedcapApiError(f"the environment variable {name} is not set or empty: set it to the project's "
                             f"REDCap API token first (e.g. `read -s {name} && export {name}`)")
    return RedcapToken(value, origin=f"the value of the environment variable {name}")


def api_url(url: str) -> httpx.URL:
    """The API URL, checked: ``https://`` (``http://`` only on a loopback host: 127.0.0.1, ::1,
    localhost), with a host, and no user name, password, query or fragment (a token must not
    travel in the URL, which servers and proxies log)."""
    without = ("give the API address without a user name, password, ?query or #fragment (scheme, host and path "
               "only, e.g. https://redcap.example.org/api/); the token is read from --token-env, never from the URL")
    if isinstance(url, str) and re.search(r"[?#@]", url):
        # checked before anything echoes the URL: a token pasted into it must not reach a message
        raise RedcapApiError(f"--url: {without}")
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError) as error:
        raise RedcapApiError(f"--url {_shown(url)!r} is not a URL ({_shown(str(error))}); give the project's API address, "
                             "e.g. https://redcap.example.org/api/") from None
    if parsed.userinfo or parsed.query or parsed.fragment:
        raise RedcapApiError(f"--url: {without}")
    if not parsed.host or parsed.scheme not in ("http", "https"):
        raise RedcapApiError(f"--url {_shown(url)!r} is not an http(s) address; give the project's API address, "
                             "e.g. https://redcap.example.org/api/")
    if parsed.scheme == "http" and not _loopback(parsed.host):
        raise RedcapApiError(f"--url {_shown(url)!r}: the REDCap API must be reached over https:// (the token and the "
                             f"patients' data would cross the network unencrypted); use https://{parsed.host}"
                             f"{_shown(parsed.raw_path.decode('ascii', 'replace'))}. Plain http:// is accepted only on "
                             "this computer (127.0.0.1, ::1, localhost)")
    return parsed


def _shown(text: object) -> str:
    """``text`` (a URL) with anything shaped like a token replaced by a placeholder."""
    return re.sub(r"[0-9A-Fa-f]{32,}", _REDACTED, str(text))


def _loopback(host: str) -> bool:
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _transport() -> httpx.BaseTransport | None:
    """The transport of clients the CLI makes: None (httpx's own); tests replace it."""
    return None


class RedcapClient:
    """A connection to one project's API: ``export(content, **params)`` POSTs one request and
    returns the answer's bytes, or raises ``RedcapApiError`` naming the content, the HTTP status
    and REDCap's message (never the token). Redirects are not followed (the token would be sent
    on to wherever the server points)."""

    def __init__(self, url: str, token: RedcapToken, *, timeout: float = DEFAULT_TIMEOUT,
                 transport: httpx.BaseTransport | None = None, limits: ReadLimits = CLI_LIMITS) -> None:
        self.url = api_url(url)
        self._token = token
        self.limits = limits
        self.max_bytes = limits.max_file_bytes if limits.max_file_bytes is not None else DEFAULT_MAX_ANSWER_BYTES
        self._answered = False
        self._http = httpx.Client(timeout=httpx.Timeout(timeout, connect=min(timeout, 30.0)),
                                  transport=transport if transport is not None else _transport(),
                                  follow_redirects=False, headers={"Accept": "application/json"})

    @property
    def host(self) -> str:
        """The server's host name (what provenance names; never the token)."""
        return self.url.host

    def __enter__(self) -> RedcapClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def __repr__(self) -> str:
        return f"RedcapClient({str(self.url)!r})"

    def export(self, content: str, **params: str) -> bytes:
        """The API's answer to ``content=CONTENT`` with ``params`` (``format`` defaults to json)."""
        data = {"token": self._token.reveal(), "content": content, "format": "json", "returnFormat": "json",
                **params}
        where = f"REDCap API at {self.host}, content={content}"
        failure = response = None
        try:
            with self._http.stream("POST", self.url, data=data) as response:
                body = self._body(response)
        except httpx.TimeoutException:
            failure = (f"{where}: no answer within the time allowed; try again later, or allow longer "
                       "(--timeout SECONDS)")
        except httpx.HTTPError as error:  # connection refused, DNS, TLS ...
            failure = (f"{where}: the server could not be reached ({type(error).__name__}: "
                       f"{self._token.scrub(str(error)) or 'no detail'}); check --url and the network")
        if failure is not None:
            raise RedcapApiError(failure, content=content)  # raised outside the except: no chained request
        if body is None:
            raise RedcapApiError(f"{where}: the answer has more than {self.max_bytes:,} bytes, the most read from "
                                 "one answer; export the records in parts from REDCap (by form or by record), or "
                                 "raise the read limit", content=content, status=response.status_code)
        if response.status_code == 200:
            self._answered = True  # the token works: a later refusal is about rights, not the token
        else:
            raise RedcapApiError(f"{where}: HTTP {response.status_code}: {self._refusal(response, body)}",
                                 content=content, status=response.status_code)
        return body

    def _body(self, response: httpx.Response) -> bytes | None:
        """The answer's bytes, read as they arrive; None once they pass ``max_bytes`` (the rest
        is never read: a runaway answer cannot fill the memory)."""
        parts, size = [], 0
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > self.max_bytes:
                return None
            parts.append(chunk)
        return b"".join(parts)

    def _refusal(self, response: httpx.Response, content: bytes) -> str:
        """REDCap's reason for refusing (its ``{"error": ...}``), scrubbed of the token, with the fix."""
        message = None
        try:
            body = json.loads(content)
            if isinstance(body, dict) and isinstance(body.get("error"), str):
                message = body["error"]
        except ValueError:
            found = re.search(rb"<error>(.*?)</error>", content, flags=re.DOTALL)
            message = found.group(1).decode("utf-8", "replace").strip() if found else None
        status = response.status_code
        if 300 <= status < 400:
            where = response.headers.get("location", "")
            return (f"the server redirects to {self._token.scrub(where)!r}; give that address as --url "
                    "(redirects are not followed: the token would travel with them)")
        if message is None and status >= 500:
            return (f"the server failed ({self._describe(content)}); try again later, or tell the "
                    "REDCap server's administrators")
        if message is None:
            return f"not an answer of REDCap's API ({self._describe(content)}); check --url"
        message = self._token.scrub(message).strip()
        rights = ("the token's user lacks the right to export this (ask the project's admin for User Rights > API Export "
                  "and Data Exports > Full Data Set)")
        fix = {401: "the token is not valid for this server: copy it again from the project's API page",
               403: rights if self._answered else "the token is not this project's on this server (copy it "
                                                  f"again from the project's API page), or {rights}"}.get(status)
        return f"REDCap says {message!r}" + (f"; {fix}" if fix else "")

    def _describe(self, body: bytes) -> str:
        """A short, token-free description of an answer that is not REDCap's."""
        text = self._token.scrub(body[:4096].decode("utf-8", "replace")).strip()
        if text.lower().startswith(("<!doctype html", "<html")):
            return "an HTML page"
        return "an empty answer" if not text else "text starting " + repr(text[:60])


# --------------------------------------------------------------------------- pulling a project

#: the files ``RedcapPull.save`` writes: what a web export of the project gives
SAVED_FILES = {"dictionary": "dictionary.csv", "event": "events.csv", "formEventMapping": "designations.csv",
               "repeatingFormsEvents": "repeating.csv", "project": "project.json"}
_CSV_COLUMNS = {"event": ("event_name", "arm_num", "unique_event_name", "custom_event_label", "event_id"),
                "formEventMapping": ("arm_num", "unique_event_name", "form"),
                "repeatingFormsEvents": ("event_name", "form_name", "custom_form_label")}


@dataclass
class RedcapPull:
    """What one pull fetched: each API content's answer, as the server sent it (``answers``:
    ``project``, ``metadata``, ``exportFieldNames``, ``event``, ``formEventMapping``,
    ``repeatingFormsEvents``, ``record``), and the server's host."""

    host: str
    answers: dict[str, bytes] = field(default_factory=dict, repr=False)  # the patients' data: not in a repr
    records_format: str = "json"
    limits: ReadLimits = field(default=CLI_LIMITS, repr=False)  # what reading the answers may take

    @property
    def info(self) -> dict:
        """The project's settings (``content=project``)."""
        return json.loads(self.answers["project"])

    @property
    def title(self) -> str:
        return str(self.info.get("project_title") or "").strip() or f"REDCap project at {self.host}"

    def part(self, content: str) -> str:
        """How problems and provenance name one answer: ``REDCap API at HOST, content=record``."""
        return f"REDCap API at {self.host}, content={content}"

    def project(self) -> RedcapProject:
        """The project as ``files.read_project`` reads the same project's exported files: every
        problem of the dictionary, the records or the settings raised at once (``DatasetError``)."""
        from .files import project_from_content

        parts = {"dictionary": "metadata", "records": "record", "events": "event",
                 "designations": "formEventMapping", "repeating": "repeatingFormsEvents"}
        project = project_from_content(
            records=self.answers["record"], records_format=self.records_format,
            dictionary=self.answers["metadata"], dictionary_format="json", events=self.answers.get("event"),
            designations=self.answers.get("formEventMapping"), repeating=self.answers.get("repeatingFormsEvents"),
            settings_format="json", missing_codes=str(self.info.get("missing_data_codes") or "").strip() or None,
            name=self.title, names={part: self.part(content) for part, content in parts.items()}, limits=self.limits)
        _check_export_names(project.fields, json.loads(self.answers.get("exportFieldNames", b"[]")),
                            self.part("exportFieldNames"))
        project.sha256 = {self.part(c): hashlib.sha256(a).hexdigest() for c, a in sorted(self.answers.items())}
        return project

    def save(self, folder: Path) -> dict[str, Path]:
        """Write what was pulled as the files a web export gives, readable by owner only (0600,
        the folder 0700 when made here): ``dictionary.csv`` (API header spelling),
        ``records.json`` (or ``.csv``), ``events.csv``, ``designations.csv`` and
        ``repeating.csv`` (when the project has them), ``project.json`` (its settings). The
        token is in none of them. Returns content -> path."""
        folder = Path(folder)
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        written: dict[str, Path] = {}
        from .dictionary import DICTIONARY_COLUMNS

        metadata = json.loads(self.answers["metadata"])
        written["metadata"] = _write_private(folder / SAVED_FILES["dictionary"],
                                             _csv_bytes([api for api, _ in DICTIONARY_COLUMNS], metadata))
        written["record"] = _write_private(folder / f"records.{self.records_format}", self.answers["record"])
        for content, columns in _CSV_COLUMNS.items():
            if content in self.answers:
                written[content] = _write_private(folder / SAVED_FILES[content],
                                                  _csv_bytes(columns, json.loads(self.answers[content])))
        written["project"] = _write_private(folder / SAVED_FILES["project"], self.answers["project"])
        return written

    def replay_command(self, folder: Path) -> str:
        """The ``cnotrack redcap import`` command line that reads the saved files again."""
        options = {"event": "--events", "formEventMapping": "--designations", "repeatingFormsEvents": "--repeating"}
        parts = ["cnotrack redcap import", _quote(Path(folder) / SAVED_FILES["dictionary"]),
                 _quote(Path(folder) / f"records.{self.records_format}")]
        parts += [f"{option} {_quote(Path(folder) / SAVED_FILES[content])}"
                  for content, option in options.items() if content in self.answers]
        codes = str(self.info.get("missing_data_codes") or "").strip()
        if codes:
            parts.append(f"--missing-codes {_quote(codes)}")
        return " ".join(parts) + " --mapping MAP.yaml"


def fetch_pull(client: RedcapClient, *, records_format: str = "json") -> RedcapPull:
    """Ask the API for everything ``RedcapPull.project`` needs, in REDCap's order: the project's
    settings, the dictionary, the export field names, the events and their forms (longitudinal
    projects), the repeating settings (when the project repeats anything), then the records
    (flat, raw codes and headers, with the data access group)."""
    if records_format not in ("json", "csv"):
        raise RedcapApiError(f"records format {records_format!r}: give json or csv")
    pull = RedcapPull(host=client.host, records_format=records_format, limits=client.limits)
    pull.answers["project"] = client.export("project")
    info = _json(client, "project", pull.answers["project"], dict)
    pull.answers["metadata"] = client.export("metadata")
    pull.answers["exportFieldNames"] = client.export("exportFieldNames")
    if _flag(info.get("is_longitudinal")):
        pull.answers["event"] = client.export("event")
        pull.answers["formEventMapping"] = client.export("formEventMapping")
    if _flag(info.get("has_repeating_instruments_or_events")):
        pull.answers["repeatingFormsEvents"] = client.export("repeatingFormsEvents")
    for content in pull.answers:
        if content != "project":
            _json(client, content, pull.answers[content], list)
    pull.answers["record"] = client.export(
        "record", format=records_format, type="flat", rawOrLabel="raw", rawOrLabelHeaders="raw",
        exportCheckboxLabel="false", exportSurveyFields="false", exportDataAccessGroups="true")
    records = pull.answers["record"]
    if not records.strip() or (records_format == "json" and not _json(client, "record", records, list)):
        raise RedcapApiError(f"REDCap API at {client.host}, content=record: the project has no records that this "
                             "token's user may export (none entered yet, or none in the user's data access group)",
                             content="record", status=200)
    return pull


def pull_project(url: str, token: RedcapToken, *, records_format: str = "json", timeout: float = DEFAULT_TIMEOUT,
                 transport: httpx.BaseTransport | None = None, limits: ReadLimits = CLI_LIMITS) -> RedcapProject:
    """The project behind the API at ``url`` that ``token`` opens, read like its exported files
    (each answer at most ``limits.max_file_bytes``, else 2 GB; cells as ``limits`` allow)."""
    with RedcapClient(url, token, timeout=timeout, transport=transport, limits=limits) as client:
        return fetch_pull(client, records_format=records_format).project()


def _flag(value: object) -> bool:
    """REDCap's 0/1 settings arrive as numbers or strings."""
    return str(value).strip() in ("1", "true", "True")


def _json(client: RedcapClient, content: str, body: bytes, kind: type) -> object:
    """The answer as JSON of ``kind`` (dict or list); anything else (a login page, a proxy's
    error) means the URL is not the API's."""
    try:
        value = json.loads(body)
    except ValueError:
        value, got = None, f"not JSON ({client._describe(body)})"
    else:
        got = f"a JSON {type(value).__name__}, not a JSON {kind.__name__}"
    if not isinstance(value, kind):
        raise RedcapApiError(f"REDCap API at {client.host}, content={content}: the answer is {got}; is --url the "
                             "API address (ending in /api/)?", content=content, status=200)
    return value


def _check_export_names(fields: dict, items: list, source: str) -> None:
    """REDCap's own names of the flat-export columns (``exportFieldNames``) must be those
    cnotrack reads: ``field___code`` for each checkbox choice. A server that names them
    otherwise would have its checkbox columns misread, so that is a problem, not a guess."""
    problems = []
    for index, item in enumerate(items if isinstance(items, list) else [], start=1):
        if not isinstance(item, dict):
            continue
        name, code, column = (str(item.get(k) or "") for k in ("original_field_name", "choice_value",
                                                                   "export_field_name"))
        spec = fields.get(name)
        if spec is None or spec.field_type != "checkbox" or not code:
            continue
        expected = spec.checkbox_column(code)
        if column != expected:
            problems.append(Problem(source, index, name, column,
                                    f"REDCap exports choice {code!r} of the checkbox {name!r} as the column "
                                    f"{column!r}; cnotrack reads it as {expected!r}: tell the cnotrack developers "
                                    "your REDCap version"))
    if problems:
        raise DatasetError(problems, source)


def _csv_bytes(columns, items: list) -> bytes:
    """``items`` (the API's JSON objects) as a CSV with ``columns``, then any keys the server
    added, in the order it sent them."""
    header = list(columns)
    for item in items:
        header += [key for key in item if key not in header]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    for item in items:
        writer.writerow(["" if item.get(key) is None else str(item.get(key)) for key in header])
    return buffer.getvalue().encode("utf-8")


def _write_private(path: Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` readable and writable by its owner only (0600), never following
    a symbolic link planted at ``path``."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0), 0o600)
    try:
        if hasattr(os, "fchmod"):
            os.fchmod(fd, 0o600)  # an existing file keeps its mode on open: tighten it
        with os.fdopen(fd, "wb", closefd=False) as out:
            out.write(data)
    finally:
        os.close(fd)
    return path


def _quote(value: object) -> str:
    return shlex.quote(str(value))
