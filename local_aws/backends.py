"""moto's list of its services (moto/backends.py), for speed only: to find the service a request is for,
moto lists its own package directory, with a stat per entry, on every request (1.2 ms of the 4 ms it spends
on one). The list is that of moto's subpackages, fixed once moto is installed: it is listed once."""

from __future__ import annotations

import functools


@functools.cache
def list_of_moto_modules(moto_list_of_moto_modules) -> tuple[str, ...]:
    return tuple(moto_list_of_moto_modules())
