"""The incident settings added to the policy are checked like every other: each mistake at its line, with a hint."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.policy import PolicyError, load_policy
from tests.test_policy import SMALL_POLICY, issue_at, line_of, write


def test_the_urgent_defaults_and_outside_bodies_of_the_shipped_policy() -> None:
    incidents = load_policy(None).incidents
    assert (incidents.quick_category, incidents.quick_severity) == ("other", "high")
    assert [body.code for body in incidents.external_report.bodies] == ["coordination_office", "police"]


def test_a_small_policy_takes_the_first_category_and_the_highest_severity(tmp_path: Path) -> None:
    incidents = load_policy(write(tmp_path, SMALL_POLICY)).incidents
    assert (incidents.quick_category, incidents.quick_severity) == ("fire", "critical")


def test_unknown_urgent_category_and_severity_are_reported_at_their_lines(tmp_path: Path) -> None:
    text = SMALL_POLICY.replace(
        "ack_window_minutes = 3", 'ack_window_minutes = 3\nurgent_category = "fir"\nurgent_severity = "extreme"'
    )
    with pytest.raises(PolicyError) as caught:
        load_policy(write(tmp_path, text))
    category = issue_at(caught.value, "incidents.urgent_category")
    assert category.line == line_of(text, '"fir"') and "did you mean 'fire'?" in category.hint
    severity = issue_at(caught.value, "incidents.urgent_severity")
    assert severity.line == line_of(text, '"extreme"')
    assert "known severity levels: low, medium, high, critical" in severity.hint
