"""Logging in and out of the browser pages (API scripts use bearer tokens instead).

The login form is the one page without a JSON twin (no ``Link`` header): it shows no data,
only a form that trades a password for a session cookie, and the API has no password login.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from backmice.errors import NotAuthenticated
from backmice.storage.accounts import SESSION_HOURS
from backmice.web import auth

router = APIRouter(include_in_schema=False)


def login_page(request: Request, *, status: int = 200, message: str | None = None,
               next_path: str | None = None, username: str = "") -> HTMLResponse:
    """The login form (also the answer, with status 401, to a page that needs a login)."""
    nonce, token = auth.login_form_token(request)
    response = request.app.state.templates.TemplateResponse(
        request, "login.html",
        {"message": message, "next_path": auth.safe_next(next_path), "username": username,
         "login_token": token}, status_code=status)
    auth.set_login_cookie(request, response, nonce)
    response.headers["cache-control"] = "no-store"
    return response


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str | None = None) -> HTMLResponse:
    return login_page(request, next_path=next)


@router.post("/login")
async def login(request: Request,
                username: Annotated[str, Form(max_length=64)],
                password: Annotated[str, Form(max_length=256)],
                login_token: Annotated[str, Form(max_length=100)] = "",
                next: Annotated[str, Form(max_length=500)] = "",
                ) -> Response:
    auth.check_login_form_token(request, login_token)
    store = request.app.state.store
    client = request.client.host if request.client else ""
    try:
        user = await run_in_threadpool(store.accounts.authenticate, username, password)
    except NotAuthenticated as exc:
        await run_in_threadpool(store.audit.add, None, "login_failed",
                                username=username.strip().lower()[:64], client=client)
        return login_page(request, status=401, message=str(exc), next_path=next,
                          username=username)
    cookie, _ = await run_in_threadpool(store.accounts.start_session, user)
    await run_in_threadpool(store.audit.add, user.actor(client), "login")
    response = RedirectResponse(auth.safe_next(next) or auth.landing_page(user.roles), 303)
    auth.set_session_cookie(request, response, cookie, SESSION_HOURS * 3600)
    response.delete_cookie(auth.LOGIN_COOKIE, path="/login")
    return response


@router.post("/logout")
async def logout(request: Request) -> Response:
    caller = await auth.current_caller(request)
    response = RedirectResponse("/", 303)
    if caller is not None and caller.via == "session":
        await auth.check_csrf(request, caller)
        store = request.app.state.store
        await run_in_threadpool(store.accounts.end_session,
                                request.cookies.get(auth.SESSION_COOKIE, ""))
        await run_in_threadpool(store.audit.add, caller.actor, "logout")
    auth.clear_session_cookie(request, response)
    return response
