"""Build the Cloud Carbon Footprint coefficient tables sci-report ships in ``sci/data/ccf/``.

Inputs (``<shared>/formats/emission_factors/ccf/``, a snapshot of ccf-coefficients, Apache-2.0):
- ``coefficients-aws-use.csv`` and ``coefficients-azure-use.csv``: per CPU microarchitecture, Min and Max
  Watts per vCPU (SPECpower based) -> ``aws_use.csv``, ``azure_use.csv``;
- ``coefficients-aws-embodied.csv``: per EC2 instance type, embodied kgCO2e of the whole host
  (1,000 kg base rack server plus additional memory, storage, CPUs and GPUs) -> ``aws_embodied.csv``.

Every output row carries its source, URL, year (or a year_note) and licence; ``SOURCE.md`` names every
input with its sha256. The output is deterministic: ``tests/test_aws_cur.py`` checks the committed tables
equal a fresh build.

    python tools/build_ccf.py [SHARED_FORMATS_EMISSION_FACTORS] [--out DIR]
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
from decimal import Decimal, InvalidOperation
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_SOURCE = REPO.parent / "shared" / "formats" / "emission_factors"
DEFAULT_OUT = REPO / "sci" / "data" / "ccf"
SNAPSHOT = "b0032d92"  # ccf-coefficients HEAD of the shared snapshot (its SOURCES.md), 2026-04
URL = "https://github.com/cloud-carbon-footprint/ccf-coefficients"
LICENCE = "Apache-2.0 (Cloud Carbon Footprint)"
YEAR_NOTE = f"data year not stated by CCF; ccf-coefficients snapshot {SNAPSHOT} (2026-04)"
PROVENANCE = ("year", "year_note", "source", "url", "licence")
USE_COLUMNS = ("architecture", "min_w_per_vcpu", "max_w_per_vcpu", *PROVENANCE)
EMBODIED_PARTS = ("additional_memory", "additional_storage", "additional_cpus", "additional_gpus", "total")
EMBODIED_COLUMNS = ("instance_type", *(f"{p}_kgco2e" for p in EMBODIED_PARTS), *PROVENANCE)


def _decimal(text: str, where: str) -> str:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise SystemExit(f"{where}: {text!r} is not a number") from None
    if not value.is_finite() or value < 0:
        raise SystemExit(f"{where}: {text!r} is not a finite non-negative number")
    return text.strip()


def _rows(path: Path, header: list[str]) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        if reader.fieldnames != header:
            raise SystemExit(f"{path}: header {reader.fieldnames} is not {header}")
        return list(reader)


def _provenance(name: str) -> dict[str, str]:
    return {
        "year": "",
        "year_note": YEAR_NOTE,
        "source": f"Cloud Carbon Footprint ccf-coefficients ({SNAPSHOT}) output/{name}",
        "url": URL,
        "licence": LICENCE,
    }


def build_use(source: Path, cloud: str) -> list[dict[str, str]]:
    """The per-vCPU watts of ``cloud`` ("aws", "azure"), in the input's order."""
    name = f"coefficients-{cloud}-use.csv"
    rows = _rows(source / "ccf" / name, ["", "Architecture", "Min Watts", "Max Watts", "GB/Chip"])
    return [
        {
            "architecture": row["Architecture"].strip(),
            "min_w_per_vcpu": _decimal(row["Min Watts"], f"{name} {row['Architecture']}"),
            "max_w_per_vcpu": _decimal(row["Max Watts"], f"{name} {row['Architecture']}"),
            **_provenance(name),
        }
        for row in rows
    ]


def build_embodied(source: Path) -> list[dict[str, str]]:
    name = "coefficients-aws-embodied.csv"
    rows = _rows(source / "ccf" / name, ["", "type", *EMBODIED_PARTS])
    built: dict[str, dict[str, str]] = {}
    for row in rows:
        key = row["type"].strip()
        entry = {"instance_type": key}
        entry |= {f"{p}_kgco2e": _decimal(row[p], f"{name} {key} {p}") for p in EMBODIED_PARTS}
        if key in built and built[key] != entry | _provenance(name):
            raise SystemExit(f"{name}: {key} appears twice with different values")
        built[key] = entry | _provenance(name)
    return [built[key] for key in sorted(built)]


def csv_text(columns: tuple[str, ...], rows: list[dict[str, str]]) -> str:
    out = io.StringIO(newline="")
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def source_md(source: Path) -> str:
    """SOURCE.md: what each table is, built from which input (with its sha256)."""
    lines = [
        "# Cloud Carbon Footprint coefficients",
        "",
        f"Built by `tools/build_ccf.py` from Cloud Carbon Footprint's ccf-coefficients at {SNAPSHOT}",
        f"(snapshot 2026-04, `output/`), {URL}; licence {LICENCE}.",
        "CCF does not state a data year: the watts are averages of SPECpower results per",
        'microarchitecture (CCF methodology, "Compute"). Not part of the factor bundle (`BUNDLE.toml`):',
        "the `aws-cur` and `azure-usage` collectors read these tables through `sci/cloud/ccf.py`.",
        "",
        "| table | input | sha256 of the input |",
        "| --- | --- | --- |",
    ]
    for table, name in OUTPUTS:
        digest = hashlib.sha256((source / "ccf" / name).read_bytes()).hexdigest()
        lines.append(f"| `{table}` | `{name}` | `{digest}` |")
    return "\n".join(lines) + "\n"


OUTPUTS = (
    ("aws_use.csv", "coefficients-aws-use.csv"),
    ("azure_use.csv", "coefficients-azure-use.csv"),
    ("aws_embodied.csv", "coefficients-aws-embodied.csv"),
)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("source", nargs="?", type=Path, default=DEFAULT_SOURCE)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    for cloud in ("aws", "azure"):
        use = csv_text(USE_COLUMNS, build_use(args.source, cloud))
        (args.out / f"{cloud}_use.csv").write_text(use, encoding="utf-8")
    embodied = csv_text(EMBODIED_COLUMNS, build_embodied(args.source))
    (args.out / "aws_embodied.csv").write_text(embodied, encoding="utf-8")
    (args.out / "SOURCE.md").write_text(source_md(args.source), encoding="utf-8")


if __name__ == "__main__":
    main()
