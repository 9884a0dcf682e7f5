"""ECS's deployment history: ListServiceDeployments, DescribeServiceDeployments, DescribeServiceRevisions,
which moto 5.2.5 does not have. DescribeServices shows only the deployments still running; the history is
where a release that ECS rolled back is still found, with the alarms that triggered and the revision it
went back to (what `deploy.py status` reports as the verdict of the last release).

Each deployment the scheduler starts (local_aws.ecs.scheduler) is a service deployment targeting a new service revision
(its task definition and container images), IN_PROGRESS until it completes (SUCCESSFUL) or fails: with a
rollback ROLLBACK_IN_PROGRESS, then ROLLBACK_SUCCESSFUL once the rollback completes (the rollback is part
of the failed service deployment, not one of its own); without, STOPPED. A deployment replaced by a newer
one while in progress is STOPPED too. Its circuit breaker and alarms say MONITORING, then TRIGGERED or
MONITORING_COMPLETE, as the API reference describes them. ListServiceDeployments lists them in pages, in the
order local_aws.assumptions declares (see _listed).
"""

from __future__ import annotations

import base64
import uuid
from datetime import datetime

from ..assumptions import SERVICE_DEPLOYMENTS_NEWEST_FIRST
from .deployment_alarms import alarm_settings, judges
from .scheduler import DeploymentWatcher, failure_threshold, utc_now


def _history(backend) -> dict:
    # Kept on the backend, so that moto's reset forgets it with everything else.
    if not hasattr(backend, "_service_deployment_history"):
        backend._service_deployment_history = {"deployments": {}, "revisions": {}, "by_deployment": {}}
    return backend._service_deployment_history


def _arn(service, kind: str) -> str:
    region, account = service.region_name, service._account_id
    return f"arn:aws:ecs:{region}:{account}:{kind}/{service.cluster_name}/{service.name}/{uuid.uuid4().int % 10**19}"


class ServiceDeployments(DeploymentWatcher):
    def started(self, scheduler, deployment, rollback_of):
        history = _history(scheduler.backend)
        if rollback_of is not None:  # part of the failed one's record, which failed() completes
            history["by_deployment"][deployment["id"]] = history["by_deployment"].get(rollback_of["id"])
            deployment["_revision"] = getattr(scheduler.service, "_last_successful_revision", None)
            return
        service = scheduler.service
        now = utc_now()
        for record in self._records(history, service.arn):
            if record["status"] == "IN_PROGRESS":
                self._finish(record, "STOPPED", "replaced by a newer deployment", now)
        revision = self._revision(scheduler, deployment, now)
        sources = [
            {
                "arn": history["revisions"][older_revision]["serviceRevisionArn"],
                "requestedTaskCount": older["desiredCount"],
            }
            for older in service.deployments[1:]
            if (older_revision := older.get("_revision")) in history["revisions"]
        ]
        alarms = alarm_settings(service)
        breaker = scheduler.breaker()
        # installed after deployment_alarms, so this deployment's judgement is known
        record = {
            "serviceDeploymentArn": _arn(service, "service-deployment"),
            "serviceArn": service.arn,
            "clusterArn": service.cluster_arn,
            "createdAt": now,
            "startedAt": now,
            "updatedAt": now,
            "sourceServiceRevisions": sources,
            "targetServiceRevision": {"arn": revision, "requestedTaskCount": deployment["desiredCount"]},
            "status": "IN_PROGRESS",
            "deploymentConfiguration": service.deployment_configuration,
            "deploymentCircuitBreaker": {
                "status": "MONITORING" if breaker.get("enable") else "DISABLED",
                "failureCount": 0,
                "threshold": failure_threshold(deployment["desiredCount"]),
            },
            "alarms": {
                "status": "MONITORING" if judges(service, deployment) else "DISABLED",
                "alarmNames": list(alarms.get("alarmNames", [])),
                "triggeredAlarmNames": [],
            },
        }
        history["deployments"][record["serviceDeploymentArn"]] = record
        history["by_deployment"][deployment["id"]] = record["serviceDeploymentArn"]

    def completed(self, scheduler, deployment):
        record = self._record_of(scheduler, deployment)
        if record is None:
            return
        now = utc_now()
        if record["status"] == "ROLLBACK_IN_PROGRESS":
            self._finish(record, "ROLLBACK_SUCCESSFUL", record.get("statusReason"), now)
            return
        self._finish(record, "SUCCESSFUL", None, now)
        for judge in (record["deploymentCircuitBreaker"], record["alarms"]):
            if judge["status"] == "MONITORING":
                judge["status"] = "MONITORING_COMPLETE"
        scheduler.service._last_successful_revision = record["targetServiceRevision"]["arn"]

    def failed(self, scheduler, deployment, failure, rollback):
        record = self._record_of(scheduler, deployment)
        if record is None:
            return
        now = utc_now()
        record["deploymentCircuitBreaker"]["failureCount"] = deployment["failedTasks"]
        if failure.triggered_alarms:
            record["alarms"].update(status="TRIGGERED", triggeredAlarmNames=list(failure.triggered_alarms))
        else:
            record["deploymentCircuitBreaker"]["status"] = "TRIGGERED"
        if rollback is None:
            self._finish(record, "STOPPED", failure.reason, now)
            return
        record.update(status="ROLLBACK_IN_PROGRESS", statusReason=failure.reason, updatedAt=now)
        record["rollback"] = {
            "reason": failure.reason,
            "startedAt": now,
            "serviceRevisionArn": getattr(scheduler.service, "_last_successful_revision", None),
        }

    def _revision(self, scheduler, deployment: dict, now) -> str:
        service = scheduler.service
        definition = scheduler.backend.describe_task_definition(deployment["taskDefinition"])
        arn = _arn(service, "service-revision")
        _history(scheduler.backend)["revisions"][arn] = {
            "serviceRevisionArn": arn,
            "serviceArn": service.arn,
            "clusterArn": service.cluster_arn,
            "taskDefinition": deployment["taskDefinition"],
            "launchType": deployment["launchType"],
            "containerImages": [
                {"containerName": container.get("name"), "image": container.get("image")}
                for container in definition.container_definitions
            ],
            "createdAt": now,
        }
        deployment["_revision"] = arn
        return arn

    @staticmethod
    def _finish(record: dict, status: str, reason: str | None, now) -> None:
        record.update(status=status, updatedAt=now, finishedAt=now)
        if status == "STOPPED":
            record["stoppedAt"] = now
        if reason:
            record["statusReason"] = reason

    @staticmethod
    def _records(history: dict, service_arn: str) -> list[dict]:
        return [record for record in history["deployments"].values() if record["serviceArn"] == service_arn]

    @staticmethod
    def _record_of(scheduler, deployment: dict) -> dict | None:
        history = _history(scheduler.backend)
        arn = history["by_deployment"].get(deployment["id"])
        return history["deployments"].get(arn) if arn else None


