"""One error tree for the whole platform, mapped once to HTTP and to CLI exit codes.

DigigovError                      400 bad_request            exit 1
├── Invalid                       422 invalid                exit 2
│   └── InvalidCode               422 invalid_code           exit 2
├── NotAuthenticated              401 not_authenticated      exit 5
│   ├── BadCredentials            401 bad_credentials        exit 5
│   ├── AccountLocked             423 account_locked         exit 5
│   └── TokenRejected             401 token_rejected         exit 5
├── Forbidden                     403 forbidden              exit 4
├── NotFound                      404 not_found              exit 3
├── Conflict                      409 conflict               exit 6
│   └── IllegalTransition         409 illegal_transition     exit 6
└── NotReady                      503 not_ready              exit 7

Every error carries an English and a Chinese message; both say what was expected
and what to do. Domains subclass these; `app.py` and `cli.py` map them.
"""

from __future__ import annotations


class DigigovError(Exception):
    """Root of every error the platform raises on purpose."""

    status: int = 400
    code: str = "bad_request"
    exit_code: int = 1

    def __init__(self, message: str, message_zh: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.message_zh = message_zh or message

    def localized(self, language: str) -> str:
        """The message in the requested language: zh (default) or en."""
        return self.message if language == "en" else self.message_zh


class Invalid(DigigovError):
    status, code, exit_code = 422, "invalid", 2


class InvalidCode(Invalid):
    code = "invalid_code"


class NotAuthenticated(DigigovError):
    status, code, exit_code = 401, "not_authenticated", 5


class BadCredentials(NotAuthenticated):
    code = "bad_credentials"


class AccountLocked(NotAuthenticated):
    status, code = 423, "account_locked"


class TokenRejected(NotAuthenticated):
    code = "token_rejected"


class Forbidden(DigigovError):
    status, code, exit_code = 403, "forbidden", 4


class NotFound(DigigovError):
    status, code, exit_code = 404, "not_found", 3


class Conflict(DigigovError):
    status, code, exit_code = 409, "conflict", 6


class IllegalTransition(Conflict):
    code = "illegal_transition"


class NotReady(DigigovError):
    status, code, exit_code = 503, "not_ready", 7


def all_error_classes() -> list[type[DigigovError]]:
    """Every error class reachable from the root, for docs checks."""
    found: list[type[DigigovError]] = []
    pending: list[type[DigigovError]] = [DigigovError]
    while pending:
        cls = pending.pop()
        found.append(cls)
        pending.extend(cls.__subclasses__())
    return found
