"""Code that runs in AWS Lambda, embedded into the templates as inline source (standard library and boto3 only)."""
