"""AWS::IAM::Role as CloudFormation makes it, where moto 5.2.5 differs from what AWS documents:

- its inline `Policies`: moto kept each parsed document, and GetRolePolicy answered Python's repr of it; IAM
  keeps the JSON document and answers it URL-encoded (GetRolePolicy), which clients decode into JSON again.
- an update: moto changed the description only; CloudFormation updates the trust policy
  (`AssumeRolePolicyDocument`) and the inline `Policies` in place (neither replaces the role, per its schema).
"""

from __future__ import annotations

import json


def create_from_cloudformation_json(
    moto_create, cls, resource_name, cloudformation_json, account_id, region_name, **kwargs
):
    role = moto_create(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs)
    put_inline_policies(role, cloudformation_json["Properties"])
    return role


def update_from_cloudformation_json(
    cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name
):
    properties = cloudformation_json["Properties"]
    trust = properties["AssumeRolePolicyDocument"]
    original_resource.assume_role_policy_document = trust if isinstance(trust, str) else json.dumps(trust)
    put_inline_policies(original_resource, properties)
    return original_resource


def put_inline_policies(role, properties: dict) -> None:
    """The role's inline policies are exactly the template's, each kept as its JSON text (as PutRolePolicy)."""
    policies = {policy["PolicyName"]: json.dumps(policy["PolicyDocument"]) for policy in properties.get("Policies", [])}
    for name in set(role.policies) - set(policies):
        role.delete_policy(name)
    for name, document in policies.items():
        role.put_policy(name, document)
