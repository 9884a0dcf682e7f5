"""ECS services whose deployments start tasks that run or fail, as ECS does.

moto 5.2.5 starts no task for a service: it reports `MOTO_ECS_SERVICE_RUNNING` running tasks whatever the
image, an update keeps the old deployment, and the deployment circuit breaker does not exist. Here:

- CreateService and every UpdateService that changes the task definition (or forces a new deployment)
  start a deployment (PRIMARY, rolloutState IN_PROGRESS) whose tasks are launched PENDING; the previous
  deployment stays ACTIVE, its tasks running, until the new one runs all its tasks;
- a task that starts either runs or stops with the reason ECS would give, from the state of the account
  when it starts: the image must be in ECR (else `CannotPullContainerError ... not found`), built for the
  task's platform (`... does not contain descriptor matching platform 'linux/amd64'`), and every secret
  must be in Parameter Store (`ResourceInitializationError: unable to pull secrets ...`); an image pushed
  with an exit code (`push_image(exit_code=1)`, an OCI annotation only this emulator reads) runs, then
  stops with `Essential container in task exited` and that exit code; so does a container whose command is
  the POSIX utility `false` (exit code 1), whatever its image: a public image crash-loops that way
  (`make aws-acceptance` does);
- the circuit breaker (DeploymentConfiguration.DeploymentCircuitBreaker, given through CloudFormation)
  fails a deployment once `failedTasks` reaches 0.5 x desired count, clamped to 3..200, and with
  `Rollback` starts a deployment of the last task definition that completed;
- the deployment configuration (circuit breaker, alarms) is the one CreateService, UpdateService or
  CloudFormation gave the service, with ECS's defaults for what they leave out (moto keeps none);
- other judges of a deployment (DeploymentConfiguration.Alarms: `deployment_alarms`), its history
  (`service_deployments`) and what reports the service's task counts (`container_insights`) are
  DeploymentWatchers, registered with `watch`;
- ListTasks filters by `serviceName` and lists RUNNING tasks unless `desiredStatus` says otherwise.

Time (local_aws.clock). A service's scheduler acts every STEP_SECONDS of simulated time while it has
something to do, its steps timed from the deployment's start, whoever looks and however often. A launched
task is PENDING; one step later it runs (or stops: on Fargate, provisioning and pulling the image take
tens of seconds); one step after all of a deployment's tasks run, the old deployment's tasks stop and the
deployment is COMPLETED (after a bake, when its alarms judge it). A healthy release therefore stabilises
in two steps and a broken one trips the circuit breaker after `threshold` failed starts, a step each.
Steps that are due run, in order, when the clock catches up (before each request).
"""

from __future__ import annotations

import json
import logging
import math
import re
import threading
import uuid
from datetime import UTC, datetime
from typing import Any

from ..clock import INSTANT, clock

# How often the scheduler acts on a service, in simulated seconds (ECS documents no figure).
STEP_SECONDS = 30.0
# At most so many steps of one service per catch-up: a service that never settles (a broken image without
# circuit breaker relaunches forever on AWS too) skips the rest of a long wait, or of an instant one.
CATCH_UP_STEP_LIMIT = 200
EVENTS_KEPT = 100
FARGATE_PLATFORM = "linux/amd64"
EXIT_CODE_ANNOTATION = "local-aws.exit-code"
# A container command that exits 1 as soon as it starts, in any image that has the POSIX utilities.
EXITS_AT_ONCE = ["false"]
ECR_IMAGE = re.compile(
    r"^(?P<account>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com/(?P<repo>[^:@]+)[:@](?P<ref>.+)$"
)
CIRCUIT_BREAKER_FAILED = "ECS deployment circuit breaker: tasks failed to start."

# Set while CloudFormation creates a service: its first deployment waits for the settings moto drops.
_creating_from_cloudformation = threading.local()
# The deploymentConfiguration of the CreateService request being answered, which moto's backend is not given.
_requested_configuration = threading.local()
CLIENT_TOKEN_MAX = 36
# ECS's defaults for a rolling update, where a request leaves a setting out (API reference,
# DeploymentConfiguration).
DEFAULT_CONFIGURATION = {
    "deploymentCircuitBreaker": {"enable": False, "rollback": False},
    "maximumPercent": 200,
    "minimumHealthyPercent": 100,
}


def failure_threshold(desired_count: int) -> int:
    """The circuit breaker's threshold: 0.5 x desired count, rounded up, at least 3 and at most 200."""
    return min(max(math.ceil(0.5 * desired_count), 3), 200)


