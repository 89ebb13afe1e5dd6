"""Peak memory growth and time of one upload's processing (uploads.decode_upload: decode, quality, the working
copy), each kind in a fresh, warmed-up process, so one kind's peak is not hidden by another's; and of eight
uploads arriving at once in one process (a worker's request threads), 12 MP JPEGs and the largest kind.

Run: .venv/bin/python bench/upload_memory.py
"""

import io
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
TWELVE_MP = "JPEG 12 MP (4000x3000)"
# The accepted kind that needs the most memory.
LARGEST = "WebP 29 MP (6200x4650)"
# A worker's request threads (gunicorn.conf.py: 8) each with an upload.
AT_ONCE = 8
# Measured in a child: the RSS high-water mark (VmHWM, reset through clear_refs) over the RSS before processing.
CHILD = """
import sys, time
from concurrent.futures import ThreadPoolExecutor
sys.path.insert(0, sys.argv[2])
from bcd_app.web.memory import tune_malloc
tune_malloc()  # as the gunicorn master does for its workers
from bcd_app.errors import ImageRejected
from bcd_app.services import uploads

def status(field):
    line = next(l for l in open("/proc/self/status") if l.startswith(field + ":"))
    return int(line.split()[1])

def process(data):
    if AT_ONCE == 1:
        uploads.decode_upload(data)
        return
    with ThreadPoolExecutor(AT_ONCE) as pool:
        list(pool.map(uploads.decode_upload, [data] * AT_ONCE))

AT_ONCE = int(sys.argv[3])

# Warm up as a serving worker is (libraries' first-call set-up is not the upload's cost).
import io, numpy
from PIL import Image
warm = io.BytesIO()
Image.fromarray(numpy.full((600, 800, 3), 128, numpy.uint8)).save(warm, format="JPEG")
process(warm.getvalue())
data = open(sys.argv[1], "rb").read()
open("/proc/self/clear_refs", "w").write("5")
before = status("VmRSS")
outcome = "accepted"
started = time.perf_counter()
try:
    process(data)
except ImageRejected as exc:
    outcome = "refused: " + exc.code
after = status("VmHWM")
print(outcome, (after - before) / 1024, (time.perf_counter() - started) * 1000)
"""


def _gradient(width: int, height: int, channels: int, dtype=np.uint8) -> np.ndarray:
    top = 65535 if dtype == np.uint16 else 255
    x = np.linspace(0, top, width, dtype=np.float32)[None, :]
    y = np.linspace(0, top, height, dtype=np.float32)[:, None]
    plane = ((x + y) / 2).astype(dtype)
    return plane if channels == 1 else np.repeat(plane[:, :, None], channels, axis=2)


def _save(array: np.ndarray, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format=fmt, **options)
    return buffer.getvalue()


def upload_kinds() -> dict[str, bytes]:
    """The kinds of upload measured: phone JPEGs, and lossless files that decode at full size."""
    import cv2

    from tests.photo_data import real_photos

    photo = real_photos()["astronaut"]
    return {
        TWELVE_MP: _save(cv2.resize(photo, (4000, 3000)), "JPEG", quality=90),
        "JPEG 48 MP (8000x6000)": _save(cv2.resize(photo, (8000, 6000)), "JPEG", quality=90),
        "PNG 16-bit grey 49 MP (7000x7000)": _save(_gradient(7000, 7000, 1, np.uint16), "PNG", compress_level=1),
        "PNG 16-bit grey 29 MP (5400x5400)": _save(_gradient(5400, 5400, 1, np.uint16), "PNG", compress_level=1),
        "PNG RGB 29 MP (6200x4650)": _save(_gradient(6200, 4650, 3), "PNG", compress_level=1),
        "WebP 12 MP (4000x3000)": _save(cv2.resize(photo, (4000, 3000)), "WEBP", quality=80, method=0),
        LARGEST: _save(cv2.resize(photo, (6200, 4650)), "WEBP", quality=80, method=0),
    }


def measure(data: bytes, at_once: int = 1) -> tuple[str, float, float]:
    """(outcome, peak growth in MB, ms) of processing `data` (`at_once` copies at the same time) in a fresh
    process."""
    with tempfile.NamedTemporaryFile(suffix=".img") as handle:
        handle.write(data)
        handle.flush()
        out = subprocess.run(
            [sys.executable, "-c", CHILD, handle.name, str(ROOT), str(at_once)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()
    return " ".join(out[:-2]), float(out[-2]), float(out[-1])


def main() -> None:
    """Print one line per kind, and one for uploads at once."""
    sys.path.insert(0, str(ROOT))
    print(f"{'upload':36s} {'size':>9s} {'outcome':>28s} {'peak growth':>12s} {'time':>8s}")
    results = {}
    kinds = upload_kinds()
    for name, data in kinds.items():
        outcome, growth, ms = measure(data)
        results[name] = growth
        print(f"{name:36s} {len(data) / 1024:7.0f}KB {outcome:>28s} {growth:9.1f} MB {ms:6.0f}ms")
    for name in (TWELVE_MP, LARGEST):
        outcome, growth, ms = measure(kinds[name], AT_ONCE)
        label = f"{AT_ONCE} x {name} at once"
        results[label] = growth
        print(f"{label:36s} {len(kinds[name]) / 1024:7.0f}KB {outcome:>28s} {growth:9.1f} MB {ms:6.0f}ms")
    print(json.dumps({"max_growth_mb": max(results.values())}))


if __name__ == "__main__":
    main()
