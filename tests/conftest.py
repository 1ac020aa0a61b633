"""Shared fixtures: the packaged knowledge base, loaded once per test session."""

from __future__ import annotations

import pytest

from backmice.kb.base import KnowledgeBase
from backmice.kb.loader import default_kb


@pytest.fixture(scope="session")
def kb() -> KnowledgeBase:
    return default_kb()
