"""AWS::SNS::Subscription, which moto 5.2.5's CloudFormation does not model at all: it warns and skips the
resource, so a stack's subscriptions (the Slack notifier's to the alerts topic, the email one) would never
exist. Modelled on moto's SNS backend, as CloudFormation subscribes through SNS: subscribe on create,
unsubscribe on delete, both on replacement.
"""

from __future__ import annotations

from ..errors import LocalAWSError


def install() -> None:
    """Model AWS::SNS::Subscription on moto's SNS backend; moto finds CloudFormation models among the
    subclasses of CloudFormationModel, through caches that must forget the list they hold."""
    from moto.cloudformation import parsing
    from moto.core.common_models import CloudFormationModel
    from moto.sns.models import sns_backends

    class SnsSubscription(CloudFormationModel):
        def __init__(self, account_id: str, region_name: str, properties: dict):
            self.backend = sns_backends[account_id][region_name]
            subscription = self.backend.subscribe(
                properties["TopicArn"], properties["Endpoint"], properties["Protocol"]
            )
            self.physical_resource_id = subscription.arn  # Ref of a subscription is its ARN

        @staticmethod
        def cloudformation_type() -> str:
            return "AWS::SNS::Subscription"

        @staticmethod
        def cloudformation_name_type() -> str:
            return ""  # no name property: CloudFormation names nothing

        @classmethod
        def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
            return cls(account_id, region_name, cloudformation_json["Properties"])

        @classmethod
        def update_from_cloudformation_json(
            cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name
        ):
            # Every property of a subscription that this project sets requires replacement.
            original_resource.delete(account_id, region_name)
            return cls(account_id, region_name, cloudformation_json["Properties"])

        def delete(self, account_id: str, region_name: str) -> None:
            self.backend.unsubscribe(self.physical_resource_id)

    for cached in (parsing.get_model_list, parsing.get_model_map, parsing.get_name_type_map):
        cached.cache_clear()
    if parsing.get_model_map().get(SnsSubscription.cloudformation_type()) is not SnsSubscription:
        raise LocalAWSError("moto does not pick up the AWS::SNS::Subscription model: its model lookup changed")
