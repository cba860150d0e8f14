"""The offline factor bundle: grid intensities, PUE, TDP tables, embodied defaults and load curves.

The data ships in ``sci/data/factors/`` (built by ``tools/build_factors.py``; see ``docs/factors.md``).
Every row carries its source, year and licence, and every lookup returns a :class:`Factor` that carries
them too, so a report can show where each number came from. A value given in ``sci.toml [factors]``
wins over the bundle and carries its own source (:meth:`FactorBundle.with_overrides`).

A miss is never a silent guess: it raises :class:`~sci.errors.FactorError` naming what was looked up,
with close matches and the ``sci.toml`` line that would supply the value.

Parsing uses the stdlib ``csv`` module and each table is read on first use, so importing this module
and calling :func:`load_bundle` stays cheap.
"""

from __future__ import annotations

import csv
import functools
import io
import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from importlib.resources import files
from importlib.resources.abc import Traversable
from typing import Any, Final

from sci.errors import FactorError

__all__ = [
    "KINDS",
    "OVERRIDE_TABLES",
    "Factor",
    "FactorBundle",
    "FactorOverride",
    "load_bundle",
    "normalise_cpu_name",
    "normalise_gpu_name",
]


@dataclass(frozen=True, slots=True)
class Factor:
    """One factor as found: its value, the key actually matched, and where it comes from."""

    kind: str  # "grid_intensity" | "pue" | "cpu_tdp" | "gpu_tdp" | "embodied" | "lifespan" | "load_curve"
    key: str  # the normalised lookup key actually matched: "DE", "aws:eu-west-1", "AMD EPYC 7763", ...
    value: float  # load_curve: 1.0 placeholder; its points are returned separately
    unit: str  # "gCO2e/kWh", "ratio", "W", "kgCO2e", "years"
    source: str
    year: int | None
    licence: str


@dataclass(frozen=True, slots=True)
class FactorOverride:
    """A value given in ``sci.toml [factors]``, with the source the user gave for it."""

    value: float
    source: str  # e.g. 'sci.toml [factors.grid_intensity_g_per_kwh] DE' or the user's own source text
    year: int | None = None


# sci.toml key under [factors] -> (kind, unit)
OVERRIDE_TABLES: Final[Mapping[str, tuple[str, str]]] = {
    "grid_intensity_g_per_kwh": ("grid_intensity", "gCO2e/kWh"),
    "pue": ("pue", "ratio"),
    "cpu_tdp_w": ("cpu_tdp", "W"),
    "gpu_tdp_w": ("gpu_tdp", "W"),
    "embodied_kgco2e": ("embodied", "kgCO2e"),
    "lifespan_years": ("lifespan", "years"),
}

KINDS: Final = ("grid_intensity", "pue", "cpu_tdp", "gpu_tdp", "embodied", "lifespan", "load_curve")

_UNITS: Final[Mapping[str, str]] = dict(OVERRIDE_TABLES.values()) | {"load_curve": "ratio"}
_TABLE_OF_KIND: Final[Mapping[str, str]] = {kind: table for table, (kind, _) in OVERRIDE_TABLES.items()}
_WHAT: Final[Mapping[str, str]] = {
    "grid_intensity": "grid intensity",
    "pue": "PUE",
    "cpu_tdp": "CPU TDP",
    "gpu_tdp": "GPU TDP",
    "embodied": "embodied emissions",
    "lifespan": "expected lifespan",
    "load_curve": "load curve",
}
_PLACEHOLDER: Final[Mapping[str, str]] = {
    "grid_intensity": "<gCO2e per kWh>",
    "pue": "<ratio, e.g. 1.4>",
    "cpu_tdp": "<W>",
    "gpu_tdp": "<W>",
    "embodied": "<kgCO2e per device>",
    "lifespan": "<years>",
}
# Smallest acceptable override value and whether it is inclusive.
_OVERRIDE_MIN: Final[Mapping[str, tuple[float, bool]]] = {
    "grid_intensity": (0.0, True),
    "pue": (1.0, True),
    "cpu_tdp": (0.0, False),
    "gpu_tdp": (0.0, False),
    "embodied": (0.0, True),
    "lifespan": (0.0, False),
}
_CLOUD_PROVIDERS: Final = ("aws", "gcp", "azure")
_USER_LICENCE: Final = "user-supplied (sci.toml)"

