#!/usr/bin/env bash
# image-tag.sh REPO_DIR VERSION: prints the image tag VERSION-<first 8 characters of REPO_DIR's commit>.
# Exactly 8: `git rev-parse --short=8` prints more when 8 would be ambiguous in the repository.
set -o nounset -o pipefail -o errexit

if [[ $# -ne 2 ]]; then
  echo "usage: $0 REPO_DIR VERSION" >&2
  exit 2
fi
commit=$(git -C "$1" rev-parse HEAD)
echo "$2-$(printf '%s' "$commit" | cut -c1-8)"
