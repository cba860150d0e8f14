"""JSON documents whose objects know the line they start on (for records that trace back to a line).

The pure-Python scanner of the standard library calls the decoder's ``parse_object`` with the offset of
each ``{``; this decoder wraps it so every object is a ``Located`` dict carrying that offset.
"""

from __future__ import annotations

import bisect
import json
import json.decoder
import json.scanner
import re
import zlib
from typing import Any

from collectors.base import SourceContext, head_text

MAX_JSON_BYTES = 512 * 1024 * 1024
_JSON_HINT = "check that this is the API response saved as it came (JSON), e.g. with curl -o jobs.json"


class Located(dict[str, Any]):
    """A JSON object and the 1-based line its ``{`` is on."""

    line: int = 0


class _Decoder(json.JSONDecoder):
    def __init__(self, text: str) -> None:
        super().__init__()
        newlines = [m.start() for m in re.finditer("\n", text)]

        def parse_object(s_and_end: tuple[str, int], *args: Any, **kw: Any) -> tuple[Any, int]:
            pairs, end = json.decoder.JSONObject(  # type: ignore[attr-defined]
                s_and_end, *args, **kw
            )
            found = Located(pairs)
            found.line = bisect.bisect_left(newlines, s_and_end[1] - 1) + 1
            return found, end

        self.parse_object = parse_object
        self.scan_once = json.scanner.py_make_scanner(self)  # type: ignore[attr-defined]


def load_json(ctx: SourceContext) -> Any:
    """The file as JSON, every object a ``Located``; unreadable text or JSON is a ``CollectorError``."""
    with ctx.open_binary() as stream:
        try:
            data = stream.read(MAX_JSON_BYTES + 1)
        except (OSError, EOFError, zlib.error) as exc:
            raise ctx.error(
                None,
                f"cannot read the file: the data is corrupt or cut off ({exc})",
                "re-copy the file, or decompress what is readable with `zcat FILE > FILE.json`",
            ) from None
    if len(data) > MAX_JSON_BYTES:
        raise ctx.error(None, "the file is over 512 MB of JSON", "split it into one file per page or month")
    try:
        text = data.removeprefix(b"\xef\xbb\xbf").decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ctx.error(line, f"byte {exc.start} is not UTF-8 text", _JSON_HINT) from None
    try:
        return _Decoder(text).decode(text)
    except json.JSONDecodeError as exc:
        raise ctx.error(exc.lineno, f"not valid JSON: {exc.msg} (column {exc.colno})", _JSON_HINT) from None
    except RecursionError:
        raise ctx.error(None, "the JSON is nested too deeply to be an API response", _JSON_HINT) from None


def located_line(value: object, fallback: int) -> int:
    return value.line if isinstance(value, Located) else fallback


def sniff_json(head: bytes, *needles: str) -> bool:
    """Whether ``head`` starts like a JSON object or array and names every one of ``needles``."""
    text = head_text(head).lstrip()
    return text[:1] in ("{", "[") and all(n in text for n in needles)
