"""CloudFormation as the deployer relies on it, where moto differs: change sets, stack operations, deletion."""
