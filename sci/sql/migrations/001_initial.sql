-- The first schema: ingested files, their records and data-quality issues, and stored computations.
-- All timestamps are UTC, stored as TIMESTAMP (no zone); the *_utc names say so.

CREATE SEQUENCE file_id_seq START 1;

CREATE TABLE files (
    file_id           INTEGER PRIMARY KEY DEFAULT nextval('file_id_seq'),
    path              VARCHAR NOT NULL UNIQUE,  -- relative to the config's folder when inside it
    sha256            VARCHAR NOT NULL,
    size_bytes        BIGINT NOT NULL,
    collector         VARCHAR NOT NULL,
    collector_version VARCHAR NOT NULL,
    platform          VARCHAR NOT NULL,
    source_key        VARCHAR NOT NULL,         -- the sci.toml key of the source that named it
    options_digest    VARCHAR NOT NULL,         -- what else changes the records (device, zone, options)
    record_count      BIGINT NOT NULL,
    issue_count       BIGINT NOT NULL,
    ingested_at_utc   TIMESTAMP NOT NULL
);

CREATE TABLE samples (
    file_id        INTEGER NOT NULL,
    line           INTEGER NOT NULL,
    platform       VARCHAR NOT NULL,
    device         VARCHAR NOT NULL,
    component      VARCHAR NOT NULL,
    tier           VARCHAR NOT NULL,
    method         VARCHAR NOT NULL,
    start_utc      TIMESTAMP NOT NULL,
    end_utc        TIMESTAMP NOT NULL,
    energy_kwh     DOUBLE,
    carbon_g       DOUBLE,
    runtime_s      DOUBLE,
    utilisation    DOUBLE,
    device_model   VARCHAR,
    tdp_w          DOUBLE,
    resource_share DOUBLE
);

CREATE TABLE quality_issues (
    file_id    INTEGER NOT NULL,
    kind       VARCHAR NOT NULL,
    action     VARCHAR NOT NULL,
    line_start INTEGER NOT NULL,
    line_end   INTEGER NOT NULL,
    rows       BIGINT NOT NULL,
    detail     VARCHAR NOT NULL,
    device     VARCHAR NOT NULL,
    seconds    DOUBLE
);

CREATE SEQUENCE computation_id_seq START 1;

CREATE TABLE computations (
    computation_id  INTEGER PRIMARY KEY DEFAULT nextval('computation_id_seq'),
    computed_at_utc TIMESTAMP NOT NULL,
    config_path     VARCHAR NOT NULL,
    result_json     VARCHAR NOT NULL
);
