"""The one error of the local endpoint."""


class LocalAWSError(Exception):
    """The local endpoint cannot be started or used; the message says what to do."""
