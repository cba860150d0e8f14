"""Whether a file's records start strictly later, per device and component, than the one before.

Fed the store's Arrow batches in line order; ``ordered`` stays True only if every (device, component)
series is strictly increasing in ``start_utc`` across all batches. Then no two records of the file share
an interval, which lets compute count device time without looking for repeated intervals.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa


class IntervalCheck:
    def __init__(self) -> None:
        self.ordered = True
        self._last: dict[tuple[str, str], int] = {}  # the last start (microseconds) of each series

    def add(self, table: pa.Table) -> None:
        if not self.ordered or table.num_rows == 0:
            return
        import numpy as np
        import pyarrow as pa

        devices = table["device"].combine_chunks().dictionary_encode()
        components = table["component"].combine_chunks().dictionary_encode()
        width = len(components.dictionary)
        keys = devices.indices.to_numpy().astype(np.int64) * width + components.indices.to_numpy()
        starts = table["start_utc"].combine_chunks().cast(pa.timestamp("us")).cast(pa.int64()).to_numpy()
        device_names, component_names = devices.dictionary, components.dictionary
        for key, first, last, increasing in _series(keys, starts):
            name = (str(device_names[key // width]), str(component_names[key % width]))
            if not increasing or (name in self._last and first <= self._last[name]):
                self.ordered = False
                return
            self._last[name] = last


def _series(keys: np.ndarray, starts: np.ndarray) -> list[tuple[int, int, int, bool]]:
    """``(key, first start, last start, strictly increasing)`` of each series, in the order of its key.

    One stable sort by key (a radix sort: keys fit 16 bits unless a batch has over 65,536 series), then
    each series is a run of the sorted starts, still in line order."""
    import numpy as np

    narrow = keys.astype(np.uint16) if int(keys.max()) < 1 << 16 else keys
    order = np.argsort(narrow, kind="stable")
    k, s = keys[order], starts[order]
    same = k[1:] == k[:-1]
    bad_keys = set(k[1:][same & (s[1:] <= s[:-1])].tolist())
    begin = np.flatnonzero(np.r_[True, ~same])
    end = np.r_[begin[1:], len(k)] - 1
    return [
        (int(k[b]), int(s[b]), int(s[e]), int(k[b]) not in bad_keys) for b, e in zip(begin, end, strict=True)
    ]
