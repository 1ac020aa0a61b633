"""One error body for every failure, the body-size limit and the JSON-only rule for bodies.

Every error the API returns looks the same::

    {"error": {"status": 422, "code": "invalid_input", "field": "lumps.0.findings.size_cm",
               "message": "...", "allowed": "a number from 0 to 100 or null"}}

HTML pages get the same facts on an error page. Nothing ever returns a stack trace; unexpected
errors are logged with the request path only (never the body, which may hold patient data).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import BaseRoute, Match, Mount
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from backmice.errors import (
    ConflictError,
    InputError,
    InUseError,
    NotAuthenticated,
    NotFoundError,
    PermissionDenied,
    StateConflictError,
    StorageError,
    TooLargeError,
)
from backmice.web.auth import CsrfFailed
from backmice.web.routes.login import login_page

log = logging.getLogger("backmice.web")


def error_body(status: int, code: str, message: str, field: str | None = None,
               allowed: str | None = None) -> dict[str, Any]:
    return {"error": {"status": status, "code": code, "field": field, "message": message,
                      "allowed": allowed}}


def input_status(exc: InputError) -> int:
    """The status of refused input, the same for the JSON API and the HTML forms: 409 when
    the request is well formed but conflicts with what is stored (``StateConflictError``),
    413 when what it would store is too large, else 422 (the request itself is wrong)."""
    if isinstance(exc, StateConflictError):
        return 409
    if isinstance(exc, TooLargeError):
        return 413
    return 422


def _wants_html(request: Request) -> bool:
    if request.url.path.startswith("/api/"):
        return False
    return "text/html" in request.headers.get("accept", "")


def error_response(request: Request, status: int, code: str, message: str,
                   field: str | None = None, allowed: str | None = None) -> Response:
    body = error_body(status, code, message, field, allowed)
    if _wants_html(request):
        templates = request.app.state.templates
        return templates.TemplateResponse(request, "error.html", {"error": body["error"]},
                                          status_code=status)
    return JSONResponse(body, status_code=status)


METHOD_ORDER = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def allowed_methods(app: FastAPI, scope: Scope) -> list[str]:
    """Every method some route answers at this path (Starlette's own 405 names only the first
    route it found there), HEAD wherever GET is (``HeadMiddleware`` answers it), in a fixed
    order."""
    methods: set[str] = set()
    for route in _leaf_routes(app.router.routes):
        match, _ = route.matches({**scope, "method": "GET"})
        if match == Match.NONE:
            continue
        if isinstance(route, Mount):
            if isinstance(route.app, StaticFiles):
                methods.update(("GET", "HEAD"))
        else:
            methods.update(getattr(route, "methods", None) or ())
    if "GET" in methods:
        methods.add("HEAD")
    return sorted(methods, key=lambda m: (METHOD_ORDER.index(m) if m in METHOD_ORDER
                                          else len(METHOD_ORDER), m))


def _leaf_routes(routes: Iterable[BaseRoute]) -> Iterator[BaseRoute]:
    """The routes themselves, also inside the routers the app includes (FastAPI keeps an
    included router as one entry holding the ``original_router``; the app includes its routers
    without a prefix, so their routes' own paths are the full paths)."""
    for route in routes:
        inner = getattr(route, "original_router", None)
        if inner is not None:
            yield from _leaf_routes(inner.routes)
        else:
            yield route


def _allowed_from_pydantic(err: dict[str, Any]) -> str | None:
    ctx = err.get("ctx") or {}
    if "expected" in ctx:
        return str(ctx["expected"])
    bounds = [f"{word} {ctx[key]}" for key, word in
              (("ge", "at least"), ("gt", "more than"), ("le", "at most"), ("lt", "less than"),
               ("min_length", "length at least"), ("max_length", "length at most"))
              if key in ctx]
    if bounds:
        return ", ".join(bounds)
    kind = str(err.get("type", ""))
    simple = {"missing": "a value (this field is required)", "int_parsing": "a whole number",
              "int_type": "a whole number", "float_parsing": "a number", "float_type": "a number",
              "bool_parsing": "true or false", "bool_type": "true or false",
              "string_type": "text", "dict_type": "an object", "list_type": "a list",
              "json_invalid": "valid JSON", "model_attributes_type": "an object",
              "extra_forbidden": "only the documented fields"}
    return simple.get(kind)


def _field(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in ("body", "query", "path", "form"):
        parts = parts[1:] if len(parts) > 1 else parts
    return ".".join(parts) or "(body)"


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(InputError)
    async def _input(request: Request, exc: InputError) -> Response:
        return error_response(request, 422, "invalid_input", exc.message, exc.field or None,
                              exc.allowed)

    @app.exception_handler(StateConflictError)
    async def _state_conflict(request: Request, exc: StateConflictError) -> Response:
        return error_response(request, 409, "conflicts_with_record", exc.message,
                              exc.field or None, exc.allowed)

    @app.exception_handler(InUseError)
    async def _in_use(request: Request, exc: InUseError) -> Response:
        return error_response(request, 409, "in_use", exc.message, exc.field or None,
                              exc.allowed)

    @app.exception_handler(TooLargeError)
    async def _too_large(request: Request, exc: TooLargeError) -> Response:
        return error_response(request, 413, "document_too_large", exc.message,
                              exc.field or None, exc.allowed)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        err = exc.errors()[0]
        return error_response(request, 422, "invalid_input", str(err.get("msg", "invalid")),
                              _field(err.get("loc", ())), _allowed_from_pydantic(err))

    @app.exception_handler(NotFoundError)
    async def _not_found(request: Request, exc: NotFoundError) -> Response:
        return error_response(request, 404, "not_found", str(exc))

    @app.exception_handler(ConflictError)
    async def _conflict(request: Request, exc: ConflictError) -> Response:
        return error_response(request, 409, "changed_by_someone_else", str(exc))

    @app.exception_handler(NotAuthenticated)
    async def _not_authenticated(request: Request, exc: NotAuthenticated) -> Response:
        if _wants_html(request):  # a browser: the login form, still answered 401
            return login_page(request, status=401, message=str(exc),
                              next_path=request.url.path)
        response = error_response(request, 401, "not_authenticated", str(exc))
        response.headers["WWW-Authenticate"] = 'Bearer realm="backmice"'
        return response

    @app.exception_handler(PermissionDenied)
    async def _forbidden(request: Request, exc: PermissionDenied) -> Response:
        return error_response(request, 403, "forbidden", str(exc))

    @app.exception_handler(CsrfFailed)
    async def _csrf(request: Request, exc: CsrfFailed) -> Response:
        return error_response(request, 403, "csrf_failed", str(exc))

    @app.exception_handler(StorageError)
    async def _storage(request: Request, exc: StorageError) -> Response:
        log.error("storage error on %s %s: %s", request.method, request.url.path, exc)
        return error_response(request, 503, "storage_unavailable",
                              "the database is not available just now; please try again")

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        phrase = HTTPStatus(exc.status_code).phrase
        code = phrase.lower().replace(" ", "_").replace("-", "_")
        message = exc.detail if isinstance(exc.detail, str) else phrase
        response = error_response(request, exc.status_code, code, message)
        for key, value in (exc.headers or {}).items():
            response.headers[key] = value
        if exc.status_code == 405:
            allowed = allowed_methods(request.app, request.scope)
            if allowed:
                response.headers["Allow"] = ", ".join(allowed)
        return response

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return error_response(request, 500, "internal_error",
                              "an unexpected error happened; it has been logged")


class BodyLimitMiddleware:
    """Answer 413 to a request body over ``limit`` bytes, before any route reads it.

    The body is read up to the limit and replayed to the app, so a client that lies in (or
    omits) Content-Length is still stopped.
    """

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or ()).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await self._too_large(send)
            return
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                await self.app(scope, replay([], message, receive), send)
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.limit:
                await self._too_large(send)
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        await self.app(scope, replay(chunks, None, receive), send)

    async def _too_large(self, send: Send) -> None:
        await send_json(send, 413, error_body(
            413, "body_too_large", f"the request body is larger than {self.limit} bytes",
            "(body)", f"at most {self.limit} bytes"), [(b"connection", b"close")])


async def send_json(send: Send, status: int, body: dict[str, Any],
                     extra: list[tuple[bytes, bytes]] | None = None) -> None:
    data = JSONResponse(body).body  # the same compact encoding as every other error body
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(data)).encode()), *(extra or [])]})
    await send({"type": "http.response.body", "body": data})


def replay(chunks: list[bytes], final: Message | None, upstream: Receive) -> Receive:
    """Hand the buffered body to the app once, then pass on the server's own messages."""
    body = b"".join(chunks)
    first = final or {"type": "http.request", "body": body, "more_body": False}
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return first
        return await upstream()

    return receive
