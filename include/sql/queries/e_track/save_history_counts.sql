-- What each plate's history answer held for one local day (etrac.sync.load_history): the
-- empty-day check compares a chunk with the plates' nearest days (nearest_history_counts.sql).
-- Rewritten only when a count changed, so re-running a day is a no-op.
INSERT INTO e_track.history_counts AS h
       (placa, dia, positions_received, positions_distinct, positions_rejected,
        trips_received, trips_rejected)
VALUES (%(placa)s, %(dia)s, %(positions_received)s, %(positions_distinct)s, %(positions_rejected)s,
        %(trips_received)s, %(trips_rejected)s)
ON CONFLICT (placa, dia) DO UPDATE
   SET positions_received = EXCLUDED.positions_received,
       positions_distinct = EXCLUDED.positions_distinct,
       positions_rejected = EXCLUDED.positions_rejected,
       trips_received = EXCLUDED.trips_received, trips_rejected = EXCLUDED.trips_rejected,
       synced_at = now()
 WHERE ROW(h.positions_received, h.positions_distinct, h.positions_rejected,
           h.trips_received, h.trips_rejected)
       IS DISTINCT FROM
       ROW(EXCLUDED.positions_received, EXCLUDED.positions_distinct,
           EXCLUDED.positions_rejected, EXCLUDED.trips_received, EXCLUDED.trips_rejected)
