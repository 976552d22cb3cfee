"""Domain errors to HTTP answers, in one table; internals go to the log, never into a body."""

from __future__ import annotations

import logging

import psycopg
import sqlalchemy as sa
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pyproj.exceptions import CRSError
from starlette.exceptions import HTTPException as StarletteHTTPException

from gis.db_errors import classify
from gis.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    InvalidParameter,
    NotFound,
    PayloadTooLarge,
    RowError,
    SafeGroundError,
    TooManyRequests,
    Unauthorized,
    Unavailable,
)
from gis.params import shown

log = logging.getLogger("api")

STATUS: dict[type[SafeGroundError], int] = {
    InvalidParameter: 400,
    NotFound: 404,
    Unauthorized: 401,
    Forbidden: 403,
    PayloadTooLarge: 413,
    InvalidInput: 422,
    Conflict: 409,
    TooManyRequests: 429,
    Unavailable: 503,
}


def error_body(code: str, description: str, **extra: object) -> dict[str, object]:
    return {"code": code, "description": description, **extra}


def _row_error(e: RowError) -> dict[str, object]:
    """Row, field and reason; a table's line and column too, when the error has them."""
    out: dict[str, object] = {"row": e.row, "field": e.field, "reason": e.reason}
    if e.line is not None:
        out["line"] = e.line
    if e.column is not None:
        out["column"] = e.column
    return out


def domain_response(exc: SafeGroundError) -> JSONResponse:
    status = next((s for cls, s in STATUS.items() if isinstance(exc, cls)), 400)
    extra: dict[str, object] = {}
    if isinstance(exc, InvalidInput):
        extra["errors"] = [_row_error(e) for e in exc.errors[:1000]]
    headers: dict[str, str] = {}
    if status == 401:
        headers["WWW-Authenticate"] = "ApiKey"
    if isinstance(exc, Unavailable | TooManyRequests):
        headers["Retry-After"] = str(exc.retry_after_s)
    return JSONResponse(error_body(exc.code, exc.message, **extra), status, headers=headers)


def add_exception_handlers(app: FastAPI) -> None:
    @app.exception_handler(SafeGroundError)
    async def _domain(request: Request, exc: SafeGroundError) -> JSONResponse:
        return domain_response(exc)

    async def _database(request: Request, exc: Exception) -> JSONResponse:
        """A fault (503), bad input PostgreSQL found (4xx), or our bug (500): never its text."""
        known = classify(exc)
        if known is None:
            return _bug_response(request, exc)
        cause = exc.orig if isinstance(exc, sa.exc.DBAPIError) else exc
        log.warning("database refused %s %s: %s", request.method, request.url.path, cause)
        return domain_response(known)

    async def _crs(request: Request, exc: Exception) -> JSONResponse:
        # Wherever a CRS string enters (a parameter, a file's own declaration), pyproj's refusal
        # is the caller's input, never our bug; its text names PROJ internals, so it stays out.
        log.info("CRS refused on %s %s: %s", request.method, request.url.path, exc)
        return domain_response(
            InvalidInput([RowError(None, "crs", "not a coordinate reference system that "
                                   "PROJ knows (use e.g. EPSG:4326 or EPSG:32638)")])
        )  # fmt: skip

    async def _overflow(request: Request, exc: Exception) -> JSONResponse:
        # Python's date and number arithmetic on a caller's value at the ends of its range.
        log.warning("overflow on %s %s", request.method, request.url.path, exc_info=exc)
        return domain_response(
            InvalidParameter("a date or number in the request is outside the range it can have")
        )

    app.add_exception_handler(CRSError, _crs)
    app.add_exception_handler(OverflowError, _overflow)
    # SQLAlchemy's errors, and the driver's own from the raw cursors of COPY and the hot path.
    app.add_exception_handler(sa.exc.SQLAlchemyError, _database)
    app.add_exception_handler(psycopg.Error, _database)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = []
        for e in exc.errors():
            where = ".".join(str(p) for p in e.get("loc", ()))
            seen = e.get("input")
            # The value it saw, for a query or path parameter (a body's input can be large).
            got = f"; got '{shown(str(seen))}'" if isinstance(seen, str | int | float) else ""
            problems.append(f"{where}: {e.get('msg')}{got}")
        return JSONResponse(error_body("InvalidParameter", "; ".join(problems)), 400)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "NotFound", 405: "MethodNotAllowed"}.get(exc.status_code, "HTTPError")
        return JSONResponse(error_body(code, str(exc.detail)), exc.status_code, headers=exc.headers)

    # No handler for Exception: Starlette would answer it and then re-raise, and uvicorn drops the
    # client's keep-alive connection. api.guard.CatchAll answers bugs without re-raising.


def _bug_response(request: Request, exc: BaseException) -> JSONResponse:
    log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return bug_response()


def bug_response() -> JSONResponse:
    return JSONResponse(error_body("ServerError", "internal error; it has been logged"), 500)
