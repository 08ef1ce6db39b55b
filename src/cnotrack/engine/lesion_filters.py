"""Lesion filters: which lesions a lesion endpoint counts (symptomatic, regions, bones, modality).

A filter is applied AFTER matching: the lesions of the two studies are matched on all their
active lesions (``lesion_fates``), then a lesion row is kept when

* its site is kept: the bone is the earlier study's bone for a lesion of the earlier study
  (resolved, stable, improved, worsened) and the later study's for a new lesion, so that every
  lesion row has exactly one site and the counts over all regions add up to the unfiltered
  counts; the region of a bone is the site vocabulary's (``anatomy.yaml``, ``bone.region``);
* its ``symptomatic`` value is kept: the earlier study's value for a lesion of the earlier
  study, the later study's for a new lesion. An empty ``symptomatic`` counts as not
  symptomatic (issue 10, settled choice): ``symptomatic: true`` keeps only lesions marked yes,
  ``symptomatic: false`` keeps those marked no and those left empty.

``modality`` chooses the studies themselves (another modality than the protocol's has its own
study per timepoint). ``filter_key`` names a filter in column names: ``''`` for no filter (and
for the protocol's own modality), so that the v1 column names stay as they were.
"""

from __future__ import annotations

from functools import lru_cache

import polars as pl

from ..errors import ProtocolError
from ..protocols.criteria import LesionFilter
from ..vocabulary import anatomy

__all__ = ["bone_regions", "check_filter", "effective", "filter_key", "filter_lesions", "filter_study_lesions",
           "known_bones", "known_regions", "site_kept"]


def known_regions() -> tuple[str, ...]:
    """The region names of the site vocabulary (``lower_limb``, ``spine``, ...)."""
    return tuple(anatomy().regions)


def known_bones() -> tuple[str, ...]:
    """The canonical bone names of the site vocabulary."""
    return tuple(b.name for b in anatomy().bones)


@lru_cache(maxsize=1)
def bone_regions() -> pl.DataFrame:
    """``bone, region``: each bone of the site vocabulary with its region."""
    bones = anatomy().bones
    return pl.DataFrame({"bone": [b.name for b in bones], "region": [b.region for b in bones]})


def check_filter(lesion_filter: LesionFilter | None, where: str) -> None:
    """Raise ``ProtocolError`` naming an unknown region or bone of a filter and the valid names."""
    if lesion_filter is None:
        return
    regions, bones = set(known_regions()), set(known_bones())
    for name in lesion_filter.regions:
        if name not in regions:
            raise ProtocolError(f"{where}: unknown region {name!r} in regions; use one of "
                                f"{', '.join(sorted(regions))}")
    for name in lesion_filter.bones:
        if name not in bones:
            raise ProtocolError(f"{where}: unknown bone {name!r} in bones; use a canonical bone name of "
                                "vocabularies/anatomy.yaml (such as femur, tibia, clavicle, T5)")


def effective(lesion_filter: LesionFilter | None, protocol_modality: str | None) -> LesionFilter | None:
    """The filter without what filters nothing (the protocol's own modality), None when empty."""
    if lesion_filter is None:
        return None
    modality = lesion_filter.modality if lesion_filter.modality != protocol_modality else None
    if lesion_filter.symptomatic is None and not lesion_filter.filters_sites and modality is None:
        return None
    return LesionFilter(symptomatic=lesion_filter.symptomatic, regions=tuple(sorted(set(lesion_filter.regions))),
                        bones=tuple(sorted(set(lesion_filter.bones))), modality=modality)


def filter_key(lesion_filter: LesionFilter | None, protocol_modality: str | None = None) -> str:
    """The filter's name in column names: ``''`` when it filters nothing, else its parts joined by
    ``;`` in a fixed order: ``symptomatic`` or ``asymptomatic``, ``regions=spine+pelvis``
    (sorted), ``bones=clavicle``, ``modality=wb_mri``."""
    f = effective(lesion_filter, protocol_modality)
    if f is None:
        return ""
    parts = []
    if f.symptomatic is not None:
        parts.append("symptomatic" if f.symptomatic else "asymptomatic")
    if f.regions:
        parts.append("regions=" + "+".join(f.regions))
    if f.bones:
        parts.append("bones=" + "+".join(f.bones))
    if f.modality:
        parts.append("modality=" + f.modality)
    return ";".join(parts)


def site_kept(lesion_filter: LesionFilter, bone: pl.Expr) -> pl.Expr:
    """True where ``bone`` is among the filter's bones or of one of its regions (no site filter: true)."""
    if not lesion_filter.filters_sites:
        return pl.lit(True)
    region_bones = bone_regions().filter(pl.col("region").is_in(list(lesion_filter.regions)))["bone"].to_list()
    wanted = sorted(set(region_bones) | set(lesion_filter.bones))
    return bone.is_in(wanted).fill_null(False)


def _symptomatic_kept(lesion_filter: LesionFilter, symptomatic: pl.Expr) -> pl.Expr:
    if lesion_filter.symptomatic is None:
        return pl.lit(True)
    if lesion_filter.symptomatic:
        return symptomatic.fill_null(False)
    return ~symptomatic.fill_null(False)


def filter_lesions(fates: pl.DataFrame, lesion_filter: LesionFilter | None) -> pl.DataFrame:
    """The rows of ``lesion_fates`` (one per lesion and pair) that the filter keeps."""
    if lesion_filter is None:
        return fates
    new = pl.col("fate") == "new"
    bone = pl.when(new).then(pl.col("bone_later")).otherwise(pl.col("bone_earlier"))
    symptomatic = pl.when(new).then(pl.col("symptomatic_later")).otherwise(pl.col("symptomatic_earlier"))
    return fates.filter(site_kept(lesion_filter, bone) & _symptomatic_kept(lesion_filter, symptomatic))


def filter_study_lesions(lesions: pl.DataFrame, lesion_filter: LesionFilter | None) -> pl.DataFrame:
    """The lesion rows of studies (``bone``, ``symptomatic``) that the filter keeps."""
    if lesion_filter is None:
        return lesions
    return lesions.filter(site_kept(lesion_filter, pl.col("bone"))
                          & _symptomatic_kept(lesion_filter, pl.col("symptomatic")))
