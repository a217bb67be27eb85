"""Domain errors. Services raise these; the API layer turns them into problem responses."""

from __future__ import annotations


class DomainError(Exception):
    """Base of every error a client can cause; `detail` is safe to show to that client."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class NotFoundError(DomainError):
    pass


class ConflictError(DomainError):
    pass


class PermissionDeniedError(DomainError):
    pass


class AuthenticationError(DomainError):
    """Missing, malformed or expired credentials, or credentials that do not match."""


class InvalidInputError(DomainError):
    """Input that passed the schema but breaks a rule (reported like a validation error)."""

    def __init__(self, detail: str, *, loc: tuple[str | int, ...] = ()) -> None:
        super().__init__(detail)
        self.loc = loc


class ServiceBusyError(DomainError):
    """The database turned the request down because of a conflicting change running at the
    same moment (a deadlock or lock timeout); the same request can simply be sent again."""
