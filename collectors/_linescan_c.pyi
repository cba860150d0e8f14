# The C module built from collectors/_linescan.c (see collectors/_linescan.py).
def kept(
    data: bytes | memoryview, prefixes: tuple[bytes, ...], /
) -> tuple[int, bytes, bytes, bytes, bytes, bytes] | None: ...
