"""Jansson clinical score for nonbacterial osteitis (Jansson AF et al., Arthritis Rheum 2009).

Seven predictors add points (definitions/jansson.yaml); the total, 0 to 63, is read against
two cut-offs: >= 39 NBO likely (PPV 97 %, sensitivity 68 %, confirmed) and < 28 NBO unlikely
(widely reproduced, not checked against the primary table).
"""

from __future__ import annotations

from collections.abc import Mapping

from ._definitions import InstrumentDefinition, load_definition
from ._inputs import check_inputs
from ._result import InstrumentResult
from ._scoring import additive_result

__all__ = ["jansson_score"]

INSTRUMENT_ID = "jansson"
_LESION_FEATURES = ("symmetric_lesions", "marginal_sclerosis", "vertebral_clavicular_or_sternal_lesion")


def definition() -> InstrumentDefinition:
    return load_definition(INSTRUMENT_ID)


def jansson_score(
    *,
    normal_blood_count: bool | str,
    symmetric_lesions: bool | str,
    marginal_sclerosis: bool | str,
    normal_temperature: bool | str,
    vertebral_clavicular_or_sternal_lesion: bool | str,
    lesion_count: int | str,
    crp_mg_l: float | str,
) -> InstrumentResult:
    """Score the Jansson clinical score for nonbacterial osteitis.

    ``lesion_count`` is the number of radiologically proven lesions ("more than one" is
    ``lesion_count > 1``); ``crp_mg_l`` is CRP in mg/L (the item is CRP >= 10 mg/L,
    i.e. >= 1 mg/dL). Raises :class:`~cnotrack.errors.InstrumentInputError` on a bad input.
    """
    return score_inputs(
        {
            "normal_blood_count": normal_blood_count,
            "symmetric_lesions": symmetric_lesions,
            "marginal_sclerosis": marginal_sclerosis,
            "normal_temperature": normal_temperature,
            "vertebral_clavicular_or_sternal_lesion": vertebral_clavicular_or_sternal_lesion,
            "lesion_count": lesion_count,
            "crp_mg_l": crp_mg_l,
        }
    )


def score_inputs(inputs: Mapping[str, object]) -> InstrumentResult:
    """Score from a mapping of key -> value (strings as a command line gives them, or typed)."""
    spec = definition()
    values = check_inputs(spec, inputs)
    return additive_result(spec, values, notes=_consistency_warnings(values))


def _consistency_warnings(values: Mapping[str, object]) -> list[str]:
    """Inputs that cannot all be true together: scored as given, but said."""
    warnings = []
    count = values["lesion_count"]
    present = [k for k in _LESION_FEATURES if values[k] is True]
    if count == 0 and present:
        warnings.append(
            f"Check the inputs: lesion_count is 0 but {', '.join(present)} is yes; scored as given."
        )
    elif values["symmetric_lesions"] is True and count == 1:
        warnings.append(
            "Check the inputs: symmetric_lesions is yes but lesion_count is 1 "
            "(symmetric lesions need at least two); scored as given."
        )
    return warnings
