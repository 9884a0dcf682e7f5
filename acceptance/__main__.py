"""`python -m acceptance --account ID`: what `make aws-acceptance ARGS=...` runs."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
