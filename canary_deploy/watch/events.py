"""Streams new stack events while CloudFormation works, with a resource progress line and backoff."""

import math
from collections.abc import Callable, Iterator, Mapping

from cfn.stack_status import StackStatus

from ..aws.aws_types import Client, StackEvent
from ..errors import BadInput, DeploymentFailed
from ..render.console import Console
from ..render.durations import duration
from ..render.stack_events import stack_event_line, stack_event_style
from .rollout_watch import RolloutWatch
from .timing import REAL_TIME, Timing

STACK_TYPE = "AWS::CloudFormation::Stack"
# About 1 s while a deploy is young (most finish quickly, and the end is noticed within a second), then
# backing off to a few seconds so a 3-hour ECS stabilisation does not hammer the API.
FAST_POLL = 1.0
# An endpoint that answers at once (a local emulator) may be polled faster, as AWS SAM CLI's
# SAM_CLI_POLL_DELAY allows: this sets the fast polls; the back-off after a minute stays.
POLL_SECONDS_VARIABLE = "CANARY_POLL_SECONDS"
FAST_PHASE = 60.0
BACKOFF = 1.5
SLOWEST_POLL = 5.0
# Reasons of resources that failed only because another one did: not root causes.
CONSEQUENTIAL_REASONS = ("cancelled", "Resource creation cancelled", "Resource update cancelled")
ROOT_CAUSES_SHOWN = 5


def fast_poll_seconds(environment: Mapping[str, str]) -> float:
    """The fast poll interval: CANARY_POLL_SECONDS when set (a number of seconds above 0), else 1 s."""
    value = environment.get(POLL_SECONDS_VARIABLE)
    if value is None:
        return FAST_POLL
    try:
        seconds = float(value)
    except ValueError:
        seconds = math.nan
    if not (math.isfinite(seconds) and 0 < seconds <= SLOWEST_POLL):
        raise BadInput(
            f"{POLL_SECONDS_VARIABLE}={value!r} is not a number of seconds above 0 and at most {SLOWEST_POLL:g}"
        )
    return seconds


class PollSchedule:
    def __init__(self, clock: Callable[[], float], fast_poll: float = FAST_POLL) -> None:
        self.clock = clock
        self.start = clock()
        self.fast_poll = fast_poll
        self.delay = fast_poll

    def next_delay(self) -> float:
        if self.clock() - self.start < FAST_PHASE:
            return self.fast_poll
        self.delay = min(self.delay * BACKOFF, SLOWEST_POLL)
        return self.delay


class EventStream:
    """Prints each stack event once, oldest first; knows the stack's status from its own events."""

    def __init__(
        self,
        cfn: Client,
        stack_id: str,
        stack_name: str,
        console: Console,
        status_command: str,
        total_resources: int = 0,
        timing: Timing = REAL_TIME,
        watcher: RolloutWatch | None = None,
        fast_poll: float = FAST_POLL,
    ) -> None:
        """`watcher` follows the ECS service on the same polls, within the same budget (rollout_watch);
        `status_command` watches the stack after a timeout."""
        self.cfn = cfn
        self.stack_id = stack_id
        self.stack_name = stack_name
        self.console = console
        self.status_command = status_command
        self.total_resources = total_resources
        self.clock = timing.clock
        self.sleep = timing.sleep
        self.seen: set[str] = set()
        self.events: list[StackEvent] = []
        self.resource_status: dict[str | None, str] = {}
        self.watcher = watcher
        self.fast_poll = fast_poll
        self.started = timing.clock()

    def mark(self) -> None:
        """Remember the events already there, so only what this deploy causes is streamed."""
        self.seen.update(event["EventId"] for event in self._newest_first())

    def wait(self, timeout: float, on_interrupt: Callable[[], None]) -> str:
        """Polls until the stack reaches a final status and returns it. on_interrupt handles Ctrl-C: it
        raises to stop waiting or returns to keep streaming (e.g. the rollback after a cancel)."""
        schedule = PollSchedule(self.clock, self.fast_poll)
        deadline = self.clock() + timeout
        while True:
            try:
                status = self.poll()
                if status:
                    return status
                if self.clock() >= deadline:
                    raise DeploymentFailed(
                        f"gave up waiting for {self.stack_name} after {timeout:.0f} s (--timeout); CloudFormation "
                        f"goes on: watch it with `{self.status_command}`"
                    )
                self.sleep(schedule.next_delay())
            except KeyboardInterrupt:
                on_interrupt()

    def poll(self) -> str | None:
        """Prints new events; returns the stack's final status once reached, else None."""
        new = []
        for event in self._newest_first():
            if event["EventId"] in self.seen:
                break
            if not StackStatus(event["ResourceStatus"]).awaiting_execution:  # the change set made it, not executing
                new.append(event)
        new.reverse()
        final = None
        for event in new:
            self.seen.add(event["EventId"])
            self.events.append(event)
            self._show(event)
            if self.watcher:
                self.watcher.on_event(event)
            if self._is_stack_event(event) and StackStatus(event["ResourceStatus"]).final:
                final = event["ResourceStatus"]
        if final is None and not new:
            # Some endpoints (moto) can settle without a final stack event: ask the stack itself.
            status = self.cfn.describe_stacks(StackName=self.stack_id)["Stacks"][0]["StackStatus"]
            final = status if StackStatus(status).final else None
        if final is None and self.watcher:
            self.watcher.poll()
        if final is None:
            self._show_progress()
        return final

    def root_causes(self) -> list[StackEvent]:
        """The first failed resources of this deploy with their reasons, skipping knock-on cancellations."""
        failed = [
            event
            for event in self.events
            if event["ResourceStatus"].endswith("_FAILED")
            and not self._is_stack_event(event)
            and not any(marker in (event.get("ResourceStatusReason") or "") for marker in CONSEQUENTIAL_REASONS)
        ]
        if not failed:
            failed = [e for e in self.events if e.get("ResourceStatusReason") and "FAILED" in e["ResourceStatus"]]
        return failed[:ROOT_CAUSES_SHOWN]

    def stack_reason(self) -> str | None:
        """The reason CloudFormation gave with the stack's latest status in this operation."""
        reasons = [event.get("ResourceStatusReason") for event in self.events if self._is_stack_event(event)]
        return reasons[-1] if reasons else None

    def _newest_first(self) -> Iterator[StackEvent]:
        paginator = self.cfn.get_paginator("describe_stack_events")
        for page in paginator.paginate(StackName=self.stack_id):
            yield from page["StackEvents"]

    def _is_stack_event(self, event: StackEvent) -> bool:
        return event.get("ResourceType") == STACK_TYPE and event.get("LogicalResourceId") == self.stack_name

    def _show(self, event: StackEvent) -> None:
        status = event["ResourceStatus"]
        if not self._is_stack_event(event):
            self.resource_status[event.get("LogicalResourceId")] = status
        text, style = stack_event_line(event), stack_event_style(status)
        self.console.line(self.console.style(text, style) if style else text)

    def _show_progress(self) -> None:
        done = sum(1 for status in self.resource_status.values() if status.endswith("_COMPLETE"))
        total = max(self.total_resources, len(self.resource_status))
        parts = [f"{self.stack_name}: {done}/{total} resources"]
        if self.watcher and self.watcher.progress():
            parts.append(self.watcher.progress())
        parts.append(duration(self.clock() - self.started))
        self.console.progress(" · ".join(parts))
