"""Command line: run the bot, check a policy, import staff, create invitations, verify the audit chain, export
incidents."""

from __future__ import annotations

import argparse
import asyncio
import csv
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from aiogram.utils.i18n import I18n

from bot import dbtools, languages
from bot.clock import SystemClock
from bot.config import ConfigError, Settings, load_settings
from bot.i18n import load_catalogues
from bot.policy import Policy, PolicyError, load_policy
from bot.services.actor import Actor
from bot.services.audit import AuditService
from bot.services.errors import DomainError
from bot.services.members import MembershipService, checked_phone
from storage.db import create_engine, create_session_factory
from storage.migrate import upgrade
from storage.uow import UnitOfWorkFactory


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return asyncio.run(args.handler(args)) or 0
    except (ConfigError, PolicyError) as error:
        print(error, file=sys.stderr)
        return 2
    except DomainError as error:
        print(error.msgid.format(**error.params), file=sys.stderr)
        return 1
    except dbtools.DatabaseToolError as error:
        print(error, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot", description="Duty desk bot")
    parser.set_defaults(handler=cmd_run)
    commands = parser.add_subparsers(title="commands")

    commands.add_parser("run", help="start the bot (the default)").set_defaults(handler=cmd_run)

    policy = commands.add_parser("policy", help="policy file tools").add_subparsers(required=True)
    check = policy.add_parser("check", help="validate a policy file and print every error with its line")
    check.add_argument("file", type=Path)
    check.set_defaults(handler=cmd_policy_check)

    users = commands.add_parser("users", help="bulk onboarding").add_subparsers(required=True)
    import_ = users.add_parser("import", help="create invitations from a CSV: name,department,roles[,phone]")
    import_.add_argument("file", type=Path)
    import_.add_argument("--out", type=Path, help="where to write the links (default: FILE-links.csv)")
    import_.set_defaults(handler=cmd_users_import)

    invite = commands.add_parser("invite", help="create one invitation and print its link")
    invite.add_argument("--department", required=True)
    invite.add_argument("--role", action="append", required=True, dest="roles", help="repeat for several roles")
    invite.add_argument("--name")
    invite.set_defaults(handler=cmd_invite)

    audit = commands.add_parser("audit", help="audit log tools").add_subparsers(required=True)
    audit.add_parser("verify", help="check the hash chain of the audit log").set_defaults(handler=cmd_audit_verify)

    incidents = commands.add_parser("incidents", help="incident tools").add_subparsers(required=True)
    export = incidents.add_parser(
        "export", help="write the incidents of a period, with their timelines, to a CSV or XLSX file (A5, A6)"
    )
    export.add_argument("--from", dest="first", required=True, type=_day, help="first day, YYYY-MM-DD")
    export.add_argument("--to", dest="last", required=True, type=_day, help="last day (included), YYYY-MM-DD")
    export.add_argument("--format", choices=("csv", "xlsx"), default="csv")
    export.add_argument("--out", type=Path, required=True, help="the file to write")
    export.add_argument("--language", choices=languages.codes(), help="of the headings (default: the policy's)")
    export.set_defaults(handler=cmd_incidents_export)

    db = commands.add_parser("db", help="database tools").add_subparsers(required=True)
    db.add_parser("upgrade", help="apply migrations").set_defaults(handler=cmd_db_upgrade)
    backup = db.add_parser("backup", help="copy the SQLite database to FILE, consistent while the bot runs")
    backup.add_argument("file", type=Path)
    backup.add_argument("--force", action="store_true", help="overwrite FILE if it exists")
    backup.set_defaults(handler=cmd_db_backup)
    restore = db.add_parser("restore", help="replace the SQLite database with a backup (the bot must be stopped)")
    restore.add_argument("file", type=Path)
    restore.set_defaults(handler=cmd_db_restore)
    copy = db.add_parser("copy", help="copy every row of this database into an empty PostgreSQL database")
    copy.add_argument("--to", required=True, dest="target", help="postgresql+asyncpg://user:password@host/name")
    copy.set_defaults(handler=cmd_db_copy)
    return parser


async def cmd_run(args: argparse.Namespace) -> int:
    settings = load_settings()
    settings.require_token()  # before the heavy imports, so a missing token is reported at once
    from bot.app import build_app, install_signal_handlers, run, settle_memory
    from bot.logs import configure

    configure(settings.log_level, settings.log_format)
    app = await build_app(settings)
    settle_memory()
    install_signal_handlers(app)
    await run(app)
    return 0


async def cmd_policy_check(args: argparse.Namespace) -> int:
    policy = load_policy(args.file)
    print(f"{args.file}: OK ({len(policy.departments)} departments, {len(policy.roles)} roles)")
    return 0


async def cmd_db_upgrade(args: argparse.Namespace) -> int:
    engine = create_engine(load_settings().database_url)
    await upgrade(engine)
    await engine.dispose()
    print("database is up to date")
    return 0


async def cmd_db_backup(args: argparse.Namespace) -> int:
    report = dbtools.backup(load_settings().database_url, args.file, force=args.force)
    print(f"backup written to {report.path} ({report.size:,} bytes, migration {report.revision}), integrity checked")
    return 0


async def cmd_db_restore(args: argparse.Namespace) -> int:
    report = await dbtools.restore(load_settings().database_url, args.file)
    kept = f"; the database it replaced is kept as {report.kept}" if report.kept else ""
    print(f"restored from {args.file} (migration {report.revision}, now up to date){kept}")
    return 0


async def cmd_db_copy(args: argparse.Namespace) -> int:
    copied = await dbtools.copy(load_settings().database_url, args.target)
    for table, rows in copied.items():
        print(f"{table}: {rows}")
    print(f"{sum(copied.values())} rows copied; set DATABASE_URL to the new database and start the bot")
    return 0


async def cmd_audit_verify(args: argparse.Namespace) -> int:
    async with _services() as (services, _settings):
        report = await services.audit.verify()
    if report.ok:
        print(f"audit chain intact ({report.checked} entries)")
        return 0
    where = f"at entry {report.broken_at}" if report.broken_at else "at its end (entries were removed)"
    print(f"audit chain BROKEN {where}; {report.checked} entries before it are intact", file=sys.stderr)
    return 1


async def cmd_invite(args: argparse.Namespace) -> int:
    async with _services() as (services, settings):
        invitation = await services.members.invite(
            Actor.command_line(), roles=args.roles, department=args.department, name=args.name
        )
        print(await _link(services, settings, invitation.code))
    return 0


async def cmd_users_import(args: argparse.Namespace) -> int:
    """Bulk onboarding (F2): one invitation per CSV row; every row is checked before any is created."""
    rows = _read_staff(args.file)
    out = args.out or args.file.with_name(args.file.stem + "-links.csv")
    async with _services() as (services, settings):
        for row in rows:  # validate all first: a bad line stops the import before anything is created
            services.members.validate_invitation(row["roles"], row["department"], row["name"])
            if row["phone"]:
                checked_phone(row["phone"])
        with out.open("w", newline="", encoding="utf-8") as target:
            writer = csv.writer(target)
            writer.writerow(["name", "department", "roles", "link", "expires_at"])
            for row in rows:
                invitation = await services.members.invite(
                    Actor.command_line(),
                    roles=row["roles"],
                    department=row["department"],
                    name=row["name"],
                    phone=row["phone"] or None,
                )
                link = await _link(services, settings, invitation.code)
                writer.writerow(
                    [row["name"], row["department"], " ".join(row["roles"]), link, invitation.expires_at.isoformat()]
                )
    print(f"{len(rows)} invitations written to {out}")
    return 0


async def cmd_incidents_export(args: argparse.Namespace) -> int:
    from bot.outgoing.speaker import Speaker
    from bot.services.incidents import IncidentServices
    from bot.services.incidents.files import table_bytes
    from bot.services.incidents.periods import day_bounds

    async with _services() as (services, _settings):
        policy, i18n = services.policy, services.i18n
        language = args.language or policy.organisation.default_language
        incidents = IncidentServices.build(services.uow, services.clock, policy, i18n, None)
        start, end = day_bounds(args.first, args.last, policy.organisation.zone)
        cards = [c async for batch in incidents.queries.export(Actor.command_line(), start, end) for c in batch]
        args.out.write_bytes(table_bytes(Speaker(i18n, policy, language), cards, args.format))
    print(f"{len(cards)} incidents written to {args.out}")
    return 0


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a day; write YYYY-MM-DD, e.g. 2026-03-01") from None


def _read_staff(path: Path) -> list[dict]:
    with path.open(newline="", encoding="utf-8-sig") as source:
        reader = csv.DictReader(source)
        missing = {"name", "department", "roles"} - set(reader.fieldnames or [])
        if missing:
            raise ConfigError(
                f"{path}: the header must have name,department,roles (missing: {', '.join(sorted(missing))})."
            )
        rows = []
        for line, row in enumerate(reader, start=2):
            roles = [r for r in (row["roles"] or "").replace(";", " ").replace("|", " ").split() if r]
            if not (row["name"] or "").strip() or not roles:
                raise ConfigError(f"{path}:{line}: every row needs a name and at least one role.")
            rows.append(
                {
                    "name": row["name"].strip(),
                    "department": (row["department"] or "").strip(),
                    "roles": roles,
                    "phone": (row.get("phone") or "").strip(),  # optional: for SMS and voice escalation steps
                }
            )
    return rows


@dataclass
class CliServices:
    uow: UnitOfWorkFactory
    audit: AuditService
    members: MembershipService
    policy: Policy
    clock: SystemClock
    i18n: I18n


@asynccontextmanager
async def _services() -> AsyncIterator[tuple[CliServices, Settings]]:
    """The services the command line needs, on the same database and policy as the bot."""
    settings = load_settings()
    policy = load_policy(settings.bot_policy)
    engine = create_engine(settings.database_url)
    try:
        await upgrade(engine)
        uow = UnitOfWorkFactory(create_session_factory(engine))
        clock = SystemClock()
        i18n = load_catalogues(policy.organisation.default_language)
        members = MembershipService(uow, clock, policy, i18n)
        yield CliServices(uow, AuditService(uow, clock), members, policy, clock, i18n), settings
    finally:
        await engine.dispose()


async def _link(services: CliServices, settings: Settings, code: str) -> str:
    """The bot's username is remembered at start; otherwise asked from Telegram when a token is set."""
    async with services.uow() as uow:
        username = await uow.key_values.get("bot_username")
    if not username and settings.bot_token:
        from bot.app import make_bot

        bot = make_bot(settings)
        try:
            username = (await bot.me()).username
        finally:
            await bot.session.close()
    return f"https://t.me/{username or '<bot username>'}?start={code}"
