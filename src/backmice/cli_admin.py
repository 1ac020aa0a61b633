"""Operator commands: ``backmice user ...``, ``backmice token ...``, ``backmice db ...`` and
``backmice cds-client ...``.

They work on the database of the settings (``--data-dir`` / ``--database-url`` or the
BACKMICE_* environment variables), exactly as ``backmice serve`` would open it.
"""

from __future__ import annotations

import getpass
import json
import os
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

from backmice.errors import BackmiceError

user_app = typer.Typer(no_args_is_help=True, help="Manage user accounts.")
token_app = typer.Typer(no_args_is_help=True, help="Manage API tokens for scripts.")
db_app = typer.Typer(no_args_is_help=True, help="Upgrade, back up and restore the database.")
cds_client_app = typer.Typer(no_args_is_help=True,
                             help="Register the EHRs allowed to call the CDS Hooks services.")

DataDir = Annotated[Path | None, typer.Option(
    help="Folder of the embedded SQLite database [env BACKMICE_DATA_DIR; default ./data].")]
DatabaseUrl = Annotated[str | None, typer.Option(
    help="SQLAlchemy URL [env BACKMICE_DATABASE_URL; default SQLite in the data folder].")]


def _fail(message: str, code: int = 2) -> NoReturn:
    typer.echo(f"backmice: error: {message}", err=True)
    raise typer.Exit(code)


def _store(data_dir: Path | None, database_url: str | None) -> Any:
    from backmice.config import Settings
    from backmice.storage import open_store

    try:
        return open_store(Settings.load(data_dir=data_dir, database_url=database_url)
                          .database_url)
    except BackmiceError as exc:
        _fail(str(exc))


def _user_named(store: Any, username: str) -> Any:
    try:
        return store.accounts.find_user(username)
    except BackmiceError:
        _fail(f"no user {username!r}")


def _password() -> str:
    """From BACKMICE_PASSWORD (for scripts) or asked twice without echo."""
    if os.environ.get("BACKMICE_PASSWORD"):
        return os.environ["BACKMICE_PASSWORD"]
    first = getpass.getpass("Password (10 characters or more): ")
    if getpass.getpass("Again: ") != first:
        _fail("the two passwords differ")
    return first


@user_app.command("create")
def user_create(
    username: str,
    admin: Annotated[bool, typer.Option("--admin", help="Also give the admin role.")] = False,
    role: Annotated[list[str] | None, typer.Option(
        help="A role: clinician, reviewer or admin (repeat for several) "
             "[default: clinician].")] = None,
    name: Annotated[str | None, typer.Option(help="Display name.")] = None,
    clinic: Annotated[str | None, typer.Option(help="Clinic name [default: Main clinic].")]
    = None,
    data_dir: DataDir = None, database_url: DatabaseUrl = None,
) -> None:
    """Create a user; the password is asked for (or read from BACKMICE_PASSWORD)."""
    roles = list(role or ["clinician"]) + (["admin"] if admin else [])
    with _store(data_dir, database_url) as store:
        try:
            user = store.accounts.create_user(username=username, password=_password(),
                                              roles=roles, display_name=name, clinic=clinic)
        except BackmiceError as exc:
            _fail(str(exc))
        store.audit.add(None, "user_change", target=f"user:{user.id}", username="(command line)")
    typer.echo(f"created user {user.username} ({', '.join(user.roles)}) in {user.clinic_name}")


@user_app.command("list")
def user_list(data_dir: DataDir = None, database_url: DatabaseUrl = None) -> None:
    """List the users."""
    with _store(data_dir, database_url) as store:
        for u in store.accounts.list_users():
            state = "active" if u.active else "disabled"
            typer.echo(f"{u.id}\t{u.username}\t{' '.join(u.roles)}\t{u.clinic_name}\t{state}")


def _change_user(username: str, data_dir: Path | None, database_url: str | None,
                 **change: Any) -> Any:
    """One change to a user, under the rules of every route (never the last active admin)."""
    with _store(data_dir, database_url) as store:
        user = _user_named(store, username)
        try:
            changed = store.accounts.update_user(user.id, **change)
        except BackmiceError as exc:
            _fail(str(exc))
        store.audit.add(None, "user_change", target=f"user:{user.id}",
                        username="(command line)")
    return changed


@user_app.command("disable")
def user_disable(username: str, data_dir: DataDir = None,
                 database_url: DatabaseUrl = None) -> None:
    """Disable a user (their logins and API tokens end at once; their records stay). The last
    active admin cannot be disabled."""
    _change_user(username, data_dir, database_url, active=False)
    typer.echo(f"disabled {username}")


@user_app.command("enable")
def user_enable(username: str, data_dir: DataDir = None,
                database_url: DatabaseUrl = None) -> None:
    """Enable a disabled user again (their API tokens work again unless revoked)."""
    _change_user(username, data_dir, database_url, active=True)
    typer.echo(f"enabled {username}")


@user_app.command("roles")
def user_roles(
    username: str,
    role: Annotated[list[str], typer.Option(
        help="A role: clinician, reviewer or admin (repeat for several); replaces the user's "
             "roles.")],
    data_dir: DataDir = None, database_url: DatabaseUrl = None,
) -> None:
    """Set a user's roles. The last active admin keeps the admin role."""
    user = _change_user(username, data_dir, database_url, roles=role)
    typer.echo(f"{user.username} now has the roles {', '.join(user.roles)}")


