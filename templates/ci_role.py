"""CiRoleStack: the release workflow's AWS identities, built as CDK's bootstrap stack builds its roles.

- GitHub's OIDC provider (`token.actions.githubusercontent.com`, audience `sts.amazonaws.com`), or the one the
  account has already (an account holds one provider per URL): `ExistingOidcProviderArn`.
- `ImagePublishingRole`, for the release's build job (subject `repo:OWNER/NAME:ref:refs/heads/BRANCH`): pushes
  to the one ECR repository (CDK's image-publishing role).
- `DeployRole`, for the jobs of the GitHub environment `canary` (subject `repo:OWNER/NAME:environment:canary`):
  drives CloudFormation on the registry and app stacks, passing `ExecutionRole` with each change set, and reads
  what the preflight and the canary's verdict read (CDK's deploy role).
- `ExecutionRole`, which only CloudFormation assumes: what the handlers of the registry and app stacks'
  resource types need, per their registry schemas (CDK's cfn-exec role, which is AdministratorAccess unless
  told otherwise).

Two GitHub roles, not one: the branch subject is any job of any workflow on that branch, while the
environment's subject passes the environment's protection rules first; only the latter may deploy.
"""

from __future__ import annotations

import re

from awacs import cloudformation, cloudwatch, ecr, ecs, iam, ssm
from awacs.aws import Action, Allow, Condition, PolicyDocument, Principal, Statement, StringEquals
from awacs.sts import AssumeRoleWithWebIdentity
from troposphere import Equals, GetAtt, If, Join, Output, Parameter, Ref, Split, Sub, Template
from troposphere.iam import OIDCProvider, Policy, Role

from cfn.aws_specs import resource_schema, service_authorization
from contract import (
    APP_STACK,
    DEFAULT_PARAMETER_PREFIX,
    GITHUB_OIDC_AUDIENCE,
    GITHUB_OIDC_URL,
    GITHUB_REPOSITORY_PATTERN,
    REGISTRY_STACK,
    RELEASE_BRANCH,
    RELEASE_ENVIRONMENT,
    REPOSITORY_NAME,
)

from .app import build_app_template
from .common import WILDCARD_JUSTIFICATIONS, add_service_role, application_tags, new_template
from .registry import REPOSITORY_NAME_PATTERN, build_registry_template

OIDC_HOST = GITHUB_OIDC_URL.removeprefix("https://")
CREATE_OIDC_PROVIDER = "CreateOidcProvider"
# The handlers CloudFormation runs on a stack's resources (`list` serves only resource discovery).
HANDLERS = ("create", "read", "update", "delete")
# Resource schemas are read as cfn-lint ships them for the region it lints in; their permissions do not vary.
SCHEMA_REGION = "us-east-1"
# IAM's grammar of an action. A schema entry of another form names no permission (s3:REST.PUT.OBJECT is an S3
# operation) and is left out; a well-formed one stays even when cfn-lint's list of IAM actions lacks it (a handler
# needs it; an action IAM does not know grants nothing).
IAM_ACTION = re.compile(r"^[a-z0-9-]+:[A-Za-z0-9]+$")
# Lambda's handler reads a function's code from S3 only when its Code names a bucket; the app stack's function is
# inline (ZipFile), and reading every object of the account is more than a deploy should hold.
UNUSED_HANDLER_PERMISSIONS = {"s3:GetObject", "s3:GetObjectVersion"}

