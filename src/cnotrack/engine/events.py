"""Time-to-event endpoints: per patient, days from the start to the first event, or censoring.

For each ``time_to_event`` endpoint the per-patient table gets three columns, made for all
patients at once: ``tte.<id>.days`` (Int64), ``tte.<id>.event`` (Boolean: true for an event,
false when censored) and ``tte.<id>.excluded`` (the reason the patient is left out, else null).

- **Start** (day 0): the index date (``start: index``), the diagnosis date or the onset date of
  the patient; a patient without that date is left out ("no diagnosis date").
- **Events** count only strictly after the start day (day > 0), so a day-0 visit is never an
  outcome:

  - ``treatment_started``: the start of the first course of the selection
    (``engine.treatments.selected_courses``) after the start;
  - ``treatment_stopped``: the stop date of the index course, when it stopped for one of
    ``reasons`` (any reason when none are given); a course stopped for another reason is
    censored at its stop date. Only with ``start: index``;
  - ``pga_reached``: the first assessment with a PGA among the levels;
  - ``new_lesion``: the first study of the modality (the protocol's unless the filter names
    one) dated after the patient's baseline study (the study chosen for the ``baseline``
    timepoint) with an active lesion matched to no lesion of the baseline study
    (``lesion_fates``) that the filter keeps (symptomatic: an empty ``symptomatic`` counts as
    not symptomatic; regions; bones);
  - ``flare``: the first flare date (``cnotrack.courses.flares.flare_dates``) of the
    definition, looked up in the protocol's ``flare_definitions``, then the shipped ones.

- **Censoring** without an event: at the patient's last assessment (``new_lesion``: the last
  study of the modality after the baseline study). A patient without an event and without any
  follow-up after the start is left out with the reason.

The Kaplan-Meier result of a column set is ``time_to_event_result``.
"""

from __future__ import annotations

import polars as pl

from ..errors import ProtocolError
from ..exchange.dataset import Dataset
from ..protocols.criteria import LesionFilter
from ..protocols.model import (
    FlareEvent, NewLesionEvent, PgaReached, Protocol, TimeToEvent, TreatmentStarted, TreatmentStopped,
)
from ..results import TimeToEventResult
from .lesion_filters import check_filter, filter_lesions
from .lesion_tracking import lesion_fates
from .timepoints import at_timepoint

__all__ = ["describe_time_to_event", "first_new_lesion", "time_to_event_columns", "time_to_event_result"]

_START_WORDS = {"index": "the index date", "diagnosis": "the diagnosis date", "onset": "the onset date"}
_START_COLUMNS = {"index": "index_date", "diagnosis": "diagnosis_date", "onset": "onset_date"}


def _days(later: str, earlier: str) -> pl.Expr:
    return (pl.col(later) - pl.col(earlier)).dt.total_days()


def first_new_lesion(dataset: Dataset, baseline: pl.DataFrame, modality: str,
                     lesion_filter: LesionFilter | None = None) -> pl.DataFrame:
    """Per patient of ``baseline`` (``patient_id``, ``start``, ``baseline_study``,
    ``baseline_date``; a null study for none), the day (from ``start``) of the first study of
    ``modality`` after the baseline study and after the start with a new lesion (a later lesion
    matched to none of the baseline study; with ``lesion_filter``, only the new lesions it keeps,
    by ``lesion_filters.filter_lesions``, after matching on all lesions), and the day of the last such
    study: ``patient_id``, ``event_day``, ``last_day`` (null without any such study).

    All studies are matched against their patient's baseline study at once (one ``pair`` per
    later study)."""
    later = (
        dataset["imaging"].filter(pl.col("modality") == modality)
        .select("patient_id", "study_id", "date")
        .join(baseline.drop_nulls("baseline_study"), on="patient_id", how="inner")
        .filter((pl.col("date") > pl.col("baseline_date")) & (pl.col("study_id") != pl.col("baseline_study")))
        .with_columns(_days("date", "start").alias("day"))
        .filter(pl.col("day") > 0)
    )
    lesions = dataset["lesions"]
    earlier_lesions = later.select(pl.col("study_id").alias("pair"), pl.col("baseline_study").alias("study_id")) \
        .join(lesions, on="study_id", how="inner")
    later_lesions = later.select(pl.col("study_id").alias("pair"), "study_id").join(lesions, on="study_id", how="inner")
    fates = filter_lesions(lesion_fates(earlier_lesions, later_lesions), lesion_filter)
    new = fates.group_by("pair").agg((pl.col("fate") == "new").any().alias("has_new"))
    per_study = later.join(new, left_on="study_id", right_on="pair", how="left") \
        .with_columns(pl.col("has_new").fill_null(False))
    per_patient = per_study.group_by("patient_id").agg(
        pl.col("day").filter(pl.col("has_new")).min().alias("event_day"),
        pl.col("day").max().alias("last_day"),
    )
    return baseline.select("patient_id").join(per_patient, on="patient_id", how="left")


