"""The `digigov` command: set up, serve, manage users and tokens, verify the audit chain."""

from __future__ import annotations

import json
import os
import secrets
import time
from datetime import date
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TaskID, TextColumn
from rich.table import Table
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from digigov import serving
from digigov.catalog import service as catalog
from digigov.catalog.models import Resource
from digigov.catalog.schemas import ResourceCreate, ResourceRead
from digigov.catalog.search import search_resources
from digigov.catalog.vocabulary import Category, FieldType, OpenType, ResourceState, ShareType, UpdateCycle
from digigov.core import audit, migrate, workdays
from digigov.core.auth import Role
from digigov.core.commands import engine_for as _engine
from digigov.core.commands import english as _english
from digigov.core.commands import errors
from digigov.core.commands import guarded as _guarded
from digigov.core.commands import operator as _operator
from digigov.core.commands import ready as _ready
from digigov.core.config import Settings, load_settings
from digigov.core.db import unit_of_work
from digigov.core.errors import DigigovError, Invalid, NotFound
from digigov.datastore.versions import ingest_file
from digigov.governance import classification, codetables, conflicts, elements, quality, reports
from digigov.governance import suggest as quality_suggest
from digigov.governance.api.elements import element_read, run_read
from digigov.governance.cli import problem_app
from digigov.governance.rows import Viewer
from digigov.governance.rules import RuleSet
from digigov.governance.schemas.classification import ClassificationRead
from digigov.governance.schemas.elements import ElementCreate
from digigov.governance.schemas.quality import QualityReportRead, QualityRuleRead
from digigov.identity import service as identity
from digigov.identity import tokens
from digigov.identity.models import Department, User
from digigov.opendata.cli import open_app
from digigov.policy import answering as policy_answering
from digigov.policy import faqs as policy_faqs_module
from digigov.policy import service as policy
from digigov.sharing.cli import share_app
from digigov.sharing.operation_cli import operate_app

app = typer.Typer(
    help="digigov 数字政府平台：公共数据底座 + 政策大脑。",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)
user_app = typer.Typer(help="Manage users.", no_args_is_help=True)
token_app = typer.Typer(help="Manage API tokens.", no_args_is_help=True)
audit_app = typer.Typer(help="Check the audit log.", no_args_is_help=True)
calendar_app = typer.Typer(help="The working-day calendar (holidays and make-up days).", no_args_is_help=True)
resource_app = typer.Typer(help="Catalog resources (数据资源).", no_args_is_help=True)
app.add_typer(user_app, name="user")
app.add_typer(token_app, name="token")
app.add_typer(audit_app, name="audit")
app.add_typer(calendar_app, name="calendar")
app.add_typer(resource_app, name="resource")
app.add_typer(problem_app, name="problem")
app.add_typer(share_app, name="share")
app.add_typer(open_app, name="open")
app.add_typer(operate_app, name="operate")

console = Console()
T = TypeVar("T")


def _settings(demo: bool = False) -> Settings:
    settings = load_settings()
    return settings.model_copy(update={"demo": True}) if demo else settings


def _demo_password(settings: Settings) -> str:
    path = settings.home / "demo-password.txt"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(9) + "\n")
        path.chmod(0o600)
    return path.read_text().strip()


@app.command()
def init(demo: Annotated[bool, typer.Option(help="Also create demo departments and users.")] = False) -> None:
    """Create the data home, migrate the database, load regions and holidays (and the demo)."""

    def run() -> None:
        settings = _settings(demo)
        if demo:
            settings.secret()  # generate the demo secret now, before anything serves
        engine = _engine(settings)
        migrate.upgrade(engine)
        from digigov.demo import load_demo, load_reference_data

        with unit_of_work(engine) as session:
            loaded = load_reference_data(session, real_data=_real_data())
            added = load_demo(session, password=_demo_password(settings)) if demo else []
        if demo:
            _load_demo_catalog(engine, settings)
        console.print(f"data home: {settings.home.resolve()}")
        console.print(
            f"database: {engine.url.render_as_string(hide_password=True)} (revision {migrate.head_revision()})"
        )
        console.print(
            f"regions: {loaded['regions']}; calendar years added: {loaded['calendar_years']}; "
            f"standard codes: {loaded['codes']}"
        )
        if added:
            console.print(f"demo users created: {', '.join(added)}")

    _guarded(run)


def _real_data() -> Path:
    """The shared real data (open-data files, code tables): `DIGIGOV_DEMO_DATA`, else ../shared/data/real."""
    return Path(os.environ.get("DIGIGOV_DEMO_DATA", "../shared/data/real"))


