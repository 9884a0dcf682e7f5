"""moto fix: a stack's resources are deleted as CloudFormation deletes them.

moto deleted them in dictionary order, retrying what failed, and its models delete nothing at all for
several types (route tables, their routes and subnet associations, internet gateways and their
attachments, NAT gateways, Elastic IPs, VPC endpoints, ECS clusters). Deleting the app stack therefore
always failed on its VPC with DependencyViolation, and moto had already dropped the stack: no
DELETE_FAILED, the resources orphaned.

Here, as on AWS: resources are deleted in reverse dependency order (each after everything that refers to
it or depends on it), those with `DeletionPolicy: Retain` are kept (DELETE_SKIPPED), each resource has its
DELETE_IN_PROGRESS / DELETE_COMPLETE events, and a resource that cannot be deleted ends the stack in
DELETE_FAILED, kept with what is left, so that it can be deleted again once the cause is fixed. The
rollback of a failed creation deletes in the same order.
"""

from __future__ import annotations

from collections.abc import Callable

from .change_sets import dependency_order

RETAINED = ("Retain", "RetainExceptOnCreate")
# report(logical_id, resource_type, status, reason): a resource's progress, e.g. as stack events.
Report = Callable[[str, str, str, "str | None"], None]


class ResourceNotDeleted(Exception):
    def __init__(self, logical_id: str, reason: str):
        super().__init__(reason)
        self.logical_id = logical_id


def delete_resource(moto_delete_resource, self, resource, resource_json) -> None:
    """Why: moto's models delete nothing for these types; CloudFormation calls the service's delete."""
    deleter = DELETERS.get(resource_json["Type"])
    if deleter is None:
        moto_delete_resource(self, resource, resource_json)
    else:
        deleter(resource, self._account_id, self._region_name)


def delete_all(self) -> None:
    """Why: the rollback of a failed creation deletes in reverse dependency order too (moto: dict order)."""
    delete_in_order(self, lambda *progress: None)


def delete_in_order(resource_map, report: Report) -> None:
    """Delete what the stack created, dependents first; raises ResourceNotDeleted at the first failure."""
    from .change_set_execution import failure_reason

    templates = resource_map._resource_json_map
    for logical_id in reversed(dependency_order(templates)):
        resource = resource_map._parsed_resources.get(logical_id)
        resource_type = templates[logical_id]["Type"]
        if resource is None or isinstance(resource, str):  # never created: a false Condition, or not modelled
            continue
        if templates[logical_id].get("DeletionPolicy") in RETAINED:
            report(logical_id, resource_type, "DELETE_SKIPPED", None)
            continue
        report(logical_id, resource_type, "DELETE_IN_PROGRESS", None)
        try:
            resource_map._delete_resource(resource, templates[logical_id])
        except Exception as error:  # any failure of any resource: reported, the stack keeps what is left
            reason = failure_reason(error)
            report(logical_id, resource_type, "DELETE_FAILED", reason)
            raise ResourceNotDeleted(logical_id, reason) from error
        resource_map._parsed_resources.pop(logical_id)
        report(logical_id, resource_type, "DELETE_COMPLETE", None)


def delete_stack(self, name_or_stack_id: str) -> None:
    """DeleteStack: DELETE_COMPLETE, or DELETE_FAILED with the stack kept. A stack that is not there (or
    already deleted) is nothing to do, as on AWS."""
    from moto.cloudformation.models import Event

    stack = next((s for stack_id, s in self.stacks.items() if name_or_stack_id in (stack_id, s.name)), None)
    if stack is None:
        return

    def report(logical_id: str, resource_type: str, status: str, reason: str | None) -> None:
        resource = stack.resource_map._parsed_resources.get(logical_id)
        stack.events.append(
            Event(
                stack_id=stack.stack_id,
                stack_name=stack.name,
                logical_resource_id=logical_id,
                physical_resource_id=getattr(resource, "physical_resource_id", None) or "",
                resource_type=resource_type,
                resource_status=status,
                resource_status_reason=reason,
                resource_properties=None,
            )
        )

    stack.status = "DELETE_IN_PROGRESS"
    stack._add_stack_event(stack.status, resource_status_reason="User Initiated")
    try:
        delete_in_order(stack.resource_map, report)
    except ResourceNotDeleted as failure:
        stack.status = "DELETE_FAILED"
        stack._add_stack_event(
            stack.status, resource_status_reason=f"The following resource(s) failed to delete: [{failure.logical_id}]. "
        )
        return
    for export in stack.exports:
        if self.exports.get(export.name) is not None and self.exports[export.name].exporting_stack_id == stack.stack_id:
            del self.exports[export.name]
    del self.stacks[stack.stack_id]
    self.deleted_stacks[stack.stack_id] = stack
    stack.status = "DELETE_COMPLETE"
    stack._add_stack_event(stack.status)


def _ec2(account_id: str, region_name: str):
    from moto.ec2.models import ec2_backends

    return ec2_backends[account_id][region_name]


def _disassociate_subnet(association, account_id: str, region_name: str) -> None:
    # moto's association object keeps no association id: find it on its route table.
    ec2 = _ec2(account_id, region_name)
    associations = ec2.get_route_table(association.route_table_id)._associations
    for association_id, target in list(associations.items()):
        if target == association.subnet_id:
            ec2.disassociate_route_table(association_id)


def _delete_route(route, account_id: str, region_name: str) -> None:
    _ec2(account_id, region_name).delete_route(
        route.route_table.id,
        route.destination_cidr_block,
        route.destination_ipv6_cidr_block,
        route.destination_prefix_list_id,
    )


def _detach_gateway(attachment, account_id: str, region_name: str) -> None:
    ec2 = _ec2(account_id, region_name)
    if attachment.gateway_id.startswith("igw-"):
        ec2.detach_internet_gateway(attachment.gateway_id, attachment.vpc_id)
    else:
        ec2.detach_vpn_gateway(attachment.gateway_id, attachment.vpc_id)


def _release_address(address, account_id: str, region_name: str) -> None:
    if address.allocation_id:
        _ec2(account_id, region_name).release_address(allocation_id=address.allocation_id)
    else:
        _ec2(account_id, region_name).release_address(address=address.public_ip)


def _delete_cluster(cluster, account_id: str, region_name: str) -> None:
    from moto.ecs.models import ecs_backends

    ecs_backends[account_id][region_name].delete_cluster(cluster.name)


# Resource type -> what CloudFormation's handler calls to delete it, where moto's model does nothing.
DELETERS = {
    "AWS::EC2::SubnetRouteTableAssociation": _disassociate_subnet,
    "AWS::EC2::Route": _delete_route,
    "AWS::EC2::RouteTable": lambda table, *where: _ec2(*where).delete_route_table(table.id),
    "AWS::EC2::VPCGatewayAttachment": _detach_gateway,
    "AWS::EC2::InternetGateway": lambda gateway, *where: _ec2(*where).delete_internet_gateway(gateway.id),
    "AWS::EC2::NatGateway": lambda gateway, *where: _ec2(*where).delete_nat_gateway(gateway.id),
    "AWS::EC2::EIP": _release_address,
    "AWS::EC2::VPCEndpoint": lambda endpoint, *where: _ec2(*where).delete_vpc_endpoints([endpoint.id]),
    "AWS::ECS::Cluster": _delete_cluster,
}
