"""Results of the analytics pages' pure computations, kept for their last few inputs (issue 15).

The CREI page's rank intervals (300 replications of the index) and its grid map (3,600 tiles drawn as one
figure) are a third of a district's page at 1,000,000 households, and each is a pure function of its inputs: the
same inputs give the same result. So each result is kept under a digest of its whole input, never by time: a
changed value is a new key, and the page always shows what a fresh computation would. Per process (each server
worker keeps its own), at most :data:`KEPT` results of each kind.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np
import pandas as pd

KEPT = 8
T = TypeVar("T")
_kept: dict[str, OrderedDict[str, Any]] = {}
_lock = threading.Lock()


def digest(*parts: Any, frames: tuple[pd.DataFrame, ...] = ()) -> str:
    """A digest of ``parts`` (as JSON) and of each frame's columns, dtypes and exact values (floats by their
    bits)."""
    found = hashlib.blake2b(digest_size=20)
    found.update(json.dumps(parts, separators=(",", ":"), default=str).encode())
    for frame in frames:
        found.update(json.dumps([[str(c) for c in frame.columns], [str(t) for t in frame.dtypes], len(frame)],
                                default=str).encode())
        for name in frame.columns:
            column = frame[name]
            if column.dtype.kind in "fiub":
                found.update(np.ascontiguousarray(column.to_numpy()).tobytes())
            else:
                found.update("\x1f".join(map(str, column.tolist())).encode() + b"\x1e")
    return found.hexdigest()


def kept(kind: str, key: str, compute: Callable[[], T]) -> T:
    """The result kept for ``key`` among ``kind``'s last :data:`KEPT`, else ``compute()`` (then kept). A kept
    result is shared: a mutable one must be copied by the caller before changing it."""
    with _lock:
        results = _kept.setdefault(kind, OrderedDict())
        if key in results:
            results.move_to_end(key)
            return results[key]  # type: ignore[no-any-return]
    found = compute()  # outside the lock: two threads computing the same input both get the same result
    with _lock:
        results[key] = found
        while len(results) > KEPT:
            results.popitem(last=False)
    return found


def forget() -> None:
    """Drop every kept result (tests)."""
    with _lock:
        _kept.clear()


def size(kind: str) -> int:
    with _lock:
        return len(_kept.get(kind, ()))
