"""A realistic incident history for benchmark 5: `fill(database, count)` writes `count` incidents spread over
about three years into a SQLite database the real migrations created, with their child rows.

Written with sqlite3 `executemany` in large transactions (about a minute for 1,000,000 incidents), never
through the ORM: the ORM would take hours. What a real incident leaves behind, and what is written here:

- the incident row: category, severity and department drawn from the default policy (weighted), reporters
  among a few hundred members, the moments the rules measure (A5), outside-report deadlines (A4);
- its timeline, which is the audit log (F1), hash-chained as `storage.repositories.audit` does it, so the
  chain still verifies: "reported", "acknowledged" and the last status change of each (a real one also
  has "alerted", "group_alerted" and every status step: ~6 entries; 3 keep the fill near a minute);
- one alert row (the primary officer) per incident, and a photo for about one in six;
- the members (with roles) and the yearly counters the numbering continues from.

Old incidents are closed, as in a real history; those of the last two weeks are in every state, and a few
older ones were left open, so `/incidents` has some thousands of rows to list. No pending timers or outbox
messages are written: the bot would start sending them during the measurement.
"""

from __future__ import annotations

import bisect
import contextlib
import hashlib
import json
import random
import sqlite3
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.policy import Policy

YEARS = 3
MEMBERS = 400
BATCH = 50_000
FIRST_TELEGRAM_ID = 7_000_000
GENESIS = "0" * 64
# Who the benchmark acts as: telegram ids of members written by `fill` (roles shown).
OFFICER = FIRST_TELEGRAM_ID  # duty_officer in security: sees every incident
LEADER = FIRST_TELEGRAM_ID + 1  # leader: figures of the whole organisation
HEAD = FIRST_TELEGRAM_ID + 2  # department_head of security: its incidents and figures
REPORTER = FIRST_TELEGRAM_ID + 3  # staff in the office; a busy reporter (about 1 in 40 incidents)

DESCRIPTIONS = (
    "Water leaking from the ceiling of the server room",
    "Customer reported a suspicious caller asking for card details",
    "Smoke from the cable duct on floor 3, extinguished",
    "Laptop stolen from the meeting room",
    "Phishing e-mail opened by two colleagues",
    "Forklift struck the racking in warehouse B",
    "Argument at the counter, security called",
    "Batch 2291 failed the quality check",
    "闸门故障，客户被困约十分钟",
    "办公室门锁被撬，未见财物损失",
)
PLACES = ("Head office, floor 3", "Warehouse B", "Branch A counter", "Server room", "Car park", "总部大楼一层大厅")
RESOLUTIONS = ("Repaired", "Reported to the police", "No further action", "Staff briefed", "Equipment replaced")
INCIDENT_COLUMNS = (
    "id, number, year, seq, category, severity, department, duty_room, reporter_id, description, location_text,"
    " latitude, longitude, loss_yuan, status, details_pending, occurred_at, reported_at, acknowledged_at,"
    " acknowledged_by, ack_seconds, ack_in_window, assignee_id, resolved_at, closed_at, resolution, alert_round,"
    " reportable_reasons, external_due_at, external_state, external_missed, external_filed_at, external_body,"
    " external_reference, external_file_id"
)
STATUS_MIX = (("reported", 5), ("acknowledged", 15), ("in_progress", 30), ("resolved", 20), ("closed", 30))


@dataclass(frozen=True)
class Filled:
    incidents: int
    open: int
    audit: int
    alerts: int
    media: int
    members: int
    seconds: float


def _ts(moment: datetime) -> str:
    """A naive UTC time in whole seconds as SQLAlchemy's SQLite DateTime stores it: strings compare as times."""
    return moment.isoformat(" ") + ".000000"


# `storage.repositories.audit.entry_hash`, written out for entries not built as ORM objects (a test checks that
# they agree): json.dumps of [prev, at, actor, telegram id, chat, entity, id, action, details] with sorted keys.
# Every string but the details is hex, digits or a plain word, so only the details need JSON; few distinct
# details repeat over and over, so their JSON is made once each.
_JSON = json.JSONEncoder(ensure_ascii=False, sort_keys=True, default=str)
_HASHED = '["{}", "{}+00:00", {}, {}, {}, "incident", "{}", "{}", {}]'


