"""Settings shared by every flow that uses the approval engine (rules C3, C7, D2)."""

from __future__ import annotations

from pydantic import Field

from ._base import PolicyModel


class Approvals(PolicyModel):
    nudge_interval_hours: int = Field(
        default=4,
        ge=1,
        le=24 * 7,
        description="hours a requester waits between two nudges (催办) of the same request",
    )
