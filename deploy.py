"""Deploy the KafkaJS canary stacks: `python deploy.py registry|app --version TAG|status|destroy` (see --help)."""

import sys

from canary_deploy.cli import main

if __name__ == "__main__":
    sys.exit(main())
