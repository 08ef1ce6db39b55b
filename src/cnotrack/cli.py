"""The ``cnotrack`` command: a thin layer over the library.

Every command calls one documented library function and renders its result; an error
that cnotrack raises on purpose is printed as ``Error: ...`` and exits with status 1.
"""

from __future__ import annotations

import json
import sys
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from . import __version__
from .errors import CnotrackError, DatasetError, Problem

app = typer.Typer(
    name="cnotrack",
    help="Clinical research on cohorts of children with chronic nonbacterial osteomyelitis (CNO). "
         "cnotrack supports research; it gives no treatment advice.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console(highlight=False)
err = Console(stderr=True, highlight=False, soft_wrap=True)

DbOption = Annotated[Optional[str], typer.Option(
    "--db", help="Database URL (sqlite:///PATH, a file path, or postgresql://...); "
                 "default: $CNOTRACK_DB, else the embedded SQLite database.")]


class OutputFormat(str, Enum):
    text = "text"
    json = "json"


def _version(value: bool) -> None:
    if value:
        out.print(f"cnotrack {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
) -> None:
    """cnotrack: capture, evaluate and report CNO cohorts."""


def problems_table(problems: list[Problem]) -> Table:
    """The problems as a table; every cell is printed literally (a ``[lesions]`` in a file name
    or a ``[240, 120]`` in a message is text, not Rich markup)."""
    table = Table(title=f"{len(problems)} problem{'s' if len(problems) != 1 else ''}", show_lines=False)
    for column in ("file", "row", "column", "value", "problem"):
        table.add_column(column, overflow="fold")
    for p in problems:
        table.add_row(Text(p.table), Text("" if p.row is None else str(p.row)), Text(p.column or ""),
                      Text("" if p.value is None else p.value), Text(p.message))
    return table


@app.command()
def validate(
    dataset: Annotated[Path, typer.Argument(help="A folder of CSV files or an .xlsx workbook.")],
    format: Annotated[OutputFormat, typer.Option("--format", help="text or json.")] = OutputFormat.text,
    keep_extra: Annotated[bool, typer.Option("--keep-extra", help="Accept unknown columns as extra attributes.")] = False,
) -> None:
    """Check a dataset against the exchange format and list every problem (exit 1 if any)."""
    from .exchange import check_dataset

    problems = check_dataset(dataset, keep_extra=keep_extra)
    if format is OutputFormat.json:
        out.print_json(json.dumps({"dataset": str(dataset), "valid": not problems,
                                   "problems": [p.as_dict() for p in problems]}))
    elif problems:
        out.print(problems_table(problems))
        out.print(f"{dataset}: {len(problems)} problem(s); fix them and run validate again.", markup=False)
    else:
        out.print(f"{dataset}: valid.", markup=False)
    if problems:
        raise typer.Exit(1)


@app.command("init-db")
def init_db(db: DbOption = None) -> None:
    """Create an empty cnotrack database (or bring an existing one to the newest schema)."""
    from .store import open_store
    from .store.database import _redact, resolve_database_url

    with open_store(db, create=True) as store:
        with store.engine.connect() as conn:
            revision = conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
    out.print(f"The cnotrack database at {_redact(resolve_database_url(db))} is ready (schema revision {revision}).",
              markup=False, soft_wrap=True)


@app.command("import")
def import_(
    dataset: Annotated[Path, typer.Argument(help="A folder of CSV files or an .xlsx workbook.")],
    db: DbOption = None,
    keep_extra: Annotated[bool, typer.Option("--keep-extra", help="Keep unknown columns as extra attributes.")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show what the import would add and change, "
                                                           "and write nothing.")] = False,
) -> None:
    """Import a dataset into the database: all or nothing, and importing twice equals once.

    Columns a file does not have keep their stored values; an empty cell in a column it has
    clears the value. The database is created if it does not exist (not with --dry-run)."""
    from .exchange import load_dataset

    import_and_show(load_dataset(dataset, keep_extra=keep_extra), db, dry_run=dry_run)


