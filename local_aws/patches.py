"""Every change the local AWS makes to moto, in the one order they are applied (`apply_patches`).

moto 5.2.5 emulates `create_stack` well, but the way the deployer uses CloudFormation (create a change set,
show it, execute it, watch the events, the ECS service roll out and the canary's alarms) reaches parts of
moto that are missing or differ from AWS. Each entry names moto's attribute it replaces or wraps, the AWS
behaviour it models, and where AWS documents it; the module of the replacement says why in more detail.
The fixes that belong in moto itself are written up for upstream in docs/local-aws.md.

The order matters only where two entries patch the same attribute: the later one wraps the earlier
(it is called first). Those places say so. The patches reach into moto's internals and are written for
moto==MOTO_VERSION exactly (pinned in setup.cfg); on any other version they refuse to apply.
"""

from __future__ import annotations

from .backends import list_of_moto_modules, no_default_amis
from .clock import clock
from .cloudformation import (
    change_set_execution,
    change_sets,
    imports,
    previous_values,
    resource_import,
    service_stabilization,
    stack_deletion,
    stack_operations,
    templates,
)
from .cloudwatch import alarm_history, metrics_insights
from .ecr import images
from .ecs import scheduler, service_deployments
from .ecs.container_insights import ContainerInsights
from .ecs.deployment_alarms import DeploymentAlarms
from .ecs.service_deployments import ServiceDeployments
from .errors import LocalAWSError
from .iam import roles
from .kms import keys
from .patching import Model, Patch

MOTO_VERSION = "5.2.5"

CFN_API = "https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/"
CFN_GUIDE = "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/"
CFN_RESOURCES = "https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/"
ECS_API = "https://docs.aws.amazon.com/AmazonECS/latest/APIReference/"
ECS_GUIDE = "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/"

CFN_MODELS = "moto.cloudformation.models:"
CFN_RESPONSES = "moto.cloudformation.responses:CloudFormationResponse."
ECS_MODELS = "moto.ecs.models:"
ECS_RESPONSES = "moto.ecs.responses:EC2ContainerServiceResponse."
IAM_ROLE = "moto.iam.models:Role."

