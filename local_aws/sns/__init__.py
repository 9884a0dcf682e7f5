"""SNS: the stacks' subscriptions."""
