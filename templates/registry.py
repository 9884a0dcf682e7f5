"""RegistryStack: the ECR repository that holds the canary's images, exported for the app stack."""

import json
import re

from troposphere import Equals, GetAtt, If, NoValue, Parameter, Ref, Sub, Template
from troposphere.ecr import (
    EncryptionConfiguration,
    ImageScanningConfiguration,
    ImageTagMutabilityExclusionFilter,
    LifecyclePolicy,
    Repository,
)

from contract import (
    CONTROL_TOWER_FINDINGS,
    CONTROL_TOWER_PASSES_WITH,
    CONTROL_TOWER_WHY,
    MUTABLE_IMAGE_TAG,
    REPOSITORY_NAME,
)

from .common import add_exported_output, application_tags, new_template

# The registry's LatestTag parameter: whether the repository keeps a `latest` that moves with every release, as
# the CDK system it replaces did, or none, every tag immutable. The release reads which from the repository.
LATEST_TAG = "LatestTag"
LATEST_TAG_MUTABLE = "mutable"
LATEST_TAG_NONE = "none"
LATEST_TAG_IS_MUTABLE = "LatestTagIsMutable"  # the condition

# Why the repository is not always IMMUTABLE (checkov CKV_AWS_51, AWS Control Tower CT.ECR.PR.3).
ONLY_LATEST_MOVES = (
    f"with {LATEST_TAG} {LATEST_TAG_MUTABLE} (the default), IMMUTABLE_WITH_EXCLUSION keeps every release tag "
    "immutable and lets only `latest` move"
)

# ECR's repository name grammar.
REPOSITORY_NAME_PATTERN = r"^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$"


def lifecycle_policy(keep_tagged: Parameter, untagged_days: Parameter) -> Sub:
    """Keep the newest N tagged images; expire untagged ones after a few days.

    Never expire tagged images by age: the tag the service runs may be old after a quiet period, and a
    task restart must still be able to pull it (upstream's 120-day rule broke exactly that).
    """
    rules = [
        {
            "rulePriority": 1,
            "description": "Expire untagged images (layers left behind when latest moves)",
            "selection": {
                "tagStatus": "untagged",
                "countType": "sinceImagePushed",
                "countUnit": "days",
                "countNumber": "${UntaggedDays}",
            },
            "action": {"type": "expire"},
        },
        {
            "rulePriority": 2,
            "description": "Keep only the newest tagged images",
            "selection": {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": "${KeepTagged}"},
            "action": {"type": "expire"},
        },
    ]
    # The counts are JSON numbers: unquote the placeholders that Fn::Sub fills in.
    text = re.sub(r'"(\$\{\w+\})"', r"\1", json.dumps({"rules": rules}, separators=(",", ":")))
    return Sub(text, KeepTagged=Ref(keep_tagged), UntaggedDays=Ref(untagged_days))


def build_registry_template() -> Template:
    template = new_template("KafkaJS canary app: ECR repository for the app's images (RegistryStack)")

    repository_name = template.add_parameter(
        Parameter(
            "RepositoryName",
            Type="String",
            Default=REPOSITORY_NAME,
            AllowedPattern=REPOSITORY_NAME_PATTERN,
            MinLength=2,
            MaxLength=256,
            Description="Name of the ECR repository (lowercase letters, digits, . _ - and /)",
        )
    )
    keep_tagged = template.add_parameter(
        Parameter(
            "KeepTaggedImages",
            Type="Number",
            Default=50,
            MinValue=5,
            MaxValue=1000,
            Description="How many of the newest tagged images to keep; older ones expire",
        )
    )
    untagged_days = template.add_parameter(
        Parameter(
            "UntaggedExpiryDays",
            Type="Number",
            Default=7,
            MinValue=1,
            MaxValue=365,
            Description="Days after which untagged images expire",
        )
    )

    latest_tag = template.add_parameter(
        Parameter(
            LATEST_TAG,
            Type="String",
            Default=LATEST_TAG_MUTABLE,
            AllowedValues=[LATEST_TAG_MUTABLE, LATEST_TAG_NONE],
            Description=f"{LATEST_TAG_MUTABLE}: the release also moves `{MUTABLE_IMAGE_TAG}` to each new image "
            f"(IMMUTABLE_WITH_EXCLUSION); {LATEST_TAG_NONE}: no `{MUTABLE_IMAGE_TAG}`, every tag immutable "
            "(IMMUTABLE, as AWS Control Tower's CT.ECR.PR.3 requires)",
        )
    )
    template.add_condition(LATEST_TAG_IS_MUTABLE, Equals(Ref(latest_tag), LATEST_TAG_MUTABLE))

    repository = template.add_resource(
        Repository(
            "Repository",
            RepositoryName=Ref(repository_name),
            ImageScanningConfiguration=ImageScanningConfiguration(ScanOnPush=True),
            # Release tags can never be overwritten; at most `latest` moves.
            ImageTagMutability=If(LATEST_TAG_IS_MUTABLE, "IMMUTABLE_WITH_EXCLUSION", "IMMUTABLE"),
            ImageTagMutabilityExclusionFilters=If(
                LATEST_TAG_IS_MUTABLE,
                [
                    ImageTagMutabilityExclusionFilter(
                        ImageTagMutabilityExclusionFilterType="WILDCARD",
                        ImageTagMutabilityExclusionFilterValue=MUTABLE_IMAGE_TAG,
                    )
                ],
                NoValue,
            ),
            # KMS under the AWS-managed aws/ecr key: no key policy to keep, no monthly key charge.
            EncryptionConfiguration=EncryptionConfiguration(EncryptionType="KMS"),
            LifecyclePolicy=LifecyclePolicy(LifecyclePolicyText=lifecycle_policy(keep_tagged, untagged_days)),
            Tags=application_tags(),
            Metadata={
                "checkov": {
                    "skip": [{"id": "CKV_AWS_51", "comment": ONLY_LATEST_MOVES + "; checkov accepts only IMMUTABLE"}]
                },
                CONTROL_TOWER_FINDINGS: {
                    "CT.ECR.PR.1": "LifecyclePolicyText is an Fn::Sub of the KeepTaggedImages and UntaggedExpiryDays "
                    "parameters, which cfn-guard cannot read as text in the template; the deploy-time hook reads the "
                    "policy",
                    "CT.ECR.PR.3": {
                        CONTROL_TOWER_WHY: ONLY_LATEST_MOVES + "; the control accepts only IMMUTABLE",
                        CONTROL_TOWER_PASSES_WITH: {LATEST_TAG: LATEST_TAG_NONE},
                    },
                },
            },
            # Images are data: deleting or replacing the stack must never delete them.
            DeletionPolicy="Retain",
            UpdateReplacePolicy="Retain",
        )
    )

    add_exported_output(template, "RepositoryName", Ref(repository), "Name of the ECR repository")
    add_exported_output(template, "RepositoryArn", GetAtt(repository, "Arn"), "ARN of the ECR repository")
    add_exported_output(template, "RepositoryUri", GetAtt(repository, "RepositoryUri"), "URI to tag and push images to")
    return template
