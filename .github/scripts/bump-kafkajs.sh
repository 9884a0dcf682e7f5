#!/usr/bin/env bash
# bump-kafkajs.sh APP_DIR VERSION: set the app's kafkajs dependency to VERSION in package.json and its
# lockfile, with the npm major of the app's image (APP_NPM_MAJOR, default 6: node:12-alpine ships npm 6,
# whose `npm ci` reads lockfile version 1 only; a newer npm would rewrite it to version 3 and break the
# image build). Retried 7 times with back-off (retry.sh): a fresh beta can take minutes to appear.
set -o nounset -o pipefail -o errexit

if [[ $# -ne 2 ]]; then
  echo "usage: $0 APP_DIR VERSION" >&2
  exit 2
fi
app_dir=$1
version=$2
npm_major=${APP_NPM_MAJOR:-6}
here=$(cd "$(dirname "$0")" && pwd)

lockfile_version() {
  sed -n 's/^ *"lockfileVersion": *\([0-9]*\).*/\1/p' "$app_dir/package-lock.json" | head -n 1
}

for file in package.json package-lock.json; do
  if [[ ! -f "$app_dir/$file" ]]; then
    echo "$app_dir/$file not found: APP_PATH must name the app's folder in its repository" >&2
    exit 2
  fi
done
before=$(lockfile_version)

# --package-lock-only: the image installs from the lockfile (npm ci), nothing needs installing here;
# --ignore-scripts: no dependency's install script runs on the runner.
(cd "$app_dir" && "$here/retry.sh" 7 npx --yes "npm@$npm_major" install --save --package-lock-only \
  --ignore-scripts "kafkajs@$version")

after=$(lockfile_version)
if [[ "$after" != "$before" ]]; then
  echo "npm $npm_major rewrote $app_dir/package-lock.json from lockfile version $before to $after," \
    "which the image's npm cannot read: set APP_NPM_MAJOR to the npm major of the app's image" >&2
  exit 1
fi
