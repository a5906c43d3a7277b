"""Errors as FHIR OperationOutcome resources, each issue naming the FHIR path it is about."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from fhir.resources.R4B.operationoutcome import OperationOutcome

# HTTP status -> the OperationOutcome issue type (http://hl7.org/fhir/issue-type).
ISSUE_TYPES = {400: "invalid", 401: "login", 403: "forbidden", 404: "not-found",
               405: "not-supported", 409: "conflict", 413: "too-long", 415: "not-supported",
               422: "business-rule", 429: "throttled", 503: "transient"}


@dataclass(frozen=True)
class Issue:
    message: str
    expression: str | None = None
    code: str | None = None  # the issue type; by default the one for the status


class FhirRefused(Exception):
    """The request was refused: 400 (not a FHIR document this service can read) or 422 (a
    referral rule). Nothing was changed."""

    def __init__(self, status: int, issues: list[Issue]) -> None:
        super().__init__(f"{status}: {len(issues)} issue(s)")
        self.status = status
        self.issues = issues


def outcome(status: int, issues: list[Issue]) -> OperationOutcome:
    default = ISSUE_TYPES.get(status, "exception")
    return OperationOutcome.model_validate({"resourceType": "OperationOutcome", "issue": [
        {"severity": "error", "code": issue.code or default, "diagnostics": issue.message,
         **({"expression": [issue.expression]} if issue.expression else {})}
        for issue in issues] or [{"severity": "error", "code": default}]})


def from_problem(problem: Mapping[str, Any]) -> OperationOutcome:
    """An RFC 9457 problem document (as every other error handler writes it) in FHIR's words:
    the detail as one issue, and each field error as one more (those keys are FHIR paths when
    the FHIR intake raised them, or a header name such as Idempotency-Key)."""
    status = problem.get("status")
    status = status if isinstance(status, int) else 500
    issues = [Issue(str(problem.get("detail") or problem.get("title") or "Error"))]
    errors = problem.get("errors")
    if isinstance(errors, Mapping):
        issues += [Issue(f"{field}: {message}") for field, messages in errors.items()
                   for message in (messages if isinstance(messages, list) else [messages])]
    return outcome(status, issues)
