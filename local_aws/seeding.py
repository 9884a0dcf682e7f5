"""Seeding, as an operator does before the first deploy: Parameter Store values and an image in ECR."""

from __future__ import annotations

import hashlib
import json

from contract import DEFAULT_PARAMETER_PREFIX, KAFKA_PARAMETERS, REPOSITORY_NAME, SENTRY_PARAMETER

from .server import DEFAULT_REGION, local_client

DEMO_VALUES = {
    "KAFKA_HOST": "kafka.demo.internal",
    "KAFKA_USERNAME": "canary",
    "KAFKA_PASSWORD": "demo-password-not-a-secret",
    "SENTRY_DSN": "https://public-key@sentry.demo.invalid/1",
}


def seed_parameters(
    endpoint_url: str,
    region: str = DEFAULT_REGION,
    prefix: str = DEFAULT_PARAMETER_PREFIX,
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
    repository: str = REPOSITORY_NAME,
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
