"""KMS: the stacks' keys."""
