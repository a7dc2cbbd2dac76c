"""Which earlier or later reports may be the same case as this one (issue 14, A1, A4(4)): same category and
duty room, occurred within the policy's window of each other, and — when both carry a map pin — within its
distance (haversine). The alert shows them; the officer decides."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.policy import Policy
from storage.incidents_models import Incident
from storage.uow import UnitOfWork

EARTH_RADIUS_METRES = 6_371_000.0
MAX_SUGGESTIONS = 3


@dataclass(frozen=True)
class Similar:
    """A suggested duplicate: its id and number, when it occurred, and how far away (None: no two pins)."""

    incident_id: int
    number: str
    occurred_at: datetime
    metres: int | None


def haversine_metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    """The great-circle distance between two (latitude, longitude) points, in metres."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_METRES * math.asin(min(1.0, math.sqrt(h)))


def pin(latitude: float | None, longitude: float | None) -> tuple[float, float] | None:
    return (latitude, longitude) if latitude is not None and longitude is not None else None


async def similar(uow: UnitOfWork, policy: Policy, incident: Incident) -> list[Similar]:
    """Possible duplicates of `incident`, nearest in time first (at most a few)."""
    rules = policy.incidents.duplicates
    window = timedelta(minutes=rules.window_minutes)
    rows = await uow.incidents.near_in_time(
        incident.category, incident.duty_room, incident.occurred_at - window, incident.occurred_at + window, incident.id
    )
    found = []
    here = pin(incident.latitude, incident.longitude)
    for incident_id, number, occurred_at, latitude, longitude in rows:
        there = pin(latitude, longitude)
        metres = round(haversine_metres(here, there)) if here and there else None
        if metres is not None and metres > rules.distance_metres:
            continue
        found.append(Similar(incident_id, number, occurred_at, metres))
    found.sort(key=lambda s: abs((s.occurred_at - incident.occurred_at).total_seconds()))
    return found[:MAX_SUGGESTIONS]
