"""``cnotrack redcap pull``: read a REDCap project from its API, a thin layer over
``cnotrack.interop.redcap.api.fetch_pull`` and ``cnotrack.interop.redcap.load.import_redcap``.

The token is read from the environment variable ``--token-env`` names, or asked for (hidden)
when the command runs at a terminal; there is no option that takes the token itself, because
a command line is kept in shell histories and shown to every user of the computer by ``ps``.
"""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer

from .cli import DbOption
from .cli_redcap import redcap_app
from .errors import CnotrackError

__all__ = ["pull"]


class RecordsFormat(str, Enum):
    json = "json"
    csv = "csv"


def _interactive() -> bool:
    """Whether a person is at the keyboard (a prompt for the token can be answered)."""
    return sys.stdin is not None and sys.stdin.isatty()


def _token(token_env: str | None):
    from .interop.redcap.api import RedcapToken, token_from_env

    if token_env is not None:
        return token_from_env(token_env)
    if not _interactive():
        raise CnotrackError("redcap pull: give --token-env NAME, the environment variable that holds the project's "
                            "API token (the token itself is never an argument); or run the command at a terminal "
                            "to be asked for it")
    return RedcapToken(typer.prompt("REDCap API token (hidden)", hide_input=True), origin="the token typed")


@redcap_app.command("pull")
def pull(
    url: Annotated[str, typer.Option("--url", help="The project's API address, as its API page shows it "
                                     "(https://.../api/); http:// only on 127.0.0.1, ::1 or localhost.")],
    token_env: Annotated[Optional[str], typer.Option(
        "--token-env", metavar="NAME", help="The environment variable that holds the API token; without it the "
                                            "token is asked for, hidden. The token is never an argument.")] = None,
    mapping: Annotated[Optional[Path], typer.Option("--mapping", help="The mapping (YAML) from the project's "
                                                    "forms and fields to cnotrack's tables; without it, "
                                                    "nothing is imported.")] = None,
    db: DbOption = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show what the import would add and change, and "
                                                           "write nothing to the database.")] = False,
    save_dir: Annotated[Optional[Path], typer.Option(
        "--save-dir", metavar="DIR", help="Also write what was pulled as the files of a web export (readable by "
                                          "you only), for `cnotrack redcap import` to replay.")] = None,
    records_format: Annotated[RecordsFormat, typer.Option("--records-format", help="Ask for the records as "
                                                          "json or csv.")] = RecordsFormat.json,
    timeout: Annotated[float, typer.Option("--timeout", metavar="SECONDS", min=1.0,
                                           help="How long to wait for each answer.")] = 300.0,
) -> None:
    """Read a REDCap project from its API (dictionary, events, repeating settings, records) and
    import it through a mapping: all or nothing, and pulling twice equals once."""
    from .cli import _print_plan, out
    from .interop.redcap.api import RedcapClient, api_url, fetch_pull

    api_url(url)  # a plain-http or malformed URL fails before the token is asked for
    loaded = None
    if mapping is not None:
        from .interop.redcap.mapping import load_mapping

        loaded = load_mapping(mapping)
    token = _token(token_env)
    with RedcapClient(url, token, timeout=timeout) as client:
        pulled = fetch_pull(client, records_format=records_format.value)
    del token
    if save_dir is not None:
        written = pulled.save(save_dir)
        out.print(f"Saved the pull in {save_dir} (readable by you only): "
                  f"{', '.join(p.name for p in written.values())}", markup=False, soft_wrap=True)
        out.print(f"Read it again without the API: {pulled.replay_command(save_dir)}", markup=False, soft_wrap=True)
    project = pulled.project()
    events = f", {len(project.events)} events" if project.events else ""
    out.print(f"Pulled REDCap project {project.name!r} from {pulled.host}: {len(project.fields)} fields in "
              f"{len(project.forms)} forms{events}, {project.records.height} record rows.", markup=False,
              soft_wrap=True)
    if loaded is None:
        out.print("Nothing imported: give --mapping MAP.yaml (draft one with `cnotrack redcap mapping "
                  "DIR/dictionary.csv` on the files of --save-dir DIR).", markup=False, soft_wrap=True)
        return
    from .interop.redcap.load import import_redcap
    from .store import open_store

    with open_store(db, create=not dry_run) as store:
        result = import_redcap(project, loaded, store, dry_run=dry_run)
    plan = getattr(result, "plan", result)
    if dry_run:
        _print_plan(plan, f"Would import {plan.source} (dry run: nothing was written)")
        if not plan.changed:
            out.print("Nothing would change: the database already holds this project's data.")
        return
    _print_plan(plan, f"Imported {plan.source}")
    if not plan.changed:
        out.print("Nothing changed: the database already holds this project's data.")