# --- name normalisation ---------------------------------------------------------------------------

_MARKS = re.compile(r"\((?:R|TM|C)\)|[®™©]", re.IGNORECASE)
_PARENS = re.compile(r"\([^()]*\)")
_WITH_SUFFIX = re.compile(r"\s+(?:with|w/)\s.*$", re.IGNORECASE)
_FREQUENCY = re.compile(r"@\s*\d+(?:\.\d+)?\s*[GM]Hz\b", re.IGNORECASE)
_CORE_COUNT = re.compile(
    r"\b(?:\d+|dual|quad|six|eight|ten|twelve|sixteen)[- ]cores?\b(?:\s+processor)?", re.IGNORECASE
)
_CPU_WORDS = re.compile(r"\b(?:CPU|Processor)\b", re.IGNORECASE)
_GENERATION_PREFIX = re.compile(r"^\d+(?:st|nd|rd|th)\s+Gen(?:eration)?\s+", re.IGNORECASE)
_SPACES = re.compile(r"\s+")


def normalise_cpu_name(name: str) -> str:
    """A CPU model name without vendor marks, frequency, core count and filler words.

    ``"Intel(R) Xeon(R) Gold 6248 CPU @ 2.50GHz"`` -> ``"Intel Xeon Gold 6248"``;
    ``"AMD EPYC 7763 64-Core Processor"`` -> ``"AMD EPYC 7763"``;
    ``"11th Gen Intel(R) Core(TM) i7-1165G7 @ 2.80GHz"`` -> ``"Intel Core i7-1165G7"``.
    Case is kept; matching compares the casefolded result. The same function builds the ``key``
    column of ``cpu_tdp.csv``, so table names and queries are normalised alike.
    """
    text = _MARKS.sub(" ", name)
    text = _PARENS.sub(" ", text)
    text = _WITH_SUFFIX.sub("", text)
    text = _FREQUENCY.sub(" ", text)
    text = _CORE_COUNT.sub(" ", text)
    text = _CPU_WORDS.sub(" ", text)
    text = _SPACES.sub(" ", text).strip()
    return _GENERATION_PREFIX.sub("", text).strip()


_GPU_SEPARATORS = re.compile(r"[-_/,]+")
_GPU_DROPPED: Final = frozenset({"NVIDIA", "TESLA", "GEFORCE", "GPU"})
# Tokens that may appear in a device name beside a matched pattern without changing the board.
_GPU_NOISE = re.compile(r"^(?:\d+GB|GENERATION|GRAPHICS|CARD|TENSOR|CORE|ACCELERATOR)$")


def normalise_gpu_name(name: str) -> str:
    """A GPU name as upper-case tokens, without ``NVIDIA``/``Tesla``/``GeForce``/``GPU`` and separators.

    ``"NVIDIA A100-SXM4-40GB"`` -> ``"A100 SXM4 40GB"``; ``"Tesla V100-SXM2-16GB"`` ->
    ``"V100 SXM2 16GB"``; ``"NVIDIA GeForce RTX 4090"`` -> ``"RTX 4090"``.
    """
    text = _MARKS.sub(" ", name).upper()
    text = _GPU_SEPARATORS.sub(" ", text)
    return " ".join(token for token in text.split() if token not in _GPU_DROPPED)


def _fold(text: str) -> str:
    return _SPACES.sub(" ", text).strip().casefold()


# --- tables -----------------------------------------------------------------------------------------