def import_and_show(dataset, db: str | None, *, dry_run: bool, holds: str = "this dataset") -> None:
    """Import ``dataset`` (or, with ``dry_run``, plan it against an existing database) and print
    the plan: what ``cnotrack import`` and ``cnotrack redcap import`` both do with what they read."""
    from .store import import_dataset, open_store, plan_import

    if dry_run:
        with open_store(db, create=False) as store:
            plan = plan_import(dataset, store)
        _print_plan(plan, f"Would import {plan.source} (dry run: nothing was written)")
        if not plan.changed:
            out.print(f"Nothing would change: the database already holds {holds}.")
        return
    with open_store(db, create=True) as store:
        report = import_dataset(dataset, store)
    _print_plan(report.plan, f"Imported {report.source}")
    if not report.changed:
        out.print(f"Nothing changed: the database already holds {holds}.")


def _print_plan(plan, title: str) -> None:
    """Per table: rows added, changed (with the columns that change) and unchanged."""
    table = Table(title=Text(title))
    for column in ("table", "added", "changed", "unchanged", "columns changed"):
        table.add_column(column, justify="left" if column in ("table", "columns changed") else "right",
                         overflow="fold")
    for name, t in plan.tables.items():
        changed = ", ".join(f"{c} ({n})" for c, n in t.columns.items())
        if t.restored:
            changed = f"{t.restored} deleted restored" + (f"; {changed}" if changed else "")
        table.add_row(Text(name), str(t.added), str(t.changed), str(t.unchanged), Text(changed))
    out.print(table)
    kept = {name: t.kept for name, t in plan.tables.items() if t.kept}
    for name, columns in kept.items():
        out.print(Text(f"{name}: not in the file, kept as stored: {', '.join(columns)}"), soft_wrap=True)


class BundleType(str, Enum):
    collection = "collection"
    transaction = "transaction"


@app.command()
def export(
    target: Annotated[Optional[Path], typer.Argument(help="A folder for CSV files, or FILE.xlsx.")] = None,
    redcap: Annotated[Optional[Path], typer.Option(
        "--redcap", help="Write the records as a REDCap Data Import Tool CSV for the project of "
                         "`cnotrack redcap dictionary`.")] = None,
    fhir: Annotated[Optional[Path], typer.Option(
        "--fhir", help="Write a FHIR R4 (4.0.1) Bundle, OUT.json (docs/interoperability.md).")] = None,
    bundle: Annotated[BundleType, typer.Option(
        "--bundle", help="The FHIR Bundle's type: collection, or transaction (each entry a PUT).")] = BundleType.collection,
    omop: Annotated[Optional[Path], typer.Option(
        "--omop", help="Write the OMOP CDM v5.4 tables as CSV files into this folder.")] = None,
    vocabulary: Annotated[Optional[Path], typer.Option(
        "--vocabulary", help="With --omop: an Athena vocabulary download that resolves concepts "
                             "(without it only the verified concepts are written, others are 0).")] = None,
    load: Annotated[Optional[str], typer.Option(
        "--load", help="With --omop: also create the CDM schema and load it: duckdb:FILE or postgresql://...")] = None,
    ddl: Annotated[Optional[Path], typer.Option(
        "--ddl", help="With --load: the folder of the official OHDSI CDM v5.4 DDL files for the database "
                      "(OMOPCDM_<dialect>_5.4_*.sql; cnotrack does not ship them).")] = None,
    accept_problems: Annotated[bool, typer.Option(
        "--accept-problems", help="With --omop: write and load even though some patients or values "
                                  "cannot be exported (each is listed).")] = False,
    db: DbOption = None,
) -> None:
    """Export the database: in the exchange format, as REDCap records, as FHIR or as OMOP
    (deterministic: the same data gives the same bytes). Any of them, several at once."""
    from .exchange import export_dataset
    from .store import open_store, read_store

    if (vocabulary or load or ddl or accept_problems) and omop is None:
        raise CnotrackError("export: --vocabulary, --load, --ddl and --accept-problems go with --omop FOLDER")
    if target is None and redcap is None and fhir is None and omop is None:
        raise CnotrackError("export: give TARGET (a folder or FILE.xlsx), --redcap FILE.csv, --fhir FILE.json "
                            "or --omop FOLDER (or several)")
    if load and ddl is None:
        raise CnotrackError("export: --load needs --ddl DIR, the folder of the official OHDSI CDM v5.4 DDL files "
                            "(OMOPCDM_duckdb_5.4_ddl.sql, ... or OMOPCDM_postgresql_5.4_ddl.sql, ...)")
    with open_store(db, create=False) as store:
        dataset = read_store(store)
    if target is not None:
        out.print(f"Wrote {export_dataset(dataset, target)}", markup=False, soft_wrap=True)
    if redcap is not None:
        from .interop.redcap.export import export_redcap

        out.print(f"Wrote {export_redcap(dataset, redcap)}", markup=False, soft_wrap=True)
    if fhir is not None:
        from .interop.fhir import write_fhir

        out.print(f"Wrote {write_fhir(dataset, fhir, bundle_type=bundle.value)}", markup=False, soft_wrap=True)
    if omop is not None:
        _export_omop(dataset, omop, vocabulary=vocabulary, load=load, ddl=ddl, accept_problems=accept_problems)


