"""Compute: the ECS cluster, the Fargate task (its image, secrets, logs and roles) and the service, with the
app stack parameters they read."""

import json
from dataclasses import dataclass

from awacs import cloudwatch, ecr, kms, logs, ssm
from awacs.aws import Allow, ArnEquals, Condition, Principal, Statement, StringEquals
from troposphere import Equals, GetAtt, If, Parameter, Ref, Select, Split, Sub, Template
from troposphere.ec2 import SecurityGroup, SecurityGroupRule
from troposphere.ecs import (
    AwsvpcConfiguration,
    Cluster,
    ClusterSetting,
    ContainerDefinition,
    DeploymentCircuitBreaker,
    DeploymentConfiguration,
    Environment,
    HealthCheck,
    LogConfiguration,
    NetworkConfiguration,
    RuntimePlatform,
    Secret,
    Service,
    TaskDefinition,
)
from troposphere.iam import Role
from troposphere.kms import Key
from troposphere.logs import LogGroup

from contract import (
    APP_CONFIGURATION_VARIABLE,
    CONTROL_TOWER_FINDINGS,
    DEFAULT_PARAMETER_PREFIX,
    KAFKA_PARAMETERS,
    SENTRY_PARAMETER,
    app_configuration,
    stack_metric_namespace,
)

from .common import add_customer_managed_key, add_service_role, application_tags
from .network import Network

CONTAINER_NAME = "app"
APP_LOG_GROUP = "app"
# The app image's own unprivileged user (USER node in its Dockerfile).
CONTAINER_USER = "node"
# Fn::Sub texts: the namespace this stack's app publishes to, and the configuration that makes it do so.
METRIC_NAMESPACE = stack_metric_namespace("${AWS::StackName}")
APP_CONFIGURATION = json.dumps(app_configuration("${AWS::StackName}"), separators=(",", ":"))


# Docker/ECR tag grammar.
VERSION_PATTERN = r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$"
SENTRY_ENABLED = "SentryEnabled"

# Fargate's valid task sizes: CPU units -> allowed memory (MiB).
FARGATE_MEMORY_BY_CPU = {
    "256": [512, 1024, 2048],
    "512": list(range(1024, 4096 + 1, 1024)),
    "1024": list(range(2048, 8192 + 1, 1024)),
    "2048": list(range(4096, 16384 + 1, 1024)),
    "4096": list(range(8192, 30720 + 1, 1024)),
}
# CloudWatch Logs' accepted retention periods.
LOG_RETENTION_DAYS = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
)  # fmt: skip


@dataclass(frozen=True)
class ComputeParameters:
    """The app stack's parameters the compute part reads; `sentry_condition` is true when the app gets
    SENTRY_DSN."""

    version: Parameter
    parameter_prefix: Parameter
    desired_count: Parameter
    cpu: Parameter
    memory: Parameter
    log_retention_days: Parameter
    kafka_port: Parameter
    health_check_command: Parameter
    sentry_condition: str


@dataclass(frozen=True)
class ImageRepository:
    """The registry stack's repository, as values imported from its exports."""

    uri: object
    arn: object


