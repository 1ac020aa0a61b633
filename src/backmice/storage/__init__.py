"""Storage: saved assessments and feedback in SQLite (default) or PostgreSQL, via SQLAlchemy.

``open_store(url)`` is the entry point; it returns a ``Store`` whose methods take keyword
arguments and return the frozen records of ``records``.
"""

from backmice.storage.repository import Store, open_store

__all__ = ["Store", "open_store"]