def utc_now() -> datetime:
    return datetime.now(UTC)


class DeploymentFailure:
    """Why a deployment fails: its rolloutStateReason, the service event's words, and whether it rolls back."""

    def __init__(self, reason: str, event: str, rollback: bool, triggered_alarms: tuple[str, ...] = ()):
        self.reason = reason
        self.event = event
        self.rollback = rollback
        self.triggered_alarms = triggered_alarms


class DeploymentWatcher:
    """Watches every deployment of every service, as ECS features besides the circuit breaker do."""

    def started(self, scheduler: Scheduler, deployment: dict, rollback_of: dict | None) -> None:
        """A deployment started (a rollback of `rollback_of` when given)."""

    def failure(self, scheduler: Scheduler, deployment: dict) -> DeploymentFailure | None:
        """Why the in-progress deployment fails now, if it does."""
        return None

    def holds_completion(self, scheduler: Scheduler, deployment: dict) -> bool:
        """True to keep a deployment whose tasks all run in progress one more step (a bake time)."""
        return False

    def completed(self, scheduler: Scheduler, deployment: dict) -> None:
        """The deployment completed."""

    def counted(self, scheduler: Scheduler) -> None:
        """The service's tasks were counted (at each step, and when a deployment starts or the service changes)."""

    def failed(self, scheduler: Scheduler, deployment: dict, failure: DeploymentFailure, rollback: dict | None) -> None:
        """The deployment failed; `rollback` is the deployment that rolls it back, if any."""


_watchers: list[DeploymentWatcher] = []


def watch(watcher: DeploymentWatcher) -> None:
    """Register a watcher of every deployment (once per kind: installing twice changes nothing)."""
    if not any(type(known) is type(watcher) for known in _watchers):
        _watchers.append(watcher)


class StartFailure:
    """Why a task stops: what DescribeTasks shows for the task and its container."""

    def __init__(self, stopped_reason: str, stop_code: str, container_reason: str | None = None, exit_code=None):
        self.stopped_reason = stopped_reason
        self.stop_code = stop_code
        self.container_reason = container_reason
        self.exit_code = exit_code


class ServiceTask:
    """A task of a service deployment, shaped for moto's serializer and its task lists."""

    def __init__(self, service, deployment: dict, task_definition):
        self.id = uuid.uuid4().hex
        self.cluster_name = service.cluster_name
        self.cluster_arn = service.cluster_arn
        self.task_arn = service.cluster_arn.replace(":cluster/", ":task/") + f"/{self.id}"
        self.task_definition_arn = task_definition.arn
        self.container_instance_arn = None
        self.resource_requirements = None
        self.started_by = deployment["id"]
        self.group = f"service:{service.name}"
        self.launch_type = service.launch_type or "FARGATE"
        self.last_status = "PENDING"
        self.desired_status = "RUNNING"
        self.health_status = "UNKNOWN"
        self.created_at = utc_now()
        self.started_at = self.stopping_at = self.stopped_at = None
        self.stopped_reason = self.stop_code = None
        self.exit_code_after_start = None
        self.tags: list = []
        self.containers = [
            {
                "containerArn": f"{self.task_arn}/{uuid.uuid4()}",
                "taskArn": self.task_arn,
                "name": container.get("name"),
                "image": container.get("image"),
                "lastStatus": "PENDING",
                "healthStatus": "UNKNOWN",
            }
            for container in task_definition.container_definitions
        ]

    def advance(self) -> None:
        """moto's DescribeTasks moves its own tasks on; these move with their service's scheduler."""

    def start(self, failure: StartFailure | None, exit_code) -> None:
        if failure:
            self.stop(failure)
            return
        self.last_status = "RUNNING"
        self.started_at = utc_now()
        self.exit_code_after_start = exit_code
        for container in self.containers:
            container["lastStatus"] = "RUNNING"

    def stop(self, failure: StartFailure) -> None:
        self.last_status = self.desired_status = "STOPPED"
        self.stopping_at = self.stopped_at = utc_now()
        self.stopped_reason, self.stop_code = failure.stopped_reason, failure.stop_code
        for container in self.containers:
            container["lastStatus"] = "STOPPED"
            if failure.container_reason:
                container["reason"] = failure.container_reason
            if failure.exit_code is not None:
                container["exitCode"] = failure.exit_code