def add_compute_parameters(template: Template) -> ComputeParameters:
    """Declare the parameters, the Sentry condition and the task-size rules of the compute part."""
    all_memory = sorted({memory for sizes in FARGATE_MEMORY_BY_CPU.values() for memory in sizes})

    def add(title: str, **properties) -> Parameter:
        return template.add_parameter(Parameter(title, **properties))

    parameters = ComputeParameters(
        version=add(
            "Version",
            Type="String",
            AllowedPattern=VERSION_PATTERN,
            ConstraintDescription="must be an image tag: letters, digits, _ . - (at most 128, not starting with . or -)",
            Description="Image tag to run, e.g. 1.16.0-beta.12-5f5d22f1 (must exist in the registry)",
        ),
        parameter_prefix=add(
            "ParameterPrefix",
            Type="String",
            Default=DEFAULT_PARAMETER_PREFIX,
            AllowedPattern=r"^(/[A-Za-z0-9_.-]+)+$",
            ConstraintDescription="must be a Parameter Store path such as /kafkajs-canary-app (no trailing slash)",
            Description="Parameter Store path holding kafka-host, kafka-username, kafka-password and sentry-dsn",
        ),
        desired_count=add(
            "DesiredCount",
            Type="Number",
            Default=1,
            MinValue=0,
            MaxValue=10,
            Description="Number of canary tasks to run (0 pauses the canary)",
        ),
        cpu=add(
            "Cpu",
            Type="String",
            Default="256",
            AllowedValues=list(FARGATE_MEMORY_BY_CPU),
            Description="Task CPU units (Fargate sizes)",
        ),
        memory=add(
            "Memory",
            Type="String",
            Default="512",
            AllowedValues=[str(memory) for memory in all_memory],
            Description="Task memory in MiB; must be valid for the chosen Cpu (checked by the template's rules)",
        ),
        log_retention_days=add(
            "LogRetentionDays",
            Type="Number",
            Default=365,
            AllowedValues=list(LOG_RETENTION_DAYS),
            Description="Days to keep the app's logs",
        ),
        kafka_port=add(
            "KafkaPort",
            Type="Number",
            Default=9092,
            MinValue=1,
            MaxValue=65535,
            Description="TCP port of the Kafka brokers (the only egress besides HTTPS)",
        ),
        health_check_command=add(
            "HealthCheckCommand",
            Type="String",
            Default="node build/bin/healthcheck.js",
            MinLength=1,
            MaxLength=1024,
            Description="Shell command the container health check runs (ECS ignores the Dockerfile's HEALTHCHECK)",
        ),
        sentry_condition=SENTRY_ENABLED,
    )
    sentry_enabled = add(
        SENTRY_ENABLED,
        Type="String",
        Default="true",
        AllowedValues=["true", "false"],
        Description="Pass SENTRY_DSN from <ParameterPrefix>/sentry-dsn to the app (false when that parameter does not exist)",
    )
    template.add_condition(SENTRY_ENABLED, Equals(Ref(sentry_enabled), "true"))
    _add_task_size_rules(template, parameters.cpu, parameters.memory)
    return parameters


def _add_task_size_rules(template: Template, cpu: Parameter, memory: Parameter) -> None:
    """Reject a CPU/memory pair Fargate would refuse, when the change set is created."""
    for cpu_units, memories in FARGATE_MEMORY_BY_CPU.items():
        template.add_rule(
            f"TaskSize{cpu_units}",
            {
                "RuleCondition": Equals(Ref(cpu), cpu_units),
                "Assertions": [
                    {
                        "Assert": {"Fn::Contains": [[str(memory) for memory in memories], Ref(memory)]},
                        "AssertDescription": f"With Cpu {cpu_units}, Memory must be one of "
                        + ", ".join(str(memory) for memory in memories),
                    }
                ],
            },
        )


@dataclass(frozen=True)
class Compute:
    cluster: Cluster
    service: Service
    log_group: LogGroup
    # Encrypts every log group of the stack (CloudWatch Logs may use it for those log groups only).
    logs_key: Key
    image_uri: Sub


def parameter_arn(prefix: Parameter, suffix: str) -> Sub:
    """The ARN of Parameter Store's `<prefix>/<suffix>`."""
    # The prefix starts with "/", which merges into "parameter/" as in every SSM parameter ARN.
    return Sub(
        "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter${Prefix}/" + suffix,
        Prefix=Ref(prefix),
    )


def with_sentry(parameters: ComputeParameters, make) -> If:
    """`make(secret)` for each secret in use: the Kafka ones always, Sentry's only when enabled.

    A whole list per branch rather than AWS::NoValue inside one list, which some tools leave as null.
    """
    kafka = [make(secret) for secret in KAFKA_PARAMETERS]
    return If(parameters.sentry_condition, kafka + [make(SENTRY_PARAMETER)], kafka)


