-- Samples stored in two tables, so that what is the same for many records is stored once:
-- series        one row per distinct (file, platform, device, component, tier, method, device_model,
--               tdp_w, resource_share, pue_divided, scope) of a file; a file's series_ids are consecutive
-- sample_values one row per record: its series, line, interval and figures, in line order
-- The view `samples` joins them back into the columns of schema 5 (with the record's `rowid`), so every
-- query reads records as before. Storing a record costs about half as much (bench/RESULTS.md).
CREATE TABLE series (
    series_id      INTEGER NOT NULL,
    file_id        INTEGER NOT NULL,
    platform       VARCHAR NOT NULL,
    device         VARCHAR NOT NULL,
    component      VARCHAR NOT NULL,
    tier           VARCHAR NOT NULL,
    method         VARCHAR NOT NULL,
    device_model   VARCHAR,
    tdp_w          DOUBLE,
    resource_share DOUBLE,
    pue_divided    DOUBLE,
    scope          VARCHAR
);

CREATE TABLE sample_values (
    series_id         INTEGER NOT NULL,
    line              INTEGER NOT NULL,
    start_utc         TIMESTAMP NOT NULL,
    end_utc           TIMESTAMP NOT NULL,
    energy_kwh        DOUBLE,
    carbon_g          DOUBLE,
    runtime_s         DOUBLE,
    utilisation       DOUBLE,
    market_carbon_g   DOUBLE,
    reported_carbon_g DOUBLE
);

INSERT INTO series
SELECT row_number() OVER (ORDER BY file_id, first_rowid)::INTEGER, * EXCLUDE (first_rowid)
FROM (
    SELECT file_id, platform, device, component, tier, method, device_model, first(tdp_w) AS tdp_w,
           first(resource_share) AS resource_share, first(pue_divided) AS pue_divided, scope,
           min(rowid) AS first_rowid
    FROM samples  -- doubles compared as text, which tells -0.0 from 0.0 (grouping by value would not)
    GROUP BY file_id, platform, device, component, tier, method, device_model, tdp_w::VARCHAR,
             resource_share::VARCHAR, pue_divided::VARCHAR, scope
);

INSERT INTO sample_values
SELECT r.series_id, s.line, s.start_utc, s.end_utc, s.energy_kwh, s.carbon_g, s.runtime_s, s.utilisation,
       s.market_carbon_g, s.reported_carbon_g
FROM samples s JOIN series r
  ON s.file_id = r.file_id AND s.platform = r.platform AND s.device = r.device
 AND s.component = r.component AND s.tier = r.tier AND s.method = r.method
 AND s.device_model IS NOT DISTINCT FROM r.device_model AND s.scope IS NOT DISTINCT FROM r.scope
 AND s.tdp_w::VARCHAR IS NOT DISTINCT FROM r.tdp_w::VARCHAR
 AND s.resource_share::VARCHAR IS NOT DISTINCT FROM r.resource_share::VARCHAR
 AND s.pue_divided::VARCHAR IS NOT DISTINCT FROM r.pue_divided::VARCHAR
ORDER BY s.rowid;

DROP TABLE samples;

CREATE VIEW samples AS
SELECT v.rowid AS rowid, r.file_id, v.line, r.platform, r.device, r.component, r.tier, r.method,
       v.start_utc, v.end_utc, v.energy_kwh, v.carbon_g, v.runtime_s, v.utilisation, r.device_model,
       r.tdp_w, r.resource_share, v.market_carbon_g, v.reported_carbon_g, r.pue_divided, r.scope
FROM sample_values v JOIN series r USING (series_id);