def _load_demo_catalog(engine: Engine, settings: Settings) -> None:
    from digigov.demo import beijing_files, load_demo_catalog

    shared = _real_data()
    files = beijing_files(shared)
    if files:
        with unit_of_work(engine) as session:
            added = load_demo_catalog(session, home=settings.home, files=files, report=errors.print)
        console.print(f"demo catalog: {added} real open-data files from {shared} ingested and published")
    else:
        console.print(f"demo catalog: {shared} not found; skipping the real open-data files")
    _load_demo_population(engine, settings)
    _load_demo_policy(engine, settings, shared.parent / "policy")


def _load_demo_policy(engine: Engine, settings: Settings, shared: Path) -> None:
    from digigov.demo import FAQ_COLLECTION, load_demo_policy, policy_texts

    started = time.perf_counter()
    texts = policy_texts(shared)
    with unit_of_work(engine) as session:
        added, faqs = load_demo_policy(
            session,
            home=settings.home,
            texts=texts,
            faqs=shared.joinpath(*FAQ_COLLECTION),
            report=errors.print,
        )
    where = f"{shared}" if shared.is_dir() else f"the shipped documents ({shared} not found)"
    console.print(
        f"policy library: {added} of {len(texts)} documents and {faqs} FAQs imported from {where} "
        f"in {time.perf_counter() - started:.1f} s"
    )


def _load_demo_population(engine: Engine, settings: Settings) -> None:
    from digigov.demo import POPULATION_SEED, load_demo_population
    from digigov.synth import write_population

    started = time.perf_counter()
    with unit_of_work(engine) as session:
        added = load_demo_population(
            session,
            home=settings.home,
            write=write_population,
            enterprises=settings.demo_enterprises,
            persons=settings.demo_persons,
            report=errors.print,
        )
    if not added:
        console.print("demo catalog: synthetic population already loaded")
        return
    console.print(
        f"demo catalog: synthetic population of {settings.demo_enterprises} enterprises and "
        f"{settings.demo_persons} persons (seed {POPULATION_SEED}): {added} resources generated and published "
        f"in {time.perf_counter() - started:.1f} s"
    )


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Listen address (default DIGIGOV_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default DIGIGOV_PORT, 8000).")] = None,
    demo: Annotated[bool, typer.Option(help="Run in demo mode.")] = False,
    workers: Annotated[int, typer.Option(min=1, max=64, help="Processes serving requests (one per core).")] = 1,
) -> None:
    """Serve the platform over HTTP."""
    import uvicorn

    from digigov.app import create_app, prepare_to_serve

    settings = _settings(demo)
    web = _guarded(lambda: create_app(settings))  # refuses a bad setting or database here, once
    address, number = host or settings.host, port or settings.port
    _guarded(lambda: serving.check_port(address, number))  # in use: a clear error, not a traceback
    listen = {"host": address, "port": number, "log_level": "warning"}
    console.print(f"digigov at http://{listen['host']}:{listen['port']}/  (Ctrl+C stops)")
    if workers == 1:
        prepare_to_serve()
        uvicorn.run(web, **listen)  # type: ignore[arg-type]
        return
    # each worker builds its own app from the environment; demo mode goes to it the same way
    os.environ["DIGIGOV_DEMO"] = "true" if settings.demo else os.environ.get("DIGIGOV_DEMO", "false")
    serving.serve_workers(address, number, workers, settings.resolved_database_url())


@app.command()
def up(
    port: Annotated[int | None, typer.Option(help="Port (default DIGIGOV_PORT, 8000).")] = None,
) -> None:
    """Initialise with demo data if needed, print the demo accounts, and serve (what `make run` does)."""
    init(demo=True)
    settings = _settings(demo=True)
    table = Table(title="Demo accounts 演示账号")
    for column in ("username", "role", "department"):
        table.add_column(column)
    with _ready(settings) as session:
        for user in session.scalars(select(User).order_by(User.id)):
            dept = session.get(Department, user.department_id) if user.department_id else None
            table.add_row(user.username, ", ".join(Role(r).label for r in user.role_names), dept.name if dept else "-")
    console.print(table)
    console.print(f"demo password 演示密码: [bold]{_demo_password(settings)}[/bold]")
    serve(host=None, port=port, demo=True)


@user_app.command("create")
def user_create(
    username: str,
    role: Annotated[list[Role], typer.Option("--role", "-r", help="Role; repeat for several.")],
    department: Annotated[str | None, typer.Option(help="Department code, e.g. HZ-SJJ.")] = None,
    name: Annotated[str | None, typer.Option(help="Display name (default: username).")] = None,
    password: Annotated[
        str | None, typer.Option(help="Password; read from DIGIGOV_NEW_PASSWORD or asked for if omitted.")
    ] = None,
) -> None:
    """Create a user with roles in a department."""

    def run() -> None:
        secret = (
            password
            or os.environ.get("DIGIGOV_NEW_PASSWORD")
            or typer.prompt("Password", hide_input=True, confirmation_prompt=True)
        )
        with _ready(_settings()) as session:
            dept_id = _department_id(session, department) if department else None
            user = identity.create_user(
                session,
                _operator(),
                username=username,
                display_name=name or username,
                password=secret,
                department_id=dept_id,
                roles=role,
            )
            console.print(f"user {user.username} created (id {user.id}, roles {', '.join(user.role_names)})")

    _guarded(run)