# What the deployer calls (canary_deploy/, tests/test_ci_role.py holds it to that), by the resources they act on.
STACK_ACTIONS = (
    cloudformation.CancelUpdateStack,
    cloudformation.CreateChangeSet,
    cloudformation.DeleteChangeSet,
    cloudformation.DeleteStack,
    cloudformation.DescribeChangeSet,
    cloudformation.DescribeStackEvents,
    cloudformation.DescribeStacks,
    cloudformation.ExecuteChangeSet,
    cloudformation.GetTemplate,
    cloudformation.ListStackResources,
    cloudformation.UpdateTerminationProtection,
)
REPOSITORY_READS = (ecr.DescribeImages, ecr.DescribeRepositories)
# The canary's service, its tasks and deployments, by ARNs under its cluster (named after the app stack).
SERVICE_READS = (
    ecs.DescribeServiceDeployments,
    ecs.DescribeServiceRevisions,
    ecs.DescribeServices,
    ecs.DescribeTasks,
    ecs.ListServiceDeployments,
)
# Reads IAM authorizes on no resource of ours: listings, task definitions, metric data.
UNSCOPED_READS = (
    cloudformation.ListExports,
    cloudformation.ListStacks,
    cloudwatch.GetMetricData,
    ecs.DescribeTaskDefinition,
    ecs.ListTasks,
)
# docker push, as Amazon ECR documents it, and what the build's scripts ask first: whether the tag is there
# already (build-image.sh, push-image.sh), whether the repository lets `latest` move (push-image.sh).
IMAGE_PUSH_ACTIONS = (
    ecr.BatchCheckLayerAvailability,
    ecr.BatchGetImage,
    ecr.CompleteLayerUpload,
    ecr.DescribeImages,
    ecr.DescribeRepositories,
    ecr.InitiateLayerUpload,
    ecr.PutImage,
    ecr.UploadLayerPart,
)


def stacks_handled_by_execution_role() -> list[dict]:
    """The templates whose resources CloudFormation creates, updates and deletes as the execution role."""
    return [build_registry_template().to_dict(), build_app_template().to_dict()]


def handler_permissions(templates: list[dict]) -> list[str]:
    """Every permission the handlers of the templates' resource types need, per their registry schemas."""
    types = {resource["Type"] for template in templates for resource in template["Resources"].values()}
    return sorted(
        {
            permission
            for resource_type in types
            for handler in HANDLERS
            for permission in resource_schema(SCHEMA_REGION, resource_type)
            .get("handlers", {})
            .get(handler, {})
            .get("permissions", [])
            if IAM_ACTION.match(permission)
        }
    )


def services_trusted_by_roles(templates: list[dict]) -> list[str]:
    """The AWS services the templates' roles trust: those the execution role passes the roles to."""
    services: set[str] = set()
    for template in templates:
        for resource in template["Resources"].values():
            if resource["Type"] != "AWS::IAM::Role":
                continue
            for statement in resource["Properties"]["AssumeRolePolicyDocument"]["Statement"]:
                principal = statement.get("Principal", {}).get("Service", [])
                services.update([principal] if isinstance(principal, str) else principal)
    return sorted(services)


def github_trust(provider_arn, subject: Sub) -> PolicyDocument:
    """Only GitHub's tokens for this audience and exactly this subject (no wildcard: StringEquals)."""
    return PolicyDocument(
        Version="2012-10-17",
        Statement=[
            Statement(
                Effect=Allow,
                Principal=Principal("Federated", provider_arn),
                Action=[AssumeRoleWithWebIdentity],
                Condition=Condition(
                    [StringEquals({f"{OIDC_HOST}:aud": GITHUB_OIDC_AUDIENCE, f"{OIDC_HOST}:sub": subject})]
                ),
            )
        ],
    )


def github_role(template: Template, logical_id: str, provider_arn, subject: Sub, statements, reasons) -> Role:
    return template.add_resource(
        Role(
            logical_id,
            AssumeRolePolicyDocument=github_trust(provider_arn, subject),
            Policies=[
                Policy(
                    PolicyName=f"{logical_id}Policy",
                    PolicyDocument=PolicyDocument(Version="2012-10-17", Statement=statements),
                )
            ],
            Metadata={WILDCARD_JUSTIFICATIONS: reasons},
            Tags=application_tags(),
        )
    )


def arns(service: str, resource: str, names, regional: bool = True) -> Join:
    """The ARNs, joined by commas, of `resource` with `{}` standing for each of `names` (a list, or a Ref to a
    CommaDelimitedList): `arns("iam", "role/{}-*", app_stacks, regional=False)`.

    CloudFormation cannot map over a list, but Fn::Join puts the text between two names' ARNs, when that text is
    constant: the partition and the account are `*`. That reaches no other account (a role's policy acts on
    another account's resource only when that account's resource policy allows the role too); the region is `*`
    as the environments and their registries may be in several, and the roles are global."""
    head, tail = resource.split("{}")
    before = f"arn:*:{service}:{'*' if regional else ''}:*:{head}"
    return Join("", [before, Join(f"{tail},{before}", names), tail])


def resources(*joined: Join) -> Split:
    """A statement's Resource: the ARNs of each arns()."""
    return Split(",", Join(",", list(joined)))