class Scheduler:
    """The ECS service scheduler for one service: deployments, tasks, circuit breaker, events."""

    def __init__(self, backend, service, at: float | None = None):
        self.backend = backend
        self.service = service
        self.at = clock.now() if at is None else at  # the simulated instant it acts at

    # Deployments ---------------------------------------------------------------------------------

    def start_deployment(self, task_definition_arn: str, desired_count: int, rollback_of: dict | None = None) -> dict:
        service = self.service
        for deployment in service.deployments:
            deployment["status"] = "ACTIVE"
        deployment = {
            "id": f"ecs-svc/{uuid.uuid4().int % 10**19:019d}",
            "status": "PRIMARY",
            "taskDefinition": task_definition_arn,
            "desiredCount": desired_count,
            "pendingCount": 0,
            "runningCount": 0,
            "failedTasks": 0,
            "createdAt": utc_now(),
            "updatedAt": utc_now(),
            "launchType": service.launch_type or "FARGATE",
            "rolloutState": "IN_PROGRESS",
        }
        deployment["rolloutStateReason"] = f"ECS deployment {deployment['id']} in progress."
        service.deployments.insert(0, deployment)
        service.task_definition = task_definition_arn
        service.next_step_at = self.at + STEP_SECONDS  # its tasks start one step after it does
        for watcher in _watchers:
            watcher.started(self, deployment, rollback_of)
        self.launch(deployment)
        self.count()
        return deployment

    def launch(self, deployment: dict) -> None:
        wanted = deployment["desiredCount"] - len(self.tasks(deployment, "PENDING", "RUNNING"))
        if wanted <= 0 or deployment["rolloutState"] == "FAILED":
            return
        task_definition = self.backend.describe_task_definition(deployment["taskDefinition"])
        started = []
        for _ in range(wanted):
            task = ServiceTask(self.service, deployment, task_definition)
            self.backend.tasks.setdefault(self.service.cluster_name, {})[task.task_arn] = task
            started.append(task.id)
        if getattr(self.service, "next_step_at", None) is None:
            self.service.next_step_at = self.at + STEP_SECONDS
        self.event(f"has started {len(started)} tasks: {' '.join(f'(task {task_id})' for task_id in started)}.")

    def tasks(self, deployment: dict, *statuses: str) -> list[ServiceTask]:
        return [
            task
            for task in self.backend.tasks.get(self.service.cluster_name, {}).values()
            if isinstance(task, ServiceTask) and task.started_by == deployment["id"] and task.last_status in statuses
        ]

    # One step of the scheduler --------------------------------------------------------------------

    def step(self) -> None:
        deployments = self.service.deployments
        if not deployments:
            return
        primary = deployments[0]
        was_running = self.fully_running(primary)
        for deployment in deployments:
            for task in self.tasks(deployment, "RUNNING"):
                if task.exit_code_after_start is not None:
                    task.stop(
                        StartFailure(
                            "Essential container in task exited",
                            "EssentialContainerExited",
                            exit_code=task.exit_code_after_start,
                        )
                    )
                    self.failed(deployment)
            for task in self.tasks(deployment, "PENDING"):
                failure, exit_code = TaskStart(self.backend, task).outcome()
                task.start(failure, exit_code)
                if failure:
                    self.failed(deployment)
        still_running = was_running and self.fully_running(primary)
        failure = self.failure(primary) if primary["rolloutState"] == "IN_PROGRESS" else None
        if failure:
            self.fail(primary, failure)
            primary = self.service.deployments[0]
            still_running = False  # the rollback just started: none of its tasks runs yet
        self.launch(primary)
        if (
            still_running
            and primary["rolloutState"] == "IN_PROGRESS"
            and not any(watcher.holds_completion(self, primary) for watcher in _watchers)
        ):
            self.complete(primary)
        self.count()

    def fully_running(self, deployment: dict) -> bool:
        running = len(self.tasks(deployment, "RUNNING"))
        return running == deployment["desiredCount"] and not self.tasks(deployment, "PENDING")

    def failed(self, deployment: dict) -> None:
        if deployment["rolloutState"] == "IN_PROGRESS":
            deployment["failedTasks"] += 1
        deployment["updatedAt"] = utc_now()

    def breaker(self) -> dict:
        configuration = getattr(self.service, "deployment_configuration", None) or {}
        return configuration.get("deploymentCircuitBreaker") or {}

    def breaker_trips(self, deployment: dict) -> bool:
        return bool(self.breaker().get("enable")) and deployment["failedTasks"] >= failure_threshold(
            deployment["desiredCount"]
        )

    def failure(self, deployment: dict) -> DeploymentFailure | None:
        if self.breaker_trips(deployment):
            return DeploymentFailure(
                CIRCUIT_BREAKER_FAILED, "tasks failed to start", bool(self.breaker().get("rollback"))
            )
        return next(filter(None, (watcher.failure(self, deployment) for watcher in _watchers)), None)

    def fail(self, deployment: dict, failure: DeploymentFailure) -> None:
        outcomes(self.service)[deployment["id"]] = "FAILED"
        deployment["rolloutState"] = "FAILED"
        deployment["rolloutStateReason"] = failure.reason
        self.event(f"(deployment {deployment['id']}) deployment failed: {failure.event}.")
        completed = getattr(self.service, "last_completed_task_definition", None)
        rollback = None
        if failure.rollback and completed:
            deployment["desiredCount"] = 0
            rollback = self.start_deployment(completed, self.service.desired_count, rollback_of=deployment)
            self.event(f"rolling back to deployment {rollback['id']}.")
        for watcher in _watchers:
            watcher.failed(self, deployment, failure, rollback)

    def scale_in_older(self, primary: dict) -> None:
        """Stop the tasks of the deployments `primary` replaces."""
        stopped = []
        for deployment in self.service.deployments[1:]:
            for task in self.tasks(deployment, "PENDING", "RUNNING"):
                task.stop(
                    StartFailure(
                        f"Scaling activity initiated by (deployment {primary['id']})", "ServiceSchedulerInitiated"
                    )
                )
                stopped.append(task.id)
        if stopped:
            self.event(
                f"has stopped {len(stopped)} running tasks: {' '.join(f'(task {task_id})' for task_id in stopped)}."
            )

    def complete(self, primary: dict) -> None:
        self.scale_in_older(primary)
        del self.service.deployments[1:]
        primary["rolloutState"] = "COMPLETED"
        outcomes(self.service)[primary["id"]] = "COMPLETED"
        primary["rolloutStateReason"] = f"ECS deployment {primary['id']} completed."
        primary["updatedAt"] = utc_now()
        self.service.last_completed_task_definition = primary["taskDefinition"]
        self.event(f"(deployment {primary['id']}) deployment completed.")
        self.event("has reached a steady state.")
        for watcher in _watchers:
            watcher.completed(self, primary)

    def idle(self) -> bool:
        """Nothing happens until something outside changes: no deployment in progress, no task to start or
        to exit."""
        deployments = self.service.deployments
        if deployments and deployments[0]["rolloutState"] == "IN_PROGRESS":
            return False
        return not any(
            self.tasks(deployment, "PENDING")
            or any(task.exit_code_after_start is not None for task in self.tasks(deployment, "RUNNING"))
            for deployment in deployments
        )

    def count(self) -> None:
        for deployment in self.service.deployments:
            deployment["runningCount"] = len(self.tasks(deployment, "RUNNING"))
            deployment["pendingCount"] = len(self.tasks(deployment, "PENDING"))
        self.service.running_count = sum(d["runningCount"] for d in self.service.deployments)
        self.service.pending_count = sum(d["pendingCount"] for d in self.service.deployments)
        for watcher in _watchers:
            watcher.counted(self)

    def event(self, message: str) -> None:
        self.service.events.insert(
            0, {"id": str(uuid.uuid4()), "createdAt": utc_now(), "message": f"(service {self.service.name}) {message}"}
        )
        del self.service.events[EVENTS_KEPT:]


