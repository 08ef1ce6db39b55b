"""Non-bacterial osteomyelitis diagnostic score, NBODS (Kostik MM et al., Front Pediatr 2023).

Four criteria add points (definitions/nbods.yaml): CRP <= 55 mg/L 56, multifocal involvement
27, femur involvement 17, band neutrophils <= 220 cells/uL 15. A total > 17 favours
non-bacterial over bacterial osteomyelitis (sensitivity 89.0 %, specificity 96.9 %).
Research support for weighing a diagnosis, never treatment advice.
"""

from __future__ import annotations

from collections.abc import Mapping

from ._definitions import InstrumentDefinition, load_definition
from ._inputs import check_inputs
from ._result import InstrumentResult
from ._scoring import additive_result

__all__ = ["nbods_score"]

INSTRUMENT_ID = "nbods"


def definition() -> InstrumentDefinition:
    return load_definition(INSTRUMENT_ID)


def nbods_score(
    *,
    crp_mg_l: float | str,
    multifocal: bool | str,
    femur: bool | str,
    band_neutrophils_per_ul: float | str,
) -> InstrumentResult:
    """Score the NBODS from CRP (mg/L), multifocal and femur involvement, and the absolute
    band neutrophil count (cells/uL). Raises InstrumentInputError on a bad input."""
    return score_inputs(
        {
            "crp_mg_l": crp_mg_l,
            "multifocal": multifocal,
            "femur": femur,
            "band_neutrophils_per_ul": band_neutrophils_per_ul,
        }
    )


def score_inputs(inputs: Mapping[str, object]) -> InstrumentResult:
    """Score from a mapping of key -> value (strings as a command line gives them, or typed)."""
    spec = definition()
    return additive_result(spec, check_inputs(spec, inputs))
