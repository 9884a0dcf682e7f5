"""The change review: each resource change as a row, what changes in it underneath, and the flags.

Removals, replacements, IAM and security-group changes are flagged (⚠) and need confirmation, except a
routine release: a task definition replaced only because its image tag changes (and that tag where the
environment repeats it, as APP_VERSION does). IAM and security-group rows list the statements and rules
added (+) and removed (-).
"""

from __future__ import annotations

import json
import re
from functools import cached_property
from typing import Any

from ..aws.aws_types import ResourceChange
from ..model.images import image_tag
from ..model.property_diff import MISSING, PropertyChange, ResourceValues
from ..model.security_diff import SECURITY_GROUP_TYPES, is_security_type, security_changes
from .console import Console

HEADERS = ("Action", "Logical ID", "Type", "Replacement")
TASK_DEFINITION = "AWS::ECS::TaskDefinition"
IMAGE_PATH = re.compile(r"ContainerDefinitions\[[^\]]+\]\.Image")
ENVIRONMENT_VALUE_PATH = re.compile(r"ContainerDefinitions\[[^\]]+\]\.Environment\[[^\]]+\]\.Value")
PROPERTY_LINES_SHOWN = 8
VALUE_WIDTH = 100
# A shared prefix longer than this is elided up to its last separator: "…:1.16.0-beta.12 → …:1.16.0-beta.13".
SHARED_PREFIX_SHOWN = 24
DETAIL_INDENT = "      "
# What CloudFormation's AfterContext holds for a value it resolves only while executing.
KNOWN_AFTER_APPLY = "{{changeSet:KNOWN_AFTER_APPLY}}"


class ReviewedChange:
    """One ResourceChange with its property values, risk and detail lines."""

    def __init__(self, change: ResourceChange, values: ResourceValues) -> None:
        self.change = change
        self.values = values

    @property
    def logical_id(self) -> str:
        return self.change.get("LogicalResourceId", "?")

    @property
    def resource_type(self) -> str:
        return self.change.get("ResourceType", "?")

    @cached_property
    def release(self) -> PropertyChange | None:
        """The image change, when this is a task definition replaced only for a new image tag."""
        if self.resource_type != TASK_DEFINITION or self.change.get("Replacement") != "True":
            return None
        changes = self.values.changes
        images = [change for change in changes if IMAGE_PATH.fullmatch(change.path)]
        if not images or not all(_only_tag_differs(change.before, change.after) for change in images):
            return None
        tags = {(_tag(change.before), _tag(change.after)) for change in images}
        for change in changes:
            if change in images:
                continue
            if not (ENVIRONMENT_VALUE_PATH.fullmatch(change.path) and (change.before, change.after) in tags):
                return None
        return images[0]

    @property
    def risk(self) -> str | None:
        """Why this change needs confirmation, or None. Removals and replacements can lose data; IAM and
        security-group changes can widen access; an import puts an existing resource under the stack."""
        if self.change.get("Action") == "Remove":
            return "removal"
        if self.change.get("Action") == "Import":  # the stack takes over a resource made outside it
            return "import of an existing resource"
        replacement = self.change.get("Replacement")
        if replacement == "True" and self.release is None:
            return "replacement"
        if replacement == "Conditional":
            return "possible replacement"
        if self.resource_type.startswith("AWS::IAM::"):
            return "IAM"
        if self.resource_type in SECURITY_GROUP_TYPES:
            return "security group"
        return None

    def details(self) -> list[str]:
        """What changes in the resource, one line each."""
        if self.release is not None:
            before, after = _pair(self.release.before, self.release.after)
            return [f"image {before} → {after} (routine release: only the image tag changes)"]
        lines = []
        if is_security_type(self.resource_type):
            added, removed = security_changes(self.resource_type, self.values.before, self.values.after)
            lines += [f"+ {text}" for text in added] + [f"- {text}" for text in removed]
        if self.change.get("Action") != "Modify":
            return lines
        changes = [c for c in self.values.changes if not (lines and _is_security_path(c.path))]
        lines += [_property_line(change) for change in changes[:PROPERTY_LINES_SHOWN]]
        if len(changes) > PROPERTY_LINES_SHOWN:
            lines.append(f"… and {len(changes) - PROPERTY_LINES_SHOWN} more")
        shown = {change.path.split(".")[0].split("[")[0] for change in self.values.changes}
        for name in self._changed_names():
            if name not in shown:
                lines.append(f"{name}: changes (the new value is known only once executed)")
        return lines

    def _changed_names(self) -> list[str]:
        """The properties CloudFormation's Details say change, in order, without repeats."""
        names = []
        for detail in self.change.get("Details") or []:
            target = detail.get("Target", {})
            name = target.get("Name") or (target.get("Attribute") if target.get("Attribute") != "Properties" else None)
            if name and name not in names:
                names.append(name)
        return names


