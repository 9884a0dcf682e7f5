"""Two moto 5.2.5 gaps the deployer hits, patched in the server process (tests and bench only).

Kept apart from local_aws.py only because another change owns that file; they belong in its
apply_moto_fixes() and should move there (same version pin, same reason: run the real deploy flow).
- UpdateTerminationProtection is not implemented (HTTP 500): record the flag on the stack.
- AWS::ECS::TaskDefinition updates skip the PascalCase -> camelCase remap that creation does, so an
  updated task definition loses its image and every other container setting.
- AWS::KMS::Key passes CloudFormation's Tags (Key/Value) to a backend that wants TagKey/TagValue, so
  any tagged key fails with KeyError: 'TagKey'.
"""

from moto.cloudformation.responses import CloudFormationResponse
from moto.core.utils import pascal_to_camelcase, remap_nested_keys
from moto.ecs.models import TaskDefinition
from moto.kms.models import Key

_original_task_definition_update = TaskDefinition.update_from_cloudformation_json.__func__
_original_key_create = Key.create_from_cloudformation_json.__func__


def _update_termination_protection(self):
    stack = self.cloudformation_backend.describe_stacks(self._get_param("StackName"))[0]
    stack.enable_termination_protection = self._get_bool_param("EnableTerminationProtection")
    return (
        '<UpdateTerminationProtectionResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/">'
        f"<UpdateTerminationProtectionResult><StackId>{stack.stack_id}</StackId>"
        "</UpdateTerminationProtectionResult></UpdateTerminationProtectionResponse>"
    )


def _update_task_definition(cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name):
    properties = dict(cloudformation_json["Properties"])
    properties["ContainerDefinitions"] = remap_nested_keys(properties.get("ContainerDefinitions", []), pascal_to_camelcase)
    resource = {**cloudformation_json, "Properties": properties}
    return _original_task_definition_update(cls, original_resource, new_resource_name, resource, account_id, region_name)


def _create_kms_key(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
    properties = dict(cloudformation_json["Properties"])
    properties["Tags"] = [{"TagKey": tag["Key"], "TagValue": tag["Value"]} for tag in properties.get("Tags", [])]
    resource = {**cloudformation_json, "Properties": properties}
    return _original_key_create(cls, resource_name, resource, account_id, region_name, **kwargs)


def patch_moto_gaps():
    CloudFormationResponse.update_termination_protection = _update_termination_protection
    TaskDefinition.update_from_cloudformation_json = classmethod(_update_task_definition)
    Key.create_from_cloudformation_json = classmethod(_create_kms_key)
