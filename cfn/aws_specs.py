"""What AWS publishes about its resource types and IAM actions, as cfn-lint ships it: CloudFormation's registry
schemas (each type's properties, which of them are create-only, the permissions its handlers need) and IAM's
Service Authorization Reference (each service's actions, the resource types they act on and their ARNs).
Read by the CI role's template (the execution role's permissions), its tests and the local AWS (replacements).
Standard library only: cfn-lint's data files are read, not its modules (whose import costs a second).
"""

from __future__ import annotations

import functools
import importlib.util
import json
from pathlib import Path
from typing import Any


@functools.cache
def cfn_lint_data() -> Path:
    """cfn-lint's data folder, found without importing cfn-lint."""
    spec = importlib.util.find_spec("cfnlint")
    if spec is None or spec.origin is None:
        raise ModuleNotFoundError("cfn-lint is not installed", name="cfnlint")
    return Path(spec.origin).parent / "data"


@functools.cache
def resource_schema(region: str, resource_type: str) -> dict[str, Any]:
    """The type's registry schema as cfn-lint ships it (a Custom:: type's is AWS::CloudFormation::CustomResource);
    empty for a type it does not know.

    Read from cfn-lint's bundled files (providers/<region>.json maps a type to a digest, resources/<digest>.json
    is the schema) rather than through cfnlint, whose import (sympy) costs a second of every local AWS start;
    through cfnlint's schema manager when a cfn-lint lays its files out otherwise."""
    schemas = cfn_lint_data() / "schemas"
    try:
        digests = json.loads((schemas / "providers" / f"{region}.json").read_text(encoding="utf-8"))
        digest = digests.get(
            "AWS::CloudFormation::CustomResource" if resource_type.startswith("Custom::") else resource_type
        )
        return {} if digest is None else json.loads((schemas / "resources" / f"{digest}.json").read_text("utf-8"))
    except FileNotFoundError:
        return _schema_from_cfn_lint(region, resource_type)


def _schema_from_cfn_lint(region: str, resource_type: str) -> dict[str, Any]:
    from cfnlint.schema.manager import PROVIDER_SCHEMA_MANAGER, ResourceNotFoundError  # type: ignore[import-untyped]

    try:
        return PROVIDER_SCHEMA_MANAGER.get_resource_schema(region, resource_type).schema
    except (ResourceNotFoundError, KeyError):  # a type, or a region, it does not know
        return {}


@functools.cache
def service_authorization() -> dict[str, dict[str, Any]]:
    """IAM's actions and resource types by service prefix, names in lower case:
    `{"ecs": {"Actions": {"describeservices": {"Resources": ["service"]}}, "Resources": {"service": {"ARNFormats":
    ["arn:${Partition}:ecs:${Region}:${Account}:service/.*"]}}}}` (what cfn-lint's W3037 checks actions against)."""
    return json.loads((cfn_lint_data() / "AdditionalSpecs" / "Policies.json").read_text(encoding="utf-8"))
