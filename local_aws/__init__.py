"""A local AWS endpoint for the tests and `make run`: moto's server, in-process, on 127.0.0.1 only.

A development tool, not part of the deployer: `patches` lists every change it makes to moto so that moto
behaves as AWS does where the deployer relies on it (their code in a package per service, as moto has),
`server` runs it, `seeding` puts what an operator would, `demo` is `make run`, and `python -m local_aws`
runs the endpoint in the foreground.

Use
---
    with LocalAWS() as aws:            # free port on 127.0.0.1, fixes applied, server answering
        aws.endpoint_url               # "http://127.0.0.1:PORT"
        aws.reset()                    # forget all state

    python -m local_aws [--port N]    # foreground, prints the exports, Ctrl-C stops
"""

from .errors import LocalAWSError
from .patches import MOTO_VERSION, apply_patches
from .seeding import DEMO_VALUES, push_image, seed_parameters
from .server import DEFAULT_REGION, DUMMY_CREDENTIALS, HOST, LocalAWS, endpoint_environment, local_client

__all__ = [
    "DEFAULT_REGION",
    "DEMO_VALUES",
    "DUMMY_CREDENTIALS",
    "HOST",
    "MOTO_VERSION",
    "LocalAWS",
    "LocalAWSError",
    "apply_patches",
    "endpoint_environment",
    "local_client",
    "push_image",
    "seed_parameters",
]
