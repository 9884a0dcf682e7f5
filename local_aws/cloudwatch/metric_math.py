"""CloudWatch metric math and alarm evaluation, as AWS documents them, on one value per period: what the local
AWS's GetMetricData answers for an expression (metrics_insights), how its stand-in CloudWatch evaluates an
alarm (local_aws.alarm_evaluation), and how the tests evaluate the template's alarms (tests/cloudwatch_eval.py).

- `evaluate`: an expression over the series of the other queries, by id: arithmetic (+ - * /), comparisons
  (1 when true, 0 when false), IF(condition, a, b) and FILL(series, value); a missing datapoint stays
  missing through arithmetic, comparisons and IF. Any other function is refused by name.
- `alarm_state`: the last EvaluationPeriods values, missing ones treated as TreatMissingData says, ALARM
  when at least DatapointsToAlarm of them breach.

FILL over a query that matches no metric at all is what only a real account tells
(assumptions.STALLED_ALARM_OVER_NO_DATA): with FILL_FILLS_A_QUERY_WITHOUT_DATA it gives the value in every
period, as it does in the gaps of a series that has data; without, such a query stays empty.
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable, Mapping
from typing import Any

from ..assumptions import FILL_FILLS_A_QUERY_WITHOUT_DATA

Value = float | None


class MetricMathError(ValueError):
    """An expression the local AWS does not evaluate."""


class Series:
    """One value per period of the queried range, oldest first; None is a missing datapoint."""

    def __init__(self, values) -> None:
        self.values: list[Value] = list(values)

    def combine(self, other: Series | float, combine: Callable[[float, float], float]) -> Series:
        others = other.values if isinstance(other, Series) else [other] * len(self.values)
        return Series(
            None if a is None or b is None else combine(a, b) for a, b in zip(self.values, others, strict=True)
        )


def _if(condition: Series, when_true: Series | float, when_false: Series | float) -> Series:
    def pick(branch: Series | float, index: int) -> Value:
        return branch.values[index] if isinstance(branch, Series) else branch

    return Series(
        None if test is None else pick(when_true if test else when_false, index)
        for index, test in enumerate(condition.values)
    )


def _fill(series: Series, value: float) -> Series:
    if not FILL_FILLS_A_QUERY_WITHOUT_DATA and all(item is None for item in series.values):
        return series
    # CloudWatch fills every period of the queried range, the last minutes included.
    return Series(value if item is None else item for item in series.values)


FUNCTIONS: dict[str, Callable[..., Series]] = {"IF": _if, "FILL": _fill}
ARITHMETIC: dict[type, Callable[[float, float], float]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: lambda a, b: a / b if b else float("nan"),
}
COMPARISONS: dict[type, Callable[[float, float], bool]] = {
    ast.Gt: operator.gt,
    ast.Lt: operator.lt,
    ast.GtE: operator.ge,
    ast.LtE: operator.le,
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
}


def _parsed(expression: str) -> ast.Expression:
    try:
        return ast.parse(expression.strip(), mode="eval")
    except SyntaxError:
        raise MetricMathError(f"not a metric math expression: {expression}") from None


def query_ids(expression: str) -> set[str]:
    """The ids of the queries `expression` reads (names that are not functions called)."""
    tree = _parsed(expression)
    called = {id(node.func) for node in ast.walk(tree) if isinstance(node, ast.Call)}
    return {node.id for node in ast.walk(tree) if isinstance(node, ast.Name) and id(node) not in called}


def evaluate(expression: str, series: Mapping[str, Series]) -> Series:
    """The series `expression` gives, over the series of the queries it names (all of one length)."""
    tree = _parsed(expression)
    length = len(next(iter(series.values())).values) if series else 0

    def walk(node: ast.AST) -> Any:
        if isinstance(node, ast.Expression):
            return walk(node.body)
        if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
            return float(node.value)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return _as_series(walk(node.operand), length).combine(-1.0, operator.mul)
        if isinstance(node, ast.Name):
            if node.id not in series:
                raise MetricMathError(f"{expression}: no query with the id {node.id}")
            return series[node.id]
        if isinstance(node, ast.BinOp) and type(node.op) in ARITHMETIC:
            return _as_series(walk(node.left), length).combine(walk(node.right), ARITHMETIC[type(node.op)])
        if isinstance(node, ast.Compare) and len(node.ops) == 1 and type(node.ops[0]) in COMPARISONS:
            compare = COMPARISONS[type(node.ops[0])]
            return _as_series(walk(node.left), length).combine(
                walk(node.comparators[0]), lambda a, b: float(compare(a, b))
            )
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in FUNCTIONS:
            arguments = [walk(argument) for argument in node.args]
            return FUNCTIONS[node.func.id](_as_series(arguments[0], length), *arguments[1:])
        raise MetricMathError(
            f"the local AWS evaluates arithmetic, comparisons, {' and '.join(FUNCTIONS)} only, not: {expression}"
        )

    return _as_series(walk(tree), length)


def _as_series(value: Series | float, length: int) -> Series:
    return value if isinstance(value, Series) else Series([value] * length)


THRESHOLD_COMPARISONS: dict[str, Callable[[float, float], bool]] = {
    "GreaterThanThreshold": operator.gt,
    "GreaterThanOrEqualToThreshold": operator.ge,
    "LessThanThreshold": operator.lt,
    "LessThanOrEqualToThreshold": operator.le,
}
MISSING_DATA_BREACHES = {"breaching": True, "notBreaching": False}


def alarm_state(
    values: list[Value],
    comparison: str,
    threshold: float,
    evaluation_periods: int,
    datapoints_to_alarm: int,
    treat_missing_data: str,
) -> str:
    """ "ALARM" or "OK" after the last of `values` (one per period, oldest first)."""
    if treat_missing_data not in MISSING_DATA_BREACHES:
        raise MetricMathError(f"TreatMissingData {treat_missing_data!r} is not evaluated here")
    missing_breaches = MISSING_DATA_BREACHES[treat_missing_data]
    compare = THRESHOLD_COMPARISONS[comparison]
    window = ([None] * evaluation_periods + list(values))[-evaluation_periods:]
    breaching = sum(missing_breaches if value is None else compare(value, threshold) for value in window)
    return "ALARM" if breaching >= datapoints_to_alarm else "OK"
