"""Words that agree with their number: "1 patient was female", "9 patients were female".

Every generated sentence counts with :func:`counted` and conjugates with :func:`verb`, so that a
report reads right for any n (a cohort of one patient, one new lesion, one pair). The nouns and
verbs are the few a CNO report uses; an unknown noun takes a plain ``s``. The module imports
nothing of cnotrack, so that results, the engine and the statistics use it as the renderers do.
"""

from __future__ import annotations

__all__ = ["NOUNS", "VERBS", "counted", "noun", "verb"]

#: singular -> plural of the nouns the reports count.
NOUNS = {"patient": "patients", "lesion": "lesions", "pair": "pairs", "event": "events", "year": "years",
         "value": "values", "study": "studies", "visit": "visits", "course": "courses", "group": "groups"}

#: singular -> plural of the verbs the summary templates conjugate (either form may be asked for).
VERBS = {"was": "were", "has": "have", "is": "are"}


def noun(n: int, singular: str) -> str:
    """``singular`` for n == 1, else its plural ("1 patient", "0 patients", "2 patients")."""
    if n == 1:
        return singular
    return NOUNS.get(singular, singular + "s")


def counted(n: int, singular: str) -> str:
    """``n`` with its noun: "1 patient", "9 patients"."""
    return f"{n} {noun(n, singular)}"


def verb(n: int, form: str) -> str:
    """The verb ``form`` ("was" or "were", "has" or "have", "is" or "are") agreeing with ``n``."""
    for singular, plural in VERBS.items():
        if form in (singular, plural):
            return singular if n == 1 else plural
    raise ValueError(f"verb {form!r} is not one of {', '.join(sorted([*VERBS, *VERBS.values()]))}")
