"""The loader on a real PostgreSQL: COPY + merge, bookkeeping in the same transaction."""

from __future__ import annotations

import contextlib
import threading
from datetime import UTC, date, datetime, timedelta

import psycopg
import pytest
from psycopg import sql

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


SCHEMA_FOLDERS = ("sync_meta", "auvo", "e_track")


def test_reapplying_the_schema_files_never_waits_for_a_running_load(warehouse_url) -> None:
    """Every run applies the schema files while other runs' loads hold their tables. Where the
    schema is in place, applying it must take no lock a load conflicts with: a load holds ROW
    EXCLUSIVE on what it writes, and ALTER TABLE … ADD COLUMN IF NOT EXISTS (ACCESS EXCLUSIVE) or
    CREATE INDEX IF NOT EXISTS (SHARE) lock the table before finding there is nothing to do. One
    load reading a table (ACCESS SHARE), then the schema queueing for ACCESS EXCLUSIVE, then the
    load's INSERT queueing behind it was a deadlock in a 30-day backfill of both DAGs
    (tests/distributed/celery_backfill.py)."""
    paths = [p for folder in SCHEMA_FOLDERS for p in sql_files(folder)]
    with psycopg.connect(warehouse_url.url, autocommit=True) as conn:
        run_schema_files(conn, paths)
        tables = conn.execute(
            "SELECT format('%%I.%%I', schemaname, tablename) FROM pg_tables WHERE schemaname = ANY(%s)",
            (list(SCHEMA_FOLDERS),),
        ).fetchall()
    assert len(tables) > 20
    with psycopg.connect(warehouse_url.url) as load_conn:
        # What concurrent loads hold: ROW EXCLUSIVE on every table they may write.
        for (name,) in tables:
            load_conn.execute(f"LOCK TABLE {name} IN ROW EXCLUSIVE MODE")
        with psycopg.connect(warehouse_url.url, autocommit=True, options="-c lock_timeout=3000") as conn:
            run_schema_files(conn, paths)  # old files: LockNotAvailable after 3 s
        load_conn.rollback()


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


# --------------------------------------------------------------------------- newer never loses

VERSIONED = Table(
    "demo",
    "versioned",
    key=("thing_id",),
    columns=("thing_id", "name", "stamp", "raw"),
    soft_delete=True,
    version_column="stamp",
)
T0 = datetime(2025, 3, 10, 12, tzinfo=UTC)


@pytest.fixture
def vdb(db):
    db.execute(
        "CREATE TABLE demo.versioned (thing_id bigint PRIMARY KEY, name text, stamp timestamptz, "
        "raw jsonb NOT NULL, synced_at timestamptz NOT NULL, deleted_at timestamptz)"
    )
    return db


def vload(conn, rows, *, tombstones: bool = False, run_id: str = "r1"):
    with open_load(conn, run(stream="versioned", run_id=run_id)) as ld:
        stage = ld.stage(VERSIONED)
        stage.copy(rows)
        result = stage.merge_tombstones(sql.SQL("coalesce(stamp, now())")) if tombstones else stage.merge()
        ld.finish(requests=1, pages=1, retries=0, rows_received=len(rows))
    return result


def vrows(conn):
    return {
        r[0]: r[1:]
        for r in conn.execute("SELECT thing_id, name, stamp, deleted_at FROM demo.versioned").fetchall()
    }


def test_an_older_stamp_never_replaces_a_newer_one(vdb) -> None:
    hour = timedelta(hours=1)
    vload(
        vdb, [(1, "new", T0, {}), (2, "old", T0 - hour, {}), (3, "stamped", T0, {}), (4, "unknown", None, {})]
    )
    result = vload(
        vdb,
        [
            (1, "older", T0 - hour, {}),  # older: ignored
            (2, "newer", T0, {}),  # newer: wins
            (3, "unknown", None, {}),  # no stamp: cannot prove it is newer, ignored
            (4, "stamped", T0 - hour, {}),  # a stamp beats no stamp
        ],
    )
    assert (result.inserted, result.updated) == (0, 2)
    assert vrows(vdb) == {
        1: ("new", T0, None),
        2: ("newer", T0, None),
        3: ("stamped", T0, None),
        4: ("stamped", T0 - hour, None),
    }


