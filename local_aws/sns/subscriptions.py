"""AWS::SNS::Subscription, which moto 5.2.5's CloudFormation does not model at all: it warns and skips the
resource, so a stack's subscriptions (the Slack notifier's to the alerts topic, the email one) would never
exist. Modelled on moto's SNS backend, as CloudFormation subscribes through SNS: subscribe on create,
unsubscribe on delete, both on replacement.

This module imports moto (its model is a subclass of moto's): it is imported when the patches are applied.
"""

from __future__ import annotations

from moto.core.common_models import CloudFormationModel
from moto.sns.models import sns_backends

from ..patching import FromProperties


class SnsSubscription(FromProperties, CloudFormationModel):
    def __init__(self, account_id: str, region_name: str, properties: dict):
        self.backend = sns_backends[account_id][region_name]
        subscription = self.backend.subscribe(properties["TopicArn"], properties["Endpoint"], properties["Protocol"])
        self.physical_resource_id = subscription.arn  # Ref of a subscription is its ARN

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::SNS::Subscription"

    @staticmethod
    def cloudformation_name_type() -> str:
        return ""  # no name property: CloudFormation names nothing

    @classmethod
    def update_from_cloudformation_json(
        cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name
    ):
        # Every property of a subscription that this project sets requires replacement.
        original_resource.delete(account_id, region_name)
        return cls(account_id, region_name, cloudformation_json["Properties"])

    def delete(self, account_id: str, region_name: str) -> None:
        self.backend.unsubscribe(self.physical_resource_id)
