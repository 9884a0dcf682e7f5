"""Slack notifications, as upstream had: a small function subscribed to the alerts topic posts every alarm
and OK transition to a Slack incoming webhook. Optional, like Sentry: deployed only when SlackEnabled is
true (`deploy.py` sets false when `<prefix>/slack-webhook-url` does not exist).

The webhook URL is a SecureString in Parameter Store, read by the function at run time: neither the
template nor the function's environment (which holds the parameter's name) contains it. The function's code
is `lambda_functions/slack_notifier.py`, inline (the module the tests import, byte for byte).
"""

import importlib.util

from awacs import logs, ssm
from awacs.aws import Allow, Statement
from troposphere import Equals, GetAtt, Parameter, Ref, Sub, Template
from troposphere.awslambda import Code, Environment, Function, LoggingConfig, Permission
from troposphere.sns import SubscriptionResource, Topic

from contract import CONTROL_TOWER_FINDINGS, SLACK_WEBHOOK_SUFFIX

from .common import add_service_role, application_tags
from .compute import Compute, ComputeParameters, add_log_group, parameter_arn

SLACK_ENABLED = "SlackEnabled"
NOTIFIER_LOG_GROUP = "slack-notifier"
HANDLER_MODULE = "lambda_functions.slack_notifier"
WEBHOOK_PARAMETER_VARIABLE = "WEBHOOK_URL_PARAMETER"

# Outside the VPC (checkov CKV_AWS_117, AWS Control Tower CT.LAMBDA.PR.3).
OUTSIDE_THE_VPC = (
    "outside the VPC: it reaches only Parameter Store and Slack, and a function in the public subnets would get "
    "no route to either"
)
# Not deployed on purpose, each for its reason (checkov's Lambda checks).
CHECKOV_SKIPS = {
    "CKV_AWS_115": "no reserved concurrency: reserving any fails in accounts at the default concurrency quota, "
    "and alarm transitions are rare",
    "CKV_AWS_116": "no dead-letter queue: an undelivered message is an alarm transition still visible in "
    "CloudWatch and by email; Lambda retries each event twice",
    "CKV_AWS_117": OUTSIDE_THE_VPC,
    "CKV_AWS_173": "its only environment variable is a Parameter Store name, not a secret",
}


def handler_source() -> str:
    """The handler module's source as the tests import it, read through the import system without running
    it (the template generator does not import boto3)."""
    return importlib.util.find_spec(HANDLER_MODULE).loader.get_source(HANDLER_MODULE)


def add_slack_notifier(
    template: Template, topic: Topic, compute: Compute, compute_parameters: ComputeParameters
) -> Function:
    enabled = template.add_parameter(
        Parameter(
            SLACK_ENABLED,
            Type="String",
            Default="true",
            AllowedValues=["true", "false"],
            Description=f"Post alarms to Slack through the webhook in <ParameterPrefix>/{SLACK_WEBHOOK_SUFFIX} "
            "(false when that parameter does not exist)",
        )
    )
    template.add_condition(SLACK_ENABLED, Equals(Ref(enabled), "true"))
    prefix = compute_parameters.parameter_prefix

    # Like the app's logs: what happened to an alert stays readable after the stack is gone.
    log_group = add_log_group(
        template,
        "SlackNotifierLogGroup",
        NOTIFIER_LOG_GROUP,
        compute_parameters,
        compute.logs_key,
        Condition=SLACK_ENABLED,
    )
    role = add_service_role(
        template,
        "SlackNotifierRole",
        "lambda.amazonaws.com",
        "post-alarms-to-slack",
        [
            Statement(
                Sid="WriteNotifierLogs",
                Effect=Allow,
                Action=[logs.CreateLogStream, logs.PutLogEvents],
                Resource=[GetAtt(log_group, "Arn")],
            ),
            # A SecureString under the AWS-managed aws/ssm key, whose key policy lets Parameter Store decrypt
            # for any caller of the account allowed to read the parameter: no kms:Decrypt needed here.
            Statement(
                Sid="ReadWebhookUrl",
                Effect=Allow,
                Action=[ssm.GetParameter],
                Resource=[parameter_arn(prefix, SLACK_WEBHOOK_SUFFIX)],
            ),
        ],
        wildcard_reasons={},
        Condition=SLACK_ENABLED,
    )
    function = template.add_resource(
        Function(
            "SlackNotifier",
            Condition=SLACK_ENABLED,
            Description="Posts the KafkaJS canary's alarm transitions to Slack",
            Runtime="python3.13",
            Handler="index.handler",
            Code=Code(ZipFile=handler_source()),
            Role=GetAtt(role, "Arn"),
            MemorySize=128,
            Timeout=30,
            Environment=Environment(
                Variables={WEBHOOK_PARAMETER_VARIABLE: Sub(f"${{Prefix}}/{SLACK_WEBHOOK_SUFFIX}", Prefix=Ref(prefix))}
            ),
            LoggingConfig=LoggingConfig(LogGroup=Ref(log_group)),
            Tags=application_tags(),
            Metadata={
                "checkov": {"skip": [{"id": check, "comment": why} for check, why in CHECKOV_SKIPS.items()]},
                CONTROL_TOWER_FINDINGS: {
                    "CT.LAMBDA.PR.3": OUTSIDE_THE_VPC + "; where the control is enabled, deploy with SlackEnabled "
                    "false (the alarms still reach AlarmEmail)"
                },
            },
        )
    )
    template.add_resource(
        Permission(
            "SlackNotifierInvokedByAlerts",
            Condition=SLACK_ENABLED,
            Action="lambda:InvokeFunction",
            FunctionName=GetAtt(function, "Arn"),
            Principal="sns.amazonaws.com",
            SourceArn=Ref(topic),
        )
    )
    template.add_resource(
        SubscriptionResource(
            "AlertsSlackSubscription",
            Condition=SLACK_ENABLED,
            TopicArn=Ref(topic),
            Protocol="lambda",
            Endpoint=GetAtt(function, "Arn"),
        )
    )
    return function
