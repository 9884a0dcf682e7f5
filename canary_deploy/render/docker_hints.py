"""The exact docker commands for a repository, printed after the registry deploy and on a missing image."""


def registry_host(repository_uri: str) -> str:
    return repository_uri.split("/", 1)[0]


def login_command(repository_uri: str, region: str) -> str:
    return (
        f"aws ecr get-login-password --region {region} | "
        f"docker login --username AWS --password-stdin {registry_host(repository_uri)}"
    )


def push_command(repository_uri: str, tag: str) -> str:
    return f"docker push {repository_uri}:{tag}"


def tag_command(local_image: str, repository_uri: str, tag: str) -> str:
    return f"docker tag {local_image}:{tag} {repository_uri}:{tag}"
