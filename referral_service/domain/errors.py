"""Domain errors: each says, in words a person can act on, why something was refused."""
from __future__ import annotations


class DomainError(Exception):
    """A rule of the service refused the operation. Nothing was changed."""

    code = "domain_error"

    def __init__(self, message: str, **details: object) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class ValidationFailed(DomainError):
    """Input broke a rule; ``errors`` maps dotted field names to messages."""

    code = "validation_failed"

    def __init__(
        self, errors: dict[str, list[str]], message: str = "Check the highlighted fields."
    ) -> None:
        super().__init__(message)
        self.errors = errors


class NotFound(DomainError):
    code = "not_found"


class TransitionRefused(DomainError):
    """The lifecycle does not allow this change from the referral's current status."""

    code = "transition_refused"


class Conflict(DomainError):
    """Someone else changed the record first, or the change clashes with its current state."""

    code = "conflict"


class PermissionDenied(DomainError):
    """The person or client acting may not do this to this record."""

    code = "permission_denied"


class TooLarge(DomainError):
    """What was sent is bigger than the service takes."""

    code = "too_large"


class UnsupportedType(DomainError):
    """What was sent is not of a kind the service takes."""

    code = "unsupported_type"
