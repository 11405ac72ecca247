-- auvo, step 2: the warehouse tables (the warehouse contract: README, "What is synced").
--
-- One table per Auvo entity, keyed by <entity>_id (GUID text for products and services).
-- Typed columns are the snake_case of the API's scalar fields, filled by
-- plugins/sync_apis/auvo/parse.py from the column list in plugins/sync_apis/auvo/streams.py
-- (tests/integration/test_auvo_client.py::test_schema_matches_the_stream_table… keeps them in step). `raw` is the record
-- exactly as received, so no field is ever lost; `synced_at` is when the row last changed;
-- `deleted_at` is set when the record disappeared from the API (and cleared if it comes back).
-- Idempotent; the advisory lock serialises concurrent runs applying the schema files.
SELECT pg_advisory_xact_lock(hashtext('sync_apis.schema'));

CREATE SCHEMA IF NOT EXISTS auvo;

CREATE TABLE IF NOT EXISTS auvo.users (
    user_id                   bigint NOT NULL,
    external_id               text,
    name                      text,
    smart_phone_number        text,
    login                     text,
    email                     text,
    culture                   text,
    job_position              text,
    user_type_id              integer,
    start_work_hour           text,
    end_work_hour             text,
    start_lunch_hour          text,
    end_lunch_hour            text,
    hour_value                numeric,
    picture_url               text,
    base_point_address        text,
    base_point_latitude       double precision,
    base_point_longitude      double precision,
    open_task_in_place        boolean,
    grab_gallery_photos       boolean,
    gps_frequency             integer,
    check_in_manual           boolean,
    unavailable_for_tasks     boolean,
    edit_task_after_checkout  boolean,
    inform_start_travel       boolean,
    change_base_point         boolean,
    registration_date         timestamptz,
    raw                       jsonb NOT NULL,
    synced_at                 timestamptz NOT NULL DEFAULT now(),
    deleted_at                timestamptz,
    CONSTRAINT auvo_users_key PRIMARY KEY (user_id)
);
COMMENT ON TABLE auvo.users IS 'Auvo users: full snapshot each run; ids missing from a complete listing get deleted_at';

CREATE TABLE IF NOT EXISTS auvo.teams (
    team_id        bigint NOT NULL,
    description    text,
    creation_date  timestamptz,
    raw            jsonb NOT NULL,
    synced_at      timestamptz NOT NULL DEFAULT now(),
    deleted_at     timestamptz,
    CONSTRAINT auvo_teams_key PRIMARY KEY (team_id)
);
COMMENT ON TABLE auvo.teams IS 'Auvo teams: full snapshot each run; ids missing from a complete listing get deleted_at';

CREATE TABLE IF NOT EXISTS auvo.task_types (
    task_type_id               bigint NOT NULL,
    description                text,
    creator_id                 bigint,
    creation_date              timestamptz,
    standard_time              text,
    tolerance_time             text,
    standard_questionnaire_id  bigint,
    active                     boolean,
    send_satisfaction_survey   boolean,
    send_digital_os            boolean,
    raw                        jsonb NOT NULL,
    synced_at                  timestamptz NOT NULL DEFAULT now(),
    deleted_at                 timestamptz,
    CONSTRAINT auvo_task_types_key PRIMARY KEY (task_type_id)
);
COMMENT ON TABLE auvo.task_types IS 'Auvo task types: full snapshot each run; ids missing from a complete listing get deleted_at';

CREATE TABLE IF NOT EXISTS auvo.segments (
    segment_id         bigint NOT NULL,
    description        text,
    registration_date  timestamptz,
    raw                jsonb NOT NULL,
    synced_at          timestamptz NOT NULL DEFAULT now(),
    deleted_at         timestamptz,
    CONSTRAINT auvo_segments_key PRIMARY KEY (segment_id)
);
COMMENT ON TABLE auvo.segments IS 'Auvo segments: full snapshot each run; ids missing from a complete listing get deleted_at';

CREATE TABLE IF NOT EXISTS auvo.keywords (
    keyword_id         bigint NOT NULL,
    description        text,
    registration_date  timestamptz,
    raw                jsonb NOT NULL,
    synced_at          timestamptz NOT NULL DEFAULT now(),
    deleted_at         timestamptz,
    CONSTRAINT auvo_keywords_key PRIMARY KEY (keyword_id)
);
COMMENT ON TABLE auvo.keywords IS 'Auvo keywords: full snapshot each run; ids missing from a complete listing get deleted_at';

CREATE TABLE IF NOT EXISTS auvo.questionnaires (
    questionnaire_id  bigint NOT NULL,
    description       text,
    header            text,
    footer            text,
    creation_date     timestamptz,
    raw               jsonb NOT NULL,
    synced_at         timestamptz NOT NULL DEFAULT now(),
    deleted_at        timestamptz,
    CONSTRAINT auvo_questionnaires_key PRIMARY KEY (questionnaire_id)
);
COMMENT ON TABLE auvo.questionnaires IS 'Auvo questionnaires: full snapshot each run; ids missing from a complete listing get deleted_at';

