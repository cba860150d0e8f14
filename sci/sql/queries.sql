-- Named queries (aiosql style): "-- name: <name>" starts a query; parameters are DuckDB $names.

-- name: file_by_path
SELECT file_id, path, sha256, collector, collector_version, platform, options_digest, duplicate_of, record_count
FROM files WHERE path = $path;

-- name: holders_of_sha
-- Stored files of the given platforms that hold the records for these bytes (not their duplicates).
SELECT path FROM files
WHERE sha256 = $sha256 AND duplicate_of IS NULL AND list_contains($platforms, platform)
ORDER BY path;

-- name: delete_file_samples
-- A file's series_ids are consecutive (sci/series.py): the range lets the scan skip other files' blocks.
DELETE FROM sample_values
WHERE series_id BETWEEN (SELECT min(series_id) FROM series WHERE file_id = $file_id)
                    AND (SELECT max(series_id) FROM series WHERE file_id = $file_id)
  AND series_id IN (SELECT series_id FROM series WHERE file_id = $file_id);

-- name: delete_file_series
DELETE FROM series WHERE file_id = $file_id;

-- name: delete_file_issues
DELETE FROM quality_issues WHERE file_id = $file_id;

-- name: delete_file
DELETE FROM files WHERE file_id = $file_id;

-- name: insert_file
INSERT INTO files (path, sha256, size_bytes, collector, collector_version, platform, source_key,
                   options_digest, duplicate_of, record_count, issue_count, ingested_at_utc)
VALUES ($path, $sha256, $size_bytes, $collector, $collector_version, $platform, $source_key,
        $options_digest, $duplicate_of, 0, 0, $ingested_at_utc)
RETURNING file_id;

-- name: finish_file
-- sha256 and size_bytes are NULL when known at the start (FileMeta), set when hashed beside the parse.
UPDATE files SET record_count = $record_count, issue_count = $issue_count,
                 distinct_intervals = $distinct_intervals,
                 sha256 = coalesce($sha256, sha256), size_bytes = coalesce($size_bytes, size_bytes)
WHERE file_id = $file_id;

-- name: stored_sizes
-- The sizes of the stored files: a file of another size cannot have the same bytes as any of them.
SELECT DISTINCT size_bytes FROM files;

-- name: data_bounds
-- The span of the records of the given platforms.
SELECT min(start_utc) AS first_utc, max(end_utc) AS last_utc
FROM samples WHERE list_contains($platforms, platform);

-- name: energy_by_period
-- Energy and provider carbon by platform, month (of the interval start, in the window's zone: Store.query fills
-- in the month expression) and tier:
-- every record that carries energy or carbon (proxy records that carry only runtime are in
-- proxy_runtime_groups). Market-based and tool-reported figures are summed beside, never into, carbon_g.
SELECT platform,
       {period} AS period,
       tier,
       sum(energy_kwh * coalesce(k.keep, 1.0)) AS energy_kwh,
       sum(carbon_g * coalesce(k.keep, 1.0)) AS carbon_g,
       sum(market_carbon_g * coalesce(k.keep, 1.0)) AS market_carbon_g,
       sum(reported_carbon_g * coalesce(k.keep, 1.0)) AS reported_carbon_g,
       count(*) AS records
FROM samples s LEFT JOIN (SELECT rid, keep FROM overlap_keep) k ON k.rid = s.rowid
WHERE start_utc >= $start_utc AND start_utc < $end_utc
  AND (energy_kwh IS NOT NULL OR carbon_g IS NOT NULL)
  AND list_contains($platforms, platform)
GROUP BY ALL
ORDER BY ALL;

-- name: proxy_runtime_groups
-- Proxy evidence: runtime summed over records that share everything the proxy formula needs.
SELECT platform,
       {period} AS period,
       component,
       device_model,
       tdp_w,
       coalesce(resource_share, 1.0) AS resource_share,
       utilisation,
       sum(runtime_s * coalesce(k.keep, 1.0)) AS runtime_s,
       count(*) AS records
