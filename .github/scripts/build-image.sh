#!/usr/bin/env bash
# build-image.sh REGISTRY_STACK DOCKERFILE APP_DIR TAG: build APP_DIR (the app's folder, the build context) with
# DOCKERFILE as TAG and latest of the repository REGISTRY_STACK exports; pushed later by push-image.sh (latest only
# where the repository lets it move), once the bump is recorded. When TAG is already in ECR (a re-run after a failed
# deploy) nothing is built.
# Warns when the app's own Dockerfile is no longer the one DOCKERFILE was derived from (its `derived-from:` blob).
set -o nounset -o pipefail -o errexit

if [[ $# -ne 4 ]]; then
  echo "usage: $0 REGISTRY_STACK DOCKERFILE APP_DIR TAG" >&2
  exit 2
fi
registry_stack=$1 dockerfile=$2 app_dir=$3 tag=$4
. "$(dirname "$0")/ecr.sh"

find_repository "$registry_stack"
if image_in_ecr "$tag"; then
  echo "$repository_uri:$tag is already in ECR ($image_digest): not building it again"
  exit 0
fi

derived_from=$(sed -n 's/^# derived-from: .* blob \([0-9a-f]\{40\}\).*/\1/p' "$dockerfile")
if [[ -f "$app_dir/Dockerfile" && "$(git hash-object "$app_dir/Dockerfile")" != "$derived_from" ]]; then
  echo "::warning::$app_dir/Dockerfile changed since $dockerfile was derived from it (blob $derived_from):" \
    "compare them and carry the change over"
fi
docker build --file "$dockerfile" --tag "$repository_uri:$tag" --tag "$repository_uri:$latest_tag" "$app_dir"