def add_parameters(template: Template) -> dict[str, Parameter]:
    parameters = [
        Parameter(
            "GitHubRepository",
            Type="String",
            AllowedPattern=GITHUB_REPOSITORY_PATTERN,
            ConstraintDescription="must be owner/name of a GitHub repository",
            Description="owner/name of the GitHub repository whose release workflow assumes the roles, spelt as "
            "GitHub spells it (the subject claim is compared case-sensitively)",
        ),
        Parameter(
            "ReleaseBranch",
            Type="String",
            Default=RELEASE_BRANCH,
            AllowedPattern=r"^[A-Za-z0-9._/-]{1,200}$",
            Description="Branch the release workflow runs on: its build job may push images",
        ),
        Parameter(
            "DeployEnvironment",
            Type="String",
            Default=RELEASE_ENVIRONMENT,
            AllowedPattern=r"^[A-Za-z0-9._-]{1,255}$",
            Description="GitHub environment of the release's deploy job: its jobs may deploy",
        ),
        Parameter(
            "ExistingOidcProviderArn",
            Type="String",
            Default="",
            AllowedPattern=rf"^(arn:aws[a-z-]*:iam::[0-9]{{12}}:oidc-provider/{re.escape(OIDC_HOST)})?$",
            Description="ARN of the account's GitHub OIDC provider when it has one already; empty to create it",
        ),
        Parameter(
            "RegistryStackName",
            Type="String",
            Default=REGISTRY_STACK,
            AllowedPattern=r"^[A-Za-z][A-Za-z0-9-]{0,127}$",
            Description="The registry stack the deploy role may deploy",
        ),
        Parameter(
            "RepositoryName",
            Type="String",
            Default=REPOSITORY_NAME,
            AllowedPattern=REPOSITORY_NAME_PATTERN,
            Description="The ECR repository the registry stack creates: the only one images are pushed to",
        ),
        Parameter(
            "AppStackNames",
            Type="CommaDelimitedList",
            Default=APP_STACK,
            Description="The app stacks the deploy role may deploy, one per environment (deploy.py ci-role "
            "passes those of environments.toml); their resources are named after them",
        ),
        Parameter(
            "ParameterPrefixes",
            Type="CommaDelimitedList",
            Default=DEFAULT_PARAMETER_PREFIX,
            Description="The app stacks' ParameterPrefix values: the preflight checks the parameters under each",
        ),
    ]
    return {parameter.title: template.add_parameter(parameter) for parameter in parameters}