def _department_id(session: Session, code: str) -> int:
    found = session.scalar(select(Department.id).where(Department.code == code))
    if found is None:
        raise NotFound(f"No department has code {code}.", f"没有代码为 {code} 的部门。")
    return found


@token_app.command("create")
def token_create(
    user: Annotated[str, typer.Option(help="Username the token acts as.")],
    name: Annotated[str, typer.Option(help="What the token is for.")],
    scope: Annotated[list[str] | None, typer.Option(help="Action pattern; repeat. Default: * (all).")] = None,
    days: Annotated[int | None, typer.Option(help="Lifetime in days (default 90).")] = None,
) -> None:
    """Create an API token for a user and print it once."""

    def run() -> None:
        settings = _settings()
        with _ready(settings) as session:
            owner = session.scalar(select(User).where(User.username == user))
            if owner is None:
                raise NotFound(f"No user is called {user}.", f"没有用户 {user}。")
            actor = identity.actor_for_user(session, owner)
            token, secret = tokens.create_token(session, actor, settings, name=name, scopes=scope or ["*"], days=days)
            errors.print(f"token {token.prefix}… for {user}, expires {token.expires_at:%Y-%m-%d}; shown only now:")
            console.print(secret, highlight=False)

    _guarded(run)


@audit_app.command("verify")
def audit_verify() -> None:
    """Recompute the hash chain; print 'ok, N events' or the first broken link (exit 1)."""

    def run() -> None:
        with _ready(_settings()) as session:
            report = audit.verify_chain(session)
        if report.ok:
            console.print(report.summary())
            return
        errors.print(f"[red]{report.summary()}[/red]")
        raise typer.Exit(1)

    _guarded(run)


@calendar_app.command("load")
def calendar_load(
    year: int,
    schedule: Annotated[Path, typer.Argument(help="Text file: `2027-02-06~2027-02-12,休,春节` per line.")],
    source: Annotated[str, typer.Option(help="Where the schedule comes from.")] = "国务院办公厅通知",
) -> None:
    """Load or replace a year's official holiday schedule."""

    def run() -> None:
        try:
            text = schedule.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise Invalid(f"Cannot read {schedule}: {error}", f"无法读取 {schedule}：{error}") from None
        with _ready(_settings()) as session:
            entries = workdays.parse_schedule(year, text)
            workdays.load_schedule(session, _operator(), year=year, entries=entries, source=source)
        holidays = sum(not e.is_working for e in entries)
        console.print(f"{year}: {holidays} holidays and {len(entries) - holidays} make-up working days loaded")

    _guarded(run)


@calendar_app.command("deadline")
def calendar_deadline(
    days: Annotated[int, typer.Argument(help="Working days.")],
    start: Annotated[str | None, typer.Option(help="Start date, YYYY-MM-DD (default today).")] = None,
) -> None:
    """The due date a number of working days after a start date."""

    def run() -> None:
        try:
            first = date.fromisoformat(start) if start else workdays.china_today()
        except ValueError:
            raise Invalid(f"{start} is not a YYYY-MM-DD date.", f"{start} 不是 YYYY-MM-DD 格式的日期。") from None
        with _ready(_settings()) as session:
            deadline = workdays.add_working_days(session, first, days)
        flag = " (provisional: no official schedule for that year)" if deadline.provisional else ""
        console.print(f"{deadline.due.isoformat()}{flag}")

    _guarded(run)


@app.command()
def synth(
    enterprises: Annotated[int, typer.Option(help="How many synthetic enterprises.")] = 1000,
    persons: Annotated[int, typer.Option(help="How many synthetic persons.")] = 10000,
    seed: Annotated[int, typer.Option(help="Random seed; the same seed writes byte-identical files.")] = 1,
    out: Annotated[Path, typer.Option(help="Folder for enterprises/persons .parquet and .csv.")] = Path("synth"),
) -> None:
    """Write a deterministic synthetic population of Zhejiang (no real person's data) for the demo."""

    def run() -> None:
        from digigov.synth import write_population

        files = write_population(out, enterprises=enterprises, persons=persons, seed=seed)
        console.print(
            f"{enterprises} enterprises and {persons} persons (seed {seed}) written to {out.resolve()}: "
            + ", ".join(path.name for path in files)
        )

    _guarded(run)


