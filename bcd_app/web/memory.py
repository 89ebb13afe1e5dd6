"""glibc malloc settings for a serving process, applied in the gunicorn master before fork (the workers inherit
them; MALLOC_* variables cannot act on a process already running) and by the benches that stand in for one."""

import ctypes
import os

_M_MMAP_THRESHOLD, _M_ARENA_MAX = -3, -8


def tune_malloc() -> None:
    """Two arenas: glibc otherwise gives every thread its own, fragmented and held. A fixed 4 MB mmap
    threshold: past the first large free glibc raises its own up to 32 MB, after which freed photos and model
    activations stay in the heap; above 4 MB they are mapped and given back (a worker's idle RSS 359 -> 342 MB,
    after three analyses 435 -> 394-414 MB; 256 KB saved 16 MB more but made an upload 20 ms slower)."""
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return
    libc.mallopt(_M_ARENA_MAX, int(os.environ.get("MALLOC_ARENAS", "2")))
    libc.mallopt(_M_MMAP_THRESHOLD, int(os.environ.get("MALLOC_MMAP_THRESHOLD", str(4 * 1024 * 1024))))