Row = dict[str, str]


@dataclass(frozen=True, slots=True)
class _GpuEntry:
    key: str
    patterns: tuple[frozenset[str], ...]
    row: Row


@dataclass(frozen=True, slots=True)
class _Zone:
    key: str
    row: Row


class _Tables:
    """The bundle's CSV files, each read on first use and then kept."""

    def __init__(self, root: Traversable) -> None:
        self._root = root
        self._cache: dict[str, Any] = {}

    def _get(self, name: str, build: Callable[[list[Row]], Any]) -> Any:
        if name not in self._cache:
            self._cache[name] = build(self.read(name))
        return self._cache[name]

    def read(self, name: str) -> list[Row]:
        text = self._root.joinpath(name).read_text(encoding="utf-8")
        return list(csv.DictReader(io.StringIO(text, newline="")))

    def meta(self) -> dict[str, Any]:
        if "BUNDLE.toml" not in self._cache:
            import tomllib

            with self._root.joinpath("BUNDLE.toml").open("rb") as handle:
                self._cache["BUNDLE.toml"] = tomllib.load(handle)
        meta: dict[str, Any] = self._cache["BUNDLE.toml"]
        return meta

    def zones(self) -> dict[str, _Zone]:
        """Casefolded zone aliases -> zone: ISO alpha-2, alpha-3, country name and ``provider:region``."""

        def build_countries(rows: list[Row]) -> dict[str, _Zone]:
            index: dict[str, _Zone] = {}
            for row in rows:
                zone = _Zone(row["alpha2"] or row["alpha3"], row)
                for alias in (row["alpha2"], row["alpha3"], row["country"]):
                    if alias:
                        index.setdefault(_fold(alias), zone)
            return index

        def build_cloud(rows: list[Row]) -> dict[str, _Zone]:
            index: dict[str, _Zone] = {}
            for row in rows:
                zone = _Zone(f"{row['provider']}:{row['region']}", row)
                index[zone.key.casefold()] = zone
                index.setdefault(_fold(f"{row['provider']}:{row['region_name']}"), zone)
            return index

        if "zones" not in self._cache:
            countries: dict[str, _Zone] = self._get("grid_intensity_country.csv", build_countries)
            cloud: dict[str, _Zone] = self._get("grid_intensity_cloud.csv", build_cloud)
            self._cache["zones"] = countries | cloud
        zones: dict[str, _Zone] = self._cache["zones"]
        return zones

    def keyed(self, name: str, column: str) -> dict[str, Row]:
        def build(rows: list[Row]) -> dict[str, Row]:
            return {_fold(row[column]): row for row in rows}

        table: dict[str, Row] = self._get(name, build)
        return table

    def cpus(self) -> tuple[dict[str, list[Row]], dict[str, list[Row]]]:
        """(exact name -> rows, normalised key -> rows); both casefolded."""

        def build(rows: list[Row]) -> tuple[dict[str, list[Row]], dict[str, list[Row]]]:
            by_name: dict[str, list[Row]] = {}
            by_key: dict[str, list[Row]] = {}
            for row in rows:
                by_name.setdefault(_fold(row["name"]), []).append(row)
                by_key.setdefault(row["key"].casefold(), []).append(row)
            return by_name, by_key

        tables: tuple[dict[str, list[Row]], dict[str, list[Row]]] = self._get("cpu_tdp.csv", build)
        return tables

    def gpus(self) -> list[_GpuEntry]:
        def build(rows: list[Row]) -> list[_GpuEntry]:
            return [
                _GpuEntry(
                    row["key"],
                    tuple(frozenset(normalise_gpu_name(p).split()) for p in row["match"].split("|")),
                    row,
                )
                for row in rows
            ]

        table: list[_GpuEntry] = self._get("gpu_tdp.csv", build)
        return table

    def curves(self) -> dict[str, list[Row]]:
        def build(rows: list[Row]) -> dict[str, list[Row]]:
            index: dict[str, list[Row]] = {}
            for row in rows:
                index.setdefault(_fold(row["name"]), []).append(row)
            return index

        table: dict[str, list[Row]] = self._get("load_curve.csv", build)
        return table


