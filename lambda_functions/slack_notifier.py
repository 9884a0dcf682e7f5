"""Post CloudWatch alarm state changes from the alerts topic to a Slack incoming webhook.

Runs in AWS Lambda, embedded in the app template as inline code: standard library and boto3 only.
The webhook URL is a SecureString in Parameter Store read at run time; only its parameter's name is in the
environment. A webhook that does not answer 2xx fails the invocation: SNS invokes Lambda asynchronously,
so Lambda retries the event.
"""

import json
import logging
import os
import urllib.error
import urllib.parse
import urllib.request

import boto3

# Lambda's root logger writes to the function's log group; only errors are logged.
logger = logging.getLogger()

ICONS = {"ALARM": ":rotating_light:", "OK": ":white_check_mark:", "INSUFFICIENT_DATA": ":grey_question:"}
CONSOLE_HOSTS = {"aws-cn": "console.amazonaws.cn", "aws-us-gov": "console.amazonaws-us-gov.com"}


class WebhookRefused(Exception):
    """Slack answered with an error status."""


def webhook_url():
    name = os.environ["WEBHOOK_URL_PARAMETER"]
    return boto3.client("ssm").get_parameter(Name=name, WithDecryption=True)["Parameter"]["Value"]


def escape(text):
    """Slack reads &, < and > as markup: "OK -> ALARM" in a reason must stay text."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def console_link(alarm_arn):
    _, partition, _, region, _, _, name = alarm_arn.split(":", 6)
    host = CONSOLE_HOSTS.get(partition, "console.aws.amazon.com")
    return f"https://{host}/cloudwatch/home?region={region}#alarmsV2:alarm/{urllib.parse.quote(name, safe='')}"


def slack_message(notification):
    """The alarm's name (linked to its console page), new state, previous state and reason."""
    try:
        alarm = json.loads(notification["Message"])
        state = alarm["NewStateValue"]
        headline = f"<{console_link(alarm['AlarmArn'])}|{escape(alarm['AlarmName'])}> is {state}"
        text = f"{ICONS.get(state, '')} {headline} (was {alarm['OldStateValue']})\n{escape(alarm['NewStateReason'])}"
    except (ValueError, KeyError, TypeError):  # not an alarm: someone published to the topic by hand
        text = escape(f"{notification.get('Subject') or 'Message'}: {notification['Message']}")
    return {"text": text}


def post(url, message):
    request = urllib.request.Request(
        url, data=json.dumps(message).encode(), headers={"Content-Type": "application/json"}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=10):
            pass
    except urllib.error.HTTPError as error:
        answer = error.read().decode(errors="replace")[:300]
        logger.error("Slack answered HTTP %s: %s", error.code, answer)
        raise WebhookRefused(f"Slack answered HTTP {error.code}: {answer}") from None


def handler(event, context):
    url = webhook_url()
    for record in event["Records"]:
        post(url, slack_message(record["Sns"]))
