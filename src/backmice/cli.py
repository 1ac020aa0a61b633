"""The command line: ``backmice serve | assess | interview | validate | schema | conditions | kb``,
and the operator's ``user | token | db`` (in cli_admin).

A thin Typer adapter: it reads files, calls the engine, prints through the renderers. Heavy
modules are imported inside the commands that need them, so ``backmice --help`` and a single
assessment start quickly. Bad input prints one line naming the field and exits with code 2.
"""

from __future__ import annotations

import json
import os
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from backmice import cli_admin
from backmice.errors import BackmiceError, InputError, KnowledgeBaseError

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="backmice: decision support for painful lumps of the lower back and hip. "
                       "It supports, and does not replace, a clinician's judgement.")
kb_app = typer.Typer(no_args_is_help=True, help="Inspect and check the knowledge base.")
app.add_typer(kb_app, name="kb")
app.add_typer(cli_admin.user_app, name="user")
app.add_typer(cli_admin.token_app, name="token")
app.add_typer(cli_admin.db_app, name="db")
app.add_typer(cli_admin.cds_client_app, name="cds-client")


class Format(StrEnum):
    terminal = "terminal"
    json = "json"
    markdown = "markdown"
    patient = "patient"


class Audience(StrEnum):
    patient = "patient"
    clinician = "clinician"


class ExtractFormat(StrEnum):
    terminal = "terminal"
    json = "json"
    note_nlp = "note_nlp"


class SchemaName(StrEnum):
    input = "input"
    assessment = "assessment"


def _fail(message: str, code: int = 2) -> NoReturn:
    typer.echo(f"backmice: error: {message}", err=True)
    raise typer.Exit(code)


def _kb():
    from backmice.kb.loader import default_kb

    try:
        return default_kb()
    except KnowledgeBaseError as exc:
        for problem in exc.problems:
            typer.echo(f"backmice: knowledge base: {problem}", err=True)
        raise typer.Exit(3) from None


def _read_text(path: str) -> str:
    if path == "-":
        return sys.stdin.read()
    p = Path(path)
    if not p.exists():
        _fail(f"{path}: no such file")
    if p.is_dir():
        _fail(f"{path}: is a directory, expected a file")
    try:
        return p.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        _fail(f"{path}: not UTF-8 text")


def _console():
    from rich.console import Console

    return Console(soft_wrap=False)


@app.command()
def assess(
    case: Annotated[str, typer.Argument(help="A case file (JSON), or - for standard input.")],
    format: Annotated[Format, typer.Option("--format", "-f", help="Output format.")]
    = Format.terminal,
    setting: Annotated[str | None, typer.Option(help="Care setting: primary_care, "
                                                "spine_pain_clinic or dermatology_surgery.")]
    = None,
) -> None:
    """Assess one case: the case format (one lump) or a patient document with many lumps."""
    from backmice.web.assessing import assess_text

    kb = _kb()
    try:
        done = assess_text(kb, _read_text(case), setting=setting)
    except InputError as exc:
        _fail(str(exc))
    result = done.result
    if format is Format.json:
        typer.echo(json.dumps(done.document, indent=2, ensure_ascii=False))
    elif format is Format.markdown:
        from backmice.render.note import clinician_note

        typer.echo(clinician_note(kb, result))
    elif format is Format.patient:
        from backmice.render.patient import patient_summary

        typer.echo(patient_summary(kb, result))
    else:
        from backmice.render.terminal import patient_view

        _console().print(patient_view(result))


@app.command()
def extract(
    note: Annotated[str, typer.Argument(help="A clinical note (a text file), or - for standard "
                                        "input.")],
    format: Annotated[ExtractFormat, typer.Option("--format", "-f", help="terminal: the "
                      "findings with the phrase behind each; json: {findings, mentions}; "
                      "note_nlp: OMOP CDM 5.4 NOTE_NLP rows, one JSON object a line.")]
    = ExtractFormat.terminal,
    note_id: Annotated[int, typer.Option(help="note_id of the NOTE_NLP rows.")] = 0,
) -> None:
    """Read a clinical note into findings, with negation, certainty, sizes and sites."""
    from backmice.cli_extract import print_extraction

    kb = _kb()
    try:
        print_extraction(kb, _read_text(note), format.value, note_id=note_id)
    except InputError as exc:
        _fail(str(exc))


