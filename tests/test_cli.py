"""The command line as an operator uses it: real subprocesses, real files (issue 2 §1, §3, §4, §8)."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.cli import main

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def run(workdir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):  # noqa: ANN201
    """The command line in this process, in a clean folder with none of the developer's settings."""
    monkeypatch.chdir(workdir)
    for name in ("BOT_TOKEN", "DATABASE_URL", "BOT_POLICY", "ADMIN_IDS", "TELEGRAM_API_BASE"):
        monkeypatch.delenv(name, raising=False)

    def invoke(*args: str) -> Result:
        code = main(list(args))
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return invoke


def run_process(workdir: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """The real `python -m bot` in a fresh process (start-up paths, no traceback to the operator)."""
    environment = {k: v for k, v in os.environ.items() if k not in {"BOT_TOKEN", "DATABASE_URL", "BOT_POLICY"}}
    environment.update(PYTHONPATH=str(ROOT), **env)
    return subprocess.run(
        [sys.executable, "-m", "bot", *args], cwd=workdir, env=environment, capture_output=True, text=True, timeout=60
    )


def test_without_a_token_the_bot_says_what_to_set_in_one_sentence(workdir: Path) -> None:
    result = run_process(workdir)
    assert result.returncode == 2
    assert result.stderr.strip().startswith("BOT_TOKEN is not set")
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_a_malformed_token_is_refused_in_one_sentence(run, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: ANN001
    monkeypatch.setenv("BOT_TOKEN", "not-a-token")
    result = run()
    assert result.returncode == 2
    assert result.stderr.strip().startswith("BOT_TOKEN is malformed")
    assert "Traceback" not in result.stderr


def test_policy_check_accepts_the_shipped_default(run) -> None:  # noqa: ANN001
    result = run("policy", "check", str(ROOT / "bot" / "policy" / "default.toml"))
    assert result.returncode == 0, result.stderr
    assert "OK" in result.stdout


def test_policy_check_prints_each_error_with_its_line(run, workdir: Path) -> None:  # noqa: ANN001
    bad = workdir / "policy.toml"
    bad.write_text('[organisation]\nname = "X"\ntimezone = "Mars/Olympus"\n\n[invitations]\nexpiry_dayz = 3\n')
    result = run("policy", "check", str(bad))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert any(f"{bad}:3:" in line and "timezone" in line for line in lines)
    assert any(f"{bad}:6:" in line and "expiry_dayz" in line for line in lines)
    assert "Traceback" not in result.stderr


def test_a_bad_policy_stops_start_up_with_the_same_message(workdir: Path) -> None:
    bad = workdir / "policy.toml"
    bad.write_text('[organisation]\ntimezone = "Mars/Olympus"\n')
    result = run_process(workdir, BOT_TOKEN="123456789:" + "A" * 35, BOT_POLICY=str(bad))
    assert result.returncode == 2
    assert f"{bad}:2:" in result.stderr and "Traceback" not in result.stderr
    assert not (workdir / "data").exists() or not any((workdir / "data").iterdir())  # nothing half-started


def test_users_import_writes_one_link_per_row(run, workdir: Path) -> None:  # noqa: ANN001
    staff = workdir / "staff.csv"
    staff.write_text(
        "name,department,roles\n王芳,security,staff duty_officer\nLi Lei,finance,staff\n", encoding="utf-8"
    )
    result = run("users", "import", str(staff))
    assert result.returncode == 0, result.stderr
    with (workdir / "staff-links.csv").open(encoding="utf-8") as source:
        rows = list(csv.DictReader(source))
    assert [row["name"] for row in rows] == ["王芳", "Li Lei"]
    assert all("?start=" in row["link"] for row in rows)
    assert len({row["link"] for row in rows}) == 2


def test_users_import_with_a_bad_row_creates_nothing(run, workdir: Path) -> None:  # noqa: ANN001
    staff = workdir / "staff.csv"
    staff.write_text("name,department,roles\nGood,office,staff\nBad,nowhere,staff\n", encoding="utf-8")
    result = run("users", "import", str(staff))
    assert result.returncode == 1 and "Unknown department: nowhere." in result.stderr
    assert not (workdir / "staff-links.csv").exists()
    verify = run("audit", "verify")
    assert verify.returncode == 0 and "audit chain intact (0 entries)" in verify.stdout


def test_invite_and_audit_verify_from_the_command_line(run) -> None:  # noqa: ANN001
    made = run("invite", "--department", "office", "--role", "staff", "--name", "Zhao")
    assert made.returncode == 0, made.stderr
    assert "?start=" in made.stdout
    verify = run("audit", "verify")
    assert verify.returncode == 0 and "audit chain intact (1 entries)" in verify.stdout