def _starts(dataset: Dataset, eligible: pl.DataFrame) -> pl.DataFrame:
    """``patient_id``, ``index_date``, ``index_stop_date``, ``last_assessment_date``, the index
    drug when the cohort has it, and the diagnosis and onset
    dates (from the cohort's table, else from the patients table)."""
    frame = eligible.select("patient_id", "index_date", "index_stop_date", "last_assessment_date",
                            *[c for c in ("diagnosis_date", "onset_date", "index_drug") if c in eligible.columns])
    wanted = [c for c in ("diagnosis_date", "onset_date") if c not in frame.columns]
    patients = dataset["patients"]
    if wanted:
        frame = frame.join(patients.select("patient_id", *[c for c in wanted if c in patients.columns]),
                           on="patient_id", how="left")
        frame = frame.with_columns([pl.lit(None, pl.Date).alias(c) for c in wanted if c not in frame.columns])
    return frame


def _flare_definition(protocol: Protocol, name: str):
    """The protocol's flare definition of that name, else the shipped one."""
    from ..courses.registry import flare_definitions

    known = flare_definitions(protocol.flare_definitions)
    if name not in known:
        raise ProtocolError(f"flare definition {name!r} is not defined: add it under flare_definitions "
                            f"or use one of {', '.join(sorted(known))}")
    return known[name]


def _event_and_censor(dataset: Dataset, protocol: Protocol, e: TimeToEvent, frame: pl.DataFrame
                      ) -> tuple[pl.DataFrame, str]:
    """``patient_id``, ``event_day``, ``censor_day`` (both from ``start``; null for none) and
    optionally ``reason`` (a reason to leave the patient out), with the wording of the
    follow-up for the reason of a patient without any."""
    ev = e.event
    last = frame.select("patient_id", _days("last_assessment_date", "start").alias("censor_day"))
    follow_up = f"no assessment after {_START_WORDS[e.start]}"
    if isinstance(ev, PgaReached):
        first = (
            dataset["assessments"].join(frame.select("patient_id", "start"), on="patient_id", how="inner")
            .with_columns(_days("date", "start").alias("day"))
            .filter((pl.col("day") > 0) & pl.col("pga").is_in(list(ev.pga_reached.in_)))
            .group_by("patient_id").agg(pl.col("day").min().alias("event_day"))
        )
        return last.join(first, on="patient_id", how="left"), follow_up
    if isinstance(ev, TreatmentStarted):
        from .treatments import selected_courses

        courses = selected_courses(dataset["treatments"], ev.treatment_started)
        first = (
            courses.join(frame.select("patient_id", "start"), on="patient_id", how="inner")
            .with_columns(_days("start_date", "start").alias("day"))
            .filter(pl.col("day") > 0)
            .group_by("patient_id").agg(pl.col("day").min().alias("event_day"))
        )
        return last.join(first, on="patient_id", how="left"), follow_up
    if isinstance(ev, TreatmentStopped):
        if e.start != "index":
            raise ProtocolError(f"endpoint {e.id!r}: treatment_stopped is the index course's stop, so its "
                                f"start must be index (got start: {e.start}); remove start or set start: index")
        keys = ["patient_id", "start_date", "stop_date"]
        index = frame.select("patient_id", pl.col("index_date").alias("start_date"),
                             pl.col("index_stop_date").alias("stop_date"),
                             *(["index_drug"] if "index_drug" in frame.columns else []))
        treatments = dataset["treatments"]
        if "index_drug" in index.columns:
            index, keys = index.rename({"index_drug": "drug"}), [*keys, "drug"]
        reason = (index.join(treatments.select(*keys, "stop_reason"), on=keys, how="left", nulls_equal=True)
                  .sort("patient_id", "stop_reason", nulls_last=True)
                  .unique("patient_id", keep="first", maintain_order=True))
        reasons = list(ev.treatment_stopped.reasons)
        stopped = frame.select("patient_id", _days("index_stop_date", "start").alias("stop_day")) \
            .join(reason.select("patient_id", "stop_reason"), on="patient_id", how="left")
        counts = pl.col("stop_reason").is_in(reasons).fill_null(False) if reasons else pl.lit(True)
        out = stopped.join(last, on="patient_id", how="left").select(
            "patient_id",
            pl.when(pl.col("stop_day").is_not_null() & counts & (pl.col("stop_day") > 0))
            .then(pl.col("stop_day")).alias("event_day"),
            pl.when(pl.col("stop_day").is_not_null()).then(pl.col("stop_day"))
            .otherwise(pl.col("censor_day")).alias("censor_day"),
        )
        return out, f"no follow-up after {_START_WORDS[e.start]}"
    if isinstance(ev, FlareEvent):
        from ..courses.flares import flare_dates

        dates = flare_dates(dataset, _flare_definition(protocol, ev.flare.definition))
        first = (
            dates.select("patient_id", "date").join(frame.select("patient_id", "start"), on="patient_id", how="inner")
            .with_columns(_days("date", "start").alias("day"))
            .filter(pl.col("day") > 0)
            .group_by("patient_id").agg(pl.col("day").min().alias("event_day"))
        )
        return last.join(first, on="patient_id", how="left"), follow_up
    if isinstance(ev, NewLesionEvent):
        return _new_lesion(dataset, protocol, e, ev, frame)
    raise TypeError(f"unknown event {ev!r}")


