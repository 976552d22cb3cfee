"""Database errors sorted into what they mean for the caller: a fault (retry later), bad input, or
our bug. Only messages written here reach a caller; PostgreSQL's own text goes to the log.

The sorting is by SQLSTATE class (https://www.postgresql.org/docs/15/errcodes-appendix.html), so a
new statement anywhere gets the same treatment without a try/except of its own.
"""

from __future__ import annotations

import logging

import psycopg
import sqlalchemy as sa

from gis.errors import InvalidInput, InvalidParameter, RowError, SafeGroundError, Unavailable

log = logging.getLogger("gis.db")

DATABASE_DOWN = "the database is unavailable right now; try again shortly"
POOL_BUSY = "every database connection is busy right now; try again shortly"
LOCKED = (
    "the data asked for is being changed or maintained right now (it is locked); try again shortly"
)
COLLIDED = "the request collided with a concurrent change; try again"
TOO_SLOW = (
    "the request took longer than the database allows; ask for less (a smaller area, distance, "
    "buffer, time window or limit) and try again"
)

# SQLSTATE of data exceptions (class 22) the caller can cause, in words.
DATA_KINDS = {
    "22P05": "text with a character the database cannot store (such as a NUL byte)",
    "22021": "text with a character the database cannot store (such as a NUL byte)",
    "22008": "a date or time outside the range the database accepts",
    "22007": "a date or time that is not valid",
    "22003": "a number outside the range the database accepts",
    "22P02": "a value that is not of the expected type",
    "2200H": "a number outside the range the database accepts",
    "22001": "a text value that is too long",
    "22012": "a division by zero caused by the parameters",
}


def sqlstate(exc: BaseException) -> str | None:
    orig = getattr(exc, "orig", exc)
    return getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)


def classify(exc: BaseException) -> SafeGroundError | None:
    """The caller-safe error for a database failure, or None when it is our bug (a 500).

    An error raised while cleaning up after another (a savepoint rollback on a connection that
    has just died raises PendingRollbackError) is judged by the error that started it.
    """
    seen: BaseException | None = exc
    for _ in range(5):
        if seen is None:
            break
        known = _classify_one(seen)
        if known is not None:
            return known
        seen = seen.__cause__ or seen.__context__
    return None


def _classify_one(exc: BaseException) -> SafeGroundError | None:
    if isinstance(exc, sa.exc.TimeoutError):  # the pool had no connection to give in time
        return Unavailable(POOL_BUSY, retry_after_s=2)
    if isinstance(exc, sa.exc.DisconnectionError):
        return Unavailable(DATABASE_DOWN)
    if isinstance(exc, sa.exc.DBAPIError):
        invalidated = exc.connection_invalidated
    elif isinstance(exc, psycopg.Error):  # raw driver cursors (COPY, the items' hot path)
        invalidated = False
    else:
        return None
    state = sqlstate(exc) or ""
    if invalidated or state.startswith(("08", "53", "57P")):
        return Unavailable(DATABASE_DOWN)
    if state == "55P03":
        return Unavailable(LOCKED, retry_after_s=2)
    if state == "57014":
        return Unavailable(TOO_SLOW, retry_after_s=10)
    if state in ("40001", "40P01"):
        return Unavailable(COLLIDED, retry_after_s=1)
    if not state and isinstance(exc, sa.exc.DataError | psycopg.DataError):
        # refused by the driver before sending, e.g. a NUL byte in a text value
        return InvalidParameter(f"the request holds {DATA_KINDS['22021']}")
    if state.startswith("22"):
        kind = DATA_KINDS.get(state, "a value the database cannot accept")
        return InvalidParameter(f"the request holds {kind}")
    if state.startswith("23"):
        return InvalidInput(
            [RowError(None, None, "the database refused the values (a constraint)")]
        )
    if state.startswith("54"):
        return InvalidParameter("the request is too large or complex for the database to process")
    down = (sa.exc.OperationalError, sa.exc.InterfaceError, psycopg.OperationalError,
            psycopg.InterfaceError)  # fmt: skip
    if not state and isinstance(exc, down):
        return Unavailable(DATABASE_DOWN)  # e.g. connection refused: no SQLSTATE at all
    return None
