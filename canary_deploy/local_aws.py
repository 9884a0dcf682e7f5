"""A local AWS endpoint for the tests and `make run`: moto's server, in-process, on 127.0.0.1 only.

Why the moto fixes exist
------------------------
The deployer works the way CloudFormation is meant to be used: create a change set, show it, execute
it, watch the events. moto 5.2.5 emulates `create_stack` well but its change-set path is broken in ways
that make a faithful end-to-end run impossible:

- a stack created through a change set is not given the region's exports, so `Fn::ImportValue`
  always fails ("No export named X found");
- executing a change set never resolves the stack's Outputs nor registers its exports
  (`describe_stacks` shows no outputs, `list_exports` stays empty);
- the parameters of an executed UPDATE are not recorded on the stack, so the next identical deploy
  is not recognised as "no changes";
- a resource that fails during execution surfaces as a synchronous HTTP error from ExecuteChangeSet
  instead of FAILED events and a rollback;
- a change set that FAILED ("no changes") or was already executed can be executed (again);
- a CREATE change set for a stack left in REVIEW_IN_PROGRESS (a dry run of a first deploy) makes a
  second stack of the same name instead of reusing the first.

Three more gaps stop the real templates and the deployer short of the end:

- UpdateTerminationProtection is not implemented (HTTP 500); the deployer protects the registry;
- an AWS::ECS::TaskDefinition update skips the PascalCase -> camelCase remap that creation does, so
  the new revision loses its image and every other container setting;
- AWS::KMS::Key hands CloudFormation's Tags (Key/Value) to a backend that wants TagKey/TagValue, so
  any tagged key fails with KeyError: 'TagKey'.

`apply_moto_fixes()` replaces `CloudFormationBackend.create_change_set` (a wrapper around moto's),
`CloudFormationBackend.execute_change_set` (rewritten: moto's has nothing worth keeping), and wraps the
three resource/response methods above, so that the deploy flow behaves as on AWS for these cases. The
patch reaches into moto's internals and is written for moto==5.2.5 exactly (pinned in setup.cfg); on
any other version it refuses to apply. Everything else moto does (and does not check) is left alone.

Use
---
    with LocalAWS() as aws:            # free port on 127.0.0.1, fixes applied, server answering
        aws.endpoint_url               # "http://127.0.0.1:PORT"
        aws.reset()                    # forget all state

    python -m canary_deploy.local_aws [--port N]    # foreground, prints the exports, Ctrl-C stops
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import json
import os
import signal
import socket
import sys
import threading
import traceback
from urllib.parse import urlsplit

from templates.parameter_store import DEFAULT_PREFIX, KAFKA_PARAMETERS, SENTRY_PARAMETER

MOTO_VERSION = "5.2.5"
HOST = "127.0.0.1"
DEFAULT_REGION = "us-east-1"
# moto accepts any credentials; these make sure nothing signs with a real key.
DUMMY_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}

DEFAULT_REPOSITORY = "kafkajs-canary-app"


class LocalAWSError(Exception):
    """The local endpoint cannot be started or used; the message says what to do."""


# --------------------------------------------------------------------------------------------------
# moto fixes


def apply_moto_fixes() -> None:
    """Patch moto's change-set handling and three resource gaps (see the module docstring). Idempotent."""
    import moto
    from moto.cloudformation.models import CloudFormationBackend

    if moto.__version__ != MOTO_VERSION:
        raise LocalAWSError(
            f"canary_deploy.local_aws patches moto {MOTO_VERSION} internals but moto {moto.__version__} "
            f"is installed; run: pip install 'moto[server]=={MOTO_VERSION}'"
        )
    if CloudFormationBackend.execute_change_set is _execute_change_set:
        return
    original_create_change_set = CloudFormationBackend.create_change_set

    def create_change_set(
        self, stack_name, change_set_name, template, parameters, description, change_set_type, **kwargs
    ):
        if change_set_type == "CREATE":
            _take_over_stack_under_review(self, stack_name, change_set_name)
        change_set_id, stack_id = original_create_change_set(
            self, stack_name, change_set_name, template, parameters, description, change_set_type, **kwargs
        )
        # moto builds the new stack without cross-stack resources; share the region's live exports
        # so that imports resolve at execution time, as on AWS.
        stack = self.stacks[stack_id]
        stack.cross_stack_resources = stack.resource_map.cross_stack_resources = self.exports
        return change_set_id, stack_id

    CloudFormationBackend.create_change_set = create_change_set
    CloudFormationBackend.execute_change_set = _execute_change_set
    _fix_resource_gaps()