@token_app.command("create")
def token_create(username: str,
                 name: Annotated[str, typer.Option(help="What the token is for.")],
                 data_dir: DataDir = None, database_url: DatabaseUrl = None) -> None:
    """Create an API token for a user; it is printed once and never stored in clear."""
    with _store(data_dir, database_url) as store:
        user = _user_named(store, username)
        secret, token = store.accounts.create_token(user_id=user.id, name=name)
        store.audit.add(None, "token_change", target=f"token:{token.id}",
                        username="(command line)")
    typer.echo(secret)
    typer.echo(f"token {token.id} for {username}: send it as 'Authorization: Bearer <token>'; "
               "it is not shown again.", err=True)


@token_app.command("revoke")
def token_revoke(token_id: int, data_dir: DataDir = None,
                 database_url: DatabaseUrl = None) -> None:
    """Revoke an API token by its id."""
    with _store(data_dir, database_url) as store:
        try:
            store.accounts.revoke_token(token_id)
        except BackmiceError as exc:
            _fail(str(exc))
    typer.echo(f"revoked token {token_id}")


@db_app.command("upgrade")
def db_upgrade(data_dir: DataDir = None, database_url: DatabaseUrl = None) -> None:
    """Apply the migrations (the server also does this when it starts)."""
    from backmice.storage.migrate import current_revision

    with _store(data_dir, database_url) as store:
        typer.echo(f"database at schema revision {current_revision(store.engine)}")


@db_app.command("backup")
def db_backup(path: Path, data_dir: DataDir = None, database_url: DatabaseUrl = None) -> None:
    """Write every table to PATH (gzip JSON lines; restores into SQLite or PostgreSQL)."""
    from backmice.storage.backup import backup

    if path.exists():
        _fail(f"{path} exists; choose a new file name")
    with _store(data_dir, database_url) as store:
        counts = backup(store.engine, path)
    typer.echo(f"backed up {sum(counts.values())} rows from {len(counts)} tables to {path}")


@db_app.command("restore")
def db_restore(path: Path, data_dir: DataDir = None, database_url: DatabaseUrl = None) -> None:
    """Load a backup into an empty database (all or nothing)."""
    from backmice.storage.backup import restore

    if not path.is_file():
        _fail(f"no backup file {path}")
    with _store(data_dir, database_url) as store:
        try:
            counts = restore(store.engine, path)
        except BackmiceError as exc:
            _fail(str(exc))
    typer.echo(f"restored {sum(counts.values())} rows into {len(counts)} tables")


def _jwks_source(source: str) -> tuple[dict[str, Any] | None, str | None]:
    """A JWK Set from a file (kept in the database), or an http(s) URL (fetched when needed)."""
    if source.startswith(("https://", "http://")):
        return None, source
    try:
        found = json.loads(Path(source).read_text(encoding="utf-8"))
    except OSError as exc:
        _fail(f"cannot read {source}: {exc.strerror or exc}")
    except ValueError:
        _fail(f"{source} is not JSON (a JWK Set is {{\"keys\": [...]}})")
    public = [k for k in found.get("keys", []) if isinstance(k, dict)] if isinstance(
        found, dict) else []
    if any(k.get("d") or k.get("k") for k in public):
        _fail(f"{source} holds a private or symmetric key; give the public JWK Set only")
    return found, None


@cds_client_app.command("add")
def cds_client_add(
    issuer: Annotated[str, typer.Argument(help="The JWT issuer (iss) of the EHR.")],
    jwks: Annotated[str, typer.Option(help="The EHR's public JWK Set: a file, or an http(s) "
                                           "URL to fetch it from.")],
    data_dir: DataDir = None, database_url: DatabaseUrl = None,
) -> None:
    """Allow an EHR to call the CDS Hooks services (or replace its keys)."""
    keys, url = _jwks_source(jwks)
    with _store(data_dir, database_url) as store:
        try:
            store.cds.add_client(issuer=issuer, jwks=keys, jwks_url=url)
        except BackmiceError as exc:
            _fail(str(exc))
    typer.echo(f"CDS Hooks client {issuer} registered")


@cds_client_app.command("list")
def cds_client_list(data_dir: DataDir = None, database_url: DatabaseUrl = None) -> None:
    """List the EHRs allowed to call, with where their keys come from."""
    with _store(data_dir, database_url) as store:
        for c in store.cds.clients():
            keys = c.jwks_url or f"{len(c.jwks.get('keys', []))} key(s) on file"
            typer.echo(f"{c.issuer}\t{keys}\t{c.added_at:%Y-%m-%d}")


@cds_client_app.command("remove")
def cds_client_remove(issuer: str, data_dir: DataDir = None,
                      database_url: DatabaseUrl = None) -> None:
    """Stop accepting calls from an EHR."""
    with _store(data_dir, database_url) as store:
        try:
            store.cds.remove_client(issuer)
        except BackmiceError:
            _fail(f"no CDS Hooks client {issuer!r}")
    typer.echo(f"CDS Hooks client {issuer} removed")
