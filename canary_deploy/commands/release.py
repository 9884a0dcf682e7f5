"""The deploy commands: `registry` and `app`, each a template, its parameters, checks and a StackDeployer."""

from dataclasses import dataclass, field
from datetime import datetime

from botocore.exceptions import BotoCoreError, ClientError
from botocore.parsers import ResponseParserError

from contract import APP_STACK, MUTABLE_IMAGE_TAG, REGISTRY_STACK, REPOSITORY_NAME

from ..aws.aws_types import Stack
from ..aws.session import AwsClients
from ..aws.stack_state import describe_stack
from ..aws.template_source import TemplateSource
from ..errors import BadInput, CanaryFailed, CanaryNotJudged, DeploymentFailed, Interrupted
from ..model.invocation import Invocation
from ..model.outputs_file import VerdictFile
from ..model.parameters import ParameterSource, StackParameters, deployed_values
from ..model.stack_outputs import outputs_of
from ..model.verdict import Outcome
from ..model.verdict_times import VerdictTime, settings_of, verdict_times
from ..render.console import Console
from ..render.docker_hints import login_command, push_command, tag_command
from ..watch.canary_watch import CanaryWatch
from ..watch.timing import Timing
from .deployer import DeployOptions, StackDeployer
from .preflight import AppPreflight, RetainedRepository, UnjudgedAllowance, UnjudgedRelease

VERSION_PLACEHOLDER = "VERSION"


@dataclass
class StackNames:
    registry: str = REGISTRY_STACK
    app: str = APP_STACK


@dataclass
class DeployRequest:
    names: StackNames
    options: DeployOptions
    overrides: ParameterSource
    version: str | None = None
    configured: ParameterSource = field(default_factory=ParameterSource)  # --parameters-file
    environment: ParameterSource = field(default_factory=ParameterSource)  # the environment's (app only)
    verify: bool = False  # --verify: judge the release after CloudFormation
    verify_minutes: float | None = None  # --verify MINUTES (None: the template's upper bound on ECS's decision)
    verdict_file: VerdictFile | None = None
    unjudged: UnjudgedAllowance = field(default_factory=UnjudgedAllowance)  # --allow-unjudged, --wait-for-alarms


class StackCommand:
    """Shared wiring: clients, console, templates, the invocation hints repeat, timing."""

    def __init__(
        self, clients: AwsClients, console: Console, source: TemplateSource, invocation: Invocation, timing: Timing
    ) -> None:
        self.clients = clients
        self.console = console
        self.source = source
        self.invocation = invocation
        self.timing = timing

    def deployer(self, options: DeployOptions, kind: str) -> StackDeployer:
        return StackDeployer(self.clients, self.console, options, self.invocation, kind, self.timing)


class RegistryDeploy(StackCommand):
    def run(self, request: DeployRequest) -> None:
        template = self.source.load("registry")
        parameters = StackParameters(template, request.overrides, configured=request.configured)
        self.clients.check_configuration()
        deployer = self.deployer(request.options, "registry")
        retained = RetainedRepository(self.clients, self.console, request.names.registry, template)
        stack = deployer.deploy(
            request.names.registry, template, parameters, preflight=lambda stack: retained.to_import(stack, parameters)
        )
        if stack is None:
            return
        self.protect(stack)
        self.print_docker_lines(outputs_of(stack), request.version or VERSION_PLACEHOLDER)

    def protect(self, stack: Stack) -> None:
        """The registry holds the images: termination protection once it exists (change sets cannot set it)."""
        if stack.get("EnableTerminationProtection"):
            return
        try:
            self.clients.cloudformation.update_termination_protection(
                StackName=stack["StackId"], EnableTerminationProtection=True
            )
        except (ClientError, BotoCoreError, ResponseParserError) as error:
            # The deploy itself succeeded: say what is missing rather than report a failure.
            enable = self.invocation.aws(
                "cloudformation",
                "update-termination-protection",
                "--enable-termination-protection",
                "--stack-name",
                stack["StackName"],
            )
            self.console.notice(
                f"could not enable termination protection ({str(error).splitlines()[0]}): run `{enable}`"
            )
            return
        self.console.line(f"Termination protection enabled on {stack['StackName']}.")

    def print_docker_lines(self, outputs: dict[str, str], tag: str) -> None:
        uri = outputs.get("RepositoryUri")
        if not uri:
            return
        local_image = outputs.get("RepositoryName", REPOSITORY_NAME)
        self.console.line("\nPush the app image:")
        self.console.line(f"  {login_command(uri, self.invocation, self.clients.region)}")
        self.console.line(f"  {tag_command(local_image, uri, tag)}")
        self.console.line(f"  {push_command(uri, tag)}")


