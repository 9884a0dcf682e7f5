"""Metrics Insights queries, as the stacks' alarms and their readers run them.

GetMetricData answers a Metrics Insights query (`SELECT MAX(OffsetLag) FROM SCHEMA("ns", "partition",
"topic")`) in moto with the sum of every datapoint of the period, whatever the query. Here the form this
project uses is evaluated as CloudWatch does: the datapoints of that metric in that namespace whose
dimension names are exactly the schema's, aggregated per period; any other form is refused by name rather
than answered wrongly.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

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


def _evaluate_insights_query(backend, query: dict, start: datetime, end: datetime, scan_by: str) -> dict:
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
    if scan_by == "TimestampDescending":
        timestamps.reverse()
        values.reverse()
    return {
        "id": query["Id"],
        "label": query.get("Label") or query["Id"],
        "values": values,
        "timestamps": timestamps,
        "status_code": "Complete",
    }


def get_metric_data(moto_get_metric_data, self, queries, start_time, end_time, scan_by="TimestampAscending"):
    insights = [query for query in queries if str(query.get("Expression", "")).lstrip().upper().startswith("SELECT")]
    results = moto_get_metric_data(
        self, [query for query in queries if query not in insights], start_time, end_time, scan_by
    )
    start, end = start_time.replace(microsecond=0), end_time.replace(microsecond=0)
    return results + [_evaluate_insights_query(self, query, start, end, scan_by) for query in insights]
