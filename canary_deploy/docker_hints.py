"""The exact docker commands for a repository, printed after the registry deploy and on a missing image."""


def registry_host(repository_uri):
    return repository_uri.split("/", 1)[0]


def login_command(repository_uri, region):
    return (
        f"aws ecr get-login-password --region {region} | "
        f"docker login --username AWS --password-stdin {registry_host(repository_uri)}"
    )


def push_command(repository_uri, tag):
    return f"docker push {repository_uri}:{tag}"


def tag_command(local_image, repository_uri, tag):
    return f"docker tag {local_image}:{tag} {repository_uri}:{tag}"
