"""FastAPI dependencies: the knowledge base, the store and the settings the app was built with.

They are ``async def`` although they never wait: FastAPI runs a plain ``def`` dependency in the
thread pool, a hand-off to another thread and back on every request for one attribute look-up.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request

from backmice.config import Settings
from backmice.followup.records import Actor
from backmice.kb.base import KnowledgeBase
from backmice.web.auth import Requires


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
