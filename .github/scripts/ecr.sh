#!/usr/bin/env bash
# ecr.sh, sourced by build-image.sh and push-image.sh: the registry stack's ECR repository, and whether a tag is
# already in it. Release tags are immutable: a tag in ECR is a release that was built and pushed whole (the
# release tag is pushed last), so a re-run neither builds nor pushes it again.

stack_output() {
  aws cloudformation describe-stacks --stack-name "$1" --query "Stacks[0].Outputs[?OutputKey=='$2'].OutputValue" \
    --output text
}

# find_repository REGISTRY_STACK: sets repository_uri and repository_name from the stack's outputs.
find_repository() {
  local stack=$1
  repository_uri=$(stack_output "$stack" RepositoryUri)
  repository_name=$(stack_output "$stack" RepositoryName)
  if [[ -z "$repository_uri" || "$repository_uri" == None || -z "$repository_name" || "$repository_name" == None ]]; then
    echo "stack $stack exports no RepositoryUri/RepositoryName: deploy it with \`python deploy.py registry\`" >&2
    exit 1
  fi
}

# image_in_ecr TAG: true when the repository holds TAG (its digest in $image_digest); false when it does not;
# exits on any other answer from ECR.
image_in_ecr() {
  local lookup
  if lookup=$(aws ecr describe-images --repository-name "$repository_name" --image-ids "imageTag=$1" \
    --query 'imageDetails[0].imageDigest' --output text 2>&1); then
    image_digest=$lookup
    return 0
  elif [[ "$lookup" == *ImageNotFoundException* ]]; then
    return 1
  fi
  echo "$lookup" >&2
  exit 1
}
