"""Deploy the KafkaJS canary stacks: `python deploy.py registry|app --version TAG|status|destroy` (see --help)."""

import sys

if __name__ == "__main__":
    try:
        # Importing boto3 takes a moment: a Ctrl-C that lands in it is an interruption too, not a traceback.
        from canary_deploy.cli import main
    except KeyboardInterrupt:
        sys.exit(130)
    sys.exit(main())