def _task_role(
    template: Template, logical_id: str, policy_name: str, statements: list[Statement], wildcard_reasons: dict
) -> Role:
    """A role ECS tasks assume, with one inline policy."""
    return add_service_role(template, logical_id, "ecs-tasks.amazonaws.com", policy_name, statements, wildcard_reasons)


def add_security_group(template: Template, network: Network, kafka_port: Parameter) -> SecurityGroup:
    """No ingress (nothing calls the canary); egress only where it must go."""
    return template.add_resource(
        SecurityGroup(
            "TaskSecurityGroup",
            GroupDescription="KafkaJS canary tasks: no ingress, egress to HTTPS and Kafka only",
            VpcId=Ref(network.vpc),
            SecurityGroupEgress=[
                SecurityGroupRule(
                    IpProtocol="tcp",
                    FromPort=443,
                    ToPort=443,
                    CidrIp="0.0.0.0/0",
                    Description="HTTPS to AWS APIs (ECR, SSM, CloudWatch) and Sentry",
                ),
                SecurityGroupRule(
                    IpProtocol="tcp",
                    FromPort=Ref(kafka_port),
                    ToPort=Ref(kafka_port),
                    CidrIp="0.0.0.0/0",
                    Description="Kafka brokers",
                ),
            ],
            Tags=application_tags(),
        )
    )


# The first group of the stack's own id (arn:...:stack/<name>/<uuid>), new for every stack created.
_STACK_INSTANCE = Select(0, Split("-", Select(2, Split("/", Ref("AWS::StackId")))))
# Log groups are named `<stack name>-<suffix>-<stack instance>`.
_LOG_GROUP_NAME = "${AWS::StackName}-%s-${StackInstance}"


def log_group_name(suffix: str) -> Sub:
    """The stack's log group `suffix`. The stack name keeps two canaries in one account apart; the stack
    instance keeps a stack created again apart from the log groups its predecessor retained (CloudFormation
    refuses to create a log group whose name exists)."""
    return Sub(_LOG_GROUP_NAME % suffix, StackInstance=_STACK_INSTANCE)


def add_log_group(
    template: Template, logical_id: str, suffix: str, parameters: ComputeParameters, logs_key: Key, **properties
) -> LogGroup:
    """A log group named log_group_name(suffix), encrypted with the stack's logs key, kept LogRetentionDays."""
    return template.add_resource(
        LogGroup(
            logical_id,
            LogGroupName=log_group_name(suffix),
            RetentionInDays=Ref(parameters.log_retention_days),
            KmsKeyId=GetAtt(logs_key, "Arn"),
            Tags=application_tags(),
            Metadata={
                CONTROL_TOWER_FINDINGS: {
                    "CT.CLOUDWATCH.PR.2": "RetentionInDays is the LogRetentionDays parameter, which cfn-guard cannot "
                    "compare with 365 in the template; the deploy-time hook compares its value: the default 365 "
                    "passes, a shorter retention is refused where the control is enabled"
                }
            },
            # Logs outlive the stack: they are what you read after a failed deployment.
            DeletionPolicy="Retain",
            UpdateReplacePolicy="Retain",
            **properties,
        )
    )


def _add_logs_key(template: Template, log_group_suffixes: tuple[str, ...]) -> Key:
    """CloudWatch Logs encrypts with it for the stack's log groups, named here, and no others."""
    log_group_arn = "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:" + _LOG_GROUP_NAME
    logs_encrypt = Statement(
        Sid="CloudWatchLogsEncrypt",
        Effect=Allow,
        Principal=Principal("Service", Sub("logs.${AWS::Region}.amazonaws.com")),
        Action=[kms.Encrypt, kms.Decrypt, kms.ReEncryptFrom, kms.ReEncryptTo, kms.GenerateDataKey, kms.DescribeKey],
        Resource=["*"],
        Condition=Condition(
            ArnEquals(
                "kms:EncryptionContext:aws:logs:arn",
                [Sub(log_group_arn % suffix, StackInstance=_STACK_INSTANCE) for suffix in log_group_suffixes],
            )
        ),
    )
    # Retained with the logs: deleting the key would make the retained logs unreadable.
    return add_customer_managed_key(
        template, "LogsKey", "Encrypts the KafkaJS canary logs", [logs_encrypt], deletion_policy="Retain"
    )


