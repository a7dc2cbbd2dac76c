"""The organisation's policy file (DESIGN.md "Configuration"; every default of RULES.md).

What an administrator notices: the shipped default carries the RULES.md numbers, and a
bad file is refused as a whole with one line per mistake — file, line, setting, problem
and a hint — instead of the bot half-starting.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from bot.policy import Policy, PolicyError, PolicyIssue, load_policy
from bot.policy.loader import default_policy_path
from bot.policy.schema import DueRuleSpec

SMALL_POLICY = """\
# Policy of a small logistics company.
[organisation]
name = "华东物流有限公司"
timezone = "Asia/Shanghai"

[[departments]]
code = "company"
name = { zh_Hans = "公司", en = "Company" }

[[departments]]
code = "security"
name = { zh_Hans = "保卫部", en = "Security" }
parent = "company"

[[departments]]
code = "information_centre"
name = { zh_Hans = "信息中心", en = "Information centre" }
parent = "company"

[[duty_rooms]]
code = "dispatch"
name = { zh_Hans = "调度室", en = "Dispatch room" }
department = "security"

[[duty_rooms.shifts]]
code = "day"
name = { zh_Hans = "白班", en = "Day shift" }
start = "08:00"
end = "20:00"

[[duty_rooms.shifts]]
code = "night"
name = { zh_Hans = "夜班", en = "Night shift" }
start = "20:00"
end = "08:00"

[[duty_rooms]]
code = "info_centre"
name = { zh_Hans = "信息中心值班", en = "IT duty desk" }
department = "information_centre"

[[duty_rooms.shifts]]
code = "all_day"
name = { zh_Hans = "全天", en = "All day" }
start = "00:00"
end = "00:00"

[incidents]
ack_window_minutes = 3

[[incidents.categories]]
code = "fire"
name = { zh_Hans = "火情", en = "Fire" }
duty_room = "dispatch"
serious = true
external_contact = { name = { zh_Hans = "消防队", en = "Fire brigade" }, phone = "119" }