def _export_omop(dataset, folder: Path, *, vocabulary, load, ddl, accept_problems: bool) -> None:
    from .interop.omop import load_omop, write_omop
    from .store.label import database_label, path_label

    export = write_omop(dataset, folder, vocabulary=vocabulary)
    out.print(f"Wrote {folder}: " + ", ".join(f"{n} ({t.height})" for n, t in export.tables.items()),
              markup=False, soft_wrap=True)
    for note in export.notes:
        out.print(f"Note: {note}", markup=False, soft_wrap=True)
    if export.problems:
        err.print(problems_table(export.problems))
        if not accept_problems:
            raise CnotrackError(f"OMOP export: {len(export.problems)} patient(s) or value(s) could not be exported "
                                "(listed above; the files were written without them); fix them, or give "
                                "--accept-problems to load the export as it is")
    if load:
        loaded = load_omop(export, load, ddl_dir=ddl, vocabulary=vocabulary)
        where = f"duckdb database {path_label(load[7:])}" if load.startswith("duckdb:") else database_label(load)
        out.print(f"Loaded {sum(loaded.rows.values())} rows into {where} ({loaded.dialect}, schema "
                  f"{loaded.schema}); {loaded.foreign_keys} foreign keys hold", markup=False, soft_wrap=True)
        for note in loaded.notes:
            out.print(f"Note: {note}", markup=False, soft_wrap=True)


@app.command()
def template(
    target: Annotated[Path, typer.Argument(help="The workbook to write, FILE.xlsx.")],
) -> None:
    """Write an empty exchange-format workbook, with a sheet describing every column."""
    from .exchange import write_template

    if target.suffix.lower() != ".xlsx":
        raise CnotrackError(f"template: {target} must end in .xlsx")
    out.print(f"Wrote {write_template(target)}")


class EvalFormat(str, Enum):
    text = "text"
    json = "json"
    markdown = "markdown"


ProtocolOption = Annotated[str, typer.Option("--protocol", "-p", help="A built-in protocol name or a protocol YAML file.")]


@app.command()
def protocols() -> None:
    """List the built-in protocols."""
    from .protocols import builtin_protocols, load_protocol

    table = Table(title="Built-in protocols")
    table.add_column("name")
    table.add_column("title")
    table.add_column("endpoints", justify="right")
    for name in builtin_protocols():
        p = load_protocol(name)
        table.add_row(name, p.title, str(len(p.endpoints)))
    out.print(table)


protocol_app = typer.Typer(help="Show a protocol.", no_args_is_help=True)
app.add_typer(protocol_app, name="protocol")


def _load_protocol(name: str):
    """The protocol with its warnings (a copied protocol's dropped published values), each
    printed to stderr as ``Warning: ...``."""
    from .protocols import load_protocol_with_warnings

    definition, warnings = load_protocol_with_warnings(name)
    for warning in warnings:
        err.print(f"Warning: {warning}", markup=False)
    return definition, warnings


