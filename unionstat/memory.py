"""Memory a stage has freed, handed back to the system before the next stage starts.

Freed memory stays with the process: glibc's malloc keeps freed chunks in its heap, and Arrow's allocator
(mimalloc, which validation's record batches go through) keeps freed pages for reuse. The next stage then starts
on top of it: at 10M observations validation left 140 MB more resident than it found, and the dbt build that
followed counted it in its peak (the bench reports each stage's RSS at its start beside its peak). Giving it back
between stages keeps a refresh's peak to the largest stage's own, as UNIONSTAT_MEMORY_LIMIT's shares assume.
"""

from __future__ import annotations

import ctypes
import sys
from collections.abc import Callable
from functools import cache


@cache
def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's malloc_trim, or None where the C library has none (musl, macOS)."""
    try:
        trim = ctypes.CDLL(None).malloc_trim
    except (AttributeError, OSError):
        return None
    trim.argtypes, trim.restype = [ctypes.c_size_t], ctypes.c_int
    return trim


def give_back() -> None:
    """Return the memory freed so far to the system: Arrow's unused pages (only when pyarrow is loaded: nothing
    is imported for it), then malloc's free chunks (malloc_trim(0) also releases whole free pages inside the heap,
    not only at its top). Objects still referenced are untouched; it costs milliseconds."""
    pyarrow = sys.modules.get("pyarrow")
    if pyarrow is not None:
        pyarrow.default_memory_pool().release_unused()
    trim = _malloc_trim()
    if trim is not None:
        trim(0)
