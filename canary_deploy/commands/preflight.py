"""Checks before a deploy changes anything. App: registry stack, image in ECR, Parameter Store, and no
deployment alarm in ALARM (a release ECS would not judge). Registry: a repository retained from a deleted
registry stack, to adopt."""

from dataclasses import dataclass

from botocore.exceptions import ClientError

from contract import KAFKA_PARAMETERS, REGISTRY_EXPORTS, SENTRY_PARAMETER, SLACK_WEBHOOK_SUFFIX, StoredParameter

from ..aws.alarms import DeploymentAlarms
from ..aws.aws_types import ResourceToImport, Stack
from ..aws.session import AwsClients
from ..aws.stack_state import describe_stack, status_of
from ..errors import PreflightFailed
from ..model.invocation import Invocation
from ..model.parameters import StackParameters, deployed_values
from ..model.stack_outputs import outputs_of
from ..model.stack_template import StackTemplate
from ..model.verdict import ALLOW_UNJUDGED, IN_ALARM, AlarmState
from ..model.verdict_times import deployment_alarm_names
from ..render.alarm_states import alarm_state_lines, in_alarm_summary
from ..render.console import Console
from ..render.docker_hints import login_command, push_command
from ..render.durations import duration
from ..watch.timing import Timing

REPOSITORY_TYPE = "AWS::ECR::Repository"
REQUIRED_PARAMETERS = tuple(parameter.suffix for parameter in KAFKA_PARAMETERS)
# Credentials: stored as SecureString, never as a plain String.
SECRET_SUFFIXES = (
    *(parameter.suffix for parameter in (*KAFKA_PARAMETERS, SENTRY_PARAMETER) if parameter.secure),
    SLACK_WEBHOOK_SUFFIX,
)


@dataclass(frozen=True)
class OptionalFeature:
    """A feature of the app stack that needs an optional Parameter Store parameter."""

    switch: str  # the template parameter that turns it off when the Parameter Store one does not exist
    without: str  # what the deployment then lacks
    turn_on: str  # what turning it back on does


OPTIONAL_PARAMETERS = {
    SENTRY_PARAMETER.suffix: OptionalFeature(
        "SentryEnabled", "the app reports no errors to Sentry", "report errors to Sentry"
    ),
    SLACK_WEBHOOK_SUFFIX: OptionalFeature("SlackEnabled", "alarms reach no Slack channel", "post alarms to Slack"),
}


def put_parameter_command(invocation: Invocation, name: str, parameter: StoredParameter) -> str:
    """The command that creates a missing parameter, with the type the app's contract gives it."""
    parameter_type = "SecureString" if parameter.secure else "String"
    return invocation.aws("ssm", "put-parameter", "--type", parameter_type, "--name", name, "--value", "...")


def convert_to_secure_string_command(invocation: Invocation, name: str) -> str:
    """Re-stores a parameter's current value as a SecureString (same name, next version)."""
    current = invocation.aws("ssm", "get-parameter", "--name", name, "--query", "Parameter.Value", "--output", "text")
    put = invocation.aws("ssm", "put-parameter", "--overwrite", "--type", "SecureString", "--name", name)
    return f'{put} --value "$({current})"'


