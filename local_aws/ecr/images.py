"""ECR PutImage on a missing repository: ECR answers RepositoryNotFoundException; moto 5.2.5 fails with
HTTP 500, so `make push-local` before the registry is deployed could not say what is missing."""

from __future__ import annotations


def put_image(moto_put_image, self, repository_name, *args, **kwargs):
    from moto.ecr.exceptions import RepositoryNotFoundException

    if repository_name not in self.repositories:
        raise RepositoryNotFoundException(repository_name, self.account_id)
    return moto_put_image(self, repository_name, *args, **kwargs)
