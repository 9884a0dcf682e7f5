"""Network: a VPC over two AZs, with private subnets behind one NAT gateway (default) or public subnets.

`private` mode matches what the seed ran in production (tasks without public IPs); `public` mode is
upstream's cheaper choice (no NAT gateway, tasks get a public IP). Public subnets always exist: the NAT
gateway lives there.
"""

from dataclasses import dataclass

from troposphere import AWSObject, Equals, GetAtt, GetAZs, If, Join, Parameter, Ref, Select, Sub, Template
from troposphere.cloudformation import WaitConditionHandle
from troposphere.ec2 import (
    EIP,
    VPC,
    InternetGateway,
    NatGateway,
    Route,
    RouteTable,
    Subnet,
    SubnetRouteTableAssociation,
    VPCEndpoint,
    VPCGatewayAttachment,
)

from .common import application_tags

VPC_CIDR = "10.0.0.0/16"
# /22 per subnet as upstream: room for far more tasks than a canary will ever run.
PUBLIC_SUBNET_CIDRS = ("10.0.0.0/22", "10.0.4.0/22")
PRIVATE_SUBNET_CIDRS = ("10.0.8.0/22", "10.0.12.0/22")

PRIVATE_MODE = "PrivateSubnetMode"


@dataclass(frozen=True)
class Network:
    """What the service needs from the network, each value valid in either subnet mode."""

    vpc: VPC
    task_subnets: If
    assign_public_ip: If
    # Depend on this before starting tasks: it exists once the tasks' route to the internet does.
    egress_ready: AWSObject


def subnet_mode_parameter() -> Parameter:
    return Parameter(
        "SubnetMode",
        Type="String",
        Default="private",
        AllowedValues=["private", "public"],
        Description=(
            "private: tasks in private subnets, egress through one NAT gateway (no public IP). "
            "public: tasks in public subnets with a public IP, no NAT gateway (cheaper)"
        ),
    )


def _subnet_tier(
    template: Template, tier: str, vpc: VPC, cidrs: tuple[str, ...], route_table: RouteTable, **condition
) -> list[Subnet]:
    """One subnet per AZ (in the order of Fn::GetAZs), each routed through route_table."""
    subnets = []
    for az_index, cidr in enumerate(cidrs):
        name = f"{tier}Subnet{az_index + 1}"
        subnet = template.add_resource(
            Subnet(
                name,
                VpcId=Ref(vpc),
                AvailabilityZone=Select(az_index, GetAZs("")),
                CidrBlock=cidr,
                # Never by default: tasks get a public IP only when the service asks for one.
                MapPublicIpOnLaunch=False,
                Tags=application_tags(Name=Join("-", [Ref("AWS::StackName"), tier.lower(), str(az_index + 1)])),
                **condition,
            )
        )
        template.add_resource(
            SubnetRouteTableAssociation(
                f"{name}RouteTableAssociation", SubnetId=Ref(subnet), RouteTableId=Ref(route_table), **condition
            )
        )
        subnets.append(subnet)
    return subnets


def add_network(template: Template, subnet_mode: Parameter) -> Network:
    template.add_condition(PRIVATE_MODE, Equals(Ref(subnet_mode), "private"))
    private_only = {"Condition": PRIVATE_MODE}

    vpc = template.add_resource(
        VPC(
            "Vpc",
            CidrBlock=VPC_CIDR,
            EnableDnsHostnames=True,
            EnableDnsSupport=True,
            Tags=application_tags(Name=Ref("AWS::StackName")),
        )
    )
    gateway = template.add_resource(InternetGateway("InternetGateway", Tags=application_tags()))
    attachment = template.add_resource(
        VPCGatewayAttachment("InternetGatewayAttachment", VpcId=Ref(vpc), InternetGatewayId=Ref(gateway))
    )

    public_routes = template.add_resource(RouteTable("PublicRouteTable", VpcId=Ref(vpc), Tags=application_tags()))
    public_default_route = template.add_resource(
        Route(
            "PublicDefaultRoute",
            RouteTableId=Ref(public_routes),
            DestinationCidrBlock="0.0.0.0/0",
            GatewayId=Ref(gateway),
            DependsOn=attachment,
        )
    )
    public_subnets = _subnet_tier(template, "Public", vpc, PUBLIC_SUBNET_CIDRS, public_routes)

    # Private mode: one NAT gateway (not one per AZ: a canary can live with an AZ outage, not with
    # doubling its largest cost).
    nat_address = template.add_resource(
        EIP("NatAddress", Domain="vpc", Tags=application_tags(), DependsOn=attachment, **private_only)
    )
    nat_gateway = template.add_resource(
        NatGateway(
            "NatGateway",
            AllocationId=GetAtt(nat_address, "AllocationId"),
            SubnetId=Ref(public_subnets[0]),
            Tags=application_tags(),
            **private_only,
        )
    )
    private_routes = template.add_resource(
        RouteTable("PrivateRouteTable", VpcId=Ref(vpc), Tags=application_tags(), **private_only)
    )
    private_default_route = template.add_resource(
        Route(
            "PrivateDefaultRoute",
            RouteTableId=Ref(private_routes),
            DestinationCidrBlock="0.0.0.0/0",
            NatGatewayId=Ref(nat_gateway),
            **private_only,
        )
    )
    private_subnets = _subnet_tier(template, "Private", vpc, PRIVATE_SUBNET_CIDRS, private_routes, **private_only)
    # Free gateway endpoint: ECR image layers come from S3, so pulls skip the NAT's per-GB charge.
    template.add_resource(
        VPCEndpoint(
            "S3GatewayEndpoint",
            VpcId=Ref(vpc),
            ServiceName=Sub("com.amazonaws.${AWS::Region}.s3"),
            VpcEndpointType="Gateway",
            RouteTableIds=[Ref(private_routes)],
            Tags=application_tags(),
            **private_only,
        )
    )

    # A DependsOn cannot name a resource whose condition may be false; a handle whose metadata refers
    # to the conditional route depends on it only when it exists.
    egress_ready = template.add_resource(
        WaitConditionHandle(
            "EgressReady",
            Metadata={
                "PublicRoute": Ref(public_default_route),
                "PrivateRoute": If(PRIVATE_MODE, Ref(private_default_route), Ref("AWS::NoValue")),
            },
        )
    )

    return Network(
        vpc=vpc,
        task_subnets=If(
            PRIVATE_MODE, [Ref(subnet) for subnet in private_subnets], [Ref(subnet) for subnet in public_subnets]
        ),
        assign_public_ip=If(PRIVATE_MODE, "DISABLED", "ENABLED"),
        egress_ready=egress_ready,
    )
