"""The edge: every request's input checked once, before any route reads it.

- A POST, PUT or PATCH of a JSON route (``reads_json(path)``) whose body is declared as anything
  but JSON is answered 415. A request without a Content-Type is still read as JSON, for scripts
  that post raw bytes; a browser cannot send JSON to these routes as ``text/plain`` or a form,
  the types a cross-site page may send without asking.
- Its body is parsed here, once for every JSON route, under the rules of
  :mod:`backmice.strict_json` (valid Unicode, no NUL, finite numbers, integers within ±2**53-1,
  bounded nesting): malformed or refused JSON is answered 422 in the one error shape, naming
  the path of the offending value, so no route, renderer or table ever sees such a value.
- A NUL character (``%00``) in the path, the query string or a form body is answered 422 naming
  the parameter: no text field anywhere may hold one (PostgreSQL cannot store it).

The parsed body is left in the scope under ``JSON_KEY`` for routes that read it by hand.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import unquote_to_bytes

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from backmice import strict_json
from backmice.errors import InputError
from backmice.web.errors import error_body, replay, send_json

JSON_KEY = "backmice.json"
BODY_METHODS = ("POST", "PUT", "PATCH")


def is_json_type(content_type: str) -> bool:
    """``application/json`` or an ``application/...+json`` type, parameters aside."""
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (media.startswith("application/")
                                            and media.endswith("+json"))


def _nul_pair(encoded: bytes, where: str) -> InputError | None:
    """The first ``name=value`` pair of a URL-encoded string holding a NUL, as an InputError."""
    if b"%00" not in encoded.lower() and b"\x00" not in encoded:
        return None
    for pair in encoded.split(b"&"):
        name, _, _value = pair.partition(b"=")
        if b"%00" in pair.lower() or b"\x00" in pair:
            label = unquote_to_bytes(name.replace(b"+", b" ")).decode("utf-8", "replace")
            label = label.replace("\x00", "").strip()[:60] or where
            return InputError(label, "contains a NUL character", "text without NUL (%00)")
    return None


async def _read_body(receive: Receive) -> tuple[list[bytes], Message | None]:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return chunks, message
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return chunks, None


class InputEdgeMiddleware:
    def __init__(self, app: ASGIApp, reads_json: Callable[[str], bool]) -> None:
        self.app = app
        self.reads_json = reads_json

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        refused = self._url_problem(scope)
        if refused is None and scope["method"] in BODY_METHODS:
            declared = dict(scope.get("headers") or ()).get(b"content-type", b"").decode(
                "latin-1").strip()
            json_route = self.reads_json(scope["path"])
            if json_route and declared and not is_json_type(declared):
                await send_json(send, 415, error_body(
                    415, "unsupported_media_type",
                    f"the body must be JSON, sent as application/json, not {declared[:100]}",
                    "content-type", "application/json"))
                return
            form = declared.lower().startswith("application/x-www-form-urlencoded")
            if json_route or form:
                chunks, final = await _read_body(receive)
                body = b"".join(chunks)
                receive = replay(chunks, final, receive)
                if final is None and body:
                    try:
                        if json_route:
                            scope[JSON_KEY] = strict_json.loads(body)
                        else:
                            refused = _nul_pair(body, "(form)")
                    except InputError as exc:
                        refused = exc
        if refused is not None:
            await send_json(send, 422, error_body(
                422, "invalid_input", refused.message, refused.field or "(body)",
                refused.allowed))
            return
        await self.app(scope, receive, send)

    @staticmethod
    def _url_problem(scope: Scope) -> InputError | None:
        if "\x00" in scope.get("path", ""):
            return InputError("(path)", "contains a NUL character", "a path without NUL (%00)")
        return _nul_pair(scope.get("query_string") or b"", "(query)")