BRIEF_FIELDS = (
    "serviceDeploymentArn",
    "serviceArn",
    "clusterArn",
    "startedAt",
    "createdAt",
    "finishedAt",
    "targetServiceRevisionArn",
    "status",
    "statusReason",
)


# ListServiceDeployments' maxResults: "This value can be between 1 and 100. If this parameter isn't used, then
# ListServiceDeployments returns up to 20 results and a nextToken value if applicable." (API reference,
# https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ListServiceDeployments.html)
PAGE_SIZE_DEFAULT = 20
PAGE_SIZE_MAX = 100


def _listed(records: list[dict], statuses: list[str] | None, created_at: dict) -> list[dict]:
    """The records the filters keep, in the order assumptions.SERVICE_DEPLOYMENTS_ORDER says (oldest first: AWS
    documents no order, and under this one a reader of the first page who assumes newest first misses the
    latest)."""
    after, before = (_seconds(created_at.get(bound)) for bound in ("after", "before"))
    return sorted(
        (
            record
            for record in records
            if (statuses is None or record["status"] in statuses)
            and (after is None or record["createdAt"].timestamp() > after)
            and (before is None or record["createdAt"].timestamp() < before)
        ),
        key=lambda record: record["createdAt"],
        reverse=SERVICE_DEPLOYMENTS_NEWEST_FIRST,
    )


def _seconds(instant) -> float | None:
    """A createdAt bound as epoch seconds: moto parses it to a datetime, a raw request holds a number."""
    if instant is None:
        return None
    return instant.timestamp() if isinstance(instant, datetime) else float(instant)


def _page_size(max_results) -> int:
    from moto.ecs.exceptions import InvalidParameterException

    if max_results is None:
        return PAGE_SIZE_DEFAULT
    if not 1 <= int(max_results) <= PAGE_SIZE_MAX:
        raise InvalidParameterException(f"maxResults must be between 1 and {PAGE_SIZE_MAX}.")
    return int(max_results)


def _token(record: dict) -> str:
    """The next page starts at this record (its ARN, opaque to the client as AWS's tokens are)."""
    return base64.urlsafe_b64encode(record["serviceDeploymentArn"].encode()).decode()


def _page_start(records: list[dict], token: str | None) -> int:
    from moto.ecs.exceptions import InvalidParameterException

    if not token:
        return 0
    try:
        arn = base64.urlsafe_b64decode(token.encode()).decode()
        return next(index for index, record in enumerate(records) if record["serviceDeploymentArn"] == arn)
    except (ValueError, StopIteration):
        raise InvalidParameterException("The nextToken is not valid.") from None


def list_service_deployments(self):
    from moto.core.responses import ActionResult

    service = self.ecs_backend._get_service(self._get_param("cluster", "default"), self._get_param("service"))
    records = _listed(
        ServiceDeployments._records(_history(self.ecs_backend), service.arn),
        self._get_param("status") or None,
        self._get_param("createdAt") or {},
    )
    start = _page_start(records, self._get_param("nextToken"))
    size = _page_size(self._get_param("maxResults"))
    page = records[start : start + size]
    briefs = [
        {
            key: value
            for key, value in {**record, "targetServiceRevisionArn": record["targetServiceRevision"]["arn"]}.items()
            if key in BRIEF_FIELDS
        }
        for record in page
    ]
    result = {"serviceDeployments": briefs}
    if start + size < len(records):
        result["nextToken"] = _token(records[start + size])
    return ActionResult(result)


def describe_service_deployments(self):
    return _described(self, "deployments", "serviceDeploymentArns", "serviceDeployments")


def describe_service_revisions(self):
    return _described(self, "revisions", "serviceRevisionArns", "serviceRevisions")


def _described(self, kind: str, arns_parameter: str, result_key: str):
    from moto.core.responses import ActionResult

    known = _history(self.ecs_backend)[kind]
    arns = self._get_param(arns_parameter, [])
    return ActionResult(
        {
            result_key: [known[arn] for arn in arns if arn in known],
            "failures": [{"arn": arn, "reason": "MISSING"} for arn in arns if arn not in known],
        }
    )
