"""`deploy.py status`: each stack's status, when it last changed and its outputs; for the app, what ECS
really runs: the rollout, the image of each deployment with running tasks, a warning (and why, when it
can tell) if that is not the stack's ImageUri, the last stopped tasks' reasons, the service events, its
deployment alarms' states and the canary's verdict on the last release (canary_watch). Over every environment
of the file, one row each.
`--watch` refreshes until Ctrl-C."""

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from ..aws.aws_types import Client, Stack, StackEvent
from ..aws.rollout import ServiceRollout
from ..aws.session import AwsClients
from ..aws.stack_state import describe_stack, status_of
from ..model.ecs_state import Progress, ServiceState
from ..model.environments import Environment
from ..model.invocation import Invocation
from ..model.parameters import deployed_values
from ..model.stack_outputs import outputs_of
from ..model.stack_report import ServiceReport, StackReport
from ..render.console import Console
from ..render.environment_table import EnvironmentState, environment_table
from ..render.stack_report import stack_report_lines
from ..watch.canary_watch import CanaryWatch
from ..watch.interrupts import AWS_ERRORS, first_line
from ..watch.timing import REAL_TIME, Timing
from .release import StackNames

STACK_EVENTS_SHOWN = 8
STOPPED_TASKS_SHOWN = 3
WATCH_INTERVAL_SECONDS = 5.0


class StatusReport:
    def __init__(
        self,
        clients: AwsClients,
        console: Console,
        names: StackNames,
        invocation: Invocation,
        timing: Timing = REAL_TIME,
    ) -> None:
        self.clients = clients
        self.console = console
        self.names = names
        self.invocation = invocation
        self.sleep = timing.sleep

    def run(self, target: str | None = None) -> None:
        for kind in [target] if target else ["registry", "app"]:
            self.show_stack(kind, getattr(self.names, kind))

    def watch(self, target: str | None, interval: float = WATCH_INTERVAL_SECONDS) -> None:
        refresh_until_interrupted(self.console, lambda: self.run(target), interval, self.sleep)

    def show_stack(self, kind: str, name: str) -> None:
        for line in stack_report_lines(self.read(kind, name), self.console):
            self.console.line(line)
        self.console.line()

    def read(self, kind: str, name: str) -> StackReport:
        """Everything status shows of one stack, read before anything is printed."""
        stack = describe_stack(self.clients.cloudformation, name)
        if stack is None:
            return StackReport(name, None)
        events: tuple[StackEvent, ...] = ()
        if status_of(stack).in_progress:
            newest = self.clients.cloudformation.describe_stack_events(StackName=stack["StackId"])["StackEvents"]
            events = tuple(reversed(newest[:STACK_EVENTS_SHOWN]))
        outputs = outputs_of(stack)
        if kind != "app" or "ClusterName" not in outputs or "ServiceName" not in outputs:
            return StackReport(name, stack, events)
        rollout = ServiceRollout(self.clients.ecs, outputs["ClusterName"], outputs["ServiceName"])
        state = rollout.state()
        if state is None:
            return StackReport(name, stack, events, missing_service=(rollout.service, rollout.cluster))
        return StackReport(name, stack, events, self.read_service(stack, rollout, state))

    def read_service(self, stack: Stack, rollout: ServiceRollout, state: ServiceState) -> ServiceReport:
        images = running_images(self.clients.ecs, state)
        expected = outputs_of(stack).get("ImageUri")
        mismatch = None
        if expected and images and set(images.values()) != {expected}:
            mismatch = ImageMismatch(self.clients, stack, state).explain()
        stopped = tuple([task for task in rollout.stopped_tasks(set()) if task.failed][:STOPPED_TASKS_SHOWN])
        canary = CanaryWatch(self.clients, self.console, stack["StackName"], outputs_of(stack), self.invocation)
        try:
            verdict = canary.last_release(state)
        except AWS_ERRORS as error:  # e.g. a role without the history's permissions: the rest still stands
            return ServiceReport(state, images, expected, mismatch, stopped, (), None, not_judged=first_line(error))
        return ServiceReport(state, images, expected, mismatch, stopped, tuple(canary.alarm_states.values()), verdict)


def refresh_until_interrupted(
    console: Console, show: Callable[[], None], interval: float, sleep: Callable[[float], None]
) -> None:
    """Refresh until Ctrl-C, which ends the watch (nothing runs on our side to interrupt)."""
    try:
        while True:
            console.clear_screen()
            console.line(f"{datetime.now():%H:%M:%S}  (refreshing every {interval:g} s, Ctrl-C to stop)")
            show()
            sleep(interval)
    except KeyboardInterrupt:
        console.line("stopped watching")


