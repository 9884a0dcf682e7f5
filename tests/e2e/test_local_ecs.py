"""The local AWS's model of change sets and ECS (local_aws.cloudformation.change_sets, local_aws.ecs.scheduler,
service_stabilization), over real HTTP with plain boto3 calls, as a client of AWS would see it.

The local AWS's clock stands still in these tests: each moves it on (`Account.later`) a scheduler step at a
time, so what a test reads depends on the time that passed, not on how often it reads.
"""

import json
from datetime import UTC, datetime, timedelta

import pytest

from acceptance.checks import running_task_count_query
from local_aws import push_image
from local_aws.clock import INSTANT
from local_aws.ecs.scheduler import STEP_SECONDS, failure_threshold

pytestmark = pytest.mark.deploy

REPOSITORY = "canary"


LAG_ALARM = "Canary-consumer-lag"
STALLED_ALARM = "Canary-consumer-stalled"
PERIOD, EVALUATION_PERIODS = 60, 5  # the alarms' window: ECS's bake time here


def alarm(suffix):
    """A deployment alarm of the service, named `<stack>-<suffix>`, over the app's lag metric."""
    return {
        "Type": "AWS::CloudWatch::Alarm",
        "Properties": {
            "AlarmName": {"Fn::Sub": "${AWS::StackName}-" + suffix},
            "Metrics": [
                {
                    "Id": "lag",
                    "Expression": 'SELECT MAX(OffsetLag) FROM SCHEMA("canary", "partition", "topic")',
                    "Period": PERIOD,
                    "ReturnData": True,
                }
            ],
            "EvaluationPeriods": EVALUATION_PERIODS,
            "Threshold": 1000,
            "ComparisonOperator": "GreaterThanThreshold",
            "TreatMissingData": "notBreaching",
            "Dimensions": [{"Name": "ServiceName", "Value": {"Fn::GetAtt": ["Service", "Name"]}}],
        },
    }


def service_template(condition_topic=False):
    """A cluster, a task definition of `canary:${Version}` with one Parameter Store secret, a service with
    the circuit breaker and rollback, and its consumer-lag and consumer-stalled alarms as deployment alarms, as
    the app stack has them."""
    image = {"Fn::Sub": "${AWS::AccountId}.dkr.ecr.${AWS::Region}.amazonaws.com/" + REPOSITORY + ":${Version}"}
    resources = {
        "Cluster": {"Type": "AWS::ECS::Cluster"},
        "TaskDefinition": {
            "Type": "AWS::ECS::TaskDefinition",
            "Properties": {
                "Family": "canary",
                "ContainerDefinitions": [
                    {
                        "Name": "app",
                        "Image": image,
                        "Memory": 512,
                        "Essential": True,
                        "Environment": [{"Name": "APP_VERSION", "Value": {"Ref": "Version"}}],
                        "Secrets": [{"Name": "KAFKA_PASSWORD", "ValueFrom": {"Ref": "SecretName"}}],
                    }
                ],
            },
        },
        "Service": {
            "Type": "AWS::ECS::Service",
            "Properties": {
                "Cluster": {"Ref": "Cluster"},
                "ServiceName": "canary",
                "TaskDefinition": {"Ref": "TaskDefinition"},
                "DesiredCount": {"Ref": "DesiredCount"},
                "DeploymentConfiguration": {
                    "DeploymentCircuitBreaker": {"Enable": True, "Rollback": True},
                    "Alarms": {
                        "AlarmNames": [
                            {"Fn::Sub": "${AWS::StackName}-consumer-lag"},
                            {"Fn::Sub": "${AWS::StackName}-consumer-stalled"},
                        ],
                        "Enable": True,
                        "Rollback": True,
                    },
                },
            },
        },
        "LagAlarm": alarm("consumer-lag"),
        "StalledAlarm": alarm("consumer-stalled"),
    }
    if condition_topic:
        resources["AlertsTopic"] = {"Type": "AWS::SNS::Topic", "Condition": "HasEmail"}
    return {
        "Parameters": {
            "Version": {"Type": "String"},
            "DesiredCount": {"Type": "Number", "Default": "1"},
            "SecretName": {"Type": "String", "Default": "/canary/kafka-password"},
            "AlarmEmail": {"Type": "String", "Default": ""},
        },
        "Conditions": {"HasEmail": {"Fn::Not": [{"Fn::Equals": [{"Ref": "AlarmEmail"}, ""]}]}},
        "Resources": resources,
    }


