"""What the checks run in, made for one run and named after it: a VPC with two public subnets (the tasks pull
a public image over an internet gateway with a public IP: no NAT gateway to pay for), an ECS cluster with
Container Insights, task definitions of a busybox that crash-loops or sleeps, services, and alarms. Every
name starts with the run's own name (`<prefix>-<6 hex digits>`) and everything taggable carries the tag
canary-acceptance-run; the canary's own stacks and resources are never read nor touched. Each thing is
entered in the run's ledger before it is made, with its deletion.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from botocore.exceptions import ClientError

from canary_deploy.aws.aws_types import Client
from canary_deploy.watch.timing import Timing

from .ledger import Ledger, Made

RUN_TAG = "canary-acceptance-run"
IMAGE = "public.ecr.aws/docker/library/busybox:1.36"
# The smallest Fargate task: 0.25 vCPU and 0.5 GB (what the cost estimate prices).
TASK_CPU, TASK_MEMORY = "256", "512"
TASK_VCPU, TASK_GB = 0.25, 0.5
CRASHING_COMMAND = ["false"]  # exits 1 at once: the service crash-loops
SLEEPING_COMMAND = ["sleep", "3600"]
VPC_CIDR, SUBNET_CIDRS = "10.213.0.0/24", ("10.213.0.0/25", "10.213.0.128/25")
# Fargate runs in every availability zone of us-east-1 but this one (Amazon ECS Developer Guide, "AWS Fargate
# Regions").
NO_FARGATE_ZONES = ("use1-az3",)
# How long a deletion waits for what it depends on to go (Fargate releases a task's network interface a few
# minutes after the task stopped; a cluster is deleted once its tasks stopped).
DELETION_WAIT_SECONDS = 600.0
RETRIED_DELETIONS = ("DependencyViolation", "ClusterContainsTasksException", "ClusterContainsServicesException")


def client_token(name: str) -> str:
    """CreateService's clientToken for `name`: the same for every retry, and at most 36 characters."""
    return hashlib.sha256(name.encode()).hexdigest()[:32]


@dataclass(frozen=True)
class Names:
    run: str

    @property
    def cluster(self) -> str:
        return self.run

    @property
    def insights_log_group(self) -> str:
        # Where Container Insights writes the cluster's performance events; it makes the group itself.
        return f"/aws/ecs/containerinsights/{self.run}/performance"

    def of(self, what: str) -> str:
        return f"{self.run}-{what}"

    def namespace(self, what: str) -> str:
        return f"{self.run}/{what}"