class AppDeploy(StackCommand):
    def run(self, request: DeployRequest) -> None:
        """A preview (--dry-run, `diff`) may leave out --version to keep the deployed one, and may name
        a tag not pushed yet: only an execution needs the image."""
        version, preview = request.version, request.options.dry_run
        if not version and not preview:
            raise BadInput("app needs --version TAG: the image tag to deploy")
        if version == MUTABLE_IMAGE_TAG:
            raise BadInput(
                f"--version {MUTABLE_IMAGE_TAG} is refused: the tag moves, so a new image under it would deploy as "
                "'no changes' and never roll out; deploy the immutable release tag, e.g. 1.16.0-beta.12-5f5d22f1"
            )
        template = self.source.load("app")
        fixed = {"RegistryStackName": request.names.registry, **({"Version": version} if version else {})}
        parameters = StackParameters(
            template,
            request.overrides,
            fixed=fixed,
            flags={"Version": "--version", "RegistryStackName": "--registry-stack-name"},
            configured=request.configured,
            environment=request.environment,
        )
        self.clients.check_configuration()
        preflight = AppPreflight(self.clients, self.console, request.names.registry, self.invocation)
        unjudged = UnjudgedRelease(
            self.clients, self.console, request.names.app, self.invocation, request.unjudged, self.timing
        )

        def check(stack: Stack | None) -> None:
            first = deployed_values(stack) is None
            if first and not version:
                raise BadInput(f"{request.names.app} is not deployed yet: pass --version TAG to preview it")
            preflight.run(parameters, parameters.get("Version"), image_required=not preview)
            if not first:  # a first deploy's alarms do not exist yet
                unjudged.check(template, parameters, preview)

        if request.verify and preview:
            raise BadInput("--verify judges a release once it runs: it does not go with --dry-run or diff")
        deployer = self.deployer(request.options, "app")
        try:
            stack = deployer.deploy(request.names.app, template, parameters, preflight=check)
        except DeploymentFailed:
            if request.verify and version:
                self.report_alarm_rollback(request.names.app, version, request.verdict_file)
            raise
        if stack is not None and request.verify and version:
            times = verdict_times(settings_of(template.data, parameters.values(), request.names.app))
            self.verify(stack, version, request.verify_minutes, times, request.verdict_file)

    def canary(self, stack: Stack) -> CanaryWatch:
        outputs = outputs_of(stack)
        if not {"ClusterName", "ServiceName"} <= set(outputs):
            raise DeploymentFailed(f"{stack['StackName']} has no ClusterName and ServiceName outputs to verify")
        return CanaryWatch(self.clients, self.console, stack["StackName"], outputs, self.invocation, self.timing)

    def verify(
        self,
        stack: Stack,
        version: str,
        minutes: float | None,
        times: tuple[VerdictTime, ...],
        verdict_file: VerdictFile | None,
    ) -> None:
        """--verify: watch the release until ECS decides, print the verdict; a failed canary is exit 3, one not
        judged exit 5, Ctrl-C detaches."""
        verdict = self.canary(stack).verify(version, minutes, times, last_change(stack))
        status_app = self.invocation.deploy("status", "app")
        if verdict_file:
            verdict_file.write(verdict)
        if verdict.outcome is Outcome.HEALTHY:
            self.console.line(self.console.style(verdict.line(), "green"))
        elif verdict.outcome is Outcome.FAILED:
            raise CanaryFailed(verdict.text())
        elif verdict.outcome is Outcome.NOT_JUDGED:
            raise CanaryNotJudged(verdict.text())
        elif verdict.outcome is Outcome.DETACHED:
            raise Interrupted(
                f"detached: {verdict.text()}; ECS and the alarms go on judging it: check later with `{status_app}`"
            )
        else:
            raise DeploymentFailed(f"{verdict.text()} when --verify ended: check later with `{status_app}`")

    def report_alarm_rollback(self, stack_name: str, version: str, verdict_file: VerdictFile | None) -> None:
        """CloudFormation rolled the release back: when ECS's deployment alarms failed it, that is the
        canary's verdict (exit 3), not a failed deployment."""
        stack = describe_stack(self.clients.cloudformation, stack_name)
        if stack is None or not {"ClusterName", "ServiceName"} <= set(outputs_of(stack)):
            return  # a creation rolled back: no service, and its first deployment is never judged
        verdict = self.canary(stack).rolled_back_by_alarms(version, last_change(stack))
        if verdict is not None:
            if verdict_file:
                verdict_file.write(verdict)
            raise CanaryFailed(verdict.text())


def last_change(stack: Stack) -> datetime:
    """When the stack last started to change: a release's service deployment was created after it."""
    changed: datetime = stack.get("LastUpdatedTime") or stack["CreationTime"]
    return changed
