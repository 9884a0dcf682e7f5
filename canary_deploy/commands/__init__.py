"""The commands: registry/app deploys, destroy, status, and the StackDeployer they share."""