class TaskStart:
    """What happens when ECS starts a task: pull the image, read the secrets, run the container."""

    def __init__(self, backend, task: ServiceTask):
        self.backend = backend
        self.task = task

    def outcome(self) -> tuple[StartFailure | None, Any]:
        """(why it stops, None if it starts), and the exit code its image was pushed with, if any."""
        task_definition = self.backend.describe_task_definition(self.task.task_definition_arn)
        exit_code = None
        for container in task_definition.container_definitions:
            image = container.get("image") or ""
            manifest, failure = self.pull(image)
            if failure:
                return failure, None
            failure = self.read_secrets(container.get("secrets") or [])
            if failure:
                return failure, None
            annotation = (manifest or {}).get("annotations", {}).get(EXIT_CODE_ANNOTATION)
            if container.get("command") == EXITS_AT_ONCE:
                annotation = 1
            if annotation is not None and container.get("essential", True):
                exit_code = int(annotation)
        return None, exit_code

    def pull(self, image: str) -> tuple[dict | None, StartFailure | None]:
        from moto.ecr.models import ecr_backends

        match = ECR_IMAGE.match(image)
        if not match:  # a public registry: not modelled, it pulls
            return None, None
        retried = "pull image manifest has been retried 7 time(s)"
        repositories = ecr_backends[match["account"]][match["region"]].repositories
        repository = repositories.get(match["repo"])
        reference = match["ref"]
        found = [
            candidate
            for candidate in (repository.images if repository else [])
            if reference in candidate.image_tags or candidate.image_digest == reference
        ]
        if not found:
            reason = f"CannotPullContainerError: {retried}: failed to resolve ref {image}: {image}: not found"
            return None, StartFailure(reason, "TaskFailedToStart", reason)
        manifest = json.loads(found[0].image_manifest)
        platforms = [
            f"{entry['platform']['os']}/{entry['platform']['architecture']}"
            for entry in manifest.get("manifests", [])
            if "platform" in entry
        ]
        if manifest.get("manifests") is not None and FARGATE_PLATFORM not in platforms:
            reason = (
                f"CannotPullContainerError: {retried}: image Manifest does not contain descriptor matching "
                f"platform '{FARGATE_PLATFORM}'"
            )
            return None, StartFailure(reason, "TaskFailedToStart", reason)
        return manifest, None

    def read_secrets(self, secrets: list) -> StartFailure | None:
        from moto.ssm.models import ssm_backends

        task_arn = self.task.task_arn.split(":")
        ssm = ssm_backends[task_arn[4]][task_arn[3]]
        # valueFrom is the parameter's name or ARN (same region); moto's lookup takes either.
        missing = [
            secret["valueFrom"] for secret in filter(None, secrets) if ssm.get_parameter(secret["valueFrom"]) is None
        ]
        if not missing:
            return None
        reason = (
            "ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval "
            "failed: unable to retrieve secrets from ssm: service call has been retried 1 time(s): invalid ssm "
            f"parameters: {' '.join(missing)}"
        )
        return StartFailure(reason, "TaskFailedToStart", reason)


