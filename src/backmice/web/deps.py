"""FastAPI dependencies: the knowledge base, the store and the settings the app was built with.

They are ``async def`` although they never wait: FastAPI runs a plain ``def`` dependency in the
thread pool, a hand-off to another thread and back on every request for one attribute look-up.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request

from backmice.config import Settings
from backmice.kb.base import KnowledgeBase

LOOPBACK = {"127.0.0.1", "::1", "localhost", "testclient"}


async def get_kb(request: Request) -> KnowledgeBase:
    return request.app.state.kb


async def get_store(request: Request) -> Any:
    return request.app.state.store


async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def require_reviewer(request: Request) -> None:
    """Reviewer pages list what readers wrote (with contact details if they left any).

    Until users and roles exist (the records issue), only a browser on the server's own machine
    may open them.
    """
    host = request.client.host if request.client else ""
    if host not in LOOPBACK:
        raise HTTPException(403, "the reviewer pages are open only from the server's own machine "
                                 "until user accounts exist")


KB = Annotated[KnowledgeBase, Depends(get_kb)]
Store = Annotated[Any, Depends(get_store)]
AppSettings = Annotated[Settings, Depends(get_settings)]
Reviewer = Annotated[None, Depends(require_reviewer)]
