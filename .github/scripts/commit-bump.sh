#!/usr/bin/env bash
# commit-bump.sh REPO_DIR APP_PATH VERSION: commit APP_PATH/package.json and its lockfile as
# "Update KafkaJS to VERSION" in REPO_DIR, so that the image tag can name the commit it is built from. Not
# pushed: push-bump.sh records it in the app repository once the image is built. Nothing changed (a re-run,
# or the version already there): no commit.
set -o nounset -o pipefail -o errexit

if [[ $# -ne 3 ]]; then
  echo "usage: $0 REPO_DIR APP_PATH VERSION" >&2
  exit 2
fi
repo_dir=$1
app_path=$2
version=$3

git -C "$repo_dir" symbolic-ref --quiet --short HEAD > /dev/null || {
  echo "$repo_dir is not on a branch: check out the branch to record the release on" >&2
  exit 2
}
git -C "$repo_dir" add -- "$app_path/package.json" "$app_path/package-lock.json"
if git -C "$repo_dir" diff --cached --quiet; then
  echo "KafkaJS $version is already recorded in $app_path: nothing to commit"
  exit 0
fi
git -C "$repo_dir" -c user.name="github-actions[bot]" \
  -c user.email="41898282+github-actions[bot]@users.noreply.github.com" \
  commit --quiet --message "Update KafkaJS to $version"
echo "committed KafkaJS $version as $(git -C "$repo_dir" rev-parse HEAD)"
