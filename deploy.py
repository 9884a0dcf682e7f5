"""Deploy the KafkaJS canary stacks: `python deploy.py registry|app --version TAG|status|destroy` (see --help)."""

import signal
import sys

PROJECT_MODULES = {"canary_deploy", "contract", "manifest", "rules"}


def run() -> None:
    """Entry point of `python deploy.py` and `canary-deploy`: exits with main()'s code."""
    try:
        # `make run` starts us with Ctrl-C held back (blocked) until here, where it is an interruption like
        # any other; during the interpreter's start-up it would have ended it with a fatal error. A no-op
        # when nothing held it back.
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
        # Importing boto3 takes a moment: a Ctrl-C that lands in it is an interruption too, not a traceback.
        from canary_deploy.cli import main
        from canary_deploy.model.invocation import program_name
    except KeyboardInterrupt:
        sys.exit(130)
    except ModuleNotFoundError as error:
        if (error.name or "").split(".")[0] in PROJECT_MODULES:
            raise  # a broken checkout, not a missing environment
        # Typically boto3: a Python outside the project's virtual environment.
        print(
            f"deploy.py: error: Python module {error.name} not found for {sys.executable}: set up with "
            "`make install`, then `. .venv/bin/activate` (or run .venv/bin/python deploy.py)",
            file=sys.stderr,
        )
        sys.exit(2)
    sys.exit(main(program=program_name(sys.argv[0])))


if __name__ == "__main__":
    run()