def _new_lesion(dataset: Dataset, protocol: Protocol, e: TimeToEvent, ev: NewLesionEvent,
                frame: pl.DataFrame) -> tuple[pl.DataFrame, str]:
    modality = ev.new_lesion.modality or protocol.imaging_modality
    words = modality.replace("_", " ")
    try:
        baseline_tp = protocol.timepoint("baseline")
    except StopIteration:
        raise ProtocolError(f"endpoint {e.id!r}: a new_lesion event needs a timepoint with id baseline "
                            "(the study new lesions are matched against); add one to timepoints") from None
    studies = dataset["imaging"].filter(pl.col("modality") == modality).select("patient_id", "study_id", "date")
    chosen = at_timepoint(studies, frame, baseline_tp, tiebreak=["study_id"]).select(
        "patient_id", pl.col("study_id").alias("baseline_study"), pl.col("date").alias("baseline_date"))
    baseline = frame.select("patient_id", "start").join(chosen, on="patient_id", how="left")
    check_filter(ev.new_lesion, f"endpoint {e.id!r}, event new_lesion")
    days = first_new_lesion(dataset, baseline.drop_nulls("start"), modality, ev.new_lesion)
    out = baseline.join(days, on="patient_id", how="left").select(
        "patient_id", "event_day", pl.col("last_day").alias("censor_day"),
        pl.when(pl.col("start").is_not_null() & pl.col("baseline_study").is_null())
        .then(pl.lit(f"no baseline {words} study")).alias("reason"))
    return out, f"no {words} study after the baseline study and {_START_WORDS[e.start]}"