class _Counting:
    """A file wrapper that advances a progress bar as the upload is copied."""

    def __init__(self, raw: Any, progress: Progress, task: TaskID) -> None:
        self.raw, self.progress, self.task = raw, progress, task

    def read(self, size: int = -1, /) -> bytes:
        chunk: bytes = self.raw.read(size)
        self.progress.advance(self.task, len(chunk))
        return chunk


@app.command()
def ingest(
    file: Annotated[Path, typer.Argument(help="CSV/TSV, XLSX, XLS, JSON or JSONL; recognised by content.")],
    resource: Annotated[str, typer.Option(help="Resource code; a new code creates a draft resource.")],
    title: Annotated[str | None, typer.Option(help="Title for a new resource (default: the file name).")] = None,
    department: Annotated[str | None, typer.Option(help="Department code for a new resource.")] = None,
    sheet: Annotated[str | None, typer.Option(help="Workbook sheet (default: the first non-empty one).")] = None,
    allow_schema_change: Annotated[bool, typer.Option(help="Accept removed or retyped columns.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the ingestion report as one JSON object.")] = False,
) -> None:
    """Ingest a file as the next immutable version of a resource (creating a draft resource if new)."""

    def run() -> dict[str, Any]:
        if not file.is_file():
            raise Invalid(f"{file} is not a readable file.", f"{file} 不是可读取的文件。")
        settings = _settings()
        with _ready(settings) as session, file.open("rb") as raw, _progress(quiet=as_json) as progress:
            operator = _operator()
            if session.scalar(select(Resource.id).where(Resource.code == resource)) is None:
                if department is None:
                    raise Invalid(
                        f"Resource {resource} is new; name its --department.",
                        f"数据资源 {resource} 尚不存在，请用 --department 指定数源部门。",
                    )
                catalog.create_resource(
                    session,
                    operator,
                    ResourceCreate(
                        code=resource, title=title or file.stem, department_id=_department_id(session, department)
                    ),
                )
            task = progress.add_task("读取与入库", total=file.stat().st_size)
            version = ingest_file(
                session,
                operator,
                home=settings.home,
                resource_code=resource,
                upload=_Counting(raw, progress, task),
                filename=file.name,
                sheet=sheet,
                allow_schema_change=allow_schema_change,
            )
            return {
                "resource": resource,
                "version": version.number,
                **version.report,
                "raw_sha256": version.raw_sha256,
                "schema_change": version.schema_change,
            }

    report = _guarded(run)
    if as_json:
        console.print_json(json.dumps(report, ensure_ascii=False, default=str))
        return
    console.print(
        f"{report['resource']} version {report['version']}: {report['rows']} rows stored, "
        f"{report['rejected']} rejected, {report['blank_rows']} blank rows dropped, "
        f"encoding {report['encoding']}, format {report['format']}"
    )
    for column in report["columns"]:
        console.print(f"  {column['name']}: {column['type']}")


def _progress(*, quiet: bool) -> Progress:
    return Progress(
        TextColumn("{task.description}"), BarColumn(), DownloadColumn(), console=errors, disable=quiet, transient=True
    )


@resource_app.command("create")
def resource_create(
    code: Annotated[str, typer.Argument(help="Resource code, e.g. hz-ssgs.")],
    title: Annotated[str, typer.Option(help="Title (数据资源名称).")],
    department: Annotated[str, typer.Option(help="Department code of the source department, e.g. HZ-SJJ.")],
    abstract: Annotated[str, typer.Option(help="Abstract (摘要).")] = "",
    category: Annotated[Category, typer.Option(help="base, thematic or department.")] = Category.department,
    update_cycle: Annotated[UpdateCycle, typer.Option(help="How often it is updated.")] = UpdateCycle.irregular,
    share_type: Annotated[ShareType, typer.Option(help="Share type.")] = ShareType.conditional,
    open_type: Annotated[OpenType, typer.Option(help="Open type.")] = OpenType.restricted,
) -> None:
    """Register a resource as a draft."""

    def run() -> None:
        with _ready(_settings()) as session:
            data = ResourceCreate(
                code=code,
                title=title,
                department_id=_department_id(session, department),
                abstract=abstract,
                category=category,
                update_cycle=update_cycle,
                share_type=share_type,
                open_type=open_type,
            )
            resource = catalog.create_resource(session, _operator(), data)
            console.print(f"resource {resource.code} created as a draft (id {resource.id})")

    _guarded(run)


