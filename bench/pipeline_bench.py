"""Decode + quality + preprocessing of a 12 MP JPEG: our pipeline vs the naive full-size path, side by side.

Run: .venv/bin/python bench/pipeline_bench.py
"""

import io
import statistics
import sys
import time
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bcd_app.vision import preprocessing, quality
from tests.photo_data import real_photos

ROUNDS = 15


def twelve_megapixel_jpeg() -> bytes:
    """A real photo upscaled to 4000x3000, encoded like a phone would."""
    photo = real_photos()["coffee"]
    big = cv2.resize(photo, (4000, 3000), interpolation=cv2.INTER_CUBIC)
    buffer = io.BytesIO()
    Image.fromarray(big).save(buffer, format="JPEG", quality=92)
    return buffer.getvalue()


def ours(data: bytes) -> np.ndarray:
    """Draft decode at reduced DCT scale, measure and prepare on the small working copy."""
    _, normalised = quality.measure(preprocessing.load_image(data))
    return preprocessing.model_input(normalised.pixels)


def naive(data: bytes) -> np.ndarray:
    """Full decode, full-size OpenCV conversions and Laplacian, then resize."""
    pixels = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
    grey = cv2.cvtColor(pixels, cv2.COLOR_RGB2GRAY)
    cv2.Laplacian(grey, cv2.CV_64F).var()
    float(grey.mean()), float(grey.std())
    lab = cv2.cvtColor(pixels, cv2.COLOR_RGB2LAB)
    cv2.cvtColor(lab, cv2.COLOR_LAB2RGB)
    resized = cv2.resize(pixels, (preprocessing.WORKING_SIZE, preprocessing.WORKING_SIZE * 3 // 4))
    return preprocessing.model_input(resized)


def timed(function, data: bytes) -> float:
    """Median milliseconds over ROUNDS runs."""
    samples = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        function(data)
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def main() -> None:
    """Print both timings and their ratio."""
    data = twelve_megapixel_jpeg()
    ours(data), naive(data)  # warm-up
    naive_ms, ours_ms = timed(naive, data), timed(ours, data)
    print(f"12 MP JPEG ({len(data) / 1e6:.1f} MB), median of {ROUNDS}")
    print(f"naive path (full decode, full-size OpenCV, resize): {naive_ms:8.1f} ms/image")
    print(f"our pipeline (draft decode, work at {preprocessing.WORKING_SIZE} px):      {ours_ms:8.1f} ms/image")
    print(f"speed-up: {naive_ms / ours_ms:.1f}x")


if __name__ == "__main__":
    main()
