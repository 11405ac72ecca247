"""The loader on a real PostgreSQL: COPY + merge, bookkeeping in the same transaction."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta

import psycopg
import pytest

from sync_apis.sql_files import sql_files
from sync_apis.warehouse import RunInfo, Table, json_text, open_load, run_schema_files

THINGS = Table("demo", "things", key=("thing_id",), columns=("thing_id", "name", "raw"), soft_delete=True)


@pytest.fixture
def db(warehouse_with_meta):
    warehouse_with_meta.execute("CREATE SCHEMA demo")
    warehouse_with_meta.execute(
        "CREATE TABLE demo.things (thing_id bigint PRIMARY KEY, name text, raw jsonb NOT NULL, "
        "synced_at timestamptz NOT NULL, deleted_at timestamptz)"
    )
    return warehouse_with_meta


def run(stream: str = "things", day: date | None = date(2025, 3, 10), run_id: str = "r1") -> RunInfo:
    return RunInfo(source="demo", stream=stream, day=day, run_id=run_id, dag_id="d", task_id="t")


def load(conn, rows, *, complete: bool = False, run_info: RunInfo | None = None):
    with open_load(conn, run_info or run()) as ld:
        stage = ld.stage(THINGS)
        stage.copy(rows)
        result = stage.merge()
        deleted = stage.mark_missing_deleted() if complete else 0
        summary = ld.finish(requests=1, pages=1, retries=0, rows_received=len(rows))
    return result, deleted, summary


def table(conn):
    return conn.execute(
        "SELECT thing_id, name, raw, synced_at, deleted_at FROM demo.things ORDER BY 1"
    ).fetchall()


def test_schema_files_apply_twice(warehouse_conn) -> None:
    warehouse_conn.autocommit = True
    run_schema_files(warehouse_conn, sql_files("sync_meta"))
    run_schema_files(warehouse_conn, sql_files("sync_meta"))
    names = {
        r[0]
        for r in warehouse_conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'sync_meta'"
        )
    }
    assert names == {"sync_runs", "watermarks", "rejected_records"}


def test_insert_then_rerun_changes_nothing_then_update(db) -> None:
    rows = [(1, "a", {"x": 1}), (2, "b", {"x": 2})]
    result, _, summary = load(db, rows)
    assert (result.inserted, result.updated) == (2, 0)
    assert summary.rows_received == 2
    before = table(db)

    result, _, _ = load(db, rows)
    assert (result.inserted, result.updated) == (0, 0)
    assert table(db) == before  # synced_at untouched too

    result, _, _ = load(db, [(1, "a2", {"x": 1}), (2, "b", {"x": 2})])
    assert (result.inserted, result.updated) == (0, 1)
    assert table(db)[0][1] == "a2"


def test_last_staged_row_of_a_key_wins(db) -> None:
    result, _, _ = load(db, [(1, "old", {}), (1, "new", {}), (2, "b", {})])
    assert result.inserted == 2
    assert [r[1] for r in table(db)] == ["new", "b"]


def test_json_and_nul_bytes_survive(db) -> None:
    load(db, [(1, "a\x00b", {"s": "c\u0000d", "nested": [1, {"y": None}]})])
    (row,) = table(db)
    assert row[1] == "ab"
    assert row[2] == {"s": "cd", "nested": [1, {"y": None}]}
    assert json_text({"a": 1}) == '{"a":1}'


def test_complete_listing_soft_deletes_and_a_comeback_clears_it(db) -> None:
    load(db, [(1, "a", {}), (2, "b", {}), (3, "c", {})])
    _, deleted, summary = load(db, [(1, "a", {}), (3, "c", {})], complete=True)
    assert deleted == 1 and summary.rows_deleted == 1
    assert [r[4] is not None for r in table(db)] == [False, True, False]
    # marking again is a no-op
    _, deleted, _ = load(db, [(1, "a", {}), (3, "c", {})], complete=True)
    assert deleted == 0
    result, _, _ = load(db, [(1, "a", {}), (2, "b", {}), (3, "c", {})], complete=True)
    assert result.updated == 1
    assert all(r[4] is None for r in table(db))


def test_failure_rolls_back_everything_and_records_the_error(db) -> None:
    with pytest.raises(RuntimeError, match="boom"), open_load(db, run()) as ld:
        stage = ld.stage(THINGS)
        stage.copy([(1, "a", {})])
        stage.merge()
        ld.reject("bad record", {"id": None})
        ld.set_watermark(datetime(2025, 3, 10, tzinfo=UTC))
        raise RuntimeError("boom")
    assert table(db) == []
    assert db.execute("SELECT count(*) FROM sync_meta.rejected_records").fetchone() == (0,)
    assert db.execute("SELECT count(*) FROM sync_meta.watermarks").fetchone() == (0,)
    status, error = db.execute("SELECT status, error FROM sync_meta.sync_runs").fetchone()
    assert status == "failed" and error == "RuntimeError: boom"
    # a successful retry of the same task replaces the failed row
    load(db, [(1, "a", {})])
    assert db.execute("SELECT status, rows_inserted FROM sync_meta.sync_runs").fetchall() == [("success", 1)]


def test_rejected_records_are_kept_once(db) -> None:
    for _ in range(2):
        with open_load(db, run()) as ld:
            ld.reject("no taskID", {"foo": 1})
            ld.reject("no taskID", {"foo": 2})
            summary = ld.finish(requests=1, pages=1, retries=0, rows_received=2)
        assert summary.rows_rejected == 2
    rows = db.execute("SELECT reason, raw FROM sync_meta.rejected_records ORDER BY raw::text").fetchall()
    assert rows == [("no taskID", {"foo": 1}), ("no taskID", {"foo": 2})]


def test_watermark_never_moves_backwards(db) -> None:
    t0 = datetime(2025, 3, 10, 12, tzinfo=UTC)
    for value in (t0, t0 - timedelta(days=3), t0 + timedelta(hours=1)):
        with open_load(db, run()) as ld:
            ld.set_watermark(value)
    with open_load(db, run()) as ld:
        assert ld.get_watermark() == t0 + timedelta(hours=1)
    with pytest.raises(ValueError, match="aware"), open_load(db, run()) as ld:
        ld.set_watermark(datetime(2025, 3, 10))


def test_concurrent_loads_of_overlapping_keys_do_not_deadlock(db, warehouse_url) -> None:
    """Backfills run days in parallel; their merges touch the same rows in any order."""
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            with psycopg.connect(warehouse_url.url) as conn:
                for round_ in range(5):
                    keys = list(range(200)) if n % 2 else list(reversed(range(200)))
                    rows = [(k, f"w{n}r{round_}", {"k": k}) for k in keys]
                    load(conn, rows, run_info=run(run_id=f"w{n}", day=date(2025, 3, 10 + n)))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    assert db.execute("SELECT count(*) FROM demo.things").fetchone() == (200,)
    assert db.execute("SELECT count(*) FROM sync_meta.sync_runs WHERE status = 'success'").fetchone() == (4,)


def test_table_description_is_checked() -> None:
    with pytest.raises(ValueError, match="key columns"):
        Table("s", "t", key=("id",), columns=("name",))
    with pytest.raises(ValueError, match="managed by the loader"):
        Table("s", "t", key=("id",), columns=("id", "synced_at"))


def test_concurrent_runs_rejecting_the_same_record_do_not_deadlock(db, warehouse_url) -> None:
    """A rejects X then keeps fetching; B merges (takes the source's lock) then rejects X too.

    Written straight into rejected_records, B's insert would wait for A's uncommitted row while A
    waits for B's lock: a deadlock. Buffered and flushed under the lock, both commit.
    """
    a_rejected, b_merged = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def run_a() -> None:
        try:
            with psycopg.connect(warehouse_url.url) as conn, open_load(conn, run(run_id="a")) as ld:
                ld.reject("bad", {"id": "X"})
                a_rejected.set()
                b_merged.wait(10)
                stage = ld.stage(THINGS)
                stage.copy([(1, "a", {})])
                stage.merge()
                ld.finish(requests=1, pages=1, retries=0, rows_received=2)
        except BaseException as exc:
            errors.append(exc)

    def run_b() -> None:
        try:
            a_rejected.wait(10)
            with psycopg.connect(warehouse_url.url) as conn, open_load(conn, run(run_id="b", day=None)) as ld:
                stage = ld.stage(THINGS)
                stage.copy([(2, "b", {})])
                stage.merge()
                b_merged.set()
                ld.reject("bad", {"id": "X"})
                ld.finish(requests=1, pages=1, retries=0, rows_received=2)
        except BaseException as exc:
            errors.append(exc)
            b_merged.set()

    threads = [threading.Thread(target=run_a), threading.Thread(target=run_b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    assert db.execute("SELECT count(*) FROM demo.things").fetchone() == (2,)
    assert db.execute("SELECT count(*) FROM sync_meta.rejected_records").fetchone() == (1,)


def test_distinct_keys_counts_ids_not_records(db) -> None:
    # A listing whose pages shifted: 3 records, the right total, but key 2 twice and key 3 missing.
    with open_load(db, run()) as ld:
        stage = ld.stage(THINGS)
        stage.copy([(1, "a", {}), (2, "b", {}), (2, "b", {})])
        assert stage.rows == 3 and stage.distinct_keys() == 2
