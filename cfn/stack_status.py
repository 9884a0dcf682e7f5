"""A stack's status, classified once (CloudFormation API reference, Stack.StackStatus).

Each caller asks its own question, so REVIEW_IN_PROGRESS (a stack a first change set made and nobody
executed: it holds nothing and nothing runs on it) is named as what it is rather than counted as in
progress by some and not by others: a deploy may start from it, and a watch that executed a change set
goes on waiting past it.
"""

from __future__ import annotations

from dataclasses import dataclass

REVIEW_IN_PROGRESS = "REVIEW_IN_PROGRESS"
SUCCEEDED = frozenset({"CREATE_COMPLETE", "UPDATE_COMPLETE", "IMPORT_COMPLETE"})
# Stacks in these states may hold resources with data: a human decides, the deployer never deletes them.
NEEDS_A_HUMAN = frozenset(
    {"CREATE_FAILED", "ROLLBACK_FAILED", "DELETE_FAILED", "IMPORT_ROLLBACK_FAILED", "UPDATE_FAILED"}
)


@dataclass(frozen=True)
class StackStatus:
    name: str

    @property
    def in_progress(self) -> bool:
        """CloudFormation is working on the stack: nothing else may start until it ends."""
        return self.name.endswith("_IN_PROGRESS") and not self.awaiting_execution

    @property
    def awaiting_execution(self) -> bool:
        return self.name == REVIEW_IN_PROGRESS

    @property
    def final(self) -> bool:
        """An operation's end state: what a watch stops on."""
        return not self.name.endswith("_IN_PROGRESS")

    @property
    def succeeded(self) -> bool:
        return self.name in SUCCEEDED

    @property
    def holds_nothing(self) -> bool:
        """Made by a change set and never executed, or its creation rolled back: recreated, not updated."""
        return self.name in (REVIEW_IN_PROGRESS, "ROLLBACK_COMPLETE")

    @property
    def serves(self) -> bool:
        """Its resources are in a working state: it succeeded, or an update failed and rolled back to one."""
        return self.succeeded or self.name == "UPDATE_ROLLBACK_COMPLETE"

    @property
    def needs_a_human(self) -> bool:
        return self.name in NEEDS_A_HUMAN