CREATE TABLE IF NOT EXISTS auvo.customer_groups (
    customer_group_id  bigint NOT NULL,
    description        text,
    raw                jsonb NOT NULL,
    synced_at          timestamptz NOT NULL DEFAULT now(),
    deleted_at         timestamptz,
    CONSTRAINT auvo_customer_groups_key PRIMARY KEY (customer_group_id)
);
COMMENT ON TABLE auvo.customer_groups IS 'Auvo customer groups: full snapshot each run; ids missing from a complete listing get deleted_at';

CREATE TABLE IF NOT EXISTS auvo.equipment_categories (
    equipment_category_id  bigint NOT NULL,
    description            text,
    external_id            text,
    raw                    jsonb NOT NULL,
    synced_at              timestamptz NOT NULL DEFAULT now(),
    deleted_at             timestamptz,
    CONSTRAINT auvo_equipment_categories_key PRIMARY KEY (equipment_category_id)
);
COMMENT ON TABLE auvo.equipment_categories IS 'Auvo equipment categories: full snapshot each run; ids missing from a complete listing get deleted_at';

CREATE TABLE IF NOT EXISTS auvo.equipments (
    equipment_id            bigint NOT NULL,
    external_id             text,
    parent_equipment_id     bigint,
    associated_customer_id  bigint,
    associated_user_id      bigint,
    category_id             bigint,
    name                    text,
    description             text,
    identifier              text,
    url_image               text,
    active                  boolean,
    creation_date           timestamptz,
    expiration_date         timestamptz,
    warranty_start_date     timestamptz,
    warranty_end_date       timestamptz,
    raw                     jsonb NOT NULL,
    synced_at               timestamptz NOT NULL DEFAULT now(),
    deleted_at              timestamptz,
    CONSTRAINT auvo_equipments_key PRIMARY KEY (equipment_id)
);
COMMENT ON TABLE auvo.equipments IS 'Auvo equipments: full snapshot each run; ids missing from a complete listing get deleted_at';

CREATE TABLE IF NOT EXISTS auvo.product_categories (
    product_category_id  bigint NOT NULL,
    description          text,
    raw                  jsonb NOT NULL,
    synced_at            timestamptz NOT NULL DEFAULT now(),
    deleted_at           timestamptz,
    CONSTRAINT auvo_product_categories_key PRIMARY KEY (product_category_id)
);
COMMENT ON TABLE auvo.product_categories IS 'Auvo product categories: full snapshot each run; ids missing from a complete listing get deleted_at';

CREATE TABLE IF NOT EXISTS auvo.products (
    product_id               text NOT NULL,
    code                     text,
    external_id              text,
    name                     text,
    description              text,
    category_id              bigint,
    associated_equipment_id  bigint,
    unitary_value            numeric,
    unitary_cost             numeric,
    minimum_stock            numeric,
    total_stock              numeric,
    active                   boolean,
    image_url                text,
    raw                      jsonb NOT NULL,
    synced_at                timestamptz NOT NULL DEFAULT now(),
    deleted_at               timestamptz,
    CONSTRAINT auvo_products_key PRIMARY KEY (product_id)
);
COMMENT ON TABLE auvo.products IS 'Auvo products: full snapshot each run; ids missing from a complete listing get deleted_at';

CREATE TABLE IF NOT EXISTS auvo.services (
    service_id         text NOT NULL,
    title              text,
    description        text,
    price              numeric,
    active             boolean,
    external_code      text,
    fiscal_service_id  text,
    raw                jsonb NOT NULL,
    synced_at          timestamptz NOT NULL DEFAULT now(),
    deleted_at         timestamptz,
    CONSTRAINT auvo_services_key PRIMARY KEY (service_id)
);
COMMENT ON TABLE auvo.services IS 'Auvo services: full snapshot each run; ids missing from a complete listing get deleted_at';

CREATE TABLE IF NOT EXISTS auvo.expense_types (
    expense_type_id  bigint NOT NULL,
    description      text,
    creator_id       bigint,
    creation_date    timestamptz,
    raw              jsonb NOT NULL,
    synced_at        timestamptz NOT NULL DEFAULT now(),
    deleted_at       timestamptz,
    CONSTRAINT auvo_expense_types_key PRIMARY KEY (expense_type_id)
);
COMMENT ON TABLE auvo.expense_types IS 'Auvo expense types: full snapshot each run; ids missing from a complete listing get deleted_at';

