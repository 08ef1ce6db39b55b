"""``cnotrack redcap ...``: REDCap projects in and out, a thin layer over ``cnotrack.interop.redcap``.

Each command imports what it needs when it runs, so that the other commands start no slower.
"""

from __future__ import annotations

import typer

__all__ = ["redcap_app"]

redcap_app = typer.Typer(help="Read REDCap projects (files or the API) and create REDCap projects for cnotrack.",
                         no_args_is_help=True)