FROM samples s LEFT JOIN (SELECT rid, keep FROM overlap_keep) k ON k.rid = s.rowid
WHERE start_utc >= $start_utc AND start_utc < $end_utc
  AND tier = 'proxy-estimated' AND energy_kwh IS NULL AND carbon_g IS NULL
  AND list_contains($platforms, platform)
GROUP BY ALL
ORDER BY ALL;

-- name: device_coverage
-- Per platform: devices seen, and device-hours with evidence (per device, its best-covered component).
-- Records of one device and component over the same interval (a provider's scope 1, 2 and 3 split of one
-- month) are the same time once. Looking for such repeats takes a hash of every record, so it is done only
-- for the parts that may have them: a part with a file not checked at ingest (files.distinct_intervals) or
-- with two files whose spans overlap. Every other part's records all have intervals of their own.
WITH spans AS (
    SELECT platform, device, component, file_id, min(first_utc) AS first_utc, max(last_utc) AS last_utc
    FROM window_spans
    GROUP BY ALL
), repeats AS (
    SELECT DISTINCT a.platform, a.device, a.component
    FROM spans a JOIN files f USING (file_id)
    LEFT JOIN spans b
      ON a.platform = b.platform AND a.device = b.device AND a.component = b.component
     AND a.file_id <> b.file_id AND a.first_utc < b.last_utc AND b.first_utc < a.last_utc
    WHERE f.distinct_intervals IS NOT TRUE OR b.file_id IS NOT NULL
), per_interval AS (
    SELECT s.platform, s.device, s.component, s.start_utc, s.end_utc,
           max((epoch(s.end_utc) - epoch(s.start_utc)) * coalesce(k.keep, 1.0)) AS seconds
    FROM samples s LEFT JOIN (SELECT rid, keep FROM overlap_keep) k ON k.rid = s.rowid
    SEMI JOIN repeats r ON r.platform = s.platform AND r.device = s.device AND r.component = s.component
    WHERE s.start_utc >= $start_utc AND s.start_utc < $end_utc
      AND list_contains($platforms, s.platform)
    GROUP BY ALL
), per_component AS (
    SELECT platform, device, component, sum(seconds) AS seconds FROM per_interval GROUP BY ALL
    UNION ALL
    SELECT s.platform, s.device, s.component,
           sum((epoch(s.end_utc) - epoch(s.start_utc)) * coalesce(k.keep, 1.0)) AS seconds
    FROM samples s LEFT JOIN (SELECT rid, keep FROM overlap_keep) k ON k.rid = s.rowid
    ANTI JOIN repeats r ON r.platform = s.platform AND r.device = s.device AND r.component = s.component
    WHERE s.start_utc >= $start_utc AND s.start_utc < $end_utc
      AND list_contains($platforms, s.platform)
    GROUP BY ALL
), per_device AS (
    SELECT platform, device, max(seconds) AS seconds FROM per_component GROUP BY ALL
)
SELECT platform, count(*) AS devices, sum(seconds) / 3600.0 AS device_hours
FROM per_device GROUP BY ALL ORDER BY ALL;

-- name: quality_by_file
-- Data-quality issues of the given platforms' files, one row per file, kind and action.
SELECT f.path, f.collector, q.kind, q.action,
       sum(q.rows) AS rows,
       count(*) AS occurrences,
       list(CASE WHEN q.line_start = q.line_end THEN q.line_start::VARCHAR
                 ELSE q.line_start::VARCHAR || '-' || q.line_end::VARCHAR END
            ORDER BY q.line_start) AS ranges,
       sum(q.seconds) AS seconds,
       first(q.detail ORDER BY q.line_start) AS detail
FROM quality_issues q JOIN files f USING (file_id)
WHERE list_contains($platforms, f.platform)
GROUP BY ALL
ORDER BY f.path, q.kind, q.action;

-- name: files_for_platforms
SELECT path, sha256, collector, collector_version, platform, record_count, ingested_at_utc
FROM files WHERE list_contains($platforms, platform) ORDER BY platform, path;

-- name: insert_computation
INSERT INTO computations (computed_at_utc, config_path, result_json)
VALUES ($computed_at_utc, $config_path, $result_json)
RETURNING computation_id;

-- name: latest_computation
SELECT result_json FROM computations ORDER BY computation_id DESC LIMIT 1;

