"""One acceptance run: the cost, the account's confirmation, the sandbox, the checks side by side, the
deletion of everything it made (also on Ctrl-C), and the findings, expected against observed."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from canary_deploy.aws.session import AwsClients
from canary_deploy.errors import AssumptionsDiffer, BadInput, DeployError, Interrupted
from canary_deploy.render.console import Console
from canary_deploy.watch.interrupts import first_line
from canary_deploy.watch.timing import Timing

from . import cost
from .checks import Context, Finding, all_checks
from .ledger import Ledger
from .sandbox import Names, Sandbox


@dataclass(frozen=True)
class Options:
    account: str
    prefix: str
    poll_seconds: float


class AcceptanceRun:
    def __init__(
        self,
        clients: AwsClients,
        console: Console,
        options: Options,
        timing: Timing,
        now: Callable[[], datetime],
    ) -> None:
        self.clients = clients
        self.console = console
        self.options = options
        self.timing = timing
        self.now = now

    def run(self) -> None:
        for line in cost.render(cost.estimate()):
            self.console.line(line)
        self.clients.check_configuration()
        account = self.clients.client("sts").get_caller_identity()["Account"]
        if account != self.options.account:
            raise BadInput(
                f"these credentials are for account {account}, not {self.options.account}: nothing was made "
                "(pass the account the run may make resources in)"
            )
        names = Names(f"{self.options.prefix}-{secrets.token_hex(3)}")
        self.console.line(f"Account {account}, region {self.clients.region}: everything made is named {names.run}-*")
        ledger = Ledger(self.console)
        try:
            findings = self.check(ledger, names)
        except Interrupted:  # a second Ctrl-C: out now, naming what is left
            raise
        except KeyboardInterrupt:
            self.console.notice("Ctrl-C: deleting what the run made (Ctrl-C again to leave it)")
            left = self.delete(ledger, patience=0)
            raise Interrupted(f"interrupted; {left or 'everything the run made is deleted'}") from None
        except Exception as error:
            left = self.delete(ledger, patience=1)
            if left:
                raise DeployError(f"{first_line(error)}; {left}") from error
            raise
        left = self.delete(ledger, patience=1)
        self.report(findings)
        if left:
            raise DeployError(left)
        self.verdict(findings)

    def check(self, ledger: Ledger, names: Names) -> list[Finding]:
        sandbox = Sandbox(
            self.clients.client, ledger, names, self.clients.region, self.timing, self.options.poll_seconds
        )
        network = sandbox.make_network()
        sandbox.make_cluster()
        pending = all_checks(Context(sandbox, names, network, self.timing.clock, self.now))
        findings: list[Finding] = []
        while pending:
            for label, check in list(pending.items()):
                try:
                    next(check)
                except StopIteration as done:
                    findings += done.value
                    for finding in done.value:
                        self.console.line(f"{finding.label}. observed: {finding.observed or 'no answer'}")
                    del pending[label]
            if pending:
                self.timing.sleep(self.options.poll_seconds)
        return sorted(findings, key=lambda finding: finding.label)

    def delete(self, ledger: Ledger, patience: int) -> str:
        """Deletes what the run made; returns what could not be, or ""."""
        self.console.line("Deleting what the run made:")
        return f"could not delete everything; {ledger.leftover()}" if ledger.delete_all(patience) else ""

    def report(self, findings: list[Finding]) -> None:
        self.console.line("Expected (what the local AWS assumes) against observed (this account):")
        for finding in findings:
            mark = "✅" if finding.matches else "❓" if finding.observed is None else "❌"
            self.console.line(f"{mark} {finding.label}. {finding.title}")
            self.console.line(f"     expected {finding.assumption.assumed}, observed {finding.observed or 'no answer'}")
            self.console.line(f"     {finding.detail}")
            if finding.observed is not None and not finding.matches:
                self.console.line(f"     AWS differs: {finding.assumption.change(finding.observed)}")

    @staticmethod
    def verdict(findings: list[Finding]) -> None:
        differ = [
            finding.assumption.name for finding in findings if finding.observed is not None and not finding.matches
        ]
        if differ:
            raise AssumptionsDiffer(
                f"AWS differs from the local AWS on {', '.join(differ)}: change them in local_aws/assumptions.py, "
                "then run the suite"
            )
        unsettled = [finding.label for finding in findings if finding.observed is None]
        if unsettled:
            raise DeployError(f"check(s) {', '.join(unsettled)} got no answer (see above): run again")
