"""Settings for the server and the storage layer; built by entry points only, never at import time.

Values come from keyword arguments first, then environment variables, then defaults:

- ``BACKMICE_DATA_DIR``: folder for the embedded SQLite database (default ``./data``);
- ``BACKMICE_DATABASE_URL``: a SQLAlchemy URL, e.g. ``postgresql+psycopg://user@host/db``
  (default: SQLite in the data folder);
- ``BACKMICE_MAX_BODY_BYTES``: largest request body the API accepts (default 1 MB);
- ``BACKMICE_ANONYMOUS_WRITES_PER_MINUTE``: writes anyone may make without logging in (saving
  an assessment, leaving feedback) per client address and minute, in bursts of up to that many
  (default 30; 0 turns the limit off);
- ``BACKMICE_SECRET_KEY``: the key that signs login forms (at least 32 characters). Without one
  a random key is made for this process, which is fine on the server's own machine; the server
  refuses to listen beyond it without a key of its own;
- ``BACKMICE_SECURE_COOKIES=1``: mark login cookies Secure even when the request arrived over
  plain HTTP (behind a TLS-terminating proxy). Requests that arrive over HTTPS always get them;
- ``BACKMICE_EMERGENCY_NUMBER``: the telephone number the patient interview's "Call" button
  dials in an emergency (default ``999``; e.g. ``112`` or ``911``): 2 to 15 digits, an optional
  leading ``+``.
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from backmice.errors import InputError

DEFAULT_MAX_BODY_BYTES = 1_000_000
DEFAULT_ANONYMOUS_WRITES_PER_MINUTE = 30
SECRET_KEY_MIN = 32
DEFAULT_EMERGENCY_NUMBER = "999"
_EMERGENCY_NUMBER = re.compile(r"\+?[0-9]{2,15}")


@dataclass(frozen=True, slots=True)
class Settings:
    data_dir: Path
    database_url: str
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    secret_key: str = field(default="", repr=False)
    secret_key_generated: bool = True  # made up for this process (no BACKMICE_SECRET_KEY)
    secure_cookies: bool = False
    anonymous_writes_per_minute: int = DEFAULT_ANONYMOUS_WRITES_PER_MINUTE
    emergency_number: str = DEFAULT_EMERGENCY_NUMBER  # dialled by the interview's Call button

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
        raw_rate = env.get("BACKMICE_ANONYMOUS_WRITES_PER_MINUTE",
                           str(DEFAULT_ANONYMOUS_WRITES_PER_MINUTE))
        if not raw_rate.isdigit() or int(raw_rate) > 1_000_000:
            raise InputError("BACKMICE_ANONYMOUS_WRITES_PER_MINUTE", f"got {raw_rate[:20]!r}",
                             "a whole number from 0 (no limit) to 1000000")
        key = env.get("BACKMICE_SECRET_KEY", "")
        if key and len(key) < SECRET_KEY_MIN:
            raise InputError("BACKMICE_SECRET_KEY", f"is {len(key)} characters long",
                             f"a random string of at least {SECRET_KEY_MIN} characters")
        secure = env.get("BACKMICE_SECURE_COOKIES", "0")
        if secure not in ("0", "1"):
            raise InputError("BACKMICE_SECURE_COOKIES", f"got {secure!r}", "0 or 1")
        emergency = env.get("BACKMICE_EMERGENCY_NUMBER", DEFAULT_EMERGENCY_NUMBER).strip()
        if not _EMERGENCY_NUMBER.fullmatch(emergency):
            raise InputError("BACKMICE_EMERGENCY_NUMBER", f"got {emergency[:20]!r}",
                             "a telephone number of 2 to 15 digits, e.g. 999, 112 or 911")
        return cls(data_dir=folder, database_url=url, max_body_bytes=limit,
                   secret_key=key or secrets.token_urlsafe(32), secret_key_generated=not key,
                   secure_cookies=secure == "1", anonymous_writes_per_minute=int(raw_rate),
                   emergency_number=emergency)
