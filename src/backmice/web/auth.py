"""Who is calling, and may they: login sessions (cookie), API tokens (bearer), roles, CSRF.

- A browser logs in at /login and gets an HttpOnly, SameSite=Lax session cookie (Secure over
  HTTPS, or always with BACKMICE_SECURE_COOKIES=1). Every state-changing request made with
  that cookie must carry the session's CSRF token (form field ``csrf_token`` or header
  ``X-CSRF-Token``); the login form itself carries a token signed with the secret key and tied
  to a one-time cookie, so no other site can log a browser into an account.
- A script sends ``Authorization: Bearer bm_...`` (an API token; no cookie, so no CSRF).
- ``Requires("clinician")`` etc. as a dependency: 401 when nobody is logged in, 403 without the
  role.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from backmice.errors import AccessError, NotAuthenticated, PermissionDenied
from backmice.followup.records import Actor

SESSION_COOKIE = "backmice_session"
LOGIN_COOKIE = "backmice_login"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class CsrfFailed(AccessError):
    """A state-changing request without the right CSRF token (answered 403)."""

    def __init__(self) -> None:
        super().__init__("this form has expired or did not come from backmice; reload the page "
                         "and try again")


@dataclass(frozen=True, slots=True)
class Caller:
    actor: Actor
    via: str  # "session" or "token"
    csrf_token: str | None = None


def _client(request: Request) -> str:
    return request.client.host if request.client else ""


async def current_caller(request: Request) -> Caller | None:
    """The logged-in user or token owner of this request (looked up once per request)."""
    if hasattr(request.state, "caller"):
        return request.state.caller
    store = request.app.state.store
    caller = None
    header = request.headers.get("authorization", "")
    if header[:7].lower() == "bearer ":
        user = await run_in_threadpool(store.accounts.user_for_token, header[7:].strip())
        if user is None:
            raise NotAuthenticated("the API token is not valid (unknown, revoked, or its user "
                                   "is disabled)")
        caller = Caller(user.actor(_client(request)), "token")
    elif cookie := request.cookies.get(SESSION_COOKIE):
        login = await run_in_threadpool(store.accounts.session_for, cookie)
        if login is not None:
            caller = Caller(login.user.actor(_client(request)), "session", login.csrf_token)
    request.state.caller = caller
    return caller


async def check_csrf(request: Request, caller: Caller) -> None:
    """A state-changing request made with the session cookie must carry its CSRF token."""
    if request.method in SAFE_METHODS or caller.via != "session":
        return
    sent = request.headers.get("x-csrf-token")
    if sent is None and request.headers.get("content-type", "").startswith(
            ("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()
        value = form.get("csrf_token")
        sent = value if isinstance(value, str) else None
    if not sent or not caller.csrf_token or not hmac.compare_digest(sent, caller.csrf_token):
        raise CsrfFailed()


class Requires:
    """Dependency: the Actor of a caller holding ``role``; 401 / 403 otherwise."""

    def __init__(self, role: str) -> None:
        self.role = role

    async def __call__(self, request: Request) -> Actor:
        caller = await current_caller(request)
        if caller is None:
            raise NotAuthenticated("log in first (or send an API token)")
        if not caller.actor.has(self.role):
            raise PermissionDenied(self.role)
        await check_csrf(request, caller)
        return caller.actor


async def signed_in_caller(request: Request) -> Caller:
    """Dependency: any logged-in user or token owner, whatever the role (401 otherwise),
    with the CSRF check of a state-changing request."""
    caller = await current_caller(request)
    if caller is None:
        raise NotAuthenticated("log in first (or send an API token)")
    await check_csrf(request, caller)
    return caller


async def optional_caller(request: Request) -> Caller | None:
    """For public pages that greet a logged-in user; never refuses."""
    try:
        return await current_caller(request)
    except NotAuthenticated:
        return None


Clinician = Annotated[Actor, Depends(Requires("clinician"))]
ReviewerRole = Annotated[Actor, Depends(Requires("reviewer"))]
Admin = Annotated[Actor, Depends(Requires("admin"))]
MaybeCaller = Annotated[Caller | None, Depends(optional_caller)]
SignedIn = Annotated[Caller, Depends(signed_in_caller)]


# --- session cookies -------------------------------------------------------------------------
def _secure(request: Request) -> bool:
    return request.url.scheme == "https" or request.app.state.settings.secure_cookies


def set_session_cookie(request: Request, response: Response, token: str, max_age: int) -> None:
    response.set_cookie(SESSION_COOKIE, token, max_age=max_age, httponly=True, samesite="lax",
                        secure=_secure(request), path="/")


def clear_session_cookie(request: Request, response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, httponly=True, samesite="lax", secure=_secure(request),
                           path="/")


# --- the login form's own CSRF token (no session exists yet) ----------------------------------
def _sign(request: Request, nonce: str) -> str:
    key = request.app.state.settings.secret_key.encode()
    return hmac.new(key, b"login:" + nonce.encode(), hashlib.sha256).hexdigest()


def login_form_token(request: Request) -> tuple[str, str]:
    """(nonce, token) for the login form: the nonce goes in a short-lived cookie, the token
    (the nonce signed with the secret key) in the form; the two must match on POST."""
    nonce = request.cookies.get(LOGIN_COOKIE) or secrets.token_urlsafe(16)
    return nonce, _sign(request, nonce)


def set_login_cookie(request: Request, response: Response, nonce: str) -> None:
    response.set_cookie(LOGIN_COOKIE, nonce, max_age=3600, httponly=True, samesite="lax",
                        secure=_secure(request), path="/login")


def check_login_form_token(request: Request, sent: str | None) -> None:
    nonce = request.cookies.get(LOGIN_COOKIE, "")
    if not nonce or not sent or not hmac.compare_digest(sent, _sign(request, nonce)):
        raise CsrfFailed()


def safe_next(target: str | None) -> str:
    """Where to go after logging in: a path on this site only (never another site); empty
    when none was asked for."""
    if target and target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return ""


def landing_page(roles: tuple[str, ...]) -> str:
    """The page a user starts on when the login did not ask for one: their first tool."""
    if "clinician" in roles:
        return "/patients"
    if "reviewer" in roles:
        return "/reviewer"
    return "/admin/users"