class Account:
    """The local account with the canary's repository and secret, and a stack driven by change sets."""

    def __init__(self, aws):
        self.clock = aws.clock
        self.cfn = aws.client("cloudformation")
        self.ecs = aws.client("ecs")
        self.cloudwatch = aws.client("cloudwatch")
        self.endpoint_url = aws.endpoint_url
        aws.client("ecr").create_repository(repositoryName=REPOSITORY)
        aws.client("ssm").put_parameter(Name="/canary/kafka-password", Type="SecureString", Value="secret")

    def push(self, version, **defects):
        push_image(self.endpoint_url, version, repository=REPOSITORY, **defects)

    def change_set(self, parameters, change_set_type="UPDATE", template=None):
        """Creates a change set; returns its description."""
        # Names are unique per stack, also among CREATE change sets on a stack under review.
        count = len(self.cfn.list_change_sets(StackName="Canary")["Summaries"])
        created = self.cfn.create_change_set(
            StackName="Canary",
            ChangeSetName=f"{'release' if change_set_type == 'UPDATE' else 'first'}-{count}",
            ChangeSetType=change_set_type,
            TemplateBody=json.dumps(template or service_template()),
            Parameters=[{"ParameterKey": key, "ParameterValue": value} for key, value in parameters.items()],
        )
        return self.cfn.describe_change_set(ChangeSetName=created["Id"])

    def execute(self, change_set):
        self.cfn.execute_change_set(ChangeSetName=change_set["ChangeSetId"])

    def later(self):
        """One scheduler step of time passes (the clock is stopped otherwise)."""
        self.clock.advance(STEP_SECONDS)

    def status(self):
        return self.cfn.describe_stacks(StackName="Canary")["Stacks"][0]["StackStatus"]

    def service(self):
        cluster = self.cfn.describe_stack_resource(StackName="Canary", LogicalResourceId="Cluster")
        cluster_name = cluster["StackResourceDetail"]["PhysicalResourceId"]
        return self.ecs.describe_services(cluster=cluster_name, services=["canary"])["services"][0]

    def image_of(self, task_definition):
        definition = self.ecs.describe_task_definition(taskDefinition=task_definition)["taskDefinition"]
        return definition["containerDefinitions"][0]["image"].rsplit(":", 1)[1]

    def deployed(self, version):
        """Create the stack with `version` and let its service settle."""
        self.push(version)
        self.execute(self.change_set({"Version": version}, "CREATE"))
        while self.status() == "CREATE_IN_PROGRESS":
            self.later()
        assert self.status() == "CREATE_COMPLETE"
        return self


@pytest.fixture
def account(aws):
    with aws.clock.stopped():
        yield Account(aws)


def rows(change_set):
    return {change["ResourceChange"]["LogicalResourceId"]: change["ResourceChange"] for change in change_set["Changes"]}