def add_compute(
    template: Template,
    parameters: ComputeParameters,
    repository: ImageRepository,
    network: Network,
    other_log_groups: tuple[str, ...],
) -> Compute:
    """The cluster, the task definition (container, roles, logs) and the service running it in `network`;
    the logs key also serves the stack's other log groups (add_log_group suffixes)."""
    logs_key = _add_logs_key(template, (APP_LOG_GROUP, *other_log_groups))
    log_group = add_log_group(template, "LogGroup", APP_LOG_GROUP, parameters, logs_key)
    image_uri = Sub("${Repository}:${Version}", Repository=repository.uri, Version=Ref(parameters.version))
    task_definition = template.add_resource(
        TaskDefinition(
            "TaskDefinition",
            Family=Ref("AWS::StackName"),
            RequiresCompatibilities=["FARGATE"],
            NetworkMode="awsvpc",
            Cpu=Ref(parameters.cpu),
            Memory=Ref(parameters.memory),
            RuntimePlatform=RuntimePlatform(OperatingSystemFamily="LINUX", CpuArchitecture="X86_64"),
            ExecutionRoleArn=GetAtt(_add_execution_role(template, parameters, repository, log_group), "Arn"),
            TaskRoleArn=GetAtt(_add_app_role(template), "Arn"),
            ContainerDefinitions=[_container(parameters, image_uri, log_group)],
            Tags=application_tags(),
            Metadata={
                CONTROL_TOWER_FINDINGS: {
                    "CT.ECS.PR.7": "the container's hard limit is the Memory parameter (512 MiB or more), which "
                    "cfn-guard cannot compare with 4 in the template; the deploy-time hook compares its value"
                }
            },
        )
    )
    cluster = template.add_resource(
        Cluster(
            "Cluster",
            ClusterSettings=[ClusterSetting(Name="containerInsights", Value="enabled")],
            Tags=application_tags(),
        )
    )
    service = _add_service(template, parameters, cluster, task_definition, network)
    return Compute(cluster=cluster, service=service, log_group=log_group, logs_key=logs_key, image_uri=image_uri)


def _add_execution_role(
    template: Template, parameters: ComputeParameters, repository: ImageRepository, log_group: LogGroup
) -> Role:
    """Used by ECS itself to start the task: pull the image, write logs, read the secrets."""
    return _task_role(
        template,
        "TaskExecutionRole",
        "start-canary-task",
        [
            Statement(
                Sid="EcrLogin",
                Effect=Allow,
                Action=[ecr.GetAuthorizationToken],
                Resource=["*"],
            ),
            Statement(
                Sid="PullCanaryImage",
                Effect=Allow,
                Action=[ecr.BatchCheckLayerAvailability, ecr.GetDownloadUrlForLayer, ecr.BatchGetImage],
                Resource=[repository.arn],
            ),
            Statement(
                Sid="WriteCanaryLogs",
                Effect=Allow,
                Action=[logs.CreateLogStream, logs.PutLogEvents],
                Resource=[GetAtt(log_group, "Arn")],
            ),
            Statement(
                Sid="ReadCanarySecrets",
                Effect=Allow,
                Action=[ssm.GetParameters],
                Resource=with_sentry(
                    parameters, lambda secret: parameter_arn(parameters.parameter_prefix, secret.suffix)
                ),
            ),
        ],
        wildcard_reasons={"EcrLogin": "ecr:GetAuthorizationToken supports no resource-level permissions"},
    )


def _add_app_role(template: Template) -> Role:
    """Used by the app: publish its metrics to this stack's namespace, and nothing else."""
    return _task_role(
        template,
        "TaskRole",
        "publish-canary-metrics",
        [
            Statement(
                Sid="PublishCanaryMetrics",
                Effect=Allow,
                Action=[cloudwatch.PutMetricData],
                Resource=["*"],
                Condition=Condition(StringEquals("cloudwatch:namespace", Sub(METRIC_NAMESPACE))),
            )
        ],
        wildcard_reasons={
            "PublishCanaryMetrics": (
                "cloudwatch:PutMetricData supports no resource-level permissions; "
                "limited to the app's namespace by the cloudwatch:namespace condition"
            ),
        },
    )


