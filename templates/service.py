"""Compute: the ECS cluster, the Fargate task (its image, secrets, logs and roles) and the service."""

from dataclasses import dataclass

from awacs import cloudwatch, ecr, kms, logs, ssm
from awacs.aws import Allow, ArnLike, Condition, PolicyDocument, Principal, Statement, StringEquals
from awacs.sts import AssumeRole
from troposphere import GetAtt, If, Parameter, Ref, Sub, Template
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
    MountPoint,
    NetworkConfiguration,
    RuntimePlatform,
    Secret,
    Service,
    TaskDefinition,
    Volume,
)
from troposphere.iam import Policy, Role
from troposphere.kms import Key
from troposphere.logs import LogGroup

from contract import KAFKA_PARAMETERS, SENTRY_PARAMETER, StoredParameter

from .common import WILDCARD_JUSTIFICATIONS, add_customer_managed_key, application_tags
from .network import Network

CONTAINER_NAME = "app"
SCRATCH_VOLUME = "tmp"
# The app image's own unprivileged user (USER node in its Dockerfile).
CONTAINER_USER = "node"


@dataclass(frozen=True)
class ServiceSettings:
    """The app stack's parameters and conditions the compute part reads."""

    version: Parameter
    image_repository_uri: object
    image_repository_arn: object
    parameter_prefix: Parameter
    desired_count: Parameter
    cpu: Parameter
    memory: Parameter
    log_retention_days: Parameter
    kafka_port: Parameter
    health_check_command: Parameter
    metric_namespace: Parameter
    sentry_condition: str


@dataclass(frozen=True)
class Compute:
    cluster: Cluster
    service: Service
    log_group: LogGroup
    image_uri: Sub


def parameter_arn(prefix: Parameter, secret: StoredParameter) -> Sub:
    # The prefix starts with "/", which merges into "parameter/" as in every SSM parameter ARN.
    return Sub(
        "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter${Prefix}/" + secret.suffix,
        Prefix=Ref(prefix),
    )


def with_sentry(settings: ServiceSettings, make) -> If:
    """`make(secret)` for each secret in use: the Kafka ones always, Sentry's only when enabled.

    A whole list per branch rather than AWS::NoValue inside one list, which some tools leave as null.
    """
    kafka = [make(secret) for secret in KAFKA_PARAMETERS]
    return If(settings.sentry_condition, kafka + [make(SENTRY_PARAMETER)], kafka)


def _task_role(
    template: Template, logical_id: str, policy_name: str, statements: list[Statement], wildcard_reasons: dict
) -> Role:
    """A role ECS tasks assume, with one inline policy; every `Resource: "*"` statement is explained in
    wildcard_reasons, by Sid."""
    return template.add_resource(
        Role(
            logical_id,
            AssumeRolePolicyDocument=PolicyDocument(
                Version="2012-10-17",
                Statement=[
                    Statement(
                        Effect=Allow, Principal=Principal("Service", "ecs-tasks.amazonaws.com"), Action=[AssumeRole]
                    )
                ],
            ),
            Policies=[
                Policy(
                    PolicyName=policy_name, PolicyDocument=PolicyDocument(Version="2012-10-17", Statement=statements)
                )
            ],
            Metadata={WILDCARD_JUSTIFICATIONS: wildcard_reasons},
            Tags=application_tags(),
        )
    )


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


def _add_logs_key(template: Template) -> Key:
    """CloudWatch Logs encrypts with it only for this stack's log groups (auto-named `<stack>-...`)."""
    logs_encrypt = Statement(
        Sid="CloudWatchLogsEncrypt",
        Effect=Allow,
        Principal=Principal("Service", Sub("logs.${AWS::Region}.amazonaws.com")),
        Action=[kms.Encrypt, kms.Decrypt, kms.ReEncryptFrom, kms.ReEncryptTo, kms.GenerateDataKey, kms.DescribeKey],
        Resource=["*"],
        Condition=Condition(
            ArnLike(
                "kms:EncryptionContext:aws:logs:arn",
                Sub("arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:${AWS::StackName}-*"),
            )
        ),
    )
    # Retained with the logs: deleting the key would make the retained logs unreadable.
    return add_customer_managed_key(
        template, "LogsKey", "Encrypts the KafkaJS canary logs", [logs_encrypt], deletion_policy="Retain"
    )