CREATE TABLE IF NOT EXISTS auvo.customers (
    customer_id           bigint NOT NULL,
    external_id           text,
    description           text,
    legal_name            text,
    cpf_cnpj              text,
    manager               text,
    manager_job_position  text,
    note                  text,
    address               text,
    adress_complement     text,
    latitude              double precision,
    longitude             double precision,
    maximum_visit_time    integer,
    unit_maximum_time     integer,
    segment_id            bigint,
    active                boolean,
    creation_date         timestamptz,
    date_last_update      timestamptz,
    raw                   jsonb NOT NULL,
    synced_at             timestamptz NOT NULL DEFAULT now(),
    deleted_at            timestamptz,
    CONSTRAINT auvo_customers_key PRIMARY KEY (customer_id)
);
COMMENT ON TABLE auvo.customers IS 'Auvo customers, kept current by the dateLastUpdate watermark';

CREATE TABLE IF NOT EXISTS auvo.expenses (
    expense_id      bigint NOT NULL,
    description     text,
    user_to_id      bigint,
    user_to_name    text,
    type_id         bigint,
    type_name       text,
    date            timestamptz,
    attachment_url  text,
    creation_date   timestamptz,
    amount          numeric,
    raw             jsonb NOT NULL,
    synced_at       timestamptz NOT NULL DEFAULT now(),
    deleted_at      timestamptz,
    CONSTRAINT auvo_expenses_key PRIMARY KEY (expense_id)
);
COMMENT ON TABLE auvo.expenses IS 'Auvo expenses, the run''s day by expense date';

CREATE TABLE IF NOT EXISTS auvo.tasks (
    task_id                    bigint NOT NULL,
    external_id                text,
    id_user_from               bigint,
    user_from_name             text,
    id_user_to                 bigint,
    user_to_name               text,
    customer_id                bigint,
    customer_external_id       text,
    customer_description       text,
    task_type                  bigint,
    task_type_description      text,
    creation_date              timestamptz,
    task_date                  timestamptz,
    latitude                   double precision,
    longitude                  double precision,
    address                    text,
    orientation                text,
    report                     text,
    priority                   integer,
    delivered_on_smarth_phone  boolean,
    delivered_date             timestamptz,
    visualized                 boolean,
    visualized_date            timestamptz,
    check_in                   boolean,
    check_in_date              timestamptz,
    check_out                  boolean,
    check_out_date             timestamptz,
    checkin_type               integer,
    finished                   boolean,
    task_status                integer,
    inputed_km                 double precision,
    adopted_km                 double precision,
    signature_url              text,
    signature_name             text,
    signature_document         text,
    check_in_distance          double precision,
    check_out_distance         double precision,
    send_satisfaction_survey   boolean,
    send_digital_os            boolean,
    opened_on_location         boolean,
    survey                     text,
    task_url                   text,
    pendency                   text,
    reason_for_pause           text,
    financial_category         text,
    date_last_update           timestamptz,
    ticket_id                  bigint,
    ticket_title               text,
    expense                    numeric,
    duration                   text,
    duration_decimal           numeric,
    estimated_duration         text,
    displacement_start         text,
    raw                        jsonb NOT NULL,
    synced_at                  timestamptz NOT NULL DEFAULT now(),
    deleted_at                 timestamptz,
    CONSTRAINT auvo_tasks_key PRIMARY KEY (task_id)
);
COMMENT ON TABLE auvo.tasks IS 'Auvo tasks (work orders): the run''s day by taskDate, updates by dateLastUpdate, deletions from GetDeletedTasks';

-- What the loaders and the data browser filter on.
-- Each only when missing: CREATE INDEX IF NOT EXISTS locks the table (SHARE) before it finds the
-- index, and every run applies this file while other runs' loads hold ROW EXCLUSIVE on it
-- (tests/integration/test_warehouse.py::test_reapplying_the_schema_files_never_waits_for_a_running_load).
DO $$
BEGIN
    IF to_regclass('auvo.auvo_tasks_task_date') IS NULL THEN
        CREATE INDEX IF NOT EXISTS auvo_tasks_task_date ON auvo.tasks (task_date);
    END IF;
    IF to_regclass('auvo.auvo_tasks_date_last_update') IS NULL THEN
        CREATE INDEX IF NOT EXISTS auvo_tasks_date_last_update ON auvo.tasks (date_last_update);
    END IF;
    IF to_regclass('auvo.auvo_tasks_customer_id') IS NULL THEN
        CREATE INDEX IF NOT EXISTS auvo_tasks_customer_id ON auvo.tasks (customer_id);
    END IF;
    IF to_regclass('auvo.auvo_customers_date_last_update') IS NULL THEN
        CREATE INDEX IF NOT EXISTS auvo_customers_date_last_update ON auvo.customers (date_last_update);
    END IF;
    IF to_regclass('auvo.auvo_expenses_date') IS NULL THEN
        CREATE INDEX IF NOT EXISTS auvo_expenses_date ON auvo.expenses (date);
    END IF;
END $$;
