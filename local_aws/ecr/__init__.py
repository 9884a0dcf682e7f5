"""ECR: the registry's images."""