def add_compute(template: Template, settings: ServiceSettings, network: Network) -> Compute:
    security_group = add_security_group(template, network, settings.kafka_port)

    cluster = template.add_resource(
        Cluster(
            "Cluster",
            ClusterSettings=[ClusterSetting(Name="containerInsights", Value="enabled")],
            Tags=application_tags(),
        )
    )
    log_group = template.add_resource(
        LogGroup(
            "LogGroup",
            RetentionInDays=Ref(settings.log_retention_days),
            KmsKeyId=GetAtt(_add_logs_key(template), "Arn"),
            Tags=application_tags(),
            # Logs outlive the stack: they are what you read after a failed deployment.
            DeletionPolicy="Retain",
            UpdateReplacePolicy="Retain",
        )
    )

    # Used by ECS itself to start the task: pull the image, write logs, read the secrets.
    execution_role = _task_role(
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
                Resource=[settings.image_repository_arn],
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
                Resource=with_sentry(settings, lambda secret: parameter_arn(settings.parameter_prefix, secret)),
            ),
        ],
        wildcard_reasons={"EcrLogin": "ecr:GetAuthorizationToken supports no resource-level permissions"},
    )
    # Used by the app: publish its metrics, and nothing else.
    task_role = _task_role(
        template,
        "TaskRole",
        "publish-canary-metrics",
        [
            Statement(
                Sid="PublishCanaryMetrics",
                Effect=Allow,
                Action=[cloudwatch.PutMetricData],
                Resource=["*"],
                Condition=Condition(StringEquals("cloudwatch:namespace", Ref(settings.metric_namespace))),
            )
        ],
        wildcard_reasons={
            "PublishCanaryMetrics": (
                "cloudwatch:PutMetricData supports no resource-level permissions; "
                "limited to the app's namespace by the cloudwatch:namespace condition"
            ),
        },
    )

    image_uri = Sub("${Repository}:${Version}", Repository=settings.image_repository_uri, Version=Ref(settings.version))
    container = ContainerDefinition(
        Name=CONTAINER_NAME,
        Image=image_uri,
        Essential=True,
        User=CONTAINER_USER,
        ReadonlyRootFilesystem=True,
        MountPoints=[MountPoint(SourceVolume=SCRATCH_VOLUME, ContainerPath="/tmp", ReadOnly=False)],
        Environment=[
            Environment(Name="AWS_REGION", Value=Ref("AWS::Region")),
            Environment(Name="APP_VERSION", Value=Ref(settings.version)),
        ],
        # Values are read by ECS when a task starts: nothing secret is in the template or its parameters.
        Secrets=with_sentry(
            settings,
            lambda secret: Secret(Name=secret.env_name, ValueFrom=parameter_arn(settings.parameter_prefix, secret)),
        ),
        # ECS ignores the Dockerfile's HEALTHCHECK: it must be declared here.
        HealthCheck=HealthCheck(
            Command=["CMD-SHELL", Ref(settings.health_check_command)],
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
    task_definition = template.add_resource(
        TaskDefinition(
            "TaskDefinition",
            Family=Ref("AWS::StackName"),
            RequiresCompatibilities=["FARGATE"],
            NetworkMode="awsvpc",
            Cpu=Ref(settings.cpu),
            Memory=Ref(settings.memory),
            RuntimePlatform=RuntimePlatform(OperatingSystemFamily="LINUX", CpuArchitecture="X86_64"),
            ExecutionRoleArn=GetAtt(execution_role, "Arn"),
            TaskRoleArn=GetAtt(task_role, "Arn"),
            ContainerDefinitions=[container],
            # Writable scratch space on the task's ephemeral storage, since the root filesystem is not.
            Volumes=[Volume(Name=SCRATCH_VOLUME)],
            Tags=application_tags(),
        )
    )

    service = template.add_resource(
        Service(
            "Service",
            Cluster=Ref(cluster),
            TaskDefinition=Ref(task_definition),
            DesiredCount=Ref(settings.desired_count),
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
            DependsOn=[network.egress_ready],
        )
    )
    return Compute(cluster=cluster, service=service, log_group=log_group, image_uri=image_uri)
