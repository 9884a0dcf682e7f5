"""The canary's contract, written once: what the templates, the generator, the deployer, the local AWS,
the diagram and the tests must agree on. Plain Python with no third-party import, so `deploy.py` loads it
without troposphere, awacs or cfn-lint.

The app's side of it (environment, Parameter Store names) is read from the app's own files in the
`kafkajs/canary-app` repository, `app/` folder.
"""

from dataclasses import dataclass

APPLICATION = "kafkajs-canary-app"

# Stacks, by the command that deploys them, and the file generate.py writes each one to.
REGISTRY_STACK = "RegistryStack"
APP_STACK = "AppStack"
CI_ROLE_STACK = "CiRoleStack"
STACK_NAMES = {"registry": REGISTRY_STACK, "app": APP_STACK, "ci-role": CI_ROLE_STACK}
TEMPLATE_FILES = {kind: f"{name}.json" for kind, name in STACK_NAMES.items()}

# The ECR repository the registry stack creates (a parameter of its template; this is its default).
REPOSITORY_NAME = APPLICATION
# The one image tag that may move: the release moves it to each new image where the repository lets it (the
# registry's LatestTag parameter); every other tag is immutable in the repository. A stack must never run it: a
# new `latest` would redeploy as "no changes" and never roll out.
MUTABLE_IMAGE_TAG = "latest"
# What the registry stack exports, by output key, each as `<registry stack name>-<key>`.
REGISTRY_EXPORTS = ("RepositoryName", "RepositoryArn", "RepositoryUri")

# CloudFormation's limit for an inline TemplateBody; bigger templates go through S3 (TemplateURL).
MAX_INLINE_TEMPLATE_BYTES = 51_200

# Metadata key under which a resource explains each AWS Control Tower proactive control it fails when
# cfn-guard reads the template: {control id: why the finding stands} (control_tower.py checks them). Where
# a parameter value passes the control, the explanation names it: {control id: {CONTROL_TOWER_WHY: why,
# CONTROL_TOWER_PASSES_WITH: {parameter: value}}}, and control_tower.py checks the control passes with it.
CONTROL_TOWER_FINDINGS = "ControlTowerFindings"
CONTROL_TOWER_WHY = "Why"
CONTROL_TOWER_PASSES_WITH = "PassesWith"


def export_name(stack_name: str, output_key: str) -> str:
    return f"{stack_name}-{output_key}"


# Parameter Store: `<prefix>/<suffix>`, read by the app container.
DEFAULT_PARAMETER_PREFIX = f"/{APPLICATION}"


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
# Optional: without it the alarms reach no Slack channel (the notifier is not deployed). A SecureString read
# by the notifier function at run time; the template and the function's environment hold only its name.
SLACK_WEBHOOK_SUFFIX = "slack-webhook-url"

# What the app publishes to CloudWatch (src/consumer.ts, src/metrics.ts): after every consumed batch, the
# consumer's OffsetLag (Count) with the dimensions topic and partition, in the namespace `<prefix>/Consumer`,
# the prefix being its configuration's `metrics.namespace` (config/default.json: "kafkajs-canary-app").
# Topic and partition are fixed by its configuration too, so two canaries in one account and region would
# publish the same metric: each app stack gives its app a prefix of its own instead (app_configuration).
DEFAULT_METRIC_PREFIX = APPLICATION
OFFSET_LAG_METRIC = "OffsetLag"
OFFSET_LAG_DIMENSIONS = ("partition", "topic")
# The app reads its configuration with node-config (npm `config`), which merges the JSON object in this
# environment variable over its config files (node-config's lib/config.js, since 2013; checked with 3.3.1).
APP_CONFIGURATION_VARIABLE = "NODE_CONFIG"


def metric_namespace(prefix: str) -> str:
    """The namespace the app publishes OffsetLag to, given its `metrics.namespace` prefix."""
    return f"{prefix}/Consumer"


def metric_prefix(stack_name: str) -> str:
    """The `metrics.namespace` prefix an app stack gives its app: one namespace per canary."""
    return f"{APPLICATION}/{stack_name}"


def stack_metric_namespace(stack_name: str) -> str:
    """Where the app of this app stack publishes OffsetLag, which its alarms and dashboard read."""
    return metric_namespace(metric_prefix(stack_name))


def app_configuration(stack_name: str) -> dict:
    """What an app stack merges over the app's configuration (as APP_CONFIGURATION_VARIABLE, JSON)."""
    return {"metrics": {"namespace": metric_prefix(stack_name)}}


# The app stack's alarms are named `<stack name>-<suffix>`. These three judge every ECS deployment of the
# service (its deployment alarms): one in ALARM fails the deployment and ECS rolls it back.
CONSUMER_LAG_ALARM = "consumer-lag"
CONSUMER_STALLED_ALARM = "consumer-stalled"
TASKS_BELOW_DESIRED_ALARM = "tasks-below-desired"
DEPLOYMENT_ALARMS = (CONSUMER_LAG_ALARM, CONSUMER_STALLED_ALARM, TASKS_BELOW_DESIRED_ALARM)


def alarm_name(stack_name: str, suffix: str) -> str:
    return f"{stack_name}-{suffix}"


# The release workflow's AWS identities (the ci-role stack): GitHub's OIDC provider, the subjects of the jobs that
# assume them, and the repository secret each of the stack's role ARNs goes into, by output key.
GITHUB_OIDC_URL = "https://token.actions.githubusercontent.com"
GITHUB_OIDC_AUDIENCE = "sts.amazonaws.com"  # what aws-actions/configure-aws-credentials asks for
# owner/name as GitHub allows them: an owner of letters, digits and inner hyphens (at most 39), a name of
# letters, digits, '.', '_' and '-' (at most 100).
GITHUB_REPOSITORY_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9-]{0,38}/[A-Za-z0-9._-]{1,100}$"
RELEASE_BRANCH = "main"  # the build job runs on it (workflow_dispatch from the default branch)
RELEASE_ENVIRONMENT = "canary"  # the GitHub environment of the deploy job
RELEASE_SECRETS = {
    "ImagePublishingRoleArn": "AWS_IMAGE_PUBLISHING_ROLE_ARN",
    "DeployRoleArn": "AWS_DEPLOY_ROLE_ARN",
    "ExecutionRoleArn": "AWS_EXECUTION_ROLE_ARN",
}
