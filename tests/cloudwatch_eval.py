"""Evaluate what the app template's alarms and policies decide, the way AWS documents it, for the tests.

- `resolve`: a template value with Ref, Fn::Sub, Fn::Select and Fn::Split replaced by parameter values
  (defaults filled in).
- `alarm_state`: a CloudWatch alarm evaluated on per-minute datapoints, with the local AWS's metric math
  and alarm evaluation (local_aws.cloudwatch.metric_math: the same FILL as the local AWS's GetMetricData).
- `allows`: whether a policy statement allows an action for a request context (StringEquals, Bool,
  ArnEquals).
"""

from __future__ import annotations

import re

from local_aws.cloudwatch.metric_math import Series, evaluate
from local_aws.cloudwatch.metric_math import alarm_state as evaluated_state

PSEUDO_PARAMETERS = {
    "AWS::StackName": "AppStack",
    "AWS::Region": "eu-central-1",
    "AWS::AccountId": "123456789012",
    "AWS::Partition": "aws",
    "AWS::StackId": "arn:aws:cloudformation:eu-central-1:123456789012:stack/AppStack/5e2f9a10-b0c1-11ef-9a3c-0a1b2c3d4e5f",
}


def resolve(value, template: dict, parameters: dict[str, str] | None = None):
    """`value` with every Ref to a parameter or pseudo parameter, every Fn::Sub, Fn::Select and Fn::Split
    replaced by their values."""
    values = {name: str(spec.get("Default", "")) for name, spec in template.get("Parameters", {}).items()}
    values.update(PSEUDO_PARAMETERS)
    values.update(parameters or {})

    def walk(node):
        if isinstance(node, dict):
            if set(node) == {"Ref"} and node["Ref"] in values:
                return values[node["Ref"]]
            if set(node) == {"Fn::Sub"}:
                text, variables = node["Fn::Sub"] if isinstance(node["Fn::Sub"], list) else (node["Fn::Sub"], {})
                known = {**values, **{name: _text(walk(item)) for name, item in variables.items()}}
                return re.sub(r"\$\{([^}]+)\}", lambda match: known.get(match[1], match[1]), text)
            if set(node) == {"Fn::Split"}:
                separator, text = node["Fn::Split"]
                return walk(text).split(separator)
            if set(node) == {"Fn::Select"}:
                index, items = node["Fn::Select"]
                return walk(items)[int(index)]
            return {key: walk(item) for key, item in node.items()}
        if isinstance(node, list):
            return [walk(item) for item in node]
        return node

    return walk(value)


def _text(value) -> str:
    """A resolved value as Fn::Sub inserts it; a resource's Ref or GetAtt as `Name` or `Name.Attribute`."""
    if isinstance(value, dict) and set(value) == {"Ref"}:
        return value["Ref"]
    if isinstance(value, dict) and set(value) == {"Fn::GetAtt"}:
        return ".".join(value["Fn::GetAtt"])
    return value


def alarm_state(alarm: dict, template: dict, data: dict[str, list], parameters: dict[str, str] | None = None) -> str:
    """ "ALARM" or "OK" for an alarm resource of `template`, given per-minute datapoints (oldest first,
    None where missing) keyed by what each query reads: the metric name of a MetricStat or the resolved
    text of a Metrics Insights query. A metric absent from `data` has no datapoints at all."""
    properties = resolve(alarm["Properties"], template, parameters)
    periods = int(properties["EvaluationPeriods"])
    length = max([periods, *(len(values) for values in data.values())])

    def read(key: str) -> Series:
        values = data.get(key, [])
        return Series([None] * (length - len(values)) + list(values))

    if "Metrics" in properties:
        series: dict[str, Series] = {}
        for query in properties["Metrics"]:
            if "MetricStat" in query:
                series[query["Id"]] = read(query["MetricStat"]["Metric"]["MetricName"])
            elif query["Expression"].startswith("SELECT "):
                series[query["Id"]] = read(query["Expression"])
            else:
                series[query["Id"]] = evaluate(query["Expression"], series)
        (watched,) = [query["Id"] for query in properties["Metrics"] if query.get("ReturnData", True)]
        values = series[watched].values
    else:
        values = read(properties["MetricName"]).values
    return evaluated_state(
        values,
        properties["ComparisonOperator"],
        float(properties["Threshold"]),
        periods,
        int(properties.get("DatapointsToAlarm", periods)),
        properties["TreatMissingData"],
    )


def allows(
    statement: dict, action: str, context: dict[str, str], template: dict, parameters: dict[str, str] | None = None
) -> bool:
    """Whether an Allow statement grants `action` for a request with these condition keys, whoever asks."""
    statement = resolve(statement, template, parameters)
    return statement["Effect"] == "Allow" and _matches(statement, action, context)


def decision(
    statements: list[dict],
    caller: tuple[str, str],
    action: str,
    context: dict[str, str],
    template: dict,
    parameters: dict[str, str] | None = None,
) -> str:
    """What a resource policy decides when `caller` (("AWS", a principal's ARN) or ("Service", a service
    principal)) asks for `action` with these condition keys: "Deny" when a Deny statement matches, whatever
    the Allow statements say; else "Allow" when one matches; else "implicit deny"."""
    effects = {
        statement["Effect"]
        for statement in (resolve(statement, template, parameters) for statement in statements)
        if _names(statement["Principal"], caller) and _matches(statement, action, context)
    }
    return "Deny" if "Deny" in effects else "Allow" if "Allow" in effects else "implicit deny"


def _names(principal, caller: tuple[str, str]) -> bool:
    """Whether a statement's Principal covers the caller; an account's root ARN covers its principals."""
    if principal == "*":
        return True
    kind, name = caller
    listed = principal.get(kind, [])
    for entry in listed if isinstance(listed, list) else [listed]:
        if entry in ("*", name) or (entry.endswith(":root") and name.split(":")[4] == entry.split(":")[4]):
            return True
    return False


def _matches(statement: dict, action: str, context: dict[str, str]) -> bool:
    """Whether the statement's actions include `action` and its conditions hold, as IAM documents them:
    StringEquals exact and case-sensitive, Bool "true"/"false", ArnEquals exact; a key absent from the
    request fails its condition, except under ...IfExists."""
    actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
    if action not in actions:
        return False
    for condition_operator, tests in statement.get("Condition", {}).items():
        operator_name = condition_operator.removesuffix("IfExists")
        if operator_name not in ("StringEquals", "Bool", "ArnEquals"):
            raise ValueError(f"condition operator {condition_operator} is not evaluated here")
        for key, expected in tests.items():
            if key not in context and condition_operator.endswith("IfExists"):
                continue
            accepted = [str(item) for item in (expected if isinstance(expected, list) else [expected])]
            if context.get(key) not in accepted:
                return False
    return True
