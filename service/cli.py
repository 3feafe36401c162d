"""The ``veidlapas`` command line: serve the API, render or validate a document from a JSON file.

Errors are the same coded, translated problems the API returns; invalid data exits with status 1.
"""

from __future__ import annotations

import json
import sys
from contextlib import contextmanager
from pathlib import Path

import click
from marshmallow import ValidationError
from rich.console import Console
from rich.table import Table

from schemas.catalogue import CatalogueError
from schemas.errors import flatten, json_pointer, problem
from schemas.fields import Month
from schemas.problem_groups import group_problems
from service import accounts, jobs, submissions
from service.auth import DEFAULT_TOKEN_DAYS, ROLES, Principal
from service.config import SettingsError, from_environment, upload_limits
from service.documents import KINDS, DocumentKind, Templates
from service.documents.docx import TemplateDefect
from service.documents.labels import LabelError
from service.documents.pdf import ConversionError, convert_cold
from service.files import write_atomically
from service.forms.uploads import UploadRejected
from service.i18n import LANGUAGES, MissingCatalog, translate
from service.jsondata import InvalidJson, parse_json
from service.store import KeyFileError, database, sealer

EXIT_INVALID = 1
EXIT_SETUP = 2
DEMO_USER = "demo-admin"
#: The demo municipality's people for the web pages, besides its administrator: username, role.
DEMO_PEOPLE = (("demo-social", "social_worker"), ("demo-finance", "finance_officer"))
MAX_FILE_BYTES = 10_000_000

kind_argument = click.argument("kind", type=click.Choice(sorted(KINDS)))
file_argument = click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
lang_option = click.option(
    "--lang", type=click.Choice(LANGUAGES), default="lv", show_default=True, help="Message language."
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Veidlapas: Latvian case documents for community-based social services."""


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--threads", default=4, show_default=True, type=int)
def serve(host: str, port: int, threads: int) -> None:
    """Serve the pages and the API (waitress; its own error answers are problem+json too)."""
    from service import create_app
    from service.server import serve as serve_app

    app = _setup(create_app)
    base = f"http://{host}:{port}"
    sample = Path(__file__).resolve().parent.parent / "samples" / "support-plan-adult-support-person.json"
    demo_token = Path(app.instance_path) / "demo-token"
    demo_password = Path(app.instance_path) / "demo-password"
    click.echo(f"Veidlapas listens on {base}  (API docs: {base}/docs)")
    if demo_password.exists():
        click.echo(f"Pages: {base}/ (demo-social, demo-finance, demo-admin; password in {demo_password})")
    click.echo("Try:")
    click.echo(
        f"  curl -sS -X POST {base}/api/v1/documents/support-plan -H 'Content-Type: application/json' \\\n"
        f'       -H "Authorization: Bearer $(cat {demo_token})" \\\n'
        f"       --data-binary @{sample} -o plan.docx"
    )
    resume = getattr(jobs.backend(app), "resume", None)
    if resume and (resumed := resume()):
        click.echo(f"Resuming {len(resumed)} unfinished job(s).")
    serve_app(app, host=host, port=port, threads=threads)


@main.command()
@kind_argument
@file_argument
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="The file to write.")
@click.option(
    "--format", "output_format", type=click.Choice(["docx", "pdf"]), default="docx", show_default=True
)
@lang_option
def render(kind: str, file: Path, output: Path | None, output_format: str, lang: str) -> None:
    """Render KIND from the case data in FILE (JSON) to a DOCX or PDF."""
    document_kind = KINDS[kind]
    values = _load(document_kind, file, lang)
    templates = _setup(lambda: Templates.of(from_environment()["TEMPLATES_DIR"]))
    document = templates.render(document_kind, values)
    if output_format == "pdf":
        try:
            document = convert_cold(document)
        except ConversionError as exc:
            click.echo(f"PDF conversion failed: {exc}", err=True)
            sys.exit(EXIT_SETUP)
    target = output or Path(f"{document_kind.file_name(values)}.{output_format}")
    write_atomically(target, document)
    click.echo(f"{target} ({len(document):,} B)")


@main.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@lang_option
def extract(file: Path, lang: str) -> None:
    """Read a filled delivery-act form (PDF or DOCX), check it, and print the act as JSON."""
    try:
        form = submissions.read_upload(file.read_bytes(), upload_limits(from_environment()))
    except UploadRejected as exc:
        click.echo(f"{file}: {translate(exc.problem, lang)[1]}", err=True)
        sys.exit(EXIT_INVALID)
    try:
        submissions.validate(form)
    except ValidationError as exc:
        problems = flatten(exc.messages)
        _print_problems(file, problems, lang, [submissions.field_of(form, path) for path, _ in problems])
        sys.exit(EXIT_INVALID)
    click.echo(json.dumps(form.act, ensure_ascii=False, indent=2))


@main.command()
@kind_argument
@file_argument
@lang_option
def validate(kind: str, file: Path, lang: str) -> None:
    """Check the case data in FILE (JSON) against KIND's schema and rules."""
    _load(KINDS[kind], file, lang)
    click.echo("Dati ir derīgi." if lang == "lv" else "The data are valid.")


@main.command()
@click.option("--project", required=True, help="Project code, e.g. IBM.")
@click.option("--municipality", required=True, help="Municipality code, e.g. bauska.")
@click.option("--period", required=True, help="2020-09 (a month) or 2020-07/2020-09 (a quarter).")
@click.option("--date", help="The request's date (YYYY-MM-DD); today when left out.")
@click.option("--number", help="The request's number; KP-<prefix>-YYYY/MM when left out.")
@click.option("--pdf/--no-pdf", default=True, show_default=True, help="PDFs and pack.pdf.")
@click.option("--from-acts", is_flag=True, help="Take the lines from the accepted delivery acts.")
@click.argument("files", nargs=-1, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path))
@lang_option
def pack(files: tuple[Path, ...], output: Path, lang: str, **options) -> None:
    """Make a reimbursement pack from FILES: an XLSX (or lines and agreements CSVs, or a JSON order)."""
    from service import create_app
    from service.packs.command import PackCommandError, make_pack

    app = _setup(create_app)
    try:
        written = make_pack(app, files, output, options)
    except PackCommandError as failure:
        if failure.problems:
            _print_problems(failure.source, failure.problems, lang, failure.places)
        else:
            click.echo(f"{failure.source}: {translate(failure.problem, lang)[1]}", err=True)
        sys.exit(EXIT_INVALID)
    click.echo(f"{written} ({written.stat().st_size:,} B)")


