"""IAM: the CI role stack's OIDC provider and roles."""
