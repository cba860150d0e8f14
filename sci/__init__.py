"""sci-report: Software Carbon Intensity (ISO/IEC 21031:2024) accounting for software and ML teams."""

__version__ = "0.1.0"
