"""The local AWS's time: a clock, not a count of calls.

What takes time on AWS (an ECS task starting, a deployment baking, CloudFormation waiting for a service)
takes simulated seconds here, and the simulated clock runs at a pace: so many simulated seconds per real
second, set per server (`LocalAWS(pace=...)`, or LOCAL_AWS_PACE for `make run` and `make local-aws`). A
30-second task start takes 30 / pace real seconds, however often a client looks. Timestamps in answers
(createdAt, event times) stay wall-clock, so a client comparing them with its own clock is not misled.

Before each request, everything that moves with time catches up with the clock (`catch_up`): what a
request sees is the state at its arrival. The followers are registered in order by `local_aws.patches`.

Tests drive it explicitly: `stopped()` holds the clock (pace 0) and `advance(seconds)` moves it on;
INSTANT (an infinite pace) settles everything at the next request (benchmarks time the tools, not the
emulated rollout).
"""

from __future__ import annotations

import contextlib
import math
import os
import threading
import time
from collections.abc import Callable, Iterator

from .errors import LocalAWSError

PACE_VARIABLE = "LOCAL_AWS_PACE"
# Simulated seconds per real second by default: a task start of 30 s takes 50 ms, a healthy release's
# rollout (start, scale-in, bake) about 0.2 s, a broken one's three failed starts about 0.15 s.
DEFAULT_PACE = 1200.0
INSTANT = math.inf


def pace_from_environment(environment: dict[str, str] | os._Environ[str] = os.environ) -> float:
    """LOCAL_AWS_PACE when set (a number above 0, or "instant"), else DEFAULT_PACE."""
    value = environment.get(PACE_VARIABLE)
    if value is None:
        return DEFAULT_PACE
    if value.strip().lower() == "instant":
        return INSTANT
    try:
        pace = float(value)
    except ValueError:
        pace = math.nan
    if not (pace > 0 and not math.isnan(pace)):
        raise LocalAWSError(
            f"{PACE_VARIABLE}={value!r} is not a pace: simulated seconds per real second above 0, or 'instant'"
        )
    return pace


class Clock:
    """Simulated seconds: `pace` of them per real second, plus what advance() adds. One per process, as
    moto's state is (`clock` below)."""

    def __init__(self, pace: float = DEFAULT_PACE) -> None:
        self.lock = threading.RLock()  # held by the server around each request (server.py)
        self._pace = pace
        self._origin = 0.0  # the simulated time at _real_origin
        self._real_origin = time.monotonic()
        self._followers: list[Callable[[float], None]] = []

    @property
    def pace(self) -> float:
        return self._pace

    def now(self) -> float:
        if self._pace == INSTANT:
            return INSTANT
        return self._origin + (time.monotonic() - self._real_origin) * self._pace

    def set_pace(self, pace: float) -> None:
        with self.lock:
            if self._pace != INSTANT:
                self._origin = self.now()
            self._real_origin = time.monotonic()
            self._pace = pace

    def advance(self, seconds: float) -> None:
        """Let `seconds` of simulated time pass at once (it is seen at the next request)."""
        with self.lock:
            self._origin += seconds

    @contextlib.contextmanager
    def stopped(self) -> Iterator[Clock]:
        """Time stands still (but for advance()) until the block ends, then runs at its pace again."""
        pace = self._pace
        self.set_pace(0.0)
        try:
            yield self
        finally:
            self.set_pace(pace)

    def follow(self, catch_up: Callable[[float], None]) -> None:
        """Register what moves with time: `catch_up(now)` brings it to simulated time `now` (once each)."""
        if catch_up not in self._followers:
            self._followers.append(catch_up)

    def catch_up(self) -> None:
        """Bring everything that moves with time to now, in the order it was registered."""
        with self.lock:
            now = self.now()
            for follower in self._followers:
                follower(now)


clock = Clock()
