"""AWS::KMS::Key with tags: moto 5.2.5 hands CloudFormation's Tags (Key/Value) to a backend that wants
TagKey/TagValue, so any tagged key fails with KeyError: 'TagKey'."""

from __future__ import annotations


def create_from_cloudformation_json(
    moto_create, cls, resource_name, cloudformation_json, account_id, region_name, **kwargs
):
    tags = [
        {"TagKey": tag["Key"], "TagValue": tag["Value"]} for tag in cloudformation_json["Properties"].get("Tags", [])
    ]
    # A copy: moto's resource JSON stays as the template has it.
    remapped = {**cloudformation_json, "Properties": {**cloudformation_json["Properties"], "Tags": tags}}
    return moto_create(cls, resource_name, remapped, account_id, region_name, **kwargs)