def _fix_resource_gaps() -> None:
    from moto.cloudformation.responses import CloudFormationResponse
    from moto.core.responses import ActionResult
    from moto.core.utils import pascal_to_camelcase, remap_nested_keys
    from moto.ecs.models import TaskDefinition
    from moto.kms.models import Key

    def update_termination_protection(self):
        stack = self.cloudformation_backend.get_stack(self._get_param("StackName"))
        stack.enable_termination_protection = self._get_bool_param("EnableTerminationProtection")
        return ActionResult({"StackId": stack.stack_id})

    original_update_task_definition = TaskDefinition.update_from_cloudformation_json.__func__

    def update_task_definition(cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name):
        containers = cloudformation_json["Properties"].get("ContainerDefinitions", [])
        remapped = _with_properties(
            cloudformation_json, ContainerDefinitions=remap_nested_keys(containers, pascal_to_camelcase)
        )
        return original_update_task_definition(
            cls, original_resource, new_resource_name, remapped, account_id, region_name
        )

    original_create_key = Key.create_from_cloudformation_json.__func__

    def create_key(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        tags = [
            {"TagKey": tag["Key"], "TagValue": tag["Value"]}
            for tag in cloudformation_json["Properties"].get("Tags", [])
        ]
        remapped = _with_properties(cloudformation_json, Tags=tags)
        return original_create_key(cls, resource_name, remapped, account_id, region_name, **kwargs)

    CloudFormationResponse.update_termination_protection = update_termination_protection
    TaskDefinition.update_from_cloudformation_json = classmethod(update_task_definition)
    Key.create_from_cloudformation_json = classmethod(create_key)


def _with_properties(resource_json: dict, **properties) -> dict:
    """A copy of a resource's JSON with some Properties replaced (moto's copy stays untouched)."""
    return {**resource_json, "Properties": {**resource_json["Properties"], **properties}}


def _take_over_stack_under_review(backend, stack_name: str, change_set_name: str) -> None:
    """AWS reuses a REVIEW_IN_PROGRESS stack for a new CREATE change set and refuses any other."""
    from moto.cloudformation.exceptions import ValidationError

    for stack_id, stack in list(backend.stacks.items()):
        if stack.name != stack_name:
            continue
        if stack.status != "REVIEW_IN_PROGRESS":
            raise ValidationError(
                stack_name,
                message=f"Stack [{stack_name}] already exists and cannot be created again with the "
                f"changeSet [{change_set_name}].",
            )
        # moto cannot attach a new change set to an existing stack: the new stack replaces it.
        del backend.stacks[stack_id]


def _execute_change_set(self, change_set_name: str, stack_name: str | None = None) -> None:
    """Execute like CloudFormation: outputs and exports on success, FAILED events and rollback on error."""
    from moto.cloudformation.exceptions import CloudFormationError

    change_set = self.describe_change_set(change_set_name)
    if change_set.execution_status != "AVAILABLE":  # FAILED ("no changes") or already executed
        raise CloudFormationError(
            "InvalidChangeSetStatus",
            f"ChangeSet [{change_set.change_set_id}] cannot be executed in its current status of "
            f"[{change_set.status if change_set.status == 'FAILED' else change_set.execution_status}]",
        )
    stack = self.stacks[change_set.stack_id]
    operation = change_set.change_set_type  # CREATE or UPDATE
    previous_template = stack.template

    stack.status = f"{operation}_IN_PROGRESS"
    stack._add_stack_event(stack.status, resource_status_reason="User Initiated")
    try:
        change_set.apply()
        stack.template = change_set.template
        stack._parse_template()
        stack.output_map = stack._create_output_map()
        _register_exports(self, stack)
    except Exception as error:  # any failure of any resource: AWS reports it and rolls back
        _record_failure(stack, change_set, error)
        if operation == "CREATE":
            # deletes what was created, keeping resources with DeletionPolicy Retain, as AWS does
            _roll_back(stack, "ROLLBACK", stack.resource_map.delete)
        else:
            stack.template = previous_template
            _roll_back(stack, "UPDATE_ROLLBACK", lambda: _restore_previous_template(stack))
        change_set.execution_status = "EXECUTE_FAILED"
        return
    stack.parameters = change_set.parameters
    stack.status = f"{operation}_COMPLETE"
    stack._add_stack_event(stack.status)
    change_set.execution_status = "EXECUTE_COMPLETE"


def _register_exports(backend, stack) -> None:
    """Replace the stack's exports in the region; a name exported by another stack is an error."""
    from moto.cloudformation.exceptions import ValidationError

    new_exports = stack.exports
    for export in new_exports:
        owner = backend.exports.get(export.name)
        if owner is not None and owner.exporting_stack_id != stack.stack_id:
            raise ValidationError(
                stack.stack_id,
                message=f"Export with name {export.name} is already exported by stack "
                f"{backend.stacks[owner.exporting_stack_id].name}.",
            )
    for name, export in list(backend.exports.items()):
        if export.exporting_stack_id == stack.stack_id:
            del backend.exports[name]
    for export in new_exports:
        backend.exports[export.name] = export


def _record_failure(stack, change_set, error: Exception) -> None:
    """Add the failed resource's event (when one can be named) and the stack's rollback event."""
    from moto.cloudformation.models import Event

    reason = _failure_reason(error)
    logical_id = _failed_logical_id(error)
    resources = change_set.template_dict.get("Resources", {})
    if logical_id in resources:
        action = next((c.action for c in change_set.changes if c.logical_resource_id == logical_id), "Add")
        verb = {"Add": "create", "Modify": "update", "Remove": "delete"}[action]
        stack.events.append(
            Event(
                stack_id=stack.stack_id,
                stack_name=stack.name,
                logical_resource_id=logical_id,
                physical_resource_id="",
                resource_type=resources[logical_id]["Type"],
                resource_status=f"{verb.upper()}_FAILED",
                resource_status_reason=reason,
                resource_properties=None,
            )
        )
        reason = f"The following resource(s) failed to {verb}: [{logical_id}]. "
        if change_set.change_set_type == "CREATE":
            reason += "Rollback requested by user."
    rolling_back = "ROLLBACK" if change_set.change_set_type == "CREATE" else "UPDATE_ROLLBACK"
    stack.status = f"{rolling_back}_IN_PROGRESS"
    stack._add_stack_event(stack.status, resource_status_reason=reason)


def _failure_reason(error: Exception) -> str:
    from moto.core.exceptions import ServiceException

    if isinstance(error, ServiceException):
        return f'Resource handler returned message: "{error.message}" (HandlerErrorCode: {error.code})'
    return f"{type(error).__name__}: {error}"


def _failed_logical_id(error: Exception) -> str | None:
    """The resource moto was creating or updating when it failed: the innermost such frame."""
    from moto.cloudformation import parsing

    resource_functions = {
        parsing.parse_and_create_resource.__code__,
        parsing.parse_and_update_resource.__code__,
    }
    logical_ids = [
        frame.f_locals.get("logical_id")
        for frame, _ in traceback.walk_tb(error.__traceback__)
        if frame.f_code in resource_functions
    ]
    return logical_ids[-1] if logical_ids else None


def _roll_back(stack, kind: str, undo) -> None:
    """Run `undo`, then end in `<kind>_COMPLETE`, or `<kind>_FAILED` with the reason if undo fails."""
    try:
        undo()
    except Exception as error:
        stack.status = f"{kind}_FAILED"
        stack._add_stack_event(stack.status, resource_status_reason=_failure_reason(error))
        return
    stack.status = f"{kind}_COMPLETE"
    stack._add_stack_event(stack.status)


def _restore_previous_template(stack) -> None:
    stack._parse_template()
    stack.resource_map.input_parameters = stack.parameters  # update() keeps the failed ones when given {}
    stack.resource_map.update(stack.template_dict, stack.parameters)
    stack.output_map = stack._create_output_map()


# --------------------------------------------------------------------------------------------------
# The endpoint


class LocalAWS:
    """moto's server on 127.0.0.1, in this process, with the change-set fixes applied.

    The server is built with moto's own WSGI app and request handler, as `moto.server.ThreadedMotoServer`
    does, but its socket is bound in the caller's thread: a port already in use is a LocalAWSError here,
    where ThreadedMotoServer.start() would wait forever. `port=0` takes a free port from the kernel.

    `ecs_running_tasks` sets moto's MOTO_ECS_SERVICE_RUNNING for the life of the server: moto reports
    that many running tasks for every ECS service created meanwhile (0 would leave every deployment
    "IN_PROGRESS" forever; 1 matches the app's default DesiredCount, so a deploy looks finished).
    """

    def __init__(self, port: int = 0, *, log_requests: bool = False, ecs_running_tasks: int = 1):
        self._port = port
        self._log_requests = log_requests
        self._ecs_running_tasks = ecs_running_tasks
        self._server = None
        self._thread: threading.Thread | None = None
        self._saved_ecs_setting: str | None = None
        self.endpoint_url = ""

    def start(self) -> LocalAWS:
        from moto.moto_server.werkzeug_app import (
            DomainDispatcherApplication,
            MotoRequestHandler,
            create_backend_app,
        )
        from werkzeug.serving import make_server

        apply_moto_fixes()

        class QuietRequestHandler(MotoRequestHandler):
            def log_request(self, *args) -> None:  # one line per request drowns test and make output
                pass

        handler = MotoRequestHandler if self._log_requests else QuietRequestHandler
        # Bound here, not by werkzeug, which answers a busy port with sys.exit(1).
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
            # As werkzeug does: a port in TIME_WAIT after a restart is free, a listening one is not.
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                listener.bind((HOST, self._port))
                listener.listen(128)
            except OSError as error:
                raise LocalAWSError(
                    f"cannot listen on {HOST}:{self._port} ({error.strerror}); "
                    "choose another --port, or 0 for a free one"
                ) from None
            self._server = make_server(  # werkzeug keeps a duplicate of the listening socket
                HOST,
                self._port,
                DomainDispatcherApplication(create_backend_app),
                threaded=True,
                request_handler=handler,
                fd=listener.fileno(),
            )
        self._saved_ecs_setting = os.environ.get("MOTO_ECS_SERVICE_RUNNING")
        os.environ["MOTO_ECS_SERVICE_RUNNING"] = str(self._ecs_running_tasks)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},  # how long stop() waits; the default 0.5 s slows every run
            name="local-aws",
            daemon=True,
        )
        self._thread.start()
        self.endpoint_url = f"http://{HOST}:{self._server.port}"
        try:
            self._request("GET", "/moto-api/config")  # answers once the serving thread runs
        except BaseException:
            self.stop()
            raise
        return self

    @property
    def port(self) -> int:
        return self._server.port

    def reset(self) -> None:
        """Forget every resource in every service (moto's /moto-api/reset)."""
        self._request("POST", "/moto-api/reset")

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._thread.join()
        self._server.server_close()  # ThreadedMotoServer leaves the socket open
        self._server = None
        if self._saved_ecs_setting is None:
            os.environ.pop("MOTO_ECS_SERVICE_RUNNING", None)
        else:
            os.environ["MOTO_ECS_SERVICE_RUNNING"] = self._saved_ecs_setting

    def __enter__(self) -> LocalAWS:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def _request(self, method: str, path: str) -> None:
        # http.client rather than urllib: urllib would honour an HTTP(S)_PROXY setting.
        connection = http.client.HTTPConnection(HOST, self._server.port, timeout=10)
        try:
            connection.request(method, path)
            response = connection.getresponse()
            response.read()
        finally:
            connection.close()
        if response.status >= 300:
            raise LocalAWSError(f"local AWS endpoint answered {response.status} to {method} {path}")