# --- the bundle -------------------------------------------------------------------------------------


class FactorBundle:
    """Lookups into the bundled factor tables, with ``sci.toml`` overrides on top."""

    def __init__(
        self,
        tables: _Tables,
        overrides: Mapping[str, Mapping[str, tuple[str, FactorOverride]]] | None = None,
    ) -> None:
        self._tables = tables
        self._overrides: dict[str, dict[str, tuple[str, FactorOverride]]] = {
            kind: dict(entries) for kind, entries in (overrides or {}).items()
        }
        self.version: str = str(tables.meta()["bundle"]["version"])

    # -- public lookups --

    def grid_intensity(self, zone: str) -> Factor:
        """Location-based grid intensity for a country (``"DE"``, ``"DEU"``) or a cloud region.

        Cloud regions are written ``provider:region``: ``"aws:eu-west-1"``, ``"gcp:europe-west3"``,
        ``"azure:westeurope"`` or ``"azure:West Europe"``.
        """
        text = self._require_text("grid_intensity", zone)
        match, display = self._canonical_zone(text)
        found = self._override("grid_intensity", match)
        if found is not None:
            return found
        hit = self._tables.zones().get(match)
        if hit is None:
            raise self._miss("grid_intensity", display, list(self._zone_keys()))
        return self._factor("grid_intensity", hit.key, hit.row["g_co2e_per_kwh"], hit.row)

    def pue(self, provider: str) -> Factor:
        """Power usage effectiveness of a cloud provider: ``"aws"``, ``"gcp"`` or ``"azure"``."""
        return self._simple("pue", provider, "pue.csv", "provider", "pue")

    def cpu_tdp(self, model: str) -> Factor:
        """TDP in W per chip, matched on the normalised model name (see :func:`normalise_cpu_name`)."""
        text = self._require_text("cpu_tdp", model)
        display = normalise_cpu_name(text)
        found = self._override("cpu_tdp", self._canonical("cpu_tdp", text)[0])
        if found is not None:
            return found
        by_name, by_key = self._tables.cpus()
        exact = by_name.get(_fold(text))
        rows = exact or (by_key.get(display.casefold(), []) if display else [])
        if not rows:
            keys = [rows_[0]["key"] for rows_ in by_key.values()]
            raise self._miss("cpu_tdp", text, keys, probe=display)
        values = {float(row["tdp_w"]) if row["tdp_w"] else None for row in rows}
        if len(values) > 1:
            listed = "; ".join(f"{row['name']!r} = {row['tdp_w'] or 'unusable'} W" for row in rows)
            raise FactorError(
                f"CPU model {text!r} (normalised {display!r}) is ambiguous in factor bundle "
                f"{self.version}: {listed}",
                hint=self._override_hint("cpu_tdp", text),
            )
        row = rows[0]
        if not row["tdp_w"]:
            raise FactorError(
                f"factor bundle {self.version} has no usable TDP for CPU model {text!r} "
                f"(matched {row['name']!r}): {row['note']}",
                hint=self._override_hint("cpu_tdp", text),
            )
        return self._factor("cpu_tdp", row["name"] if exact else row["key"], row["tdp_w"], row)

    def gpu_tdp(self, model: str) -> Factor:
        """Board power / TDP in W of a GPU, matched on nvidia-smi's name (see ``docs/factors.md``)."""
        text = self._require_text("gpu_tdp", model)
        normalised = normalise_gpu_name(text)
        found = self._override("gpu_tdp", self._canonical("gpu_tdp", text)[0])
        if found is not None:
            return found
        tokens = frozenset(normalised.split())
        entries = self._tables.gpus()
        matched = [entry for entry in entries if _gpu_matches(entry, tokens)]
        if len(matched) == 1:
            entry = matched[0]
            return self._factor("gpu_tdp", entry.key, entry.row["tdp_w"], entry.row)
        if len(matched) > 1:
            listed = ", ".join(f"{e.key} ({e.row['tdp_w']} W)" for e in matched)
            raise FactorError(
                f"GPU {text!r} is ambiguous in factor bundle {self.version}: it matches {listed}",
                hint=self._override_hint("gpu_tdp", text),
            )
        family = _gpu_family(entries, tokens)
        if family:
            listed = ", ".join(f"{e.key} ({e.row['tdp_w']} W)" for e in family)
            raise FactorError(
                f"GPU {text!r} does not name one board in factor bundle {self.version}; "
                f"known variants: {listed}",
                hint="name the variant (form factor, memory size) as nvidia-smi prints it, or "
                + self._override_hint("gpu_tdp", text),
            )
        raise self._miss("gpu_tdp", text, [entry.key for entry in entries])

    def embodied(self, device_class: str) -> Factor:
        """Total embodied emissions (TE) per device, in kgCO2e: ``"server"``, ``"gpu"``, ``"laptop"``."""
        return self._simple("embodied", device_class, "embodied.csv", "device_class", "kgco2e")

    def lifespan(self, device_class: str) -> Factor:
        """Expected lifespan (EL) of a device class, in years."""
        return self._simple("lifespan", device_class, "lifespan.csv", "device_class", "years")

    def load_curve(self, name: str = "teads-2021") -> tuple[tuple[tuple[float, float], ...], Factor]:
        """A CPU load curve as points (utilisation 0..1, share of TDP), sorted by utilisation."""
        text = self._require_text("load_curve", name)
        rows = self._tables.curves().get(_fold(text))
        if not rows:
            names = [rows_[0]["name"] for rows_ in self._tables.curves().values()]
            raise self._miss("load_curve", text, names, overridable=False)
        points = tuple(
            sorted((float(row["utilisation_percent"]) / 100.0, float(row["tdp_share"])) for row in rows)
        )
        first = rows[0]
        return points, self._factor("load_curve", first["name"], "1.0", first)

    def cloud_providers(self) -> tuple[str, ...]:
        """The providers with regions in the bundle's cloud grid-intensity table, sorted."""
        return tuple(sorted({key.split(":", 1)[0] for key in self._tables.zones() if ":" in key}))

    def lowest_intensity(self, *, provider: str | None) -> tuple[Factor, str]:
        """The bundle's lowest grid intensity among ``provider``'s cloud regions (``None``: among the
        countries), with the zone's name. Overrides are not candidates: they describe where a team is.
        Zero intensities are left out: here they are artefacts of tiny grids, not a place to move to."""
        best: tuple[float, str, Row] | None = None
        for zone in {z.key: z for z in self._tables.zones().values()}.values():
            zone_provider = zone.key.split(":", 1)[0] if ":" in zone.key else None
            if zone_provider != provider or not zone.row["g_co2e_per_kwh"]:
                continue
            value = float(zone.row["g_co2e_per_kwh"])
            if value <= 0:
                continue
            if best is None or (value, zone.key) < (best[0], best[1]):
                best = (value, zone.key, zone.row)
        if best is None:
            raise FactorError(f"no grid intensity in the bundle for provider {provider!r}")
        _, key, row = best
        name = row.get("region_name") or row.get("country") or key
        if ":" in key:
            name = f"{row.get('location') or ''} ({key})".strip()
        return self._factor("grid_intensity", key, row["g_co2e_per_kwh"], row), name

    def with_overrides(self, overrides: Mapping[str, Mapping[str, FactorOverride]]) -> FactorBundle:
        """A bundle where these values win. Outer keys are kinds (``"grid_intensity"``, ...) or the
        ``sci.toml`` table names (``"grid_intensity_g_per_kwh"``, ...); inner keys are lookup keys,
        normalised as lookups are (``"deu"`` overrides ``"DE"``). Later calls add to earlier ones."""
        merged: dict[str, dict[str, tuple[str, FactorOverride]]] = {
            kind: dict(entries) for kind, entries in self._overrides.items()
        }
        for outer, entries in overrides.items():
            kind = OVERRIDE_TABLES[outer][0] if outer in OVERRIDE_TABLES else outer
            if kind not in _OVERRIDE_MIN:
                raise FactorError(
                    f"cannot override factors of kind {outer!r}",
                    hint="use one of the [factors] tables: " + ", ".join(OVERRIDE_TABLES),
                )
            for key, override in entries.items():
                self._check_override(kind, key, override)
                match, display = self._canonical(kind, key)
                merged.setdefault(kind, {})[match] = (display, override)
        return FactorBundle(self._tables, merged)

    def datasets(self) -> list[dict[str, str]]:
        """The BUNDLE.toml dataset entries (name, source, url, licence, years, attribution, ...)."""
        entries: list[dict[str, Any]] = self._tables.meta().get("dataset", [])
        return [{str(k): _as_text(v) for k, v in entry.items()} for entry in entries]

    # -- helpers --

    def _simple(self, kind: str, key: str, table: str, column: str, value_column: str) -> Factor:
        text = self._require_text(kind, key)
        match, display = self._canonical(kind, text)
        found = self._override(kind, match)
        if found is not None:
            return found
        rows = self._tables.keyed(table, column)
        row = rows.get(match)
        if row is None:
            raise self._miss(kind, display, [r[column] for r in rows.values()])
        return self._factor(kind, row[column], row[value_column], row)

    def _canonical(self, kind: str, key: str) -> tuple[str, str]:
        """(match key, display key) for a lookup or override key of this kind."""
        text = _SPACES.sub(" ", key).strip()
        if kind == "grid_intensity":
            return self._canonical_zone(text)
        if kind == "cpu_tdp":
            return (normalise_cpu_name(text) or text).casefold(), text
        if kind == "gpu_tdp":
            return normalise_gpu_name(text), text
        return text.casefold(), text.casefold()

    def _canonical_zone(self, text: str) -> tuple[str, str]:
        text = _SPACES.sub(" ", text).strip()
        provider, sep, region = text.partition(":")
        if sep:
            provider = provider.strip().casefold()
            region = region.strip().casefold()
            if provider == "azure":
                region = "".join(region.split())
            canonical = f"{provider}:{region}"
            return canonical, canonical
        folded = text.casefold()
        hit = self._tables.zones().get(folded)
        if hit is not None:
            return hit.key.casefold(), hit.key
        display = text.upper() if text.isascii() and text.isalpha() and len(text) <= 3 else text
        return folded, display

    def _zone_keys(self) -> Iterable[str]:
        seen: dict[str, None] = {}
        for zone in self._tables.zones().values():
            seen.setdefault(zone.key, None)
        return seen.keys()

    def _override(self, kind: str, match: str) -> Factor | None:
        entry = self._overrides.get(kind, {}).get(match)
        if entry is None:
            return None
        display, override = entry
        return Factor(
            kind=kind,
            key=display,
            value=float(override.value),
            unit=_UNITS[kind],
            source=override.source,
            year=override.year,
            licence=_USER_LICENCE,
        )

    def _factor(self, kind: str, key: str, value: str, row: Row) -> Factor:
        year = row.get("year", "")
        note = row.get("year_note", "")
        source = row["source"]
        if not year and note and note not in source:
            source = f"{source} ({note})"  # a missing year is said, never left blank
        return Factor(
            kind=kind,
            key=key,
            value=float(value),
            unit=_UNITS[kind],
            source=source,
            year=int(year) if year else None,
            licence=row["licence"],
        )

    def _require_text(self, kind: str, key: object) -> str:
        if not isinstance(key, str) or not key.strip():
            raise FactorError(
                f"empty {_WHAT[kind]} key {key!r}",
                hint=f"name the {_WHAT[kind]} to look up",
            )
        return key.strip()

    def _check_override(self, kind: str, key: object, override: object) -> None:
        where = f"[factors.{_TABLE_OF_KIND[kind]}] {key!r}"
        if not isinstance(key, str) or not key.strip():
            raise FactorError(f"{where}: the key is empty", hint="name what the value is for")
        if not isinstance(override, FactorOverride):
            raise FactorError(f"{where}: expected a FactorOverride, got {type(override).__name__}")
        value = override.value
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise FactorError(f"{where}: {value!r} is not a finite number", hint="give a plain number")
        low, inclusive = _OVERRIDE_MIN[kind]
        if value < low or (value == low and not inclusive):
            bound = f">= {low:g}" if inclusive else f"> {low:g}"
            raise FactorError(
                f"{where}: {value!r} is out of range for {_WHAT[kind]} ({_UNITS[kind]})",
                hint=f"the value must be {bound}",
            )
        if not override.source.strip():
            raise FactorError(f"{where}: the override has no source", hint="say where the value comes from")

    def _miss(
        self,
        kind: str,
        text: str,
        candidates: list[str],
        *,
        probe: str = "",
        overridable: bool = True,
    ) -> FactorError:
        """The error for a key not in the bundle: close matches (to ``probe`` or ``text``) and the
        ``sci.toml`` line that would supply it."""
        close = _close_matches(probe or text, candidates)
        parts: list[str] = []
        if close:
            parts.append("close matches: " + ", ".join(repr(c) for c in close))
        if overridable:
            parts.append(self._override_hint(kind, text))
        else:
            parts.append("available: " + ", ".join(repr(c) for c in sorted(candidates)))
        return FactorError(
            f"no {_WHAT[kind]} for {text!r} in factor bundle {self.version}",
            hint="; ".join(parts),
        )

    @staticmethod
    def _override_hint(kind: str, key: str) -> str:
        quoted = key.replace("\\", "\\\\").replace('"', '\\"')
        return f'to supply it, add [factors.{_TABLE_OF_KIND[kind]}] "{quoted}" = {_PLACEHOLDER[kind]}'


