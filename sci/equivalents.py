"""Everyday equivalents of a carbon figure (car-km, household-days, flights), from a small bundled CSV.

``sci/data/equivalents.csv`` holds each factor with its working, source, year, licence and whether it was
checked against the source. Equivalents illustrate a figure; they are never part of SCI.
"""

from __future__ import annotations

import csv
import functools
import io
from dataclasses import dataclass
from importlib.resources import files

EQUIVALENTS_FILE = "equivalents.csv"


@dataclass(frozen=True, slots=True)
class Equivalent:
    key: str
    label: str  # what one unit is, e.g. "km driven by an average passenger car"
    unit: str
    kg_co2e_per_unit: float
    working: str
    source: str
    year: int
    licence: str
    url: str
    verified: str

    def units_for(self, *, carbon_kg: float) -> float:
        """How many units emit ``carbon_kg``."""
        return carbon_kg / self.kg_co2e_per_unit


@functools.cache
def load_equivalents() -> tuple[Equivalent, ...]:
    text = files("sci").joinpath("data").joinpath(EQUIVALENTS_FILE).read_text(encoding="utf-8")
    return tuple(
        Equivalent(
            key=row["key"],
            label=row["label"],
            unit=row["unit"],
            kg_co2e_per_unit=float(row["kg_co2e_per_unit"]),
            working=row["working"],
            source=row["source"],
            year=int(row["year"]),
            licence=row["licence"],
            url=row["url"],
            verified=row["verified"],
        )
        for row in csv.DictReader(io.StringIO(text, newline=""))
    )