class ChangeReview:
    """The resource changes of a change set, rendered for a human to approve."""

    def __init__(
        self, stack_name: str, changes: list[ResourceChange], values: list[ResourceValues] | None = None
    ) -> None:
        """`values`: each change's, as aws/local_values.py resolved them; by default CloudFormation's own."""
        self.stack_name = stack_name
        values = values if values is not None else [ResourceValues.from_context(change) for change in changes]
        self.changes = [ReviewedChange(change, value) for change, value in zip(changes, values, strict=True)]

    @property
    def risky(self) -> list[ReviewedChange]:
        return [change for change in self.changes if change.risk]

    def print(self, console: Console) -> None:
        rows = [
            (
                change.change.get("Action", "?"),
                change.logical_id,
                change.resource_type,
                change.change.get("Replacement") or "-",
            )
            for change in self.changes
        ]
        widths = [max(len(str(cell)) for cell in column) for column in zip(HEADERS, *rows, strict=True)]
        console.line(f"Changes for {self.stack_name} ({len(rows)}):")
        console.line(console.style("  " + _join(HEADERS, widths), "bold"))
        for change, row in zip(self.changes, rows, strict=True):
            risk = change.risk
            text = "  " + _join(row, widths)
            if risk:
                # The marker keeps the warning visible in CI logs, where there is no colour.
                severe = risk in ("removal", "replacement")
                text = console.style(f"{text}  ⚠ {risk}", "red" if severe else "yellow")
            console.line(text.rstrip())
            for line in change.details():
                console.line(console.style(f"{DETAIL_INDENT}{line}", "dim"))


def _join(cells: tuple, widths: list[int]) -> str:
    return "  ".join(str(cell).ljust(width) for cell, width in zip(cells, widths, strict=True))


def _property_line(change: PropertyChange) -> str:
    before, after = _pair(change.before, change.after)
    return f"{change.path}: {before} → {after}"


def _is_security_path(path: str) -> bool:
    """Paths the + / - statement and rule lines already show."""
    top = path.split(".")[0].split("[")[0]
    return top in ("AssumeRolePolicyDocument", "Policies", "PolicyDocument", "ManagedPolicyArns") or top.startswith(
        "SecurityGroup"
    )


def _pair(before: Any, after: Any) -> tuple[str, str]:
    """Both values as text; a long prefix they share is elided up to its last separator."""
    old, new = _text(before), _text(after)
    shared = 0
    while shared < min(len(old), len(new)) and old[shared] == new[shared]:
        shared += 1
    cut = max(old.rfind(separator, 0, shared) for separator in "/:")
    if before is not MISSING and after is not MISSING and cut >= SHARED_PREFIX_SHOWN:
        old, new = f"…{old[cut:]}", f"…{new[cut:]}"
    return _shorten(old), _shorten(new)


def _text(value: Any) -> str:
    if value is MISSING:
        return "(none)"
    if value == KNOWN_AFTER_APPLY:
        return "(known after deploy)"
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(",", ":"), default=str)
    return str(value)


def _shorten(text: str) -> str:
    if len(text) <= VALUE_WIDTH:
        return text
    half = VALUE_WIDTH // 2 - 1
    return f"{text[:half]}…{text[-half:]}"


def _tag(image: Any) -> str | None:
    return image_tag(image) if isinstance(image, str) else None


def _only_tag_differs(before: Any, after: Any) -> bool:
    """Same repository, another tag: what a release changes. A new repository is not routine."""
    if not (isinstance(before, str) and isinstance(after, str)):
        return False
    return _tag(before) is not None and _tag(after) is not None and before.rsplit(":", 1)[0] == after.rsplit(":", 1)[0]