@main.command()
@click.option("--concurrency", default=2, show_default=True, type=click.IntRange(1, 64))
@click.option("--loglevel", default="INFO", show_default=True)
@click.option("--name", default="veidlapas@%h", show_default=True, help="Worker name (unique per machine).")
def worker(concurrency: int, loglevel: str, name: str) -> None:
    """Start a Celery worker for pack jobs (VEIDLAPAS_JOBS=celery: broker, shared database and folder)."""
    from service import create_app
    from service.jobs import celery_app
    from service.jobs.runner import Runner

    app = _setup(create_app)
    celery_app.runner = Runner.from_settings(jobs.settings(app))
    celery = celery_app.make_celery(app.config)
    celery.worker_main(
        [
            "worker",
            f"--concurrency={concurrency}",
            f"--loglevel={loglevel}",
            "-Q",
            celery_app.QUEUE,
            "--without-gossip",
            "--without-mingle",
            "--hostname",
            name,
        ]
    )


@main.group()
def users() -> None:
    """Users and their API tokens (a token is shown once; only its hash is kept)."""


days_option = click.option(
    "--days",
    default=DEFAULT_TOKEN_DAYS,
    show_default=True,
    type=click.IntRange(1, 3650),
    help="Days until the token expires.",
)


@users.command("add")
@click.argument("username")
@click.option("--role", required=True, type=click.Choice(ROLES))
@click.option("--municipality", required=True, help="Municipality code, e.g. bauska.")
@days_option
def add_user(username: str, role: str, municipality: str, days: int) -> None:
    """Add a user and print their first token."""
    with _accounts() as session:
        _, token = accounts.add_user(session, username, role, municipality, days=days)
    click.echo(f"{username}: {role}, {municipality}\ntoken (shown once): {token}")


@users.command("list")
def list_users() -> None:
    """Every user, their role, municipality and live tokens."""
    with _accounts() as session:
        for user, live in accounts.users(session):
            state = "disabled" if user.disabled_at else f"{live} live token(s)"
            click.echo(f"{user.username:<30} {user.role:<16} {user.municipality:<20} {state}")


