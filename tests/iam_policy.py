"""IAM's evaluation of a policy, as IAM documents it, for the parts our policies use: statements with Effect,
Action, Resource, Principal and Condition (StringEquals, StringLike); an explicit Deny wins over any Allow, and
what no statement allows is denied. Anything else in a statement is refused, so a test never passes on a
policy this evaluator cannot read.

Actions match case-insensitively, resources and condition values case-sensitively; `*` matches any run of
characters and `?` one, in actions, resources and StringLike values (not in StringEquals).
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

KNOWN_ELEMENTS = {"Sid", "Effect", "Action", "Resource", "Principal", "Condition"}


def wildcard(pattern: str, value: str, case_sensitive: bool = True) -> bool:
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value, flags=0 if case_sensitive else re.IGNORECASE) is not None


def listed(value) -> list:
    return value if isinstance(value, list) else [value]


@dataclass(frozen=True)
class Request:
    action: str
    resource: str = "*"
    principal: tuple[str, str] | None = None  # ("Federated", provider ARN), ("Service", ...), ("AWS", ...)
    context: dict[str, str] = field(default_factory=dict)  # condition keys, e.g. the token's claims


def _condition_holds(condition: dict, context: dict[str, str]) -> bool:
    operators = {
        "StringEquals": lambda expected, actual: expected == actual,
        "StringLike": lambda expected, actual: wildcard(expected, actual),
    }
    for operator, keys in condition.items():
        if operator not in operators:
            raise ValueError(f"condition operator {operator} is not evaluated here")
        for key, expected in keys.items():
            actual = context.get(key)
            if actual is None or not any(operators[operator](value, actual) for value in listed(expected)):
                return False
    return True


def _applies(statement: dict, request: Request) -> bool:
    unknown = set(statement) - KNOWN_ELEMENTS
    if unknown:
        raise ValueError(f"statement elements {sorted(unknown)} are not evaluated here")
    if not any(wildcard(action, request.action, case_sensitive=False) for action in listed(statement["Action"])):
        return False
    if "Resource" in statement and not any(
        wildcard(pattern, request.resource) for pattern in listed(statement["Resource"])
    ):
        return False
    if "Principal" in statement:
        kind, name = request.principal or (None, None)
        if not any(wildcard(pattern, name) for pattern in listed(statement["Principal"].get(kind, []))):
            return False
    return _condition_holds(statement.get("Condition", {}), request.context)


def allows(policy: dict, request: Request) -> bool:
    applying = [statement for statement in listed(policy["Statement"]) if _applies(statement, request)]
    return any(s["Effect"] == "Allow" for s in applying) and not any(s["Effect"] == "Deny" for s in applying)