[[incidents.categories]]
code = "information_security"
name = { zh_Hans = "信息安全", en = "Information security" }
duty_room = "info_centre"
"""


def write(tmp_path: Path, text: str, name: str = "policy.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def line_of(text: str, needle: str) -> int:
    """1-based number of the only line of ``text`` containing ``needle``."""
    found = [number for number, line in enumerate(text.splitlines(), 1) if needle in line]
    assert len(found) == 1, f"{needle!r} occurs on lines {found}"
    return found[0]


def refused(path: Path) -> PolicyError:
    with pytest.raises(PolicyError) as caught:
        load_policy(path)
    return caught.value


def issue_at(error: PolicyError, path: str) -> PolicyIssue:
    matches = [issue for issue in error.issues if issue.path == path]
    assert matches, f"no issue at {path}; got:\n{error}"
    return matches[0]


# -- the shipped default --------------------------------------------------------------------------


def test_shipped_default_has_the_incident_windows_of_rules_a2_a4() -> None:
    incidents = load_policy(None).incidents
    assert incidents.ack_window_minutes == 3  # A2: contact within 3 minutes
    assert incidents.chains["default"] == ("on_duty_backup", "department_head", "role:leader")
    assert incidents.loss_threshold == 10000  # A4(3)
    assert incidents.external_report.hours == 24  # A4
    assert incidents.external_report.reminders_hours == (12, 4, 1)
    assert (incidents.third_case.count, incidents.third_case.window_days) == (3, 30)  # A4(4)
    assert incidents.third_case.scope == "organisation"


def test_shipped_default_routes_the_nine_categories_of_rules_a1_a7() -> None:
    policy = load_policy(None)
    categories = {category.code: category for category in policy.incidents.categories}
    assert set(categories) == {
        "public_order", "casualty", "theft_fraud", "fire", "production_equipment",
        "quality", "safety_environment", "information_security", "other",
    }  # fmt: skip
    fire = categories["fire"]
    assert fire.serious and fire.external_contact is not None and fire.external_contact.phone == "119"
    assert categories["casualty"].externally_reportable  # A4(2)
    assert categories["theft_fraud"].asks_loss  # A4(3)
    assert categories["information_security"].duty_room == "info_centre"  # A6, A7
    dispatch = policy.duty_room("dispatch")
    assert dispatch.name.zh_Hans == "调度室"
    assert [(s.start, s.end, s.crosses_midnight) for s in dispatch.shifts] == [
        (dt.time(8), dt.time(20), False),
        (dt.time(20), dt.time(8), True),
    ]


def test_shipped_default_has_the_classification_chains_of_rule_c2() -> None:
    access = load_policy(None).access
    assert access.chains == {
        "internal": ("data_owner",),
        "secret": ("department_head",),
        "confidential": ("department_head", "data_owner"),
        "top_secret": ("department_head", "data_owner", "role:leader"),
    }
    names = {level.code: level.name.zh_Hans for level in access.classifications}
    assert names == {"internal": "内部", "secret": "秘密", "confidential": "机密", "top_secret": "绝密"}
    assert access.step_window_working_days == 1  # C7
    assert access.dataset("customer_archives").classification == "confidential"
    # C4/C5: full and export access always need the top step; read-only does not.
    assert access.chain_for("financial_reports", "read_only") == ("department_head",)
    assert access.chain_for("financial_reports", "export") == ("department_head", "role:leader")


def test_shipped_default_invitations_audit_and_publication_rules_f2_a6_d2_d4() -> None:
    policy = load_policy(None)
    assert policy.invitations.expiry_days == 7  # F2
    assert policy.audit.retention_days == 0  # A6: kept forever by default
    assert policy.publication.chains.new == ("department_head", "role:leader")  # D2
    assert policy.publication.chain_for("change", disclosure=True)[-1] == "role:external_reviewer"  # D5
    assert len(policy.publication.prohibited_checklist) == 9  # D4
    assert {"最", "第一", "顶级", "绝对", "100%"} <= set(policy.publication.exaggeration_words)  # D3
    assert sum(channel.designated for channel in policy.publication.channels) == 1


def test_shipped_default_deadline_examples_of_rules_e1_e6() -> None:
    deadlines = load_policy(None).deadlines
    annual = deadlines.obligation("annual_report").rule
    assert (annual.anchor, annual.offset, annual.unit) == ("fiscal_year_end", 4, "months")  # E1
    branch = deadlines.obligation("customer_risk_branch").rule
    credit = deadlines.obligation("customer_risk_credit").rule
    assert (branch.offset, branch.unit, credit.offset) == (4, "working_days", 7)  # E3
    corrections = deadlines.obligation("customer_risk_corrections").rule
    assert (corrections.offset, corrections.time, corrections.clock) == (5, "12:00", dt.time(12, 0))
    flash = deadlines.obligation("financial_flash_report").rule
    assert (flash.offset, flash.unit, flash.roll, flash.time) == (5, "calendar_days", "following", "23:59")
    assert deadlines.obligation("annual_financial_report_regional").rule.date == "03-31"
    agm = deadlines.event("annual_shareholders_meeting").obligations[0].rule  # E2
    assert (agm.offset, agm.direction) == (20, "before")
    board = deadlines.event("board_resolution").obligations[0].rule
    assert (board.offset, board.unit) == (2, "trading_days")
    assert deadlines.default_reminders == (dt.timedelta(days=7), dt.timedelta(days=1), dt.timedelta(hours=2))


def test_department_tree_walks_up_to_the_company() -> None:
    policy = load_policy(None)
    assert [d.code for d in policy.parent_chain("branch_a")] == ["branch_a", "company"]
    assert policy.department("information_centre").name.zh_Hans == "信息中心"
    with pytest.raises(KeyError):
        policy.department("no_such_department")


def test_every_setting_in_the_shipped_file_is_explained_by_a_comment() -> None:
    """The administrator edits default.toml: each setting is preceded by a comment (the first
    time it appears in a repeated table; later repetitions follow the same pattern)."""
    text = default_policy_path().read_text(encoding="utf-8")
    table, explained, unexplained = "", set(), []
    previous = ""
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if line.startswith("["):
            table = re.sub(r"\s", "", line).strip("[]")
        elif re.match(r"[A-Za-z_]+\s*=", line) and not raw.startswith(" "):
            key = (table, line.split("=")[0].strip())
            if previous.startswith("#"):
                explained.add(key)
            elif key not in explained:
                unexplained.append(f"{number}: {line}")
        if line:
            previous = line
    assert unexplained == []


def test_a_file_with_only_the_required_settings_gets_the_rules_defaults(tmp_path: Path) -> None:
    policy = load_policy(write(tmp_path, SMALL_POLICY))
    default = load_policy(None)
    assert policy.organisation.name == "华东物流有限公司"
    for section in ("invitations", "audit", "publication"):
        assert getattr(policy, section) == getattr(default, section)
    assert policy.access.chains == default.access.chains
    assert policy.incidents.external_report == default.incidents.external_report
    assert policy.incidents.chain_for("fire") == default.incidents.chains["default"]
    assert {role.code for role in policy.roles} == {role.code for role in default.roles}
    assert policy.deadlines.default_reminders == default.deadlines.default_reminders


# -- mistakes, each reported at its line with a hint -----------------------------------------------


def test_several_mistakes_are_all_reported_each_at_its_line_with_a_hint(tmp_path: Path) -> None:
    text = (
        SMALL_POLICY.replace('timezone = "Asia/Shanghai"', 'timezone = "Asia/Shangai"')
        .replace("ack_window_minutes = 3", "ack_window_minuts = 3")
        .replace('duty_room = "info_centre"', 'duty_room = "it_desk"')
        .replace('code = "company"\n', 'code = "company"\nparent = "security"\n')
    )
    error = refused(write(tmp_path, text))

    zone = issue_at(error, "organisation.timezone")
    assert zone.line == line_of(text, "Asia/Shangai")
    assert "Asia/Shanghai" in zone.hint

    typo = issue_at(error, "incidents.ack_window_minuts")
    assert typo.line == line_of(text, "ack_window_minuts")
    assert "did you mean 'ack_window_minutes'" in typo.hint

    room = issue_at(error, "incidents.categories[1].duty_room")  # A1: reports reach a duty room
    assert room.line == line_of(text, '"it_desk"')
    assert "known duty rooms: dispatch, info_centre" in room.hint

    cycle = issue_at(error, "departments[0].parent")
    assert cycle.line == line_of(text, 'parent = "security"')
    assert "company → security → company" in cycle.message
    assert any(issue.message == "there is no root department" for issue in error.issues)

    assert len(error.issues) == 5
    rendered = str(error).splitlines()
    assert len(rendered) == 5 and rendered == sorted(rendered, key=lambda line: int(line.split(":")[1]))
    assert (
        f"{tmp_path / 'policy.toml'}:{room.line}: incidents.categories[1].duty_room: unknown duty room 'it_desk' "
        "(hint: known duty rooms: dispatch, info_centre)"
    ) in rendered


def test_a_toml_syntax_error_reports_its_line(tmp_path: Path) -> None:
    text = SMALL_POLICY.replace('code = "night"', "code = night")
    path = write(tmp_path, text, "broken.toml")
    error = refused(path)
    [issue] = error.issues
    assert issue.line == line_of(text, "code = night")
    assert "TOML syntax error" in issue.message and "double quotes" in issue.hint
    assert str(error).startswith(f"{path}:{issue.line}: TOML syntax error")


def test_a_fiscal_year_must_end_on_a_month_end_rule_e1(tmp_path: Path) -> None:
    text = SMALL_POLICY.replace('timezone = "Asia/Shanghai"\n', 'fiscal_year_end = "03-15"\n')
    issue = issue_at(refused(write(tmp_path, text)), "organisation.fiscal_year_end")
    assert issue.line == line_of(text, '"03-15"') and "last day of a month" in issue.message
    march = text.replace('"03-15"', '"03-31"')
    assert load_policy(write(tmp_path, march)).organisation.fiscal_year_end == "03-31"


def test_audit_retention_under_60_days_is_refused_rule_a6(tmp_path: Path) -> None:
    text = SMALL_POLICY + "\n[audit]\nretention_days = 30\n"
    issue = issue_at(refused(write(tmp_path, text)), "audit.retention_days")
    assert issue.line == line_of(text, "retention_days = 30")
    assert "60 days" in issue.message and "A6" in issue.message
    assert "0 to keep them forever" in issue.hint
    assert load_policy(write(tmp_path, SMALL_POLICY + "\n[audit]\nretention_days = 60\n")).audit.retention_days == 60


def test_a_missing_built_in_role_is_refused(tmp_path: Path) -> None:
    roles = "".join(
        f'\n[[roles]]\ncode = "{code}"\nname = {{ zh_Hans = "{zh}", en = "{code}" }}\n'
        for code, zh in [
            ("staff", "员工"), ("duty_officer", "值班员"), ("department_head", "部门负责人"),
            ("leader", "主管领导"), ("information_officer", "信息员"), ("administrator", "管理员"),
            ("auditor", "审计员"),
        ]
    )  # fmt: skip
    text = SMALL_POLICY + roles
    issue = issue_at(refused(write(tmp_path, text)), "roles")
    assert "external_reviewer" in issue.message  # the role of the D5 external review step
    assert issue.line == text.splitlines().index("[[roles]]") + 1
    assert 'code = "external_reviewer"' in issue.hint


def test_a_missing_setting_points_at_its_table_header(tmp_path: Path) -> None:
    text = SMALL_POLICY.replace('duty_room = "info_centre"\n', "")
    issue = issue_at(refused(write(tmp_path, text)), "incidents.categories[1].duty_room")
    assert issue.message == "the required setting 'duty_room' is missing"
    assert issue.line == text.splitlines().index("[[incidents.categories]]", line_of(text, '"fire"')) + 1
    assert "duty room" in issue.hint


def test_mistakes_inside_inline_tables_and_lists_point_at_their_own_line(tmp_path: Path) -> None:
    text = SMALL_POLICY + (
        "\n[deadlines]\n"
        'default_reminders = [\n    "7d",\n    "tomorrow",\n]\n'
        "\n[[deadlines.obligations]]\n"
        'code = "monthly_risk_data"\n'
        'name = { zh_Hans = "客户风险统计数据", en = "Customer-risk data" }\n'
        'department = "security"\n'
        'owner_role = "duty_officer"\n'
        'rule = { anchor = "month_end", offset = 4, unit = "workdays" }\n'
    )
    error = refused(write(tmp_path, text))
    reminder = issue_at(error, "deadlines.default_reminders[1]")
    assert reminder.line == line_of(text, '"tomorrow"') and '"7d"' in reminder.hint
    unit = issue_at(error, "deadlines.obligations[0].rule.unit")
    assert unit.line == line_of(text, '"workdays"')
    assert "did you mean 'working_days'" in unit.hint


def test_unknown_references_across_sections_name_the_known_codes(tmp_path: Path) -> None:
    text = SMALL_POLICY + (
        "\n[access.chains]\n"
        'internal = ["data_owner"]\nsecret = ["department_head"]\n'
        'confidential = ["department_head", "data_owner"]\n'
        'top_secret = ["department_head", "role:general_manager"]\n'
        "\n[[access.datasets]]\n"
        'code = "customer_archives"\n'
        'name = { zh_Hans = "客户档案", en = "Customer archives" }\n'
        'department = "marketing"\n'
        'classification = "classified"\n'
    )
    error = refused(write(tmp_path, text))
    role = issue_at(error, "access.chains.top_secret[1]")  # C2
    assert role.line == line_of(text, "general_manager") and "leader" in role.hint
    department = issue_at(error, "access.datasets[0].department")
    assert "known departments: company, security, information_centre" in department.hint
    level = issue_at(error, "access.datasets[0].classification")
    assert level.line == line_of(text, '"classified"') and "confidential" in level.hint


def test_english_names_are_required_while_english_is_offered(tmp_path: Path) -> None:
    text = SMALL_POLICY.replace('{ zh_Hans = "夜班", en = "Night shift" }', '{ zh_Hans = "夜班" }')
    issue = issue_at(refused(write(tmp_path, text)), "duty_rooms[0].shifts[1].name")
    assert issue.line == line_of(text, '"夜班"')
    chinese_only = text.replace("[organisation]\n", '[organisation]\nlanguages = ["zh_Hans"]\n')
    assert load_policy(write(tmp_path, chinese_only)).duty_rooms[0].shifts[1].name.get("en") == "夜班"


def test_a_misspelt_key_in_any_table_of_the_default_is_reported_at_its_line(tmp_path: Path) -> None:
    """Whichever table of the shipped file the administrator mistypes a key in, the error
    names exactly that line (and nothing else)."""
    lines = default_policy_path().read_text(encoding="utf-8").splitlines()
    headers = [index for index, line in enumerate(lines) if line.startswith("[")]
    assert len(headers) > 60
    wrong = {}
    for header in headers:
        at = header + 1
        text = "\n".join([*lines[:at], "zz_misspelt = 1", *lines[at:]]) + "\n"
        reported = {issue.line for issue in refused(write(tmp_path, text)).issues}
        if reported != {at + 1}:
            wrong[lines[header]] = reported
    assert wrong == {}


# -- the whole file or nothing ---------------------------------------------------------------------


def test_an_empty_file_names_every_required_section(tmp_path: Path) -> None:
    error = refused(write(tmp_path, "# nothing yet\n"))
    assert [issue.path for issue in error.issues] == ["departments", "duty_rooms", "incidents", "organisation"]
    assert all(issue.line is None for issue in error.issues)
    assert issue_at(error, "departments").hint.startswith("add at least one [[departments]] table")
    assert issue_at(error, "organisation").hint.startswith("add the table [organisation]")


def test_a_missing_file_is_refused_with_the_setting_to_check(tmp_path: Path) -> None:
    error = refused(tmp_path / "nowhere.toml")
    [issue] = error.issues
    assert issue.line is None and "BOT_POLICY" in issue.hint
    assert str(error).startswith(f"{tmp_path / 'nowhere.toml'}: cannot read the policy file")


def test_a_policy_built_in_code_is_checked_as_strictly_as_the_file() -> None:
    """Other modules may build policies in code (tests): cross-references still hold."""
    with pytest.raises(ValueError, match="unknown duty room 'nowhere'"):
        Policy.model_validate(
            {
                "organisation": {"name": "X"},
                "departments": [{"code": "company", "name": {"zh_Hans": "公司", "en": "Company"}}],
                "duty_rooms": [
                    {
                        "code": "dispatch",
                        "name": {"zh_Hans": "调度室", "en": "Dispatch"},
                        "department": "company",
                        "shifts": [{"code": "day", "name": {"zh_Hans": "白班", "en": "Day"},
                                    "start": "08:00", "end": "20:00"}],
                    }
                ],
                "incidents": {"categories": [{"code": "fire", "name": {"zh_Hans": "火情", "en": "Fire"},
                                              "duty_room": "nowhere"}]},
            }
        )  # fmt: skip


def test_due_rules_default_to_end_of_day_and_need_a_day_for_yearly_anchors_rule_e3() -> None:
    rule = DueRuleSpec(anchor="month_end", offset=5)
    assert (rule.time, rule.roll, rule.direction, rule.unit) == ("23:59", None, "after", "calendar_days")
    with pytest.raises(ValueError, match="yearly rule needs the day"):
        DueRuleSpec(anchor="yearly")
    with pytest.raises(ValueError, match="not a day of the year"):
        DueRuleSpec(anchor="yearly", date="04-31")
    with pytest.raises(ValueError, match="not a time of day"):
        DueRuleSpec(anchor="month_end", time="24:00")


def test_the_shipped_deadlines_compute_with_the_due_date_engine_rules_e1_e3() -> None:
    """The rule tables are what bot.duedates reads: every shipped rule computes a due time."""
    duedates = pytest.importorskip("bot.duedates")
    policy = load_policy(None)
    calendar = duedates.WorkCalendar(policy.deadlines.working_overrides())
    zone = policy.organisation.zone
    flash = policy.deadlines.obligation("financial_flash_report").rule
    due = duedates.due_at(flash, dt.date(2025, 9, 30), calendar, zone)
    assert due.local == dt.datetime(2025, 10, 9, 23, 59, tzinfo=zone)  # the 5th falls in the National Day holiday
    annual = policy.deadlines.obligation("annual_report").rule
    assert duedates.due_at(annual, dt.date(2024, 12, 31), calendar, zone).local.date() == dt.date(2025, 4, 30)
    after = dt.datetime(2025, 1, 1, tzinfo=zone)
    for obligation in policy.deadlines.obligations:
        assert duedates.next_instances(obligation.rule, after, 1, calendar, zone, policy.organisation.fiscal_year_end)
    for event in policy.deadlines.events:
        for deadline in event.obligations:
            assert duedates.due_at(deadline.rule, dt.date(2025, 6, 18), calendar, zone).local.year == 2025


def test_a_recurring_obligation_cannot_hang_on_an_event_rule_e2(tmp_path: Path) -> None:
    text = SMALL_POLICY + (
        "\n[[deadlines.obligations]]\n"
        'code = "board_notice"\n'
        'name = { zh_Hans = "董事会决议公告", en = "Board notice" }\n'
        'department = "company"\n'
        'owner_role = "information_officer"\n'
        'rule = { anchor = "event", offset = 2, unit = "trading_days" }\n'
    )
    issue = issue_at(refused(write(tmp_path, text)), "deadlines.obligations[0]")
    assert "[[deadlines.events]]" in issue.hint
    assert issue.line == text.splitlines().index("[[deadlines.obligations]]") + 1