def local_client(service: str, endpoint_url: str, region: str = DEFAULT_REGION):
    """A boto3 client for the local endpoint, with dummy credentials; refuses any host but 127.0.0.1."""
    import boto3

    if urlsplit(endpoint_url).hostname != HOST:
        raise LocalAWSError(f"refusing endpoint {endpoint_url!r}: the local endpoint is on {HOST} only")
    return boto3.client(service, endpoint_url=endpoint_url, region_name=region, **DUMMY_CREDENTIALS)


# --------------------------------------------------------------------------------------------------
# Seeding, as an operator does before the first deploy

DEMO_VALUES = {
    "KAFKA_HOST": "kafka.demo.internal",
    "KAFKA_USERNAME": "canary",
    "KAFKA_PASSWORD": "demo-password-not-a-secret",
    "SENTRY_DSN": "https://public-key@sentry.demo.invalid/1",
}


def seed_parameters(
    endpoint_url: str,
    region: str = DEFAULT_REGION,
    prefix: str = DEFAULT_PREFIX,
    sentry: bool = True,
) -> list[str]:
    """Put the app's Parameter Store parameters (demo values); returns their names."""
    ssm = local_client("ssm", endpoint_url, region)
    names = []
    for parameter in (*KAFKA_PARAMETERS, SENTRY_PARAMETER) if sentry else KAFKA_PARAMETERS:
        name = f"{prefix}/{parameter.suffix}"
        parameter_type = "SecureString" if parameter.secure else "String"
        ssm.put_parameter(Name=name, Type=parameter_type, Value=DEMO_VALUES[parameter.env_name], Overwrite=True)
        names.append(name)
    return names


