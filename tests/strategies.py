"""Hypothesis strategies shared by the collector tests."""

from __future__ import annotations

import gzip

from hypothesis import strategies as st

GZIP_MAGIC = b"\x1f\x8b"


def file_bytes(max_size: int) -> st.SearchStrategy[bytes]:
    """Any bytes, including ones that look gzip-compressed and real gzip streams: collectors read both
    through SourceContext's gzip reader, so both must give records or a CollectorError."""
    return st.one_of(
        st.binary(max_size=max_size),
        st.binary(max_size=200).map(lambda data: GZIP_MAGIC + data),
        st.binary(max_size=300).map(gzip.compress),
    )
