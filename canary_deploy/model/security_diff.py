"""The IAM statements and security-group rules a change adds and removes, as CDK's security diff shows
them: what a reviewer must see before widening access, one line each."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

SECURITY_GROUP_TYPES = ("AWS::EC2::SecurityGroup", "AWS::EC2::SecurityGroupIngress", "AWS::EC2::SecurityGroupEgress")
POLICY_HOLDERS = ("AWS::IAM::Role", "AWS::IAM::User", "AWS::IAM::Group")
POLICY_TYPES = ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy")
# Where a rule's traffic goes to or comes from.
PEER_KEYS = (
    "CidrIp",
    "CidrIpv6",
    "DestinationSecurityGroupId",
    "SourceSecurityGroupId",
    "DestinationPrefixListId",
    "SourcePrefixListId",
    "SourceSecurityGroupName",
)


@dataclass(frozen=True)
class Grant:
    """One statement or rule: its canonical form decides identity, its text is what is shown."""

    key: str
    text: str


def is_security_type(resource_type: str) -> bool:
    return resource_type.startswith("AWS::IAM::") or resource_type in SECURITY_GROUP_TYPES


def security_changes(resource_type: str, before: dict | None, after: dict | None) -> tuple[list[str], list[str]]:
    """(added, removed) lines for an IAM or security-group resource; two empty lists for other types."""
    old, new = _grants(resource_type, before or {}), _grants(resource_type, after or {})
    old_keys, new_keys = {grant.key for grant in old}, {grant.key for grant in new}
    return (
        [grant.text for grant in new if grant.key not in old_keys],
        [grant.text for grant in old if grant.key not in new_keys],
    )


def _grants(resource_type: str, properties: dict) -> list[Grant]:
    if resource_type in SECURITY_GROUP_TYPES:
        return _rules(resource_type, properties)
    grants = []
    if "AssumeRolePolicyDocument" in properties:
        grants += _statements("trust", properties["AssumeRolePolicyDocument"])
    for policy in properties.get("Policies") or []:
        grants += _statements(policy.get("PolicyName", "policy"), policy.get("PolicyDocument"))
    if resource_type in POLICY_TYPES:
        grants += _statements(properties.get("PolicyName") or "policy", properties.get("PolicyDocument"))
    grants += [
        _grant({"ManagedPolicyArn": arn}, f"managed policy {arn}") for arn in properties.get("ManagedPolicyArns") or []
    ]
    return grants


def _statements(label: str, document: Any) -> list[Grant]:
    if not isinstance(document, dict):
        return []
    statements = document.get("Statement") or []
    return [
        _grant({"policy": label, **statement}, _statement_text(label, statement)) for statement in _listed(statements)
    ]


def _statement_text(label: str, statement: dict) -> str:
    text = f"[{label}] {statement.get('Effect', '?')} " + _negatable(statement, "Action")
    if "Resource" in statement or "NotResource" in statement:
        text += " on " + _negatable(statement, "Resource")
    if "Principal" in statement:
        text += f" to {_compact(statement['Principal'])}"
    if "Condition" in statement:
        text += f" if {_compact(statement['Condition'])}"
    return text


def _negatable(statement: dict, key: str) -> str:
    """Action / Resource as a list, or NotAction / NotResource as 'all but' that list."""
    negated = f"Not{key}" in statement
    values = ", ".join(str(value) for value in _listed(statement.get(f"Not{key}" if negated else key)))
    return f"all but {values}" if negated else values


def _rules(resource_type: str, properties: dict) -> list[Grant]:
    if resource_type == "AWS::EC2::SecurityGroupIngress":
        return [_rule("ingress", properties)]
    if resource_type == "AWS::EC2::SecurityGroupEgress":
        return [_rule("egress", properties)]
    return [_rule("ingress", rule) for rule in properties.get("SecurityGroupIngress") or []] + [
        _rule("egress", rule) for rule in properties.get("SecurityGroupEgress") or []
    ]


def _rule(direction: str, rule: dict) -> Grant:
    protocol = str(rule.get("IpProtocol", "?"))
    if protocol == "-1":
        what = "all traffic"
    else:
        low, high = rule.get("FromPort"), rule.get("ToPort")
        what = f"{protocol} {low}" if low == high else f"{protocol} {low}-{high}"
    peers = [str(rule[key]) for key in PEER_KEYS if key in rule]
    text = f"{direction} {what} {'to' if direction == 'egress' else 'from'} {', '.join(peers) or '?'}"
    if rule.get("Description"):
        text += f" ({rule['Description']})"
    return _grant({"direction": direction, **{k: v for k, v in rule.items() if k != "Description"}}, text)


def _grant(identity: dict, text: str) -> Grant:
    return Grant(json.dumps(identity, sort_keys=True, default=str), text)


def _listed(value: Any) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _compact(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