def scheduler(service) -> Scheduler:
    from moto.ecs.models import ecs_backends

    return Scheduler(ecs_backends[service._account_id][service.region_name], service)


def outcomes(service) -> dict[str, str]:
    """How each of the service's deployments ended (COMPLETED or FAILED), by id: kept after DescribeServices
    stops showing it, for CloudFormation, which waits on one deployment (service_stabilization)."""
    if not hasattr(service, "rollout_outcomes"):
        service.rollout_outcomes = {}
    return service.rollout_outcomes


def catch_up(now: float) -> None:
    """Run every service's scheduler steps that are due by simulated time `now`, in order (local_aws.clock)."""
    from moto.ecs.models import ecs_backends

    for _, _, backend in list(ecs_backends.iter_backends()):
        for service in list(backend.services.values()):
            try:
                _catch_up_service(backend, service, now)
            except Exception:  # a fault of the model stops this scheduler, not every request to the server
                service.next_step_at = None
                logging.getLogger(__name__).exception("the local AWS's scheduler of %s stopped", service.arn)


def _catch_up_service(backend, service, now: float) -> None:
    if service.status != "ACTIVE":  # deleted: its tasks were stopped, it starts no more
        service.next_step_at = None
        return
    for _ in range(CATCH_UP_STEP_LIMIT):
        due = getattr(service, "next_step_at", None)
        if due is None or due > now:
            return
        service.next_step_at = due + STEP_SECONDS
        service_scheduler = Scheduler(backend, service, at=due)
        service_scheduler.step()
        if service_scheduler.idle():
            service.next_step_at = None
            return
    if now != INSTANT:
        service.next_step_at = now + STEP_SECONDS


# What moto's ECS backend and its CloudFormation Service resource do differently (see the module docstring).


def create_service(
    moto_create_service, self, cluster_str, service_name, desired_count, task_definition_str=None, *args, **kwargs
):
    service = moto_create_service(self, cluster_str, service_name, desired_count, task_definition_str, *args, **kwargs)
    service.deployments = []
    service.events = []
    service.deployment_configuration = {
        **DEFAULT_CONFIGURATION,
        **(getattr(_requested_configuration, "value", None) or {}),
    }
    if service.task_definition and not getattr(_creating_from_cloudformation, "active", False):
        Scheduler(self, service).start_deployment(service.task_definition, service.desired_count)
    return service