class AppPreflight:
    def __init__(self, clients: AwsClients, console: Console, registry_stack_name: str, invocation: Invocation) -> None:
        self.clients = clients
        self.console = console
        self.registry_stack_name = registry_stack_name
        self.invocation = invocation

    def run(self, parameters: StackParameters, version: str, image_required: bool = True) -> None:
        """image_required False (a preview): a tag not pushed yet is a warning, not a refusal."""
        repository = self.registry_outputs()
        self.check_image(repository, version, image_required)
        self.check_parameter_store(parameters)

    def registry_outputs(self) -> dict[str, str]:
        """The registry stack must be complete: its exports feed the app, its repository holds the image.

        A missing registry is not deployed on the fly: its new repository could not hold the image yet, so
        the app deploy would stop at the image check anyway, with a stack created for nothing."""
        name = self.registry_stack_name
        deploy_registry = self.invocation.deploy("registry")
        deploy_it = f"run `{deploy_registry}`, push the image, then deploy the app"
        stack = describe_stack(self.clients.cloudformation, name)
        if stack is None:
            raise PreflightFailed(f"registry stack {name} does not exist: {deploy_it}")
        status = stack["StackStatus"]
        if status_of(stack).in_progress:
            raise PreflightFailed(
                f"registry stack {name} is {status}: wait for it (`{self.invocation.deploy('status', 'registry')}`)"
            )
        if not status_of(stack).serves:
            raise PreflightFailed(f"registry stack {name} is {status}, not complete: {deploy_it}")
        outputs = outputs_of(stack)
        missing = [key for key in REGISTRY_EXPORTS if key not in outputs]
        if missing:
            raise PreflightFailed(
                f"registry stack {name} has no {' / '.join(missing)} output: redeploy it with `{deploy_registry}`"
            )
        return outputs

    def check_image(self, repository: dict[str, str], version: str, required: bool = True) -> None:
        uri = repository["RepositoryUri"]
        try:
            self.clients.ecr.describe_images(
                repositoryName=repository["RepositoryName"], imageIds=[{"imageTag": version}]
            )
        except ClientError as error:
            code = error.response["Error"]["Code"]
            if code == "ImageNotFoundException":
                login = login_command(uri, self.invocation, self.clients.region)
                push = f"push it with `{push_command(uri, version)}` (log in first: `{login}`)"
                if not required:
                    self.console.notice(
                        f"image {uri}:{version} is not in ECR yet: previewing anyway; to deploy it, {push}"
                    )
                    return
                raise PreflightFailed(f"image {uri}:{version} is not in ECR: {push}") from None
            if code == "RepositoryNotFoundException":
                raise PreflightFailed(
                    f"ECR repository {repository['RepositoryName']} not found: redeploy it with "
                    f"`{self.invocation.deploy('registry')}`"
                ) from None
            raise

    def check_parameter_store(self, parameters: StackParameters) -> None:
        """One GetParameters call for all names; an optional parameter that is absent turns its feature off."""
        prefix = parameters.get("ParameterPrefix").rstrip("/")
        names = {suffix: f"{prefix}/{suffix}" for suffix in (*REQUIRED_PARAMETERS, *OPTIONAL_PARAMETERS)}
        response = self.clients.ssm.get_parameters(Names=list(names.values()))
        invalid = set(response.get("InvalidParameters", []))
        missing = [parameter for parameter in KAFKA_PARAMETERS if names[parameter.suffix] in invalid]
        if missing:
            commands = ", ".join(f"`{put_parameter_command(self.invocation, names[p.suffix], p)}`" for p in missing)
            raise PreflightFailed(
                f"missing Parameter Store parameter(s) {', '.join(names[p.suffix] for p in missing)}: "
                f"create them with {commands}"
            )
        self.refuse_plain_secrets(names, response.get("Parameters", []))
        for suffix, optional in OPTIONAL_PARAMETERS.items():
            if optional.switch not in parameters.declared or parameters.is_explicit(optional.switch):
                continue
            if names[suffix] in invalid:
                parameters.set_computed(optional.switch, "false")
                self.console.notice(
                    f"{names[suffix]} not found: deploying with {optional.switch}=false ({optional.without})"
                )
            elif parameters.get(optional.switch) == "false":
                # Kept from the deployed stack (UsePreviousValue): maybe set while the parameter was missing.
                self.console.notice(
                    f"{names[suffix]} exists but the stack keeps {optional.switch}=false: pass "
                    f"--parameter {optional.switch}=true to {optional.turn_on}"
                )

    def refuse_plain_secrets(self, names: dict[str, str], found: list[dict]) -> None:
        """A credential stored as String is readable by anyone allowed to read the parameter and printed
        in clear by the console and CLI: refused, with the command that converts it in place."""
        types = {parameter["Name"]: parameter.get("Type") for parameter in found}
        for suffix in SECRET_SUFFIXES:
            name = names[suffix]
            if types.get(name) == "String":
                raise PreflightFailed(
                    f"{name} is a secret stored as String: convert it to SecureString with "
                    f"`{convert_to_secure_string_command(self.invocation, name)}`"
                )


WAIT_FOR_ALARMS = "--wait-for-alarms"
# Alarms are evaluated once a minute: a few looks a minute see one leave ALARM soon enough.
ALARM_POLL_SECONDS = 20.0


@dataclass(frozen=True)
class UnjudgedAllowance:
    """What the operator allows when a deployment alarm is in ALARM: wait for it at most `wait_seconds`
    (--wait-for-alarms), then release unjudged (`unjudged`, --allow-unjudged) or be refused."""

    unjudged: bool = False
    wait_seconds: float | None = None


