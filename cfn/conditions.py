"""Conditions and `Fn::If` in a parsed CloudFormation template, evaluated the way CloudFormation does,
written once for the lint rules, the diagram and the tests. Standard library only.

Values are three-valued where the parameters leave them open: a condition is True, False, or None when
it reads a parameter without a value (no Default, none given) or a function this module does not
evaluate (Fn::FindInMap, Fn::Select, ...). A property removed by `Ref: AWS::NoValue` is ABSENT.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

# Marks a property removed by `Ref: AWS::NoValue` (or never set).
ABSENT = None
NO_VALUE = {"Ref": "AWS::NoValue"}


def fn_if_arguments(value: Any) -> list | None:
    """The [condition, when_true, when_false] of an `Fn::If`, or None for anything else."""
    if isinstance(value, dict) and len(value) == 1:
        arguments = value.get("Fn::If")
        if isinstance(arguments, list) and len(arguments) == 3 and isinstance(arguments[0], str):
            return arguments
    return None


def both(first: bool | None, second: bool | None) -> bool | None:
    """Three-valued AND: False wins over unknown (None), unknown wins over True."""
    return False if False in (first, second) else None if None in (first, second) else True


@dataclass(frozen=True)
class Branch:
    """One value a template value can take: where it sits, and whether the parameters select it
    (None when a condition on the way is unknown)."""

    value: Any
    path: list
    chosen: bool | None


class Conditions:
    """A template's conditions under given parameter values; parameters not given keep their Default."""

    def __init__(self, template: dict, parameters: dict[str, str] | None = None):
        self.template = template
        declared = template.get("Parameters", {})
        self.values = {
            name: str(spec["Default"])
            for name, spec in (declared.items() if isinstance(declared, dict) else ())
            if isinstance(spec, dict) and "Default" in spec
        }
        self.values.update(parameters or {})
        self._known: dict[str, bool | None] = {}
        self._evaluating: set[str] = set()

    def holds(self, name: str) -> bool | None:
        """Whether the named condition is true (None: unknowable from these parameters, or undeclared)."""
        if name not in self._known:
            declared = self.template.get("Conditions", {})
            if name in self._evaluating or not isinstance(declared, dict) or name not in declared:
                return None  # a cycle or a missing condition: CloudFormation would refuse the template
            self._evaluating.add(name)
            self._known[name] = self.evaluate(declared[name])
            self._evaluating.discard(name)
        return self._known[name]

    def evaluate(self, expression: Any) -> bool | None:
        """A condition expression (Fn::Equals/Not/And/Or, Condition) as True, False or None."""
        if not isinstance(expression, dict) or len(expression) != 1:
            return None
        ((function, arguments),) = expression.items()
        if function == "Condition":
            return self.holds(arguments) if isinstance(arguments, str) else None
        if not isinstance(arguments, list):
            return None
        if function == "Fn::Equals" and len(arguments) == 2:
            left, right = (self._scalar(argument) for argument in arguments)
            return None if left is None or right is None else left == right
        results = [self.evaluate(argument) for argument in arguments]
        if function == "Fn::Not" and len(results) == 1:
            return None if results[0] is None else not results[0]
        if function == "Fn::And":
            return False if False in results else (None if None in results else True)
        if function == "Fn::Or":
            return True if True in results else (None if None in results else False)
        return None

    def _scalar(self, value: Any) -> str | None:
        """A literal, or a Ref to a parameter with a value, as the string CloudFormation compares."""
        if isinstance(value, bool):
            return str(value).lower()
        if isinstance(value, (str, int, float)):
            return str(value)
        if isinstance(value, dict) and len(value) == 1 and isinstance(value.get("Ref"), str):
            return self.values.get(value["Ref"])
        return None

    def branches(self, value: Any, path: list | None = None) -> Iterator[Branch]:
        """Every value `value` can take through Fn::If (ABSENT for AWS::NoValue), with its path."""
        path = path or []
        arguments = fn_if_arguments(value)
        if arguments is None:
            yield Branch(ABSENT if value == NO_VALUE else value, path, True)
            return
        holds = self.holds(arguments[0])
        for index, taken in ((1, holds), (2, None if holds is None else not holds)):
            for branch in self.branches(arguments[index], path + ["Fn::If", index]):
                yield Branch(branch.value, branch.path, both(taken, branch.chosen))

    def items(self, value: Any, path: list | None = None) -> Iterator[Branch]:
        """Every item a list property can hold, through Fn::If around the list or around an item."""
        for listed in self.branches(value, path):
            if isinstance(listed.value, list):
                for index, item in enumerate(listed.value):
                    for branch in self.branches(item, listed.path + [index]):
                        if branch.value is not ABSENT:
                            yield Branch(branch.value, branch.path, both(listed.chosen, branch.chosen))

    def resolve(self, value: Any) -> Any:
        """The value with every Fn::If chosen and AWS::NoValue dropped; ValueError when a condition on
        the way is unknown."""
        arguments = fn_if_arguments(value)
        if arguments is not None:
            holds = self.holds(arguments[0])
            if holds is None:
                raise ValueError(f"condition {arguments[0]} cannot be evaluated from the parameters given")
            return self.resolve(arguments[1] if holds else arguments[2])
        if isinstance(value, dict):
            resolved = {key: self.resolve(item) for key, item in value.items()}
            return {key: item for key, item in resolved.items() if item != NO_VALUE}
        if isinstance(value, list):
            return [self.resolve(item) for item in value if item != NO_VALUE]
        return value

    def deployed_resources(self) -> dict[str, dict]:
        """The resources CloudFormation would create for these parameters, with their Fn::If resolved."""
        deployed = {}
        for name, resource in self.template.get("Resources", {}).items():
            condition = resource.get("Condition")
            if condition is not None and self.holds(condition) is None:
                raise ValueError(f"condition {condition} of {name} cannot be evaluated from the parameters given")
            if condition is None or self.holds(condition):
                deployed[name] = self.resolve(resource)
        return deployed


def every_value(value: Any) -> Iterator[Any]:
    """What `value` can be in any Fn::If branch, whatever the parameters: each item when it is a list,
    AWS::NoValue dropped."""
    anywhere = Conditions({})
    for branch in anywhere.branches(value):
        if isinstance(branch.value, list):
            yield from (item.value for item in anywhere.items(branch.value))
        elif branch.value is not ABSENT:
            yield branch.value
