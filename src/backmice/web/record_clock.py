"""Today's date for the record pages and API (referrals due, overdue): ``app.state.today``
when a test or a deployment sets it (a function returning a date), else the server's date.
Tests set the date they need instead of waiting for it."""

from __future__ import annotations

import datetime as dt

from fastapi import Request


def today(request: Request) -> dt.date:
    clock = getattr(request.app.state, "today", None)
    return clock() if clock is not None else dt.date.today()