def time_to_event_columns(dataset: Dataset, protocol: Protocol, eligible: pl.DataFrame) -> pl.DataFrame:
    """``patient_id`` and the ``tte.<id>.days``/``.event``/``.excluded`` columns of every
    time-to-event endpoint, one row per patient of ``eligible`` (the cohort's eligible table)."""
    endpoints = [e for e in protocol.endpoints if isinstance(e, TimeToEvent)]
    out = eligible.select("patient_id")
    if not endpoints:
        return out
    starts = _starts(dataset, eligible)
    for e in endpoints:
        frame = starts.with_columns(pl.col(_START_COLUMNS[e.start]).alias("start"))
        found, follow_up = _event_and_censor(dataset, protocol, e, frame)
        if "reason" not in found.columns:
            found = found.with_columns(pl.lit(None, pl.String).alias("reason"))
        joined = frame.select("patient_id", "start").join(found, on="patient_id", how="left")
        event = pl.col("event_day").is_not_null()
        reason = (pl.when(pl.col("start").is_null()).then(pl.lit(f"no {e.start} date"))
                  .when(pl.col("reason").is_not_null()).then(pl.col("reason"))
                  .when(~event & (pl.col("censor_day").is_null() | (pl.col("censor_day") <= 0)))
                  .then(pl.lit(follow_up)))
        columns = joined.select(
            "patient_id",
            pl.when(reason.is_null()).then(pl.coalesce("event_day", "censor_day")).cast(pl.Int64)
            .alias(f"tte.{e.id}.days"),
            pl.when(reason.is_null()).then(event).alias(f"tte.{e.id}.event"),
            reason.cast(pl.String).alias(f"tte.{e.id}.excluded"),
        )
        out = out.join(columns, on="patient_id", how="left")
    return out


def describe_time_to_event(e: TimeToEvent, protocol: Protocol) -> str:
    """The methods sentence of a time-to-event endpoint."""
    ev, start = e.event, _START_WORDS[e.start]
    censor = "censored at the last assessment"
    if isinstance(ev, PgaReached):
        what = f"the first assessment after it with PGA {' or '.join(ev.pga_reached.in_)}"
    elif isinstance(ev, TreatmentStarted):
        s = ev.treatment_started
        names = [*s.drugs, *s.classes, *(f"{t} inhibitor" for t in s.targets), *([s.line] if s.line else [])]
        what = f"the start of the first course of {' or '.join(names) or 'any treatment'} after it"
    elif isinstance(ev, TreatmentStopped):
        reasons = ev.treatment_stopped.reasons
        what = "the stop of the index course" + (f" for {' or '.join(r.replace('_', ' ') for r in reasons)}"
                                                  if reasons else "")
        censor = "censored at the stop for another reason or, while ongoing, at the last assessment"
    elif isinstance(ev, FlareEvent):
        what = f"the first flare ({ev.flare.definition}) after it"
    else:
        f = ev.new_lesion
        words = (f.modality or protocol.imaging_modality).replace("_", " ")
        which = " ".join(x for x in ("symptomatic" if f.symptomatic else "silent" if f.symptomatic is False else "",
                                     "new lesion") if x)
        where = f" of {', '.join((*f.regions, *f.bones))}" if f.filters_sites else ""
        what = (f"the first {words} study after the baseline study with a {which}{where} (matched to no "
                "lesion of the baseline study)")
        censor = "censored at the last such study"
    return (f"Days from {start} to {what} (events on day 0 do not count); {censor}; patients without "
            "follow-up after the start are left out with the reason.")


def time_to_event_result(e: TimeToEvent, table: pl.DataFrame, protocol: Protocol) -> TimeToEventResult:
    """The Kaplan-Meier analysis of the endpoint's columns of ``table`` (the patient table, or
    the rows of one group), with the protocol's median rule."""
    from ..statistics.survival import kaplan_meier

    prefix = f"tte.{e.id}"
    used = table.filter(pl.col(f"{prefix}.excluded").is_null()).sort("patient_id").select(
        "patient_id", pl.col(f"{prefix}.days").alias("days"), pl.col(f"{prefix}.event").alias("event"))
    excluded = table.filter(pl.col(f"{prefix}.excluded").is_not_null()).sort("patient_id").select(
        "patient_id", pl.col(f"{prefix}.excluded").alias("reason"))
    definition = describe_time_to_event(e, protocol)
    km = kaplan_meier(used["days"].to_numpy(), used["event"].to_numpy(), label=e.label,
                      times_years=e.times_years, definition=definition, median_rule=protocol.km_median)
    return TimeToEventResult(
        e.id, e.label, f"{definition} {km.method}", km.n, km.events, km.censored, excluded.height,
        km.median_years, km.median_ci95, km.at_risk, km.curve, e.published,
        subjects=used.to_dicts(), excluded_patients=excluded.to_dicts())