-- name: all_paths
SELECT path FROM files ORDER BY path;

-- name: all_files
SELECT path, source_key, platform FROM files ORDER BY path;

-- name: components_by_platform
-- What each platform's energy covers: components and methods, by tier.
-- (Grouped by component and method first: a few groups, then the lists of those few.)
SELECT platform, tier, list(DISTINCT component ORDER BY component) AS components,
       list(DISTINCT method ORDER BY method) AS methods
FROM (
    SELECT platform, tier, component, method
    FROM samples
    WHERE start_utc >= $start_utc AND start_utc < $end_utc
      AND list_contains($platforms, platform)
      AND tier <> 'provider-reported'
    GROUP BY ALL
)
GROUP BY ALL
ORDER BY ALL;

-- name: window_spans
-- One scan of the window's records, grouped by file and part (scope apart): the span, tier and count that
-- overlap_candidates and device_coverage read (run it first, for the same window).
CREATE OR REPLACE TEMP TABLE window_spans AS
SELECT s.platform, s.device, s.component, s.scope, s.file_id,
       min(s.start_utc) AS first_utc, max(s.end_utc) AS last_utc,
       min(s.tier) AS tier,
       count(*) AS records
FROM samples s
WHERE s.start_utc >= $start_utc AND s.start_utc < $end_utc AND list_contains($platforms, s.platform)
GROUP BY ALL;

-- name: overlap_candidates
-- Files whose records cover the same platform, device and component over overlapping spans: the same
-- energy seen twice (a snapshot of a growing log, powermetrics and CodeCarbon on one laptop). One row per
-- file and group, with what precedence needs: tier, median record length (finer first) and span.
-- The median (a holistic aggregate: it holds every value) is computed only for the files that overlap,
-- usually none, so the query is one streaming scan of the window.
-- Provider figures of different GHG scopes are different parts: the scope is part of the component here.
WITH spans AS (
    SELECT platform, device, component || coalesce(' scope ' || scope, '') AS component, file_id,
           min(first_utc) AS first_utc, max(last_utc) AS last_utc, min(tier) AS tier, sum(records) AS records
    FROM window_spans
    GROUP BY ALL
), involved AS (
    SELECT DISTINCT a.platform, a.device, a.component, a.file_id
    FROM spans a JOIN spans b
      ON a.platform = b.platform AND a.device = b.device AND a.component = b.component
     AND a.file_id <> b.file_id AND a.first_utc < b.last_utc AND b.first_utc < a.last_utc
), medians AS (
    SELECT s.platform, s.device, i.component, s.file_id,
           median(epoch(s.end_utc) - epoch(s.start_utc)) AS median_s
    FROM samples s JOIN involved i
      ON i.platform = s.platform AND i.device = s.device AND i.component = s.component || coalesce(' scope ' || s.scope, '') AND i.file_id = s.file_id
    WHERE s.start_utc >= $start_utc AND s.start_utc < $end_utc AND list_contains($platforms, s.platform)
      AND s.file_id IN (SELECT file_id FROM involved)
    GROUP BY ALL
)
SELECT sp.platform, sp.device, sp.component, sp.file_id, f.path, sp.tier, m.median_s,
       epoch(sp.last_utc) - epoch(sp.first_utc) AS span_s, sp.records
FROM spans sp JOIN medians m USING (platform, device, component, file_id) JOIN files f USING (file_id)
ORDER BY ALL;

