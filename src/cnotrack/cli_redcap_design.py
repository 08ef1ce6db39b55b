"""``cnotrack redcap dictionary``: a REDCap project for cnotrack, a thin layer over
``cnotrack.interop.redcap.design.write_dictionary``. (``cnotrack export --redcap`` is the
``export`` command's option, over ``cnotrack.interop.redcap.export.export_redcap``.)
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from .cli_redcap import redcap_app

__all__ = ["dictionary"]


@redcap_app.command("dictionary")
def dictionary(
    target: Annotated[Path, typer.Argument(help="The data dictionary to write (CSV), for REDCap's "
                                                "Project Setup > Data Dictionary upload.")],
    repeating: Annotated[Optional[Path], typer.Option(
        "--repeating", help="Also write the repeating-instruments CSV (form_name,custom_form_label) here, "
                            "for REDCap's 'Repeating instruments and events' upload.")] = None,
    mapping: Annotated[Optional[Path], typer.Option(
        "--mapping", help="Also write the mapping YAML here, with which `cnotrack redcap import` reads "
                          "the project's records back.")] = None,
) -> None:
    """Write a REDCap data dictionary that captures the exchange format: one instrument per table,
    every table but patients a repeating instrument, vocabularies as coded choices."""
    from .cli import out
    from .interop.redcap.design import write_dictionary

    for path in write_dictionary(target, repeating=repeating, mapping=mapping):
        out.print(f"Wrote {path}", markup=False, soft_wrap=True)
