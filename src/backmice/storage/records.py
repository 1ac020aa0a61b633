"""What storage hands back: frozen domain records. ORM rows never leave the storage package."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

FEEDBACK_KINDS = ("helpful", "inaccuracy")
FEEDBACK_STATUSES = ("open", "resolved")


@dataclass(frozen=True, slots=True)
class SavedAssessment:
    share_id: str
    created_at: dt.datetime
    kb_version: str
    engine_version: str
    input_doc: dict[str, Any]
    result_doc: dict[str, Any]
    title: str | None


@dataclass(frozen=True, slots=True)
class Feedback:
    id: int
    created_at: dt.datetime
    page: str
    kind: str
    helpful: bool | None
    text: str | None
    contact: str | None
    status: str
    resolved_at: dt.datetime | None
    kb_version: str
