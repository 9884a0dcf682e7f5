#!/usr/bin/env bash
# notify-slack.sh MESSAGE: post MESSAGE to the Slack incoming webhook in SLACK_WEBHOOK_URL.
# Fails (non-zero) when Slack does not answer 2xx, with its answer on stderr.
set -o nounset -o pipefail -o errexit

if [[ $# -ne 1 || -z "${SLACK_WEBHOOK_URL:-}" ]]; then
  echo "usage: SLACK_WEBHOOK_URL=... $0 MESSAGE" >&2
  exit 2
fi
# A JSON string: backslashes, quotes and line breaks escaped (release messages hold no other control characters).
text=${1//\\/\\\\}
text=${text//\"/\\\"}
text=${text//$'\n'/\\n}
text=${text//$'\r'/\\r}
text=${text//$'\t'/\\t}
payload="{\"text\": \"$text\"}"
# The URL is read from stdin (curl --config), not argv: it is a secret, and argv is visible to every process.
printf 'url = "%s"\n' "$SLACK_WEBHOOK_URL" | curl --config - --silent --show-error --fail-with-body \
  --max-time 30 --header 'Content-Type: application/json' --data-binary "$payload"
echo
