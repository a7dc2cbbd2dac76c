"""Check a policy file: ``python -m bot.policy [FILE]`` (no FILE: the shipped default)."""

from __future__ import annotations

import sys

from .loader import PolicyError, default_policy_path, load_policy


def main(argv: list[str]) -> int:
    path = argv[0] if argv else None
    try:
        policy = load_policy(path)
    except PolicyError as exc:
        print(exc, file=sys.stderr)
        print(f"{len(exc.issues)} problem(s); the bot will not start with this policy.", file=sys.stderr)
        return 1
    print(
        f"{path or default_policy_path()}: OK — {policy.organisation.name}: "
        f"{len(policy.departments)} departments, {len(policy.duty_rooms)} duty rooms, "
        f"{len(policy.incidents.categories)} incident categories, {len(policy.access.datasets)} data sets, "
        f"{len(policy.deadlines.obligations)} obligations, {len(policy.deadlines.events)} events"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