class Sandbox:
    def __init__(
        self,
        client: Callable[[str], Client],
        ledger: Ledger,
        names: Names,
        region: str,
        timing: Timing,
        poll_seconds: float,
    ) -> None:
        self.ec2, self.ecs = client("ec2"), client("ecs")
        self.cloudwatch, self.logs = client("cloudwatch"), client("logs")
        self.ledger = ledger
        self.names = names
        self.region = region
        self.timing = timing
        self.poll_seconds = poll_seconds

    # Network --------------------------------------------------------------------------------------------

    def make_network(self) -> dict[str, Any]:
        """A VPC with an internet gateway and two public subnets in zones with Fargate; returns the
        awsvpcConfiguration of a task in it (its subnets, the VPC's default security group, a public IP)."""
        made = Made(
            f"VPC tagged {RUN_TAG}={self.names.run} (subnets, route table, internet gateway)",
            self._delete_network,
            f"aws ec2 describe-vpcs --region {self.region} --filters Name=tag:{RUN_TAG},Values={self.names.run}"
            " (then delete its subnets, route table, internet gateway and the VPC)",
        )
        vpc = self.ledger.make(
            made, "CreateVpc", lambda: self.ec2.create_vpc(CidrBlock=VPC_CIDR, TagSpecifications=self._tags("vpc"))
        )["Vpc"]["VpcId"]
        gateway = self.ledger.make(
            made,
            "CreateInternetGateway",
            lambda: self.ec2.create_internet_gateway(TagSpecifications=self._tags("internet-gateway")),
        )["InternetGateway"]["InternetGatewayId"]
        self.ledger.make(
            made,
            "AttachInternetGateway",
            lambda: self.ec2.attach_internet_gateway(InternetGatewayId=gateway, VpcId=vpc),
        )
        routes = self.ledger.make(
            made,
            "CreateRouteTable",
            lambda: self.ec2.create_route_table(
                VpcId=vpc, ClientToken=self.names.of("routes"), TagSpecifications=self._tags("route-table")
            ),
        )["RouteTable"]["RouteTableId"]
        self.ledger.make(
            made,
            "CreateRoute",
            lambda: self.ec2.create_route(RouteTableId=routes, DestinationCidrBlock="0.0.0.0/0", GatewayId=gateway),
        )
        zones = [
            zone["ZoneName"]
            for zone in self.ec2.describe_availability_zones(
                Filters=[{"Name": "zone-type", "Values": ["availability-zone"]}]
            )["AvailabilityZones"]
            if zone["State"] == "available" and zone.get("ZoneId") not in NO_FARGATE_ZONES
        ]
        subnets = [
            self._make_subnet(made, vpc, routes, zone, cidr)
            for zone, cidr in zip(sorted(zones), SUBNET_CIDRS, strict=False)
        ]
        (default_group,) = self.ec2.describe_security_groups(
            Filters=[{"Name": "vpc-id", "Values": [vpc]}, {"Name": "group-name", "Values": ["default"]}]
        )["SecurityGroups"]
        return {"subnets": subnets, "securityGroups": [default_group["GroupId"]], "assignPublicIp": "ENABLED"}

    def _make_subnet(self, made: Made, vpc: str, routes: str, zone: str, cidr: str) -> str:
        def create() -> dict:
            return self.ec2.create_subnet(
                VpcId=vpc, CidrBlock=cidr, AvailabilityZone=zone, TagSpecifications=self._tags("subnet")
            )

        subnet: str = self.ledger.make(made, "CreateSubnet", create)["Subnet"]["SubnetId"]
        self.ledger.make(
            made, "AssociateRouteTable", lambda: self.ec2.associate_route_table(RouteTableId=routes, SubnetId=subnet)
        )
        return subnet

    def _delete_network(self) -> None:
        tagged = [{"Name": f"tag:{RUN_TAG}", "Values": [self.names.run]}]
        for subnet in self.ec2.describe_subnets(Filters=tagged)["Subnets"]:
            self._until_gone(partial(self.ec2.delete_subnet, SubnetId=subnet["SubnetId"]))
        for table in self.ec2.describe_route_tables(Filters=tagged)["RouteTables"]:
            for association in table.get("Associations", []):
                if not association.get("Main"):
                    self.ec2.disassociate_route_table(AssociationId=association["RouteTableAssociationId"])
            self.ec2.delete_route_table(RouteTableId=table["RouteTableId"])
        for gateway in self.ec2.describe_internet_gateways(Filters=tagged)["InternetGateways"]:
            for attachment in gateway.get("Attachments", []):
                self.ec2.detach_internet_gateway(
                    InternetGatewayId=gateway["InternetGatewayId"], VpcId=attachment["VpcId"]
                )
            self.ec2.delete_internet_gateway(InternetGatewayId=gateway["InternetGatewayId"])
        for vpc in self.ec2.describe_vpcs(Filters=tagged)["Vpcs"]:
            self._until_gone(partial(self.ec2.delete_vpc, VpcId=vpc["VpcId"]))

    # ECS ------------------------------------------------------------------------------------------------

    def make_cluster(self) -> None:
        """The cluster, with Container Insights; its performance log group, which Container Insights makes,
        is entered first so that it is deleted after the cluster."""
        self.ledger.enter(
            Made(
                f"log group {self.names.insights_log_group}",
                lambda: self._gone_if_missing(
                    lambda: self.logs.delete_log_group(logGroupName=self.names.insights_log_group)
                ),
                f"aws logs delete-log-group --region {self.region} --log-group-name {self.names.insights_log_group}",
            )
        )
        self.ledger.make(
            Made(
                f"ECS cluster {self.names.cluster}",
                self._delete_cluster,
                f"aws ecs delete-cluster --region {self.region} --cluster {self.names.cluster}",
            ),
            "CreateCluster",
            lambda: self.ecs.create_cluster(
                clusterName=self.names.cluster,
                settings=[{"name": "containerInsights", "value": "enabled"}],
                tags=self._ecs_tags(),
            ),
        )

    def _delete_cluster(self) -> None:
        self._until_gone(
            lambda: self.ecs.delete_cluster(cluster=self.names.cluster), missing=("ClusterNotFoundException",)
        )

    def register_task(self, family: str, command: list[str]) -> str:
        """A Fargate task definition of one busybox container running `command`; returns its ARN."""
        return self.ledger.make(
            Made(
                f"task definition family {family}",
                lambda: self._delete_task_definitions(family),
                f"aws ecs list-task-definitions --region {self.region} --family-prefix {family} "
                "(then deregister-task-definition and delete-task-definitions each)",
            ),
            "RegisterTaskDefinition",
            lambda: self.ecs.register_task_definition(
                family=family,
                networkMode="awsvpc",
                requiresCompatibilities=["FARGATE"],
                cpu=TASK_CPU,
                memory=TASK_MEMORY,
                containerDefinitions=[
                    {"name": "busybox", "image": IMAGE, "command": command, "essential": True, "memory": 512}
                ],
                tags=self._ecs_tags(),
            ),
        )["taskDefinition"]["taskDefinitionArn"]

    def _delete_task_definitions(self, family: str) -> None:
        for arn in self.ecs.list_task_definitions(familyPrefix=family, status="ACTIVE")["taskDefinitionArns"]:
            self.ecs.deregister_task_definition(taskDefinition=arn)
        inactive = self.ecs.list_task_definitions(familyPrefix=family, status="INACTIVE")["taskDefinitionArns"]
        for start in range(0, len(inactive), 10):  # DeleteTaskDefinitions takes 10 at a time
            self.ecs.delete_task_definitions(taskDefinitions=inactive[start : start + 10])

    def make_service(self, name: str, task_definition: str, network: dict[str, Any], **settings: Any) -> None:
        """A Fargate service of one task in `network` (make_network's); `settings` go to CreateService as
        they are."""
        self.ledger.make(
            Made(
                f"ECS service {name}",
                lambda: self._delete_service(name),
                f"aws ecs delete-service --region {self.region} --cluster {self.names.cluster} --service {name} --force",
            ),
            "CreateService",
            lambda: self.ecs.create_service(
                cluster=self.names.cluster,
                serviceName=name,
                taskDefinition=task_definition,
                desiredCount=1,
                launchType="FARGATE",
                networkConfiguration={"awsvpcConfiguration": network},
                clientToken=client_token(name),
                tags=self._ecs_tags(),
                **settings,
            ),
        )

    def _delete_service(self, name: str) -> None:
        missing = ("ServiceNotFoundException", "ServiceNotActiveException", "ClusterNotFoundException")
        self._gone_if_missing(
            lambda: self.ecs.delete_service(cluster=self.names.cluster, service=name, force=True), missing
        )
        deadline = self.timing.clock() + DELETION_WAIT_SECONDS
        while self.timing.clock() < deadline:  # DRAINING until its tasks stopped, then INACTIVE
            try:
                services = self.ecs.describe_services(cluster=self.names.cluster, services=[name])["services"]
            except ClientError as error:
                if error.response["Error"]["Code"] in missing:
                    return
                raise
            if all(service["status"] == "INACTIVE" for service in services):
                return
            self.timing.sleep(self.poll_seconds)

    # CloudWatch -----------------------------------------------------------------------------------------

    def put_alarm(self, name: str, **properties: Any) -> None:
        self.ledger.make(
            Made(
                f"alarm {name}",
                lambda: self.cloudwatch.delete_alarms(AlarmNames=[name]),
                f"aws cloudwatch delete-alarms --region {self.region} --alarm-names {name}",
            ),
            "PutMetricAlarm",
            lambda: self.cloudwatch.put_metric_alarm(
                AlarmName=name, ActionsEnabled=False, Tags=[{"Key": RUN_TAG, "Value": self.names.run}], **properties
            ),
        )

    # Helpers --------------------------------------------------------------------------------------------

    def _tags(self, resource_type: str) -> list[dict]:
        return [{"ResourceType": resource_type, "Tags": [{"Key": RUN_TAG, "Value": self.names.run}]}]

    def _ecs_tags(self) -> list[dict]:
        return [{"key": RUN_TAG, "value": self.names.run}]

    def _until_gone(self, delete: Callable[[], object], missing: tuple[str, ...] = ()) -> None:
        """Delete, again while what it depends on is still going away (up to DELETION_WAIT_SECONDS)."""
        deadline = self.timing.clock() + DELETION_WAIT_SECONDS
        while True:
            try:
                self._gone_if_missing(delete, missing)
                return
            except ClientError as error:
                if error.response["Error"]["Code"] not in RETRIED_DELETIONS or self.timing.clock() >= deadline:
                    raise
            self.timing.sleep(self.poll_seconds)

    @staticmethod
    def _gone_if_missing(
        delete: Callable[[], object], missing: tuple[str, ...] = ("ResourceNotFoundException",)
    ) -> None:
        try:
            delete()
        except ClientError as error:
            if error.response["Error"]["Code"] not in missing:
                raise