def build_ci_role_template() -> Template:
    template = new_template(
        "KafkaJS canary app: the release workflow's GitHub OIDC roles and CloudFormation execution role (CiRoleStack)"
    )
    parameters = add_parameters(template)
    template.add_condition(CREATE_OIDC_PROVIDER, Equals(Ref(parameters["ExistingOidcProviderArn"]), ""))
    provider = template.add_resource(
        OIDCProvider(
            "GitHubOidcProvider",
            Condition=CREATE_OIDC_PROVIDER,
            Url=GITHUB_OIDC_URL,
            ClientIdList=[GITHUB_OIDC_AUDIENCE],
            # No ThumbprintList: IAM trusts GitHub's certificate through its own library of root CAs.
            Tags=application_tags(),
        )
    )
    provider_arn = If(CREATE_OIDC_PROVIDER, Ref(provider), Ref(parameters["ExistingOidcProviderArn"]))

    app_stacks = Ref(parameters["AppStackNames"])
    registry_stack = arns("cloudformation", "stack/{}/*", [Ref(parameters["RegistryStackName"])])
    repository = arns("ecr", "repository/{}", [Ref(parameters["RepositoryName"])])
    stacks = resources(registry_stack, arns("cloudformation", "stack/{}/*", app_stacks))

    execution_role = add_execution_role(template, app_stacks, repository)

    publishing = github_role(
        template,
        "ImagePublishingRole",
        provider_arn,
        Sub("repo:${GitHubRepository}:ref:refs/heads/${ReleaseBranch}"),
        [
            Statement(
                Sid="PushToTheRepository", Effect=Allow, Action=list(IMAGE_PUSH_ACTIONS), Resource=resources(repository)
            ),
            Statement(Sid="LogInToEcr", Effect=Allow, Action=[ecr.GetAuthorizationToken], Resource=["*"]),
            Statement(
                Sid="ReadTheRepositoryUri",
                Effect=Allow,
                Action=[cloudformation.DescribeStacks],
                Resource=resources(registry_stack),
            ),
        ],
        {"LogInToEcr": "ecr:GetAuthorizationToken has no resource-level permissions"},
    )

    deploy = github_role(
        template,
        "DeployRole",
        provider_arn,
        Sub("repo:${GitHubRepository}:environment:${DeployEnvironment}"),
        [
            Statement(
                Sid="DriveTheCanaryStacks",
                Effect=Allow,
                Action=[action for action in STACK_ACTIONS if action != cloudformation.CreateChangeSet],
                Resource=stacks,
            ),
            # Every change set runs as the execution role: the deploy role itself may change no resource.
            Statement(
                Sid="ChangeSetsRunAsTheExecutionRole",
                Effect=Allow,
                Action=[cloudformation.CreateChangeSet],
                Resource=stacks,
                Condition=Condition(StringEquals("cloudformation:RoleArn", GetAtt(execution_role, "Arn"))),
            ),
            Statement(
                Sid="PassTheExecutionRoleToCloudFormation",
                Effect=Allow,
                Action=[iam.PassRole],
                Resource=[GetAtt(execution_role, "Arn")],
                Condition=Condition(StringEquals("iam:PassedToService", "cloudformation.amazonaws.com")),
            ),
            Statement(Sid="FindTheImage", Effect=Allow, Action=list(REPOSITORY_READS), Resource=resources(repository)),
            Statement(
                Sid="CheckTheParametersExist",
                Effect=Allow,
                Action=[ssm.GetParameters],
                Resource=resources(arns("ssm", "parameter{}/*", Ref(parameters["ParameterPrefixes"]))),
            ),
            Statement(
                Sid="FollowTheCanarysService",
                Effect=Allow,
                Action=list(SERVICE_READS),
                # CloudFormation names an app stack's cluster `<stack name>-Cluster-<random>`.
                Resource=resources(
                    *(
                        arns("ecs", f"{kind}/{{}}-*", app_stacks)
                        for kind in ("service", "service-deployment", "service-revision", "task")
                    )
                ),
            ),
            Statement(
                Sid="ReadTheCanarysAlarms",
                Effect=Allow,
                Action=[cloudwatch.DescribeAlarmHistory, cloudwatch.DescribeAlarms],
                Resource=resources(arns("cloudwatch", "alarm:{}-*", app_stacks)),
            ),
            Statement(Sid="ReadListingsAndMetrics", Effect=Allow, Action=list(UNSCOPED_READS), Resource=["*"]),
        ],
        {
            "ReadListingsAndMetrics": "read only: ListStacks, ListExports and DescribeTaskDefinition have no "
            "resource-level permissions, ListTasks none for Fargate tasks (only container instances), "
            "GetMetricData none for metrics"
        },
    )

    outputs = {
        "ImagePublishingRoleArn": (GetAtt(publishing, "Arn"), "Role the release's build job assumes to push images"),
        "DeployRoleArn": (GetAtt(deploy, "Arn"), "Role the release's deploy job assumes to deploy and judge"),
        "ExecutionRoleArn": (GetAtt(execution_role, "Arn"), "Role CloudFormation runs the change sets as (--role-arn)"),
        "OidcProviderArn": (provider_arn, "GitHub's OIDC provider the roles trust"),
    }
    for key, (value, description) in outputs.items():
        template.add_output(Output(key, Value=value, Description=description))
    return template


def acts_on(permission: str, resource_types: set[str]) -> bool:
    """Whether IAM authorizes the action on resources of one of these types of its service (the Service
    Authorization Reference)."""
    service, _, action = permission.lower().partition(":")
    actions = service_authorization().get(service, {}).get("Actions", {})
    return bool(resource_types & set(actions.get(action, {}).get("Resources", [])))


def reads(permission: str) -> bool:
    return permission.split(":")[1].startswith(("Describe", "Get", "List"))


