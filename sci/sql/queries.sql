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
DELETE FROM samples WHERE file_id = $file_id;

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
UPDATE files SET record_count = $record_count, issue_count = $issue_count WHERE file_id = $file_id;

-- name: data_bounds
-- The span of the records of the given platforms.
SELECT min(start_utc) AS first_utc, max(end_utc) AS last_utc
FROM samples WHERE list_contains($platforms, platform);

-- name: energy_by_period
-- Energy and provider carbon by platform, month (of the interval start, in the window's zone) and tier:
-- every record that carries energy or carbon (proxy records that carry only runtime are in
-- proxy_runtime_groups). Market-based and tool-reported figures are summed beside, never into, carbon_g.
SELECT platform,
       strftime(timezone($tz, timezone('UTC', start_utc)), '%Y-%m') AS period,
       tier,
       sum(energy_kwh) AS energy_kwh,
       sum(carbon_g) AS carbon_g,
       sum(market_carbon_g) AS market_carbon_g,
       sum(reported_carbon_g) AS reported_carbon_g,
       count(*) AS records
FROM samples
WHERE start_utc >= $start_utc AND start_utc < $end_utc
  AND (energy_kwh IS NOT NULL OR carbon_g IS NOT NULL)
  AND list_contains($platforms, platform)
GROUP BY ALL
ORDER BY ALL;

-- name: proxy_runtime_groups
-- Proxy evidence: runtime summed over records that share everything the proxy formula needs.
SELECT platform,
       strftime(timezone($tz, timezone('UTC', start_utc)), '%Y-%m') AS period,
       component,
       device_model,
       tdp_w,
       coalesce(resource_share, 1.0) AS resource_share,
       utilisation,
       sum(runtime_s) AS runtime_s,
       count(*) AS records
FROM samples
WHERE start_utc >= $start_utc AND start_utc < $end_utc
  AND tier = 'proxy-estimated' AND energy_kwh IS NULL AND carbon_g IS NULL
  AND list_contains($platforms, platform)
GROUP BY ALL
ORDER BY ALL;

-- name: device_coverage
-- Per platform: devices seen, and device-hours with evidence (per device, its best-covered component).
WITH per_component AS (
    SELECT platform, device, component,
           sum(epoch(end_utc) - epoch(start_utc)) AS seconds
    FROM samples
    WHERE start_utc >= $start_utc AND start_utc < $end_utc
      AND list_contains($platforms, platform)
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
SELECT platform, tier, list(DISTINCT component ORDER BY component) AS components,
       list(DISTINCT method ORDER BY method) AS methods
FROM samples
WHERE start_utc >= $start_utc AND start_utc < $end_utc
  AND list_contains($platforms, platform)
  AND tier <> 'provider-reported'
GROUP BY ALL
ORDER BY ALL;

-- name: overlapping_files
-- Pairs of files whose records cover the same device and component at the same time: counting both
-- would count that energy twice. Candidates by span first, then record by record with ASOF joins
-- (each record against the latest record of the other file that starts no later).
WITH spans AS (
    SELECT platform, device, component, file_id, min(start_utc) AS first_utc, max(end_utc) AS last_utc
    FROM samples
    WHERE start_utc >= $start_utc AND start_utc < $end_utc AND list_contains($platforms, platform)
    GROUP BY ALL
), pairs AS (
    SELECT a.platform, a.device, a.component, a.file_id AS file_a, b.file_id AS file_b
    FROM spans a JOIN spans b
      ON a.platform = b.platform AND a.device = b.device AND a.component = b.component
     AND a.file_id < b.file_id AND a.first_utc < b.last_utc AND b.first_utc < a.last_utc
), side AS (
    SELECT p.platform, p.device, p.component, p.file_a, p.file_b, s.file_id, s.start_utc, s.end_utc
    FROM pairs p JOIN samples s
      ON s.platform = p.platform AND s.device = p.device AND s.component = p.component
     AND s.file_id IN (p.file_a, p.file_b)
), a AS (
    SELECT * FROM side WHERE file_id = file_a
), b AS (
    SELECT * FROM side WHERE file_id = file_b
), hits AS (
    SELECT b.platform, b.device, b.file_a, b.file_b, b.start_utc, least(a.end_utc, b.end_utc) AS overlap_end
    FROM b ASOF JOIN a
      ON a.file_a = b.file_a AND a.file_b = b.file_b AND a.device = b.device AND a.component = b.component
     AND b.start_utc >= a.start_utc
    WHERE a.end_utc > b.start_utc
    UNION ALL
    SELECT a.platform, a.device, a.file_a, a.file_b, a.start_utc, least(a.end_utc, b.end_utc) AS overlap_end
    FROM a ASOF JOIN b
      ON a.file_a = b.file_a AND a.file_b = b.file_b AND a.device = b.device AND a.component = b.component
     AND a.start_utc > b.start_utc
    WHERE b.end_utc > a.start_utc
)
SELECT h.platform, fa.path AS path_a, fb.path AS path_b,
       count(DISTINCT h.device) AS devices,
       count(*) AS records,
       sum(epoch(h.overlap_end) - epoch(h.start_utc)) / 3600.0 AS hours
FROM hits h JOIN files fa ON fa.file_id = h.file_a JOIN files fb ON fb.file_id = h.file_b
GROUP BY ALL
ORDER BY ALL;

-- name: records_outside_window
SELECT platform, count(*) AS records
FROM samples
WHERE list_contains($platforms, platform) AND (start_utc < $start_utc OR start_utc >= $end_utc)
GROUP BY ALL
ORDER BY ALL;

-- name: energy_by_device
-- Per device: energy and provider carbon of every record that carries them, with its tiers and files.
SELECT s.platform, s.device,
       list(DISTINCT s.component ORDER BY s.component) AS components,
       list(DISTINCT s.tier ORDER BY s.tier) AS tiers,
       list(DISTINCT f.path ORDER BY f.path) AS files,
       sum(s.energy_kwh) AS energy_kwh,
       sum(s.carbon_g) AS carbon_g
FROM samples s JOIN files f USING (file_id)
WHERE s.start_utc >= $start_utc AND s.start_utc < $end_utc
  AND (s.energy_kwh IS NOT NULL OR s.carbon_g IS NOT NULL)
  AND list_contains($platforms, s.platform)
GROUP BY ALL
ORDER BY ALL;

-- name: proxy_runtime_by_device
-- Proxy evidence per device: runtime summed over records that share everything the proxy formula needs.
SELECT s.platform, s.device, s.component, s.device_model, s.tdp_w,
       coalesce(s.resource_share, 1.0) AS resource_share,
       s.utilisation,
       list(DISTINCT f.path ORDER BY f.path) AS files,
       sum(s.runtime_s) AS runtime_s
FROM samples s JOIN files f USING (file_id)
WHERE s.start_utc >= $start_utc AND s.start_utc < $end_utc
  AND s.tier = 'proxy-estimated' AND s.energy_kwh IS NULL AND s.carbon_g IS NULL
  AND list_contains($platforms, s.platform)
GROUP BY ALL
ORDER BY ALL;

-- name: idle_gpu_energy
-- Measured GPU energy per device, and the part drawn below $idle_below utilisation (0..1), with its hours.
-- Only records with a known utilisation count: a GPU logged without utilization.gpu is not judged.
SELECT platform, device,
       sum(energy_kwh) FILTER (WHERE utilisation < $idle_below) AS idle_kwh,
       sum(epoch(end_utc) - epoch(start_utc)) FILTER (WHERE utilisation < $idle_below) / 3600.0 AS idle_hours,
       sum(energy_kwh) AS total_kwh
FROM samples
WHERE start_utc >= $start_utc AND start_utc < $end_utc
  AND component = 'gpu' AND tier = 'measured' AND energy_kwh IS NOT NULL AND utilisation IS NOT NULL
  AND list_contains($platforms, platform)
GROUP BY ALL
ORDER BY ALL;
