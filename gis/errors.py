"""Domain errors: each carries a message that is safe to show to the caller.

`api/` maps them to HTTP status codes in one table; the CLI prints them. No HTTP here.
"""

from __future__ import annotations

from dataclasses import dataclass, field


class SafeGroundError(Exception):
    """Base class; `str(error)` is safe to show to a user."""

    code = "error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(SafeGroundError):
    code = "NotFound"


class InvalidParameter(SafeGroundError):
    code = "InvalidParameter"


class Forbidden(SafeGroundError):
    code = "Forbidden"


class Unauthorized(SafeGroundError):
    code = "Unauthorized"


class PayloadTooLarge(SafeGroundError):
    code = "PayloadTooLarge"


class ConfigurationError(SafeGroundError):
    """The settings name something that cannot work (a missing layer); raised at startup."""

    code = "ConfigurationError"


@dataclass(frozen=True)
class RowError:
    """One thing wrong with one row of an input file or request body."""

    row: int | None  # 1-based feature number; None when the whole file is wrong
    field: str | None
    reason: str
    line: int | None = None  # in a table: the spreadsheet line, counting the header as line 1
    column: str | None = None  # in a table: the column the field was read from

    def __str__(self) -> str:
        where = []
        if self.line is not None:
            where.append(f"line {self.line}")
        elif self.row is not None:
            where.append(f"row {self.row}")
        if self.column:
            named = f" (field '{self.field}')" if self.field and self.field != self.column else ""
            where.append(f"column `{self.column}`{named}")
        elif self.field:
            where.append(f"field '{self.field}'")
        return f"{', '.join(where)}: {self.reason}" if where else self.reason


@dataclass
class InvalidInput(SafeGroundError):
    """A file or body that cannot be accepted; lists every problem found."""

    errors: list[RowError] = field(default_factory=list)
    code = "InvalidInput"

    def __post_init__(self) -> None:
        shown = "; ".join(str(e) for e in self.errors[:5])
        more = f" (and {len(self.errors) - 5} more)" if len(self.errors) > 5 else ""
        SafeGroundError.__init__(self, f"{len(self.errors)} problem(s): {shown}{more}")


def invalid(reason: str, row: int | None = None, field: str | None = None) -> InvalidInput:
    """A one-problem InvalidInput, for whole-file errors."""
    return InvalidInput([RowError(row, field, reason)])


class Conflict(SafeGroundError):
    """The request collides with other work in progress (another import of the same layer)."""

    code = "Conflict"


class Unavailable(SafeGroundError):
    """Not the caller's fault and not a bug: the database is down, busy or too slow; retry later."""

    code = "ServiceUnavailable"

    def __init__(self, message: str, retry_after_s: int = 5) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class TooManyRequests(SafeGroundError):
    """One caller holds too many heavy requests at once; retry when one has finished."""

    code = "TooManyRequests"

    def __init__(self, message: str, retry_after_s: int = 5) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s
