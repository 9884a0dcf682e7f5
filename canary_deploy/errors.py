"""Domain errors; the CLI maps each to one exit code and a one-line message (no traceback)."""

EXIT_OK = 0
EXIT_DEPLOY_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_CANARY_FAILED = 3
EXIT_ASSUMPTIONS_DIFFER = 4  # make aws-acceptance only
EXIT_NOT_JUDGED = 5
EXIT_INTERRUPTED = 130
EXIT_OUTPUT_CLOSED = 141  # 128 + SIGPIPE: what a shell reports for a command whose reader went away


class DeployError(Exception):
    """Base: the message is what the user reads; exit_code is what the shell sees."""

    exit_code = EXIT_DEPLOY_FAILED


class BadInput(DeployError):
    """Wrong arguments, stale templates or missing configuration: fix the input and rerun."""

    exit_code = EXIT_BAD_INPUT


class PreflightFailed(BadInput):
    """A check before any change found the account not ready; nothing was changed."""


class StackStateRefused(BadInput):
    """The stack is in a state we must not touch (in progress, failed rollback, ...)."""


class ChangesRefused(BadInput):
    """Risky changes without confirmation (no terminal and no --yes, or the user said no)."""


class DeploymentFailed(DeployError):
    """CloudFormation rejected or rolled back the change, or the wait timed out."""


class StateUnknown(DeployError):
    """After execution the stack could not be read (retries exhausted): it may have completed or failed."""


class CanaryFailed(DeployError):
    """Deployed, but the canary judged the release bad: its alarms fired or its tasks stopped (--verify)."""

    exit_code = EXIT_CANARY_FAILED


class AssumptionsDiffer(DeployError):
    """`make aws-acceptance`: a real account answered otherwise than the local AWS assumes; the message names
    the assumptions to change (local_aws/assumptions.py)."""

    exit_code = EXIT_ASSUMPTIONS_DIFFER


class CanaryNotJudged(DeployError):
    """Deployed, but nothing could judge the release: a deployment alarm was already in ALARM when it started
    (--verify after --allow-unjudged), so neither ECS nor the alarms can tell it from the version before."""

    exit_code = EXIT_NOT_JUDGED


class Interrupted(DeployError):
    """Ctrl-C: the message tells what keeps running in CloudFormation and how to watch it."""

    exit_code = EXIT_INTERRUPTED


class OutputClosed(Exception):
    """The reader of our output went away (`deploy.py status app | head`): stop without a word, as Unix tools do.
    Not a DeployError: there is nowhere to write its message."""

    exit_code = EXIT_OUTPUT_CLOSED