class _Details(dict[tuple[Any, ...], str]):
    def __missing__(self, key: tuple[Any, ...]) -> str:
        action, *values = key
        names = {"reported": ("by", "category", "severity", "urgent"), "acknowledged": ("by", "seconds", "in_window")}
        text = self[key] = _JSON.encode(dict(zip(names.get(action, ("by", "status", "note")), values, strict=True)))
        return text


def _audit_hash(
    prev: str, at: datetime, actor_id: int, telegram_id: int, entity_id: int, action: str, details: str
) -> str:
    body = _HASHED.format(prev, at.isoformat(), actor_id, telegram_id, telegram_id, entity_id, action, details)
    return hashlib.sha256(body.encode()).hexdigest()


def _members(policy: Policy, after: int) -> list[tuple[int, int, str, str, list[str]]]:
    """(id, telegram id, name, department, roles): the benchmark's own four first, then staff, a head of each
    department and duty officers in the departments that keep duty rooms. Member ids follow `after`."""
    departments = [d.code for d in policy.departments if d.code != "company"]
    rooms = {room.department for room in policy.duty_rooms}
    people = [
        (after + 1, OFFICER, "Officer Wang", "security", ["staff", "duty_officer"]),
        (after + 2, LEADER, "Leader Liu", "company", ["staff", "leader"]),
        (after + 3, HEAD, "Head Huang", "security", ["staff", "department_head"]),
        (after + 4, REPORTER, "Reporter Ren", "office", ["staff"]),
    ]
    heads = {"security"}
    for n in range(5, MEMBERS + 1):
        department = departments[n % len(departments)]
        roles = ["staff"]
        if department not in heads:
            heads.add(department)
            roles.append("department_head")
        elif department in rooms and n % 3 == 0:
            roles.append("duty_officer")
        people.append((after + n, FIRST_TELEGRAM_ID + 100 + n, f"Member {n}", department, roles))
    return people