@users.command("token")
@click.argument("username")
@days_option
@click.option("--label", default="", help="What the token is for.")
def token(username: str, days: int, label: str) -> None:
    """Issue another token for USERNAME and print it."""
    with _accounts() as session:
        issued = accounts.new_token(session, username, days=days, label=label)
    click.echo(f"token (shown once): {issued}")


@users.command("revoke")
@click.argument("username")
def revoke(username: str) -> None:
    """Revoke every token of USERNAME."""
    with _accounts() as session:
        count = accounts.revoke(session, username)
    click.echo(f"{username}: {count} token(s) revoked")


@users.command("link")
@click.argument("username")
@click.option(
    "--base-url",
    default="http://127.0.0.1:8000/",
    show_default=True,
    help="Where people open the service (the link starts with it).",
)
def link(username: str, base_url: str) -> None:
    """Print a one-time link for USERNAME to set their web password (valid for 72 hours, once; a new
    link replaces the one before). The way to the first administrator's password: there is no mail."""
    from service import signin

    with _accounts() as session:
        user = accounts.user_named(session, username)
        if user.disabled_at is not None:
            raise accounts.AccountError(f"{username} is disabled", problem("user.disabled"))
        operator = Principal(
            accounts.OPERATOR.id, accounts.OPERATOR.username, "administrator", user.municipality
        )
        code = signin.issue_link(session, operator, user)
    click.echo(f"{base_url.rstrip('/')}/parole?kods={code}")
    click.echo(f"{username}: open it within {signin.LINK_HOURS} hours to set the password; it works once.")


@users.command("demo")
def demo() -> None:
    """Once: a demo administrator (municipality bauska), its token kept in the instance folder; and, for
    the web pages, a social worker and a finance officer beside it, all three with one random password
    kept in the instance folder too (``demo-password``). Run again, it changes nothing.

    Prints where the token and the password are, never them: ``make run`` runs this where the server's
    output (the logs) goes."""
    import secrets

    from service import create_app, signin

    app = _setup(create_app)
    keep = Path(app.instance_path) / "demo-token"
    secret = Path(app.instance_path) / "demo-password"
    if not secret.exists():
        write_atomically(secret, secrets.token_urlsafe(18).encode())
        secret.chmod(0o600)
    password = secret.read_text(encoding="utf-8").strip()
    with database(app).session() as session:
        if not any(user.username == DEMO_USER for user, _ in accounts.users(session)):
            _, issued = accounts.add_user(session, DEMO_USER, "administrator", "bauska", days=365)
            write_atomically(keep, issued.encode())
            keep.chmod(0o600)
        known = {user.username: user for user, _ in accounts.users(session)}
        for username, role in DEMO_PEOPLE:
            if username not in known:
                known[username], _ = accounts.add_user(session, username, role, "bauska", first_token=False)
        for username in (DEMO_USER, *(name for name, _ in DEMO_PEOPLE)):
            user = known[username]
            if not _opens(user.password_hash, password):
                user.password_hash = signin.HASHER.hash(password)
    if keep.exists():
        click.echo(f"Demo administrator {DEMO_USER} (bauska): its token is in {keep} (only you may read it).")
    names = ", ".join([DEMO_USER, *(name for name, _ in DEMO_PEOPLE)])
    click.echo(f"Web pages: sign in as {names} with the password in {secret} (only you may read it).")


def _opens(stored: str | None, password: str) -> bool:
    """Whether ``password`` is the one ``stored`` (an argon2 hash, or none) was made from."""
    from argon2.exceptions import InvalidHashError, VerificationError

    from service import signin

    if stored is None:
        return False
    try:
        return signin.HASHER.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


@main.group()
def cases() -> None:
    """Case records."""


@cases.command("demo")
def demo_cases() -> None:
    """Once: the demo administrator's cases (``users demo`` first) — a dozen clients with plans,
    revisions, agreements and a year's acts. Names nothing: prints how many clients it made."""
    from service import create_app
    from service.cases import demo as demo_data
    from service.documents import templates

    app = _setup(create_app)
    with database(app).session() as session:
        found = [user for user, _ in accounts.users(session) if user.username == DEMO_USER]
        if not found:
            click.echo("Error: no demo administrator: run `veidlapas users demo` first.", err=True)
            sys.exit(EXIT_INVALID)
        user = found[0]
        operator = Principal(user.id, user.username, user.role, user.municipality)
        made = demo_data.load(
            session, sealer(app), operator, templates(app), app.config["BUDGET_WARN_PERCENT"]
        )
    click.echo(f"Demo cases: {made} client(s) added." if made else "Demo cases: already loaded.")


