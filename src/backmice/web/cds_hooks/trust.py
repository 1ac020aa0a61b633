"""Who may call the CDS Hooks services: a JWT signed with an asymmetric key (ES384 or RS384)
by an issuer registered with ``backmice cds-client add``, for this service's URL, fresh, and
never seen before.

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

ALGORITHMS = ["ES384", "RS384"]
LEEWAY_SECONDS = 30
MAX_LIFETIME_SECONDS = 300 + LEEWAY_SECONDS  # CDS Hooks: exp at most 5 minutes after iat
JWKS_CACHE_SECONDS = 600
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


def _bearer(authorization: str | None) -> str:
    if not authorization:
        raise Refused("no Authorization header")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Refused("the Authorization header is not a Bearer token")
    return token.strip()


def verify(authorization: str | None, *, audience: str, store: Any,
           jwks_cache: JwksCache) -> dict[str, Any]:
    """The claims of a trusted call; raises Refused with the reason otherwise."""
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
    client = store.cds.client(issuer)
    if client is None:
        raise Refused(f"issuer {issuer!r} is not registered")
    key_set = client.jwks if client.jwks is not None else jwks_cache.get(client.jwks_url)
    try:
        verified = jwt.decode(token, KeySet.import_key_set(key_set), algorithms=ALGORITHMS)
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
    expires = dt.datetime.fromtimestamp(claims["exp"], dt.UTC)
    if not store.cds.accept_token_once(issuer=issuer, jti=str(claims["jti"]), expires_at=expires):
        raise Refused(f"jti {str(claims['jti'])[:80]!r} was already used (replay)")
    return claims
