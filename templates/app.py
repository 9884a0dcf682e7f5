"""AppStack: the KafkaJS canary as a Fargate service, composed from its parts.

One environment-agnostic template: everything that varies per deployment is a parameter, constrained
so a bad value is rejected before anything is created.
"""

from troposphere import Equals, GetAtt, Output, Parameter, Ref, Sub, Template

from contract import DEFAULT_PARAMETER_PREFIX, REGISTRY_STACK

from .common import import_from_registry, new_template
from .monitoring import add_monitoring, alarm_email_parameter
from .network import add_network, subnet_mode_parameter
from .service import ServiceSettings, add_compute

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
    1,
    3,
    5,
    7,
    14,
    30,
    60,
    90,
    120,
    150,
    180,
    365,
    400,
    545,
    731,
    1096,
    1827,
    2192,
    2557,
    2922,
    3288,
    3653,
)


def _add_parameters(template: Template) -> dict[str, Parameter]:
    all_memory = sorted({memory for sizes in FARGATE_MEMORY_BY_CPU.values() for memory in sizes})
    parameters = [
        Parameter(
            "Version",
            Type="String",
            AllowedPattern=VERSION_PATTERN,
            ConstraintDescription="must be an image tag: letters, digits, _ . - (at most 128, not starting with . or -)",
            Description="Image tag to run, e.g. 1.16.0-beta.12-5f5d22f1 (must exist in the registry)",
        ),
        Parameter(
            "RegistryStackName",
            Type="String",
            Default=REGISTRY_STACK,
            AllowedPattern=r"^[A-Za-z][A-Za-z0-9-]{0,127}$",
            Description="Name of the registry stack whose exports (repository URI and ARN) this stack imports",
        ),
        Parameter(
            "ParameterPrefix",
            Type="String",
            Default=DEFAULT_PARAMETER_PREFIX,
            AllowedPattern=r"^(/[A-Za-z0-9_.-]+)+$",
            ConstraintDescription="must be a Parameter Store path such as /kafkajs-canary-app (no trailing slash)",
            Description="Parameter Store path holding kafka-host, kafka-username, kafka-password and sentry-dsn",
        ),
        Parameter(
            "DesiredCount",
            Type="Number",
            Default=1,
            MinValue=0,
            MaxValue=10,
            Description="Number of canary tasks to run (0 pauses the canary)",
        ),
        Parameter(
            "Cpu",
            Type="String",
            Default="256",
            AllowedValues=list(FARGATE_MEMORY_BY_CPU),
            Description="Task CPU units (Fargate sizes)",
        ),
        Parameter(
            "Memory",
            Type="String",
            Default="512",
            AllowedValues=[str(memory) for memory in all_memory],
            Description="Task memory in MiB; must be valid for the chosen Cpu (checked by the template's rules)",
        ),
        Parameter(
            SENTRY_ENABLED,
            Type="String",
            Default="true",
            AllowedValues=["true", "false"],
            Description="Pass SENTRY_DSN from <ParameterPrefix>/sentry-dsn to the app (false when that parameter does not exist)",
        ),
        Parameter(
            "LogRetentionDays",
            Type="Number",
            Default=365,
            AllowedValues=list(LOG_RETENTION_DAYS),
            Description="Days to keep the app's logs",
        ),
        alarm_email_parameter(),
        subnet_mode_parameter(),
        Parameter(
            "KafkaPort",
            Type="Number",
            Default=9092,
            MinValue=1,
            MaxValue=65535,
            Description="TCP port of the Kafka brokers (the only egress besides HTTPS)",
        ),
        Parameter(
            "HealthCheckCommand",
            Type="String",
            Default="node build/bin/healthcheck.js",
            MinLength=1,
            MaxLength=1024,
            Description="Shell command the container health check runs (ECS ignores the Dockerfile's HEALTHCHECK)",
        ),
        Parameter(
            "MetricNamespace",
            Type="String",
            Default="KafkaJS/Canary",
            AllowedPattern=r"^[A-Za-z0-9_./#:-]{1,255}$",
            Description="The only CloudWatch namespace the app may publish metrics to",
        ),
    ]
    return {parameter.title: template.add_parameter(parameter) for parameter in parameters}


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


def build_app_template() -> Template:
    template = new_template("KafkaJS canary app: Fargate service, network, logs, alarms and dashboard (AppStack)")
    # W6001 flags any import inside an output; ImageUri is not a re-export but the imported repository
    # URI joined with Version, the one place an operator reads which image runs.
    template.set_metadata({"cfn-lint": {"config": {"ignore_checks": ["W6001"]}}})
    parameters = _add_parameters(template)
    template.add_condition(SENTRY_ENABLED, Equals(Ref(parameters[SENTRY_ENABLED]), "true"))
    _add_task_size_rules(template, parameters["Cpu"], parameters["Memory"])

    registry = Ref(parameters["RegistryStackName"])
    network = add_network(template, parameters["SubnetMode"])
    compute = add_compute(
        template,
        ServiceSettings(
            version=parameters["Version"],
            image_repository_uri=import_from_registry(registry, "RepositoryUri"),
            image_repository_arn=import_from_registry(registry, "RepositoryArn"),
            parameter_prefix=parameters["ParameterPrefix"],
            desired_count=parameters["DesiredCount"],
            cpu=parameters["Cpu"],
            memory=parameters["Memory"],
            log_retention_days=parameters["LogRetentionDays"],
            kafka_port=parameters["KafkaPort"],
            health_check_command=parameters["HealthCheckCommand"],
            metric_namespace=parameters["MetricNamespace"],
            sentry_condition=SENTRY_ENABLED,
        ),
        network,
    )
    alerts_topic = add_monitoring(template, compute, parameters["AlarmEmail"])

    outputs = {
        "ClusterName": (Ref(compute.cluster), "ECS cluster running the canary"),
        "ServiceName": (GetAtt(compute.service, "Name"), "ECS service name"),
        "ServiceArn": (Ref(compute.service), "ECS service ARN"),
        "LogGroupName": (Ref(compute.log_group), "CloudWatch Logs group of the app"),
        "AlertsTopicArn": (Ref(alerts_topic), "SNS topic the alarms notify"),
        "ImageUri": (compute.image_uri, "Image the service runs"),
        "DescribeServicesCommand": (
            Sub(
                "aws ecs describe-services --region ${AWS::Region} --cluster ${Cluster} --services ${Service}",
                Cluster=Ref(compute.cluster),
                Service=GetAtt(compute.service, "Name"),
            ),
            "Inspect the service's deployments and tasks",
        ),
    }
    for key, (value, description) in outputs.items():
        template.add_output(Output(key, Value=value, Description=description))
    return template
