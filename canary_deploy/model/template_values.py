"""A template's resource properties with their intrinsic functions resolved, as CloudFormation resolves
them for a deploy, to compare what a stack has with what a change set will give it.

Parameters, pseudo parameters, Fn::If / Condition / AWS::NoValue (cfn.conditions, the project's one
evaluation of conditions), Ref, Fn::Sub, Fn::Join, Fn::Select, Fn::Split, Fn::FindInMap and
Fn::ImportValue (the region's exports) are resolved. What only CloudFormation knows stays a readable
placeholder, the same on both sides of a comparison so that it differs only when its source does:
`(Role.Arn)` for an attribute, `(new TaskDefinition)` for a resource the change set adds or replaces.
NoEcho parameters resolve to `****`, as CloudFormation shows them.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from cfn.conditions import Conditions
from cfn.intrinsics import render_sub, sub_arguments

MASK = "****"


@dataclass
class Account:
    """What resolving needs to know about the stack and its account."""

    stack_name: str
    stack_id: str = ""
    region: str = ""
    account_id: str = ""
    partition: str = "aws"
    physical_ids: dict[str, str] = field(default_factory=dict)  # logical id -> physical id, deployed ones
    exports: Callable[[], dict[str, str]] = dict  # called once, on the first Fn::ImportValue

    @classmethod
    def of_stack(cls, stack_name: str, stack_id: str, region: str, **facts: Any) -> Account:
        """The account id and partition come from the stack's ARN: no call needed."""
        parts = stack_id.split(":") if stack_id.startswith("arn:") else []
        return cls(
            stack_name,
            stack_id,
            region,
            account_id=parts[4] if len(parts) > 4 else "",
            partition=parts[1] if len(parts) > 1 else "aws",
            **facts,
        )

    def pseudo_parameters(self) -> dict[str, str]:
        suffix = "amazonaws.com.cn" if self.partition == "aws-cn" else "amazonaws.com"
        return {
            "AWS::StackName": self.stack_name,
            "AWS::StackId": self.stack_id or "(new stack id)",
            "AWS::Region": self.region,
            "AWS::AccountId": self.account_id or "(account id)",
            "AWS::Partition": self.partition,
            "AWS::URLSuffix": suffix,
        }


class TemplateValues:
    """The resources a template deploys for given parameters, with resolved properties."""

    def __init__(
        self,
        template: dict,
        parameters: dict[str, str],
        account: Account,
        created: frozenset[str] | set[str] = frozenset(),
    ) -> None:
        """`parameters` holds every parameter's value; `created` names the resources this deploy adds or
        replaces, whose identifiers exist only after it."""
        declared = template.get("Parameters", {})
        self.template = template
        self.account = account
        self.created = set(created)
        self.conditions = Conditions(template, parameters)
        self.values = {
            **account.pseudo_parameters(),
            **{key: MASK if declared.get(key, {}).get("NoEcho") else value for key, value in parameters.items()},
        }
        self._exports: dict[str, str] | None = None

    @cached_property
    def resources(self) -> dict[str, dict]:
        """Logical id -> the resource (Type, Properties, ...) resolved; only those whose Condition holds."""
        return {
            logical_id: self.resolve(resource) for logical_id, resource in self.conditions.deployed_resources().items()
        }

    def properties(self, logical_id: str) -> dict | None:
        """The resolved Properties of a resource, or None when it is not deployed with these parameters."""
        resource = self.resources.get(logical_id)
        return None if resource is None else resource.get("Properties", {})

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self.resolve(item) for item in value]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((function, argument),) = value.items()
            handler = self._functions().get(function)
            if handler:
                return handler(argument)
        return {key: self.resolve(item) for key, item in value.items()}

    def _functions(self) -> dict[str, Callable[[Any], Any]]:
        return {
            "Ref": self._ref,
            "Fn::GetAtt": self._get_att,
            "Fn::Sub": self._sub,
            "Fn::Join": lambda argument: str(self.resolve(argument[0])).join(
                str(item) for item in self.resolve(argument[1])
            ),
            "Fn::Select": lambda argument: self.resolve(argument[1])[int(self.resolve(argument[0]))],
            "Fn::Split": lambda argument: str(self.resolve(argument[1])).split(self.resolve(argument[0])),
            "Fn::ImportValue": self._import,
            "Fn::FindInMap": self._find_in_map,
            "Fn::Base64": lambda argument: base64.b64encode(str(self.resolve(argument)).encode()).decode(),
            "Fn::GetAZs": lambda argument: f"(availability zones of {self.resolve(argument) or self.account.region})",
        }

    def _ref(self, name: str) -> str | list[str]:
        if name in self.values:
            # A list parameter's Ref is the list of its comma-separated values.
            kind = self.template.get("Parameters", {}).get(name, {}).get("Type", "")
            listed = kind == "CommaDelimitedList" or kind.startswith("List<")
            return self.values[name].split(",") if listed else self.values[name]
        if name in self.created:
            return f"(new {name})"
        return self.account.physical_ids.get(name, f"({name})")

    def _get_att(self, argument: Any) -> str:
        logical_id, attribute = argument if isinstance(argument, list) else argument.split(".", 1)
        attribute = self.resolve(attribute)
        return f"(new {logical_id}.{attribute})" if logical_id in self.created else f"({logical_id}.{attribute})"

    def _sub(self, argument: Any) -> str:
        text, variables = sub_arguments(argument)
        resolved = {name: self.resolve(value) for name, value in variables.items()}

        def value_of(name: str) -> str:
            if name in resolved:
                return str(resolved[name])
            if "." in name and name.split(".", 1)[0] not in self.values:
                return self._get_att(name)
            return str(self._ref(name))

        return render_sub(text, value_of)

    def _import(self, argument: Any) -> str:
        name = self.resolve(argument)
        if self._exports is None:
            self._exports = self.account.exports()
        return self._exports.get(name, f"(export {name})")

    def _find_in_map(self, argument: Any) -> Any:
        mapping, first, second = (self.resolve(item) for item in argument)
        return self.template.get("Mappings", {}).get(mapping, {}).get(first, {}).get(second, f"({mapping})")
