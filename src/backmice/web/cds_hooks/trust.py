"""Who may call the CDS Hooks services: a JWT signed with an asymmetric key (ES384 or RS384)
by an issuer registered with ``backmice cds-client add``, for this service's URL, and fresh.
That its id was never seen before is checked when the call's result is stored, in the same
transaction (``store.cds.record_call``), so a call costs one database write.

Registered issuers are looked up at most every CLIENT_CACHE_SECONDS per process: removing an
issuer takes effect within that time.

Each refusal has its reason (missing, malformed, alg, unknown issuer, signature, audience,
expired, replay, ...): the reason goes to the log; the caller only learns that it was refused.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
import time
import urllib.request
from typing import Any

from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from backmice.storage.cds_hooks import SeenToken

ALGORITHMS = ["ES384", "RS384"]
LEEWAY_SECONDS = 30
MAX_LIFETIME_SECONDS = 300 + LEEWAY_SECONDS  # CDS Hooks: exp at most 5 minutes after iat
JWKS_CACHE_SECONDS = 600
CLIENT_CACHE_SECONDS = 30.0
log = logging.getLogger("backmice.cds_hooks")


class Refused(Exception):
    """The call is not trusted; ``reason`` is for the log only."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class JwksCache:
    """JWK Sets fetched from an issuer's URL, kept for a few minutes."""

    def __init__(self) -> None:
        self._sets: dict[str, tuple[float, dict[str, Any]]] = {}
        self._lock = threading.Lock()

    def get(self, url: str) -> dict[str, Any]:
        with self._lock:
            cached = self._sets.get(url)
        if cached and cached[0] > time.monotonic():
            return cached[1]
        try:
            # the URL was registered by an admin (backmice cds-client add), http or https only
            with urllib.request.urlopen(url, timeout=5) as answer:
                found = json.loads(answer.read(1_000_000))
        except (OSError, ValueError) as exc:
            raise Refused(f"the JWK Set at {url} could not be fetched: {exc}") from None
        with self._lock:
            self._sets[url] = (time.monotonic() + JWKS_CACHE_SECONDS, found)
        return found


class ClientCache:
    """Each issuer's key set, as parsed from the database (or its URL), for a few seconds."""

    def __init__(self, jwks: JwksCache) -> None:
        self.jwks = jwks
        self._keys: dict[str, tuple[float, KeySet | None]] = {}
        self._lock = threading.Lock()

    def keys(self, store: Any, issuer: str) -> KeySet | None:
        with self._lock:
            cached = self._keys.get(issuer)
        if cached and cached[0] > time.monotonic():
            return cached[1]
        client = store.cds.client(issuer)
        found = None
        if client is not None:
            raw = client.jwks if client.jwks is not None else self.jwks.get(client.jwks_url)
            try:
                found = KeySet.import_key_set(raw)
            except (JoseError, ValueError, TypeError, KeyError) as exc:
                raise Refused(f"the JWK Set of {issuer!r} cannot be read: {exc}") from None
        with self._lock:
            self._keys[issuer] = (time.monotonic() + CLIENT_CACHE_SECONDS, found)
            if len(self._keys) > 1000:
                self._keys.clear()
        return found


def _bearer(authorization: str | None) -> str:
    if not authorization:
        raise Refused("no Authorization header")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Refused("the Authorization header is not a Bearer token")
    return token.strip()


def verify(authorization: str | None, *, audience: str, store: Any,
           clients: ClientCache) -> SeenToken:
    """The issuer, id and expiry of a trusted token; raises Refused with the reason otherwise.
    The caller records the id once (``store.cds.record_call`` or ``add_feedback``)."""
    token = _bearer(authorization)
    try:
        unverified = jws.extract_compact(token.encode("ascii"))
        header = unverified.headers()
        claims = json.loads(unverified.payload)
    except (JoseError, ValueError, UnicodeError) as exc:
        raise Refused(f"not a compact JWS: {exc}") from None
    if header.get("alg") not in ALGORITHMS:
        raise Refused(f"alg {header.get('alg')!r} is refused (only {', '.join(ALGORITHMS)})")
    issuer = claims.get("iss") if isinstance(claims, dict) else None
    if not isinstance(issuer, str):
        raise Refused("no iss claim")
    keys = clients.keys(store, issuer)
    if keys is None:
        raise Refused(f"issuer {issuer!r} is not registered")
    try:
        verified = jwt.decode(token, keys, algorithms=ALGORITHMS)
        jwt.JWTClaimsRegistry(
            leeway=LEEWAY_SECONDS, iss={"essential": True, "value": issuer},
            aud={"essential": True, "value": audience}, exp={"essential": True},
            iat={"essential": True}, jti={"essential": True},
        ).validate(verified.claims)
    except (JoseError, ValueError) as exc:
        raise Refused(f"{exc.__class__.__name__}: {exc}") from None
    claims = verified.claims
    if not isinstance(claims["exp"], int | float) or not isinstance(claims["iat"], int | float):
        raise Refused("exp and iat must be numbers")
    if claims["exp"] - claims["iat"] > MAX_LIFETIME_SECONDS:
        raise Refused("the token lives longer than 5 minutes")
    if claims["iat"] > time.time() + LEEWAY_SECONDS:
        raise Refused("iat is in the future")
    return SeenToken(issuer=issuer, jti=str(claims["jti"]),
                     expires_at=dt.datetime.fromtimestamp(claims["exp"], dt.UTC))


def replayed(token: SeenToken) -> Refused:
    return Refused(f"jti {token.jti[:80]!r} was already used (replay)")
