-- e_track, step 2: the warehouse tables (the warehouse contract: README, "What is synced").
-- Field names are the API's own; times are timestamptz (the API's local America/Sao_Paulo
-- times converted by the loader); synced_at is when the row last changed.
SELECT pg_advisory_xact_lock(hashtext('sync_apis.schema'));

CREATE SCHEMA IF NOT EXISTS e_track;

-- One row per vehicle, from /ultimas-posicoes: what it is and its last fix.
CREATE TABLE IF NOT EXISTS e_track.terminals (
    placa               text        NOT NULL,
    descricao           text,
    frota               text,
    equipamento_serial  text,
    data_transmissao    timestamptz,
    data_gravacao       timestamptz,
    latitude            double precision,
    longitude           double precision,
    logradouro          text,
    raw                 jsonb       NOT NULL DEFAULT '{}'::jsonb,
    synced_at           timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT e_track_terminals_key PRIMARY KEY (placa)
);
COMMENT ON TABLE e_track.terminals IS 'e-Track vehicles (from /ultimas-posicoes) with their last fix';

-- GPS fixes: /ultimasposicoesterminal per plate per day, plus each /ultimas-posicoes snapshot.
-- Two fixes in the same second at different places are both kept (hence lat/lon in the key).
CREATE TABLE IF NOT EXISTS e_track.positions (
    placa               text             NOT NULL,
    data_transmissao    timestamptz      NOT NULL,
    latitude            double precision NOT NULL,
    longitude           double precision NOT NULL,
    logradouro          text,
    velocidade          double precision,
    ignicao             boolean,
    odometro            double precision,
    odometro_can        double precision,
    horimetro           double precision,
    bateria             double precision,
    equipamento_serial  text,
    data_gravacao       timestamptz,
    extra               jsonb            NOT NULL DEFAULT '{}'::jsonb,
    synced_at           timestamptz      NOT NULL DEFAULT now(),
    CONSTRAINT e_track_positions_key PRIMARY KEY (placa, data_transmissao, latitude, longitude)
);
COMMENT ON TABLE e_track.positions IS 'e-Track GPS fixes; extra holds only fields the parser does not know';
COMMENT ON COLUMN e_track.positions.extra IS
    'fields of the API record the parser does not know; "_invalid" keeps known fields whose value was unreadable';
-- Only when missing: CREATE INDEX IF NOT EXISTS and ALTER TABLE … ADD COLUMN IF NOT EXISTS lock
-- the table (SHARE, ACCESS EXCLUSIVE) before they find there is nothing to do, and every run
-- applies this file while other runs' loads hold ROW EXCLUSIVE on it: one load's INSERT queued
-- behind the ALTER that waited for that load was a deadlock (tests/integration/test_warehouse.py::
-- test_reapplying_the_schema_files_never_waits_for_a_running_load). Same below. CREATE TABLE IF
-- NOT EXISTS locks nothing that exists, and COMMENT ON takes SHARE UPDATE EXCLUSIVE, which no load
-- conflicts with: those stay as they are.
DO $$
BEGIN
    IF to_regclass('e_track.e_track_positions_time') IS NULL THEN
        CREATE INDEX IF NOT EXISTS e_track_positions_time ON e_track.positions (data_transmissao);
    END IF;
END $$;
-- Which endpoint vouches for a fix. A plate-day's complete history answer removes the
-- 'history' fixes it no longer contains (the API corrected their coordinates, so the key
-- changed); a fix only /ultimas-posicoes reported stays 'latest' and is kept, and becomes
-- 'history' once a history answer contains it. Added after the first release, hence ALTER
-- (existing rows, loaded almost all from the history, count as 'history').
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_attribute WHERE attrelid = 'e_track.positions'::regclass
                                               AND attname = 'origin' AND NOT attisdropped) THEN
        ALTER TABLE e_track.positions
            ADD COLUMN IF NOT EXISTS origin text NOT NULL DEFAULT 'history'
                CONSTRAINT e_track_positions_origin CHECK (origin IN ('history', 'latest'));
    END IF;
