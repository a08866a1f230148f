"""Errors raised by domain rules.

Every rule violation is a :class:`DomainError` with a stable ``code`` (used by the CLI, later by the JSON
API error shape) and a message a person can act on.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager


class DomainError(Exception):
    """A business rule was violated. ``code`` is stable and machine-readable."""

    code: str = "domain_error"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class NotFound(DomainError):
    code = "not_found"


class IllegalTransition(DomainError):
    code = "illegal_transition"


class InvalidDates(DomainError):
    code = "invalid_dates"


class MoveTooLong(DomainError):
    code = "move_too_long"


class CapacityExceeded(DomainError):
    code = "capacity_exceeded"


class FullTimeOverlap(DomainError):
    code = "full_time_overlap"


class MissingSuccessCriteria(DomainError):
    code = "missing_success_criteria"


class UnratedCriteria(DomainError):
    code = "unrated_criteria"


class InvalidValue(DomainError):
    code = "invalid_value"


@contextmanager
def named_in_request(field: str) -> Iterator[None]:
    """Looks up what a request names in ``field``: an unknown or ambiguous one is an invalid value of that
    field (422), not a missing page (404, which says the object the URL names does not exist)."""
    try:
        yield
    except (NotFound, InvalidValue) as exc:  # also an ambiguous name: the lookup names its own field
        raise InvalidValue(exc.message, field=field) from None


class ManagerCycle(DomainError):
    code = "manager_cycle"


class NotAuthenticated(DomainError):
    """No valid session or API token (HTTP 401)."""

    code = "not_authenticated"


class Forbidden(DomainError):
    """The user may see the object but not do this to it (HTTP 403). Objects the user may not know about
    raise :class:`NotFound` instead, so a denial does not reveal that they exist."""

    code = "forbidden"


class Conflict(DomainError):
    """The request lost a race, repeats a decision already taken, or does not fit the state the record is in
    (a check-in on a move not running, a review of a completed one) (HTTP 409)."""

    code = "conflict"


class TooManyAttempts(DomainError):
    code = "too_many_attempts"

    def __init__(self, message: str, *, retry_after_seconds: int | None = None, field: str | None = None) -> None:
        super().__init__(message, field=field)
        self.retry_after_seconds = retry_after_seconds  # told to HTTP clients (Retry-After)


class UnsupportedMediaType(DomainError):
    """A request body in a format the endpoint does not read (HTTP 415)."""

    code = "unsupported_media_type"


class PayloadTooLarge(DomainError):
    """A request body larger than the endpoint takes (HTTP 413)."""

    code = "payload_too_large"


class LengthRequired(DomainError):
    """A request body of unknown length where the endpoint must know it before reading (HTTP 411)."""

    code = "length_required"


class OutOfTime(DomainError):
    """A bounded computation found no answer within its time budget (HTTP 503: trying later, or with a
    larger budget, may succeed)."""

    code = "out_of_time"
