#!/usr/bin/env bash
# retry.sh TRIES COMMAND...: run COMMAND up to TRIES times, waiting RETRY_BASE_SECONDS (default 5), then
# twice as long after each failure (5, 10, 20, ... s: seven tries wait 5 min 15 s in all, time for a fresh
# KafkaJS beta to reach the registry). Exits with the last failure's status.
# RETRY_SLEEP names the command that waits (default sleep), so tests need not wait.
set -o nounset -o pipefail -o errexit

if [[ $# -lt 2 || ! "$1" =~ ^[1-9][0-9]*$ ]]; then
  echo "usage: $0 TRIES COMMAND... (TRIES a positive whole number)" >&2
  exit 2
fi
tries=$1
shift
wait_seconds=${RETRY_BASE_SECONDS:-5}
sleep_command=${RETRY_SLEEP:-sleep}

try=1
until "$@"; do
  status=$?
  if ((try >= tries)); then
    echo "try $try/$tries failed (exit $status), giving up" >&2
    exit "$status"
  fi
  echo "try $try/$tries failed (exit $status), retrying in $wait_seconds s" >&2
  "$sleep_command" "$wait_seconds"
  try=$((try + 1))
  wait_seconds=$((wait_seconds * 2))
done
