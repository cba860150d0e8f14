"""Running a benchmark's whole process (wall time, peak RSS) and the baselines it is compared with: shared by
bench/run and bench/team.py."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path


def run_once(argv: list[str], *, cwd: Path | None = None) -> tuple[float, int]:
    """Wall time and peak RSS (bytes) of one process; it must succeed. (A child's peak RSS starts at this
    process's at the fork, so this process stays small: heavy work runs in children.)"""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    stderr = proc.stderr.read().decode() if proc.stderr else ""
    if proc.returncode != 0:
        raise SystemExit(f"failed ({proc.returncode}): {' '.join(argv)}\n{stderr}")
    return elapsed, usage.ru_maxrss * 1024


# -- baselines: DuckDB's own read of the same file, in a fresh database file

BASELINE_CSV = {
    "nvidia-smi": """CREATE TABLE t AS SELECT
        strptime(trim(c0), '%Y/%m/%d %H:%M:%S.%g') AS ts, trim(c1) AS idx, trim(c2) AS uuid, trim(c3) AS name,
        TRY_CAST(regexp_replace(trim(c4), ' W$', '') AS DOUBLE) AS power_w,
        TRY_CAST(regexp_replace(trim(c5), ' %$', '') AS DOUBLE) AS utilisation
        FROM read_csv('{path}', header = true, delim = ',', quote = '', all_varchar = true,
                      names = ['c0', 'c1', 'c2', 'c3', 'c4', 'c5'])""",
    "codecarbon": "CREATE TABLE t AS SELECT * FROM read_csv('{path}', header = true)",
    "github-usage": "CREATE TABLE t AS SELECT * FROM read_csv('{path}', header = true)",
    "aws-carbon": """CREATE TABLE t AS SELECT
        usage_period_start AS period_start, usage_period_end AS period_end,
        usage_account_id, product_code, region_code,
        total_lbm_emissions_value * 1e6 AS lbm_g, total_mbm_emissions_value * 1e6 AS mbm_g
        FROM read_csv('{path}', header = true)""",
}
BASELINE_POWERMETRICS = """CREATE TABLE t AS SELECT
    regexp_extract(line, '^(\\w[\\w-]*) Power: (\\d+) mW$', 1) AS part,
    TRY_CAST(regexp_extract(line, '^(\\w[\\w-]*) Power: (\\d+) mW$', 2) AS DOUBLE) AS power_mw
    FROM read_csv('{path}', header = false, delim = '\\x01', quote = '', columns = {{'line': 'VARCHAR'}})
    WHERE line LIKE '%Power: % mW' OR line LIKE '*** Sampled%'"""


def baseline_argv(fmt: str, path: Path, db: Path) -> list[str]:
    sql = (BASELINE_POWERMETRICS if fmt == "powermetrics" else BASELINE_CSV[fmt]).format(path=path)
    code = f"import duckdb; c = duckdb.connect({str(db)!r}); c.execute({sql!r}); c.close()"
    return [sys.executable, "-c", code]