class UnjudgedRelease:
    """ECS watches no deployment alarm for the whole of a deployment that starts while one of them is in ALARM
    (ECS Developer Guide, "How CloudWatch alarms detect Amazon ECS deployment failures"). After a bad beta the
    lag or stall alarm often stays in ALARM for minutes, and the next release would go unjudged: a second bad
    beta would stay deployed. So an update first reads the deployment alarms the template names for its
    service (one DescribeAlarms) and refuses while one is in ALARM, unless the operator says the release may
    go unjudged, or asks to wait a bounded time for them to be OK (a judged release after all); a preview
    shows them and refuses nothing. A first deploy has no alarms yet."""

    def __init__(
        self,
        clients: AwsClients,
        console: Console,
        stack_name: str,
        invocation: Invocation,
        allowed: UnjudgedAllowance,
        timing: Timing,
    ) -> None:
        self.clients = clients
        self.console = console
        self.stack_name = stack_name
        self.invocation = invocation
        self.allowed = allowed
        self.timing = timing

    def check(self, template: StackTemplate, parameters: StackParameters, preview: bool) -> None:
        names = deployment_alarm_names(template.data, parameters.values(), self.stack_name)
        if not names:
            return
        alarms = DeploymentAlarms(self.clients.client("cloudwatch"), names)
        states = alarms.states()
        for line in alarm_state_lines(names, states, brief_when_ok=True):
            self.console.line(line)
        firing = [alarm for alarm in states if alarm.state == IN_ALARM]
        if firing and self.allowed.wait_seconds and not preview:
            firing = self.wait_for_ok(alarms, firing, self.allowed.wait_seconds)
        if not firing:
            return
        unjudged = (
            f"{in_alarm_summary(firing)}: ECS would not judge this release (it watches no deployment alarm for a "
            "deployment that starts while one is in ALARM)"
        )
        if preview:
            self.console.notice(f"{unjudged}; deploying now would be refused without {ALLOW_UNJUDGED}")
        elif self.allowed.unjudged:
            self.console.notice(
                f"{unjudged}; deploying anyway ({ALLOW_UNJUDGED}): ECS will not judge this release nor roll it back "
                "when its alarms fire"
            )
        else:
            waited = f" after waiting {duration(self.allowed.wait_seconds)}" if self.allowed.wait_seconds else ""
            raise PreflightFailed(
                f"{unjudged}{waited}; wait until it is OK (`{self.invocation.deploy('status', 'app')}` shows the "
                f"alarms, {WAIT_FOR_ALARMS} MINUTES waits for it), or pass {ALLOW_UNJUDGED} to release it unjudged"
            )

    def wait_for_ok(self, alarms: DeploymentAlarms, firing: list[AlarmState], seconds: float) -> list[AlarmState]:
        """Polls the alarms until none is in ALARM, at most `seconds`; those still in ALARM then."""
        names = ", ".join(alarm.name for alarm in firing)
        self.console.line(f"Waiting up to {duration(seconds)} for {names} to leave ALARM ({WAIT_FOR_ALARMS})")
        deadline = self.timing.clock() + seconds
        while firing and self.timing.clock() < deadline:
            self.timing.sleep(min(ALARM_POLL_SECONDS, deadline - self.timing.clock()))
            firing = [alarm for alarm in alarms.states() if alarm.state == IN_ALARM]
        if not firing:
            self.console.line(f"{names}: no longer in ALARM; ECS judges this release")
        return firing


class RetainedRepository:
    """Before the registry stack is created: an ECR repository of its name may exist already, retained when
    a registry stack was deleted, or when its creation rolled back (DeletionPolicy Retain). Creating it
    again would fail with RepositoryAlreadyExists; the stack adopts it instead, through an IMPORT change
    set, images included.

    Only a stack can have retained it: ECR is asked only when a stack of this name was deleted (ListStacks
    keeps them 90 days) or rolled back, which spares every first deploy an ECR client and a request. A
    repository made by hand under the name makes the creation fail and roll back; the next deploy adopts it."""

    def __init__(self, clients: AwsClients, console: Console, stack_name: str, template: StackTemplate) -> None:
        self.clients = clients
        self.console = console
        self.stack_name = stack_name
        self.template = template

    def to_import(self, stack: Stack | None, parameters: StackParameters) -> list[ResourceToImport] | None:
        if deployed_values(stack) is not None:
            return None  # the stack holds its repository
        rolled_back = stack is not None and stack["StackStatus"] == "ROLLBACK_COMPLETE"
        if not rolled_back and not self.was_deleted():
            return None
        name = parameters.get("RepositoryName")
        try:
            self.clients.ecr.describe_repositories(repositoryNames=[name])
        except ClientError as error:
            if error.response["Error"]["Code"] == "RepositoryNotFoundException":
                return None
            raise
        resources = self.template.data["Resources"]
        logical_id = next(key for key, resource in resources.items() if resource["Type"] == REPOSITORY_TYPE)
        self.console.notice(
            f"the ECR repository {name} exists already (retained when {self.stack_name} was deleted or rolled "
            f"back): {self.stack_name} adopts it, images included, through an IMPORT change set"
        )
        return [
            {
                "ResourceType": REPOSITORY_TYPE,
                "LogicalResourceId": logical_id,
                "ResourceIdentifier": {"RepositoryName": name},
            }
        ]

    def was_deleted(self) -> bool:
        pages = self.clients.cloudformation.get_paginator("list_stacks").paginate(StackStatusFilter=["DELETE_COMPLETE"])
        return any(summary["StackName"] == self.stack_name for page in pages for summary in page["StackSummaries"])
