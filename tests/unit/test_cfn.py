"""cfn: what CloudFormation means, written once for the deployer, the local AWS, the diagrams and the rules."""

import pytest

from cfn.intrinsics import references, render_sub
from cfn.stack_status import StackStatus


@pytest.mark.parametrize(
    "name, in_progress, final, succeeded, holds_nothing, serves",
    [
        ("REVIEW_IN_PROGRESS", False, False, False, True, False),  # a deploy may start; a watch waits past it
        ("CREATE_IN_PROGRESS", True, False, False, False, False),
        ("UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS", True, False, False, False, False),
        ("CREATE_COMPLETE", False, True, True, False, True),
        ("UPDATE_ROLLBACK_COMPLETE", False, True, False, False, True),
        ("ROLLBACK_COMPLETE", False, True, False, True, False),
        ("UPDATE_ROLLBACK_FAILED", False, True, False, False, False),
    ],
)
def test_each_question_about_a_status_has_one_answer(name, in_progress, final, succeeded, holds_nothing, serves):
    status = StackStatus(name)
    assert (status.in_progress, status.final, status.succeeded, status.holds_nothing, status.serves) == (
        in_progress,
        final,
        succeeded,
        holds_nothing,
        serves,
    )


def test_sub_renders_variables_and_escapes_as_cloudformation_does():
    rendered = render_sub("${AWS::StackName}-${Name}-${!Literal}", lambda name: f"<{name}>")
    assert rendered == "<AWS::StackName>-<Name>-${Literal}"


def test_references_name_resources_and_parameters_not_escapes_pseudo_parameters_or_sub_variables():
    value = {
        "Fn::Join": [
            "",
            [
                {"Ref": "Version"},
                {"Fn::GetAtt": ["Repository", "RepositoryUri"]},
                {"Fn::GetAtt": "Role.Arn"},
                {"Fn::Sub": ["${Topic.TopicName}-${AWS::Region}-${!Escaped}-${Local}", {"Local": {"Ref": "Prefix"}}]},
            ],
        ]
    }
    assert references(value) == {"Version", "Repository", "Role", "Topic", "Prefix"}