def push_image(
    endpoint_url: str,
    version: str,
    region: str = DEFAULT_REGION,
    repository: str = DEFAULT_REPOSITORY,
) -> str:
    """Register `repository:version` in ECR as `docker push` would; returns the image digest.

    The repository must exist (the registry stack creates it). No Docker needed: ECR accepts a
    hand-written v2 manifest. Its digests derive from the tag, so each tag is a distinct image.
    """
    ecr = local_client("ecr", endpoint_url, region)

    def blob(media_type: str, kind: str) -> dict:
        digest = hashlib.sha256(f"{repository}:{version}:{kind}".encode()).hexdigest()
        return {"mediaType": media_type, "size": 1024, "digest": f"sha256:{digest}"}

    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": blob("application/vnd.docker.container.image.v1+json", "config"),
        "layers": [blob("application/vnd.docker.image.rootfs.diff.tar.gzip", "layer")],
    }
    response = ecr.put_image(repositoryName=repository, imageManifest=json.dumps(manifest), imageTag=version)
    return response["image"]["imageId"]["imageDigest"]


# --------------------------------------------------------------------------------------------------
# python -m canary_deploy.local_aws


def _shell_exports(endpoint_url: str) -> str:
    return "\n".join(
        [
            f"export AWS_ENDPOINT_URL={endpoint_url}",
            f"export AWS_ACCESS_KEY_ID={DUMMY_CREDENTIALS['aws_access_key_id']}",
            f"export AWS_SECRET_ACCESS_KEY={DUMMY_CREDENTIALS['aws_secret_access_key']}",
            f"export AWS_DEFAULT_REGION={DEFAULT_REGION}",
            f"export AWS_REGION={DEFAULT_REGION}",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m canary_deploy.local_aws",
        description="Run a local AWS endpoint (moto, 127.0.0.1 only) in the foreground; Ctrl-C stops it.",
    )
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: a free one)")
    args = parser.parse_args(argv)
    if not 0 <= args.port <= 65535:
        parser.error(f"--port {args.port} is not a port number (0-65535)")

    # SIGTERM (e.g. from a script that started us in the background) stops as cleanly as Ctrl-C.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even if started with SIGINT ignored (`&`)
    aws = LocalAWS(args.port, log_requests=True)
    try:
        aws.start()
    except LocalAWSError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    try:
        print(_shell_exports(aws.endpoint_url), flush=True)
        print(
            f"# local AWS (moto {MOTO_VERSION}) on {aws.endpoint_url}: an emulator, not AWS. Ctrl-C stops it.",
            file=sys.stderr,
            flush=True,
        )
        threading.Event().wait()
    except KeyboardInterrupt:
        print("# local AWS stopped", file=sys.stderr)
    finally:
        aws.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
