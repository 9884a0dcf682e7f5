"""AppStack: the KafkaJS canary as a Fargate service, composed from its parts.

One environment-agnostic template: everything that varies per deployment is a parameter, constrained
so a bad value is rejected before anything is created. Each part declares the parameters it reads.
"""

from troposphere import GetAtt, Output, Parameter, Ref, Sub, Template

from contract import REGISTRY_STACK

from .common import import_from_registry, new_template
from .compute import ImageRepository, add_compute, add_compute_parameters
from .monitoring import add_monitoring, add_monitoring_parameters
from .network import add_network, subnet_mode_parameter
from .slack_notifier import NOTIFIER_LOG_GROUP, add_slack_notifier


def _add_outputs(template: Template, compute, alerts_topic) -> None:
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


def build_app_template() -> Template:
    template = new_template("KafkaJS canary app: Fargate service, network, logs, alarms and dashboard (AppStack)")
    # W6001 flags any import inside an output; ImageUri is not a re-export but the imported repository
    # URI joined with Version, the one place an operator reads which image runs.
    template.set_metadata({"cfn-lint": {"config": {"ignore_checks": ["W6001"]}}})
    registry_stack_name = template.add_parameter(
        Parameter(
            "RegistryStackName",
            Type="String",
            Default=REGISTRY_STACK,
            AllowedPattern=r"^[A-Za-z][A-Za-z0-9-]{0,127}$",
            Description="Name of the registry stack whose exports (repository URI and ARN) this stack imports",
        )
    )
    compute_parameters = add_compute_parameters(template)
    monitoring_parameters = add_monitoring_parameters(template)
    subnet_mode = template.add_parameter(subnet_mode_parameter())

    network = add_network(template, subnet_mode)
    registry = Ref(registry_stack_name)
    repository = ImageRepository(
        uri=import_from_registry(registry, "RepositoryUri"), arn=import_from_registry(registry, "RepositoryArn")
    )
    compute = add_compute(template, compute_parameters, repository, network, (NOTIFIER_LOG_GROUP,))
    alerts_topic = add_monitoring(template, compute, monitoring_parameters)
    add_slack_notifier(template, alerts_topic, compute, compute_parameters)
    _add_outputs(template, compute, alerts_topic)
    return template
