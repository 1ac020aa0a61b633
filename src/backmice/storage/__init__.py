"""Storage in SQLite (default) or PostgreSQL, via SQLAlchemy: saved assessments, feedback,
accounts, the follow-up record and the audit log.

``open_store(url)`` is the entry point; it returns a ``Store`` whose methods return frozen
records (``storage.records`` for public content, ``backmice.followup.records`` for the rest).
"""

from backmice.storage.repository import Store, open_store

__all__ = ["Store", "open_store"]
