"""FastAPI dependencies: the knowledge base, the store and the settings the app was built with.

They are ``async def`` although they never wait: FastAPI runs a plain ``def`` dependency in the
thread pool, a hand-off to another thread and back on every request for one attribute look-up.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Path, Request

from backmice.config import Settings
from backmice.followup.records import Actor
from backmice.kb.base import KnowledgeBase
from backmice.web.auth import Requires

# Every row id in a URL: a positive 32-bit whole number (larger ones are refused 422, never
# handed to the database, where SQLite cannot bind them).
MAX_ROW_ID = 2**31 - 1
RecordId = Annotated[int, Path(ge=1, le=MAX_ROW_ID, description="a record id")]

HEAD_KEY = "backmice.head"  # set in the ASGI scope of a HEAD request answered as a GET


def is_head(request: Request) -> bool:
    """True when this GET is really a HEAD (``HeadMiddleware`` rewrote the method): the route
    must then do nothing a GET would do besides answering, e.g. no audit row for a read (no
    data is sent) and no one-time hand-off taken (``peek`` instead of ``take``)."""
    return request.scope.get(HEAD_KEY) is True


async def get_kb(request: Request) -> KnowledgeBase:
    return request.app.state.kb


async def get_store(request: Request) -> Any:
    return request.app.state.store


async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


KB = Annotated[KnowledgeBase, Depends(get_kb)]
Store = Annotated[Any, Depends(get_store)]
AppSettings = Annotated[Settings, Depends(get_settings)]
Reviewer = Annotated[Actor, Depends(Requires("reviewer"))]
