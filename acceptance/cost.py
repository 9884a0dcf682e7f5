"""What an acceptance run costs at most, itemised, from us-east-1's list prices (USD, before any free tier),
printed before the run makes anything. The quantities come from the run's own limits (checks, sandbox), so
the estimate follows them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .checks import ALARM_WAIT_SECONDS, INSIGHTS_WAIT_SECONDS, METRIC_ROUNDS, POLL_SECONDS, longest_wait_seconds
from .sandbox import DELETION_WAIT_SECONDS, TASK_GB, TASK_VCPU

HOURS_PER_MONTH = 730  # how AWS prorates a monthly price
FARGATE_PRICING = "aws.amazon.com/fargate/pricing (Linux/x86)"
CLOUDWATCH_PRICING = "aws.amazon.com/cloudwatch/pricing"
VPC_PRICING = "aws.amazon.com/vpc/pricing (public IPv4 addresses)"

VCPU_HOUR = 0.04048
GB_HOUR = 0.004445
FARGATE_MINIMUM_SECONDS = 60  # billed per second, at least a minute per task
PUBLIC_IPV4_HOUR = 0.005
ALARM_METRIC_MONTH = 0.10  # standard resolution, per metric the alarm reads
METRIC_MONTH = 0.30  # custom metrics (Container Insights' too), first 10,000; prorated by the hour
GET_METRIC_DATA_PER_1000_METRICS = 0.01
PUT_METRIC_DATA_PER_1000_REQUESTS = 0.01
LOG_INGESTION_GB = 0.50

SETUP_SECONDS = 120.0
# Container Insights' metrics for one cluster, two services and two task families, at most: its 16 ECS metric
# names at each of the five levels (an upper bound; AWS lists the names, not how many it publishes).
CONTAINER_INSIGHTS_METRICS = 80
# Container Insights' performance log events for a few tasks over half an hour: well under a megabyte.
PERFORMANCE_LOG_GB = 0.001


@dataclass(frozen=True)
class Item:
    what: str
    quantity: str
    dollars: float
    price: str

    @property
    def cents(self) -> float:
        return self.dollars * 100


def run_seconds() -> float:
    """The longest anything billed exists: set up, the longest check, then the wait for the deleted services'
    tasks to stop (the services and alarms are the first things deleted)."""
    return SETUP_SECONDS + longest_wait_seconds() + DELETION_WAIT_SECONDS


def estimate() -> list[Item]:
    seconds = run_seconds()
    hours = seconds / 3600
    # The deployments service runs at most 2 tasks at once (maximumPercent 200); the crash-looping one starts at
    # most a task every 30 s, each billed a minute: at most 2 billed at once. 4 tasks for the whole run.
    task_seconds = 4 * seconds
    task_hours = task_seconds / 3600
    alarm_metrics = 3  # consumer-stalled reads 2 (its running tasks and its query), the alarm kept in ALARM 1
    minute = METRIC_ROUNDS * POLL_SECONDS
    metric_reads = len(("running", "reported", "stalled")) + math.ceil(INSIGHTS_WAIT_SECONDS / minute) + 1
    metric_puts = 1 + math.ceil(ALARM_WAIT_SECONDS / minute)
    started_hours = math.ceil(hours)
    return [
        Item(
            f"Fargate tasks, {TASK_VCPU:g} vCPU / {TASK_GB:g} GB",
            f"{task_seconds:.0f} task-seconds",
            task_hours * (TASK_VCPU * VCPU_HOUR + TASK_GB * GB_HOUR),
            f"${VCPU_HOUR} per vCPU-hour, ${GB_HOUR} per GB-hour, per second, 1 minute minimum ({FARGATE_PRICING})",
        ),
        Item(
            "public IPv4 address of each task",
            f"{task_hours:.2f} address-hours",
            task_hours * PUBLIC_IPV4_HOUR,
            f"${PUBLIC_IPV4_HOUR} per hour ({VPC_PRICING})",
        ),
        Item(
            "CloudWatch alarms, prorated to the run's minutes",
            f"{alarm_metrics} alarm metrics x {seconds / 60:.0f} min",
            alarm_metrics * ALARM_METRIC_MONTH * hours / HOURS_PER_MONTH,
            f"${ALARM_METRIC_MONTH} per alarm metric-month ({CLOUDWATCH_PRICING})",
        ),
        Item(
            "Container Insights metrics, prorated by the hour",
            f"{CONTAINER_INSIGHTS_METRICS} metrics x {started_hours} h",
            CONTAINER_INSIGHTS_METRICS * started_hours * METRIC_MONTH / HOURS_PER_MONTH,
            f"${METRIC_MONTH} per metric-month ({CLOUDWATCH_PRICING})",
        ),
        Item(
            "the stand-in RunningTaskCount metric, prorated by the hour",
            f"1 metric x {started_hours} h",
            started_hours * METRIC_MONTH / HOURS_PER_MONTH,
            f"${METRIC_MONTH} per metric-month ({CLOUDWATCH_PRICING})",
        ),
        Item(
            "GetMetricData",
            f"{metric_reads} metrics requested",
            metric_reads * GET_METRIC_DATA_PER_1000_METRICS / 1000,
            f"${GET_METRIC_DATA_PER_1000_METRICS} per 1,000 metrics requested ({CLOUDWATCH_PRICING})",
        ),
        Item(
            "PutMetricData",
            f"{metric_puts} requests",
            metric_puts * PUT_METRIC_DATA_PER_1000_REQUESTS / 1000,
            f"${PUT_METRIC_DATA_PER_1000_REQUESTS} per 1,000 requests ({CLOUDWATCH_PRICING})",
        ),
        Item(
            "Container Insights performance logs",
            f"under {PERFORMANCE_LOG_GB * 1000:g} MB",
            PERFORMANCE_LOG_GB * LOG_INGESTION_GB,
            f"${LOG_INGESTION_GB} per GB ingested ({CLOUDWATCH_PRICING})",
        ),
    ]


def render(items: list[Item]) -> list[str]:
    total = sum(item.cents for item in items)
    lines = [
        f"This run costs at most {total:.1f} cents (us-east-1 list prices in USD, before any free tier; "
        f"whatever is billed exists at most {run_seconds() / 60:.0f} minutes):"
    ]
    width = max(len(item.what) for item in items)
    lines += [f"  {item.what:<{width}}  {item.cents:6.3f} ¢  {item.quantity}; {item.price}" for item in items]
    lines.append("  VPC, subnets, route table, internet gateway, ECS cluster, services, task definitions: free")
    return lines
