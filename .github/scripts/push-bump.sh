#!/usr/bin/env bash
# push-bump.sh REPO_DIR: push REPO_DIR's branch (the bump commit-bump.sh made) to the app repository, so that it
# records what is released and the image tag names a commit that exists there. Run after the image is built
# and before it is pushed: a failed build leaves the app repository as it was, and an image in ECR always
# names a recorded commit. Already there (a re-run): nothing to push. A push refused because the branch moved
# stops the release before any image is pushed.
# The token (APP_REPOSITORY_TOKEN) reaches git through a credential helper that reads it from the environment:
# never on a command line, never in the checkout's configuration.
set -o nounset -o pipefail -o errexit

if [[ $# -ne 1 ]]; then
  echo "usage: APP_REPOSITORY_TOKEN=... $0 REPO_DIR" >&2
  exit 2
fi
repo_dir=$1

branch=$(git -C "$repo_dir" symbolic-ref --quiet --short HEAD) || {
  echo "$repo_dir is not on a branch: check out the branch to record the release on" >&2
  exit 2
}
# The first, empty credential.helper drops any helper configured before this one.
git -C "$repo_dir" -c credential.helper= \
  -c 'credential.helper=!f() { if [ "$1" = get ]; then printf "username=x-access-token\npassword=%s\n" "${APP_REPOSITORY_TOKEN:?}"; fi; }; f' \
  push --quiet origin "HEAD:refs/heads/$branch"
echo "recorded $(git -C "$repo_dir" log -1 --format=%s) as $(git -C "$repo_dir" rev-parse HEAD) on $branch"