def add_execution_role(template: Template, app_stacks: Ref, repository: Join) -> Role:
    """What CloudFormation needs for the registry and app stacks' resources: their types' handler permissions.
    Every change is limited to the stacks' own resources wherever IAM lets a policy name them (by the app stacks'
    names, which CloudFormation puts first in the names it generates and the templates in those they give, and
    the repository's); reads are not (a listing is authorized on no resource of ours); roles pass only to the
    services they trust."""
    stacks = stacks_handled_by_execution_role()
    special = {iam.PassRole.JSONrepr(), iam.CreateServiceLinkedRole.JSONrepr()}
    permissions = [p for p in handler_permissions(stacks) if p not in special | UNUSED_HANDLER_PERMISSIONS]
    app_roles = arns("iam", "role/{}-*", app_stacks, regional=False)
    ecs_kinds = {"cluster": "{}-*", "service": "{}-*", "service-deployment": "{}-*", "task-definition": "{}:*"}
    scopes = {  # Sid: (service, its resource types, the stacks' resources of those types)
        "ManageAppStackRoles": ("iam", {"role"}, [app_roles]),
        "ManageTheRepository": ("ecr", {"repository"}, [repository]),
        "ManageAppStackFunctions": ("lambda", {"function"}, [arns("lambda", "function:{}-*", app_stacks)]),
        "ManageAppStackEcsResources": (
            "ecs",
            set(ecs_kinds),
            [arns("ecs", f"{kind}/{name}", app_stacks) for kind, name in ecs_kinds.items()],
        ),
        "ManageAppStackAlarmsAndDashboard": (
            "cloudwatch",
            {"alarm", "dashboard"},
            [arns("cloudwatch", "alarm:{}-*", app_stacks), arns("cloudwatch", "dashboard/{}-*", app_stacks, False)],
        ),
        "ManageAppStackTopics": ("sns", {"topic"}, [arns("sns", "{}-*", app_stacks)]),
        "ManageAppStackLogGroups": ("logs", {"log-group"}, [arns("logs", "log-group:{}-*", app_stacks)]),
    }
    scoped = {
        sid: [p for p in permissions if p.startswith(f"{service}:") and not reads(p) and acts_on(p, types)]
        for sid, (service, types, _) in scopes.items()
    }
    unscoped = [p for p in permissions if not any(p in actions for actions in scoped.values())]
    statements = [
        Statement(
            Sid=sid, Effect=Allow, Action=[Action(*p.split(":")) for p in scoped[sid]], Resource=resources(*arns_)
        )
        for sid, (_, _, arns_) in scopes.items()
    ]
    statements += [
        Statement(
            Sid="PassAppStackRolesToTheirServices",
            Effect=Allow,
            Action=[iam.PassRole],
            Resource=resources(app_roles),
            Condition=Condition(StringEquals("iam:PassedToService", services_trusted_by_roles(stacks))),
        ),
        # ECS creates its service-linked role with the first cluster of an account; only AWS services assume them.
        Statement(
            Sid="CreateServiceLinkedRoles",
            Effect=Allow,
            Action=[iam.CreateServiceLinkedRole],
            Resource=resources(arns("iam", "role/aws-service-role/{}", ["*"], regional=False)),
        ),
        Statement(
            Sid="ManageStackResources", Effect=Allow, Action=[Action(*p.split(":")) for p in unscoped], Resource=["*"]
        ),
    ]
    return add_service_role(
        template,
        "ExecutionRole",
        "cloudformation.amazonaws.com",
        "ExecutionRolePolicy",
        statements,
        {
            "ManageStackResources": "the handler permissions of the stacks' resource types (their registry "
            "schemas) that IAM authorizes on no resource the stacks can name beforehand: reads, and changes to "
            "resources known by generated ids (VPC, subnets, keys)"
        },
        metadata={
            # W3037 checks actions against cfn-lint's list of IAM actions, which lags the schemas' newest permissions.
            "cfn-lint": {"config": {"ignore_checks": ["W3037"]}},
            "checkov": {
                "skip": [
                    {
                        "id": "CKV_AWS_109",
                        "comment": "CloudFormation's KMS handlers set the key policy and grants of the keys it "
                        "creates, whose ids no policy can name beforehand",
                    },
                    {
                        "id": "CKV_AWS_111",
                        "comment": "CloudFormation's EC2 and KMS handlers change the VPC, subnets, routes and keys "
                        "it creates, whose ids no policy can name beforehand",
                    },
                ]
            },
        },
    )
