"""Storage on SQLite and PostgreSQL: migrations, round trips, validation that writes nothing,
concurrent writers, and the SQLite serial writer's group commit."""

from __future__ import annotations

import asyncio
import datetime as dt
import sqlite3
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import inspect, text
from sqlalchemy.orm import Session

from backmice.errors import InputError, NotFoundError, StorageError
from backmice.storage import open_store
from backmice.storage.migrate import current_revision, head_revision
from backmice.storage.tables import FeedbackRow

HEAD = head_revision()
DOC = {"format": "backmice.assessment", "lumps": [{"lump_id": "ä-1", "notes": ["→ ✓"]}],
       "big": list(range(2000))}


def test_migrations_create_the_tables_and_are_idempotent(store, database_url):
    tables = set(inspect(store.engine).get_table_names())
    assert {"saved_assessment", "feedback", "alembic_version"} <= tables
    assert current_revision(store.engine) == HEAD
    with open_store(database_url) as again:  # a second process on the same database
        assert current_revision(again.engine) == HEAD
        saved = store.save_assessment(input_doc={}, result_doc=DOC, kb_version="k",
                                      engine_version="e")
        assert again.get_assessment(share_id=saved.share_id).result_doc == DOC


def test_the_migrations_build_exactly_the_declared_tables(store):
    """Alembic's autogenerate finds nothing to change between the migrated database and
    tables.py: the two cannot drift apart unnoticed."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from backmice.storage.tables import Base

    with store.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diff = compare_metadata(context, Base.metadata)
    assert diff == []


def test_saved_assessment_round_trip(store):
    saved = store.save_assessment(input_doc={"findings": {"fever": False}}, result_doc=DOC,
                                  kb_version="2026.11.0", engine_version="0.1.0",
                                  title="Zoë's follow-up")
    assert len(saved.share_id) >= 16 and saved.created_at.tzinfo is not None
    back = store.get_assessment(share_id=saved.share_id)
    assert back == saved
    with pytest.raises(NotFoundError, match="saved assessment"):
        store.get_assessment(share_id="nope")
    with pytest.raises(NotFoundError):
        store.get_assessment(share_id="x" * 500)


def test_feedback_validation_writes_nothing(store):
    cases = [
        ({"kind": "other", "helpful": True, "text": None}, "kind"),
        ({"kind": "helpful", "helpful": None, "text": None}, "helpful"),
        ({"kind": "inaccuracy", "helpful": None, "text": "  "}, "text"),
        ({"kind": "inaccuracy", "helpful": None, "text": "x" * 5001}, "text"),
        ({"kind": "inaccuracy", "helpful": None, "text": "a\x00b"}, "text"),
        ({"kind": "inaccuracy", "helpful": None, "text": "bad \ud800"}, "text"),
    ]
    for fields, field in cases:
        with pytest.raises(InputError) as info:
            store.add_feedback(page="lipoma", contact=None, kb_version="k", **fields)
        assert info.value.field == field
    with pytest.raises(InputError) as info:
        store.add_feedback(page="", kind="helpful", helpful=True, text=None, contact=None,
                           kb_version="k")
    assert info.value.field == "page"
    assert store.count_feedback() == 0


def test_feedback_listing_and_status(store):
    made = [store.add_feedback(page=f"p{i}", kind="helpful", helpful=i % 2 == 0, text=None,
                               contact=None, kb_version="k") for i in range(5)]
    assert [f.id for f in store.list_feedback()] == [f.id for f in reversed(made)]
    assert [f.id for f in store.list_feedback(limit=2, offset=1)] == [made[3].id, made[2].id]
    done = store.set_feedback_status(feedback_id=made[0].id, status="resolved")
    assert done.status == "resolved" and done.resolved_at is not None
    assert store.count_feedback(status="open") == 4
    assert [f.id for f in store.list_feedback(status="resolved")] == [made[0].id]
    reopened = store.set_feedback_status(feedback_id=made[0].id, status="open")
    assert reopened.resolved_at is None
    with pytest.raises(NotFoundError):
        store.set_feedback_status(feedback_id=10**9, status="open")
    with pytest.raises(InputError):
        store.set_feedback_status(feedback_id=made[0].id, status="closed")


def test_concurrent_writers_all_acknowledged(store):
    threads, per_thread = 32, 8
    acknowledged: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def writer(n: int) -> None:
        try:
            for i in range(per_thread):
                saved = store.save_assessment(input_doc={"n": n, "i": i}, result_doc=DOC,
                                              kb_version="k", engine_version="e")
                with lock:
                    acknowledged.append(saved.share_id)
        except BaseException as exc:
            errors.append(exc)

    pool = [threading.Thread(target=writer, args=(n,)) for n in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    assert not errors
    assert len(set(acknowledged)) == threads * per_thread
    for share_id in acknowledged[::37]:
        assert store.get_assessment(share_id=share_id).result_doc == DOC


def test_a_failing_write_in_a_group_fails_alone(tmp_path):
    with open_store(f"sqlite:///{tmp_path / 'g.sqlite3'}") as store:
        results: dict[int, object] = {}

        def good(n: int) -> None:
            results[n] = store.add_feedback(page=f"p{n}", kind="helpful", helpful=True,
                                            text=None, contact=None, kb_version="k")

        def bad(n: int) -> None:
            def explode(session):
                session.execute(text("INSERT INTO nowhere VALUES (1)"))

            try:
                store.write(explode)
            except StorageError as exc:
                results[n] = exc

        pool = [threading.Thread(target=bad if n % 5 == 0 else good, args=(n,))
                for n in range(40)]
        for t in pool:
            t.start()
        for t in pool:
            t.join()
        assert sum(isinstance(r, StorageError) for r in results.values()) == 8
        assert store.count_feedback() == 32


def _run(coroutine):
    """asyncio.run in a thread of its own: Playwright's sync API, when the browser tests ran
    first in this process, leaves an event loop running in the main thread."""
    with ThreadPoolExecutor(1) as thread:
        return thread.submit(asyncio.run, coroutine).result()


def test_async_writes_from_many_coroutines_are_all_acknowledged(store):
    """The web routes' write path: coroutines await the write without holding a thread."""
    fields = {"kind": "helpful", "helpful": True, "text": None, "contact": None,
              "kb_version": "k"}

    async def write_all() -> list:
        return await asyncio.gather(*(store.write_async(store.feedback_write(
            page=f"p{n}", **fields)) for n in range(64)))

    made = _run(write_all())
    assert sorted(f.page for f in made) == sorted(f"p{n}" for n in range(64))
    assert len({f.id for f in made}) == 64 and store.count_feedback() == 64
    with pytest.raises(InputError, match="page"):  # checked before anything is queued
        store.feedback_write(page=" ", **fields)


