"""Accounts: clinics, users with roles, password login with lock-out, login sessions and API
tokens.

Passwords are hashed with argon2id (argon2-cffi). Session and API tokens are random (256 bits)
and only their SHA-256 is stored, so a copy of the database opens no account. After
MAX_FAILURES wrong passwords in a row an account is locked for LOCK_MINUTES; the answer to a
wrong password, a locked or disabled account and an unknown user is the same, and takes as long
(one password hash check and one write each). An API token keeps working while its user's
password logins are locked (the lock stops password guessing, which a token does not allow, and
a script must not stop because someone mistyped a password); disabling the user, or revoking the
token, ends it at once.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from collections.abc import Iterable

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from backmice.errors import (
    InputError,
    InUseError,
    NotAuthenticated,
    NotFoundError,
    StateConflictError,
)
from backmice.followup.records import ApiToken, LoginSession, User
from backmice.followup.vocab import ROLES
from backmice.storage import validate
from backmice.storage.db import Database
from backmice.storage.tables import ApiTokenRow, ClinicRow, LoginSessionRow, UserRow

MAX_FAILURES = 5
LOCK_MINUTES = 15
SESSION_HOURS = 12
TOKEN_TOUCH_MINUTES = 10  # last_used_at of an API token is refreshed at most this often
USERNAME = re.compile(r"[a-z0-9][a-z0-9._-]{1,63}")
PASSWORD_MIN, PASSWORD_MAX = 10, 256
DEFAULT_CLINIC = "Main clinic"
TOKEN_PREFIX = "bm_"
FAILED_LOGIN = (f"wrong user name or password (after {MAX_FAILURES} wrong passwords in a row an "
                f"account is locked for {LOCK_MINUTES} minutes)")


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def _roles(roles: Iterable[str]) -> tuple[str, ...]:
    chosen = tuple(dict.fromkeys(roles))
    if not chosen:
        raise InputError("roles", "at least one role is needed", ", ".join(ROLES))
    for role in chosen:
        validate.choice("roles", role, ROLES)
    return tuple(r for r in ROLES if r in chosen)


def _user(row: UserRow, clinic_name: str) -> User:
    return User(id=row.id, username=row.username, display_name=row.display_name,
                roles=tuple(row.roles.split()), clinic_id=row.clinic_id, clinic_name=clinic_name,
                active=row.active, created_at=validate.aware(row.created_at),
                locked_until=validate.aware(row.locked_until),
                must_change_password=bool(row.must_change_password))


def _load_user(session: Session, user_id: int) -> User | None:
    found = session.execute(select(UserRow, ClinicRow.name).join(ClinicRow)
                            .where(UserRow.id == user_id)).first()
    return _user(*found) if found else None


def _token(row: ApiTokenRow) -> ApiToken:
    return ApiToken(id=row.id, user_id=row.user_id, name=row.name, prefix=row.prefix,
                    created_at=validate.aware(row.created_at),
                    last_used_at=validate.aware(row.last_used_at),
                    revoked=row.revoked_at is not None)


class Accounts:
    """User accounts over one Database. ``hasher`` is argon2id with its default cost; tests
    pass a cheaper one."""

    def __init__(self, db: Database, hasher: PasswordHasher | None = None) -> None:
        self.db = db
        self.hasher = hasher or PasswordHasher()
        self._dummy_hash = self.hasher.hash(secrets.token_hex(16))

    # --- users ----------------------------------------------------------------------------
    def _password(self, password: object) -> str:
        if not isinstance(password, str) or not PASSWORD_MIN <= len(password) <= PASSWORD_MAX:
            raise InputError("password", "is too short or too long",
                             f"{PASSWORD_MIN} to {PASSWORD_MAX} characters")
        validate.text("password", password, PASSWORD_MAX, required=True)
        return self.hasher.hash(password)

    def create_user(self, *, username: str, password: str, roles: Iterable[str],
                    display_name: str | None = None, clinic: str | None = None) -> User:
        if not isinstance(username, str) or not USERNAME.fullmatch(username):
            raise InputError("username", f"{str(username)[:40]!r} is not a valid user name",
                             "2 to 64 characters: lower-case letters, digits, '.', '_' or '-'")
        role_list = _roles(roles)
        name = validate.text("display_name", display_name, 200) or username
        clinic_name = validate.text("clinic", clinic, 200) or DEFAULT_CLINIC
        password_hash = self._password(password)

        def work(session: Session) -> User:
            if session.scalar(select(UserRow.id).where(UserRow.username == username)):
                raise InUseError("username", f"{username!r} is taken", "a user name not in use")
            clinic_row = session.scalars(select(ClinicRow)
                                         .where(ClinicRow.name == clinic_name)).first()
            if clinic_row is None:
                clinic_row = ClinicRow(name=clinic_name, created_at=validate.now())
                session.add(clinic_row)
                session.flush()
            row = UserRow(username=username, display_name=name, password_hash=password_hash,
                          roles=" ".join(role_list), clinic_id=clinic_row.id, active=True,
                          failed_logins=0, created_at=validate.now())
            session.add(row)
            session.flush()
            return _user(row, clinic_row.name)

        return self.db.write(work)

    def get_user(self, user_id: int) -> User:
        validate.record_id("user_id", user_id)
        found = self.db.read(lambda session: _load_user(session, user_id))
        if found is None:
            raise NotFoundError("user", str(user_id))
        return found

    def find_user(self, username: str) -> User:
        """The user with this user name; NotFoundError if there is none."""
        query = select(UserRow, ClinicRow.name).join(ClinicRow).where(
            UserRow.username == username.strip().lower())
        found = self.db.read(lambda session: session.execute(query).first())
        if found is None:
            raise NotFoundError("user", username[:64])
        return _user(*found)

    def list_users(self) -> list[User]:
        query = select(UserRow, ClinicRow.name).join(ClinicRow).order_by(UserRow.username)
        return self.db.read(lambda session: [_user(*r) for r in session.execute(query)])

    def admin_exists(self) -> bool:
        query = select(func.count()).select_from(UserRow).where(
            UserRow.active.is_(True), UserRow.roles.contains("admin"))
        return bool(self.db.read(lambda session: session.scalar(query)))

    def update_user(self, user_id: int, *, roles: Iterable[str] | None = None,
                    active: bool | None = None, password: str | None = None,
                    acting_user_id: int | None = None) -> User:
        """Change roles, active or password. Refused (StateConflictError, nothing changed) when
        it would leave no active admin, or when ``acting_user_id`` (the admin making the change)
        would remove their own admin role or disable themselves: the rule of every route (the
        API, the admin page and the command line), checked in the same transaction."""
        validate.record_id("user_id", user_id)
        role_list = _roles(roles) if roles is not None else None
        active = validate.flag("active", active)
        password_hash = self._password(password) if password is not None else None

        def work(session: Session) -> User | None:
            row = session.get(UserRow, user_id)
            if row is None:
                return None
            was_admin = row.active and "admin" in row.roles.split()
            still_admin = (row.active if active is None else active) and "admin" in (
                role_list if role_list is not None else row.roles.split())
            if was_admin and not still_admin:
                field = "active" if active is False else "roles"
                if user_id == acting_user_id:
                    raise StateConflictError(field, "you cannot remove your own admin role or "
                                             "disable yourself", "another admin can")
                # Lock every active admin row (PostgreSQL), so two such changes at once cannot
                # both see the other admin; SQLite's writer runs one change at a time anyway.
                others = session.scalars(
                    select(UserRow.id).where(UserRow.active.is_(True), UserRow.id != user_id,
                                             UserRow.roles.contains("admin"))
                    .with_for_update()).all()
                if not others:
                    raise StateConflictError(field, "this is the last active admin: the change "
                                             "would lock everyone out of user management",
                                             "first make another user admin")
            if role_list is not None:
                row.roles = " ".join(role_list)
            if active is not None:
                row.active = active
            if password_hash is not None:
                row.password_hash = password_hash
                row.failed_logins = 0
                row.locked_until = None
                # Another admin chose it: its owner is asked to choose their own at login.
                row.must_change_password = user_id != acting_user_id
            if active is False or password_hash is not None:  # end every open login
                session.query(LoginSessionRow).filter_by(user_id=user_id).delete()
            session.flush()
            return _load_user(session, user_id)

        found = self.db.write(work)
        if found is None:
            raise NotFoundError("user", str(user_id))
        return found

    def reset_password(self, user_id: int, *, password: str,
                       acting_user_id: int | None = None) -> User:
        """An admin sets another user's password: the user's logins end, and they are asked
        to choose a new one at their next login (``must_change_password``; ``update_user``
        sets it whenever the password is set by someone other than its owner)."""
        return self.update_user(user_id, password=password, acting_user_id=acting_user_id)

    def change_password(self, user_id: int, *, current: object, new: object,
                        keep_session: str | None = None) -> User:
        """A user's own change: ``current`` must be their password (a wrong one counts
        towards the lock-out like a failed login), ``new`` follows the rules of a new user's
        password and differs from the current one. Every other login of the user ends (the
        session ``keep_session``, the one making the change, stays)."""
        validate.record_id("user_id", user_id)
        if not isinstance(current, str) or not current:
            raise InputError("current_password", "is required", "your current password")
        try:
            new_hash = self._password(new)
        except InputError as exc:
            raise InputError("new_password", exc.message, exc.allowed) from None
        row = self.db.read(lambda session: session.get(UserRow, user_id))
        if row is None:
            raise NotFoundError("user", str(user_id))
        moment = validate.now()
        locked_until = validate.aware(row.locked_until)
        locked = locked_until is not None and locked_until > moment
        good = self._verify(row.password_hash, current) and not locked
        if not good:
            self.db.write(lambda session: self._count_attempt(
                session, None if locked else row.id, False, moment))
            raise StateConflictError("current_password", "is not your current password (after "
                             f"{MAX_FAILURES} wrong passwords in a row the account is locked "
                             f"for {LOCK_MINUTES} minutes)", "your current password")
        if self._verify(row.password_hash, new):  # type: ignore[arg-type]
            raise StateConflictError("new_password", "is the same as the current password",
                             "a password you have not been using")
        kept = digest(keep_session) if keep_session else ""

        def work(session: Session) -> User | None:
            found = session.get(UserRow, user_id)
            found.password_hash, found.must_change_password = new_hash, False
            found.failed_logins, found.locked_until = 0, None
            session.query(LoginSessionRow).filter(LoginSessionRow.user_id == user_id,
                                                  LoginSessionRow.token_hash != kept).delete()
            session.flush()
            return _load_user(session, user_id)

        return self.db.write(work)

    # --- login ----------------------------------------------------------------------------
    def authenticate(self, username: str, password: str) -> User:
        """The user, or NotAuthenticated with one answer for every failure: an unknown user
        name, a wrong password, a disabled account and a locked one (after MAX_FAILURES wrong
        passwords, for LOCK_MINUTES) get the same words, after the same work (one password
        hash check and one write), so the answer tells nothing about which names exist."""
        if not isinstance(username, str) or not isinstance(password, str):
            raise NotAuthenticated(FAILED_LOGIN)
        row_and_clinic = self.db.read(lambda session: session.execute(
            select(UserRow, ClinicRow.name).join(ClinicRow)
            .where(UserRow.username == username.strip().lower())).first())
        moment = validate.now()
        if row_and_clinic is None:
            self._verify(self._dummy_hash, password)  # the same work as for a real user
            self.db.write(lambda session: self._count_attempt(session, None, False, moment))
            raise NotAuthenticated(FAILED_LOGIN)
        row, clinic_name = row_and_clinic
        locked_until = validate.aware(row.locked_until)
        locked = locked_until is not None and locked_until > moment
        good = self._verify(row.password_hash, password) and row.active and not locked
        # While locked, attempts are not counted (the lock would never end) but cost the same.
        self.db.write(lambda session: self._count_attempt(
            session, None if locked else row.id, good, moment))
        if not good:
            raise NotAuthenticated(FAILED_LOGIN)
        if self.hasher.check_needs_rehash(row.password_hash):
            new_hash = self.hasher.hash(password)
            self.db.write(lambda session: session.execute(
                update(UserRow).where(UserRow.id == row.id).values(password_hash=new_hash)))
        return _user(row, clinic_name)

    def _verify(self, password_hash: str, password: str) -> bool:
        try:
            return self.hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    @staticmethod
    def _count_attempt(session: Session, user_id: int | None, good: bool,
                       moment: dt.datetime) -> None:
        """Count a failed login (or clear the count after a good one). ``None``: no user to
        count for; the same statement runs on no row, so every failure costs one write."""
        if user_id is None:
            session.execute(update(UserRow).where(UserRow.id == -1)
                            .values(failed_logins=UserRow.failed_logins))
            return
        row = session.get(UserRow, user_id)
        if good:
            row.failed_logins, row.locked_until = 0, None
            return
        row.failed_logins += 1
        if row.failed_logins >= MAX_FAILURES:
            row.failed_logins = 0
            row.locked_until = moment + dt.timedelta(minutes=LOCK_MINUTES)

    def start_session(self, user: User) -> tuple[str, LoginSession]:
        """A new login: the cookie value (shown once) and the session with its CSRF token."""
        token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        moment = validate.now()
        expires = moment + dt.timedelta(hours=SESSION_HOURS)

        def work(session: Session) -> None:
            session.query(LoginSessionRow).filter(LoginSessionRow.expires_at < moment).delete()
            session.add(LoginSessionRow(token_hash=digest(token), user_id=user.id,
                                        csrf_token=csrf, created_at=moment, expires_at=expires))

        self.db.write(work)
        return token, LoginSession(user=user, csrf_token=csrf, expires_at=expires)

    def session_for(self, token: str) -> LoginSession | None:
        """The live session of a cookie value, or None (unknown, expired, user disabled)."""
        if not token or len(token) > 100:
            return None

        def work(session: Session) -> LoginSession | None:
            found = session.execute(
                select(LoginSessionRow, UserRow, ClinicRow.name)
                .join(UserRow, LoginSessionRow.user_id == UserRow.id).join(ClinicRow)
                .where(LoginSessionRow.token_hash == digest(token))).first()
            if found is None:
                return None
            login, user_row, clinic_name = found
            expires = validate.aware(login.expires_at)
            if expires <= validate.now() or not user_row.active:
                return None
            return LoginSession(_user(user_row, clinic_name), login.csrf_token, expires)

        return self.db.read(work)

    def end_session(self, token: str) -> None:
        if token and len(token) <= 100:
            self.db.write(lambda session: session.query(LoginSessionRow)
                          .filter_by(token_hash=digest(token)).delete())

    # --- API tokens -----------------------------------------------------------------------
    def create_token(self, *, user_id: int, name: str) -> tuple[str, ApiToken]:
        """A new bearer token for scripts: the secret (shown once) and its record."""
        validate.record_id("user_id", user_id)
        label = validate.text("name", name, 200, required=True)
        secret = TOKEN_PREFIX + secrets.token_urlsafe(32)

        def work(session: Session) -> ApiToken | None:
            if session.get(UserRow, user_id) is None:
                return None
            row = ApiTokenRow(token_hash=digest(secret), prefix=secret[:10], name=label,
                              user_id=user_id, created_at=validate.now())
            session.add(row)
            session.flush()
            return _token(row)

        made = self.db.write(work)
        if made is None:
            raise NotFoundError("user", str(user_id))
        return secret, made

    def list_tokens(self, *, user_id: int | None = None) -> list[ApiToken]:
        query = select(ApiTokenRow).order_by(ApiTokenRow.id)
        if user_id is not None:
            query = query.where(ApiTokenRow.user_id == user_id)
        return self.db.read(lambda session: [_token(r) for r in session.scalars(query)])

    def revoke_token(self, token_id: int) -> ApiToken:
        def work(session: Session) -> ApiToken | None:
            row = session.get(ApiTokenRow, token_id)
            if row is None:
                return None
            row.revoked_at = row.revoked_at or validate.now()
            session.flush()
            return _token(row)

        found = self.db.write(work) if validate.is_record_id(token_id) else None
        if found is None:
            raise NotFoundError("API token", str(token_id))
        return found

    def user_for_token(self, secret: str) -> User | None:
        """The active user owning a live bearer token, or None."""
        if not secret.startswith(TOKEN_PREFIX) or len(secret) > 100:
            return None

        def work(session: Session) -> tuple[User, int, dt.datetime | None] | None:
            found = session.execute(
                select(ApiTokenRow, UserRow, ClinicRow.name)
                .join(UserRow, ApiTokenRow.user_id == UserRow.id).join(ClinicRow)
                .where(ApiTokenRow.token_hash == digest(secret))).first()
            if found is None or found[0].revoked_at is not None or not found[1].active:
                return None
            return _user(found[1], found[2]), found[0].id, validate.aware(found[0].last_used_at)

        found = self.db.read(work)
        if found is None:
            return None
        user, token_id, last_used = found
        moment = validate.now()
        if last_used is None or moment - last_used > dt.timedelta(minutes=TOKEN_TOUCH_MINUTES):
            self.db.write(lambda session: session.execute(
                update(ApiTokenRow).where(ApiTokenRow.id == token_id)
                .values(last_used_at=moment)))
        return user
