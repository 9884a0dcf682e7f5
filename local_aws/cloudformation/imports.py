"""moto fixes: an export stays while another stack imports it, and ListImports names those stacks.

moto 5.2.5 resolves `Fn::ImportValue` but keeps no record of who imports what: it has no ListImports, and it
deletes a stack whose export another stack imports, leaving that stack pointing at nothing. AWS refuses
("You can't delete a stack if another stack references one of its outputs", CFN_GUIDE
using-cfn-stack-exports.html), so a deployer tested here could delete a shared registry under its canaries
and pass.

Here a stack imports the exports its template's `Fn::ImportValue`s name (resolved with its parameters), from
the moment it holds resources until it is deleted. ListImports lists those stacks, and answers an export no
stack imports with ValidationError "Export 'X' is not imported by any stack.", as AWS does (the message
tools match on). DeleteStack of a stack whose export is imported starts (the call succeeds), deletes nothing
and ends where it started: a stack event in its old status with the reason "Export X cannot be deleted as it
is in use by A and B", as users of AWS report it (aws/aws-cdk#604, rlister/stax#40), so a deployer waiting
for DELETE_COMPLETE must notice that it never comes. (AWS also shows that reason as the stack's
StackStatusReason until its next operation; here only the event carries it.)
"""

from __future__ import annotations

from cfn.stack_status import StackStatus

# ListImports' page: AWS documents no size; moto's ListExports pages by 100.
PAGE_SIZE = 100


def importing_stacks(backend, export_name: str) -> list[str]:
    """The names of the stacks that import `export_name`, oldest first."""
    return [
        stack.name
        for stack in backend.stacks.values()
        if not StackStatus(stack.status).holds_nothing and export_name in imported_exports(stack)
    ]


def imported_exports(stack) -> set[str]:
    """The export names the stack's template imports, each `Fn::ImportValue` resolved as moto resolves it."""
    from moto.cloudformation.parsing import clean_json

    found: set[str] = set()

    def walk(node) -> None:
        if isinstance(node, dict):
            if "Fn::ImportValue" in node:
                found.add(str(clean_json(node["Fn::ImportValue"], stack.resource_map)))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk({key: stack.template_dict.get(key, {}) for key in ("Resources", "Outputs")})
    return found


def list_imports(self):
    """Why: moto has no ListImports."""
    from moto.cloudformation.exceptions import ValidationError
    from moto.core.responses import ActionResult

    export_name = self._get_param("ExportName")
    importers = importing_stacks(self.cloudformation_backend, export_name)
    if not importers:
        raise ValidationError(message=f"Export '{export_name}' is not imported by any stack.")
    start = int(self._get_param("NextToken") or 0)
    following = start + PAGE_SIZE
    return ActionResult(
        {
            "Imports": importers[start:following],
            "NextToken": str(following) if following < len(importers) else None,
        }
    )


def in_use_reason(backend, stack) -> str | None:
    """AWS's reason for refusing to delete `stack`, or None when no other stack imports its exports."""
    for export in stack.exports:
        importers = [name for name in importing_stacks(backend, export.name) if name != stack.name]
        if importers:
            listed = importers[0] if len(importers) == 1 else f"{', '.join(importers[:-1])} and {importers[-1]}"
            return f"Export {export.name} cannot be deleted as it is in use by {listed}"
    return None


def delete_stack_unless_imported(delete_stack, self, name_or_stack_id):
    """Why: AWS refuses to delete a stack whose export another stack imports; moto deleted it."""
    stack = next((s for stack_id, s in self.stacks.items() if name_or_stack_id in (stack_id, s.name)), None)
    reason = None if stack is None else in_use_reason(self, stack)
    if reason is None:
        return delete_stack(self, name_or_stack_id)
    status = stack.status
    stack._add_stack_event("DELETE_IN_PROGRESS", resource_status_reason="User Initiated")
    stack._add_stack_event(status, resource_status_reason=reason)
    return None
