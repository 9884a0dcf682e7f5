"""moto fixes: CloudFormation's stack operations as the deployer relies on them, where moto 5.2.5 differs.

- Idempotency: a request retried with the same ClientToken (CreateChangeSet) or ClientRequestToken
  (ExecuteChangeSet, CancelUpdateStack, DeleteStack) is answered as the first one was and does nothing
  again; moto ignores the tokens, so a retry after a lost reply made a second change set or executed one
  twice. A token reused for another request is TokenAlreadyExistsException, where the API lists it.
- Change sets are named per stack: a second change set of the same name on one stack is
  AlreadyExistsException; a name is looked up on the stack given, and a missing one is ChangeSetNotFound
  (moto answered with a server error or a "stack does not exist" ValidationError).
- A TemplateURL on this endpoint (the AWS CLI's, for a bucket here) is read path-style, as S3 serves it.
- DeleteStack of a stack with termination protection is refused (moto deleted it); deleting a stack
  deletes its change sets (moto kept them).
- UpdateTerminationProtection and CancelUpdateStack, which moto does not implement (HTTP 500).
"""

from __future__ import annotations

from . import service_stabilization

# Response method -> (its token parameter, the parameters that make a retry "the same request",
# whether the API answers a token reused for another request with TokenAlreadyExistsException).
IDEMPOTENT_OPERATIONS = {
    "create_change_set": ("ClientToken", ("StackName", "ChangeSetName"), False),
    "execute_change_set": ("ClientRequestToken", ("ChangeSetName", "StackName"), True),
    "cancel_update_stack": ("ClientRequestToken", ("StackName",), True),
    "delete_stack": ("ClientRequestToken", ("StackName",), True),
}


def idempotent(handle, self):
    """Why: AWS answers a retried request (same token) as the first one and does not act twice."""
    from moto.cloudformation.exceptions import CloudFormationError

    token_parameter, identity, refuses_reuse = IDEMPOTENT_OPERATIONS[handle.__name__]
    token = self._get_param(token_parameter)
    if not token:
        return handle(self)
    answered = _client_tokens(self.cloudformation_backend)
    request = (handle.__name__, tuple(self._get_param(name) for name in identity))
    if token in answered:
        earlier_request, result = answered[token]
        if earlier_request == request:
            return result
        if refuses_reuse:
            raise CloudFormationError("TokenAlreadyExistsException", f"Another request already used the token {token}")
    result = handle(self)
    answered[token] = (request, result)
    return result


def template_from_this_endpoint(get_template, self, template_url: str) -> str:
    """Why: the AWS CLI's TemplateURL for a bucket on this endpoint is path-style on 127.0.0.1, which moto
    reads as a bucket named "127" (it knows path-style URLs on "localhost" only)."""
    from urllib.parse import urlsplit

    from ..server import HOST

    if urlsplit(template_url).hostname == HOST:
        template_url = template_url.replace(HOST, "localhost", 1)
    return get_template(self, template_url)


def _client_tokens(backend) -> dict:
    """Per account and region, like the backend itself (moto's reset starts a new backend)."""
    if not hasattr(backend, "answered_client_tokens"):
        backend.answered_client_tokens = {}
    return backend.answered_client_tokens


def by_change_set_arn(handle, self):
    """Why: a change set name is looked up on the stack given; a missing one is ChangeSetNotFound, as on AWS."""
    name_or_arn = self._get_param("ChangeSetName")
    change_set_id = find_change_set(self.cloudformation_backend, name_or_arn, self._get_param("StackName"))
    self.params["ChangeSetName"] = change_set_id  # moto's own lookup by ARN takes it from here
    return handle(self)


def update_termination_protection(self):
    """Why: moto has no UpdateTerminationProtection (HTTP 500)."""
    from moto.core.responses import ActionResult

    stack = self.cloudformation_backend.get_stack(self._get_param("StackName"))
    stack.enable_termination_protection = self._get_bool_param("EnableTerminationProtection")
    return ActionResult({"StackId": stack.stack_id})


def cancel_update_stack(self):
    """Why: moto has no CancelUpdateStack (HTTP 500). It ends an update that waits for ECS services
    (service_stabilization); an update in any other state cannot be cancelled."""
    from moto.cloudformation.exceptions import ValidationError
    from moto.core.responses import EmptyResult

    backend = self.cloudformation_backend
    stack = backend.get_stack(self._get_param("StackName"))
    if stack.status != "UPDATE_IN_PROGRESS" or not service_stabilization.is_waiting(backend, stack.stack_id):
        raise ValidationError(stack.stack_id, message="CancelUpdateStack cannot be called from current stack status")
    service_stabilization.cancel(backend, stack.stack_id)
    return EmptyResult()


def find_change_set(backend, name_or_arn: str, stack_name_or_id: str | None) -> str:
    from moto.cloudformation.exceptions import CloudFormationError

    if name_or_arn in backend.change_sets:
        return name_or_arn
    for change_set_id, change_set in backend.change_sets.items():
        on_stack = stack_name_or_id in (None, change_set.stack_name, change_set.stack_id)
        if change_set.change_set_name == name_or_arn and on_stack:
            return change_set_id
    raise CloudFormationError("ChangeSetNotFound", f"ChangeSet [{name_or_arn}] does not exist")


def refuse_duplicate_change_set_name(backend, stack_name: str, change_set_name: str) -> None:
    """Why: AWS refuses a second change set of the same name on one stack (moto made another)."""
    from moto.cloudformation.exceptions import AlreadyExistsException

    for change_set in backend.change_sets.values():
        if change_set.change_set_name == change_set_name and change_set.stack_name == stack_name:
            raise AlreadyExistsException(f"ChangeSet [{change_set_name}] already exists")


def delete_stack_unless_protected(delete_stack, self, name_or_stack_id):
    """Why: AWS refuses to delete a stack with termination protection (moto deleted it), and deleting a stack
    deletes its change sets (moto kept them, pointing at a stack that is gone)."""
    from moto.cloudformation.exceptions import ValidationError

    stacks = [stack for stack in self.stacks.values() if name_or_stack_id in (stack.name, stack.stack_id)]
    for stack in stacks:
        if stack.enable_termination_protection:
            raise ValidationError(
                message=f"Stack [{stack.name}] cannot be deleted while TerminationProtection is enabled"
            )
    delete_stack(self, name_or_stack_id)
    deleted = {stack.stack_id for stack in stacks if stack.stack_id not in self.stacks}
    for change_set_id, change_set in list(self.change_sets.items()):
        if change_set.stack_id in deleted:
            del self.change_sets[change_set_id]
