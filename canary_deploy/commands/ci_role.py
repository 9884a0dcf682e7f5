"""`ci-role --repository OWNER/NAME`: the release workflow's AWS roles (the ci-role stack), scoped to the
registry and the app stacks of every environment, then the secrets the workflow reads, with the values to set."""

from collections.abc import Sequence

from contract import CI_ROLE_STACK, RELEASE_SECRETS

from ..model.parameters import StackParameters
from ..model.stack_outputs import outputs_of
from .release import DeployRequest, StackCommand


class CiRoleDeploy(StackCommand):
    def run(
        self, request: DeployRequest, repository: str, app_stacks: Sequence[str], parameter_prefixes: Sequence[str]
    ) -> None:
        """The repository is checked against the template's own pattern before any AWS call."""
        template = self.source.load("ci-role")
        parameters = StackParameters(
            template,
            request.overrides,
            fixed={
                "GitHubRepository": repository,
                "RegistryStackName": request.names.registry,
                "AppStackNames": ",".join(app_stacks),
                "ParameterPrefixes": ",".join(parameter_prefixes),
            },
            flags={
                "GitHubRepository": "--repository",
                "RegistryStackName": "--registry-stack-name",
                "AppStackNames": "--app-stack-name or environments.toml",
                "ParameterPrefixes": "environments.toml",
            },
            configured=request.configured,
        )
        self.clients.check_configuration()
        deployer = self.deployer(request.options, "ci-role")
        # `status` shows the canaries' stacks: this one is read as any other stack.
        deployer.status_command = self.invocation.aws(
            "cloudformation", "describe-stacks", "--stack-name", CI_ROLE_STACK
        )
        stack = deployer.deploy(CI_ROLE_STACK, template, parameters)
        if stack is None:
            return
        outputs = outputs_of(stack)
        self.console.line(
            f"\nSet these secrets on {repository} (Settings > Secrets and variables > Actions), e.g. with the GitHub CLI:"
        )
        for key, secret in RELEASE_SECRETS.items():
            self.console.line(f"  gh secret set {secret} --repo {repository} --body {outputs[key]}")