def test_an_equal_stamp_from_a_load_that_began_earlier_does_not_win(vdb, warehouse_url) -> None:
    vload(vdb, [(1, "first", T0, {})])
    with open_load(vdb, run(stream="versioned", run_id="early")) as early:
        with psycopg.connect(warehouse_url.url) as other:
            vload(other, [(1, "late", T0, {})], run_id="late")  # began after `early`, committed
        stage = early.stage(VERSIONED)
        stage.copy([(1, "early", T0, {})])
        assert stage.merge().updated == 0
        early.finish(requests=1, pages=1, retries=0, rows_received=1)
    assert vrows(vdb)[1] == ("late", T0, None)
    vload(vdb, [(1, "later still", T0, {})])  # same stamp, a load that began after: it wins
    assert vrows(vdb)[1] == ("later still", T0, None)


def test_a_deletion_is_a_version_and_an_older_live_one_cannot_resurrect_it(vdb) -> None:
    hour = timedelta(hours=1)
    vload(vdb, [(1, "alive", T0, {}), (2, "alive", T0 + 2 * hour, {})])
    result = vload(
        vdb,
        [(1, "deleted", T0 + hour, {}), (2, "deleted", T0 + hour, {}), (3, "never seen", T0, {})],
        tombstones=True,
    )
    assert (result.inserted, result.updated) == (1, 1)  # 3 is a tombstone; 2 is newer than its deletion
    assert vrows(vdb) == {
        1: ("deleted", T0 + hour, T0 + hour),
        2: ("alive", T0 + 2 * hour, None),
        3: ("never seen", T0, T0),
    }
    # A run that fetched 1 before it was deleted merges later: the deletion stands.
    assert vload(vdb, [(1, "alive", T0, {})]).updated == 0
    assert vrows(vdb)[1] == ("deleted", T0 + hour, T0 + hour)
    # Marking again keeps the first deleted_at; a version newer than the deletion brings it back.
    assert vload(vdb, [(1, "deleted", T0 + 2 * hour, {})], tombstones=True).updated == 0
    assert vload(vdb, [(1, "back", T0 + 3 * hour, {})]).updated == 1
    assert vrows(vdb)[1] == ("back", T0 + 3 * hour, None)


def test_a_version_column_must_be_a_loaded_value_column() -> None:
    with pytest.raises(ValueError, match="version column"):
        Table("s", "t", key=("id",), columns=("id", "name"), version_column="stamp")
    with pytest.raises(ValueError, match="version column"):
        Table("s", "t", key=("id",), columns=("id", "name"), version_column="id")


def test_a_snapshot_fetched_before_a_newer_write_is_superseded(db, warehouse_url) -> None:
    with open_load(db, run(run_id="slow")) as slow:  # begins fetching first
        with psycopg.connect(warehouse_url.url) as other:
            load(other, [(1, "newer", {})], complete=True, run_info=run(run_id="fast"))
        reason = slow.superseded_by()
        assert reason is not None and "run fast" in reason
        summary = slow.finish(requests=1, pages=1, retries=0, rows_received=1, skipped=reason)
    assert "skipped: a newer snapshot" in summary.line()
    rows = db.execute("SELECT run_id, status, error FROM sync_meta.sync_runs ORDER BY run_id").fetchall()
    assert rows == [("fast", "success", None), ("slow", "skipped", reason)]
    with open_load(db, run(run_id="after")) as after:  # begins after the last write: not superseded
        assert after.superseded_by() is None
    with open_load(db, run(stream="other", run_id="other")) as unrelated:
        assert unrelated.superseded_by() is None


def test_a_callers_open_transaction_is_refused_not_committed(db) -> None:
    from sync_apis.warehouse import OpenTransactionError

    db.autocommit = False
    db.execute("INSERT INTO demo.things (thing_id, name, raw, synced_at) VALUES (99, 'caller', '{}', now())")
    with pytest.raises(OpenTransactionError, match="inside a transaction"), open_load(db, run()):
        pass
    db.rollback()  # the caller's work was its own to keep or drop: nothing of it was committed
    db.autocommit = True
    assert table(db) == []
    assert db.execute("SELECT count(*) FROM sync_meta.sync_runs").fetchone()[0] == 0