def test_a_version_release_lists_the_replaced_task_definition_and_the_service_it_changes(account):
    account.deployed("1.0.0")
    account.push("1.0.1")

    changes = rows(account.change_set({"Version": "1.0.1"}))

    assert set(changes) == {"TaskDefinition", "Service"}
    task_definition, service = changes["TaskDefinition"], changes["Service"]
    assert (task_definition["Action"], task_definition["Replacement"]) == ("Modify", "True")
    assert {
        "Target": {"Attribute": "Properties", "Name": "ContainerDefinitions", "RequiresRecreation": "Always"},
        "Evaluation": "Static",
        "ChangeSource": "ParameterReference",
        "CausingEntity": "Version",
    } in task_definition["Details"]
    assert (service["Action"], service["Replacement"], service["Scope"]) == ("Modify", "False", ["Properties"])
    assert service["Details"] == [
        {
            "Target": {"Attribute": "Properties", "Name": "TaskDefinition", "RequiresRecreation": "Never"},
            "Evaluation": "Dynamic",
            "ChangeSource": "ResourceReference",
            "CausingEntity": "TaskDefinition",
        }
    ]
    assert service["PhysicalResourceId"].endswith("/canary")


def test_conditional_resources_are_listed_only_when_their_condition_holds(account):
    template = service_template(condition_topic=True)
    assert "AlertsTopic" not in rows(account.change_set({"Version": "1.0.0"}, "CREATE", template))
    changes = rows(account.change_set({"Version": "1.0.0", "AlarmEmail": "ops@example.com"}, "CREATE", template))
    assert changes["AlertsTopic"]["Action"] == "Add"


