"""Seeding, as an operator does before the first deploy: Parameter Store values and an image in ECR."""

from __future__ import annotations

import hashlib
import json

from contract import DEFAULT_PARAMETER_PREFIX, KAFKA_PARAMETERS, REPOSITORY_NAME, SENTRY_PARAMETER, SLACK_WEBHOOK_SUFFIX

from .ecs.scheduler import EXIT_CODE_ANNOTATION, FARGATE_PLATFORM
from .server import DEFAULT_REGION, local_client

DEMO_VALUES = {
    "KAFKA_HOST": "kafka.demo.internal",
    "KAFKA_USERNAME": "canary",
    "KAFKA_PASSWORD": "demo-password-not-a-secret",
    "SENTRY_DSN": "https://public-key@sentry.demo.invalid/1",
}
DEMO_SLACK_WEBHOOK_URL = "https://hooks.slack.invalid/services/T0000/B0000/demo"


def seed_parameters(
    endpoint_url: str,
    region: str = DEFAULT_REGION,
    prefix: str = DEFAULT_PARAMETER_PREFIX,
    sentry: bool = True,
    slack: bool = True,
) -> list[str]:
    """Put the app's Parameter Store parameters (demo values) and the alarms' Slack webhook URL; returns
    their names. `sentry` and `slack` put the optional ones."""
    ssm = local_client("ssm", endpoint_url, region)
    names = []
    for parameter in (*KAFKA_PARAMETERS, SENTRY_PARAMETER) if sentry else KAFKA_PARAMETERS:
        name = f"{prefix}/{parameter.suffix}"
        parameter_type = "SecureString" if parameter.secure else "String"
        ssm.put_parameter(Name=name, Type=parameter_type, Value=DEMO_VALUES[parameter.env_name], Overwrite=True)
        names.append(name)
    if slack:
        name = f"{prefix}/{SLACK_WEBHOOK_SUFFIX}"
        ssm.put_parameter(Name=name, Type="SecureString", Value=DEMO_SLACK_WEBHOOK_URL, Overwrite=True)
        names.append(name)
    return names


def push_image(
    endpoint_url: str,
    version: str,
    region: str = DEFAULT_REGION,
    repository: str = REPOSITORY_NAME,
    *,
    platform: str = FARGATE_PLATFORM,
    exit_code: int | None = None,
) -> str:
    """Register `repository:version` in ECR as `docker push` would; returns the image digest.

    The repository must exist (the registry stack creates it). No Docker needed: ECR accepts a
    hand-written manifest. Its digests derive from the tag, so each tag is a distinct image. What the
    local ECS then does with it (local_aws.ecs.scheduler):

    - `platform` other than linux/amd64 pushes an image index for that platform only, as
      `docker buildx build --platform linux/arm64 --push` on an arm64 laptop does: Fargate's tasks
      (linux/amd64) stop with CannotPullContainerError;
    - `exit_code` marks the image as one whose container exits with that code once started (an OCI
      annotation only this emulator reads): tasks stop with "Essential container in task exited".
    """
    ecr = local_client("ecr", endpoint_url, region)

    def blob(media_type: str, kind: str) -> dict:
        digest = hashlib.sha256(f"{repository}:{version}:{kind}".encode()).hexdigest()
        return {"mediaType": media_type, "size": 1024, "digest": f"sha256:{digest}"}

    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": blob("application/vnd.oci.image.config.v1+json", "config"),
        "layers": [blob("application/vnd.oci.image.layer.v1.tar+gzip", "layer")],
    }
    if exit_code is not None:
        manifest["annotations"] = {EXIT_CODE_ANNOTATION: str(exit_code)}
    if platform != FARGATE_PLATFORM:
        operating_system, architecture = platform.split("/", 1)
        manifest = {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "manifests": [
                {
                    **blob("application/vnd.oci.image.manifest.v1+json", platform),
                    "platform": {"os": operating_system, "architecture": architecture},
                }
            ],
        }
    response = ecr.put_image(repositoryName=repository, imageManifest=json.dumps(manifest), imageTag=version)
    return response["image"]["imageId"]["imageDigest"]
