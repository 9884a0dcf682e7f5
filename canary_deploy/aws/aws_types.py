"""Names for what the deployer passes around. boto3 ships no type information (its stubs are not installed),
so a client is Any and the records it returns are dicts shaped as the API reference says."""

from typing import Any

# A boto3 client (CloudFormation, ECR, ECS, SSM, S3).
Client = Any
# DescribeStacks' Stack, DescribeStackEvents' StackEvent, DescribeChangeSet's ResourceChange.
Stack = dict[str, Any]
StackEvent = dict[str, Any]
ResourceChange = dict[str, Any]
# CreateChangeSet's Parameters entries ({"ParameterKey": ..., "ParameterValue"/"UsePreviousValue": ...}).
ParameterEntry = dict[str, Any]
# CreateChangeSet's ResourcesToImport entries ({"ResourceType", "LogicalResourceId", "ResourceIdentifier"}).
ResourceToImport = dict[str, Any]
