"""The change set as a table; removals, replacements, IAM and security-group changes are flagged."""

from collections.abc import Sequence

from .aws_types import ResourceChange
from .console import Console

SECURITY_GROUP_TYPES = ("AWS::EC2::SecurityGroup", "AWS::EC2::SecurityGroupIngress", "AWS::EC2::SecurityGroupEgress")
HEADERS = ("Action", "Logical ID", "Type", "Replacement")


def risk_of(change: ResourceChange) -> str | None:
    """Why a change needs confirmation, or None. Removals and replacements can lose data; IAM and
    security-group changes can widen access."""
    if change.get("Action") == "Remove":
        return "removal"
    if change.get("Replacement") in ("True", "Conditional"):
        return "replacement" if change["Replacement"] == "True" else "possible replacement"
    resource_type = change.get("ResourceType", "")
    if resource_type.startswith("AWS::IAM::"):
        return "IAM"
    if resource_type in SECURITY_GROUP_TYPES:
        return "security group"
    return None


class ChangeTable:
    def __init__(self, stack_name: str, changes: list[ResourceChange]) -> None:
        self.stack_name = stack_name
        self.changes = changes

    @property
    def risky(self) -> list[ResourceChange]:
        return [change for change in self.changes if risk_of(change)]

    def print(self, console: Console) -> None:
        rows = [
            (
                change.get("Action", "?"),
                change.get("LogicalResourceId", "?"),
                change.get("ResourceType", "?"),
                change.get("Replacement") or "-",
            )
            for change in self.changes
        ]
        widths = [max(len(str(cell)) for cell in column) for column in zip(HEADERS, *rows, strict=True)]
        console.line(f"Changes for {self.stack_name} ({len(rows)}):")
        console.line(console.style("  " + _join(HEADERS, widths), "bold"))
        for change, row in zip(self.changes, rows, strict=True):
            risk = risk_of(change)
            text = "  " + _join(row, widths)
            if risk:
                # The marker keeps the warning visible in CI logs, where there is no colour.
                severe = risk in ("removal", "replacement")
                text = console.style(f"{text}  ⚠ {risk}", "red" if severe else "yellow")
            console.line(text.rstrip())


def _join(cells: Sequence[object], widths: Sequence[int]) -> str:
    return "  ".join(str(cell).ljust(width) for cell, width in zip(cells, widths, strict=True))
