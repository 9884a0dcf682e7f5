"""The Parameter Store parameters the app reads, named once for the templates, the deployer's preflight
and the local demo. Plain Python, no troposphere: the deployer imports it without the template libraries.
"""

from dataclasses import dataclass

DEFAULT_PREFIX = "/kafkajs-canary-app"


@dataclass(frozen=True)
class StoredParameter:
    """`<prefix>/<suffix>` in Parameter Store, handed to the container as the variable env_name."""

    env_name: str
    suffix: str
    secure: bool  # SecureString, as upstream created it; the bootstrap broker address is a plain String


KAFKA_PARAMETERS = (
    StoredParameter("KAFKA_HOST", "kafka-host", secure=False),
    StoredParameter("KAFKA_USERNAME", "kafka-username", secure=True),
    StoredParameter("KAFKA_PASSWORD", "kafka-password", secure=True),
)
# Optional: without it the app runs with Sentry error reporting off.
SENTRY_PARAMETER = StoredParameter("SENTRY_DSN", "sentry-dsn", secure=True)