-- name: overlap_keep
-- For each record of a lower-ranked file, the share of its interval NOT covered by records of
-- higher-ranked files of the same platform, device and component (_file_rank: rank 0 counts first).
-- Its energy and runtime count with that share: a record fully covered counts 0.
CREATE OR REPLACE TEMP TABLE overlap_keep AS
WITH r AS (
    SELECT s.rowid AS rid, s.platform, s.device, fr.component, s.file_id, s.line, s.start_utc, s.end_utc,
           s.energy_kwh, s.runtime_s, fr.rank
    FROM samples s JOIN _file_rank fr
      ON fr.platform = s.platform AND fr.device = s.device AND fr.component = s.component || coalesce(' scope ' || s.scope, '')
     AND fr.file_id = s.file_id
    WHERE s.start_utc >= $start_utc AND s.start_utc < $end_utc AND list_contains($platforms, s.platform)
), covered AS (
    SELECT lo.rid, lo.platform, lo.device, lo.component, lo.file_id, lo.line, lo.energy_kwh, lo.runtime_s,
           epoch(lo.end_utc) - epoch(lo.start_utc) AS duration_s,
           sum(epoch(least(lo.end_utc, hi.end_utc)) - epoch(greatest(lo.start_utc, hi.start_utc)))
               AS covered_s,
           min(hi.file_id) AS by_file_id
    FROM r lo JOIN r hi
      ON lo.platform = hi.platform AND lo.device = hi.device AND lo.component = hi.component
     AND hi.rank < lo.rank AND hi.start_utc < lo.end_utc AND lo.start_utc < hi.end_utc
    GROUP BY ALL
)
SELECT *, CASE WHEN duration_s > 0 THEN greatest(0.0, 1.0 - covered_s / duration_s) ELSE 0.0 END AS keep
FROM covered;

-- name: overlap_dropped
-- What precedence left out, per file: records, line ranges, time and energy not counted.
SELECT f.path, f.collector, k.platform, first(fb.path ORDER BY fb.path) AS by_path,
       count(*) AS records,
       list(k.line ORDER BY k.line) AS lines,
       sum(least(k.covered_s, k.duration_s)) AS seconds,
       sum(coalesce(k.energy_kwh, 0.0) * (1.0 - k.keep)) AS energy_kwh,
       sum(coalesce(k.runtime_s, 0.0) * (1.0 - k.keep)) AS runtime_s
FROM overlap_keep k JOIN files f ON f.file_id = k.file_id JOIN files fb ON fb.file_id = k.by_file_id
GROUP BY ALL
ORDER BY ALL;

-- name: records_outside_window
SELECT platform, count(*) AS records
FROM samples
WHERE list_contains($platforms, platform) AND (start_utc < $start_utc OR start_utc >= $end_utc)
GROUP BY ALL
ORDER BY ALL;

-- name: release_baselines
-- Stored release baselines of one platform, oldest first.
SELECT release, platform, sci, low, high, unit, computed_at_utc
FROM release_baselines WHERE platform = $platform
ORDER BY computed_at_utc, release;

-- name: delete_release_baseline
DELETE FROM release_baselines WHERE release = $release AND platform = $platform;

-- name: insert_release_baseline
INSERT INTO release_baselines (release, platform, sci, low, high, unit, computed_at_utc)
VALUES ($release, $platform, $sci, $low, $high, $unit, $computed_at_utc);

