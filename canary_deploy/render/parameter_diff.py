"""Before an update executes: every parameter whose value changes, old → new, NoEcho values masked."""

from dataclasses import dataclass

from .console import Console

MASK = "****"  # what CloudFormation itself shows for a NoEcho value


@dataclass(frozen=True)
class ParameterChange:
    key: str
    old: str | None  # None: new to the stack
    new: str | None  # None: no longer in the template
    secret: bool = False  # NoEcho: neither value is shown; a given value may or may not differ

    def describe(self) -> str:
        if self.secret:
            return f"{MASK} → {MASK} (NoEcho: a new value is given)"
        return f"{_shown(self.old, 'not set')} → {_shown(self.new, 'removed from the template')}"


def _shown(value: str | None, missing: str) -> str:
    if value is None:
        return f"({missing})"
    return value if value != "" else "(empty)"


class ParameterDiff:
    """Compares what the stack has (describe_stacks' Parameters) with what the change set sends
    (a value, or UsePreviousValue). A new stack has nothing to compare with: no rows."""

    def __init__(self, stack_name: str, declared: dict, deployed: dict[str, str] | None, sent: list[dict]):
        self.stack_name = stack_name
        self.changes = [] if deployed is None else _changes(declared, deployed, sent)

    def print(self, console: Console) -> None:
        if not self.changes:
            return
        width = max(len(change.key) for change in self.changes)
        console.line(f"Parameter changes for {self.stack_name} ({len(self.changes)}):")
        for change in self.changes:
            console.line(f"  {change.key.ljust(width)}  {change.describe()}")


def _changes(declared: dict, deployed: dict[str, str], sent: list[dict]) -> list[ParameterChange]:
    changes = []
    for parameter in sent:
        key = parameter["ParameterKey"]
        if parameter.get("UsePreviousValue"):
            continue
        new, old = parameter["ParameterValue"], deployed.get(key)
        if declared.get(key, {}).get("NoEcho") and key in deployed:
            changes.append(ParameterChange(key, MASK, MASK, secret=True))
        elif new != old:
            changes.append(ParameterChange(key, old, MASK if declared.get(key, {}).get("NoEcho") else new))
    sent_keys = {parameter["ParameterKey"] for parameter in sent}
    changes.extend(ParameterChange(key, deployed[key], None) for key in deployed if key not in sent_keys)
    return changes
