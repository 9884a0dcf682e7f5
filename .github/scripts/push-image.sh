#!/usr/bin/env bash
# push-image.sh REGISTRY_STACK TAG: push the image build-image.sh built as latest, then as TAG, to the repository
# REGISTRY_STACK exports; latest only where the repository lets it move (the registry's LatestTag: mutable), else
# TAG alone. The release tag goes last: once it is in ECR the push is whole, and a re-run (after a failed deploy)
# pushes nothing again; release tags are immutable, a second push would fail.
set -o nounset -o pipefail -o errexit

if [[ $# -ne 2 ]]; then
  echo "usage: $0 REGISTRY_STACK TAG" >&2
  exit 2
fi
registry_stack=$1 tag=$2
. "$(dirname "$0")/ecr.sh"

find_repository "$registry_stack"
if image_in_ecr "$tag"; then
  echo "$repository_uri:$tag is already in ECR ($image_digest): not pushing it again"
  exit 0
fi
if latest_moves; then
  docker push "$repository_uri:$latest_tag"
else
  echo "$repository_name does not let $latest_tag move (its tag mutability is $tag_mutability): pushing $tag only"
fi
docker push "$repository_uri:$tag"