PATCHES: tuple[Patch | Model, ...] = (
    # --- moto itself (speed only: no answer changes) ---
    Patch("moto.backends:list_of_moto_modules", list_of_moto_modules, "none: moto's services listed once", "", True),
    # --- moto itself (speed, leaving out what nothing here reads) ---
    Patch(
        "moto.settings:ec2_load_default_amis",
        no_default_amis,
        "none: EC2's public AMIs left out (DescribeImages lists none); a Fargate service runs on no EC2 instance",
        "",
    ),
    # --- CloudFormation: templates and parameters ---
    Patch(
        CFN_MODELS + "Stack.parse_template",
        templates.parse_template,
        "none: a JSON template read as JSON (the same dict, 300 times faster than as YAML)",
        "",
        wraps=True,
    ),
    Patch(
        CFN_MODELS + "ChangeSet._parse_template",
        templates.parse_change_set_template,
        "a change set's template read as a stack's",
        CFN_GUIDE + "template-formats.html",
    ),
    Patch(
        "moto.cloudformation.parsing:ResourceMap.load_parameters",
        templates.load_parameters,
        "a Number parameter left at its default is a number",
        CFN_GUIDE + "parameters-section-structure.html",
        wraps=True,
    ),
    Patch(
        CFN_MODELS + "Stack.stack_parameters",
        previous_values.stack_parameters,
        "UsePreviousValue takes the value the stack was given, not what it resolved to",
        CFN_API + "API_Parameter.html",
    ),
    Patch(
        CFN_MODELS + "Stack.parameter_list",
        previous_values.parameter_list,
        "an SSM-typed parameter shows its name as ParameterValue and its value as ResolvedValue; a list its values",
        CFN_API + "API_Parameter.html",
        wraps=True,
    ),
    # --- CloudFormation: change sets ---
    Patch(
        CFN_MODELS + "ChangeSet.diff",
        change_sets.diff,
        "a change set lists each resource whose resolved properties change, with Replacement and Details",
        CFN_API + "API_ResourceChange.html",
    ),
    Patch(
        CFN_MODELS + "CloudFormationBackend.create_change_set",
        change_set_execution.create_change_set,
        "a CREATE change set reuses a stack under review; the new stack sees the region's exports",
        CFN_API + "API_CreateChangeSet.html",
        wraps=True,
    ),
    Patch(
        CFN_MODELS + "CloudFormationBackend.execute_change_set",
        change_set_execution.execute_change_set,
        "execution emits resource events, resolves outputs and exports, rolls back with the failed resource",
        CFN_API + "API_ExecuteChangeSet.html",
    ),
    Patch(
        CFN_RESPONSES + "create_change_set",
        resource_import.create_change_set,
        "an IMPORT change set adopts existing resources instead of creating them",
        CFN_GUIDE + "resource-import.html",
        wraps=True,
    ),
    # --- CloudFormation: resources moto models differently ---
    Patch(
        "moto.kms.models:Key.create_from_cloudformation_json",
        keys.create_from_cloudformation_json,
        "AWS::KMS::Key takes Tags as Key/Value pairs",
        CFN_RESOURCES + "aws-resource-kms-key.html",
        wraps=True,
    ),
    Patch(
        "moto.ecs.models:TaskDefinition.update_from_cloudformation_json",
        change_sets.replace_task_definition,
        "every AWS::ECS::TaskDefinition property requires replacement: an update registers a new revision",
        CFN_RESOURCES + "aws-resource-ecs-taskdefinition.html",
    ),
    Patch(
        "moto.ecs.models:TaskDefinition.delete",
        change_sets.deregister_task_definition,
        "deleting an AWS::ECS::TaskDefinition deregisters the revision",
        CFN_RESOURCES + "aws-resource-ecs-taskdefinition.html",
    ),
    Model(
        "AWS::SNS::Subscription",
        "local_aws.sns.subscriptions:SnsSubscription",
        "a stack's SNS subscriptions subscribe, and unsubscribe with it",
        CFN_RESOURCES + "aws-resource-sns-subscription.html",
    ),
    Model(
        "AWS::CloudWatch::Alarm",
        "local_aws.cloudwatch.alarms:MetricAlarm",
        "a stack's CloudWatch alarms exist, keep their state across updates, and go with it",
        CFN_RESOURCES + "aws-resource-cloudwatch-alarm.html",
    ),
    # --- IAM: the CI role stack's provider and roles (local_aws.iam) ---
    Model(
        "AWS::IAM::OIDCProvider",
        "local_aws.iam.oidc_providers:OidcProvider",
        "a stack's OIDC provider exists (Ref and Arn its ARN), and goes with it",
        CFN_RESOURCES + "aws-resource-iam-oidcprovider.html",
    ),
    Patch(
        IAM_ROLE + "create_from_cloudformation_json",
        roles.create_from_cloudformation_json,
        "a role's inline policies are JSON documents, which GetRolePolicy answers",
        "https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetRolePolicy.html",
        wraps=True,
    ),
    Patch(
        IAM_ROLE + "update_from_cloudformation_json",
        roles.update_from_cloudformation_json,
        "an AWS::IAM::Role update changes its trust policy and inline policies in place",
        CFN_RESOURCES + "aws-resource-iam-role.html",
    ),
    # --- ECS: deployments with tasks that run or fail (local_aws.ecs.scheduler) ---
    Patch(
        ECS_MODELS + "EC2ContainerServiceBackend.create_service",
        scheduler.create_service,
        "a new service starts a deployment whose tasks start or stop with ECS's reasons; the circuit breaker",
        ECS_GUIDE + "deployment-circuit-breaker.html",
        wraps=True,
    ),
    Patch(
        ECS_RESPONSES + "create_service",
        scheduler.create_service_request,
        "CreateService keeps its deploymentConfiguration (ECS's defaults for the rest); a clientToken is 36 characters at most",
        ECS_API + "API_CreateService.html",
        wraps=True,
    ),
    Patch(
        ECS_MODELS + "EC2ContainerServiceBackend.update_service",
        scheduler.update_service,
        "a new task definition or a forced deployment starts a rolling deployment; the old one runs until it ends",
        ECS_GUIDE + "deployment-type-ecs.html",
        wraps=True,
    ),
    Patch(
        ECS_MODELS + "EC2ContainerServiceBackend.delete_service",
        scheduler.delete_service,
        "a deleted service's tasks stop",
        ECS_API + "API_DeleteService.html",
        wraps=True,
    ),
    Patch(
        ECS_MODELS + "EC2ContainerServiceBackend.list_tasks",
        scheduler.list_tasks,
        "ListTasks filters by serviceName and lists RUNNING tasks unless desiredStatus says otherwise",
        ECS_API + "API_ListTasks.html",
        wraps=True,
    ),
    Patch(
        ECS_MODELS + "Service.create_from_cloudformation_json",
        scheduler.create_service_from_cloudformation,
        "AWS::ECS::Service keeps its DeploymentConfiguration (circuit breaker, alarms) and launch type",
        CFN_RESOURCES + "aws-resource-ecs-service.html",
        wraps=True,
    ),
    Patch(
        ECS_MODELS + "Service.update_from_cloudformation_json",
        scheduler.update_service_from_cloudformation,
        "an AWS::ECS::Service update keeps its DeploymentConfiguration",
        CFN_RESOURCES + "aws-resource-ecs-service.html",
        wraps=True,
    ),
    Patch(
        ECS_MODELS + "Service.delete",
        scheduler.delete_service_resource,
        "CloudFormation deletes the service with the stack",
        CFN_RESOURCES + "aws-resource-ecs-service.html",
    ),
    Patch(
        ECS_RESPONSES + "list_service_deployments",
        service_deployments.list_service_deployments,
        "ListServiceDeployments: the deployment history, paged, filtered by status and createdAt",
        ECS_API + "API_ListServiceDeployments.html",
    ),
    Patch(
        ECS_RESPONSES + "describe_service_deployments",
        service_deployments.describe_service_deployments,
        "DescribeServiceDeployments: a deployment's status, circuit breaker, alarms and rollback",
        ECS_API + "API_DescribeServiceDeployments.html",
    ),
    Patch(
        ECS_RESPONSES + "describe_service_revisions",
        service_deployments.describe_service_revisions,
        "DescribeServiceRevisions: a revision's task definition and images",
        ECS_API + "API_DescribeServiceRevisions.html",
    ),
    # --- ECR ---
    Patch(
        "moto.ecr.models:ECRBackend.put_image",
        images.put_image,
        "PutImage on a missing repository is RepositoryNotFoundException",
        "https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_PutImage.html",
        wraps=True,
    ),
    # --- CloudWatch ---
    Patch(
        "moto.cloudwatch.models:Alarm.__init__",
        alarm_history.init,
        "an alarm keeps the changes of its state, from its creation",
        "https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_MetricAlarm.html",
        wraps=True,
    ),
    Patch(
        "moto.cloudwatch.models:Alarm.update_state",
        alarm_history.update_state,
        "a change of state value is a StateUpdate history item and moves StateTransitionedTimestamp",
        "https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_AlarmHistoryItem.html",
        wraps=True,
    ),
    Patch(
        "moto.cloudwatch.responses:CloudWatchResponse.describe_alarm_history",
        alarm_history.describe_alarm_history,
        "DescribeAlarmHistory",
        "https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_DescribeAlarmHistory.html",
    ),
    Patch(
        "moto.cloudwatch.models:CloudWatchBackend.get_metric_data",
        metrics_insights.get_metric_data,
        "GetMetricData evaluates a Metrics Insights query over its metric and schema, and metric math (IF, FILL)",
        "https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/using-metric-math.html",
        wraps=True,
    ),
    # --- CloudFormation: stack deletion ---
    Patch(
        "moto.cloudformation.parsing:ResourceMap._delete_resource",
        stack_deletion.delete_resource,
        "each resource is deleted by its service (route tables, gateways, addresses, clusters, ...)",
        CFN_API + "API_DeleteStack.html",
        wraps=True,
    ),
    Patch(
        "moto.cloudformation.parsing:ResourceMap.delete",
        stack_deletion.delete_all,
        "a failed creation's rollback deletes in reverse dependency order",
        CFN_GUIDE + "stack-failure-options.html",
    ),
    # Replaced here, wrapped by imports.delete_stack_unless_imported, then by
    # stack_operations.delete_stack_unless_protected below.
    Patch(
        CFN_MODELS + "CloudFormationBackend.delete_stack",
        stack_deletion.delete_stack,
        "resources deleted in reverse dependency order, Retain kept, DELETE_FAILED when one cannot be",
        CFN_GUIDE + "aws-attribute-deletionpolicy.html",
    ),
    # --- CloudFormation: exports in use (local_aws.cloudformation.imports) ---
    Patch(
        CFN_MODELS + "CloudFormationBackend.delete_stack",
        imports.delete_stack_unless_imported,
        "a stack whose export another stack imports is not deleted: it stays as it was, with the reason",
        CFN_GUIDE + "using-cfn-stack-exports.html",
        wraps=True,
    ),
    Patch(
        CFN_RESPONSES + "list_imports",
        imports.list_imports,
        "ListImports: the stacks importing an export; an export no stack imports is a ValidationError",
        CFN_API + "API_ListImports.html",
    ),
    # --- CloudFormation: the API contract of stack operations (local_aws.cloudformation.stack_operations) ---
    Patch(
        CFN_RESPONSES + "_get_stack_from_s3_url",
        stack_operations.template_from_this_endpoint,
        "a TemplateURL of a bucket on this endpoint is read path-style, as S3 serves it",
        "https://docs.aws.amazon.com/AmazonS3/latest/userguide/VirtualHosting.html#path-style-access",
        wraps=True,
    ),
    Patch(
        CFN_RESPONSES + "update_termination_protection",
        stack_operations.update_termination_protection,
        "UpdateTerminationProtection",
        CFN_API + "API_UpdateTerminationProtection.html",
    ),
    # Replaced here, made idempotent below.
    Patch(
        CFN_RESPONSES + "cancel_update_stack",
        stack_operations.cancel_update_stack,
        "CancelUpdateStack ends an update that waits for its ECS services, as a failure, and rolls back",
        CFN_API + "API_CancelUpdateStack.html",
    ),
    Patch(
        CFN_MODELS + "CloudFormationBackend.delete_stack",
        stack_operations.delete_stack_unless_protected,
        "termination protection refuses DeleteStack; deleting a stack deletes its change sets",
        CFN_GUIDE + "using-cfn-protect-stacks.html",
        wraps=True,
    ),
    *(
        Patch(
            CFN_RESPONSES + method,
            stack_operations.by_change_set_arn,
            "a change set name is looked up on the stack given; a missing one is ChangeSetNotFound",
            CFN_API + "API_DescribeChangeSet.html",
            wraps=True,
        )
        for method in ("describe_change_set", "delete_change_set", "execute_change_set")
    ),
    # Last, wrapping the create_change_set, execute_change_set and cancel_update_stack above: a retried
    # request is answered as the first one before anything else looks at it.
    *(
        Patch(
            CFN_RESPONSES + method,
            stack_operations.idempotent,
            "a request retried with the same client token is answered as the first and acts once",
            CFN_API + "API_ExecuteChangeSet.html",
            wraps=True,
        )
        for method in stack_operations.IDEMPOTENT_OPERATIONS
    ),
)

