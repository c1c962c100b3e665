"""What a rule found: counts of checks that held, failures with their evidence, skips."""

from __future__ import annotations

from dataclasses import dataclass, field

from contracts.exchange import Exchange

JUDGE_429 = ("ratelimit", "envelope")  # families for which a 429 is evidence


@dataclass
class Failure:
    """One check that did not hold, with what it expected and what came back."""

    rule_id: str
    subject: str
    expected: str
    got: str
    exchange: Exchange | None = None
    curl: str | None = None


@dataclass
class Verdict:
    """The tally of one rule over a run."""

    rule_id: str
    passed: int = 0
    failures: list[Failure] = field(default_factory=list)
    skips: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def expect(
        self,
        holds: bool,
        subject: str,
        expected: str,
        exchange: Exchange | None = None,
        got: str | None = None,
    ) -> bool:
        """Count one check; record a failure with its evidence when it does not hold.

        A 429 that outlasted the client's waiting is a note, not a failure, except for
        the rules that judge 429s themselves (rate limits, the envelope). A request that
        got no answer fails the check whatever `holds` says.
        """
        if exchange is not None and not exchange.answered:
            self.failures.append(
                Failure(self.rule_id, subject, expected, exchange.summary(), exchange)
            )
            return False
        if holds:
            self.passed += 1
        elif exchange is not None and exchange.status == 429 and self.family not in JUDGE_429:
            self.skip(f"{subject}: still rate limited (429) after waiting, not checked")
        else:
            shown = got if got is not None else (exchange.summary() if exchange else "nothing")
            self.failures.append(Failure(self.rule_id, subject, expected, shown, exchange))
        return holds

    @property
    def family(self) -> str:
        return self.rule_id.split(".", 1)[0]

    def skip(self, reason: str) -> None:
        """Note something the rule could not check, and why (shown in the report)."""
        if reason not in self.skips:
            self.skips.append(reason)

    @property
    def status(self) -> str:
        if self.failures:
            return "fail"
        if self.passed:
            return "pass"
        return "skip"
