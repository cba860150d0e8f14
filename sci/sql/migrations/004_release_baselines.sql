-- Per-release SCI baselines for `sci-report ci`: the SCI (with its uncertainty range) a release reached,
-- per platform, so the next release is compared with it. (CI runners are ephemeral: a JSON file kept in
-- the repository, `--baseline sci-baseline.json`, holds the same rows when the store does not survive.)
CREATE TABLE release_baselines (
    release         VARCHAR NOT NULL,
    platform        VARCHAR NOT NULL,
    sci             DOUBLE,             -- gCO2e per functional unit; NULL = undefined (R = 0 or not declared)
    low             DOUBLE,
    high            DOUBLE,
    unit            VARCHAR,
    computed_at_utc TIMESTAMP NOT NULL,
    PRIMARY KEY (release, platform)
);