@protocol_app.command("show")
def protocol_show(
    name: Annotated[str, typer.Argument(help="A built-in protocol name or a protocol YAML file.")],
) -> None:
    """Print a protocol as a methods paragraph generated from its definition."""
    from .protocols import methods_paragraph

    out.print(methods_paragraph(_load_protocol(name)[0]))


@app.command("evaluate")
def evaluate_(
    dataset: Annotated[Optional[Path], typer.Argument(help="A CSV folder or .xlsx workbook; omit to use the database.")] = None,
    protocol: ProtocolOption = "pardeo2017",
    format: Annotated[EvalFormat, typer.Option("--format", help="text, json or markdown.")] = EvalFormat.text,
    db: DbOption = None,
    keep_extra: Annotated[bool, typer.Option("--keep-extra", help="Accept unknown columns as extra attributes.")] = False,
    detail: Annotated[bool, typer.Option("--detail", help="With --format json: add the rows per patient, per lesion and per diagnostic criterion.")] = False,
    detail_out: Annotated[Optional[Path], typer.Option("--detail-out", help="Write the rows per patient, per lesion and per diagnostic criterion to FILE.jsonl (JSON Lines) or FILE.parquet (with FILE.lesions.parquet and FILE.diagnostic_criteria.parquet).")] = None,
    aggregates: Annotated[Optional[Path], typer.Option("--aggregates", help="Also write what this centre may share with others to OUT.json: counts and other aggregates, never a patient row, id or date (docs/federated.md).")] = None,
    min_cell_count: Annotated[Optional[int], typer.Option("--min-cell-count", help="With --aggregates: suppress counts c with 0 < c < N, and their complements (default 5; 0 suppresses nothing).")] = None,
    centre: Annotated[Optional[str], typer.Option("--centre", help="With --aggregates: this centre's name in the file.")] = None,
) -> None:
    """Evaluate a protocol on a dataset file or on the database."""
    from .engine import evaluate
    from .exchange import load_dataset

    if detail and format is not EvalFormat.json:
        raise CnotrackError(f"--detail: the detail is part of the JSON output; add --format json (not {format.value}), "
                            "or write it to a file with --detail-out FILE.jsonl")
    if detail_out is not None:
        _check_detail_out(detail_out)
    from .cli_federated import check_aggregates_options

    check_aggregates_options(aggregates, min_cell_count, centre)
    definition, warnings = _load_protocol(protocol)
    if dataset is not None:
        if db is not None:
            raise CnotrackError("evaluate: give a dataset or --db, not both")
        data = load_dataset(dataset, keep_extra=keep_extra)
    else:
        from .store import open_store, read_store

        with open_store(db, create=False) as store:
            data = read_store(store)
    evaluation = evaluate(data, definition)
    evaluation.notes.extend(warnings)
    if detail_out is not None:
        from .render.detail import write_detail

        written = write_detail(evaluation, detail_out)
        err.print("Wrote the detail to " + ", ".join(str(p) for p in written), markup=False, soft_wrap=True)
    if aggregates is not None:
        from .cli_federated import write_centre_aggregates

        path = write_centre_aggregates(evaluation, data, aggregates, min_cell_count, centre)
        err.print(f"Wrote the aggregates to {path}", markup=False, soft_wrap=True)
    _show_evaluation(evaluation, format, detail=detail)


def _check_detail_out(path: Path) -> None:
    """``--detail-out``'s path checked before any work, the error naming the option."""
    from .render.detail import check_detail_path

    try:
        check_detail_path(path)
    except CnotrackError as error:
        raise CnotrackError(f"--detail-out {error}") from None


def _show_evaluation(evaluation, format: "EvalFormat", banner: str | None = None, *, detail: bool = False) -> None:
    from .render import evaluation_markdown, print_evaluation

    if format is EvalFormat.json:
        from .render.detail import write_evaluation_json

        # the summary carries "synthetic" and, when any patient is, its "notice"
        write_evaluation_json(evaluation, sys.stdout, detail=detail,
                              notice=evaluation.banner(banner) if banner else None)
    elif format is EvalFormat.markdown:
        sys.stdout.write(evaluation_markdown(evaluation, banner=banner, compare_published=bool(banner)))
    else:
        print_evaluation(evaluation, out, banner=banner, compare_published=bool(banner))