@app.command()
def validate(
    cases: Annotated[str, typer.Argument(help="A JSON Lines file of cases (case-format.md).")],
    json_out: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    later_tests: Annotated[bool, typer.Option("--later-tests", help="Score the second pass, "
                                              "with later test results added.")] = False,
    setting: Annotated[str | None, typer.Option(help="Care setting for every case.")] = None,
    no_interview: Annotated[bool, typer.Option("--no-interview", help="Skip the interview "
                                               "replay (faster).")] = False,
    folds: Annotated[int, typer.Option(
        "--folds", min=0, max=50,
        help="Cross-validate: refit the knowledge base without each fold's sources and score "
             "that fold out of sample (0: score the knowledge base as it is).")] = 0,
    plot: Annotated[Path | None, typer.Option(
        "--plot", help="Draw the reliability diagram and the confusion matrix "
                       "(FILE.svg or FILE.png).")] = None,
    case_mix_priors: Annotated[bool, typer.Option(
        "--case-mix-priors", help="Experiment, with --folds: also fit the priors to the "
                                  "training folds' mix of diagnoses (never used in "
                                  "practice: published cases are not a clinic's mix).")] = False,
    from_text: Annotated[bool, typer.Option("--from-text", help="Findings read from each "
                                            "case's vignette (or note) alone.")] = False,
    with_text: Annotated[bool, typer.Option("--with-text", help="The vignette (or note) read "
                                            "under the structured findings (they win).")]
    = False,
) -> None:
    """Score the engine on a file of cases: the metrics of case-format.md with 95% intervals
    over sources, confusion matrices and a calibration table."""
    from backmice.cli_validation import run_validate
    from backmice.interop.notes import TextMode

    if from_text and with_text:
        _fail("--from-text and --with-text: choose one")
    mode = (TextMode.FROM_TEXT if from_text else TextMode.WITH_TEXT if with_text
            else TextMode.NOTE)
    kb = _kb()
    text = _read_text(cases)
    try:
        run_validate(kb, text, name=cases, json_out=json_out, later=later_tests,
                     setting=setting, interview=not no_interview, folds=folds, plot=plot,
                     console=_console(), case_mix_priors=case_mix_priors, text_mode=mode)
    except InputError as exc:
        _fail(str(exc))


@app.command()
def interview(
    audience: Annotated[Audience, typer.Option(help="Wording of questions and result.")]
    = Audience.patient,
    setting: Annotated[str | None, typer.Option(help="Care setting.")] = None,
) -> None:
    """The adaptive interview in the terminal: one question at a time."""
    from backmice.cli_interview import run_interview

    run_interview(_kb(), audience=audience.value, setting=setting)


@app.command()
def schema(
    which: Annotated[SchemaName, typer.Argument(help="input: the patient document; "
                                                "assessment: the JSON output.")]
    = SchemaName.input,
) -> None:
    """Print a JSON Schema: the native input model, or the assessment document."""
    if which is SchemaName.assessment:
        from backmice.render.json_doc import json_schema

        typer.echo(json.dumps(json_schema(), indent=2))
    else:
        from backmice.interop.schema import input_schema

        typer.echo(json.dumps(input_schema(_kb()), indent=2))


@app.command()
def conditions() -> None:
    """List the conditions of the knowledge base."""
    from rich.table import Table

    kb = _kb()
    table = Table(title=f"Conditions (knowledge base {kb.version})")
    for col in ("id", "name", "role", "back-mouse family"):
        table.add_column(col)
    for c in kb.conditions.values():
        table.add_row(c.id, c.name, c.role.value, "yes" if c.back_mouse_family else "")
    _console().print(table)


LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.", min=1, max=65535)] = 8000,
    data_dir: Annotated[Path | None, typer.Option(
        help="Folder for the embedded SQLite database [env BACKMICE_DATA_DIR; default ./data].")]
    = None,
    database_url: Annotated[str | None, typer.Option(
        help="SQLAlchemy URL, e.g. postgresql+psycopg://user@host/db "
             "[env BACKMICE_DATABASE_URL; default SQLite in the data folder].")] = None,
    workers: Annotated[int, typer.Option(
        help="Worker processes (PostgreSQL only; SQLite is served by one).", min=1, max=64)] = 1,
) -> None:
    """Start the web app (clinician workspace, patient interview, condition pages, JSON API)."""
    from backmice.config import Settings
    from backmice.web.app import create_app
    from backmice.web.server import serve as serve_app
    from backmice.web.server import serve_workers

    try:
        settings = Settings.load(data_dir=data_dir, database_url=database_url)
    except InputError as exc:
        _fail(str(exc))
    from backmice.storage import open_store

    kb = _kb()
    try:  # open (and migrate) the database first, so a bad URL is one clear line
        store = open_store(settings.database_url)
    except BackmiceError as exc:
        _fail(str(exc))
    if host not in LOOPBACK_HOSTS:
        missing = []
        if settings.secret_key_generated:
            missing.append("a secret key (set BACKMICE_SECRET_KEY to 32 or more random "
                           "characters)")
        if not store.accounts.admin_exists():
            missing.append("an admin user (backmice user create NAME --admin)")
        if missing:
            store.close()
            _fail(f"refusing to listen on {host}, beyond this machine, without "
                  + " and ".join(missing))
    where = "SQLite in " + str(settings.data_dir) if settings.is_sqlite else "the database URL"
    if workers > 1:
        store.close()
        if settings.is_sqlite:
            _fail("--workers above 1 needs PostgreSQL: SQLite's writes go through one "
                  "process (set --database-url or BACKMICE_DATABASE_URL)")
        # each worker loads the settings from the environment: the same database and the same
        # secret key (one made up here is shared, so a login holds on every worker)
        os.environ.update({"BACKMICE_DATABASE_URL": settings.database_url,
                           "BACKMICE_DATA_DIR": str(settings.data_dir),
                           "BACKMICE_SECRET_KEY": settings.secret_key})
        typer.echo(f"backmice: serving on http://{host}:{port} with {workers} workers "
                   f"(data: {where})", err=True)
        serve_workers(host=host, port=port, workers=workers)
        return
    typer.echo(f"backmice: serving on http://{host}:{port} (data: {where})", err=True)
    try:
        serve_app(create_app(settings, kb=kb, store=store), host=host, port=port)
    finally:
        store.close()


