"""The exact docker commands for a repository, printed after the registry deploy and on a missing image."""

from ..model.invocation import Invocation


def registry_host(repository_uri: str) -> str:
    return repository_uri.split("/", 1)[0]


def login_command(repository_uri: str, invocation: Invocation, region: str) -> str:
    """The repository's region, and the profile in force: the login must reach the account that holds it."""
    password = invocation.aws("ecr", "get-login-password", region=region)
    return f"{password} | docker login --username AWS --password-stdin {registry_host(repository_uri)}"


def push_command(repository_uri: str, tag: str) -> str:
    return f"docker push {repository_uri}:{tag}"


def tag_command(local_image: str, repository_uri: str, tag: str) -> str:
    return f"docker tag {local_image}:{tag} {repository_uri}:{tag}"
