"""Reports made in the background: a job per (user, protocol, format, state of the data).

The evaluation page starts a report (HTML, PDF or Word) with a POST; the report is built on a
small pool of worker threads (:data:`WORKERS`) while the page polls the job's status and shows
its progress, then a download link. :class:`ReportJobs` is the registry of an application
(``app.state.report_jobs``, made on first use by :func:`report_jobs`):

- a job's id is unguessable (``secrets.token_urlsafe``); only its owner, with the same scope
  (role and center) as when it started, finds it: anyone else is answered as for a job that
  does not exist (:class:`JobNotFound`, a 404);
- a second start for the same user, protocol, format and state of the data returns the job
  already queued, running or ready instead of starting another; a failed job is not reused;
- a user has at most :data:`PER_USER` jobs queued or running (the next start is a 429) and
  :data:`KEPT_PER_USER` finished ones (the oldest is dropped);
- a finished report is kept in a file of the registry's private folder (``0700``, the file
  ``0600``), removed when it is downloaded, when it expires (:data:`KEEP_SECONDS` after it is
  finished, failed jobs too; looked for at each use of the registry) and when the application
  shuts down (:meth:`ReportJobs.close`);
- the progress is the stage of the report build (``cnotrack.report.build_report`` and
  ``write_report`` name them through their ``progress`` callback): :data:`STAGES`.

Nothing of the report (no patient, no value) reaches a log: a job that fails logs the exception's
type and a traceback of code only (``errors.log_server_error``); its owner is shown the message
of a ``CnotrackError`` (written for users) or a generic one.

Tests make the registry run jobs where they choose (``submit``: called with the job's function)
and move its ``clock`` instead of waiting.
"""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

from ..errors import CnotrackError
from ..users import User
from .errors import ApiError, log_server_error
from .evaluation_cache import scope_of

__all__ = ["FORMAT_NAMES", "KEEP_SECONDS", "KEPT_PER_USER", "PER_USER", "STAGES", "WORKERS", "JobNotFound", "ReportFile",
           "ReportJob", "ReportJobs", "close_report_jobs", "report_jobs"]

#: Worker threads of an application's registry: reports of all users together.
WORKERS = 2
#: Jobs a user may have queued or running at once.
PER_USER = 2
#: How long a finished report waits for its download (seconds).
KEEP_SECONDS = 15 * 60
#: Finished reports a user may leave waiting; the oldest goes first beyond it.
KEPT_PER_USER = 6
#: The stages of a report, in order, with what the page says of each.
STAGES = {
    "evaluate": "evaluating the protocol",
    "statistics": "computing the statistics",
    "tables": "building the tables",
    "figures": "drawing the figures",
    "render": "laying out the report",
    "files": "writing the files",
}
#: The formats a job makes, in the words of the page.
FORMAT_NAMES = {"html": "HTML", "pdf": "PDF", "docx": "Word"}

Progress = Callable[[str], None]


@dataclass(frozen=True)
class ReportFile:
    """What a job's work returns: the report's bytes, its download name and media type, and the
    token of the data state it was made from."""

    data: bytes
    file_name: str
    media_type: str
    state: str


class JobNotFound(ApiError):
    """404: no job of this user has this id (another user's job answers the same)."""

    def __init__(self) -> None:
        super().__init__(404, "not_found", "no report of yours has this id: it was downloaded, it expired "
                                           "(reports are kept 15 minutes) or it never existed; start it again "
                                           "from the evaluation page")


