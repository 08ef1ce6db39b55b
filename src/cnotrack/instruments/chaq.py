"""CHAQ disability index (Singh G et al., Arthritis Rheum 1994).

30 items in 8 domains, each answered 0 (no difficulty), 1 (some), 2 (much), 3 (unable) or
"na" (not applicable, excluded). Domain score = the highest answered item; an aid or device,
or help from another person (``<domain>_aid``), raises an answered domain to at least 2.
Disability index = sum of domain scores / number of answered domains (0-3).

cnotrack's own rules, stated in the output: a domain with no item answered 0-3 is not
answered, and an aid on such a domain does not make it answered (it is reported and
ignored); fewer than ``min_domains`` answered domains (default 6, a parameter: the minimum
is not confirmed for the CHAQ) gives no index (score None) and says why.

Output (``extra``): ``domains`` ({domain: score or null}), ``answered_domains``,
``min_domains``, ``raised_by_aid`` (domains whose score the aid raised) and
``aid_on_unanswered_domain`` (domains with an aid but no answered item).
"""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction

from cnotrack.errors import InstrumentInputError

from ._definitions import InstrumentDefinition, load_definition
from ._inputs import NOT_APPLICABLE, check_inputs
from ._result import InstrumentResult, ItemResult, format_number, result_of

__all__ = ["chaq_disability_index"]

INSTRUMENT_ID = "chaq"


def definition() -> InstrumentDefinition:
    return load_definition(INSTRUMENT_ID)


def chaq_disability_index(
    items: Mapping[str, int | str | None],
    aids: Mapping[str, bool | str] | None = None,
    *,
    min_domains: int | str | None = None,
) -> InstrumentResult:
    """The CHAQ disability index.

    ``items`` maps item keys (``dressing_1`` .. ``activities_5``) to 0-3 or ``"na"``; items
    left out are not answered. ``aids`` maps a domain (``"walking"``) to whether an aid,
    device or help from another person was used in it. ``min_domains`` is the minimum number
    of answered domains needed to compute the index; None takes the definition's default (6,
    not confirmed for the CHAQ).
    """
    spec = definition()
    flat: dict[str, object] = dict(items)
    aid_keys = {d.id: d.aid_key for d in spec.domains}
    for domain, used in (aids or {}).items():
        if domain not in aid_keys:
            raise InstrumentInputError(
                f"chaq: aids has unknown domain {domain!r}. Valid domains: {', '.join(aid_keys)}."
            )
        flat[aid_keys[domain]] = used
    flat["min_domains"] = min_domains
    return score_inputs(flat)


def score_inputs(inputs: Mapping[str, object]) -> InstrumentResult:
    """Score from a mapping of key -> value: ``dressing_1=1``, ``walking_aid=yes``, ``min_domains=6``."""
    spec = definition()
    values = check_inputs(spec, inputs)
    aid_minimum: int = spec.constant("aid_minimum")
    min_domains: int = values["min_domains"]

    domain_scores: dict[str, int | None] = {}
    raised: list[str] = []
    aid_unanswered: list[str] = []
    explained: list[ItemResult] = []
    for domain in spec.domains:
        answers = {key: values[key] for key in domain.items}
        scored = [a for a in answers.values() if a is not None and a != NOT_APPLICABLE]
        aid = values[domain.aid_key] is True
        shown = ", ".join(
            f"{k}={'-' if a is None else a}" for k, a in answers.items()
        )
        if not scored:
            domain_scores[domain.id] = None
            note = f"{domain.label}: not answered ({shown})"
            if aid:
                aid_unanswered.append(domain.id)
                note += "; aid given but ignored, since no item is answered"
            explained.append(ItemResult(input=domain.id, value=None, points=None, note=note))
            continue
        highest = max(scored)
        score = highest
        note = f"{domain.label}: highest item {highest} ({shown})"
        if aid and highest < aid_minimum:
            score = aid_minimum
            raised.append(domain.id)
            note += f"; aid/help raises it to {aid_minimum}"
        elif aid:
            note += f"; aid/help (already >= {aid_minimum})"
        domain_scores[domain.id] = score
        explained.append(ItemResult(input=domain.id, value=score, points=score, note=note))

    answered = [s for s in domain_scores.values() if s is not None]
    n_domains = len(spec.domains)
    if len(answered) >= min_domains:
        index = Fraction(sum(answered), len(answered))
        score_value: float | None = float(index)
        interpretation = (
            f"CHAQ disability index {format_number(score_value)} "
            f"(sum of domain scores {sum(answered)} / {len(answered)} answered domains; "
            "0 = no difficulty, 3 = unable to do)."
        )
    else:
        score_value = None
        interpretation = (
            f"CHAQ disability index not computed: {len(answered)} of {n_domains} domains answered, "
            f"fewer than min_domains={min_domains} (a parameter; a minimum is not confirmed for the CHAQ)."
        )

    notes = [
        "Domain score = highest answered item (na excluded); an aid, device or help from another "
        f"person raises an answered domain to at least {aid_minimum}; index = sum / answered domains.",
        f"min_domains={min_domains}: the minimum number of answered domains is not confirmed for the "
        "CHAQ (the default 6 follows the adult HAQ).",
    ]
    if aid_unanswered:
        notes.append(
            f"Aid recorded on a domain with no answered item ({', '.join(aid_unanswered)}): "
            "the domain stays unanswered and the aid is ignored (cnotrack's rule)."
        )
    return result_of(
        spec,
        score=score_value,
        interpretation=interpretation,
        items=tuple(explained),
        extra={
            "domains": domain_scores,
            "answered_domains": len(answered),
            "min_domains": min_domains,
            "raised_by_aid": raised,
            "aid_on_unanswered_domain": aid_unanswered,
        },
        notes=tuple(notes),
    )