@app.command()
def demo(
    format: Annotated[EvalFormat, typer.Option("--format", help="text, json or markdown.")] = EvalFormat.text,
    export: Annotated[Optional[Path], typer.Option("--export", help="Write the demo dataset here (a folder or .xlsx) as a template, and stop.")] = None,
    out_dir: Annotated[Path, typer.Option("--out", help="Where to write the reports.")] = Path("cnotrack-demo"),
    db: DbOption = None,
) -> None:
    """Reproduce the seed study on the synthetic demo cohort: import, evaluate, report."""
    from .demo import DEMO_BANNER, demo_dataset, run_demo
    from .exchange import export_dataset
    from .store import open_store
    from .store.label import database_label

    if export is not None:
        path = export_dataset(demo_dataset(), export)
        out.print(f"Wrote the demo dataset to {path}. {DEMO_BANNER}")
        return
    with open_store(db) as store:
        run = run_demo(store, out_dir if format is EvalFormat.text else None)
        url = database_label(store.url)  # never the user or password of the URL
    if format is not EvalFormat.text:
        _show_evaluation(run.evaluation, format, banner=DEMO_BANNER)
        return
    _show_evaluation(run.evaluation, format, banner=DEMO_BANNER)
    changed = "imported" if run.imported.changed else "already in the database"
    out.print(f"Demo cohort {changed}: {url}", markup=False)
    for path in run.reports:
        out.print(f"Report: {path}", markup=False, soft_wrap=True)


@app.command()
def score(
    name: Annotated[str, typer.Argument(help="The instrument: jansson, nbods, pedcno, bristol, chaq or pga.")],
    inputs: Annotated[Optional[list[str]], typer.Argument(help="The inputs as key=value (see docs/instruments.md).")] = None,
    format: Annotated[OutputFormat, typer.Option("--format", help="text or json.")] = OutputFormat.text,
) -> None:
    """Score a clinical instrument from its inputs and explain the result."""
    from .instruments import parse_key_value_args
    from .instruments import score as score_instrument

    result = score_instrument(name, parse_key_value_args(inputs or []))
    if format is OutputFormat.json:
        sys.stdout.write(json.dumps(result.as_json(), indent=2, ensure_ascii=False) + "\n")
    else:
        out.print(result.to_text(), markup=False)


@app.command()
def synth(
    out_dir: Annotated[Path, typer.Option("--out", help="The folder to write the CSV files to.")],
    patients: Annotated[int, typer.Option("--patients", min=1, help="Number of patients.")] = 1000,
    seed: Annotated[int, typer.Option("--seed", help="Random seed; the same seed writes the same bytes.")] = 1,
) -> None:
    """Write a synthetic CNO registry (not real patients) as a CSV folder, for trials and benchmarks."""
    from .synth import write_registry

    folder = write_registry(patients, seed, out_dir)
    table = Table(title=f"Synthetic registry in {folder} (seed {seed}; not real patients)")
    table.add_column("table")
    table.add_column("rows", justify="right")
    for path in sorted(folder.glob("*.csv")):
        rows = path.read_bytes().count(b"\n") - 1  # the writer ends every line with \n; no cell spans lines
        table.add_row(path.stem, f"{rows:,}")
    out.print(table)