@main.command()
@click.argument("client_id")
@click.option("--municipality", required=True, help="The client's municipality code, e.g. bauska.")
@click.option("--month", help="A month of the plan period to show (YYYY-MM); this month when left out.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="The file to write.")
@click.option("--json", "as_json", is_flag=True, help="JSON (as the API answers it) in place of XLSX.")
@lang_option
def budget(
    client_id: str, municipality: str, month: str | None, output: Path | None, as_json: bool, lang: str
) -> None:
    """A client's budget: planned, contracted and delivered per month and service against the plan's
    budgets, as XLSX (or JSON, printed unless --output names a file). Audited as a read of the case."""
    import getpass

    from service import audit, create_app
    from service.api.case_schemas import ClientBudgetSchema
    from service.auth import NotVisible, Scope
    from service.cases import clients
    from service.cases.budget import client_budget
    from service.cases.budget_sheet import budget_xlsx, file_name
    from service.store.case_models import Client

    app = _setup(create_app)
    try:
        first = Month().deserialize(month).start if month else None
    except ValidationError as exc:
        click.echo(f"--month: {translate(exc.messages[0], lang)[1]}", err=True)
        sys.exit(EXIT_INVALID)
    operator = Principal(0, f"cli:{getpass.getuser()}", "administrator", municipality)
    with database(app).session() as session:
        try:
            client = Scope(operator).get(session, Client, client_id)
        except NotVisible:
            missing = problem("client.not_found", municipality=municipality, client=client_id)
            click.echo(f"Error: {translate(missing, lang)[1]}", err=True)
            sys.exit(EXIT_INVALID)
        figures = client_budget(session, client.id, first, app.config["BUDGET_WARN_PERCENT"])
        audit.record(session, operator, "read", "budget", client.id)
        name = None if as_json else clients.data(sealer(app), client)["name"]
    if as_json:
        text = json.dumps(ClientBudgetSchema().dump(figures), ensure_ascii=False, indent=2)
        if output is None:
            click.echo(text)
            return
        data = text.encode("utf-8")
    else:
        data = budget_xlsx(figures, name)
    target = output or Path(file_name(client_id))
    write_atomically(target, data)
    click.echo(f"{target} ({len(data):,} B)")


@main.group()
def clients() -> None:
    """Client records."""


@clients.command("import")
@file_argument
@click.option("--municipality", required=True, help="Municipality code, e.g. bauska.")
@lang_option
def import_clients(file: Path, municipality: str, lang: str) -> None:
    """Record the clients of FILE (XLSX or CSV: the import template's sheet "Klienti") in MUNICIPALITY,
    all or none. Audited; prints how many, never who."""
    from dataclasses import replace

    from service import audit, create_app
    from service.cases import imports

    if not accounts.MUNICIPALITY.match(municipality):
        raise click.BadParameter(
            "2-40 lowercase letters, digits or '-', e.g. bauska", param_hint="--municipality"
        )
    app = _setup(create_app)
    operator = replace(accounts.OPERATOR, municipality=municipality)
    limits = upload_limits(app.config)
    with file.open("rb") as source:
        data = source.read(limits.max_bytes + 1)
    try:
        with database(app).session() as session:
            table = imports.read_clients(data, limits, file.name)
            made = imports.import_clients(session, sealer(app), operator, table)
            audit.record(session, operator, "imported", "client", detail={"count": len(made)})
    except imports.ImportRejected as rejected:
        _print_problems(file, rejected.problems, lang, rejected.places)
        sys.exit(EXIT_INVALID)
    done = "Ievadīti klienti" if lang == "lv" else "Clients imported"
    click.echo(f"{done}: {len(made)} ({municipality}).")


@main.group()
def templates() -> None:
    """A municipality's own templates: versions uploaded, listed, rolled back (as the API's
    /municipality-templates); each change audited."""


municipality_option = click.option("--municipality", required=True, help="Municipality code, e.g. bauska.")
effective_option = click.option(
    "--effective-from",
    "effective_from",
    help="In force from this day (15.09.2020. or ISO); today when left out.",
)
#: The kinds a municipality may keep its own templates of.
OWN_KINDS = sorted(name for name, kind in KINDS.items() if kind.own_templates)
own_kind_argument = click.argument("kind", type=click.Choice(OWN_KINDS))


@templates.command("list")
@municipality_option
@click.option("--kind", type=click.Choice(OWN_KINDS), help="Only this kind.")
@lang_option
def list_templates(municipality: str, kind: str | None, lang: str) -> None:
    """The municipality's own template versions of every kind (or of --kind), oldest first."""
    from service.documents import template_store

    app, _ = _municipal_operator(municipality, lang)
    today = _today()
    with database(app).session() as session:
        for name in [kind] if kind else OWN_KINDS:
            current = template_store.in_force(session, municipality, name, today)
            for version in template_store.versions(session, municipality, name):
                mark = "*" if current is not None and current.id == version.id else " "
                rolled = f"  (= v{version.rolled_back_from})" if version.rolled_back_from else ""
                click.echo(
                    f"{mark} {name:<24} v{version.number:<4} {version.effective_from:%d.%m.%Y.}  "
                    f"{version.sha256[:12]}  {version.warnings} warning(s){rolled}"
                )


@templates.command("upload")
@own_kind_argument
@file_argument
@municipality_option
@effective_option
@lang_option
def upload_template(kind: str, file: Path, municipality: str, effective_from: str | None, lang: str) -> None:
    """Check FILE (a DOCX) as the municipality's template of KIND and keep it as the next version; prints
    the repairs made with their places, or every problem with its place and exits 1, keeping nothing."""
    from service import audit
    from service.documents import template_store

    app, operator = _municipal_operator(municipality, lang)
    day = _day(effective_from, lang)
    limits = upload_limits(app.config)
    with file.open("rb") as source:
        data = source.read(limits.max_bytes + 1)
    with _versions("template", lang), database(app).session() as session:
        made, check = template_store.upload(
            session, operator, KINDS[kind], data, day, limits, app.config["TEMPLATES_DIR"]
        )
        if made is None:
            refused = {"outcome": "invalid", "detail": {"problems": len(check.problems)}}
            audit.record(session, operator, "uploaded", "template", kind, **refused)
        else:
            audit.record(
                session, operator, "uploaded", "template", f"{kind}/{made.number}", sha256=made.sha256
            )
            number = made.number
    if made is None:
        _print_found(file, check.problems, lang)
        sys.exit(EXIT_INVALID)
    if check.warnings:
        _print_found(file, check.warnings, lang)
    click.echo(f"{kind} v{number} ({municipality}), {day:%d.%m.%Y.}: {len(check.warnings)} warning(s)")


@templates.command("rollback")
@own_kind_argument
@click.argument("number", type=click.IntRange(1))
@municipality_option
@effective_option
@lang_option
def rollback_template(
    kind: str, number: int, municipality: str, effective_from: str | None, lang: str
) -> None:
    """Keep version NUMBER's content of KIND as the municipality's next version."""
    from service import audit
    from service.documents import template_store

    app, operator = _municipal_operator(municipality, lang)
    day = _day(effective_from, lang)
    with _versions("template", lang), database(app).session() as session:
        made = template_store.rollback(session, operator, KINDS[kind], number, day)
        if made is None:
            _refuse(problem("template.no_version", municipality=municipality, kind=kind, number=number), lang)
        rolled = {"sha256": made.sha256, "detail": {"from": number}}
        audit.record(session, operator, "rolled_back", "template", f"{kind}/{made.number}", **rolled)
        click.echo(f"{kind} v{made.number} = v{number} ({municipality}), {day:%d.%m.%Y.}")


@main.group()
def settings() -> None:
    """A municipality's own settings over municipalities.toml: versions set, listed, rolled back (as the
    API's /municipality-settings); each change audited."""


@settings.command("list")
@municipality_option
@lang_option
def list_settings(municipality: str, lang: str) -> None:
    """The municipality's settings versions, oldest first; * marks the one in force today."""
    from service.documents import municipal, settings_store

    app, _ = _municipal_operator(municipality, lang)
    with database(app).session() as session:
        current = municipal.settings_on(session, municipality, _today())
        for version in settings_store.versions(session, municipality):
            mark = "*" if current.version_id == version.id else " "
            rolled = f"  (= v{version.rolled_back_from})" if version.rolled_back_from else ""
            what = ", ".join(sorted(settings_store.body_of(version))) + (", logo" if version.logo else "")
            click.echo(
                f"{mark} v{version.number:<4} {version.effective_from:%d.%m.%Y.}  {version.sha256[:12]}  "
                f"{what or '-'}{rolled}"
            )


@settings.command("set")
@file_argument
@municipality_option
@lang_option
def set_settings(file: Path, municipality: str, lang: str) -> None:
    """Keep FILE (JSON, as POST /api/v1/municipality-settings takes it) as the municipality's next
    settings version; prints every problem and exits 1 otherwise."""
    from schemas.municipal_settings import SettingsSchema
    from service import audit
    from service.documents import settings_store

    app, operator = _municipal_operator(municipality, lang)
    values = _load_json(SettingsSchema(), file, lang)
    with _versions("settings", lang), database(app).session() as session:
        made = settings_store.save(session, operator, values)
        audit.record(session, operator, "saved", "settings", str(made.number), sha256=made.sha256)
        click.echo(f"{municipality}: settings v{made.number}, {made.effective_from:%d.%m.%Y.}")


@settings.command("rollback")
@click.argument("number", type=click.IntRange(1))
@municipality_option
@effective_option
@lang_option
def rollback_settings(number: int, municipality: str, effective_from: str | None, lang: str) -> None:
    """Keep settings version NUMBER's content as the municipality's next version."""
    from service import audit
    from service.documents import settings_store

    app, operator = _municipal_operator(municipality, lang)
    day = _day(effective_from, lang)
    with _versions("settings", lang), database(app).session() as session:
        made = settings_store.rollback(session, operator, number, day)
        if made is None:
            _refuse(problem("settings.no_version", municipality=municipality, number=number), lang)
        rolled = {"sha256": made.sha256, "detail": {"from": number}}
        audit.record(session, operator, "rolled_back", "settings", str(made.number), **rolled)
        click.echo(f"{municipality}: settings v{made.number} = v{number}, {day:%d.%m.%Y.}")


@main.group()
def keys() -> None:
    """The key that seals personal data."""


@keys.command("rotate")
def rotate_keys() -> None:
    """Seal everything again with a new key and retire the old one. Stop the service first: a running
    service still holds the old key. Prints counts and where the key file is, never a key."""
    from service import create_app
    from service.cases import keys as data_keys
    from service.store.sealing import key_file_path

    app = _setup(create_app)
    path = key_file_path(app.instance_path, app.config.get("DATA_KEY_FILE"))
    try:
        counts = data_keys.rotate(database(app), path)
    except KeyFileError as exc:
        click.echo(f"Cannot rotate: {exc}", err=True)
        sys.exit(EXIT_SETUP)
    for table, count in counts.items():
        click.echo(f"{table}: {count} value(s) sealed again")
    click.echo(f"The new key is in {path}. Back it up now (docs/security.md), then delete {path}.previous.")


@main.command()
@click.option(
    "--years", type=int, help="Cases closed longer ago than this (default: VEIDLAPAS_RETENTION_YEARS)."
)
@click.option("--municipality", help="Only this municipality's cases.")
@click.option("--dry-run", is_flag=True, help="Only count what would be deleted.")
def retention(years: int | None, municipality: str | None, dry_run: bool) -> None:
    """Delete closed cases older than the retention period: the client, plans, versions, signed copies,
    agreements and acts. Audited; prints counts, never names."""
    import datetime as dt

    from service import audit, create_app
    from service.cases import export

    app = _setup(create_app)
    years = years or app.config["RETENTION_YEARS"]
    with database(app).session() as session:
        found = export.expired(session, municipality, years, dt.date.today())
        if dry_run:
            click.echo(f"{len(found)} closed case(s) older than {years} years would be deleted.")
            return
        acts = 0
        for client in found:
            operator = Principal(0, "retention", "administrator", client.municipality)
            audit.record(session, operator, "deleted", "client", client.id, detail={"retention_years": years})
            acts += export.forget(session, client)
    click.echo(f"Deleted {len(found)} closed case(s) older than {years} years, with {acts} act(s).")


@contextmanager
def _accounts():
    """A database session for account commands; account problems exit 1 with their message."""
    from service import create_app

    app = _setup(create_app)
    try:
        with database(app).session() as session:
            yield session
    except accounts.AccountError as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(EXIT_INVALID)


def _load(kind: DocumentKind, file: Path, lang: str) -> dict:
    """The file's data loaded by the kind's schema; prints every problem and exits 1 otherwise."""
    return _load_json(kind.schema(), file, lang)


def _load_json(schema, file: Path, lang: str) -> dict:
    """The file's JSON loaded by ``schema``; prints every problem and exits 1 otherwise."""
    try:
        if file.stat().st_size > MAX_FILE_BYTES:
            raise click.ClickException(f"{file} is larger than {MAX_FILE_BYTES:,} bytes")
        values = schema.load(parse_json(file.read_bytes().decode("utf-8"), max_depth=20))
    except UnicodeDecodeError:
        click.echo(f"{file}: {translate(problem('body.encoding'), lang)[1]}", err=True)
        sys.exit(EXIT_INVALID)
    except InvalidJson as exc:
        where = f"{json_pointer(exc.path)}: " if exc.path else ""
        click.echo(f"{file}: {where}{translate(exc.problem, lang)[1]}", err=True)
        sys.exit(EXIT_INVALID)
    except ValidationError as exc:
        _print_problems(file, flatten(exc.messages), lang)
        sys.exit(EXIT_INVALID)
    return values


def _municipal_operator(municipality: str, lang: str):
    """The application and the operator acting in ``municipality``; a municipality that
    ``municipalities.toml`` does not list exits 1."""
    from dataclasses import replace

    from schemas import municipalities
    from service import create_app

    if municipality not in municipalities.default():
        _refuse(problem("municipality.unknown", code=municipality), lang)
    return _setup(create_app), replace(accounts.OPERATOR, municipality=municipality)


def _today():
    import datetime as dt

    return dt.date.today()


def _day(text: str | None, lang: str):
    """The day typed for --effective-from (``15.09.2020.`` or ISO), today when not given; exits 1 when
    it cannot be read."""
    from schemas import human_input

    if not text:
        return _today()
    try:
        return human_input.read_date(text)
    except human_input.InvalidInput as exc:
        click.echo(f"--effective-from: {translate(problem(exc.code), lang)[1]}", err=True)
        sys.exit(EXIT_INVALID)


@contextmanager
def _versions(what: str, lang: str):
    """Keeping a version of ``what`` (``template``, ``settings``): one saved for the same number at the same
    moment exits 1 with its message."""
    from service.documents.versioning import VersionTaken

    try:
        yield
    except VersionTaken:
        _refuse(problem(f"{what}.version_taken"), lang)


def _refuse(found, lang: str):
    """Print ``found`` (a problem) translated and exit 1."""
    click.echo(f"Error: {translate(found, lang)[1]}", err=True)
    sys.exit(EXIT_INVALID)


def _print_found(file: Path, found, lang: str) -> None:
    """A template check's problems or repairs with their places (part, where, the paragraph's text)."""
    places = [item.place.as_dict() if item.place else None for item in found]
    _print_problems(file, [((), item.problem) for item in found], lang, places)


def _print_problems(file: Path, problems, lang: str, places=None) -> None:
    """Every problem as a table row: path (and form field), code, message; a repeated problem once, at its
    first place, its message followed by the other rows and the count (``schemas.problem_groups``)."""
    errors = Console(stderr=True, highlight=False, width=None if sys.stderr.isatty() else 200)
    table = Table(title=str(file), title_justify="left")
    for header in ("path", "code", "message"):
        table.add_column(header, overflow="fold")
    for group in group_problems(problems, places):
        code, text = translate(group.problem, lang)
        if group.count > 1:
            text += "\n" + translate(group.also(), lang)[1]
        where = json_pointer(group.path) or "/"
        place = group.place or {}
        if place.get("field"):
            where += f"\n(lauks {place['field']}, {place['page']}. lpp.)"
        elif place.get("part"):
            where = f"{place['part']}, {place['where']}\n“{place['text']}”"
        elif place.get("row"):
            where += f"\n({place.get('sheet', place.get('file'))}, {place['row']}. rinda" + (
                f", {place['column']})" if place.get("column") else ")"
            )
        table.add_row(where, code, text)
    errors.print(table)


def _setup(factory):
    """Run a start-up step; a bad setting, a broken catalogue, labels file, template or data key file exits 2
    with its message."""
    try:
        return factory()
    except (SettingsError, CatalogueError, TemplateDefect, LabelError, MissingCatalog, KeyFileError) as exc:
        click.echo(f"Cannot start: {exc}", err=True)
        sys.exit(EXIT_SETUP)
