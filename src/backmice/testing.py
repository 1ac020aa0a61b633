"""Helpers that tests (ours and a deployer's) can share: a cheap password hasher and a quick
way to make a user and the Actor that stands for them.

Never use ``fast_password_hasher`` in production: it trades argon2's memory cost for speed so
that a test suite creating hundreds of users stays fast.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from argon2 import PasswordHasher

from backmice.followup.records import Actor

TEST_PASSWORD = "correct horse battery"


def fast_password_hasher() -> PasswordHasher:
    return PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


def make_user(store: Any, username: str, roles: Iterable[str] = ("clinician",), *,
              clinic: str | None = None, password: str = TEST_PASSWORD) -> Actor:
    """Create a user in ``store`` and return the Actor acting as them."""
    user = store.accounts.create_user(username=username, password=password, roles=roles,
                                      clinic=clinic)
    return user.actor("testclient")
