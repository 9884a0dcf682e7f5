"""The Slack notifier Lambda's handler, run in-process: a recorded SNS alarm event reaches a webhook on
127.0.0.1 whose URL it reads from Parameter Store (the local AWS endpoint) at run time."""

import json
import logging

import pytest

from lambda_functions import slack_notifier
from templates.slack_notifier import WEBHOOK_PARAMETER_VARIABLE

WEBHOOK_PARAMETER = "/kafkajs-canary-app/slack-webhook-url"
ALARM_ARN = "arn:aws:cloudwatch:eu-central-1:123456789012:alarm:AppStack-consumer-lag"
REASON = (
    "Threshold Crossed: 3 out of the last 3 datapoints [5210.0 (28/11/26 04:10:00)] were greater than the "
    "threshold (1000.0) (minimum 3 datapoints for OK -> ALARM transition)."
)


def alarm_event(new_state="ALARM", old_state="OK"):
    """An SNS event as Lambda receives it for a CloudWatch alarm on a Metrics Insights query."""
    message = {
        "AlarmName": "AppStack-consumer-lag",
        "AlarmDescription": "KafkaJS canary consumer lag",
        "AWSAccountId": "123456789012",
        "AlarmConfigurationUpdatedTimestamp": "2026-11-27T18:02:11.120+0000",
        "NewStateValue": new_state,
        "NewStateReason": REASON,
        "StateChangeTime": "2026-11-28T04:13:27.123+0000",
        "Region": "Europe (Frankfurt)",
        "AlarmArn": ALARM_ARN,
        "OldStateValue": old_state,
        "OKActions": ["arn:aws:sns:eu-central-1:123456789012:AppStack-AlertsTopic-1ABC"],
        "AlarmActions": ["arn:aws:sns:eu-central-1:123456789012:AppStack-AlertsTopic-1ABC"],
        "InsufficientDataActions": [],
        "Trigger": {
            "Period": 60,
            "EvaluationPeriods": 3,
            "ComparisonOperator": "GreaterThanThreshold",
            "Threshold": 1000.0,
            "TreatMissingData": "notBreaching",
            "Metrics": [{"Id": "lag", "Expression": 'SELECT MAX(OffsetLag) FROM "kafkajs-canary-app/Consumer"'}],
        },
    }
    return {
        "Records": [
            {
                "EventSource": "aws:sns",
                "EventVersion": "1.0",
                "EventSubscriptionArn": "arn:aws:sns:eu-central-1:123456789012:AppStack-AlertsTopic-1ABC:7f2b",
                "Sns": {
                    "Type": "Notification",
                    "MessageId": "95df01b4-ee98-5cb9-9903-4c221d41eb5e",
                    "TopicArn": "arn:aws:sns:eu-central-1:123456789012:AppStack-AlertsTopic-1ABC",
                    "Subject": f'{new_state}: "AppStack-consumer-lag" in Europe (Frankfurt)',
                    "Message": json.dumps(message),
                    "Timestamp": "2026-11-28T04:13:27.180Z",
                    "SignatureVersion": "1",
                    "MessageAttributes": {},
                },
            }
        ]
    }


@pytest.fixture
def webhook(aws, slack_webhook, monkeypatch):
    aws.client("ssm").put_parameter(Name=WEBHOOK_PARAMETER, Type="SecureString", Value=slack_webhook.url)
    # The variable the template gives the function: the handler must read that one.
    monkeypatch.setenv(WEBHOOK_PARAMETER_VARIABLE, WEBHOOK_PARAMETER)
    return slack_webhook


@pytest.mark.deploy
def test_an_alarm_posts_its_name_state_reason_and_console_link(webhook):
    slack_notifier.handler(alarm_event(), context=None)
    link = "https://console.aws.amazon.com/cloudwatch/home?region=eu-central-1#alarmsV2:alarm/AppStack-consumer-lag"
    reason = REASON.replace("->", "-&gt;")
    assert webhook.bodies == [{"text": f":rotating_light: <{link}|AppStack-consumer-lag> is ALARM (was OK)\n{reason}"}]


@pytest.mark.deploy
def test_the_return_to_ok_is_posted_too(webhook):
    slack_notifier.handler(alarm_event(new_state="OK", old_state="ALARM"), context=None)
    (body,) = webhook.bodies
    assert body["text"].startswith(":white_check_mark: <https://") and "is OK (was ALARM)" in body["text"]


@pytest.mark.deploy
def test_a_message_published_by_hand_is_posted_as_text(webhook):
    event = alarm_event()
    event["Records"][0]["Sns"].update(Subject="Test", Message="hello <team>")
    slack_notifier.handler(event, context=None)
    assert webhook.bodies == [{"text": "Test: hello &lt;team&gt;"}]


@pytest.mark.deploy
@pytest.mark.parametrize("status", [403, 500])
def test_an_error_answer_is_logged_and_raised_so_the_event_is_retried(webhook, status, caplog):
    webhook.status = status
    with caplog.at_level(logging.ERROR), pytest.raises(slack_notifier.WebhookRefused, match=f"HTTP {status}"):
        slack_notifier.handler(alarm_event(), context=None)
    assert len(webhook.bodies) == 1
    assert f"Slack answered HTTP {status}: invalid_token" in caplog.text
    assert webhook.url not in caplog.text  # the URL is the secret


def test_console_links_follow_the_partition():
    arn = "arn:aws-cn:cloudwatch:cn-north-1:123456789012:alarm:a b/c"
    assert slack_notifier.console_link(arn) == (
        "https://console.amazonaws.cn/cloudwatch/home?region=cn-north-1#alarmsV2:alarm/a%20b%2Fc"
    )
