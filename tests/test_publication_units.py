"""The pure parts of publication review: the readable diff (D2), the exaggeration pre-check (D3),
and the time and value checks of the form (D1)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.policy import PolicyError, load_policy
from bot.policy.loader import default_policy_path
from bot.services.errors import InvalidInput
from bot.services.publication_diff import inline, text_changes, version_changes
from bot.services.publication_draft import Draft, exaggeration_flags, parse_moment

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


def test_chinese_changes_are_shown_by_character_runs() -> None:
    assert (
        inline("我们的产品是最好的，欢迎选购。", "我们的产品质量可靠，欢迎选购。")
        == "我们的产品[-是最好的-]{+质量可靠+}，欢迎选购。"
    )


def test_latin_changes_are_shown_by_whole_words() -> None:
    assert inline("The best product in town.", "A reliable product in town.") == (
        "[-The-]{+A+} [-best-]{+reliable+} product in town."
    )


def test_only_changed_lines_are_listed_and_long_unchanged_stretches_are_shortened() -> None:
    tail = "，适合所有客户长期持有并获得稳定收益，详情请咨询各网点。"
    old = f"第一段不变。\n第二段说明：本产品最好{tail}\n第三段不变。"
    new = f"第一段不变。\n第二段说明：本产品稳健{tail}\n第三段不变。\n第四段新增。"
    assert text_changes(old, new) == [
        "~ 2: 第二段说明：本产品[-最好-]{+稳健+}，适合所有客户长期持有并…",
        "+ 4: 第四段新增。",
    ]
    assert text_changes("一\n二\n三", "一\n三") == ["- 2: 二"]
    assert text_changes("same", "same") == []


def test_version_changes_name_each_changed_field() -> None:
    old = Draft(title="A", body="x", channels=["website"], quantity=1).data()
    new = Draft(title="A", body="x", channels=["website", "wechat"], quantity=2, disclosure=True).data()
    assert version_changes(old, new) == {
        "channels": (["wechat"], []),
        "quantity": (1, 2),
        "disclosure": (False, True),
    }


LINE = st.text(alphabet=st.characters(blacklist_characters="{}[]+-\n\r"), max_size=40)


@given(LINE, LINE)
def test_every_added_and_removed_run_comes_from_the_right_text(old: str, new: str) -> None:
    """Whatever the lines (without the markers' own characters), what is shown as added is in the
    new line and what is shown as removed is in the old one."""
    marked = inline(old, new)
    for run in (part.split("+}")[0] for part in marked.split("{+")[1:]):
        assert run in new
    for run in (part.split("-]")[0] for part in marked.split("[-")[1:]):
        assert run in old


def test_flags_ignore_case_and_match_latin_words_whole() -> None:
    flags = exaggeration_flags(("BEST", "最", "No. 1"), "Best offer, bestseller", "we are no. 1 最")
    assert [flag.word for flag in flags] == ["BEST", "No. 1", "最"]
    assert flags[0].context.startswith("【Best】 offer")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-03-05 09:30", datetime(2026, 3, 5, 1, 30, tzinfo=UTC)),
        ("2026/3/5 9:30", datetime(2026, 3, 5, 1, 30, tzinfo=UTC)),
        ("2026年3月5日 9:30", datetime(2026, 3, 5, 1, 30, tzinfo=UTC)),
        ("2026年3月5日9点30分", datetime(2026, 3, 5, 1, 30, tzinfo=UTC)),
    ],
)
def test_times_are_read_in_the_organisations_zone(text: str, expected: datetime) -> None:
    assert parse_moment(text, SHANGHAI, NOW) == expected


@pytest.mark.parametrize("text", ["5 March", "2026-13-01 10:00", "2026-03-05", "2026-03-05 25:00"])
def test_unreadable_times_are_refused(text: str) -> None:
    with pytest.raises(InvalidInput):
        parse_moment(text, SHANGHAI, NOW)


BRANCH_CHAINS = """
[[publication.department_chains]]
department = "branch_a"
new = ["department_head", "role:information_officer", "role:leader"]
"""


def test_a_department_may_have_its_own_chain_and_other_kinds_keep_the_default(tmp_path: Path) -> None:
    """D2: the chain comes from the policy by department and kind."""
    path = tmp_path / "policy.toml"
    path.write_text(default_policy_path().read_text(encoding="utf-8") + BRANCH_CHAINS, encoding="utf-8")
    publication = load_policy(path).publication
    assert publication.chain_for("new", department="branch_a") == (
        "department_head",
        "role:information_officer",
        "role:leader",
    )
    assert publication.chain_for("takedown", department="branch_a") == ("department_head", "role:leader")
    assert publication.chain_for("new", department="marketing") == ("department_head", "role:leader")
    assert publication.chain_for("new", disclosure=True, department="branch_a")[-1] == "role:external_reviewer"


def test_an_unknown_department_in_a_chain_is_reported_at_its_line(tmp_path: Path) -> None:
    text = default_policy_path().read_text(encoding="utf-8") + BRANCH_CHAINS.replace("branch_a", "branch_z")
    path = tmp_path / "policy.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(PolicyError) as raised:
        load_policy(path)
    issue = next(i for i in raised.value.issues if i.path == "publication.department_chains[0].department")
    assert issue.line == text.splitlines().index('department = "branch_z"') + 1
    assert "branch_a" in issue.hint
