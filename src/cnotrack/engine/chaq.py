"""The CHAQ disability index computed from item answers, for all assessments at once.

The rules are ``cnotrack.instruments.chaq`` (Singh 1994): domain score = highest answered item
(0-3; ``na`` and empty are not answered); an aid or help in a domain raises an answered domain to
at least 2; the index = sum of domain scores / answered domains, computed only when at least
``min_domains`` (default 6, not confirmed for the CHAQ) domains are answered. An assessment's
own ``chaq_di`` is kept when given; the index from the items fills it when empty.
"""

from __future__ import annotations

import polars as pl

from ..exchange.dataset import Dataset
from ..instruments import get_instrument

__all__ = ["DOMAINS", "assessments_with_chaq", "chaq_index"]

DOMAINS = ("dressing", "arising", "eating", "walking", "hygiene", "reach", "grip", "activities")


def _items(domain: str) -> list[str]:
    return [i.key for i in get_instrument("chaq").inputs
            if i.key.startswith(f"{domain}_") and not i.key.endswith("_aid")]


def chaq_index(chaq: pl.DataFrame, min_domains: int = 6) -> pl.DataFrame:
    """``patient_id, date, chaq_di_from_items, chaq_domains_answered`` for each row of the chaq table."""
    scores = []
    for domain in DOMAINS:
        answers = [pl.when(pl.col(k) == "na").then(None).otherwise(pl.col(k)).cast(pl.Int64) for k in _items(domain)]
        top = pl.max_horizontal(answers)
        aid = pl.col(f"{domain}_aid").fill_null(False)
        scores.append(pl.when(top.is_not_null() & aid).then(pl.max_horizontal(top, pl.lit(2))).otherwise(top)
                      .alias(domain))
    answered = pl.sum_horizontal([pl.col(d).is_not_null().cast(pl.Int64) for d in DOMAINS])
    return chaq.select("patient_id", "date", *scores).select(
        "patient_id", "date",
        pl.when(answered >= min_domains)
        .then(pl.sum_horizontal([pl.col(d).fill_null(0) for d in DOMAINS]) / answered)
        .alias("chaq_di_from_items"),
        answered.alias("chaq_domains_answered"),
    )


def assessments_with_chaq(dataset: Dataset) -> pl.DataFrame:
    """The assessments, with ``chaq_di`` filled from the chaq table where the assessment has none."""
    assessments = dataset["assessments"]
    if dataset["chaq"].height == 0:
        return assessments
    computed = chaq_index(dataset["chaq"])
    return (
        assessments.join(computed, on=["patient_id", "date"], how="left")
        .with_columns(pl.coalesce("chaq_di", "chaq_di_from_items").alias("chaq_di"))
        .drop("chaq_di_from_items", "chaq_domains_answered")
    )