@dataclass
class ReportJob:
    """One report being made. ``status`` is queued, running, done or failed; ``stage`` the
    current stage (a key of :data:`STAGES`); ``version`` grows with every change (the page
    polls with the version it shows and is answered "no change" while it is the same)."""

    id: str
    owner: int
    scope: tuple[str, str | None]
    protocol: str
    format: str
    state: str
    status: str = "queued"
    stage: str | None = None
    version: int = 0
    error: str | None = None
    file_name: str | None = None
    media_type: str | None = None
    size: int = 0
    finished_at: float | None = None
    path: Path | None = field(default=None, repr=False)
    finished: threading.Event = field(default_factory=threading.Event, repr=False)

    @property
    def step(self) -> int:
        """The number of the current stage (1 for the first), the number of stages when done."""
        if self.status == "done":
            return len(STAGES)
        return list(STAGES).index(self.stage) + 1 if self.stage in STAGES else 0

    @property
    def steps(self) -> int:
        return len(STAGES)

    @property
    def format_name(self) -> str:
        return FORMAT_NAMES.get(self.format, self.format)

    @property
    def progress_text(self) -> str:
        """"Step 4 of 6: drawing the figures", "Waiting to start", "Ready", "Failed"."""
        if self.status == "queued":
            return "Waiting to start (reports are made two at a time)"
        if self.status == "done":
            return "Ready"
        if self.status == "failed":
            return "Failed"
        return f"Step {self.step} of {self.steps}: {STAGES.get(self.stage or '', 'starting')}"

    @property
    def active(self) -> bool:
        return self.status in ("queued", "running")