def create_service_request(moto_create_service_request, self):
    """CreateService's response handler, which hands its deploymentConfiguration to create_service above, and
    refuses a clientToken longer than ECS takes ("Up to 36 ASCII characters", API reference, CreateService)."""
    from moto.ecs.exceptions import InvalidParameterException

    if len(self._get_param("clientToken") or "") > CLIENT_TOKEN_MAX:
        raise InvalidParameterException(f"clientToken must be at most {CLIENT_TOKEN_MAX} characters long.")
    _requested_configuration.value = self._get_param("deploymentConfiguration")
    try:
        return moto_create_service_request(self)
    finally:
        _requested_configuration.value = None


def update_service(moto_update_service, self, service_properties):
    properties = dict(service_properties)
    service = self._get_service(properties.get("cluster", "default"), properties["service"].split("/")[-1])
    previous_definition = service.task_definition
    force = bool(properties.get("force_new_deployment"))
    moto_update_service(self, service_properties)
    requested = properties.get("task_definition")
    definition = self.describe_task_definition(requested).arn if requested else previous_definition
    service_scheduler = Scheduler(self, service)
    service.task_definition = definition
    primary = service.deployments[0] if service.deployments else None
    if force or primary is None or primary["taskDefinition"] != definition:
        service_scheduler.start_deployment(definition, service.desired_count)
    else:
        primary["desiredCount"] = service.desired_count
        service_scheduler.launch(primary)
        service_scheduler.count()
    return service


def delete_service(moto_delete_service, self, cluster_name, service_name, force):
    service = moto_delete_service(self, cluster_name, service_name, force)
    service_scheduler = Scheduler(self, service)
    for deployment in service.deployments:
        for task in service_scheduler.tasks(deployment, "PENDING", "RUNNING"):
            task.stop(StartFailure("Service deleted", "ServiceSchedulerInitiated"))
    service_scheduler.count()
    return service


def list_tasks(
    moto_list_tasks,
    self,
    cluster_str=None,
    container_instance=None,
    family=None,
    started_by=None,
    service_name=None,
    desiredStatus=None,
):
    """ListTasks filters by `serviceName` and lists RUNNING tasks unless `desiredStatus` says otherwise."""
    tasks = moto_list_tasks(self, cluster_str, container_instance, family, started_by, None, desiredStatus or "RUNNING")
    if service_name:
        group = f"service:{service_name.split('/')[-1]}"
        tasks = [task for task in tasks if getattr(task, "group", None) == group]
    return tasks


def _service_settings(service, properties: dict) -> None:
    """What moto's Service resource drops and the scheduler needs."""
    configuration = properties.get("DeploymentConfiguration") or {}
    breaker = configuration.get("DeploymentCircuitBreaker") or {}
    service.deployment_configuration = {
        "deploymentCircuitBreaker": {
            "enable": bool(breaker.get("Enable")),
            "rollback": bool(breaker.get("Rollback")),
        },
        "maximumPercent": int(configuration.get("MaximumPercent", 200)),
        "minimumHealthyPercent": int(configuration.get("MinimumHealthyPercent", 100)),
    }
    alarms = configuration.get("Alarms")
    if alarms:
        service.deployment_configuration["alarms"] = {
            "alarmNames": list(alarms.get("AlarmNames", [])),
            "enable": bool(alarms.get("Enable")),
            "rollback": bool(alarms.get("Rollback")),
        }
    service.launch_type = properties.get("LaunchType") or service.launch_type


def create_service_from_cloudformation(
    moto_create, cls, resource_name, cloudformation_json, account_id, region_name, **kwargs
):
    _creating_from_cloudformation.active = True
    try:
        service = moto_create(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs)
    finally:
        _creating_from_cloudformation.active = False
    _service_settings(service, cloudformation_json["Properties"])
    if service.task_definition:  # the first deployment, with the service's settings known
        scheduler(service).start_deployment(service.task_definition, service.desired_count)
    return service


def update_service_from_cloudformation(
    moto_update, cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name
):
    _service_settings(original_resource, cloudformation_json["Properties"])
    service = moto_update(cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name)
    _service_settings(service, cloudformation_json["Properties"])
    return service


def delete_service_resource(self, account_id, region_name):
    """CloudFormation deletes the service with the stack (or a rollback); moto leaves it running."""
    from moto.ecs.models import ecs_backends

    ecs_backends[account_id][region_name].delete_service(self.cluster_name, self.name, force=True)
