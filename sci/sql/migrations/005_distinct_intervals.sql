-- Whether ingest saw each device and part of a file (device, component) start strictly later than its
-- record before: then no two records of the file share an interval, and compute need not look for repeats
-- (device_coverage). NULL (files ingested before schema 5, or a repeat or a step back seen) means unknown.
ALTER TABLE files ADD COLUMN distinct_intervals BOOLEAN;
