"""The organisation's policy file: every default of RULES.md in one TOML file.

``load_policy(path)`` returns a validated, immutable :class:`Policy` or raises
:class:`PolicyError` listing every mistake with its line (DESIGN.md, Configuration).
"""

from .loader import PolicyError, PolicyIssue, default_policy_path, load_policy, parse_policy
from .schema import Policy

__all__ = ["Policy", "PolicyError", "PolicyIssue", "default_policy_path", "load_policy", "parse_policy"]