def running_images(ecs: Client, state: ServiceState) -> dict[str, str]:
    """`family:revision` -> image, for each deployment with tasks running (the primary's if none do)."""
    deployments = [d for d in state.deployments if d.running] or state.deployments[:1]
    images = {}
    for deployment in deployments:
        definition = ecs.describe_task_definition(taskDefinition=deployment.task_definition)
        containers = definition["taskDefinition"]["containerDefinitions"]
        images[deployment.revision] = ", ".join(container.get("image", "?") for container in containers)
    return images


class EnvironmentsOverview:
    """`deploy.py status` with environments in the file and none chosen: every environment in one table."""

    def __init__(
        self,
        console: Console,
        environments: list[tuple[Environment, AwsClients]],
        invocation: Invocation,
        timing: Timing = REAL_TIME,
    ) -> None:
        self.console = console
        self.environments = environments
        self.invocation = invocation
        self.sleep = timing.sleep

    def run(self) -> None:
        states = [self.state_of(environment, clients) for environment, clients in self.environments]
        for line in environment_table(states, self.invocation):
            self.console.line(line)

    def watch(self, interval: float) -> None:
        refresh_until_interrupted(self.console, self.run, interval, self.sleep)

    def state_of(self, environment: Environment, clients: AwsClients) -> EnvironmentState:
        clients.check_configuration()
        read = EnvironmentState(environment.name, clients.region, environment.stack_name)
        stack = describe_stack(clients.cloudformation, environment.stack_name)
        if stack is None:
            return read
        read = replace(read, stack_status=stack["StackStatus"], version=(deployed_values(stack) or {}).get("Version"))
        outputs = outputs_of(stack)
        if not {"ClusterName", "ServiceName"} <= set(outputs):
            return read
        state = ServiceRollout(clients.ecs, outputs["ClusterName"], outputs["ServiceName"]).state()
        if state is None:
            return read
        images = tuple(sorted(set(running_images(clients.ecs, state).values())))
        read = replace(
            read,
            running=state.running,
            desired=state.desired,
            running_images=images,
            runs_stack_image=images == (outputs["ImageUri"],) if images and "ImageUri" in outputs else None,
        )
        invocation = self.invocation.in_environment(environment.name)
        canary = CanaryWatch(clients, self.console, environment.stack_name, outputs, invocation)
        try:
            return replace(read, verdict=canary.last_release(state))
        except AWS_ERRORS as error:  # e.g. a role without the history's permissions: the rest still stands
            return replace(read, not_judged=first_line(error))


class ImageMismatch:
    """Why ECS runs another image than the stack says, when the state tells: a rollout in progress, a
    rollback, or a change made outside CloudFormation."""

    def __init__(self, clients: AwsClients, stack: Stack, state: ServiceState) -> None:
        self.clients = clients
        self.stack = stack
        self.state = state

    def explain(self) -> str:
        primary = self.state.primary
        failed = [d for d in self.state.deployments if d.progress is Progress.FAILED]
        if failed:
            return (
                f"the deployment of {failed[0].revision} failed ({failed[0].rollout_state_reason or 'no reason given'})"
                " and ECS rolled the service back"
            )
        stack_busy = status_of(self.stack).in_progress
        declared = None if stack_busy else self.stack_task_definition()
        outside = ""
        if declared and primary and declared != primary.task_definition:
            outside = (
                f"changed outside CloudFormation: the service deploys {primary.revision}, the stack's task definition "
                f"is {declared.rsplit('/', 1)[-1]} (e.g. `aws ecs update-service`); deploy again to put the stack's back"
            )
        if stack_busy or (primary and primary.progress is Progress.IN_PROGRESS):
            return "a rollout is in progress: the old tasks run until the new ones do" + (
                f"; {outside}" if outside else ""
            )
        if outside:
            return outside
        if "ROLLBACK" in self.stack["StackStatus"]:
            return f"the last update was rolled back ({self.stack['StackStatus']})"
        return "the cause is not visible from the stack or the service"

    def stack_task_definition(self) -> str | None:
        paginator = self.clients.cloudformation.get_paginator("list_stack_resources")
        for page in paginator.paginate(StackName=self.stack["StackId"]):
            for summary in page["StackResourceSummaries"]:
                if summary["ResourceType"] == "AWS::ECS::TaskDefinition":
                    return str(summary.get("PhysicalResourceId"))
        return None
