"""AWS::IAM::OIDCProvider, which moto 5.2.5's CloudFormation does not model: it warned and skipped it, so no
provider existed and a role trusting the one its stack creates trusted nothing (the Ref resolved to nothing).
Modelled on moto's IAM backend, as CloudFormation calls IAM: CreateOpenIDConnectProvider on create (Ref and Arn
are its ARN), client IDs and thumbprints updated in place (Url is create-only: the change-set model replaces
the provider), DeleteOpenIDConnectProvider on delete.

This module imports moto (its model is a subclass of moto's): it is imported when the patches are applied.
"""

from __future__ import annotations

from moto.core.common_models import CloudFormationModel
from moto.iam.models import get_partition, iam_backends

from ..patching import FromProperties


class OidcProvider(FromProperties, CloudFormationModel):
    def __init__(self, account_id: str, region_name: str, properties: dict):
        self.backend = iam_backends[account_id][get_partition(region_name)]
        provider = self.backend.create_open_id_connect_provider(
            url=properties["Url"],
            thumbprint_list=properties.get("ThumbprintList", []),
            client_id_list=properties.get("ClientIdList", []),
            tags=properties.get("Tags", []),
        )
        self.arn = self.physical_resource_id = provider.arn

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::IAM::OIDCProvider"

    @staticmethod
    def cloudformation_name_type() -> str:
        return ""  # no name property: a provider is known by its URL

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr == "Arn"

    def get_cfn_attribute(self, attribute_name: str) -> str:
        return self.arn

    @classmethod
    def update_from_cloudformation_json(
        cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name
    ):
        properties = cloudformation_json["Properties"]
        provider = original_resource.backend.get_open_id_connect_provider(original_resource.arn)
        provider.client_id_list = properties.get("ClientIdList", [])
        provider.thumbprint_list = properties.get("ThumbprintList", [])
        return original_resource

    def delete(self, account_id: str, region_name: str) -> None:
        self.backend.delete_open_id_connect_provider(self.arn)
