"""Settings for the server and the storage layer; built by entry points only, never at import time.

Values come from keyword arguments first, then environment variables, then defaults:

- ``BACKMICE_DATA_DIR``: folder for the embedded SQLite database (default ``./data``);
- ``BACKMICE_DATABASE_URL``: a SQLAlchemy URL, e.g. ``postgresql+psycopg://user@host/db``
  (default: SQLite in the data folder);
- ``BACKMICE_MAX_BODY_BYTES``: largest request body the API accepts (default 1 MB).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from backmice.errors import InputError

DEFAULT_MAX_BODY_BYTES = 1_000_000


@dataclass(frozen=True, slots=True)
class Settings:
    data_dir: Path
    database_url: str
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @classmethod
    def load(cls, *, data_dir: str | Path | None = None, database_url: str | None = None,
             environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        folder = Path(data_dir or env.get("BACKMICE_DATA_DIR") or "data").expanduser()
        url = database_url or env.get("BACKMICE_DATABASE_URL") or ""
        if not url:
            url = f"sqlite:///{folder.resolve() / 'backmice.sqlite3'}"
        raw_limit = env.get("BACKMICE_MAX_BODY_BYTES", str(DEFAULT_MAX_BODY_BYTES))
        try:
            limit = int(raw_limit)
        except ValueError:
            limit = -1
        if limit < 1_000:
            raise InputError("BACKMICE_MAX_BODY_BYTES", f"got {raw_limit!r}",
                             "a whole number of bytes, at least 1000")
        return cls(data_dir=folder, database_url=url, max_body_bytes=limit)
