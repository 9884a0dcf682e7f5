"""cfn-lint rules for IAM and resource policies: every `*` resource is justified, no `*` actions.

A statement that must use `Resource: "*"` (e.g. ecr:GetAuthorizationToken, which has no resource ARN)
carries a Sid, and the resource holding the policy explains it in its Metadata:

    "Metadata": {"WildcardResourceJustifications": {"<Sid>": "why this statement needs Resource *"}}

cfn-lint loads this file by path (`--append-rules rules/`); it imports the `cfn` package (installed with the project) for its condition evaluation.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from cfnlint.rules import CloudFormationLintRule, RuleMatch

from cfn.conditions import every_value

JUSTIFICATION_KEY = "WildcardResourceJustifications"
# Resources whose properties hold policy documents: identity policies, and resource policies where
# "*" is either the resource itself (key policies) or anything the principal can reach.
POLICY_HOLDERS = (
    "AWS::IAM::Role",
    "AWS::IAM::Policy",
    "AWS::IAM::ManagedPolicy",
    "AWS::IAM::User",
    "AWS::IAM::Group",
    "AWS::KMS::Key",
    "AWS::SNS::TopicPolicy",
    "AWS::SQS::QueuePolicy",
    "AWS::S3::BucketPolicy",
    "AWS::ECR::Repository",
)
# Trust policies name principals, not resources; they are checked elsewhere (checkov CKV_AWS_60/61).
SKIPPED_PROPERTIES = ("AssumeRolePolicyDocument",)


def _statements(value: Any, path: list) -> Iterator[tuple[dict, list]]:
    """Every policy statement under value, found wherever it sits (inline policies, Fn::If branches)."""
    if isinstance(value, dict):
        if "Effect" in value and ("Action" in value or "NotAction" in value):
            yield value, path
            return
        for key, child in value.items():
            if key not in SKIPPED_PROPERTIES:
                yield from _statements(child, path + [key])
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from _statements(child, path + [index])


def _strings(value: Any) -> Iterator[str]:
    """The literal strings a Resource or Action can be, in any Fn::If branch: itself or its list items."""
    return (item for item in every_value(value) if isinstance(item, str))


def _allow_statements(cfn) -> Iterator[tuple[dict, dict, list]]:
    """(resource, statement, statement path) for every Allow statement in a policy-holding resource."""
    for name, resource in cfn.get_resources(list(POLICY_HOLDERS)).items():
        for statement, path in _statements(resource.get("Properties"), ["Resources", name, "Properties"]):
            if statement.get("Effect") == "Allow":
                yield resource, statement, path


class WildcardResourceJustified(CloudFormationLintRule):
    id = "E9110"
    shortdesc = "IAM statement with Resource * has no justification"
    description = (
        'An Allow statement with Resource "*" needs a Sid and an entry for that Sid in the resource\'s '
        f"Metadata.{JUSTIFICATION_KEY} saying why no narrower resource works."
    )
    source_url = "https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html"
    tags = ["iam", "security"]

    def match(self, cfn):
        for resource, statement, path in _allow_statements(cfn):
            if "*" not in _strings(statement.get("Resource")):
                continue
            sid = statement.get("Sid")
            metadata = resource.get("Metadata")
            justifications = metadata.get(JUSTIFICATION_KEY) if isinstance(metadata, dict) else None
            reason = justifications.get(sid) if isinstance(justifications, dict) and isinstance(sid, str) else None
            if not isinstance(sid, str):
                yield RuleMatch(
                    path + ["Resource"],
                    f'IAM statement allows Resource "*" and has no Sid; add a Sid '
                    f"and explain it in Metadata.{JUSTIFICATION_KEY}",
                )
            elif not (isinstance(reason, str) and reason.strip()):
                yield RuleMatch(
                    path + ["Resource"],
                    f'IAM statement {sid} allows Resource "*" with no reason; add '
                    f'Metadata.{JUSTIFICATION_KEY}.{sid}: "<why>" to the resource',
                )


class WildcardAction(CloudFormationLintRule):
    id = "E9111"
    shortdesc = "IAM statement allows every action of a service"
    description = 'Allow statements must list actions: no "*", no "<service>:*", and no NotAction.'
    source_url = "https://docs.aws.amazon.com/IAM/latest/UserGuide/best-practices.html#grant-least-privilege"
    tags = ["iam", "security"]

    def match(self, cfn):
        for _, statement, path in _allow_statements(cfn):
            if "NotAction" in statement:
                yield RuleMatch(
                    path + ["NotAction"],
                    "IAM Allow statement uses NotAction, which grants every other action; list the actions instead",
                )
            for action in _strings(statement.get("Action")):
                if action == "*" or action.endswith(":*"):
                    yield RuleMatch(path + ["Action"], f"IAM statement allows {action}; list the actions it needs")
