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
-- Measured energy and provider carbon by platform, month (of the interval start, in the window's zone)
-- and tier.
SELECT platform,
       strftime(timezone($tz, timezone('UTC', start_utc)), '%Y-%m') AS period,
       tier,
       sum(energy_kwh) AS energy_kwh,
       sum(carbon_g) AS carbon_g,
       count(*) AS records
FROM samples
WHERE start_utc >= $start_utc AND start_utc < $end_utc
  AND tier <> 'proxy-estimated'
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
  AND tier = 'proxy-estimated'
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
