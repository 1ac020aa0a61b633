"""The prefetch a CDS Hooks call did not send: fetched from the EHR's ``fhirServer`` with the
``fhirAuthorization`` it gave, or refused (412) when it gave neither."""

from __future__ import annotations

import json
import urllib.parse
import urllib.request
from collections.abc import Mapping
from typing import Any

from backmice.interop.cds_hooks import PREFETCH

MAX_BYTES = 5_000_000
TIMEOUT_SECONDS = 5


class PrefetchMissing(Exception):
    """Neither prefetched nor fetchable: the service answers 412."""


class FetchFailed(Exception):
    """The FHIR server did not answer as it should."""


def _query(template: str, context: Mapping[str, Any]) -> str:
    out = template
    for key, value in context.items():
        if isinstance(value, str):
            out = out.replace(f"{{{{context.{key}}}}}", urllib.parse.quote(value, safe=""))
    return out


def complete(prefetch: Mapping[str, Any] | None, *, context: Mapping[str, Any],
             fhir_server: str | None, authorization: Mapping[str, Any] | None
             ) -> dict[str, Any]:
    """Every prefetch key, from the call where it was sent, else from the FHIR server."""
    have = dict(prefetch or {})
    missing = [key for key in PREFETCH if key not in have]
    if not missing:
        return have
    token = authorization.get("access_token") if isinstance(authorization, Mapping) else None
    if not fhir_server or not isinstance(token, str) or not token:
        raise PrefetchMissing(", ".join(missing))
    if not fhir_server.startswith(("https://", "http://")):
        raise PrefetchMissing("fhirServer is not an http(s) URL")
    for key in missing:
        url = fhir_server.rstrip("/") + "/" + _query(PREFETCH[key], context)
        request = urllib.request.Request(url, headers={
            "Authorization": f"Bearer {token}", "Accept": "application/fhir+json"})
        try:
            # fhirServer comes from a call whose JWT was verified: a registered EHR
            with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as answer:
                have[key] = json.loads(answer.read(MAX_BYTES))
        except (OSError, ValueError) as exc:
            raise FetchFailed(f"{key}: {exc.__class__.__name__}") from None
    return have
