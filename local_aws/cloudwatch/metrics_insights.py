"""GetMetricData with Metrics Insights queries and metric math, as the stacks' alarms and their readers run them.

GetMetricData answers a Metrics Insights query (`SELECT MAX(OffsetLag) FROM SCHEMA("ns", "partition",
"topic")`) in moto with the sum of every datapoint of the period, whatever the query. Here the form this
project uses is evaluated as CloudWatch does: the datapoints of that metric in that namespace whose
dimension names are exactly the schema's, aggregated per period; any other form is refused by name rather
than answered wrongly.

moto answers a metric math expression with the values of the query it names, if it is nothing but a query's
id, and with nothing otherwise. Here an expression is evaluated over one value per period of the other
queries (metric_math: arithmetic, comparisons, IF, FILL), as the consumer-stalled alarm's
`IF(running > 0, FILL(reported, 0), 1)` needs; only the queries that return data are answered.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from .metric_math import MetricMathError, Series, evaluate, query_ids

INSIGHTS_QUERY = re.compile(
    r"^SELECT\s+(?P<function>AVG|MIN|MAX|SUM|COUNT)\((?P<metric>[\w.-]+)\)\s+"
    r'FROM\s+SCHEMA\(\s*"(?P<namespace>[^"]+)"(?P<dimensions>(\s*,\s*"[^"]+")*)\s*\)\s*$',
    re.IGNORECASE,
)
AGGREGATES = {
    "AVG": lambda values: sum(values) / len(values),
    "MIN": min,
    "MAX": max,
    "SUM": sum,
    "COUNT": len,
}


def _is_insights_query(query: dict) -> bool:
    return str(query.get("Expression", "")).lstrip().upper().startswith("SELECT")


def _returns_data(query: dict) -> bool:
    return str(query.get("ReturnData", True)).lower() != "false"


def _evaluate_insights_query(backend, query: dict, start: datetime, end: datetime) -> dict:
    from moto.cloudwatch.exceptions import ValidationError
    from moto.cloudwatch.models import MetricDatum

    expression = query["Expression"]
    match = INSIGHTS_QUERY.match(expression)
    if not match:
        raise ValidationError(
            "the local AWS evaluates Metrics Insights queries of the form "
            f'SELECT FUNCTION(metric) FROM SCHEMA("namespace", "dimension", ...) only, not: {expression}'
        )
    schema = {name.strip().strip('"') for name in match["dimensions"].split(",") if name.strip()}
    data = [
        datum
        for datum in backend.get_all_metrics()
        if isinstance(datum, MetricDatum)
        and datum.namespace == match["namespace"]
        and datum.name == match["metric"]
        and {dimension.name for dimension in datum.dimensions} == schema
    ]
    aggregate = AGGREGATES[match["function"].upper()]
    period = timedelta(seconds=int(query["Period"]))
    timestamps, values = [], []
    moment = start
    while moment < end:
        in_period = [datum.value for datum in data if moment <= datum.timestamp < moment + period]
        if in_period:
            timestamps.append(moment)
            values.append(float(aggregate(in_period)))
        moment += period
    return {
        "id": query["Id"],
        "label": query.get("Label") or query["Id"],
        "values": values,
        "timestamps": timestamps,
        "status_code": "Complete",
    }


def data_period(queries: list[dict]) -> int:
    """The Period of the queries that read data (MetricStat, Metrics Insights), which metric math over them
    needs to be one and the same, as CloudWatch requires."""
    from moto.cloudwatch.exceptions import ValidationError

    periods = {
        int(query.get("Period") or query["MetricStat"]["Period"])
        for query in queries
        if "MetricStat" in query or _is_insights_query(query)
    }
    if len(periods) != 1:
        raise ValidationError("the local AWS evaluates metric math over queries of one and the same Period only")
    return periods.pop()


def _evaluate_expressions(
    queries: list[dict], expressions: list[dict], results: dict, start: datetime, end: datetime
) -> dict[str, dict]:
    """The metric math expressions among `queries`, on one value per period of [start, end), each as
    GetMetricData reports it."""
    period = timedelta(seconds=data_period(queries))
    grid = []
    moment = start
    while moment < end:
        grid.append(moment)
        moment += period
    series = {
        query_id: Series(dict(zip(result["timestamps"], result["values"], strict=True)).get(moment) for moment in grid)
        for query_id, result in results.items()
    }
    evaluated = {}
    waiting = list(expressions)
    while waiting:  # an expression may read another one, given before or after it
        ready = [query for query in waiting if query_ids(query["Expression"]) <= set(series)]
        if not ready:
            raise MetricMathError(f"metric math that reads no known query: {waiting[0]['Expression']}")
        for query in ready:
            values = evaluate(query["Expression"], series)
            series[query["Id"]] = values
            kept = [(moment, value) for moment, value in zip(grid, values.values, strict=True) if value is not None]
            evaluated[query["Id"]] = {
                "id": query["Id"],
                "label": query.get("Label") or query["Id"],
                "timestamps": [moment for moment, _ in kept],
                "values": [value for _, value in kept],
                "status_code": "Complete",
            }
            waiting.remove(query)
    return evaluated


def get_metric_data(moto_get_metric_data, self, queries, start_time, end_time, scan_by="TimestampAscending"):
    from moto.cloudwatch.exceptions import ValidationError

    start, end = start_time.replace(microsecond=0), end_time.replace(microsecond=0)
    stats = [{**query, "ReturnData": True} for query in queries if "MetricStat" in query]
    results = {result["id"]: result for result in moto_get_metric_data(self, stats, start_time, end_time)}
    for query in queries:
        if _is_insights_query(query):
            results[query["Id"]] = _evaluate_insights_query(self, query, start, end)
    expressions = [query for query in queries if "Expression" in query and not _is_insights_query(query)]
    if expressions:
        try:
            results.update(_evaluate_expressions(queries, expressions, results, start, end))
        except MetricMathError as error:
            raise ValidationError(str(error)) from None
    returned = [results[query["Id"]] for query in queries if _returns_data(query)]
    if scan_by == "TimestampDescending":
        for result in returned:
            result["timestamps"], result["values"] = result["timestamps"][::-1], result["values"][::-1]
    return returned
