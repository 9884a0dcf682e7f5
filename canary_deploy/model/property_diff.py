"""What each changed resource's properties are before and after a change set, and which of them change.

CloudFormation gives the values itself when asked (DescribeChangeSet with IncludePropertyValues: each
ResourceChange's BeforeContext / AfterContext). An endpoint that does not is answered locally: the
deployed template and parameters (GetTemplate, the stack's Parameters, ListStackResources for physical
ids) against the new ones, resolved by template_values. Either way a property that changes is listed
with its path (`ContainerDefinitions[app].Image`), its value before and after.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from cfn.stack_status import StackStatus

from ..aws.aws_types import ResourceChange, Stack
from ..aws.changeset import ChangeSet
from ..aws.session import AwsClients
from .template_values import Account, TemplateValues

# List items are named by the first of these keys they have (containers, environment, tags, statements).
IDENTITY_KEYS = ("Name", "Key", "Sid", "PolicyName", "ContainerName", "Id")


class _Missing:
    def __repr__(self) -> str:
        return "(none)"


MISSING: Any = _Missing()


@dataclass(frozen=True)
class PropertyChange:
    path: str
    before: Any  # MISSING: added
    after: Any  # MISSING: removed


def property_changes(before: Any, after: Any, path: str = "") -> list[PropertyChange]:
    """The leaves that differ between two property trees, with readable paths."""
    if before == after:
        return []
    if isinstance(before, dict) and isinstance(after, dict):
        changes = []
        for key in [*before, *(key for key in after if key not in before)]:
            changes += property_changes(before.get(key, MISSING), after.get(key, MISSING), _join(path, key))
        return changes
    if isinstance(before, list) and isinstance(after, list):
        identity = _identity_key(before + after)
        if identity:
            named_before = {item[identity]: item for item in before}
            named_after = {item[identity]: item for item in after}
            changes = []
            for name in [*named_before, *(name for name in named_after if name not in named_before)]:
                changes += property_changes(
                    named_before.get(name, MISSING), named_after.get(name, MISSING), f"{path}[{name}]"
                )
            return changes
        if len(before) == len(after):
            return [
                change
                for index, (old, new) in enumerate(zip(before, after, strict=True))
                for change in property_changes(old, new, f"{path}[{index}]")
            ]
    return [PropertyChange(path, before, after)]


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _identity_key(items: list) -> str | None:
    """A key every item has with a distinct, simple value, so items are compared by name, not position."""
    if not items or not all(isinstance(item, dict) for item in items):
        return None
    for key in IDENTITY_KEYS:
        values = [item.get(key) for item in items]
        if all(isinstance(value, str) for value in values):
            return key
    return None


def context_properties(context: str | None) -> dict | None:
    """The Properties of a BeforeContext / AfterContext (an encoded JSON string), or None."""
    if not context:
        return None
    return json.loads(context).get("Properties", {})


class LocalValues:
    """Before and after values resolved here, for an endpoint that gives no BeforeContext / AfterContext.
    What it needs is fetched once, on first use: GetTemplate and ListStackResources for the deployed side,
    ListExports only if a template imports a value."""

    def __init__(
        self,
        clients: AwsClients,
        change_set: ChangeSet,
        stack: Stack | None,
        template: dict,
        parameters: dict[str, str],
    ) -> None:
        self.clients = clients
        self.cfn = clients.cloudformation
        self.stack_name = change_set.stack_name
        self.stack_id = change_set.stack_id  # also a new stack's: its ARN names the account
        # A stack under review (a first deploy's dry run) holds nothing yet: there is no "before".
        self.stack = None if stack is None or StackStatus(stack["StackStatus"]).awaiting_execution else stack
        self.template = template
        self.parameters = parameters
        self.created: set[str] = set()

    def expect(self, changes: list[dict]) -> None:
        """The change set's rows: what it adds or replaces has no identifiers before it runs."""
        self.created = {
            change["LogicalResourceId"]
            for change in changes
            if change.get("Action") == "Add" or change.get("Replacement") == "True"
        }

    def before(self, logical_id: str) -> dict | None:
        return self._deployed.properties(logical_id) if self._deployed else None

    def after(self, logical_id: str) -> dict | None:
        return self._new.properties(logical_id)

    @cached_property
    def _account(self) -> Account:
        return Account.of_stack(
            self.stack_name,
            self.stack_id,
            self.clients.region,
            physical_ids=self._physical_ids(),
            exports=self._exports,
        )

    @cached_property
    def _deployed(self) -> TemplateValues | None:
        if self.stack is None:
            return None
        body = self.cfn.get_template(StackName=self.stack["StackId"], TemplateStage="Original")["TemplateBody"]
        template = body if isinstance(body, dict) else json.loads(body)
        parameters = {p["ParameterKey"]: p.get("ParameterValue", "") for p in self.stack.get("Parameters", [])}
        return TemplateValues(template, parameters, self._account)

    @cached_property
    def _new(self) -> TemplateValues:
        return TemplateValues(self.template, self.parameters, self._account, self.created)

    def _physical_ids(self) -> dict[str, str]:
        if self.stack is None:
            return {}
        paginator = self.cfn.get_paginator("list_stack_resources")
        return {
            summary["LogicalResourceId"]: summary.get("PhysicalResourceId", "")
            for page in paginator.paginate(StackName=self.stack["StackId"])
            for summary in page["StackResourceSummaries"]
        }

    def _exports(self) -> dict[str, str]:
        paginator = self.cfn.get_paginator("list_exports")
        return {export["Name"]: export["Value"] for page in paginator.paginate() for export in page["Exports"]}


class ResourceValues:
    """A resource change's properties before and after: CloudFormation's when it gave them, else local."""

    def __init__(self, change: ResourceChange, local: LocalValues | None) -> None:
        self.change = change
        self.local = local

    @cached_property
    def before(self) -> dict | None:
        if "BeforeContext" in self.change or "AfterContext" in self.change or self.local is None:
            return context_properties(self.change.get("BeforeContext"))
        return self.local.before(self.change["LogicalResourceId"])

    @cached_property
    def after(self) -> dict | None:
        if "BeforeContext" in self.change or "AfterContext" in self.change or self.local is None:
            return context_properties(self.change.get("AfterContext"))
        return self.local.after(self.change["LogicalResourceId"])

    @cached_property
    def changes(self) -> list[PropertyChange]:
        return property_changes(self.before or {}, self.after or {})
