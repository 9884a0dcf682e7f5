"""The deploy commands: `registry` and `app`, each a template, its parameters, checks and a StackDeployer."""

from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from botocore.parsers import ResponseParserError

from contract import APP_STACK, MUTABLE_IMAGE_TAG, REGISTRY_STACK, REPOSITORY_NAME

from .aws_types import Stack
from .console import Console
from .deployer import DeployOptions, StackDeployer
from .docker_hints import login_command, push_command, tag_command
from .errors import BadInput
from .parameters import ParameterSource, StackParameters, deployed_values
from .preflight import AppPreflight
from .session import AwsClients
from .stack_state import outputs_of
from .template_source import TemplateSource

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


class StackCommand:
    """Shared wiring: clients, console, templates; deployer_kwargs lets tests pass a fake clock/sleep."""

    def __init__(self, clients: AwsClients, console: Console, source: TemplateSource, **deployer_kwargs: Any) -> None:
        self.clients = clients
        self.console = console
        self.source = source
        self.deployer_kwargs = deployer_kwargs

    def deployer(self, options: DeployOptions, kind: str) -> StackDeployer:
        return StackDeployer(
            self.clients, self.console, options, f"python deploy.py status {kind}", **self.deployer_kwargs
        )


class RegistryDeploy(StackCommand):
    def run(self, request: DeployRequest) -> None:
        template = self.source.load("registry")
        parameters = StackParameters(template, request.overrides, configured=request.configured)
        self.clients.check_configuration()
        deployer = self.deployer(request.options, "registry")
        stack = deployer.deploy(request.names.registry, template, parameters)
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
            self.console.notice(
                f"could not enable termination protection ({str(error).splitlines()[0]}): run `aws cloudformation "
                f"update-termination-protection --enable-termination-protection --stack-name {stack['StackName']}`"
            )
            return
        self.console.line(f"Termination protection enabled on {stack['StackName']}.")

    def print_docker_lines(self, outputs: dict[str, str], tag: str) -> None:
        uri = outputs.get("RepositoryUri")
        if not uri:
            return
        local_image = outputs.get("RepositoryName", REPOSITORY_NAME)
        self.console.line("\nPush the app image:")
        self.console.line(f"  {login_command(uri, self.clients.region)}")
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
        )
        self.clients.check_configuration()
        preflight = AppPreflight(self.clients, self.console, request.names.registry)

        def check(stack: Stack | None) -> None:
            if not version and deployed_values(stack) is None:
                raise BadInput(f"{request.names.app} is not deployed yet: pass --version TAG to preview it")
            preflight.run(parameters, parameters.get("Version"), image_required=not preview)

        self.deployer(request.options, "app").deploy(request.names.app, template, parameters, preflight=check)
