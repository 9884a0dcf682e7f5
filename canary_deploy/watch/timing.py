"""How the watchers tell time and wait: the one seam that tests replace (a scripted clock, no real sleep)."""

import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Timing:
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep


REAL_TIME = Timing()
