"""The colours of cnotrack's figures: the Okabe-Ito palette, safe for colour-blind readers.

Okabe M, Ito K. *Color Universal Design (CUD): how to make figures and presentations that are
friendly to colorblind people* (2008). The eight colours stay distinct under protanopia,
deuteranopia and tritanopia; R's ``palette.colors(palette = "Okabe-Ito")`` adds grey (#999999)
as a ninth, which cnotrack uses for "no change".

Lesion fates (the same colour in every figure):

========  =========  ===============================================
fate      colour     why
========  =========  ===============================================
resolved  #009E73    bluish green: the good outcome
improved  #56B4E9    sky blue: better, not gone
stable    #999999    grey: no change
worsened  #D55E00    vermillion: worse
new       #CC79A7    reddish purple: a lesion not seen before
baseline  #0072B2    blue: the lesions of the earlier study, before any fate
========  =========  ===============================================

Treatment classes (the ``class`` keys of the drug vocabulary) take the remaining colours;
a class that is not listed is drawn in black (:data:`OTHER_COLOUR`).
"""

from __future__ import annotations

__all__ = [
    "DRUG_CLASS_COLOURS",
    "FATE_COLOURS",
    "FATE_ORDER",
    "INK",
    "MODALITY_MARKERS",
    "OKABE_ITO",
    "OTHER_COLOUR",
    "SERIES_COLOURS",
    "drug_class_colour",
    "fate_colour",
]

#: The Okabe-Ito colours by name, plus R's grey.
OKABE_ITO: dict[str, str] = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "bluish_green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish_purple": "#CC79A7",
    "grey": "#999999",
}

#: Fates in the order figures list them: the lesions of the earlier study, then new ones.
FATE_ORDER: tuple[str, ...] = ("resolved", "improved", "stable", "worsened", "new")

FATE_COLOURS: dict[str, str] = {
    "resolved": OKABE_ITO["bluish_green"],
    "improved": OKABE_ITO["sky_blue"],
    "stable": OKABE_ITO["grey"],
    "worsened": OKABE_ITO["vermillion"],
    "new": OKABE_ITO["reddish_purple"],
    "baseline": OKABE_ITO["blue"],
}

DRUG_CLASS_COLOURS: dict[str, str] = {
    "nsaid": OKABE_ITO["orange"],
    "bisphosphonate": OKABE_ITO["blue"],
    "glucocorticoid": OKABE_ITO["yellow"],
    "conventional_dmard": OKABE_ITO["sky_blue"],
    "biologic": OKABE_ITO["vermillion"],
    "jak_inhibitor": OKABE_ITO["reddish_purple"],
    "antibiotic": OKABE_ITO["bluish_green"],
}

#: A drug class that has no colour of its own.
OTHER_COLOUR = OKABE_ITO["black"]

#: Text, axes and the ring round a symptomatic lesion.
INK = "#222222"

#: Curves with no meaning of their own (Kaplan-Meier groups), in the order they are used.
SERIES_COLOURS: tuple[str, ...] = (
    OKABE_ITO["blue"], OKABE_ITO["vermillion"], OKABE_ITO["bluish_green"], OKABE_ITO["reddish_purple"],
    OKABE_ITO["orange"], OKABE_ITO["sky_blue"], OKABE_ITO["black"], OKABE_ITO["yellow"],
)

#: A distinct matplotlib marker for each imaging modality of the exchange format.
MODALITY_MARKERS: dict[str, str] = {
    "bone_scintigraphy": "o",
    "wb_mri": "s",
    "mri": "D",
    "xray": "^",
    "ct": "v",
    "pet": "P",
}


def fate_colour(fate: str) -> str:
    """The colour of a lesion fate (``resolved``, ``improved``, ``stable``, ``worsened``, ``new``,
    ``baseline``); a ``ValueError`` names the valid fates for anything else."""
    try:
        return FATE_COLOURS[fate]
    except KeyError:
        raise ValueError(f"fate {fate!r} has no colour; use one of {', '.join(FATE_COLOURS)}") from None


def drug_class_colour(drug_class: str | None) -> str:
    """The colour of a drug class of the drug vocabulary; black for an unknown or missing class."""
    return DRUG_CLASS_COLOURS.get(drug_class or "", OTHER_COLOUR)
