"""The live ECS rollout during a deploy, from a scripted sequence of ECS states (botocore's Stubber on the
CloudFormation and ECS clients: shapes as the API reference gives them, no endpoint, no sleep)."""

import io
from datetime import timedelta

import pytest
from botocore.stub import Stubber

from canary_deploy.aws.session import AwsClients
from canary_deploy.render.console import Console
from canary_deploy.watch.events import EventStream
from canary_deploy.watch.rollout_watch import RolloutWatch
from canary_deploy.watch.timing import Timing
from tests.stack_events import STACK, STACK_ID, START, event

CLUSTER, SERVICE = "AppStack-Cluster-X", "AppStack-Service-Y"
SERVICE_ARN = f"arn:aws:ecs:us-east-1:123456789012:service/{CLUSTER}/{SERVICE}"
TASK_DEFINITION = "arn:aws:ecs:us-east-1:123456789012:task-definition/AppStack:{}"
PULL_ERROR = (
    "CannotPullContainerError: pull image manifest has been retried 7 time(s): image Manifest does not contain "
    "descriptor matching platform 'linux/amd64'"
)


@pytest.fixture
def clients(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    return AwsClients(region="us-east-1", endpoint_url="http://127.0.0.1:9")  # the Stubbers answer first


@pytest.fixture
def stubs(clients):
    with Stubber(clients.cloudformation) as cfn, Stubber(clients.ecs) as ecs:
        yield cfn, ecs
        cfn.assert_no_pending_responses()
        ecs.assert_no_pending_responses()


def two_resource_stream(clients, console, **kwargs):
    """The stack's event stream for a two-resource change set."""
    return EventStream(clients.cloudformation, STACK_ID, STACK, console, "python deploy.py status app", 2, **kwargs)


def deployment(identifier, status, revision, rollout, running=0, pending=0, failed=0, second=2):
    return {
        "id": identifier,
        "status": status,
        "taskDefinition": TASK_DEFINITION.format(revision),
        "desiredCount": 1,
        "runningCount": running,
        "pendingCount": pending,
        "failedTasks": failed,
        "rolloutState": rollout,
        "rolloutStateReason": "",
        "createdAt": START + timedelta(seconds=second),
    }


def service(deployments, events=()):
    return {
        "services": [
            {
                "serviceName": SERVICE,
                "serviceArn": SERVICE_ARN,
                "status": "ACTIVE",
                "desiredCount": 1,
                "runningCount": sum(d["runningCount"] for d in deployments),
                "pendingCount": sum(d["pendingCount"] for d in deployments),
                "taskDefinition": deployments[0]["taskDefinition"],
                "deployments": deployments,
                "events": [
                    {"id": f"ecs-{second}", "createdAt": START + timedelta(seconds=second), "message": message}
                    for second, message in events
                ],
            }
        ]
    }


def stopped_task(number, deployment_id):
    return {
        "taskArn": f"arn:aws:ecs:us-east-1:123456789012:task/{CLUSTER}/task{number:028d}",
        "taskDefinitionArn": TASK_DEFINITION.format(8),
        "startedBy": deployment_id,
        "lastStatus": "STOPPED",
        "stoppedReason": PULL_ERROR,
        "stopCode": "TaskFailedToStart",
        "stoppedAt": START + timedelta(seconds=10 + number),
        "containers": [{"name": "app", "lastStatus": "STOPPED", "reason": PULL_ERROR}],
    }


OLD = deployment("ecs-svc/old", "ACTIVE", 7, "COMPLETED", running=1, second=-600)


def test_a_failing_rollout_is_shown_live_and_named_as_the_root_cause(clients, stubs):
    cfn, ecs = stubs
    out = io.StringIO()
    console = Console(out=out, err=out, stdin=io.StringIO(), interactive=True, color=False)
    cancelled = []
    watch = RolloutWatch(clients, console, cancel_after=2, cancel=cancelled.append)
    seconds = iter(range(0, 1000, 30))
    stream = two_resource_stream(clients, console, timing=Timing(clock=lambda: next(seconds)), watcher=watch)
    updating = [
        event(1, "UPDATE_IN_PROGRESS"),
        event(2, "UPDATE_IN_PROGRESS", "Service", "AWS::ECS::Service", physical_id=SERVICE_ARN),
    ]
    cfn.add_response("describe_stack_events", {"StackEvents": updating[::-1]}, {"StackName": STACK_ID})
    ecs.add_response(
        "describe_services",
        service(
            [deployment("ecs-svc/new", "PRIMARY", 8, "IN_PROGRESS", pending=1), OLD],
            events=[
                (3, "(service Y) has started 1 tasks: (task 1)."),
                (-600, "(service Y) has reached a steady state."),
            ],
        ),
        {"cluster": CLUSTER, "services": [SERVICE]},
    )
    assert stream.poll() is None
    assert "  ECS  12:00:03  (service Y) has started 1 tasks: (task 1).\n" in out.getvalue()
    assert "steady state" not in out.getvalue(), "service events from before this deploy are not news"
    assert out.getvalue().endswith(
        f"\r\033[KAppStack: 0/2 resources · {SERVICE}: rollout IN_PROGRESS: new AppStack:8 0/1 running, 1 pending; "
        "old AppStack:7 1 running · 30s"
    )

    cfn.add_response("describe_stack_events", {"StackEvents": updating[::-1]}, {"StackName": STACK_ID})
    cfn.add_response("describe_stacks", {"Stacks": [stack_description("UPDATE_IN_PROGRESS")]}, {"StackName": STACK_ID})
    ecs.add_response(
        "describe_services",
        service([deployment("ecs-svc/new", "PRIMARY", 8, "IN_PROGRESS", pending=1, failed=2), OLD]),
        {"cluster": CLUSTER, "services": [SERVICE]},
    )
    ecs.add_response(
        "list_tasks",
        {"taskArns": [stopped_task(n, "ecs-svc/new")["taskArn"] for n in (1, 2)]},
        {"cluster": CLUSTER, "serviceName": SERVICE, "desiredStatus": "STOPPED"},
    )
    ecs.add_response(
        "describe_tasks",
        {"tasks": [stopped_task(n, "ecs-svc/new") for n in (1, 2)], "failures": []},
        {"cluster": CLUSTER, "tasks": [stopped_task(n, "ecs-svc/new")["taskArn"] for n in (1, 2)]},
    )
    assert stream.poll() is None
    assert f"  ECS  task task0000 (AppStack:8) stopped: {PULL_ERROR}\n" in out.getvalue()
    assert out.getvalue().count("stopped: CannotPullContainerError") == 2
    assert cancelled == [2], "--cancel-after-failed-tasks 2 asks to cancel once two tasks stopped"

    failed = [
        *updating,
        event(20, "UPDATE_FAILED", "Service", "AWS::ECS::Service", physical_id=SERVICE_ARN),
        event(21, "UPDATE_ROLLBACK_COMPLETE"),
    ]
    cfn.add_response("describe_stack_events", {"StackEvents": failed[::-1]}, {"StackName": STACK_ID})
    ecs.add_response(
        "describe_services",
        service([deployment("ecs-svc/new", "PRIMARY", 8, "FAILED", failed=2), OLD]),
        {"cluster": CLUSTER, "services": [SERVICE]},
    )
    assert stream.poll() == "UPDATE_ROLLBACK_COMPLETE"
    assert watch.root_cause_lines() == [
        "2 task(s) of the new deployment stopped:",
        f"  task task0000 (AppStack:8) stopped: {PULL_ERROR}",
        f"  task task0000 (AppStack:8) stopped: {PULL_ERROR}",
    ]


def stack_description(status):
    return {"StackName": STACK, "StackId": STACK_ID, "StackStatus": status, "CreationTime": START}


def test_a_service_done_between_two_polls_costs_no_ecs_call(clients, stubs):
    cfn, _ = stubs  # the ECS Stubber has no answer queued: any ECS call fails the test
    out = io.StringIO()
    console = Console(out=out, err=out, stdin=io.StringIO(), interactive=False, color=False)
    stream = two_resource_stream(clients, console, watcher=RolloutWatch(clients, console))
    events = [
        event(1, "CREATE_IN_PROGRESS"),
        event(2, "CREATE_IN_PROGRESS", "Topic", "AWS::SNS::Topic"),
        event(3, "CREATE_COMPLETE", "Topic", "AWS::SNS::Topic"),
        event(4, "CREATE_IN_PROGRESS", "Service", "AWS::ECS::Service", physical_id=SERVICE_ARN),
        event(5, "CREATE_COMPLETE", "Service", "AWS::ECS::Service", physical_id=SERVICE_ARN),
        event(6, "CREATE_COMPLETE"),
    ]
    cfn.add_response("describe_stack_events", {"StackEvents": events[::-1]}, {"StackName": STACK_ID})
    assert stream.poll() == "CREATE_COMPLETE"
    assert "  ECS  " not in out.getvalue()