@kb_app.command("check")
def kb_check(
    path: Annotated[Path | None, typer.Option(help="A working copy of kb/data to check "
                                              "instead of the packaged one.")] = None,
    nlp_path: Annotated[Path | None, typer.Option(help="A working copy of nlp/data (the rules "
                                                  "that read clinical notes) to check.")]
    = None,
) -> None:
    """Validate the knowledge base and the note-reading rules; print each problem with its file
    and path."""
    from backmice.kb.loader import load_kb
    from backmice.nlp.rules import check_rules, load_rules

    problems = check_rules(nlp_path)
    try:
        kb = load_kb(path)
    except KnowledgeBaseError as exc:
        problems = [*exc.problems, *problems]
        kb = None
    if problems or kb is None:
        for problem in problems:
            typer.echo(problem)
        typer.echo(f"{len(problems)} problem(s) found.", err=True)
        raise typer.Exit(1) from None
    n_lik = sum(len(lf.findings) for lf in kb.likelihoods.values())
    n_rules = len(load_rules(nlp_path).compiled_targets)
    typer.echo(f"knowledge base {kb.version}: OK ({len(kb.conditions)} conditions, "
               f"{len(kb.findings)} findings, {n_lik} specific likelihoods, "
               f"{len(kb.red_flags)} red flags, {len(kb.treatments)} treatments, "
               f"{len(kb.citations)} citations); note-reading rules: OK ({n_rules} targets)")


@kb_app.command("fit")
def kb_fit(
    corpus: Annotated[str, typer.Argument(help="The corpus of real published cases "
                                          "(JSON Lines, case-format.md).")]
    = "corpus/published.jsonl",
    path: Annotated[Path | None, typer.Option(help="The kb/data folder to write (default: "
                                              "the package's own).")] = None,
    folds: Annotated[int, typer.Option(min=2, max=20, help="Folds (by source) for choosing "
                                       "the weight and pseudo-count scale.")] = 5,
    on: Annotated[str | None, typer.Option(help="Date to record (YYYY-MM-DD; default "
                                           "today).")] = None,
) -> None:
    """Refit the likelihoods on a corpus: each expert number is the prior of a Beta or Dirichlet
    update with the corpus counts; the YAML keeps expert value, counts and result."""
    import datetime as dt
    from importlib import resources

    from backmice.cli_validation import run_fit
    from backmice.kb.loader import load_kb

    folder = path or Path(str(resources.files("backmice.kb").joinpath("data")))
    try:
        day = dt.date.fromisoformat(on) if on else dt.date.today()
    except ValueError:
        _fail(f"--on: {on!r} is not a date (allowed: YYYY-MM-DD)")
    try:
        kb = load_kb(folder)
        typer.echo(run_fit(kb, _read_text(corpus), name=corpus, folder=folder, on=day,
                           folds=folds))
    except KnowledgeBaseError as exc:
        for problem in exc.problems:
            typer.echo(f"backmice: knowledge base: {problem}", err=True)
        raise typer.Exit(3) from None
    except InputError as exc:
        _fail(str(exc))


@kb_app.command("show")
def kb_show(condition: Annotated[str, typer.Argument(help="A condition id (see "
                                                     "`backmice conditions`).")]) -> None:
    """Print one condition's page: what it is, causes, diagnosis, treatment, references."""
    from backmice.render.condition_page import condition_markdown

    kb = _kb()
    if condition not in kb.conditions:
        _fail(f"condition: unknown id {condition!r} (allowed: {', '.join(kb.conditions)})")
    from rich.markdown import Markdown

    _console().print(Markdown(condition_markdown(kb, condition)))


def main() -> None:
    try:
        app()
    except BackmiceError as exc:  # anything that escaped a command: one line, no traceback
        typer.echo(f"backmice: error: {exc}", err=True)
        sys.exit(2)