@app.command()
def report(
    dataset: Annotated[Optional[Path], typer.Argument(help="A CSV folder or .xlsx workbook; omit to use the database.")] = None,
    protocol: ProtocolOption = "pardeo2017",
    out_files: Annotated[list[Path], typer.Option("--out", help="The report to write: FILE.html, .pdf, .docx or .md; repeat for several.")] = ...,
    db: DbOption = None,
    keep_extra: Annotated[bool, typer.Option("--keep-extra", help="Accept unknown columns as extra attributes.")] = False,
) -> None:
    """Write the publication-ready report (methods, Table 1, outcomes, tests, figures, listing) of a protocol."""
    from rich.progress import Progress

    from .engine import evaluate
    from .exchange import load_dataset
    from .report import build_report, listing_files, write_report
    from .report.write import check_report_path
    from .store import open_store, read_store

    targets = [check_report_path(path, option="--out") for path in out_files]
    if dataset is not None and db is not None:
        raise CnotrackError("report: give a dataset or --db, not both")
    with Progress(console=err, transient=True) as progress:
        steps = progress.add_task("report", total=3 + len(targets))
        progress.update(steps, description="load")
        definition, warnings = _load_protocol(protocol)
        if dataset is not None:
            data = load_dataset(dataset, keep_extra=keep_extra)
        else:
            with open_store(db, create=False) as store:
                data = read_store(store)
        progress.update(steps, advance=1, description="evaluate")
        evaluation = evaluate(data, definition)
        evaluation.notes.extend(warnings)
        progress.update(steps, advance=1, description="figures")
        built = build_report(evaluation, data)
        progress.update(steps, advance=1)
        written = []
        for path in targets:
            progress.update(steps, description=f"write {path.name}")
            written.append(write_report(built, path))
            progress.update(steps, advance=1)
    for path in written:
        out.print(f"Report: {path}", markup=False, soft_wrap=True)  # a path is printed whole, as it is
        for side in listing_files(built, path):   # the full listing of a large cohort, beside the report
            out.print(f"Listing: {side}", markup=False, soft_wrap=True)


@app.command()
def serve(
    db: DbOption = None,
    host: Annotated[str, typer.Option("--host", help="The address to listen on (127.0.0.1: this machine only).")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="The port to listen on.")] = 8000,
    idle_timeout: Annotated[int, typer.Option(
        "--idle-timeout", min=1, max=720, metavar="MINUTES",
        help="End a session unused for this many minutes (sessions end after 12 hours in any case).")] = 30,
    forwarded_allow_ips: Annotated[Optional[str], typer.Option(
        "--forwarded-allow-ips", metavar="IP[,IP...]", envvar="CNOTRACK_FORWARDED_ALLOW_IPS",
        help="Believe X-Forwarded-For and X-Forwarded-Proto only from these reverse proxies (IP addresses or "
             "networks, comma-separated); default: from nobody.")] = None,
) -> None:
    """Serve the web application (pages and the JSON API under /api/v1); see docs/web.md."""
    import datetime as dt

    from .store import open_store
    from .web import serve as serve_web
    from .web.server import parse_forwarded_allow_ips

    proxies = parse_forwarded_allow_ips(forwarded_allow_ips)
    open_store(db, create=False).close()  # a mistyped --db fails here, not as an empty cohort on the web
    serve_web(db, host=host, port=port, idle_timeout=dt.timedelta(minutes=idle_timeout), forwarded_allow_ips=proxies)


from .cli_redcap import redcap_app  # noqa: E402  (the sub-command group, defined in its own module)
from .cli_federated import combine_command  # noqa: E402  (cnotrack combine, defined in its own module)

app.command("combine")(combine_command)

app.add_typer(redcap_app, name="redcap")

users_app = typer.Typer(help="Manage the users of the web application.", no_args_is_help=True)
app.add_typer(users_app, name="users")


class RoleOption(str, Enum):
    admin = "admin"
    investigator = "investigator"
    viewer = "viewer"


def _password_stdin(command: str, given: bool) -> str:
    if not given:
        raise CnotrackError(f"users {command}: give --password-stdin and pipe the password in "
                            "(a password on the command line would stay in the shell history)")
    return sys.stdin.readline().rstrip("\r\n")


PasswordStdin = Annotated[bool, typer.Option("--password-stdin", help="Read the password (at least 12 characters, "
                                                                      "not easy to guess) from standard input.")]
UserName = Annotated[str, typer.Argument(help="The user's name (in any case).")]


