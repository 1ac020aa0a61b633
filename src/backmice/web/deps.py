"""FastAPI dependencies: the knowledge base, the store and the settings the app was built with."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request

from backmice.config import Settings
from backmice.followup.records import Actor
from backmice.kb.base import KnowledgeBase
from backmice.web.auth import Requires


def get_kb(request: Request) -> KnowledgeBase:
    return request.app.state.kb


def get_store(request: Request) -> Any:
    return request.app.state.store


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


KB = Annotated[KnowledgeBase, Depends(get_kb)]
Store = Annotated[Any, Depends(get_store)]
AppSettings = Annotated[Settings, Depends(get_settings)]
Reviewer = Annotated[Actor, Depends(Requires("reviewer"))]
