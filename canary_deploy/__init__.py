"""boto3 deployer for the KafkaJS canary stacks: change sets, preflight checks, live events (see deploy.py)."""
