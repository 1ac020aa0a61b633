"""Referrals for lesions triaged urgent: when one is due, and which are overdue.

A visit that triages a lesion urgent within two weeks opens a referral due fourteen days after
the visit; the same-day and emergency levels are due on the day of the visit
(``vocab.REFERRAL_DAYS``). A referral is overdue when it is still open after its due date.
"Today" is always passed in, so the rule can be tested on any date.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from backmice.followup.records import Referral
from backmice.followup.vocab import REFERRAL_DAYS


def needs_referral(triage: str) -> bool:
    return triage in REFERRAL_DAYS


def due_date(triage: str, triaged_on: dt.date) -> dt.date:
    """The day a referral for a lesion triaged ``triage`` on ``triaged_on`` is due."""
    return triaged_on + dt.timedelta(days=REFERRAL_DAYS[triage])


def open_first(referrals: Iterable[Referral], today: dt.date) -> list[Referral]:
    """Open referrals first (overdue ones first among them, the earliest due first), then the
    done ones, the latest first."""
    items = list(referrals)
    still = sorted((r for r in items if r.status == "open"),
                   key=lambda r: (not r.is_overdue(today), r.due_on, r.id))
    done = sorted((r for r in items if r.status != "open"),
                  key=lambda r: (r.done_on or r.due_on, r.id), reverse=True)
    return still + done