def fill(database: Path, count: int, policy: Policy, *, now: datetime | None = None, seed: int = 7) -> Filled:
    """Write the history into `database` (already migrated, no incidents yet); returns what was written."""
    started = time.perf_counter()
    rng = random.Random(seed)
    # Naive UTC in whole seconds throughout: formatting and hashing aware times costs a third of the fill
    now = (now or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0, tzinfo=None)
    first = now - timedelta(days=365 * YEARS)
    zone = policy.organisation.zone
    rules = policy.incidents
    categories = list(rules.categories)
    category_weights = [
        1 if c.serious else 6 if c.code in ("quality", "other", "information_security") else 3 for c in categories
    ]
    severities = [s.code for s in rules.severities]
    severity_weights = [50, 30, 15, 5][: len(severities)] + [1] * max(0, len(severities) - 4)
    window = rules.ack_window_minutes * 60
    statuses, status_weights = zip(*STATUS_MIX, strict=True)
    recent = now - timedelta(days=14)
    step = (now - first).total_seconds() / count
    years = list(range(first.year - 1, now.year + 2))  # the organisation's calendar years, by their UTC start
    year_starts = [datetime(y, 1, 1, tzinfo=zone).astimezone(UTC).replace(tzinfo=None) for y in years]

    connection = sqlite3.connect(database, isolation_level=None)
    # Straight into the file, no write-ahead log: a 1 GB WAL would be copied once more at its checkpoint. The
    # bot turns WAL on again when it connects (storage/db.py). Not while another connection is open (a test's).
    with contextlib.suppress(sqlite3.OperationalError):
        connection.execute("PRAGMA journal_mode = DELETE")
    connection.execute("PRAGMA synchronous = OFF")
    connection.execute("PRAGMA cache_size = -200000")
    # Indexes are dropped and made again afterwards from their own SQL: the same schema, built faster
    indexes = connection.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL AND tbl_name IN "
        "('incidents', 'audit_log', 'incident_alerts', 'incident_media')"
    ).fetchall()
    connection.execute("BEGIN")
    people = _members(policy, connection.execute("SELECT coalesce(max(id), 0) FROM members").fetchone()[0])
    officers = [p for p in people if "duty_officer" in p[4]]
    reporters = [p for p in people if p[1] != LEADER]
    # A busy reporter: about 1 in 40 incidents, so /myreports pages through a long list
    reporter_weights = [len(reporters) // 40 * 1.0 if p[1] == REPORTER else 1.0 for p in reporters]
    for name, _sql in indexes:
        connection.execute(f'DROP INDEX "{name}"')
    connection.executemany(
        "INSERT INTO members (id, telegram_id, name, username, language, department, active, joined_at)"
        " VALUES (?, ?, ?, NULL, 'en', ?, 1, ?)",
        [(p[0], p[1], p[2], p[3], _ts(first - timedelta(days=30))) for p in people],
    )
    connection.executemany(
        "INSERT INTO member_roles (member_id, role) VALUES (?, ?)", [(p[0], role) for p in people for role in p[4]]
    )
    prev = connection.execute("SELECT last_hash FROM audit_head WHERE id = 1").fetchone()
    prev_hash = prev[0] if prev else GENESIS
    audit_id = connection.execute("SELECT coalesce(max(id), 0) FROM audit_log").fetchone()[0]
    counters: dict[int, int] = {}
    incidents: list[tuple[Any, ...]] = []
    audit: list[tuple[Any, ...]] = []
    alerts: list[tuple[Any, ...]] = []
    media: list[tuple[Any, ...]] = []
    totals = {"open": 0, "audit": 0, "alerts": 0, "media": 0}

    details = _Details()

    def entry(at: datetime, incident_id: int, action: str, who: tuple[Any, ...], *values: Any) -> None:
        nonlocal prev_hash, audit_id
        text = details[(action, who[2], *values)]
        digest = _audit_hash(prev_hash, at, who[0], who[1], incident_id, action, text)
        audit_id += 1
        audit.append((audit_id, _ts(at), who[0], who[1], who[1], str(incident_id), action, text, prev_hash, digest))
        prev_hash = digest

    def flush() -> None:
        connection.executemany(f"INSERT INTO incidents ({INCIDENT_COLUMNS}) VALUES ({', '.join('?' * 35)})", incidents)
        connection.executemany(
            "INSERT INTO audit_log (id, at, actor_id, actor_telegram_id, chat_id, entity, entity_id, action, details,"
            " prev_hash, hash) VALUES (?, ?, ?, ?, ?, 'incident', ?, ?, ?, ?, ?)",
            audit,
        )
        connection.executemany(
            "INSERT INTO incident_alerts (incident_id, round, member_id, chat_id, outbox_id, reachable, created_at)"
            " VALUES (?, ?, ?, ?, NULL, 1, ?)",
            alerts,
        )
        connection.executemany(
            "INSERT INTO incident_media (incident_id, kind, file_id, added_by, added_at) VALUES (?, 'photo', ?, ?, ?)",
            media,
        )
        for name, rows in (("audit", audit), ("alerts", alerts), ("media", media)):
            totals[name] += len(rows)
        for rows in (incidents, audit, alerts, media):
            rows.clear()

    category_draws = rng.choices(categories, category_weights, k=count)
    severity_draws = rng.choices(severities, severity_weights, k=count)
    reporter_draws = rng.choices(reporters, reporter_weights, k=count)
    for n in range(count):
        incident_id = n + 1
        occurred = first + timedelta(seconds=int(step * n + rng.random() * step))
        reported = min(occurred + timedelta(seconds=rng.randint(60, 3600)), now)
        category, severity, reporter = category_draws[n], severity_draws[n], reporter_draws[n]
        year = years[bisect.bisect_right(year_starts, reported) - 1]
        seq = counters[year] = counters.get(year, 0) + 1
        if reported > recent:
            status = rng.choices(statuses, status_weights)[0]
        else:
            status = "closed" if rng.random() > 0.002 else rng.choice(("in_progress", "resolved"))
        officer = rng.choice(officers)
        acknowledged = status != "reported"
        ack_seconds = int(rng.lognormvariate(4.3, 0.8)) + 5 if acknowledged else None
        ack_at = min(reported + timedelta(seconds=ack_seconds), now) if ack_seconds is not None else None
        alert_round = 0 if not ack_seconds or ack_seconds <= window else min(3, ack_seconds // window)
        resolved_at = None
        if ack_at is not None and status in ("resolved", "closed"):
            resolved_at = min(ack_at + timedelta(seconds=rng.randint(1800, 48 * 3600)), now)
        closed_at = None
        if resolved_at is not None and status == "closed":
            closed_at = min(resolved_at + timedelta(seconds=rng.randint(3600, 72 * 3600)), now)
        loss = rng.choice((0, 500, 3000, 12000, 50000)) if category.asks_loss else None
        reasons: list[dict[str, Any]] = []
        if category.externally_reportable:
            reasons.append({"code": "category"})
        if loss is not None and loss >= rules.loss_threshold:
            reasons.append({"code": "loss", "loss": loss, "threshold": rules.loss_threshold})
        external_due = external_state = external_filed = body = reference = None
        external_missed = False
        if reasons:
            external_due = occurred + timedelta(hours=rules.external_report.hours)
            late = rng.random() < 0.05
            if reported > recent and rng.random() < 0.3:
                external_state, external_missed = ("missed", True) if external_due < now else ("pending", False)
            else:
                external_filed = min(external_due + timedelta(hours=2) if late else occurred + timedelta(hours=3), now)
                external_state, external_missed = "filed", late
                body, reference = rules.external_report.bodies[0].code, f"REF-{incident_id}"
        pin = rng.random() < 0.3
        incidents.append((
            incident_id, f"INC-{year}-{seq:06d}", year, seq, category.code, severity, reporter[3], category.duty_room,
            reporter[0], rng.choice(DESCRIPTIONS), rng.choice(PLACES),
            31.2 + rng.random() / 10 if pin else None, 121.4 + rng.random() / 10 if pin else None, loss, status, 0,
            _ts(occurred), _ts(reported), _ts(ack_at) if ack_at else None, officer[0] if acknowledged else None,
            ack_seconds, (ack_seconds <= window) if ack_seconds is not None else None,
            officer[0] if acknowledged else None, _ts(resolved_at) if resolved_at else None,
            _ts(closed_at) if closed_at else None, rng.choice(RESOLUTIONS) if resolved_at else None, alert_round,
            _JSON.encode(reasons), _ts(external_due) if external_due else None, external_state, external_missed,
            _ts(external_filed) if external_filed else None, body, reference, None,
        ))  # fmt: skip
        entry(reported, incident_id, "reported", reporter, category.code, severity, False)
        if ack_at is not None and ack_seconds is not None:
            entry(ack_at, incident_id, "acknowledged", officer, ack_seconds, ack_seconds <= window)
        last = closed_at or resolved_at
        if last is not None:
            entry(last, incident_id, "status", officer, status, None)
        if status != "closed":
            totals["open"] += 1
        alerts.append((incident_id, 0, officer[0], officer[1], _ts(reported)))
        if rng.random() < 0.16:
            media.append((incident_id, f"AgACAgUAAxkBAAI{incident_id:08d}", reporter[0], _ts(reported)))
        if len(incidents) >= BATCH:
            flush()
    flush()
    connection.executemany(
        "INSERT OR REPLACE INTO incident_counters (year, last) VALUES (?, ?)",
        sorted(counters.items()),
    )
    connection.execute(
        "INSERT OR REPLACE INTO audit_head (id, last_hash) VALUES (1, ?)",
        (prev_hash,),
    )
    for _name, sql in indexes:
        connection.execute(sql)
    connection.execute("COMMIT")
    with contextlib.suppress(sqlite3.OperationalError):
        connection.execute("PRAGMA journal_mode = WAL")
    connection.close()
    return Filled(count, totals["open"], totals["audit"], totals["alerts"], totals["media"], len(people),
                  time.perf_counter() - started)  # fmt: skip
