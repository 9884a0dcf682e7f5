"""A change set's before and after values resolved here, for an endpoint that gives no BeforeContext /
AfterContext: the deployed template and parameters (GetTemplate, the stack's Parameters, ListStackResources
for physical ids) against the new ones, resolved by model/template_values.py."""

from __future__ import annotations

import json
from functools import cached_property

from cfn.stack_status import StackStatus

from ..model.property_diff import ResourceValues, has_context
from ..model.template_values import Account, TemplateValues
from .aws_types import ResourceChange, Stack
from .changeset import ChangeSet
from .session import AwsClients


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

    def resource_values(self, changes: list[ResourceChange]) -> list[ResourceValues]:
        """Each change's values: CloudFormation's own where it gave them, else resolved here (fetching what
        that needs now, so the review that shows them never calls AWS)."""
        self.expect(changes)
        return [
            ResourceValues.from_context(change)
            if has_context(change)
            else ResourceValues(self.before(change["LogicalResourceId"]), self.after(change["LogicalResourceId"]))
            for change in changes
        ]

    def expect(self, changes: list[ResourceChange]) -> None:
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
