"""What the local AWS changes in moto itself, for speed.

moto's list of its services (moto/backends.py): to find the service a request is for, moto lists its own
package directory, with a stat per entry, on every request (1.2 ms of the 4 ms it spends on one). The list is
that of moto's subpackages, fixed once moto is installed: it is listed once."""

from __future__ import annotations

import functools


@functools.cache
def list_of_moto_modules(moto_list_of_moto_modules) -> tuple[str, ...]:
    return tuple(moto_list_of_moto_modules())


def no_default_amis() -> bool:
    """moto loads about 600 public AMIs, with a snapshot each, into every new account's EC2: 67 ms at each
    reset of the local AWS, for images nothing here reads (moto's own MOTO_EC2_LOAD_DEFAULT_AMIS=false)."""
    return False