def test_a_write_cancelled_while_queued_is_skipped_whole(tmp_path):
    """A request cancelled while its write waits in the queue (a client gone, a shutdown):
    the write is not done at all, and the writer carries on."""
    with open_store(f"sqlite:///{tmp_path / 'c.sqlite3'}") as store:
        entered, release = threading.Event(), threading.Event()

        def hold_the_writer(session):
            entered.set()
            release.wait(10)

        holder = threading.Thread(target=store.write, args=(hold_the_writer,))
        holder.start()
        assert entered.wait(10)

        async def cancel_one_queued() -> None:
            task = asyncio.create_task(store.write_async(store.feedback_write(
                page="cancelled", kind="helpful", helpful=True, text=None, contact=None,
                kb_version="k")))
            await asyncio.sleep(0.05)  # the write is queued behind the held one
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task

        _run(cancel_one_queued())
        release.set()
        holder.join(10)
        after = _run(asyncio.wait_for(store.write_async(store.feedback_write(
            page="after", kind="helpful", helpful=True, text=None, contact=None,
            kb_version="k")), 10))  # a dead writer fails here instead of hanging
        assert [f.page for f in store.list_feedback()] == ["after"]
        assert after.page == "after"


def test_sqlite_savepoints_nest_and_reads_see_one_snapshot(tmp_path):
    """What the group commit relies on: a write released from its SAVEPOINT stays invisible to
    other connections until the transaction's COMMIT (Python's sqlite3 driver used to make the
    first SAVEPOINT the transaction itself, so that each RELEASE committed on its own); and the
    statements of one read see one snapshot."""
    path = tmp_path / "n.sqlite3"
    count = "SELECT count(*) FROM feedback"
    with open_store(f"sqlite:///{path}") as store, \
            closing(sqlite3.connect(path)) as outsider:
        with Session(store.engine) as session, session.begin():
            with session.begin_nested():
                session.add(FeedbackRow(created_at=dt.datetime.now(dt.UTC), page="p",
                                        kind="helpful", helpful=True, status="open",
                                        kb_version="k"))
            assert outsider.execute(count).fetchone() == (0,)  # released, not committed
        assert outsider.execute(count).fetchone() == (1,)

        def read_twice(session):
            before = session.scalar(text(count))
            with outsider:
                outsider.execute("DELETE FROM feedback")
            return before, session.scalar(text(count))

        assert store.read(read_twice) == (1, 1)
        assert store.count_feedback() == 0


def test_close_drains_pending_writes(tmp_path):
    url = f"sqlite:///{tmp_path / 'd.sqlite3'}"
    store = open_store(url)
    pool = [threading.Thread(target=store.add_feedback,
                             kwargs={"page": "p", "kind": "helpful", "helpful": True,
                                     "text": None, "contact": None, "kb_version": "k"})
            for _ in range(20)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    store.close()
    store.close()  # twice is fine
    with pytest.raises(StorageError, match="closed"):
        store.add_feedback(page="p", kind="helpful", helpful=True, text=None, contact=None,
                           kb_version="k")
    with open_store(url) as again:
        assert again.count_feedback() == 20


@pytest.mark.parametrize("url", [
    "postgresql+psycopg://backmice:s3cret-pw@127.0.0.1:1/nowhere",
    "mysql://user:s3cret-pw@localhost/db",
    "not a url at all",
])
def test_bad_database_url_is_a_clear_error_without_the_password(url):
    with pytest.raises(StorageError) as info:
        open_store(url)
    assert "s3cret-pw" not in str(info.value)


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.text(min_size=1, max_size=300), contact=st.none() | st.text(max_size=50),
       page=st.text(min_size=1, max_size=60))
def test_any_feedback_text_is_stored_exactly_or_refused(store, body, contact, page):
    try:
        made = store.add_feedback(page=page, kind="inaccuracy", helpful=None, text=body,
                                  contact=contact, kb_version="k")
    except InputError as exc:
        assert exc.field in ("page", "text", "contact")
        return
    back = next(f for f in store.list_feedback(limit=1000) if f.id == made.id)
    assert (back.text, back.contact, back.page) == (made.text, made.contact, made.page)
    assert back.text == body
