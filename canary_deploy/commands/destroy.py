"""`deploy.py destroy app|registry`: delete after confirmation; never the registry while a canary uses it."""

from ..aws.aws_types import Stack
from ..aws.session import AwsClients
from ..aws.stack_state import describe_stack, importing_stacks
from ..errors import ChangesRefused, StackStateRefused
from ..model.invocation import Invocation
from ..model.stack_outputs import outputs_of
from ..render.console import Console
from ..watch.timing import REAL_TIME, Timing
from .deployer import DeployOptions, StackDeployer
from .release import StackNames


class Destroyer:
    def __init__(
        self,
        clients: AwsClients,
        console: Console,
        names: StackNames,
        invocation: Invocation,
        yes: bool = False,
        timeout: float | None = None,
        timing: Timing = REAL_TIME,
        app_environments: dict[str, str] | None = None,
    ) -> None:
        """`app_environments`: the environments of the file in this account and region, by app stack name,
        which the hints name."""
        self.clients = clients
        self.cfn = clients.cloudformation
        self.console = console
        self.names = names
        self.invocation = invocation
        self.yes = yes
        self.options = DeployOptions(yes=yes) if timeout is None else DeployOptions(yes=yes, timeout=timeout)
        self.timing = timing
        self.app_environments = app_environments or {}

    def run(self, target: str) -> None:
        name = getattr(self.names, target)
        deployer = StackDeployer(self.clients, self.console, self.options, self.invocation, target, self.timing)
        stack = describe_stack(self.cfn, name)
        if stack is None:
            self.console.line(f"{name} does not exist: nothing to destroy")
            return
        if target == "registry":
            self.refuse_while_imported(stack)
            repository = outputs_of(stack).get("RepositoryName", "the repository")
            delete = self.invocation.aws("ecr", "delete-repository", "--force", "--repository-name", repository)
            self.console.notice(
                f"the ECR repository {repository} and its images are retained (DeletionPolicy Retain); remove them "
                f"yourself with `{delete}` if you must"
            )
        self.confirm(name)
        if stack.get("EnableTerminationProtection"):
            self.cfn.update_termination_protection(StackName=stack["StackId"], EnableTerminationProtection=False)
        deployer.delete_and_wait(stack)
        self.console.line(f"✅  {name} destroyed")

    def refuse_while_imported(self, registry: Stack) -> None:
        """Every canary of this account and region that imports the registry's exports, whatever its
        environment: CloudFormation would not delete the registry under them (it would end where it started)."""
        exports = [output["ExportName"] for output in registry.get("Outputs", []) if output.get("ExportName")]
        importers = sorted({stack for export in exports for stack in importing_stacks(self.cfn, export)})
        if importers:
            commands = ", ".join(f"`{self.destroy_command(stack)}`" for stack in importers)
            raise StackStateRefused(
                f"{registry['StackName']}'s exports are imported by {', '.join(importers)}: destroy "
                f"{'it' if len(importers) == 1 else 'them'} first ({commands})"
            )

    def destroy_command(self, app_stack: str) -> str:
        """The command that destroys `app_stack`: this one's own when it is the app stack in use."""
        if app_stack == self.names.app:
            return self.invocation.deploy("destroy", "app")
        environment = self.app_environments.get(app_stack)
        return self.invocation.for_app_stack(app_stack, environment).deploy("destroy", "app")

    def confirm(self, name: str) -> None:
        if self.yes:
            return
        if not self.console.interactive:
            raise ChangesRefused(f"destroying {name} needs confirmation and there is no terminal: rerun with --yes")
        if not self.console.confirm(f"Delete stack {name}?"):
            raise ChangesRefused(f"{name} not deleted")
