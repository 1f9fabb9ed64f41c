"""What a stage frees goes back to the system before the next stage starts (unionstat.memory.give_back)."""

from __future__ import annotations

import pytest

from unionstat import memory


def _rss_mb() -> float:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) / 1024 for line in status if line.startswith("VmRSS"))


def test_memory_a_stage_freed_inside_mallocs_heap_goes_back_to_the_system() -> None:
    """glibc gives back by itself only what is free at the top of its heap: 200 MB freed below a block still in
    use stays resident until malloc_trim, as a stage's freed frames stayed under the next stage's peak."""
    if memory._malloc_trim() is None:
        pytest.skip("this C library has no malloc_trim")
    chunks = [bytearray(4000) for _ in range(50_000)]  # 200 MB of malloc's heap (below its mmap threshold)
    still_used = bytearray(4000)  # above them: the heap's top is not free
    del chunks
    before = _rss_mb()
    memory.give_back()
    after = _rss_mb()
    assert before - after > 150, (before, after)
    assert len(still_used) == 4000