class ReportJobs:
    """The background reports of one application; see the module. ``submit(fn)`` runs ``fn()``
    somewhere (default: a pool of ``workers`` threads); ``clock`` gives seconds (monotonic)."""

    def __init__(self, *, submit: Callable[[Callable[[], None]], object] | None = None, workers: int = WORKERS,
                 per_user: int = PER_USER, keep_seconds: float = KEEP_SECONDS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._lock = threading.Lock()
        self._jobs: dict[str, ReportJob] = {}
        self._pool: ThreadPoolExecutor | None = None
        if submit is None:
            self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="cnotrack-report")
            submit = self._pool.submit
        self._submit, self.per_user, self.keep_seconds, self.clock = submit, per_user, keep_seconds, clock
        self._folder: Path | None = None
        self.closed = False

    # -- the private folder ------------------------------------------------------------------

    @property
    def folder(self) -> Path:
        """The folder of the finished reports (made on first use, ``0700``)."""
        with self._lock:
            if self.closed:
                raise CnotrackError("the server shut down before the report was made; start it again")
            if self._folder is None:
                self._folder = Path(tempfile.mkdtemp(prefix="cnotrack-reports-"))
                os.chmod(self._folder, 0o700)
            return self._folder

    def _write(self, job_id: str, data: bytes) -> Path:
        path = self.folder / f"{job_id}.report"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        return path

    # -- starting, finding, downloading --------------------------------------------------------

    def start(self, user: User, protocol: str, format: str, state: str,
              work: Callable[[Progress], ReportFile]) -> tuple[ReportJob, bool]:
        """The job of ``user`` for ``protocol``, ``format`` and the data ``state``: the one already
        queued, running or ready (and ``False``), or a new one running ``work(progress)`` (and
        ``True``). 429 when the user already has :attr:`per_user` jobs queued or running."""
        self.expire()
        with self._lock:
            if self.closed:
                raise ApiError(503, "unavailable", "the server is shutting down; start the report again later")
            mine = [j for j in self._jobs.values() if j.owner == user.id and j.scope == scope_of(user)]
            for job in mine:
                if (job.protocol, job.format, job.state) == (protocol, format, state) and job.status != "failed":
                    return replace(job), False
            if sum(j.active for j in mine) >= self.per_user:
                raise ApiError(429, "too_many_requests",
                               f"{self.per_user} reports of yours are being made: wait until one is ready, "
                               f"then start the next", headers={"Retry-After": "10"})
            finished = sorted((j for j in mine if not j.active), key=lambda j: j.finished_at or 0)
            dropped = finished[:max(0, len(finished) - KEPT_PER_USER + 1)]
            for old in dropped:
                del self._jobs[old.id]
            job = ReportJob(secrets.token_urlsafe(24), user.id, scope_of(user), protocol, format, state)
            self._jobs[job.id] = job
        for old in dropped:
            if old.path is not None:
                old.path.unlink(missing_ok=True)
        self._submit(lambda: self._run(job, work))
        return self._copy(job), True

    def _change(self, job: ReportJob, **values) -> None:
        with self._lock:
            for name, value in values.items():
                setattr(job, name, value)
            job.version += 1

    def _run(self, job: ReportJob, work: Callable[[Progress], ReportFile]) -> None:
        if self.closed:
            self._finish(job, error="the server shut down before the report was made; start it again")
            return
        self._change(job, status="running", stage="evaluate")

        def progress(stage: str) -> None:
            if stage in STAGES and stage != job.stage:
                self._change(job, stage=stage)

        try:
            made = work(progress)
            path = self._write(job.id, made.data)
        except CnotrackError as exc:
            self._finish(job, error=str(exc))
        except Exception as exc:  # noqa: BLE001 - shown as a failure, logged without its message
            log_server_error("JOB", f"/evaluation/reports ({job.format})", exc)
            self._finish(job, error="an internal error stopped the report; it has been logged. Try again, "
                                    "or download it as HTML")
        else:
            self._finish(job, path=path, file_name=made.file_name, media_type=made.media_type,
                         size=len(made.data), state=made.state)

    def _finish(self, job: ReportJob, *, error: str | None = None, **values) -> None:
        self._change(job, status="failed" if error else "done", error=error, finished_at=self.clock(), **values)
        if self.closed and job.path is not None:
            job.path.unlink(missing_ok=True)
        job.finished.set()

    def _copy(self, job: ReportJob) -> ReportJob:
        with self._lock:
            return replace(job)  # one consistent state to show (``finished`` is the same event)

    def _find(self, job_id: str, user: User) -> ReportJob:
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None or job.owner != user.id or job.scope != scope_of(user):
                raise JobNotFound()
            return job

    def get(self, job_id: str, user: User) -> ReportJob:
        """The job ``job_id`` of ``user`` as it is now, or :class:`JobNotFound`."""
        self.expire()
        return self._copy(self._find(job_id, user))

    def of_user(self, user: User, protocol: str) -> dict[str, ReportJob]:
        """The newest job of ``user`` for ``protocol`` per format."""
        self.expire()
        with self._lock:
            return {j.format: replace(j) for j in self._jobs.values()
                    if j.owner == user.id and j.scope == scope_of(user) and j.protocol == protocol}

    def take(self, job_id: str, user: User) -> tuple[ReportJob, bytes]:
        """The finished report of job ``job_id`` of ``user``: the job and its bytes, the file
        removed and the job forgotten. 404 when not finished (or not theirs)."""
        self.expire()
        job = self._find(job_id, user)
        with self._lock:
            if self._jobs.get(job_id) is not job:  # downloaded meanwhile
                raise JobNotFound()
            if job.status != "done":
                raise ApiError(409, "conflict", f"the {job.format_name} report is not ready "
                                                f"({job.progress_text.lower()}): download it once the page says so")
            del self._jobs[job_id]
        assert job.path is not None
        try:
            return job, job.path.read_bytes()
        finally:
            job.path.unlink(missing_ok=True)

    def expire(self) -> int:
        """Forget the jobs finished more than :attr:`keep_seconds` ago, removing their files;
        the number forgotten."""
        now = self.clock()
        with self._lock:
            old = [j for j in self._jobs.values()
                   if j.finished_at is not None and now - j.finished_at > self.keep_seconds]
            for job in old:
                del self._jobs[job.id]
        for job in old:
            if job.path is not None:
                job.path.unlink(missing_ok=True)
        return len(old)

    def __len__(self) -> int:
        with self._lock:
            return len(self._jobs)

    def close(self) -> None:
        """At shutdown: queued jobs are dropped, running ones finish into nothing; the folder
        and every report in it are removed."""
        with self._lock:
            self.closed = True
            self._jobs.clear()
            folder, self._folder = self._folder, None
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)


_made = threading.Lock()


def report_jobs(app) -> ReportJobs:
    """The registry of ``app`` (``app.state.report_jobs``), made on first use."""
    with _made:
        jobs = getattr(app.state, "report_jobs", None)
        if jobs is None:
            jobs = app.state.report_jobs = ReportJobs()
        return jobs


def close_report_jobs(app) -> None:
    """Remove every report of ``app``'s registry (at shutdown)."""
    jobs = getattr(app.state, "report_jobs", None)
    if jobs is not None:
        jobs.close()
