"""Logging in and out of the browser pages (API scripts use bearer tokens instead), and
changing one's own password (any role).

The login form is the one page without a JSON twin (no ``Link`` header): it shows no data,
only a form that trades a password for a session cookie, and the API has no password login.
A user whose password an admin reset goes from the login to the password page first.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from backmice.errors import InputError, NotAuthenticated
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
    target = auth.safe_next(next) or auth.landing_page(user.roles)
    if user.must_change_password:  # an admin set this password: the user chooses their own
        target = f"/account/password?next={quote(target, safe='/')}"
    response = RedirectResponse(target, 303)
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


# --- one's own password -----------------------------------------------------------------------
def _password_page(request: Request, caller: Any, user: Any, *, status: int = 200,
                   error: InputError | None = None, next_path: str = "",
                   done: bool = False) -> HTMLResponse:
    response = request.app.state.templates.TemplateResponse(
        request, "records/account_password.html",
        {"user": user, "error": error, "next_path": auth.safe_next(next_path), "done": done,
         "field_labels": {"current_password": "Current password",
                          "new_password": "New password", "new_password_again": "New password "
                          "again"}},
        status_code=status)
    response.headers["cache-control"] = "no-store"
    response.headers["Link"] = '</api/v1/me>; rel="alternate"; type="application/json"'
    return response


async def _signed_in(request: Request) -> Any:
    caller = await auth.current_caller(request)
    if caller is None:
        raise NotAuthenticated("log in first (or send an API token)")
    return caller


@router.get("/account/password", response_class=HTMLResponse)
async def password_form(request: Request, next: str | None = None,
                        done: bool = False) -> HTMLResponse:
    """Change your own password (any signed-in user)."""
    caller = await _signed_in(request)
    user = await run_in_threadpool(request.app.state.store.accounts.get_user,
                                   caller.actor.user_id)
    return _password_page(request, caller, user, next_path=next or "", done=done)


@router.post("/account/password")
async def change_password(request: Request,
                          current_password: Annotated[str, Form(max_length=256)] = "",
                          new_password: Annotated[str, Form(max_length=256)] = "",
                          new_password_again: Annotated[str, Form(max_length=256)] = "",
                          next: Annotated[str, Form(max_length=500)] = "") -> Response:
    caller = await _signed_in(request)
    await auth.check_csrf(request, caller)
    store = request.app.state.store
    try:
        if new_password != new_password_again:
            raise InputError("new_password_again", "differs from the new password",
                             "the same new password twice")
        user = await run_in_threadpool(
            store.accounts.change_password, caller.actor.user_id, current=current_password,
            new=new_password, keep_session=request.cookies.get(auth.SESSION_COOKIE))
    except InputError as exc:
        user = await run_in_threadpool(store.accounts.get_user, caller.actor.user_id)
        return _password_page(request, caller, user, status=422, error=exc, next_path=next)
    await run_in_threadpool(store.audit.add, caller.actor, "password_change",
                            target=f"user:{user.id}")
    goto = auth.safe_next(next)
    return RedirectResponse(goto or "/account/password?done=1", 303)
