"""What each changed resource's properties are before and after a change set, and which of them change.

CloudFormation gives the values itself when asked (DescribeChangeSet with IncludePropertyValues: each
ResourceChange's BeforeContext / AfterContext). An endpoint that does not is answered locally
(aws/local_values.py). Either way a property that changes is listed with its path
(`ContainerDefinitions[app].Image`), its value before and after. Pure: no AWS call.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from ..aws.aws_types import ResourceChange

# List items are named by the first of these keys they have (containers, environment, tags, statements).
IDENTITY_KEYS = ("Name", "Key", "Sid", "PolicyName", "ContainerName", "Id")


class _Missing:
    def __repr__(self) -> str:
        return "(none)"


MISSING: Any = _Missing()


@dataclass(frozen=True)
class PropertyChange:
    path: str
    before: Any  # MISSING: added
    after: Any  # MISSING: removed


def property_changes(before: Any, after: Any, path: str = "") -> list[PropertyChange]:
    """The leaves that differ between two property trees, with readable paths."""
    if before == after:
        return []
    if isinstance(before, dict) and isinstance(after, dict):
        changes = []
        for key in [*before, *(key for key in after if key not in before)]:
            changes += property_changes(before.get(key, MISSING), after.get(key, MISSING), _join(path, key))
        return changes
    if isinstance(before, list) and isinstance(after, list):
        identity = _identity_key(before + after)
        if identity:
            named_before = {item[identity]: item for item in before}
            named_after = {item[identity]: item for item in after}
            changes = []
            for name in [*named_before, *(name for name in named_after if name not in named_before)]:
                changes += property_changes(
                    named_before.get(name, MISSING), named_after.get(name, MISSING), f"{path}[{name}]"
                )
            return changes
        if len(before) == len(after):
            return [
                change
                for index, (old, new) in enumerate(zip(before, after, strict=True))
                for change in property_changes(old, new, f"{path}[{index}]")
            ]
    return [PropertyChange(path, before, after)]


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _identity_key(items: list) -> str | None:
    """A key every item has with a distinct, simple value, so items are compared by name, not position."""
    if not items or not all(isinstance(item, dict) for item in items):
        return None
    for key in IDENTITY_KEYS:
        values = [item.get(key) for item in items]
        if all(isinstance(value, str) for value in values):
            return key
    return None


def context_properties(context: str | None) -> dict | None:
    """The Properties of a BeforeContext / AfterContext (an encoded JSON string), or None."""
    if not context:
        return None
    return json.loads(context).get("Properties", {})


@dataclass(frozen=True)
class ResourceValues:
    """A resource change's properties before and after (None where it has none)."""

    before: dict | None
    after: dict | None

    @classmethod
    def from_context(cls, change: ResourceChange) -> ResourceValues:
        """CloudFormation's own values (BeforeContext / AfterContext), or none."""
        return cls(context_properties(change.get("BeforeContext")), context_properties(change.get("AfterContext")))

    @cached_property
    def changes(self) -> list[PropertyChange]:
        return property_changes(self.before or {}, self.after or {})


def has_context(change: ResourceChange) -> bool:
    return "BeforeContext" in change or "AfterContext" in change