def test_a_release_rolls_out_step_by_step_and_completes_the_stack(account):
    account.deployed("1.0.0")
    account.push("1.0.1")
    account.execute(account.change_set({"Version": "1.0.1"}))

    account.later()
    started = account.service()  # one step later: the new task runs
    assert [(d["status"], d["rolloutState"], d["runningCount"]) for d in started["deployments"]] == [
        ("PRIMARY", "IN_PROGRESS", 1),
        ("ACTIVE", "COMPLETED", 1),
    ]
    assert account.image_of(started["deployments"][0]["taskDefinition"]) == "1.0.1"
    # Next, the old task stops and the deployment bakes for its alarms' window (they stay quiet), then at
    # the scheduler's next step it completes and so does the stack.
    bake_steps = int(PERIOD * EVALUATION_PERIODS // STEP_SECONDS) + 1
    statuses = []
    for _ in range(bake_steps + 1):
        account.later()
        statuses.append(account.status())
    assert statuses == ["UPDATE_IN_PROGRESS"] * bake_steps + ["UPDATE_COMPLETE"]

    settled = account.service()
    assert [(d["status"], d["rolloutState"]) for d in settled["deployments"]] == [("PRIMARY", "COMPLETED")]
    assert account.image_of(settled["taskDefinition"]) == "1.0.1"
    assert "has reached a steady state." in settled["events"][0]["message"]
    stack = account.cfn.describe_stacks(StackName="Canary")["Stacks"][0]
    assert stack["LastUpdatedTime"] > stack["CreationTime"]
    old_revision = account.ecs.describe_task_definition(taskDefinition="canary:1")["taskDefinition"]
    assert old_revision["status"] == "INACTIVE", "the replaced revision is deregistered in the cleanup phase"
    assert [(d["status"], d["image"], d["alarms"]["status"]) for d in history(account)] == [
        ("SUCCESSFUL", "1.0.1", "MONITORING_COMPLETE"),
        ("SUCCESSFUL", "1.0.0", "DISABLED"),  # a service's first deployment is not judged by its alarms
    ]


def test_looking_does_not_move_a_rollout_time_does(account):
    account.deployed("1.0.0")
    account.push("1.0.1")
    account.execute(account.change_set({"Version": "1.0.1"}))

    for _ in range(5):  # however often a client looks, the stopped clock shows the same moment
        assert [d["pendingCount"] for d in account.service()["deployments"]] == [1, 0]
        assert account.status() == "UPDATE_IN_PROGRESS"
    account.clock.advance(STEP_SECONDS - 1)
    assert account.service()["deployments"][0]["pendingCount"] == 1
    account.clock.advance(1)  # the task starts one scheduler step after its deployment
    assert account.service()["deployments"][0]["runningCount"] == 1


def test_at_an_instant_pace_a_release_settles_by_the_next_request(account):
    account.deployed("1.0.0")
    account.push("1.0.1")
    account.clock.set_pace(INSTANT)  # the deploy benchmark's pace: it times the tools, not the rollout
    account.execute(account.change_set({"Version": "1.0.1"}))

    assert account.status() == "UPDATE_COMPLETE"
    assert account.image_of(account.service()["taskDefinition"]) == "1.0.1"


@pytest.mark.parametrize(
    "defect, stopped_reason, container",
    [
        (
            {"platform": "linux/arm64"},
            "CannotPullContainerError: pull image manifest has been retried 7 time(s): image Manifest does not "
            "contain descriptor matching platform 'linux/amd64'",
            {"reason": "CannotPullContainerError"},
        ),
        ({"exit_code": 137}, "Essential container in task exited", {"exitCode": 137}),
    ],
)
def test_a_broken_image_trips_the_circuit_breaker_and_the_stack_rolls_back(account, defect, stopped_reason, container):
    account.deployed("1.0.0")
    account.push("1.0.1-broken", **defect)
    account.execute(account.change_set({"Version": "1.0.1-broken"}))

    statuses = [account.status()]
    while statuses[-1].endswith("_IN_PROGRESS"):
        account.later()
        statuses.append(account.status())
    # a task fails to start each step; the breaker trips on the third (its threshold for one task)
    assert statuses.count("UPDATE_IN_PROGRESS") >= failure_threshold(1) - 1 == 2
    assert statuses[-1] == "UPDATE_ROLLBACK_COMPLETE"
    events = account.cfn.describe_stack_events(StackName="Canary")["StackEvents"]
    failed = [e for e in events if e["ResourceStatus"] == "UPDATE_FAILED"]
    assert [e["LogicalResourceId"] for e in failed] == ["Service"]
    assert "ECS Deployment Circuit Breaker was triggered" in failed[0]["ResourceStatusReason"]

    service = account.service()
    assert account.image_of(service["taskDefinition"]) == "1.0.0"
    assert any("deployment failed: tasks failed to start." in e["message"] for e in service["events"])
    stopped = account.ecs.list_tasks(cluster=service["clusterArn"], serviceName="canary", desiredStatus="STOPPED")
    tasks = account.ecs.describe_tasks(cluster=service["clusterArn"], tasks=stopped["taskArns"])["tasks"]
    broken = [task for task in tasks if task["stoppedReason"].startswith(stopped_reason)]
    assert len(broken) == 3
    for key, value in container.items():
        assert str(broken[0]["containers"][0][key]).startswith(str(value))
    running = account.ecs.list_tasks(cluster=service["clusterArn"], serviceName="canary")["taskArns"]
    assert len(running) == 1 and running[0] not in stopped["taskArns"]


def test_a_missing_secret_stops_tasks_with_the_resource_initialization_error(account, aws):
    account.deployed("1.0.0")
    aws.client("ssm").delete_parameter(Name="/canary/kafka-password")
    account.ecs.update_service(cluster=account.service()["clusterArn"], service="canary", forceNewDeployment=True)

    account.later()
    service = account.service()  # one step later: the new task failed to start
    stopped = account.ecs.list_tasks(cluster=service["clusterArn"], serviceName="canary", desiredStatus="STOPPED")
    (task,) = account.ecs.describe_tasks(cluster=service["clusterArn"], tasks=stopped["taskArns"])["tasks"]
    assert task["stoppedReason"].startswith("ResourceInitializationError: unable to pull secrets or registry auth")
    assert task["stopCode"] == "TaskFailedToStart"
    assert service["deployments"][0]["failedTasks"] == 1


def test_cancel_update_stack_while_the_service_rolls_out_rolls_back(account):
    account.deployed("1.0.0")
    with pytest.raises(account.cfn.exceptions.ClientError, match="cannot be called from current stack status"):
        account.cfn.cancel_update_stack(StackName="Canary")
    account.push("1.0.1")
    account.execute(account.change_set({"Version": "1.0.1"}))

    account.cfn.cancel_update_stack(StackName="Canary")

    events = account.cfn.describe_stack_events(StackName="Canary")["StackEvents"]
    assert ("Service", "UPDATE_FAILED", "Resource update cancelled") in [
        (e["LogicalResourceId"], e["ResourceStatus"], e.get("ResourceStatusReason")) for e in events
    ]
    while account.status() == "UPDATE_ROLLBACK_IN_PROGRESS":
        account.later()
    assert account.status() == "UPDATE_ROLLBACK_COMPLETE"
    assert account.image_of(account.service()["taskDefinition"]) == "1.0.0"


# --- Deployment alarms and the deployment history ----------------------------------------------------


def trip_lag_alarm(account, reason="Threshold Crossed: 5 datapoints were greater than the threshold (1000.0)."):
    account.cloudwatch.set_alarm_state(AlarmName=LAG_ALARM, StateValue="ALARM", StateReason=reason)


def listed_deployments(account, **filters):
    """Every page of ListServiceDeployments for the service, in the order listed, and the pages' sizes."""
    cluster = account.service()["clusterArn"]
    briefs, sizes, token = [], [], {}
    while True:
        page = account.ecs.list_service_deployments(cluster=cluster, service="canary", **filters, **token)
        briefs += page["serviceDeployments"]
        sizes.append(len(page["serviceDeployments"]))
        if "nextToken" not in page:
            return briefs, sizes
        token = {"nextToken": page["nextToken"]}


def history(account):
    """The service's deployments, newest first (by createdAt: AWS lists them in no documented order), as
    DescribeServiceDeployments shows them, with the image of each target revision and of the revision
    rolled back to."""
    briefs, _ = listed_deployments(account)
    described = {
        deployment["serviceDeploymentArn"]: deployment
        for deployment in account.ecs.describe_service_deployments(
            serviceDeploymentArns=[brief["serviceDeploymentArn"] for brief in briefs]
        )["serviceDeployments"]
    }
    arns = sorted(described, key=lambda arn: described[arn]["createdAt"], reverse=True)

    def image(revision_arn):
        (revision,) = account.ecs.describe_service_revisions(serviceRevisionArns=[revision_arn])["serviceRevisions"]
        return revision["containerImages"][0]["image"].rsplit(":", 1)[1]

    return [
        {
            "status": described[arn]["status"],
            "image": image(described[arn]["targetServiceRevision"]["arn"]),
            "alarms": described[arn]["alarms"],
            "rolled back to": image(described[arn]["rollback"]["serviceRevisionArn"])
            if "rollback" in described[arn]
            else None,
        }
        for arn in arns
    ]


def test_the_stacks_alarms_exist_and_their_state_is_set_as_on_aws(account):
    account.deployed("1.0.0")
    (alarm,) = account.cloudwatch.describe_alarms(AlarmNames=[LAG_ALARM])["MetricAlarms"]
    assert (alarm["StateValue"], alarm["EvaluationPeriods"], alarm["Metrics"][0]["Period"]) == ("OK", 5, 60)
    trip_lag_alarm(account, "lagging")
    (alarm,) = account.cloudwatch.describe_alarms(AlarmNames=[LAG_ALARM])["MetricAlarms"]
    assert (alarm["StateValue"], alarm["StateReason"]) == ("ALARM", "lagging")
    deployment_alarms = account.service()["deploymentConfiguration"]["alarms"]
    assert deployment_alarms == {"alarmNames": [LAG_ALARM, STALLED_ALARM], "enable": True, "rollback": True}


def test_a_release_whose_deployment_alarm_fires_is_rolled_back_by_ecs_and_the_stack(account):
    account.deployed("1.0.0")
    account.push("1.0.1")
    account.execute(account.change_set({"Version": "1.0.1"}))
    while account.service()["deployments"][0]["runningCount"] == 0:
        account.later()  # ECS watches the alarms from the first running task of the new deployment

    trip_lag_alarm(account)

    while account.status() == "UPDATE_IN_PROGRESS":
        account.later()
    failed = account.cfn.describe_stack_events(StackName="Canary")["StackEvents"]
    assert ("Service", "UPDATE_FAILED") in [(e["LogicalResourceId"], e["ResourceStatus"]) for e in failed]
    while account.status() == "UPDATE_ROLLBACK_IN_PROGRESS":
        account.later()  # the rollback completes although the alarm is still in ALARM: it was when the rollback started
    assert account.status() == "UPDATE_ROLLBACK_COMPLETE"
    service = account.service()
    assert account.image_of(service["taskDefinition"]) == "1.0.0"
    assert any(f"deployment failed: alarm(s) detected: {LAG_ALARM}." in e["message"] for e in service["events"])
    latest, previous = history(account)
    assert (latest["status"], latest["image"], latest["rolled back to"]) == ("ROLLBACK_SUCCESSFUL", "1.0.1", "1.0.0")
    assert latest["alarms"] == {
        "status": "TRIGGERED",
        "alarmNames": [LAG_ALARM, STALLED_ALARM],
        "triggeredAlarmNames": [LAG_ALARM],
    }
    assert previous["status"] == "SUCCESSFUL"


def test_a_release_started_with_an_alarm_in_alarm_is_not_judged_by_any_alarm(account):
    account.deployed("1.0.0")
    trip_lag_alarm(account)  # still in ALARM after the last release, say
    account.push("1.0.1")
    account.execute(account.change_set({"Version": "1.0.1"}))
    while account.service()["deployments"][0]["runningCount"] == 0:
        account.later()

    # ECS ignores the alarm configuration for the whole deployment: neither the alarm that recovers nor
    # another one that fires during it counts.
    account.cloudwatch.set_alarm_state(AlarmName=LAG_ALARM, StateValue="OK", StateReason="recovered")
    account.cloudwatch.set_alarm_state(AlarmName=STALLED_ALARM, StateValue="ALARM", StateReason="stalled")

    while account.status() == "UPDATE_IN_PROGRESS":
        account.later()
    assert account.status() == "UPDATE_COMPLETE"
    assert account.image_of(account.service()["taskDefinition"]) == "1.0.1"
    latest = history(account)[0]
    assert (latest["status"], latest["image"]) == ("SUCCESSFUL", "1.0.1")
    assert latest["alarms"] == {
        "status": "DISABLED",
        "alarmNames": [LAG_ALARM, STALLED_ALARM],
        "triggeredAlarmNames": [],
    }


def test_the_deployment_history_is_listed_oldest_first_in_pages(account):
    account.deployed("1.0.0")
    cluster = account.service()["clusterArn"]
    for _ in range(4):  # forced deployments of the same version complete in the scheduler's steps
        account.ecs.update_service(cluster=cluster, service="canary", forceNewDeployment=True)
        while account.service()["deployments"][0]["rolloutState"] == "IN_PROGRESS":
            account.later()

    briefs, sizes = listed_deployments(account, maxResults=2)
    assert sizes == [2, 2, 1]
    created = [brief["createdAt"] for brief in briefs]
    assert created == sorted(created) and len(set(created)) == 5
    assert [brief["serviceDeploymentArn"] for brief in briefs] == [
        brief["serviceDeploymentArn"] for brief in listed_deployments(account)[0]
    ]

    # boto3 sends createdAt bounds in whole seconds
    second = timedelta(seconds=1)
    assert len(listed_deployments(account, createdAt={"after": created[0] - second})[0]) == 5
    assert listed_deployments(account, createdAt={"after": created[-1] + second})[0] == []
    assert listed_deployments(account, createdAt={"before": created[0] - second})[0] == []
    assert len(listed_deployments(account, status=["SUCCESSFUL"])[0]) == 5
    assert listed_deployments(account, status=["IN_PROGRESS"])[0] == []
    with pytest.raises(account.ecs.exceptions.InvalidParameterException, match="maxResults"):
        account.ecs.list_service_deployments(cluster=cluster, service="canary", maxResults=101)


def crash_looping_service(aws, cluster, insights):
    """A Fargate service made through the ECS API whose public busybox runs `false`, in a cluster with
    Container Insights on or off."""
    ecs = aws.client("ecs")
    ecs.create_cluster(clusterName=cluster, settings=[{"name": "containerInsights", "value": insights}])
    task = ecs.register_task_definition(
        family=cluster,
        networkMode="awsvpc",
        requiresCompatibilities=["FARGATE"],
        cpu="256",
        memory="512",
        containerDefinitions=[
            {"name": "busybox", "image": "public.ecr.aws/docker/library/busybox", "command": ["false"]}
        ],
    )["taskDefinition"]["taskDefinitionArn"]
    vpc = aws.client("ec2").create_vpc(CidrBlock="10.0.0.0/24")["Vpc"]["VpcId"]
    subnet = aws.client("ec2").create_subnet(VpcId=vpc, CidrBlock="10.0.0.0/25")["Subnet"]["SubnetId"]
    group = aws.client("ec2").describe_security_groups(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["SecurityGroups"]
    ecs.create_service(
        cluster=cluster,
        serviceName="crashing",
        taskDefinition=task,
        desiredCount=1,
        launchType="FARGATE",
        networkConfiguration={"awsvpcConfiguration": {"subnets": [subnet], "securityGroups": [group[0]["GroupId"]]}},
    )
    for _ in range(4):  # the task starts, exits, and another is started
        ecs.describe_services(cluster=cluster, services=["crashing"])


def running_task_counts(aws, cluster):
    now = datetime.now(UTC)
    (result,) = aws.client("cloudwatch").get_metric_data(
        MetricDataQueries=[running_task_count_query(cluster, "crashing")],
        StartTime=now - timedelta(minutes=2),
        EndTime=now + timedelta(minutes=1),
    )["MetricDataResults"]
    return result["Values"]


def test_a_command_false_crash_loops_and_container_insights_reports_its_zero_running_tasks(aws):
    crash_looping_service(aws, "insights-on", "enabled")
    crash_looping_service(aws, "insights-off", "disabled")

    ecs = aws.client("ecs")
    arns = ecs.list_tasks(cluster="insights-on", desiredStatus="STOPPED")["taskArns"]
    (stopped, *_) = ecs.describe_tasks(cluster="insights-on", tasks=arns)["tasks"]
    assert stopped["stoppedReason"] == "Essential container in task exited"
    assert stopped["containers"][0]["exitCode"] == 1
    assert 0.0 in running_task_counts(aws, "insights-on")  # assumptions.RUNNING_TASK_COUNT_WITHOUT_TASKS
    assert running_task_counts(aws, "insights-off") == []


def test_create_service_refuses_a_client_token_longer_than_ecs_takes(aws):
    ecs = aws.client("ecs")
    ecs.create_cluster(clusterName="tokens")
    task = ecs.register_task_definition(
        family="tokens", containerDefinitions=[{"name": "busybox", "image": "busybox", "memory": 128}]
    )["taskDefinition"]["taskDefinitionArn"]
    with pytest.raises(ecs.exceptions.InvalidParameterException, match="at most 36 characters"):
        ecs.create_service(cluster="tokens", serviceName="s", taskDefinition=task, desiredCount=0, clientToken="t" * 37)
    ecs.create_service(cluster="tokens", serviceName="s", taskDefinition=task, desiredCount=0, clientToken="t" * 36)
