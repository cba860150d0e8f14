#!/usr/bin/env python
"""Build the offline factor bundle ``sci/data/factors/`` from public snapshots and curated tables.

Usage (from the repository root)::

    .venv/bin/python tools/build_factors.py [SOURCE_DIR] [--out DIR]

``SOURCE_DIR`` is the shared ``emission_factors`` folder (default ``../shared/formats/emission_factors``
relative to the repository); ``--out`` defaults to ``sci/data/factors``. The output is committed; run
the script and ``git diff`` to see what a new snapshot changes. The build is deterministic: no clock,
no network. It stops with a message on anything unexpected (a changed header, a value that is not a
number, an implausible magnitude) rather than guessing.

Inputs:

- ``carbontracker/carbon-intensities.csv`` (carbontracker 2.4.7, MIT; OWID/Ember data, CC BY 4.0)
- ``ccf/grid-emissions-factors-{aws,gcp,azure}.csv`` (Cloud Carbon Footprint, Apache-2.0; t/kWh)
- ``codecarbon/cpu_power.csv`` (codecarbon 3.3.2, MIT)
- ``tools/factor_sources/*.csv``: GPU TDP, PUE, embodied, lifespan and load-curve tables, curated by
  hand with a source per row.

The evidence for the year of each CCF grid factor is kept below (``EGRID2019_T_PER_KWH`` and friends),
with where it was read. Where a year cannot be established the row has no year and a ``year_note``
saying why (the CCF snapshot's year is not a data year).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import sys
from collections.abc import Iterable, Sequence
from decimal import Decimal, InvalidOperation
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CURATED = REPO / "tools" / "factor_sources"
DEFAULT_SOURCE = REPO.parent / "shared" / "formats" / "emission_factors"
DEFAULT_OUT = REPO / "sci" / "data" / "factors"

BUNDLE_VERSION = "2026.12.1"
INPUTS = "shared formats/emission_factors (see its SOURCES.md) and tools/factor_sources"
BUILD_DATE = "2026-12-02"  # bump with BUNDLE_VERSION when the inputs change; never read from the clock

G_PER_TONNE = Decimal(1_000_000)

# --- grid intensity by country (OWID via carbontracker) -------------------------------------------

COUNTRY_FILE = "carbontracker/carbon-intensities.csv"
COUNTRY_HEADER = ["alpha-2", "Year", "Entity", "Code", "Carbon intensity of electricity (gCO2eq/kWh)"]
COUNTRY_SOURCE = "Our World in Data (Ember, Energy Institute) via carbontracker 2.4.7"
COUNTRY_LICENCE = "CC BY 4.0 (OWID/Ember data); MIT (carbontracker 2.4.7)"

# --- grid intensity by cloud region (Cloud Carbon Footprint) --------------------------------------

CCF_PROVIDERS = ("aws", "gcp", "azure")
CCF_SNAPSHOT = "b0032d92"  # ccf-coefficients HEAD the shared snapshot was taken from (SOURCES.md)
CCF_SNAPSHOT_YEAR = 2026  # 2026-04
CCF_LICENCE = "Apache-2.0 (Cloud Carbon Footprint)"
CCF_T_COLUMN = "CO2e (metric ton/kWh)"
CCF_METHODOLOGY = (
    "cloud-carbon-footprint/cloud-carbon-footprint microsite/docs/Methodology.md "
    "@ 6ab1932f676e2391f357c795317971389a27780a"
)

# US rows: CCF's methodology (commit above) says "we use the EPA's eGRID2019 Data ... NERC region
# specific emission factors", and its Appendix IV lists exactly these NERC-region values.
EGRID2019_T_PER_KWH = {
    "SERC": Decimal("0.000415755"),
    "RFC": Decimal("0.000440187"),
    "WECC": Decimal("0.000350861"),
    "MRO": Decimal("0.00047223"),
    "TRE": Decimal("0.000396293"),
}

# carbonfootprint.com rows: the same Appendix IV cites
# carbonfootprint.com/docs/2020_07_emissions_factors_sources_for_2020_electricity_v1_3.pdf
# ("emissions factors ... for 2020 electricity", v1.3, July 2020) for these values.
CFP_2020_T_PER_KWH = {
    ("aws", "af-south-1"): Decimal("0.000928"),
    ("aws", "ap-east-1"): Decimal("0.00081"),
    ("aws", "ap-south-1"): Decimal("0.000708"),
    ("aws", "ap-northeast-3"): Decimal("0.000506"),
    ("aws", "ap-northeast-2"): Decimal("0.0005"),
    ("aws", "ap-southeast-2"): Decimal("0.00079"),
    ("aws", "ap-northeast-1"): Decimal("0.000506"),
    ("aws", "ca-central-1"): Decimal("0.00013"),
    ("aws", "cn-north-1"): Decimal("0.000555"),
    ("aws", "cn-northwest-1"): Decimal("0.000555"),
    ("aws", "me-south-1"): Decimal("0.000732"),
    ("aws", "sa-east-1"): Decimal("0.000074"),
    ("azure", "eastasia"): Decimal("0.00081"),
    ("azure", "centralindia"): Decimal("0.000708"),
    ("azure", "southindia"): Decimal("0.000708"),
    ("azure", "westindia"): Decimal("0.000708"),
}

# EEA rows the same Appendix IV lists (cited as eea.europa.eu/data-and-maps/daviz/co2-emission-intensity-6,
# no data year given; CCF says only that its factors are annual averages "for a year that is pre-2020").
EEA_DOCUMENTED = {
    ("aws", "eu-central-1"),
    ("aws", "eu-west-1"),
    ("aws", "eu-west-2"),
    ("aws", "eu-south-1"),
    ("aws", "eu-west-3"),
    ("aws", "eu-north-1"),
    ("azure", "northeurope"),
    ("azure", "westeurope"),
    ("azure", "uksouth"),
    ("azure", "ukwest"),
}

# Google rows: GoogleCloudPlatform/region-carbon-info data/yearly/2019.csv
# @ 4975c62363a6f6b58ffdf93ffc445ea4a7878657, "Lifecycle grid carbon intensity (gCO2eq / kWh)".
GOOGLE_2019_G_PER_KWH = {
    "asia-east1": 541,
    "asia-east2": 506,
    "asia-northeast1": 569,
    "asia-northeast2": 414,
    "asia-northeast3": 490,
    "asia-south1": 752,
    "asia-southeast1": 493,
    "asia-southeast2": 647,
    "australia-southeast1": 725,
    "europe-north1": 181,
    "europe-west1": 196,
    "europe-west2": 257,
    "europe-west3": 319,
    "europe-west4": 474,
    "europe-west6": 87,
    "northamerica-northeast1": 27,
    "southamerica-east1": 109,
    "us-central1": 479,
    "us-east1": 500,
    "us-east4": 383,
    "us-west1": 117,
    "us-west2": 248,
    "us-west3": 561,
    "us-west4": 491,
}

# Values that are malformed in the shared snapshot, with the value ccf-coefficients itself carries at
# commit 26846a79b7d65ceb724faf08ab2c6d29768f6bdb (data/grid-emissions-factors-azure.csv). Applied only
# when the snapshot still holds exactly the malformed text.
CCF_CORRECTIONS = {
    ("azure", "Finland Central"): ("000077", "0.000077"),
    ("azure", "Germany West Central"): ("000402", "0.000402"),
}
CCF_CORRECTION_EVIDENCE = "ccf-coefficients @ 26846a79 data/grid-emissions-factors-azure.csv"

# A grid factor above 10 t/kWh (10,000,000 g/kWh) or at/below zero is a data error, not a grid.
MAX_T_PER_KWH = Decimal("0.01")

# --- CPU TDP (codecarbon) -------------------------------------------------------------------------

CPU_FILE = "codecarbon/cpu_power.csv"
CPU_SOURCE = "codecarbon 3.3.2 cpu_power.csv (2026 snapshot)"
CPU_LICENCE = "MIT (codecarbon)"
CPU_YEAR = 2026  # codecarbon 3.3.2 wheel files are dated 2026-10-23; TDP itself has no data year

GPU_LICENCE = "manufacturer specification (facts)"

OUT_FILES = (
    "grid_intensity_country.csv",
    "grid_intensity_cloud.csv",
    "pue.csv",
    "cpu_tdp.csv",
    "gpu_tdp.csv",
    "embodied.csv",
    "lifespan.csv",
    "load_curve.csv",
    "BUNDLE.toml",
)


class BuildError(Exception):
    """An input that does not look like what this script was written against."""


# --- reading --------------------------------------------------------------------------------------


def read_rows(path: Path, expected: Sequence[str]) -> list[list[str]]:
    """Rows of a CSV after checking its header; trailing empty cells are dropped."""
    text = path.read_text(encoding="utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    if not rows or rows[0] != list(expected):
        raise BuildError(f"{path}: header {rows[0] if rows else []!r} is not {list(expected)!r}")
    body: list[list[str]] = []
    for number, raw in enumerate(rows[1:], start=2):
        cells = list(raw)
        while len(cells) > len(expected) and cells[-1] == "":
            cells.pop()
        if len(cells) != len(expected):
            raise BuildError(f"{path}:{number}: {len(cells)} cells, expected {len(expected)}: {raw!r}")
        body.append([cell.strip() for cell in cells])
    return body


def read_curated(name: str, columns: Sequence[str]) -> list[dict[str, str]]:
    return [dict(zip(columns, row, strict=True)) for row in read_rows(CURATED / name, columns)]


def positive_decimal(text: str, where: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation as err:
        raise BuildError(f"{where}: {text!r} is not a number") from err
    if not value.is_finite() or value <= 0:
        raise BuildError(f"{where}: {text!r} is not a positive number")
    return value


def plain(value: Decimal) -> str:
    """Shortest exact decimal text: 415.755000 -> '415.755', 8.000000 -> '8'."""
    text = format(value.normalize(), "f")
    return text


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --- tables ---------------------------------------------------------------------------------------

COUNTRY_COLUMNS = (
    "alpha2",
    "alpha3",
    "country",
    "g_co2e_per_kwh",
    "year",
    "year_note",
    "source",
    "licence",
    "note",
)


def build_countries(source: Path) -> list[dict[str, str]]:
    path = source / COUNTRY_FILE
    out: list[dict[str, str]] = []
    seen: set[str] = set()
    for number, (alpha2, year, entity, alpha3, intensity) in enumerate(
        read_rows(path, COUNTRY_HEADER), start=2
    ):
        where = f"{path}:{number}"
        if len(alpha2) != 2 or len(alpha3) != 3 or not (alpha2 + alpha3).isalpha():
            raise BuildError(f"{where}: codes {alpha2!r}/{alpha3!r} are not ISO alpha-2/alpha-3")
        if alpha2 in seen:
            raise BuildError(f"{where}: {alpha2} appears twice")
        seen.add(alpha2)
        note = ""
        try:
            positive_decimal(intensity, where)
        except BuildError:
            if intensity not in ("0", "0.0"):
                raise
            note = (
                "the source gives 0 gCO2/kWh for this year (no fossil generation recorded); "
                "check it before relying on it"
            )
        if not year.isdigit():
            raise BuildError(f"{where}: year {year!r} is not a year")
        out.append(
            {
                "alpha2": alpha2.upper(),
                "alpha3": alpha3.upper(),
                "country": entity,
                "g_co2e_per_kwh": intensity,
                "year": year,
                "year_note": "",
                "source": COUNTRY_SOURCE,
                "licence": COUNTRY_LICENCE,
                "note": note,
            }
        )
    return out


CLOUD_COLUMNS = (
    "provider",
    "region",
    "region_name",
    "location",
    "nerc_region",
    "t_co2e_per_kwh",
    "g_co2e_per_kwh",
    "underlying_source",
    "year",
    "year_note",
    "source",
    "licence",
    "note",
)
CCF_HEADERS = {
    "aws": ["Region", "Country", "NERC Region", CCF_T_COLUMN, "Source"],
    "gcp": ["Region", "Location", CCF_T_COLUMN, "Source"],
    "azure": ["Region", "Location", "NERC Region", CCF_T_COLUMN, "Source"],
}


def region_key(provider: str, name: str) -> str:
    """Azure regions by their normalised name ("West Europe" -> "westeurope"); others lower-case."""
    folded = name.strip().lower()
    return "".join(folded.split()) if provider == "azure" else folded


def ccf_year(
    provider: str, region: str, *, nerc: str, underlying: str, t_value: Decimal, g_value: Decimal
) -> tuple[int | None, str, str]:
    """(year, year_note, underlying source text) for a CCF grid factor, from the evidence above; no year
    where none could be established (the note says why, and the snapshot's year is not passed off as one)."""
    if underlying == "EPA" and EGRID2019_T_PER_KWH.get(nerc) == t_value:
        return 2019, "", f"US EPA eGRID2019 (NERC region {nerc})"
    if underlying == "carbonfootprint.com" and CFP_2020_T_PER_KWH.get((provider, region)) == t_value:
        note = (
            "factor-set year: carbonfootprint.com factors 'for 2020 electricity' (v1.3, July 2020) "
            "as cited by CCF; the underlying country data may be older"
        )
        return 2020, note, "carbonfootprint.com 2020 electricity factors (v1.3)"
    if underlying == "Google" and provider == "gcp" and GOOGLE_2019_G_PER_KWH.get(region) == g_value:
        return 2019, "", "Google Cloud region carbon data 2019"
    # No data year could be established: leave the year empty and say so (with the snapshot's year).
    why = {
        "EEA": "CCF cites EEA co2-emission-intensity-6 without a data year (only 'pre-2020')"
        if (provider, region) in EEA_DOCUMENTED
        else "CCF gives no data year for this EEA factor",
        "EMA Singapore": "CCF cites EMA Singapore Energy Statistics ch. 2 without a year",
        "Google": "the value differs from Google's 2019 region data and no other year was checked",
    }.get(underlying, f"no evidence recorded for {underlying!r} = {t_value} t/kWh")
    snapshot = (
        f"{CCF_SNAPSHOT_YEAR} is the year of the CCF snapshot (ccf-coefficients {CCF_SNAPSHOT}, "
        "2026-04), not a data year"
    )
    return None, f"data year unknown: {why}; {snapshot}", underlying  # the loader adds the note to the source


def build_cloud(source: Path) -> list[dict[str, str]]:
    out: list[dict[str, str]] = []
    for provider in CCF_PROVIDERS:
        path = source / "ccf" / f"grid-emissions-factors-{provider}.csv"
        header = CCF_HEADERS[provider]
        seen: set[str] = set()
        for number, cells in enumerate(read_rows(path, header), start=2):
            row = dict(zip(header, cells, strict=True))
            where = f"{path}:{number}"
            name = row["Region"]
            region = region_key(provider, name)
            if not region or region in seen:
                raise BuildError(f"{where}: region {name!r} is empty or repeated")
            seen.add(region)
            raw = row[CCF_T_COLUMN]
            note = ""
            try:
                t_value = positive_decimal(raw, where)
                plausible = t_value < MAX_T_PER_KWH
            except BuildError:
                plausible = False
            if not plausible:
                bad, fixed = CCF_CORRECTIONS.get((provider, name), (None, ""))
                if raw != bad:
                    raise BuildError(f"{where}: {raw!r} t/kWh is not a plausible grid factor")
                t_value = positive_decimal(fixed, where)
                note = (
                    f"the snapshot holds the malformed value {raw!r}; corrected to {fixed} as in "
                    f"{CCF_CORRECTION_EVIDENCE}"
                )
            g_value = t_value * G_PER_TONNE  # exact: metric tonnes -> grams
            underlying = row["Source"]
            nerc = row.get("NERC Region", "")
            year, year_note, underlying_text = ccf_year(
                provider, region, nerc=nerc, underlying=underlying, t_value=t_value, g_value=g_value
            )
            out.append(
                {
                    "provider": provider,
                    "region": region,
                    "region_name": name,
                    "location": row.get("Country") or row.get("Location", ""),
                    "nerc_region": nerc,
                    "t_co2e_per_kwh": plain(t_value),
                    "g_co2e_per_kwh": plain(g_value),
                    "underlying_source": underlying,
                    "year": "" if year is None else str(year),
                    "year_note": year_note,
                    "source": (
                        f"Cloud Carbon Footprint ccf-coefficients ({CCF_SNAPSHOT}) "
                        f"grid-emissions-factors-{provider}.csv; underlying: {underlying_text}"
                    ),
                    "licence": CCF_LICENCE,
                    "note": note,
                }
            )
    return out


CPU_COLUMNS = ("name", "key", "tdp_w", "year", "year_note", "source", "licence", "note")


def folded(name: str) -> str:
    """A name as the loader compares it: whitespace runs (including no-break spaces) as one space."""
    return " ".join(name.split()).casefold()


def build_cpus(source: Path) -> list[dict[str, str]]:
    sys.path.insert(0, str(REPO))
    from sci.factors import normalise_cpu_name  # one normaliser for the table and for queries

    path = source / CPU_FILE
    out: list[dict[str, str]] = []
    for number, (name, tdp) in enumerate(read_rows(path, ["Name", "TDP"]), start=2):
        if not name:
            raise BuildError(f"{path}:{number}: empty CPU name")
        note = ""
        try:
            positive_decimal(tdp, f"{path}:{number}")
            tdp_w = tdp  # kept as written in the source
        except BuildError:
            tdp_w = ""
            note = f"codecarbon gives {tdp!r}, which is not a usable TDP in W; supply the value yourself"
        out.append(
            {
                "name": name,
                "key": normalise_cpu_name(name),
                "tdp_w": tdp_w,
                "year": str(CPU_YEAR),
                "year_note": "",
                "source": CPU_SOURCE,
                "licence": CPU_LICENCE,
                "note": note,
            }
        )
    by_key: dict[str, list[dict[str, str]]] = {}
    for row in out:
        if not row["key"]:
            raise BuildError(f"{path}: {row['name']!r} normalises to an empty key")
        by_key.setdefault(row["key"].casefold(), []).append(row)
    for rows in by_key.values():
        if len(rows) > 1:
            names = ", ".join(repr(r["name"]) for r in rows)
            same = len({Decimal(r["tdp_w"]) if r["tdp_w"] else None for r in rows}) == 1
            for row in rows:
                twins = [r for r in rows if folded(r["name"]) == folded(row["name"])]
                if same:
                    extra = f"rows {names} share this key and the same TDP"
                elif len({Decimal(r["tdp_w"]) if r["tdp_w"] else None for r in twins}) > 1:
                    extra = (
                        f"rows {names} name the same model with different TDPs: lookups are refused "
                        "as ambiguous"
                    )
                else:
                    extra = (
                        f"rows {names} share this key with different TDPs: a lookup by the key is "
                        "refused as ambiguous, the exact name still matches"
                    )
                row["note"] = "; ".join(filter(None, [row["note"], extra]))
    return out


GPU_SOURCE_COLUMNS = ("key", "match", "tdp_w", "year", "source", "url", "verified", "note")
GPU_COLUMNS = ("key", "match", "tdp_w", "year", "year_note", "source", "url", "licence", "verified", "note")


def build_gpus() -> list[dict[str, str]]:
    out: list[dict[str, str]] = []
    for row in read_curated("gpu_tdp.csv", GPU_SOURCE_COLUMNS):
        positive_decimal(row["tdp_w"], f"gpu_tdp.csv {row['key']}")
        check_year(row["year"], f"gpu_tdp.csv {row['key']}")
        if not row["source"] or not row["url"] or not row["match"]:
            raise BuildError(f"gpu_tdp.csv {row['key']}: source, url and match are required")
        out.append({**row, "year_note": "year of the cited specification", "licence": GPU_LICENCE})
    return out


SIMPLE_TABLES = {
    "pue.csv": ("provider", "pue", "year", "year_note", "source", "url", "licence", "note"),
    "embodied.csv": ("device_class", "kgco2e", "year", "year_note", "source", "url", "licence", "note"),
    "lifespan.csv": ("device_class", "years", "year", "year_note", "source", "url", "licence", "note"),
}
CURVE_COLUMNS = (
    "name",
    "utilisation_percent",
    "tdp_share",
    "year",
    "year_note",
    "source",
    "url",
    "licence",
    "note",
)


def check_year(text: str, where: str) -> None:
    if text and not (text.isdigit() and len(text) == 4):
        raise BuildError(f"{where}: year {text!r} is not a year")


def build_simple(name: str) -> list[dict[str, str]]:
    columns = SIMPLE_TABLES[name]
    rows = read_curated(name, columns)
    for row in rows:
        where = f"{name} {row[columns[0]]}"
        positive_decimal(row[columns[1]], where)
        check_year(row["year"], where)
        if not row["source"] or not row["licence"] or not (row["year"] or row["year_note"]):
            raise BuildError(f"{where}: source, licence and a year (or year_note) are required")
    return rows


def build_curves() -> list[dict[str, str]]:
    rows = read_curated("load_curves.csv", CURVE_COLUMNS)
    for row in rows:
        where = f"load_curves.csv {row['name']} {row['utilisation_percent']}"
        share = positive_decimal(row["tdp_share"], where)
        point = Decimal(row["utilisation_percent"])
        if not (0 <= point <= 100) or share > 2:
            raise BuildError(f"{where}: point out of range")
        check_year(row["year"], where)
    return rows


# --- writing --------------------------------------------------------------------------------------


def csv_text(columns: Sequence[str], rows: Iterable[dict[str, str]]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(columns), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def toml_string(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)  # JSON string escapes are valid TOML basic strings


def bundle_toml(source: Path, counts: dict[str, int]) -> str:
    curated = {name: sha256(CURATED / name) for name in sorted(p.name for p in CURATED.glob("*.csv"))}
    ccf_inputs = ", ".join(f"grid-emissions-factors-{p}.csv" for p in CCF_PROVIDERS)
    datasets: list[dict[str, str | int]] = [
        {
            "name": "grid_intensity_country",
            "kind": "grid_intensity",
            "file": "grid_intensity_country.csv",
            "rows": counts["grid_intensity_country.csv"],
            "source": "Our World in Data, 'Carbon intensity of electricity' (Ember; Energy Institute "
            "Statistical Review of World Energy), latest annual value per country, as redistributed "
            "in carbontracker 2.4.7",
            "url": "https://ourworldindata.org/grapher/carbon-intensity-electricity",
            "repo": "https://github.com/saintslab/carbontracker",
            "path": "carbontracker/data/carbon-intensities.csv (wheel carbontracker-2.4.7)",
            "input_sha256": sha256(source / COUNTRY_FILE),
            "licence": COUNTRY_LICENCE,
            "years": "2009-2024, one year per row (the latest year available for each country)",
            "attribution": "Data: Ember; Energy Institute - Statistical Review of World Energy; with "
            "major processing by Our World in Data (CC BY 4.0). Redistributed by carbontracker 2.4.7 "
            "(MIT License, carbontracker authors).",
        },
        {
            "name": "grid_intensity_cloud",
            "kind": "grid_intensity",
            "file": "grid_intensity_cloud.csv",
            "rows": counts["grid_intensity_cloud.csv"],
            "source": "Cloud Carbon Footprint grid emissions factors for AWS, GCP and Azure regions "
            "(converted from metric tonnes to grams CO2e per kWh, x 1,000,000)",
            "url": "https://www.cloudcarbonfootprint.org/docs/methodology",
            "repo": "https://github.com/cloud-carbon-footprint/ccf-coefficients",
            "path": f"data/{{{ccf_inputs}}} @ {CCF_SNAPSHOT} (2026-04)",
            "input_sha256": ", ".join(
                sha256(source / "ccf" / f"grid-emissions-factors-{p}.csv") for p in CCF_PROVIDERS
            ),
            "licence": CCF_LICENCE,
            "years": "per row: 2019 (EPA eGRID2019; Google 2019 region data), 2020 (carbonfootprint.com "
            "2020 factors); no year where the data year is unknown (year_note says why; "
            f"{CCF_SNAPSHOT_YEAR} is only the CCF snapshot's year)",
            "attribution": "Cloud Carbon Footprint (Thoughtworks and contributors), Apache License 2.0. "
            "Underlying sources: US EPA eGRID2019, European Environment Agency, carbonfootprint.com, "
            "Energy Market Authority Singapore, Google Cloud region carbon data.",
            "evidence": f"year evidence: {CCF_METHODOLOGY} (Appendix IV and 'Carbon Estimates'); "
            "GoogleCloudPlatform/region-carbon-info data/yearly/2019.csv @ 4975c623",
        },
        {
            "name": "pue",
            "kind": "pue",
            "file": "pue.csv",
            "rows": counts["pue.csv"],
            "source": "Cloud Carbon Footprint methodology, 'Power Usage Effectiveness' "
            "(AWS 1.135, GCP 1.1, Azure 1.185)",
            "url": "https://www.cloudcarbonfootprint.org/docs/methodology",
            "repo": "https://github.com/cloud-carbon-footprint/cloud-carbon-footprint",
            "path": "microsite/docs/Methodology.md @ 6ab1932f; packages/*/src/domain/*Constants.ts PUE_AVG",
            "input_sha256": curated["pue.csv"],
            "licence": CCF_LICENCE,
            "years": "not stated by CCF (year left empty, see year_note)",
            "attribution": "Cloud Carbon Footprint (Thoughtworks and contributors), Apache License 2.0.",
        },
        {
            "name": "cpu_tdp",
            "kind": "cpu_tdp",
            "file": "cpu_tdp.csv",
            "rows": counts["cpu_tdp.csv"],
            "source": "codecarbon CPU TDP table (W per chip), all rows",
            "url": "https://github.com/mlco2/codecarbon",
            "repo": "https://github.com/mlco2/codecarbon",
            "path": "codecarbon/data/hardware/cpu_power.csv (wheel codecarbon-3.3.2)",
            "input_sha256": sha256(source / CPU_FILE),
            "licence": CPU_LICENCE,
            "years": f"{CPU_YEAR} (snapshot year of codecarbon 3.3.2; a TDP has no data year)",
            "attribution": "CodeCarbon (mlco2/codecarbon contributors), MIT License.",
        },
        {
            "name": "gpu_tdp",
            "kind": "gpu_tdp",
            "file": "gpu_tdp.csv",
            "rows": counts["gpu_tdp.csv"],
            "source": "curated for sci-report from NVIDIA datasheets and product specification pages "
            "(one source and URL per row; 'verified' says how each value was checked)",
            "url": "https://www.nvidia.com/",
            "repo": "sci-report",
            "path": "tools/factor_sources/gpu_tdp.csv",
            "input_sha256": curated["gpu_tdp.csv"],
            "licence": GPU_LICENCE,
            "years": "2017-2024, the year of each cited specification",
            "attribution": "Board power / TDP as specified by NVIDIA for each product.",
        },
        {
            "name": "embodied",
            "kind": "embodied",
            "file": "embodied.csv",
            "rows": counts["embodied.csv"],
            "source": "server and GPU: Cloud Carbon Footprint embodied coefficients (Teads 2021, Dell "
            "PowerEdge R740 LCA); laptop: Apple 14-inch MacBook Pro Product Environmental Report "
            "(Oct 2021), production + transport",
            "url": "https://www.cloudcarbonfootprint.org/docs/embodied-emissions",
            "repo": "https://github.com/cloud-carbon-footprint/cloud-carbon-coefficients",
            "path": "ccfcoef/constants.py @ 0bdac997; tools/factor_sources/embodied.csv",
            "input_sha256": curated["embodied.csv"],
            "licence": "Apache-2.0 (Cloud Carbon Footprint: server, gpu); "
            "manufacturer publication (facts) (Apple: laptop)",
            "years": "2021",
            "attribution": "Cloud Carbon Footprint (Thoughtworks and contributors), Apache License 2.0; "
            "Teads Engineering (B. Davy, 2021); Apple Inc. Product Environmental Report.",
        },
        {
            "name": "lifespan",
            "kind": "lifespan",
            "file": "lifespan.csv",
            "rows": counts["lifespan.csv"],
            "source": "server and GPU: Cloud Carbon Footprint (4-year rack-server lifespan, Teads 2021); "
            "laptop: Apple Product Environmental Report (4 years of first-owner use)",
            "url": "https://www.cloudcarbonfootprint.org/docs/embodied-emissions",
            "repo": "https://github.com/cloud-carbon-footprint/cloud-carbon-footprint",
            "path": "microsite/docs/HowItWorks/EmbodiedEmissions.md; tools/factor_sources/lifespan.csv",
            "input_sha256": curated["lifespan.csv"],
            "licence": "Apache-2.0 (Cloud Carbon Footprint: server, gpu); "
            "manufacturer publication (facts) (Apple: laptop)",
            "years": "2021",
            "attribution": "Cloud Carbon Footprint (Thoughtworks and contributors), Apache License 2.0; "
            "Apple Inc. Product Environmental Report.",
        },
        {
            "name": "load_curve",
            "kind": "load_curve",
            "file": "load_curve.csv",
            "rows": counts["load_curve.csv"],
            "source": "Teads Engineering, B. Davy (2021) 'Building an AWS EC2 Carbon Emissions Dataset': "
            "CPU power as a share of TDP at 0/10/50/100 % utilisation, as coded in the GSF Impact "
            "Framework teads-curve plugin",
            "url": "https://medium.com/teads-engineering/building-an-aws-ec2-carbon-emissions-dataset-3f0fd76c98ac",
            "repo": "https://github.com/Green-Software-Foundation/if-unofficial-plugins",
            "path": "src/lib/teads-curve/index.ts @ 293b6900",
            "input_sha256": curated["load_curves.csv"],
            "licence": "CC BY 4.0 (Teads dataset); MIT (GSF if-unofficial-plugins)",
            "years": "2021",
            "attribution": "Teads Engineering (Benjamin Davy), 2021; Green Software Foundation Impact "
            "Framework.",
        },
    ]
    lines = [
        "# Generated by tools/build_factors.py - do not edit by hand: change the script or",
        "# tools/factor_sources/*.csv and rebuild. See docs/factors.md.",
        "",
        "[bundle]",
        f"version = {toml_string(BUNDLE_VERSION)}",
        f"build_date = {toml_string(BUILD_DATE)}",
        f"generator = {toml_string('tools/build_factors.py')}",
        f"inputs = {toml_string(INPUTS)}",
    ]
    for dataset in datasets:
        lines += ["", "[[dataset]]"]
        for key, value in dataset.items():
            rendered = str(value) if isinstance(value, int) else toml_string(value)
            lines.append(f"{key} = {rendered}")
    return "\n".join(lines) + "\n"


def build(source: Path) -> dict[str, str]:
    """File name -> content of the whole bundle."""
    for needed in (COUNTRY_FILE, CPU_FILE, *(f"ccf/grid-emissions-factors-{p}.csv" for p in CCF_PROVIDERS)):
        if not (source / needed).is_file():
            raise BuildError(f"{source / needed} is missing; pass the emission_factors folder")
    tables = {
        "grid_intensity_country.csv": (COUNTRY_COLUMNS, build_countries(source)),
        "grid_intensity_cloud.csv": (CLOUD_COLUMNS, build_cloud(source)),
        "pue.csv": (SIMPLE_TABLES["pue.csv"], build_simple("pue.csv")),
        "cpu_tdp.csv": (CPU_COLUMNS, build_cpus(source)),
        "gpu_tdp.csv": (GPU_COLUMNS, build_gpus()),
        "embodied.csv": (SIMPLE_TABLES["embodied.csv"], build_simple("embodied.csv")),
        "lifespan.csv": (SIMPLE_TABLES["lifespan.csv"], build_simple("lifespan.csv")),
        "load_curve.csv": (CURVE_COLUMNS, build_curves()),
    }
    files = {name: csv_text(columns, rows) for name, (columns, rows) in tables.items()}
    counts = {name: len(rows) for name, (_, rows) in tables.items()}
    files["BUNDLE.toml"] = bundle_toml(source, counts)
    return files


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("source", nargs="?", type=Path, default=DEFAULT_SOURCE)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    try:
        files = build(args.source)
    except BuildError as err:
        print(f"Error: {err}", file=sys.stderr)
        return 1
    args.out.mkdir(parents=True, exist_ok=True)
    for name in OUT_FILES:
        (args.out / name).write_text(files[name], encoding="utf-8", newline="")
    print(f"wrote {len(files)} files to {args.out} (bundle {BUNDLE_VERSION})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