@resource_app.command("list")
def resource_list(
    q: Annotated[str, typer.Option(help="Chinese search query.")] = "",
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 50,
) -> None:
    """List catalog resources, newest first, optionally matching a query."""

    def run() -> None:
        with _ready(_settings()) as session:
            found = search_resources(session, _operator(), q=q, limit=limit)
            table = Table(title=f"{found.count} resources")
            for column in ("code", "title", "department", "state", "share", "open"):
                table.add_column(column)
            for r in found.results:
                dept = session.get(Department, r.department_id)
                table.add_row(
                    r.code,
                    r.title,
                    dept.name if dept else "",
                    ResourceState(r.state).label,
                    ShareType(r.share_type).label,
                    OpenType(r.open_type).label,
                )
            console.print(table)

    _guarded(run)


@resource_app.command("show")
def resource_show(
    code: str,
    as_json: Annotated[bool, typer.Option("--json", help="Print the resource as JSON.")] = False,
) -> None:
    """Show one resource with its fields."""

    def run() -> None:
        with _ready(_settings()) as session:
            resource = catalog.get_resource(session, _operator(), code)
            body = ResourceRead.model_validate(resource)
            if as_json:
                console.print_json(body.model_dump_json())
                return
            console.print(f"[bold]{body.title}[/bold]  {body.code}  ({body.labels['state']})")
            for key in ("category", "update_cycle", "share_type", "open_type"):
                console.print(f"  {key}: {body.labels[key]}")
            for field in body.fields:
                console.print(f"  {field.position}. {field.name} {field.title} [{field.type.label}]")

    _guarded(run)


# --- governance --------------------------------------------------------------------------------


@app.command()
def classify(
    resource: Annotated[str, typer.Argument(help="Resource code, e.g. hz-ssgs.")],
    version: Annotated[int | None, typer.Option(help="Version number (default: the newest).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the classification as one JSON object.")] = False,
) -> None:
    """Classify a version's fields (sensitive kinds, levels L1-L4) and grade the resource (分类分级)."""

    def run() -> ClassificationRead:
        settings = _settings()
        with _ready(settings) as session:
            found = classification.classify_version(
                session, _operator(), home=settings.home, resource_code=resource, number=version
            )
            return ClassificationRead.of(found)

    body = _guarded(run)
    if as_json:
        console.print_json(body.model_dump_json())
        return
    review = "（分级变更待复核）" if body.needs_review else ""
    console.print(f"[bold]{body.resource}[/bold] version {body.version}: grade {body.grade_label}{review}")
    if body.opens_wider:
        console.print(f"  [yellow]open type {body.open_type.label} is wider than {body.grade.value} allows[/yellow]")
    table = Table("field", "kind", "confidence", "match", "level", "category")
    for field in body.fields:
        level = field.level.value + (" (override)" if field.override_reason else "")
        table.add_row(
            field.name, field.kind or "-", f"{field.confidence:.2f}", f"{field.match_share:.0%}", level, field.category
        )
    console.print(table)


# --- data elements (数据元) ------------------------------------------------------------------------

element_app = typer.Typer(help="The data-element dictionary (数据元), code tables and conflicts between sources.")
app.add_typer(element_app, name="element", no_args_is_help=True)


def _print_json(body: Any) -> None:
    console.print_json(json.dumps(body, ensure_ascii=False, default=str))


@element_app.command("list")
def element_list(
    q: Annotated[str, typer.Option(help="Text in the identifier, name or definition.")] = "",
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON list of elements.")] = False,
) -> None:
    """List the data elements, with their standard and authoritative source."""

    def run() -> None:
        with _ready(_settings()) as session:
            found = [element_read(session, e) for e in elements.list_elements(session, _operator(), q=q)]
            if as_json:
                _print_json([e.model_dump(mode="json") for e in found])
                return
            table = Table(title=f"{len(found)} data elements")
            for column in ("identifier", "name", "type", "standard", "source"):
                table.add_column(column)
            for e in found:
                standard = e.validator or e.code_table or e.format or ""
                source = f"{e.source_resource}.{e.source_field}" if e.source_resource else ""
                table.add_row(e.identifier, e.name, e.value_type.value, standard, source)
            console.print(table)

    _guarded(run)


@element_app.command("show")
def element_show(
    identifier: Annotated[str, typer.Argument(help="Element identifier, e.g. DE0001.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the element and its usage as JSON.")] = False,
) -> None:
    """Show one element: definition, standard, authoritative source and the fields declared as it."""

    def run() -> None:
        with _ready(_settings()) as session:
            actor = _operator()
            element = element_read(session, elements.get_element(session, actor, identifier))
            usage = elements.element_usage(session, actor, element=identifier)
            used = [
                {"resource": u.resource.code, "field": u.field.name, "authoritative": u.authoritative} for u in usage
            ]
            if as_json:
                _print_json({**element.model_dump(mode="json"), "usage": used})
                return
            console.print(f"[bold]{element.identifier} {element.name}[/bold] [{element.value_type.label}]")
            console.print(f"  {element.definition}")
            for key in ("format", "validator", "code_table"):
                if getattr(element, key):
                    console.print(f"  {key}: {getattr(element, key)}")
            source = f"{element.source_resource}.{element.source_field}" if element.source_resource else "none yet"
            console.print(f"  authoritative source: {source}")
            for u in used:
                console.print(
                    f"  used by {u['resource']}.{u['field']}{' (authoritative)' if u['authoritative'] else ''}"
                )

    _guarded(run)


