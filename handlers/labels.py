"""Names from the policy in the member's language."""

from __future__ import annotations

from bot.policy import Policy


def role_name(policy: Policy, code: str, language: str) -> str:
    role = next((r for r in policy.roles if r.code == code), None)
    return role.name.get(language) if role else code


def department_name(policy: Policy, code: str, language: str) -> str:
    department = next((d for d in policy.departments if d.code == code), None)
    return department.name.get(language) if department else code
