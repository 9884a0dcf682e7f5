#!/usr/bin/env bash
# push-image.sh REGISTRY_STACK APP_DIR TAG: build APP_DIR (the app's Dockerfile and context) and push it
# as TAG and latest to the repository REGISTRY_STACK exports. When TAG is already in ECR (a re-run after
# a failed deploy) nothing is built or pushed: release tags are immutable, a second push would fail.
set -o nounset -o pipefail -o errexit

if [[ $# -ne 3 ]]; then
  echo "usage: $0 REGISTRY_STACK APP_DIR TAG" >&2
  exit 2
fi
registry_stack=$1
app_dir=$2
tag=$3

registry_output() {
  aws cloudformation describe-stacks --stack-name "$registry_stack" \
    --query "Stacks[0].Outputs[?OutputKey=='$1'].OutputValue" --output text
}
repository_uri=$(registry_output RepositoryUri)
repository_name=$(registry_output RepositoryName)
if [[ -z "$repository_uri" || "$repository_uri" == None || -z "$repository_name" || "$repository_name" == None ]]; then
  echo "stack $registry_stack exports no RepositoryUri/RepositoryName: deploy it with \`python deploy.py registry\`" >&2
  exit 1
fi

if lookup=$(aws ecr describe-images --repository-name "$repository_name" --image-ids "imageTag=$tag" \
  --query 'imageDetails[0].imageDigest' --output text 2>&1); then
  echo "$repository_uri:$tag is already in ECR ($lookup): not building or pushing it again"
  exit 0
elif [[ "$lookup" != *ImageNotFoundException* ]]; then
  echo "$lookup" >&2
  exit 1
fi

docker build --tag "$repository_uri:$tag" --tag "$repository_uri:latest" "$app_dir"
docker push "$repository_uri:$tag"
docker push "$repository_uri:latest"
