"""What `deploy.py status` shows of one stack, read first and rendered after (render/stack_report.py)."""

from dataclasses import dataclass

from ..aws.aws_types import Stack, StackEvent
from .ecs_state import ServiceState, StoppedTask
from .verdict import AlarmState, Verdict


@dataclass(frozen=True)
class ServiceReport:
    """The app's ECS service: what it really runs, against what the stack says."""

    state: ServiceState
    images: dict[str, str]  # family:revision -> image, for each deployment with tasks running
    expected_image: str | None  # the stack's ImageUri
    mismatch: str | None  # why ECS runs another image than the stack says, when it does
    stopped: tuple[StoppedTask, ...]  # the last tasks that stopped for a reason of their own
    alarm_states: tuple[AlarmState, ...]
    verdict: Verdict | None  # the canary's verdict on the last release
    not_judged: str | None = None  # why the last release's verdict could not be read


@dataclass(frozen=True)
class StackReport:
    name: str
    stack: Stack | None  # None: not deployed
    recent_events: tuple[StackEvent, ...] = ()  # newest last, while the stack is in progress
    service: ServiceReport | None = None
    missing_service: tuple[str, str] | None = None  # (service, cluster) the outputs name but ECS does not have