def _container(parameters: ComputeParameters, image_uri: Sub, log_group: LogGroup) -> ContainerDefinition:
    """The app container: read-only root filesystem, unprivileged user, secrets from Parameter Store.

    No writable volume: the app writes nothing to disk (it logs to stdout and sends metrics and errors over
    HTTPS), and a Fargate bind mount is owned by root with mode 0755, which its `node` user could not write.
    """
    return ContainerDefinition(
        Name=CONTAINER_NAME,
        Image=image_uri,
        Essential=True,
        User=CONTAINER_USER,
        # A hard limit (AWS Control Tower CT.ECS.PR.7): the task's memory, all of it the app's.
        Memory=Ref(parameters.memory),
        ReadonlyRootFilesystem=True,
        Environment=[
            Environment(Name="AWS_REGION", Value=Ref("AWS::Region")),
            Environment(Name="APP_VERSION", Value=Ref(parameters.version)),
            # The app's metric namespace: this stack's own (contract.app_configuration).
            Environment(Name=APP_CONFIGURATION_VARIABLE, Value=Sub(APP_CONFIGURATION)),
        ],
        # Values are read by ECS when a task starts: nothing secret is in the template or its parameters.
        Secrets=with_sentry(
            parameters,
            lambda secret: Secret(
                Name=secret.env_name, ValueFrom=parameter_arn(parameters.parameter_prefix, secret.suffix)
            ),
        ),
        # ECS ignores the Dockerfile's HEALTHCHECK: it must be declared here.
        HealthCheck=HealthCheck(
            Command=["CMD-SHELL", Ref(parameters.health_check_command)],
            Interval=30,
            Timeout=5,
            Retries=3,
            StartPeriod=60,
        ),
        LogConfiguration=LogConfiguration(
            LogDriver="awslogs",
            Options={
                "awslogs-group": Ref(log_group),
                "awslogs-region": Ref("AWS::Region"),
                "awslogs-stream-prefix": CONTAINER_NAME,
            },
        ),
    )


def _add_service(
    template: Template,
    parameters: ComputeParameters,
    cluster: Cluster,
    task_definition: TaskDefinition,
    network: Network,
) -> Service:
    security_group = add_security_group(template, network, parameters.kafka_port)
    return template.add_resource(
        Service(
            "Service",
            Cluster=Ref(cluster),
            TaskDefinition=Ref(task_definition),
            DesiredCount=Ref(parameters.desired_count),
            LaunchType="FARGATE",
            PlatformVersion="LATEST",
            SchedulingStrategy="REPLICA",
            DeploymentConfiguration=DeploymentConfiguration(
                MinimumHealthyPercent=50,
                MaximumPercent=200,
                # A task that cannot start (missing image, unreadable secret) fails the deployment and
                # rolls back, instead of ECS relaunching it for three hours.
                DeploymentCircuitBreaker=DeploymentCircuitBreaker(Enable=True, Rollback=True),
            ),
            NetworkConfiguration=NetworkConfiguration(
                AwsvpcConfiguration=AwsvpcConfiguration(
                    Subnets=network.task_subnets,
                    SecurityGroups=[Ref(security_group)],
                    AssignPublicIp=network.assign_public_ip,
                )
            ),
            EnableECSManagedTags=True,
            PropagateTags="SERVICE",
            Tags=application_tags(),
            Metadata={
                CONTROL_TOWER_FINDINGS: {
                    "CT.ECS.PR.9": "AssignPublicIp is ENABLED only with SubnetMode public (upstream's layout, no NAT "
                    "gateway); the default, private, is DISABLED: where the control is enabled, keep SubnetMode private"
                }
            },
            DependsOn=[network.egress_ready],
        )
    )
