"""``create_app(settings)``: the FastAPI application, its templates, static files and storage.

Nothing is created at import time: the store is opened when the app starts (migrations applied
then) and closed when it stops. Tests pass their own knowledge base and settings.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from backmice.config import Settings
from backmice.engine import ENGINE_VERSION
from backmice.interop.schema import findings_schema, places_schemas
from backmice.kb.base import KnowledgeBase
from backmice.kb.loader import default_kb
from backmice.web import assessment_view, filters, kb_views, navigation, openapi
from backmice.web.cds_hooks import routes as cds_routes
from backmice.web.deps import HEAD_KEY
from backmice.web.edge import InputEdgeMiddleware
from backmice.web.errors import BodyLimitMiddleware, install_error_handlers
from backmice.web.fhir import routes as fhir_routes
from backmice.web.handoff import OneTimeHandoff
from backmice.web.limits import AnonymousWriteLimit
from backmice.web.routes import api, login, pages, records_api, records_pages

STATIC = Path(__file__).parent / "static"

# Scripts and styles come only from our own static files: no inline script can run.
SECURITY_HEADERS = [
    (b"content-security-policy",
     b"default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
     b"object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
]


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *SECURITY_HEADERS]
            await send(message)

        await self.app(scope, receive, send_with_headers)


class HeadMiddleware:
    """HEAD for every GET route: answered as the GET would be (status and headers, the ``Link``
    to the JSON twin and Content-Length included) without the body. FastAPI's routes, unlike
    Starlette's, do not take HEAD by themselves; one rule here covers pages and API alike and
    keeps HEAD out of the OpenAPI document.

    The rewritten scope carries ``scope[HEAD_KEY] is True`` (see ``deps.is_head``): a route whose
    GET has a side effect (an audit row for a read, taking a one-time hand-off) skips it for
    HEAD, which sends no data."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def send_headers_only(message: Message) -> None:
            if message["type"] == "http.response.body":
                if message.get("more_body", False):
                    return
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        await self.app({**scope, "method": "GET", HEAD_KEY: True}, receive, send_headers_only)


# The writes anyone may make without logging in: rate-limited per address (429).
ANONYMOUS_WRITES = {"POST /api/v1/assessments", "POST /api/v1/feedback"}


def reads_json(path: str) -> bool:
    """The paths whose POST, PUT and PATCH bodies are JSON: the API and the clinician panel."""
    return path.startswith("/api/") or path == "/clinician/result"


def signed_in(request: Any) -> Any:
    """The caller of this request if a dependency already looked it up (else None)."""
    return getattr(request.state, "caller", None)


def csrf_input(request: Any) -> Markup:
    """The hidden CSRF field every form of a logged-in page carries."""
    caller = signed_in(request)
    token = caller.csrf_token if caller is not None and caller.csrf_token else ""
    return Markup('<input type="hidden" name="csrf_token" value="{}">').format(token)


def _templates(kb: KnowledgeBase) -> Jinja2Templates:
    # StrictUndefined: a misspelt name in a template is an error in the tests, not a blank.
    env = Environment(loader=PackageLoader("backmice.web", "templates"),
                      autoescape=select_autoescape(["html"]), trim_blocks=True,
                      lstrip_blocks=True, undefined=StrictUndefined)
    filters.install(env, kb)
    env.globals.update(kb_version=kb.version, disclaimer=kb.texts.disclaimer,
                       csrf_input=csrf_input, signed_in=signed_in,
                       nav_links=navigation.nav_links, nav_is_current=navigation.is_current)
    env.globals["assessment_references"] = functools.partial(
        assessment_view.assessment_references, kb)
    return Jinja2Templates(env=env)


def _open_store(settings: Settings) -> Any:
    from backmice.storage import open_store

    return open_store(settings.database_url)


def create_app(settings: Settings, *, kb: KnowledgeBase | None = None,
               store: Any = None) -> FastAPI:
    """Build the app. A ``store`` passed in is used as is (and not closed by the app)."""
    kb = kb or default_kb()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = store is None
        app.state.store = _open_store(settings) if owned else store
        try:
            yield
        finally:
            if owned:
                app.state.store.close()

    app = FastAPI(
        title="backmice", version=ENGINE_VERSION, lifespan=lifespan,
        description="Clinical decision support for painful lumps of the lower back, sacrum, "
                    "iliac crest and hip ('back mice'). It supports, and does not replace, a "
                    "clinician's judgement.\n\nRequest bodies are JSON: send `Content-Type: "
                    "application/json`. A body without a Content-Type is read as JSON; one "
                    "declared as any other type is answered 415. Every GET route also answers "
                    "HEAD (same status and headers, no body) without the GET's side "
                    "effects: a HEAD writes no audit row, since no data is sent.",
        docs_url=None, redoc_url=None, openapi_url="/api/v1/openapi.json",
    )
    app.state.kb = kb
    app.state.settings = settings
    app.state.templates = _templates(kb)
    app.state.store = store
    app.state.handoff = OneTimeHandoff()
    install_error_handlers(app)
    app.include_router(api.build_router(kb))
    app.include_router(records_api.router)
    app.include_router(login.router)
    app.include_router(pages.router)
    app.include_router(records_pages.router)
    app.include_router(fhir_routes.build_router(kb))
    app.include_router(cds_routes.build_router(kb))
    app.include_router(cds_routes.rates_router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    openapi.install(app, settings=list(kb.setting_ids),
                    feedback_pages=list(kb_views.feedback_pages(kb)),
                    anonymous_writes=ANONYMOUS_WRITES,
                    answers=findings_schema(kb, later_tests=True), visit=places_schemas(kb))
    app.add_middleware(InputEdgeMiddleware, reads_json=reads_json)  # inside the size limit
    app.add_middleware(BodyLimitMiddleware, limit=settings.max_body_bytes)
    app.add_middleware(AnonymousWriteLimit, writes=ANONYMOUS_WRITES,  # before reading a body
                       per_minute=settings.anonymous_writes_per_minute)
    app.add_middleware(SecurityHeadersMiddleware)
    app.add_middleware(HeadMiddleware)
    return app