# What watches every ECS deployment besides the circuit breaker, in order: the history records each
# deployment's alarm judgement, so it comes after the alarms that make it; Container Insights reports the
# task counts (moto reports none; the task-count alarms read them).
DEPLOYMENT_WATCHERS = (DeploymentAlarms(), ServiceDeployments(), ContainerInsights())

# What moves with time (local_aws.clock), in order: ECS's schedulers, then CloudFormation, which waits for
# the outcome of their deployments (its handler of AWS::ECS::Service waits for the service to stabilise:
# https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-ecs-service.html).
TIME_DRIVEN = (scheduler.catch_up, service_stabilization.catch_up)

_applied = False


def apply_patches() -> None:
    """Apply PATCHES in order, register the deployment watchers and what moves with time, once per process."""
    global _applied
    import moto

    if moto.__version__ != MOTO_VERSION:
        raise LocalAWSError(
            f"local_aws patches moto {MOTO_VERSION} internals but moto {moto.__version__} "
            f"is installed; run: pip install 'moto[server]=={MOTO_VERSION}'"
        )
    if _applied:
        return
    for patch in PATCHES:
        patch.apply()
    for watcher in DEPLOYMENT_WATCHERS:
        scheduler.watch(watcher)
    for catch_up in TIME_DRIVEN:
        clock.follow(catch_up)
    _applied = True
