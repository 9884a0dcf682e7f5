#!/usr/bin/env bash
# ecr.sh, sourced by build-image.sh and push-image.sh: the registry stack's ECR repository, whether a tag is
# already in it, and whether it lets `latest` move. Release tags are immutable: a tag in ECR is a release that was
# built and pushed whole (the release tag is pushed last), so a re-run neither builds nor pushes it again.

# The one tag that may move to each new image, where the repository lets it (the registry's LatestTag parameter).
latest_tag=latest

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

# latest_moves: true when the repository lets $latest_tag move to a new image, as ECR reads its tag mutability
# (set in $tag_mutability): MUTABLE unless an exclusion filter matches it, IMMUTABLE only if one does. The registry
# stack's LatestTag sets it (mutable: IMMUTABLE_WITH_EXCLUSION of latest; none: IMMUTABLE); reading it from ECR
# keeps that fact in one place. Exits on any error from ECR.
latest_moves() {
  local lookup filters filter excluded=false
  if ! lookup=$(aws ecr describe-repositories --repository-names "$repository_name" --output text \
    --query "repositories[0].[imageTagMutability, join(' ', imageTagMutabilityExclusionFilters[].filter || \`[]\`)]"); then
    exit 1
  fi
  read -r tag_mutability filters <<<"$lookup"
  read -r -a filters <<<"$filters"  # as words, never expanded as file names
  for filter in "${filters[@]}"; do
    # A WILDCARD filter's only special character is `*`, as in a shell pattern: unquoted, it matches as one.
    [[ "$latest_tag" == $filter ]] && excluded=true
  done
  case "$tag_mutability" in
    MUTABLE | MUTABLE_WITH_EXCLUSION) ! $excluded ;;
    IMMUTABLE_WITH_EXCLUSION) $excluded ;;
    *) false ;; # IMMUTABLE
  esac
}