END $$;
COMMENT ON COLUMN e_track.positions.origin IS
    'history = returned by /ultimasposicoesterminal for its day; latest = seen only in /ultimas-posicoes';

-- Trip summaries from /resumoviagens; the API has no trip id, so (placa, start) is the key.
CREATE TABLE IF NOT EXISTS e_track.trips (
    placa                        text        NOT NULL,
    data_inicio_conducao         timestamptz NOT NULL,
    data_fim_conducao            timestamptz,
    cliente                      text,
    cliente_fantasia             text,
    descricao                    text,
    frota                        text,
    latitude_inicio_conducao     double precision,
    longitude_inicio_conducao    double precision,
    latitude_fim_conducao        double precision,
    longitude_fim_conducao       double precision,
    localizacao_inicio_conducao  text,
    localizacao_fim_conducao     text,
    odometro_inicio_conducao     double precision,
    odometro_fim_conducao        double precision,
    duracao_conducao             interval,
    distancia_conducao           double precision,
    condutor_nome                text,
    condutor_identificacao       text,
    raw                          jsonb       NOT NULL DEFAULT '{}'::jsonb,
    synced_at                    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT e_track_trips_key PRIMARY KEY (placa, data_inicio_conducao)
);
COMMENT ON TABLE e_track.trips IS 'e-Track trip summaries (/resumoviagens), one row per plate and trip start';
DO $$
BEGIN
    IF to_regclass('e_track.e_track_trips_start') IS NULL THEN
        CREATE INDEX IF NOT EXISTS e_track_trips_start ON e_track.trips (data_inicio_conducao);
    END IF;
END $$;
-- The local day whose /resumoviagens answer last reported the trip (a trip may start the day
-- before): a complete answer for a plate-day removes that day's trips it no longer contains.
-- NULL (rows from before this column, adopted legacy rows) = the local day the trip started.
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_attribute WHERE attrelid = 'e_track.trips'::regclass
                                               AND attname = 'reported_day' AND NOT attisdropped) THEN
        ALTER TABLE e_track.trips ADD COLUMN IF NOT EXISTS reported_day date;
    END IF;
END $$;
COMMENT ON COLUMN e_track.trips.reported_day IS
    'local day of the /resumoviagens request that last reported the trip (NULL: the day it started)';

-- A vehicle's day, computed in SQL from positions (plugins/sync_apis/etrac/routes.py).
CREATE TABLE IF NOT EXISTS e_track.routes (
    placa        text        NOT NULL,
    rota_date    date        NOT NULL,
    point_count  integer     NOT NULL,
    start_ts     timestamptz,
    end_ts       timestamptz,
    distance_km  double precision,
    max_speed    double precision,
    points       jsonb       NOT NULL DEFAULT '[]'::jsonb,
    raw          jsonb,
    synced_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT e_track_routes_key PRIMARY KEY (placa, rota_date)
);
COMMENT ON TABLE e_track.routes IS
    'Per plate and local day: fixes, first/last fix, distance (km), max speed and the ordered points [{t,lat,lon,v}]';
COMMENT ON COLUMN e_track.routes.raw IS 'only for rows adopted from the old collector: its raw column';

-- What the API returned per plate and day, so a SQL check can reconcile the warehouse with it.
CREATE TABLE IF NOT EXISTS e_track.history_counts (
    placa               text        NOT NULL,
    dia                 date        NOT NULL,
    positions_received  integer     NOT NULL,
    positions_distinct  integer     NOT NULL,  -- distinct (placa, time, lat, lon) within the day
    positions_rejected  integer     NOT NULL,
    trips_received      integer     NOT NULL,
    trips_rejected      integer     NOT NULL,
    synced_at           timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT e_track_history_counts_key PRIMARY KEY (placa, dia)
);
COMMENT ON TABLE e_track.history_counts IS
    'Per plate and local day, what /ultimasposicoesterminal and /resumoviagens returned (for reconciliation)';
