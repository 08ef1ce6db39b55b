"""``cnotrack redcap ...``: REDCap projects in and out, a thin layer over ``cnotrack.interop.redcap``.

``cnotrack redcap import`` reads a project's exported files through a mapping
(``interop.redcap.load.import_redcap``) and ``cnotrack redcap mapping`` drafts that mapping from
the data dictionary (``interop.redcap.draft.draft_mapping``). A problem of the files or the
mapping is raised as ``DatasetError``, which ``cnotrack.cli.main`` prints as ``cnotrack
validate`` prints problems (file, row, column, value, fix), with exit status 1.

Each command imports what it needs when it runs, so that the other commands start no slower
(and this module never imports ``cnotrack.cli`` when it is imported: ``cli`` imports it).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

__all__ = ["redcap_app"]

redcap_app = typer.Typer(help="Read REDCap projects (files or the API) and create REDCap projects for cnotrack.",
                         no_args_is_help=True)

_DbOption = Annotated[Optional[str], typer.Option(
    "--db", help="Database URL (sqlite:///PATH, a file path, or postgresql://...); "
                 "default: $CNOTRACK_DB, else the embedded SQLite database.")]


@redcap_app.command("import")
def import_(
    dictionary: Annotated[Path, typer.Argument(help="The data dictionary (CSV as the web exports it, or the API's).",
                                               dir_okay=False)],
    records: Annotated[Path, typer.Argument(help="The records: a raw, flat export (.csv or .json).", dir_okay=False)],
    mapping: Annotated[Path, typer.Option("--mapping", help="The mapping file (YAML; see docs/redcap.md).",
                                          dir_okay=False)],
    events: Annotated[Optional[Path], typer.Option("--events", help="The events file (longitudinal projects).",
                                                   dir_okay=False)] = None,
    designations: Annotated[Optional[Path], typer.Option(
        "--designations", help="The instrument-event mappings file (which forms each event has).",
        dir_okay=False)] = None,
    repeating: Annotated[Optional[Path], typer.Option(
        "--repeating", help="The repeating instruments and events file.", dir_okay=False)] = None,
    missing_codes: Annotated[Optional[str], typer.Option(
        "--missing-codes", help="The project's missing-data codes, as its settings write them: "
                                "'UNK, Unknown | NA, Not applicable'.")] = None,
    db: _DbOption = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show what the import would add and change, "
                                                           "and write nothing.")] = False,
) -> None:
    """Import a REDCap project's exported files through a mapping: all or nothing, and importing
    twice equals once (the same import as `cnotrack import`)."""
    from .cli import import_and_show
    from .interop.redcap.files import read_project
    from .interop.redcap.load import load_redcap
    from .interop.redcap.mapping import load_mapping

    chosen = load_mapping(mapping)
    project = read_project(dictionary, records, events=events, designations=designations, repeating=repeating,
                           missing_codes=missing_codes)
    import_and_show(load_redcap(project, chosen), db, dry_run=dry_run, holds="this project's records")


@redcap_app.command("mapping")
def mapping(
    dictionary: Annotated[Path, typer.Argument(help="The data dictionary (CSV, or the API's metadata JSON).",
                                               dir_okay=False)],
    out_path: Annotated[Optional[Path], typer.Option(
        "--out", help="Write the draft here (an existing file is never overwritten); default: print it.",
        dir_okay=False)] = None,
) -> None:
    """Draft a mapping file from a data dictionary, for you to review ('# review:' notes) before
    `cnotrack redcap import --mapping`."""
    from .cli import out
    from .errors import CnotrackError, DatasetError, Problem
    from .interop.redcap.dictionary import parse_dictionary, parse_dictionary_json
    from .interop.redcap.draft import draft_mapping

    try:
        data = dictionary.read_bytes()
    except OSError as error:
        raise DatasetError([Problem(dictionary.name, None, None, str(dictionary),
                                    f"the file cannot be read ({error.strerror}); check the path")],
                           dictionary.name) from None
    if dictionary.suffix.lower() == ".json":
        try:
            items = json.loads(data.removeprefix(b"\xef\xbb\xbf").decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise DatasetError([Problem(dictionary.name, None, None, None,
                                        f"the metadata is not UTF-8 JSON ({error})")], dictionary.name) from None
        fields = parse_dictionary_json(items, dictionary.name)
    else:
        fields = parse_dictionary(data, dictionary.name)
    text = draft_mapping(fields)
    if out_path is None:
        typer.echo(text, nl=False)
        return
    if out_path.exists():
        raise CnotrackError(f"{out_path} exists and is never overwritten (it may hold a reviewed mapping); "
                            "give another --out or remove it")
    out_path.write_text(text, "utf-8")
    reviews = text.count("# review:")
    out.print(f"Wrote the draft mapping {out_path} ({len(fields)} fields; {reviews} review note"
              f"{'s' if reviews != 1 else ''} to check before `cnotrack redcap import --mapping {out_path.name}`).",
              markup=False, soft_wrap=True)


# the commands defined in their own modules register themselves on redcap_app when imported
from . import cli_redcap_api, cli_redcap_design  # noqa: E402,F401
