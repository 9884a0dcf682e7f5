#!/usr/bin/env bash
# report-verdict.sh TAG DEPLOY_EXIT_CODE VERDICT_FILE: the canary's verdict on a release is the release run's
# answer. Writes the verdict with the lag figures to $GITHUB_STEP_SUMMARY (when set), posts it to Slack when
# SLACK_WEBHOOK_URL is set (a Slack failure is a warning: the verdict stands), and exits with the deploy's
# code: 0 the canary is healthy, 3 it failed, any other the deployment itself failed (no verdict).
# VERDICT_FILE is what `deploy.py app --verify --verdict-file` wrote; it is absent when no verdict was reached.
set -o nounset -o pipefail -o errexit

if [[ $# -ne 3 || ! "$2" =~ ^[0-9]+$ ]]; then
  echo "usage: $0 TAG DEPLOY_EXIT_CODE VERDICT_FILE" >&2
  exit 2
fi
tag=$1 code=$2 verdict_file=$3

if [[ -s "$verdict_file" ]]; then
  verdict=$(jq --exit-status --raw-output .verdict "$verdict_file")
  figures=$(jq --raw-output '
    "| max lag | tasks running | watched |\n|---|---|---|\n"
    + "| \(.max_lag // "no OffsetLag reported") | \(.running_tasks)/\(.desired_tasks) | \(.watched_seconds) s |"
  ' "$verdict_file")
else
  verdict="❌ KafkaJS canary: the deploy of $tag failed (exit $code) before the canary could be judged"
  figures=""
  if [[ "$code" == 0 ]]; then
    code=1  # a release without a verdict is no answer
  fi
fi

run=""
if [[ -n "${GITHUB_SERVER_URL:-}" && -n "${GITHUB_REPOSITORY:-}" && -n "${GITHUB_RUN_ID:-}" ]]; then
  run="$GITHUB_SERVER_URL/$GITHUB_REPOSITORY/actions/runs/$GITHUB_RUN_ID"
fi

echo "$verdict"
if [[ -n "${GITHUB_STEP_SUMMARY:-}" ]]; then
  printf '## KafkaJS canary: %s\n\n%s\n\n%s\n' "$tag" "$verdict" "$figures" >> "$GITHUB_STEP_SUMMARY"
fi
if [[ -n "${SLACK_WEBHOOK_URL:-}" ]]; then
  message=$verdict
  if [[ -n "$run" ]]; then
    message+=$'\n'"<$run|release run>"
  fi
  if ! "$(dirname "$0")/notify-slack.sh" "$message" > /dev/null; then
    echo "::warning::Slack did not take the verdict (see above); the release's verdict stands"
  fi
fi
exit "$code"