@element_app.command("create")
def element_create(
    name: Annotated[str, typer.Argument(help="Chinese name (中文名称), e.g. 经营范围.")],
    identifier: Annotated[str | None, typer.Option(help="Identifier; default the next free DEnnnn.")] = None,
    definition: Annotated[str, typer.Option(help="Definition (定义).")] = "",
    value_type: Annotated[FieldType, typer.Option(help="Value type.")] = FieldType.string,
    format: Annotated[str | None, typer.Option(help="Regular expression the values match.")] = None,
    validator: Annotated[
        str | None, typer.Option(help="Check-digit validator: resident_id, uscc or bank_card.")
    ] = None,
    code_table: Annotated[str | None, typer.Option(help="Code table name, e.g. 'GB/T 2260'.")] = None,
) -> None:
    """Add a data element to the dictionary."""

    def run() -> None:
        with _ready(_settings()) as session:
            data = ElementCreate.model_validate(
                {
                    "identifier": identifier,
                    "name": name,
                    "definition": definition,
                    "value_type": value_type,
                    "format": format,
                    "validator": validator,
                    "code_table": code_table,
                }
            )
            element = elements.create_element(session, _operator(), data=data)
            console.print(f"data element {element.identifier} {element.name} created")

    _guarded(run)


@element_app.command("source")
def element_source(
    identifier: Annotated[str, typer.Argument(help="Element identifier, e.g. DE0004.")],
    resource: Annotated[str, typer.Argument(help="Code of the authoritative resource.")],
    field: Annotated[str, typer.Argument(help="Its field declared as the element.")],
    replace: Annotated[bool, typer.Option("--replace", help="Move a source that is already set (audited).")] = False,
) -> None:
    """Name a resource's field as the element's one authoritative source (一数一源)."""

    def run() -> None:
        with _ready(_settings()) as session:
            element = elements.set_authoritative_source(
                session, _operator(), element=identifier, resource_code=resource, field=field, replace=replace
            )
            console.print(f"{element.identifier} {element.name}: authoritative source {resource}.{field}")

    _guarded(run)


