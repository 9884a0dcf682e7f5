"""Evaluate the parts of a CloudFormation template a test needs: conditions and Fn::If.

Enough to ask "what does this value become when SubnetMode is public", the way CloudFormation would.
"""

from __future__ import annotations

from typing import Any


def condition_values(template: dict, parameters: dict[str, str]) -> dict[str, bool]:
    """Every condition's truth for these parameter values (defaults filled in)."""
    values = {name: str(spec.get("Default", "")) for name, spec in template["Parameters"].items()}
    values.update(parameters)
    conditions: dict[str, bool] = {}

    def evaluate(expression: Any) -> Any:
        if isinstance(expression, dict):
            ((function, argument),) = expression.items()
            if function == "Ref":
                return values[argument]
            if function == "Condition":
                return evaluate_condition(argument)
            if function == "Fn::Equals":
                return str(evaluate(argument[0])) == str(evaluate(argument[1]))
            if function == "Fn::Not":
                return not evaluate(argument[0])
            if function == "Fn::And":
                return all(evaluate(item) for item in argument)
            if function == "Fn::Or":
                return any(evaluate(item) for item in argument)
            raise ValueError(f"unsupported in a condition: {function}")
        return expression

    def evaluate_condition(name: str) -> bool:
        if name not in conditions:
            conditions[name] = bool(evaluate(template["Conditions"][name]))
        return conditions[name]

    for name in template.get("Conditions", {}):
        evaluate_condition(name)
    return conditions


def resolve_ifs(value: Any, conditions: dict[str, bool]) -> Any:
    """The value with every Fn::If chosen and AWS::NoValue dropped."""
    if isinstance(value, dict):
        if set(value) == {"Fn::If"}:
            name, when_true, when_false = value["Fn::If"]
            return resolve_ifs(when_true if conditions[name] else when_false, conditions)
        resolved = {key: resolve_ifs(item, conditions) for key, item in value.items()}
        return {key: item for key, item in resolved.items() if item != {"Ref": "AWS::NoValue"}}
    if isinstance(value, list):
        return [resolve_ifs(item, conditions) for item in value if item != {"Ref": "AWS::NoValue"}]
    return value


def deployed_resources(template: dict, parameters: dict[str, str]) -> dict[str, dict]:
    """The resources CloudFormation would create for these parameters, with their Fn::If resolved."""
    conditions = condition_values(template, parameters)
    return {
        name: resolve_ifs(resource, conditions)
        for name, resource in template["Resources"].items()
        if conditions.get(resource.get("Condition"), True)
    }