-- name: audit_records
-- Every record of the given platforms that starts in the window, with its file's lineage and its month
-- (in the window's zone, as energy_by_period counts it), in file and line order.
SELECT f.path AS source_path, f.sha256 AS source_sha256, f.collector, f.collector_version,
       s.line, s.platform, s.device, s.component, s.tier, s.method, s.start_utc, s.end_utc,
       strftime(timezone($tz, timezone('UTC', s.start_utc)), '%Y-%m') AS period,
       s.energy_kwh, s.carbon_g, s.runtime_s, s.utilisation, s.device_model, s.tdp_w, s.resource_share,
       s.market_carbon_g, s.reported_carbon_g, s.pue_divided, s.scope,
       coalesce(k.keep, 1.0) AS counted_share
FROM samples s JOIN files f USING (file_id) LEFT JOIN (SELECT rid, keep FROM overlap_keep) k ON k.rid = s.rowid
WHERE s.start_utc >= $start_utc AND s.start_utc < $end_utc
  AND list_contains($platforms, s.platform)
ORDER BY s.platform, f.path, s.line, s.device, s.component, s.start_utc;

-- name: energy_by_device
-- Per device: energy and provider carbon of every record that carries them, with its tiers and files.
-- Summed per file first, so the file paths are joined to a few rows, not to every record.
WITH per_file AS (
    SELECT s.platform, s.device, s.component, s.tier, s.file_id,
           sum(s.energy_kwh * coalesce(k.keep, 1.0)) AS energy_kwh,
           sum(s.carbon_g * coalesce(k.keep, 1.0)) AS carbon_g
    FROM samples s LEFT JOIN (SELECT rid, keep FROM overlap_keep) k ON k.rid = s.rowid
    WHERE s.start_utc >= $start_utc AND s.start_utc < $end_utc
      AND (s.energy_kwh IS NOT NULL OR s.carbon_g IS NOT NULL)
      AND list_contains($platforms, s.platform)
    GROUP BY ALL
)
SELECT p.platform, p.device,
       list(DISTINCT p.component ORDER BY p.component) AS components,
       list(DISTINCT p.tier ORDER BY p.tier) AS tiers,
       list(DISTINCT f.path ORDER BY f.path) AS files,
       sum(p.energy_kwh) AS energy_kwh,
       sum(p.carbon_g) AS carbon_g
FROM per_file p JOIN files f USING (file_id)
GROUP BY ALL
ORDER BY ALL;

-- name: proxy_runtime_by_device
-- Proxy evidence per device: runtime summed over records that share everything the proxy formula needs.
SELECT s.platform, s.device, s.component, s.device_model, s.tdp_w,
       coalesce(s.resource_share, 1.0) AS resource_share,
       s.utilisation,
       list(DISTINCT f.path ORDER BY f.path) AS files,
       sum(s.runtime_s * coalesce(k.keep, 1.0)) AS runtime_s
FROM samples s JOIN files f USING (file_id) LEFT JOIN (SELECT rid, keep FROM overlap_keep) k ON k.rid = s.rowid
WHERE s.start_utc >= $start_utc AND s.start_utc < $end_utc
  AND s.tier = 'proxy-estimated' AND s.energy_kwh IS NULL AND s.carbon_g IS NULL
  AND list_contains($platforms, s.platform)
GROUP BY ALL
ORDER BY ALL;

-- name: idle_gpu_energy
-- Measured GPU energy per device, and the part drawn below $idle_below utilisation (0..1), with its hours.
-- Only records with a known utilisation count: a GPU logged without utilization.gpu is not judged.
SELECT s.platform, s.device,
       sum(s.energy_kwh * coalesce(k.keep, 1.0)) FILTER (WHERE s.utilisation < $idle_below) AS idle_kwh,
       sum((epoch(s.end_utc) - epoch(s.start_utc)) * coalesce(k.keep, 1.0))
           FILTER (WHERE s.utilisation < $idle_below) / 3600.0 AS idle_hours,
       sum(s.energy_kwh * coalesce(k.keep, 1.0)) AS total_kwh
FROM samples s LEFT JOIN (SELECT rid, keep FROM overlap_keep) k ON k.rid = s.rowid
WHERE s.start_utc >= $start_utc AND s.start_utc < $end_utc
  AND s.component = 'gpu' AND s.tier = 'measured' AND s.energy_kwh IS NOT NULL AND s.utilisation IS NOT NULL
  AND list_contains($platforms, s.platform)
GROUP BY ALL
ORDER BY ALL;

-- name: files_to_share
-- Stored files that hold their own records (a duplicate counts where its twin does), for shards.
SELECT file_id, path, sha256, size_bytes, collector, collector_version, platform, source_key,
       options_digest, record_count, issue_count, ingested_at_utc
FROM files WHERE duplicate_of IS NULL ORDER BY path;

-- name: file_samples
-- One file's records in the order they were stored (the sample columns, without file_id and platform).
SELECT line, device, component, tier, method, start_utc, end_utc, energy_kwh, carbon_g, runtime_s,
       utilisation, device_model, tdp_w, resource_share, market_carbon_g, reported_carbon_g, pue_divided, scope
FROM samples WHERE file_id = $file_id ORDER BY rowid;

-- name: file_issues
SELECT kind, action, line_start, line_end, rows, detail, device, seconds
FROM quality_issues WHERE file_id = $file_id ORDER BY rowid;

-- name: holders_of_sha_anywhere
-- Stored files of any platform that hold the records for these bytes.
SELECT path FROM files WHERE sha256 = $sha256 AND duplicate_of IS NULL ORDER BY path;
