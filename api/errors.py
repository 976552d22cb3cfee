"""Domain errors to HTTP answers, in one table; internals go to the log, never into a body."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from gis.errors import (
    Forbidden,
    InvalidInput,
    InvalidParameter,
    NotFound,
    PayloadTooLarge,
    SafeGroundError,
    Unauthorized,
)

log = logging.getLogger("api")

STATUS: dict[type[SafeGroundError], int] = {
    InvalidParameter: 400,
    NotFound: 404,
    Unauthorized: 401,
    Forbidden: 403,
    PayloadTooLarge: 413,
    InvalidInput: 422,
}


def error_body(code: str, description: str, **extra: object) -> dict[str, object]:
    return {"code": code, "description": description, **extra}


def add_exception_handlers(app: FastAPI) -> None:
    @app.exception_handler(SafeGroundError)
    async def _domain(request: Request, exc: SafeGroundError) -> JSONResponse:
        status = next((s for cls, s in STATUS.items() if isinstance(exc, cls)), 400)
        extra: dict[str, object] = {}
        if isinstance(exc, InvalidInput):
            extra["errors"] = [
                {
                    "row": e.row,
                    "line": e.line,
                    "field": e.field,
                    "column": e.column,
                    "reason": e.reason,
                }
                for e in exc.errors[:1000]
            ]
        headers = {"WWW-Authenticate": "ApiKey"} if status == 401 else None
        return JSONResponse(error_body(exc.code, exc.message, **extra), status, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = []
        for e in exc.errors():
            where = ".".join(str(p) for p in e.get("loc", ()))
            problems.append(f"{where}: {e.get('msg')}")
        return JSONResponse(error_body("InvalidParameter", "; ".join(problems)), 400)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "NotFound", 405: "MethodNotAllowed"}.get(exc.status_code, "HTTPError")
        return JSONResponse(error_body(code, str(exc.detail)), exc.status_code, headers=exc.headers)

    @app.exception_handler(Exception)
    async def _bug(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return JSONResponse(error_body("ServerError", "internal error; it has been logged"), 500)
