"""Names and small building blocks shared by both stacks."""

from awacs import kms
from awacs.aws import Allow, Bool, BoolIfExists, Condition, Deny, PolicyDocument, Principal, Statement
from awacs.sts import AssumeRole
from troposphere import Export, ImportValue, Output, Sub, Tags, Template
from troposphere.iam import Policy, Role
from troposphere.kms import Key

from contract import APPLICATION, REGISTRY_EXPORTS, export_name

# Metadata key under which a resource justifies each IAM statement that needs `Resource: "*"`,
# keyed by the statement's Sid. The custom lint rules check it is there.
WILDCARD_JUSTIFICATIONS = "WildcardResourceJustifications"

# What the account itself may do with its keys, listed rather than "kms:*". kms:CreateGrant is not among
# them: it is allowed on its own, only for grants an AWS service asks for.
KEY_ADMINISTRATION_ACTIONS = (
    "CancelKeyDeletion", "Decrypt", "DescribeKey", "DisableKey", "DisableKeyRotation",
    "EnableKey", "EnableKeyRotation", "Encrypt", "GenerateDataKey", "GetKeyPolicy", "GetKeyRotationStatus",
    "ListGrants", "ListKeyPolicies", "ListResourceTags", "PutKeyPolicy", "ReEncryptFrom", "ReEncryptTo",
    "RetireGrant", "RevokeGrant", "ScheduleKeyDeletion", "TagResource", "UntagResource",
    "UpdateKeyDescription",
)  # fmt: skip


def application_tags(**extra: str) -> Tags:
    """The tag every taggable resource carries, so cost and inventory reports can find the canary."""
    return Tags(Application=APPLICATION, **extra)


def add_exported_output(template: Template, key: str, value, description: str) -> Output:
    """An output exported as `<stack name>-<key>`: two copies of a stack in one account cannot collide."""
    return template.add_output(
        Output(key, Description=description, Value=value, Export=Export(Sub(export_name("${AWS::StackName}", key))))
    )


def import_from_registry(registry_stack_name, key: str) -> ImportValue:
    """Import one of the registry stack's exports, given a Ref to the registry stack's name."""
    if key not in REGISTRY_EXPORTS:
        raise ValueError(f"the registry stack exports no {key!r}")
    return ImportValue(Sub(export_name("${Registry}", key), Registry=registry_stack_name))


def new_template(description: str) -> Template:
    template = Template(Description=description)
    template.set_version("2010-09-09")
    return template


def add_customer_managed_key(
    template: Template, logical_id: str, description: str, service_statements: list[Statement], deletion_policy: str
) -> Key:
    """A rotating key the account administers and the given service statements may use."""
    account_root = Sub("arn:${AWS::Partition}:iam::${AWS::AccountId}:root")
    statements = [
        Statement(
            Sid="AccountAdministersKey",
            Effect=Allow,
            Principal=Principal("AWS", account_root),
            Action=[kms.Action(action) for action in KEY_ADMINISTRATION_ACTIONS],
            Resource=["*"],
        ),
        Statement(
            Sid="AccountGrantsToAwsServices",
            Effect=Allow,
            Principal=Principal("AWS", account_root),
            Action=[kms.CreateGrant],
            Resource=["*"],
            Condition=Condition(Bool("kms:GrantIsForAWSResource", "true")),
        ),
        # The same limit for every principal, as an explicit Deny that no IAM policy can override: AWS
        # Control Tower's CT.KMS.PR.3 accepts a key policy only with exactly this statement.
        Statement(
            Sid="DenyGrantsExceptForAwsServices",
            Effect=Deny,
            Principal=Principal("AWS", "*"),
            Action=[kms.CreateGrant],
            Resource=["*"],
            Condition=Condition(
                BoolIfExists({"kms:GrantIsForAWSResource": "false", "aws:PrincipalIsAWSService": "false"})
            ),
        ),
        *service_statements,
    ]
    in_key_policy = 'In a key policy, "*" means this key and nothing else'
    return template.add_resource(
        Key(
            logical_id,
            Description=description,
            EnableKeyRotation=True,
            PendingWindowInDays=7,
            KeyPolicy=PolicyDocument(Version="2012-10-17", Statement=statements),
            Metadata={WILDCARD_JUSTIFICATIONS: {statement.Sid: in_key_policy for statement in statements}},
            Tags=application_tags(),
            DeletionPolicy=deletion_policy,
            UpdateReplacePolicy=deletion_policy,
        )
    )


def add_service_role(
    template: Template,
    logical_id: str,
    service: str,
    policy_name: str,
    statements: list[Statement],
    wildcard_reasons: dict[str, str],
    metadata: dict | None = None,
    **properties,
) -> Role:
    """A role the AWS service (e.g. ecs-tasks.amazonaws.com) assumes, with one inline policy; every
    `Resource: "*"` statement is explained in wildcard_reasons, by Sid; metadata adds to the role's."""
    return template.add_resource(
        Role(
            logical_id,
            AssumeRolePolicyDocument=PolicyDocument(
                Version="2012-10-17",
                Statement=[Statement(Effect=Allow, Principal=Principal("Service", service), Action=[AssumeRole])],
            ),
            Policies=[
                Policy(
                    PolicyName=policy_name, PolicyDocument=PolicyDocument(Version="2012-10-17", Statement=statements)
                )
            ],
            Metadata={WILDCARD_JUSTIFICATIONS: wildcard_reasons, **(metadata or {})},
            Tags=application_tags(),
            **properties,
        )
    )