@pytest.mark.parametrize("fails", [False, True], ids=["success", "failure"])
def test_a_load_gives_the_connection_back_as_the_caller_set_it(db, fails: bool) -> None:
    """A load runs in autocommit (its transaction is explicit), then hands the connection back
    with the caller's setting: a caller without autocommit is again in charge of its own
    transactions, so its next statement is not committed behind its back."""
    db.autocommit = False
    db.commit()  # the fixture's connection starts in autocommit; nothing is pending
    with contextlib.suppress(RuntimeError), open_load(db, run()) as ld:
        stage = ld.stage(THINGS)
        stage.copy([(1, "x", {})])
        stage.merge()
        if fails:
            raise RuntimeError("boom")
    assert db.autocommit is False
    db.execute("INSERT INTO demo.things (thing_id, name, raw, synced_at) VALUES (99, 'caller', '{}', now())")
    db.rollback()  # the caller's statement was in the caller's transaction: rolled back, not kept
    db.autocommit = True
    assert [r[0] for r in table(db)] == ([] if fails else [1])


def test_several_runs_share_one_load_and_each_gets_a_failed_row(db) -> None:
    with pytest.raises(RuntimeError, match="boom"), open_load(db, run("a"), run("b")) as (a, _b):
        a.stage(THINGS).copy([(1, "x", {})])
        raise RuntimeError("boom")
    rows = db.execute("SELECT stream, status FROM sync_meta.sync_runs ORDER BY stream").fetchall()
    assert rows == [("a", "failed"), ("b", "failed")]
    assert table(db) == []


# Every column type e-Track's typed rows use (Table.typed_rows: binary COPY).
TYPED_COLUMNS = ("k", "t", "f", "b", "ts", "d", "iv", "j", "j2")
TYPED_DDL = (
    "(k bigint PRIMARY KEY, t text, f double precision, b boolean, ts timestamptz, d date, "
    "iv interval, j jsonb NOT NULL DEFAULT '{}', j2 jsonb, synced_at timestamptz NOT NULL)"
)


def test_binary_copy_of_typed_rows_stores_what_text_copy_stores(db) -> None:
    """The same rows, COPYed as text (the default) and as binary (``typed_rows``), are the same
    rows in PostgreSQL: NUL dropped from text and from JSON, jsonb from a dict, a list or JSON text,
    NULLs, aware timestamps of any zone (DST included), floats to the last bit, non-ASCII text."""
    from zoneinfo import ZoneInfo

    sp = ZoneInfo("America/Sao_Paulo")
    rows = [
        (1, "a\x00b", 1.1, True, datetime(2025, 3, 12, 0, 0, 26, tzinfo=sp), date(2025, 3, 12),
         timedelta(hours=1, minutes=11, seconds=35), {"s": "c\u0000d", "n": [1, {"y": None}]}, None),
        (2, "São Paulo – Av. Rebouças", -46.6442417, False, datetime(2018, 11, 4, 0, 30, tzinfo=sp),
         None, timedelta(hours=-1), {}, '{"raw": "x\x00y"}'),
        (3, None, None, None, None, None, None, [1, "two", {"três": 3.0}], ["é"]),
        (4, "", 0.1 + 0.2, True, datetime(2025, 1, 1, 3, 0, 0, 123456, tzinfo=UTC), date(1999, 12, 31),
         timedelta(days=2, microseconds=1), {"f": 1e-300, "big": 10**20, "at": datetime(2025, 1, 1)}, {}),
    ]  # fmt: skip
    for name, typed in (("as_text", False), ("as_binary", True)):
        db.execute(f"CREATE TABLE demo.{name} {TYPED_DDL}")
        table = Table("demo", name, key=("k",), columns=TYPED_COLUMNS, typed_rows=typed)
        with open_load(db, run(name)) as ld:
            stage = ld.stage(table)
            assert stage.copy(rows) == len(rows)
            assert stage.copy(rows[:1]) == 1  # a second COPY into the same stage
            stage.merge()
            ld.finish(requests=0, pages=0, retries=0, rows_received=len(rows))
    columns = ", ".join(TYPED_COLUMNS)
    as_text, as_binary = (
        db.execute(f"SELECT {columns}, ROW({columns})::text FROM demo.{name} ORDER BY k").fetchall()
        for name in ("as_text", "as_binary")
    )
    assert as_binary == as_text
    assert as_binary[0][1] == "ab" and as_binary[0][7] == {"s": "cd", "n": [1, {"y": None}]}
    assert as_binary[1][8] == {"raw": "xy"}


def test_binary_copy_rejects_a_row_of_the_wrong_width(db) -> None:
    db.execute(f"CREATE TABLE demo.typed {TYPED_DDL}")
    table = Table("demo", "typed", key=("k",), columns=TYPED_COLUMNS, typed_rows=True)
    with pytest.raises(ValueError, match="row has 2 values, expected 9"), open_load(db, run("typed")) as ld:
        ld.stage(table).copy([(1, "x")])
