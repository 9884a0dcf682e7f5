"""`deploy.py destroy app|registry`: delete after confirmation; never the registry while the app uses it."""

from ..aws.session import AwsClients
from ..aws.stack_state import describe_stack
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
    ) -> None:
        self.clients = clients
        self.cfn = clients.cloudformation
        self.console = console
        self.names = names
        self.invocation = invocation
        self.yes = yes
        self.options = DeployOptions(yes=yes) if timeout is None else DeployOptions(yes=yes, timeout=timeout)
        self.timing = timing

    def run(self, target: str) -> None:
        name = getattr(self.names, target)
        deployer = StackDeployer(self.clients, self.console, self.options, self.invocation, target, self.timing)
        stack = describe_stack(self.cfn, name)
        if stack is None:
            self.console.line(f"{name} does not exist: nothing to destroy")
            return
        if target == "registry":
            self.refuse_while_imported(name)
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

    def refuse_while_imported(self, registry_name: str) -> None:
        """The app stack imports the registry's exports (AWS refuses the delete; moto would allow it)."""
        app = describe_stack(self.cfn, self.names.app)
        if app is None:
            return
        parameters = {p["ParameterKey"]: p.get("ParameterValue") for p in app.get("Parameters", [])}
        if parameters.get("RegistryStackName", registry_name) == registry_name:
            raise StackStateRefused(
                f"{self.names.app} imports the exports of {registry_name}: destroy it first "
                f"(`{self.invocation.deploy('destroy', 'app')}`)"
            )

    def confirm(self, name: str) -> None:
        if self.yes:
            return
        if not self.console.interactive:
            raise ChangesRefused(f"destroying {name} needs confirmation and there is no terminal: rerun with --yes")
        if not self.console.confirm(f"Delete stack {name}?"):
            raise ChangesRefused(f"{name} not deleted")