@users_app.command("add")
def users_add(
    username: Annotated[str, typer.Argument(help="The new user's name (letters, digits, '.', '_', '@', '-').")],
    role: Annotated[RoleOption, typer.Option("--role", help="admin, investigator or viewer.")],
    center: Annotated[Optional[str], typer.Option("--center", help="The center whose patients the user works with (required unless admin).")] = None,
    password_stdin: PasswordStdin = False,
    db: DbOption = None,
) -> None:
    """Create a user of the web application; the password is read from standard input."""
    from .store import open_store
    from .users import add_user

    password = _password_stdin("add", password_stdin)
    with open_store(db) as store:
        user = add_user(store, username, password, role.value, center)
    out.print(f"Added {user.role.value} {user.username}" + (f" of {user.center}" if user.center else ""),
              markup=False)


@users_app.command("list")
def users_list(db: DbOption = None) -> None:
    """List the users of the web application (deleted users last)."""
    from rich.markup import escape

    from .store import open_store
    from .users import list_users

    table = Table(title="Users")
    for column in ("username", "role", "center", "created", "status"):
        table.add_column(column)
    with open_store(db, create=False) as store:
        for u in list_users(store):
            table.add_row(escape(u.username), u.role.value, escape(u.center or ""), u.created_at.date().isoformat(),
                          u.status)
    out.print(table)


@users_app.command("disable")
def users_disable(username: UserName, db: DbOption = None) -> None:
    """Disable a user: they cannot log in, and their sessions end at once."""
    from .store import open_store
    from .users import set_user_disabled

    with open_store(db, create=False) as store:
        user = set_user_disabled(store, username, True)
    out.print(f"Disabled {user.username}; their sessions have ended", markup=False)


@users_app.command("enable")
def users_enable(username: UserName, db: DbOption = None) -> None:
    """Enable a disabled user again."""
    from .store import open_store
    from .users import set_user_disabled

    with open_store(db, create=False) as store:
        user = set_user_disabled(store, username, False)
    out.print(f"Enabled {user.username}", markup=False)


@users_app.command("reset-password")
def users_reset_password(username: UserName, password_stdin: PasswordStdin = False, db: DbOption = None) -> None:
    """Give a user a new password, read from standard input; their sessions end."""
    from .store import open_store
    from .users import reset_password

    password = _password_stdin("reset-password", password_stdin)
    with open_store(db, create=False) as store:
        user = reset_password(store, username, password)
    out.print(f"New password set for {user.username}; their sessions have ended", markup=False)


@users_app.command("set-role")
def users_set_role(
    username: UserName,
    role: Annotated[RoleOption, typer.Option("--role", help="admin, investigator or viewer.")],
    center: Annotated[Optional[str], typer.Option("--center", help="The center whose patients the user works with (required unless admin; default: unchanged).")] = None,
    db: DbOption = None,
) -> None:
    """Change a user's role and center."""
    from .store import open_store
    from .users import update_user

    with open_store(db, create=False) as store:
        user = update_user(store, username, role=role.value, center=center)
    out.print(f"{user.username} is now {user.role.value}" + (f" of {user.center}" if user.center else ""),
              markup=False)


@users_app.command("delete")
def users_delete(username: UserName, db: DbOption = None) -> None:
    """Delete a user: they cannot log in again and their sessions end; the name stays reserved (the audit trail names them by it)."""
    from .store import open_store
    from .users import delete_user

    with open_store(db, create=False) as store:
        user = delete_user(store, username)
    out.print(f"Deleted {user.username}; the name stays reserved for the audit trail", markup=False)


def main() -> None:
    """Entry point of the console script."""
    try:
        code = app(standalone_mode=False)
    except DatasetError as exc:
        err.print(problems_table(exc.problems))
        err.print(f"Error: {exc.source or 'dataset'}: {len(exc.problems)} problem(s); nothing was changed.",
                  markup=False)
        sys.exit(1)
    except CnotrackError as exc:
        err.print(f"Error: {exc}", markup=False, highlight=False)  # the message is text, never markup
        sys.exit(1)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        err.print("Error: aborted.")
        sys.exit(1)
    except Exception as exc:
        if hasattr(exc, "show") and hasattr(exc, "exit_code"):  # a usage error of the command line
            exc.show()
            sys.exit(exc.exit_code)
        raise
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":  # python -m cnotrack.cli ... (for example with -X importtime)
    main()