@element_app.command("conflicts")
def element_conflicts(
    identifier: Annotated[str, typer.Argument(help="Element identifier, e.g. DE0004 (企业名称).")],
    key: Annotated[str, typer.Option(help="Key element the resources are joined on, e.g. DE0001.")],
    sample: Annotated[int, typer.Option(min=0, max=1000, help="Conflicting keys to show per resource.")] = 10,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Compare the element between its authoritative source and every other resource publishing it."""

    def run() -> None:
        settings = _settings()
        with _ready(settings) as session:
            operator = _operator()
            result = conflicts.find_conflicts(
                session, operator, home=settings.home, element=identifier, key_element=key
            )
            viewer = Viewer(operator, settings)
            runs = [run_read(session, viewer, result.element, r, sample) for r in result.runs]
            if as_json:
                _print_json(
                    {
                        "element": identifier,
                        "key_element": key,
                        "conflicts": result.conflicts,
                        "runs": [r.model_dump(mode="json") for r in runs],
                        "skipped": [{"resource": s.resource, "reason": s.reason} for s in result.skipped],
                    }
                )
                return
            console.print(f"{identifier} keyed by {key}: {result.conflicts} conflicting keys")
            for r in runs:
                console.print(
                    f"  {r.other_resource}.{r.other_field} v{r.other_version} against {r.source_resource} "
                    f"v{r.source_version}: {r.conflicts} of {r.compared} keys differ"
                )
                for c in r.sample:
                    console.print(f"    {c.key_value}: {c.source_value} ≠ {c.other_value}")
            for s in result.skipped:
                console.print(f"  skipped {s.resource}: {s.reason}")

    _guarded(run)


@element_app.command("load-codes")
def element_load_codes() -> None:
    """Load or refresh the code tables (GB/T 2260, GB/T 4754, GB/T 2261.1) and the starter dictionary."""

    def run() -> None:
        with _ready(_settings()) as session:
            counts = codetables.load_code_tables(session, _operator(), real_data=_real_data())
            added = elements.load_starter_dictionary(session, _operator())
        for name, count in counts.items():
            console.print(f"{name}: {count} codes")
        console.print(f"starter dictionary: {len(added)} elements added")

    _guarded(run)


# --- policy library ----------------------------------------------------------------------------

policy_app = typer.Typer(help="The policy library (政策文件库): import, search, ask.", no_args_is_help=True)
app.add_typer(policy_app, name="policy")


@policy_app.command("import")
def policy_import(
    path: Annotated[
        Path, typer.Argument(help="A file, or a folder searched recursively for .txt .html .docx .pdf .md")
    ],
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per document per line.")] = False,
) -> None:
    """Import policy documents; the same text twice is one document, a changed one a new revision."""

    def run() -> int:
        settings = _settings()
        files = policy.files_under(path)
        with policy.index_batch(settings.home):  # one index commit for the whole folder
            failed = _import_files(settings, files, as_json)
        if not as_json:
            console.print(f"{len(files) - failed} of {len(files)} files imported")
        return failed

    if _guarded(run):
        raise typer.Exit(Invalid.exit_code)


def _import_files(settings: Settings, files: list[Path], as_json: bool) -> int:
    """Import each file in its own transaction; a refused file is reported and the rest go on."""
    failed = 0
    for file in files:
        try:
            with _ready(settings) as session:
                done = policy.import_file(session, _operator(), settings.home, file, source=str(file))
        except DigigovError as error:
            failed += 1
            message = error.message if _english() else error.message_zh
            if as_json:
                print(json.dumps({"source": str(file), "error": error.code, "message": message}, ensure_ascii=False))
            else:
                errors.print(f"[red]error:[/red] {file}: {message}")
            continue
        if as_json:
            print(json.dumps(done.as_json(), ensure_ascii=False))
        else:
            console.print(f"{done.outcome:9} {done.doc_number or '—':18} {done.title}  [dim]{file}[/dim]")
    return failed


@policy_app.command("faqs")
def policy_faqs(
    path: Annotated[Path, typer.Argument(help="JSONL, CSV or XLSX with question/问题 and answer/答案 columns")],
    department: Annotated[str | None, typer.Option(help="Department for rows that name none.")] = None,
) -> None:
    """Import question/answer pairs as FAQ knowledge."""

    def run() -> None:
        settings = _settings()
        if not path.is_file():
            raise NotFound(f"No such file: {path}", f"文件不存在：{path}")
        with _ready(settings) as session:
            done = policy_faqs_module.import_faqs(
                session, _operator(), settings.home, path.read_bytes(), path.name, department=department
            )
        console.print(f"FAQs added {done.added}, already present {done.unchanged}")

    _guarded(run)


@policy_app.command("search")
def policy_search(
    query: Annotated[str, typer.Argument(help='Words, a 文号, or a "quoted phrase"')],
    limit: Annotated[int, typer.Option(help="How many hits.")] = 10,
    as_json: Annotated[bool, typer.Option("--json", help="Print the hits as a JSON list, best first.")] = False,
) -> None:
    """Search documents, clauses and FAQs."""

    def run() -> None:
        settings = _settings()
        with _ready(settings) as session:
            hits = policy.search(session, _operator(), settings.home, query, limit=limit)
        if as_json:
            print(json.dumps(hits, ensure_ascii=False))
            return
        for hit in hits:
            where = hit["document"]["title"] if hit["document"] else f"常见问题：{hit['question']}"
            number = (hit["document"] or {}).get("doc_number") or ""
            console.print(f"[bold]{where}[/bold] {number} {hit['clause']}  [dim]{hit['score']:.2f}[/dim]")
            console.print("  " + hit["text"][:120].replace("\n", " "))
        if not hits:
            console.print("no hits")

    _guarded(run)


@policy_app.command("ask")
def policy_ask(
    question: Annotated[str, typer.Argument(help="A question in everyday words")],
    include_expired: Annotated[bool, typer.Option(help="Also use repealed or expired documents.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the answer as one JSON object.")] = False,
) -> None:
    """Answer from the library with cited clauses, or say it does not know."""

    def run() -> None:
        settings = _settings()
        with _ready(settings) as session:
            answer = policy_answering.ask(
                session,
                _operator(),
                settings.home,
                question,
                include_expired=include_expired,
                llm_url=settings.llm_url,
                llm_model=settings.llm_model,
                llm_key=settings.llm_api_key.get_secret_value() if settings.llm_api_key else None,
            )
        if as_json:
            print(json.dumps(answer.as_json(), ensure_ascii=False, default=str))
            return
        console.print(answer.answer)
        for citation in answer.citations:
            console.print(
                f"  [dim]《{citation.title}》{citation.doc_number or ''} {citation.clause} {citation.url}[/dim]"
            )
        for document in answer.closest if answer.abstained else []:
            console.print(f"  [dim]《{document['title']}》 {document['url']}[/dim]")

    _guarded(run)


@policy_app.command("reindex")
def policy_reindex() -> None:
    """Rebuild the policy search index from the library and swap it in."""

    def run() -> None:
        settings = _settings()
        with _ready(settings) as session:
            count = policy.rebuild_index(session, _operator(), settings.home)
        console.print(f"index rebuilt: {count} passages")

    _guarded(run)


quality_app = typer.Typer(help="Quality rules (质量规则): run them, declare them, list them.", no_args_is_help=True)
quality_rules_app = typer.Typer(help="Declare, suggest and list a resource's quality rules.", no_args_is_help=True)
app.add_typer(quality_app, name="quality")
quality_app.add_typer(quality_rules_app, name="rules")


@quality_app.command("run")
def quality_run(
    resource: Annotated[str, typer.Argument(help="Resource code")],
    version: Annotated[int | None, typer.Option(help="Version number (default: the newest).")] = None,
    as_json: Annotated[
        bool,
        typer.Option(
            "--json", help="Print one JSON object: resource, version, score, dimensions, rules (stable contract)."
        ),
    ] = False,
) -> None:
    """Run a resource's quality rules on a version and print the scores."""

    def run() -> dict[str, Any]:
        settings = _settings()
        with _ready(settings) as session:
            actor = _operator()
            done = quality.run_quality(session, actor, home=settings.home, resource_code=resource, number=version)
            report = reports.report_of_run(session, actor, done, settings=settings)
            return QualityReportRead.of(report).model_dump(mode="json")

    report = _guarded(run)
    if as_json:
        print(json.dumps(report, ensure_ascii=False))
        return
    score = "—" if report["score"] is None else f"{report['score']:.4f}"
    flag = "  [red]below threshold[/red]" if report["flagged"] else ""
    console.print(
        f"{report['resource']} version {report['version']}: score {score} (threshold {report['threshold']}){flag}"
    )
    for name, value in report["dimensions"].items():
        console.print(f"  {name:13} {value:.4f}")
    for rule in report["rules"]:
        outcome = rule["error"] or f"{rule['failed_rows']} of {rule['checked_rows']} rows fail"
        console.print(f"  [dim]{rule['dimension']:13}[/dim] {rule['rule']}: {outcome}")


@quality_rules_app.command("load")
def quality_rules_load(
    path: Annotated[Path, typer.Argument(help="A YAML (or JSON) file: resource, threshold, rules")],
    resource: Annotated[str | None, typer.Option(help="Resource code, when the file names none.")] = None,
) -> None:
    """Declare a resource's quality rules from a file; a bad rule refuses the whole file."""

    def run() -> int:
        settings = _settings()
        if not path.is_file():
            raise NotFound(f"No such file: {path}", f"文件不存在：{path}")
        rule_set = RuleSet.model_validate(_yaml_of(path))
        code = resource or rule_set.resource
        if code is None:
            raise Invalid(
                "Name the resource in the file (resource:) or with --resource.",
                "请在文件或 --resource 中指明数据资源。",
            )
        with _ready(settings) as session:
            rules = quality.load_rules(session, _operator(), resource_code=code, rule_set=rule_set)
            return sum(r.enabled for r in rules)

    enabled = _guarded(run)
    console.print(f"rules loaded; {enabled} enabled")


def _yaml_of(path: Path) -> Any:
    import yaml

    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as error:
        raise Invalid(f"{path} is not YAML: {error}", f"{path} 不是有效的 YAML：{error}") from None


@quality_rules_app.command("list")
def quality_rules_list(
    resource: Annotated[str, typer.Argument(help="Resource code")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the rules as a JSON list.")] = False,
) -> None:
    """List a resource's quality rules."""

    def run() -> list[dict[str, Any]]:
        with _ready(_settings()) as session:
            rules = quality.list_rules(session, _operator(), resource_code=resource)
            return [QualityRuleRead.model_validate(r).model_dump(mode="json") for r in rules]

    rules = _guarded(run)
    if as_json:
        print(json.dumps(rules, ensure_ascii=False))
        return
    for rule in rules:
        state = "" if rule["enabled"] else "  [dim](disabled)[/dim]"
        console.print(f"{rule['dimension']:13} {rule['name']}  [dim]{rule['origin']} {rule['params']}[/dim]{state}")
    if not rules:
        console.print("no rules")


@quality_rules_app.command("suggest")
def quality_rules_suggest(resource: Annotated[str, typer.Argument(help="Resource code")]) -> None:
    """Add the rules suggested from the latest version's detections and the key fields."""

    def run() -> list[str]:
        with _ready(_settings()) as session:
            return [r.name for r in quality_suggest.suggest_rules(session, _operator(), resource_code=resource)]

    added = _guarded(run)
    console.print(f"{len(added)} rules suggested" + "".join(f"\n  {name}" for name in added))


def main() -> None:
    """Entry point of the `digigov` command."""
    app()


if __name__ == "__main__":
    main()
