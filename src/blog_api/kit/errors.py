"""Domain errors. Services raise these; the API layer turns them into problem responses.

Each class names the HTTP status it stands for (`status`), so an error class added later is
answered with its own status by every face, never a 500 for want of a mapping.
"""

from __future__ import annotations

from typing import ClassVar


class DomainError(Exception):
    """Base of every error a client can cause; `detail` is safe to show to that client."""

    status: ClassVar[int] = 400

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class NotFoundError(DomainError):
    status = 404


class ConflictError(DomainError):
    """A value another row holds; `field` names it when one field is the cause."""

    status = 409

    def __init__(self, detail: str, *, field: str | None = None) -> None:
        super().__init__(detail)
        self.field = field


class PermissionDeniedError(DomainError):
    status = 403


class AuthenticationError(DomainError):
    """Missing, malformed or expired credentials, or credentials that do not match."""

    status = 401


# A write that names the caller found their account gone (deleted since the token was read).
CALLER_GONE = "The access token's user no longer exists"


class InvalidInputError(DomainError):
    """Input that passed the schema but breaks a rule (reported like a validation error)."""

    status = 422

    def __init__(self, detail: str, *, loc: tuple[str | int, ...] = ()) -> None:
        super().__init__(detail)
        self.loc = loc


class ServiceBusyError(DomainError):
    """The database turned the request down because of a conflicting change running at the
    same moment (a deadlock or lock timeout); the same request can simply be sent again."""

    status = 503


class RateLimitedError(DomainError):
    """Too many attempts at something rate-limited; `retry_after` seconds until the next one
    may be made."""

    status = 429

    def __init__(self, detail: str, *, retry_after: int) -> None:
        super().__init__(detail)
        self.retry_after = max(1, retry_after)


class DatabaseUnavailableError(Exception):
    """The database cannot serve the request right now (unreachable, refusing connections,
    read-only, or the connection dropped mid-request): a 503 with Retry-After.

    Not a DomainError on purpose: it reaches the fault middleware as an exception, which
    retries a read whose pooled connection died (`connection_lost`) once, before anything
    was sent, and answers 503 otherwise."""

    def __init__(self, detail: str, *, connection_lost: bool = False, retry_after: int = 1) -> None:
        super().__init__(detail)
        self.detail = detail
        self.connection_lost = connection_lost
        self.retry_after = retry_after


def vanished(target_exists: bool, not_found: str) -> DomainError:
    """The answer to a write the database refused because a row it refers to was deleted
    meanwhile (a foreign key, `MissingReference`): 404 (`not_found`) when the target is gone,
    else it was the caller's own account (401)."""
    return AuthenticationError(CALLER_GONE) if target_exists else NotFoundError(not_found)
