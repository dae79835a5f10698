"""Audit events of problem data (问题数据); the work item's own steps are audited by core.workflow."""

from __future__ import annotations

from dataclasses import dataclass

from digigov.core.audit import AuditEvent


@dataclass(frozen=True)
class ProblemEvent(AuditEvent):
    problem_id: int
    item_id: int

    @property
    def target(self) -> str:
        return f"problem:{self.problem_id}"


@dataclass(frozen=True)
class ProblemRaised(ProblemEvent):
    kind = "governance.problem_raised"
    description = "A problem-data report was raised against a resource's version and sent to its department."
    resource: str
    version: int
    field: str
    source: str


@dataclass(frozen=True)
class ProblemRepeated(ProblemEvent):
    kind = "governance.problem_repeated"
    description = "The same problem was raised again while still being handled; the open report was reused."
    raises: int


@dataclass(frozen=True)
class ProblemFixAnswered(ProblemEvent):
    kind = "governance.problem_fix_answered"
    description = "The source department answered 'fixed in version N'; the fix was verified or not, with the reason."
    version: int
    verified: bool
    reason: str


@dataclass(frozen=True)
class ProblemRejected(ProblemEvent):
    kind = "governance.problem_rejected"
    description = "The source department rejected a problem with a reason."
    reason: str


@dataclass(frozen=True)
class ProblemExtended(ProblemEvent):
    kind = "governance.problem_extended"
    description = "A problem's deadline was extended (once) to 10 working days from raising."
    due_on: str
    reason: str


@dataclass(frozen=True)
class ProblemEscalated(ProblemEvent):
    kind = "governance.problem_escalated"
    description = "An unanswered problem past its deadline was escalated to the platform."
    due_on: str
