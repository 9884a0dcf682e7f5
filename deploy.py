"""Deploy the KafkaJS canary stacks: `python deploy.py registry|app --version TAG|status|destroy` (see --help)."""

import signal
import sys

if __name__ == "__main__":
    try:
        # `make run` starts us with Ctrl-C held back (blocked) until here, where it is an interruption like
        # any other; during the interpreter's start-up it would have ended it with a fatal error. A no-op
        # when nothing held it back.
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
        # Importing boto3 takes a moment: a Ctrl-C that lands in it is an interruption too, not a traceback.
        from canary_deploy.cli import main
    except KeyboardInterrupt:
        sys.exit(130)
    sys.exit(main())
