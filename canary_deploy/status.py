"""`deploy.py status`: stack status and outputs; for the app, the ECS service as describe-services shows it."""

from .aws_types import Stack
from .commands import StackNames
from .console import Console
from .events import STACK_TYPE
from .session import AwsClients
from .stack_state import describe_stack, is_in_progress, outputs_of

SERVICE_EVENTS_SHOWN = 5
STACK_EVENTS_SHOWN = 8


class StatusReport:
    def __init__(self, clients: AwsClients, console: Console, names: StackNames) -> None:
        self.clients = clients
        self.console = console
        self.names = names

    def run(self, target: str | None = None) -> None:
        for kind in [target] if target else ["registry", "app"]:
            self.show_stack(kind, getattr(self.names, kind))

    def show_stack(self, kind: str, name: str) -> None:
        stack = describe_stack(self.clients.cloudformation, name)
        if stack is None:
            self.console.line(f"{name}: not deployed")
            return
        status = stack["StackStatus"]
        reason = f" ({stack['StackStatusReason']})" if stack.get("StackStatusReason") else ""
        updated = stack.get("LastUpdatedTime") or stack.get("CreationTime")
        self.console.line(f"{name}: {status}{reason}, last change {updated:%Y-%m-%d %H:%M:%S %Z}".rstrip())
        outputs = outputs_of(stack)
        for key, value in outputs.items():
            self.console.line(f"{name}.{key} = {value}")
        if is_in_progress(status):
            self.show_recent_events(stack)
        if kind == "app" and "ClusterName" in outputs and "ServiceName" in outputs:
            self.show_service(outputs["ClusterName"], outputs["ServiceName"])
        self.console.line()

    def show_recent_events(self, stack: Stack) -> None:
        events = self.clients.cloudformation.describe_stack_events(StackName=stack["StackId"])["StackEvents"]
        self.console.line("Recent events:")
        for event in reversed(events[:STACK_EVENTS_SHOWN]):
            kind = "" if event.get("ResourceType") == STACK_TYPE else f" {event.get('ResourceType')}"
            reason = f"  {event['ResourceStatusReason']}" if event.get("ResourceStatusReason") else ""
            self.console.line(
                f"  {event['Timestamp']:%H:%M:%S}  {event['ResourceStatus']}{kind} {event['LogicalResourceId']}{reason}"
            )

    def show_service(self, cluster: str, service_name: str) -> None:
        ecs = self.clients.ecs
        services = ecs.describe_services(cluster=cluster, services=[service_name]).get("services", [])
        if not services:
            self.console.line(f"ECS service {service_name} not found in cluster {cluster}")
            return
        service = services[0]
        self.console.line(
            f"ECS service {service['serviceName']} ({service.get('status', '?')}): desired {service.get('desiredCount', 0)}, "
            f"running {service.get('runningCount', 0)}, pending {service.get('pendingCount', 0)}"
        )
        for deployment in service.get("deployments", []):
            self.console.line(
                f"  deployment {deployment.get('status', '?')} {deployment.get('rolloutState', '')}: "
                f"{deployment.get('taskDefinition', '?').rsplit('/', 1)[-1]}, running {deployment.get('runningCount', 0)}"
                f"/{deployment.get('desiredCount', 0)}, failed tasks {deployment.get('failedTasks', 0)}"
            )
        task_definition = service.get("taskDefinition")
        if task_definition:
            containers = ecs.describe_task_definition(taskDefinition=task_definition)["taskDefinition"][
                "containerDefinitions"
            ]
            for container in containers:
                image = container.get("image", "?")
                self.console.line(f"  running image tag: {image.rsplit(':', 1)[-1]} ({image})")
        for event in service.get("events", [])[:SERVICE_EVENTS_SHOWN]:
            self.console.line(f"  {event['createdAt']:%H:%M:%S}  {event['message']}")
