"""Every exception backmice raises, in one tree.

    BackmiceError
    ├── InputError            bad user input: names the field and what is allowed
    │   ├── CaseFormatError   a case file that cannot be read (broken JSON, empty, wrong shape)
    │   ├── StateConflictError  well formed, but what is stored refuses it (a lesion of
    │   │   │                   another patient, a date before its procedure, the last admin)
    │   │   └── InUseError    a unique value (a user name) is taken: valid, but in use
    │   └── TooLargeError     the document a request would store is over the size limit
    ├── KnowledgeBaseError    the knowledge base is inconsistent (names file and path)
    ├── NotFoundError         a stored record does not exist (or belongs to another clinic)
    ├── ConflictError         someone else changed the record since it was read (version check)
    ├── AccessError           who is asking may not do this
    │   ├── NotAuthenticated  nobody is logged in, or the credentials are wrong / locked out
    │   └── PermissionDenied  logged in, but without the role this needs
    └── StorageError          the database cannot be reached, migrated or written

Adapters map each branch to one shape: the CLI prints a one-line message and exits 2 for
InputError; the web layer answers 422 (InputError, with the same field path: the request
itself is wrong; 409 for StateConflictError, a request that is well formed but conflicts with
what is stored; 413 for TooLargeError), 404
(NotFoundError), 409 (ConflictError), 401 (NotAuthenticated), 403 (PermissionDenied) or 503
(StorageError), always with the same error body.
"""

from __future__ import annotations


class BackmiceError(Exception):
    """Base of every error backmice raises on purpose."""


class InputError(BackmiceError, ValueError):
    """Input that does not fit the case format or the native model.

    ``field`` is a dotted path (``findings.location``), ``allowed`` a short human description
    of what would have been accepted.
    """

    def __init__(self, field: str, message: str, allowed: str | None = None) -> None:
        self.field = field
        self.message = message
        self.allowed = allowed
        text = f"{field}: {message}" if field else message
        if allowed:
            text += f" (allowed: {allowed})"
        super().__init__(text)


class CaseFormatError(InputError):
    """A case document that cannot be parsed at all (broken JSON, empty input, not an object)."""


class StateConflictError(InputError):
    """Input that is well formed on its own, refused because of what is stored: a lesion that
    is not this patient's, a complication dated before its procedure, a change that would
    leave no active admin. The same request could succeed against other stored data, so the
    web layer answers 409 (a conflict with the record), never 422 (a malformed request);
    ``field`` and ``allowed`` say what would be accepted given what is stored."""


class InUseError(StateConflictError):
    """A value that is valid but already in use (a user name): a conflict with stored data."""


class TooLargeError(InputError):
    """What a request would store (an assessment document) is larger than the limit."""


class KnowledgeBaseError(BackmiceError):
    """The knowledge base failed validation; ``problems`` lists every problem found."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        head = problems[0] if problems else "knowledge base is invalid"
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        super().__init__(head + more)


class NotFoundError(BackmiceError):
    """A stored record that does not exist; ``kind`` names what was looked for."""

    def __init__(self, kind: str, key: str) -> None:
        self.kind = kind
        self.key = key
        super().__init__(f"no {kind} with id {key!r}")


class ConflictError(BackmiceError):
    """The record changed since the caller read it: ``version`` is what the caller had."""

    def __init__(self, kind: str, key: str, version: int) -> None:
        self.kind = kind
        self.key = key
        self.version = version
        super().__init__(f"this {kind} was changed by someone else since you opened it "
                         f"(you had version {version}); reload it and make your change again")


class AccessError(BackmiceError):
    """The person or script asking may not do this."""


class NotAuthenticated(AccessError):
    """No valid login or token (or the account is locked for a while)."""


class PermissionDenied(AccessError):
    """Logged in, but without the role this needs; ``role`` names it."""

    def __init__(self, role: str) -> None:
        self.role = role
        super().__init__(f"this needs the {role} role")


class StorageError(BackmiceError):
    """The database could not be opened, migrated or written; the message says which."""