def _gpu_matches(entry: _GpuEntry, tokens: frozenset[str]) -> bool:
    for pattern in entry.patterns:
        if pattern <= tokens and all(_GPU_NOISE.match(token) for token in tokens - pattern):
            return True
    return False


_GPU_FAMILY_GENERIC: Final = frozenset({"RTX", "GTX", "SXM", "PCIE", "TI", "ADA", "HBM3"})


def _gpu_family(entries: list[_GpuEntry], tokens: frozenset[str]) -> list[_GpuEntry]:
    """Entries sharing a model token (``A100``, ``H100``, ``3090``) with the query."""
    wanted = tokens - _GPU_FAMILY_GENERIC
    return [
        entry
        for entry in entries
        if any(wanted & (pattern - _GPU_FAMILY_GENERIC) for pattern in entry.patterns)
    ]


def _close_matches(text: str, candidates: list[str]) -> list[str]:
    import difflib  # only needed on the error path

    by_fold: dict[str, str] = {}
    for candidate in candidates:
        by_fold.setdefault(candidate.casefold(), candidate)
    close = difflib.get_close_matches(text.casefold(), list(by_fold), n=5, cutoff=0.6)
    return [by_fold[c] for c in close]


def _as_text(value: object) -> str:
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


def _data_root() -> Traversable:
    return files("sci").joinpath("data").joinpath("factors")


@functools.cache
def load_bundle() -> FactorBundle:
    """The bundled factors (cached). Tables are read on first use."""
    return FactorBundle(_Tables(_data_root()))
