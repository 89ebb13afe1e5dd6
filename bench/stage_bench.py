"""CPU per photo by stage, the code at --before (a git worktree) against this tree, side by side in one run: each
in a process of its own, on the same real photos re-taken at home (tests/photo_data.py), on one thread (OpenCV's
and the model's work included), CPU time of that thread (time.thread_time: what a stage costs, whatever else the
machine does), median over the photos.

Run: .venv/bin/python bench/stage_bench.py [--before REV]
"""

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.service_bench import BEFORE, worktree  # noqa: E402

# Runs in the tree measured (its own bcd_app), prints one JSON object: stage -> median CPU ms.
_MEASURE = """
import json, statistics, time
import cv2, numpy as np
# Every stage on the calling thread, so its CPU time is the stage's whole cost.
cv2.setNumThreads(1)
from bcd_app.constants import ANGLES
from bcd_app.vision import features, preprocessing, quality, registration, regions
from bcd_app.vision.embeddings import embedder
from tests import photo_data

embedder.configure(None, 1)
embedder.info()
photos = photo_data.real_photos()
rng = np.random.default_rng(17)
own = getattr(features, "needs_own_output", lambda angle: True)
stages = {}

def timed(stage, work, *args):
    started = time.thread_time()
    result = work(*args)
    stages.setdefault(stage, []).append((time.thread_time() - started) * 1000)
    return result

for round_ in range(2):
    for name in sorted(photos):
        base = preprocessing.fit_long_side(photos[name])
        taken = photo_data.home_recapture(photos[name], rng)
        jpeg = photo_data.encode(cv2.resize(taken, (4000, 3000), interpolation=cv2.INTER_CUBIC), quality=90)
        loaded = timed("decode at working size (12 MP JPEG)", preprocessing.load_image, jpeg)
        today = preprocessing.fit_long_side(loaded.pixels)
        timed("quality", quality.measure, loaded, quality.QualityThresholds(), today)
        normalised = preprocessing.normalise_brightness(today).pixels
        started = time.thread_time()
        for angle in ANGLES:
            if own(angle):
                features.compute(normalised, angle)
        stages.setdefault("model as taken, a six-angle session's passes / 6", []).append(
            (time.thread_time() - started) * 1000 / len(ANGLES)
        )
        alignment = timed("registration", registration.align, today, base)
        if not alignment.ok:
            continue
        comparison = timed("comparison (map, scan, canonical copy)", regions.compare, today, base, alignment)
        # The two dense flows inside the comparison (256 px, halved), and what DIS would take for them instead.
        size = regions.REGION_SIZE
        small_r, small_m = registration.shrink(base, size)[0], registration.shrink(comparison.canonical, size)[0]
        half = (small_r.shape[1] // 2, small_r.shape[0] // 2)
        grey_r, grey_m = (
            cv2.resize(regions._grey(p), half, interpolation=cv2.INTER_AREA) for p in (small_r, small_m)
        )
        pairs = ((grey_r, grey_m), (grey_m, grey_r))
        timed("  inside it: the two Farneback flows", lambda: [regions._farneback(a, b) for a, b in pairs])
        # DIS "fast" as preset (its finest scale a quarter of the pair's size), and at half the size (finest scale 1:
        # the variant the trust bench calibrated against Farneback, docs/PERFORMANCE.md).
        dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_FAST)
        timed("  (DIS 'fast' for the same two flows: not used)", lambda: [dis.calc(a, b, None) for a, b in pairs])
        dis.setFinestScale(1)
        timed("  (DIS 'fast', finest scale 1: not used)", lambda: [dis.calc(a, b, None) for a, b in pairs])
        timed(
            "model, the photo brought onto the baseline",
            lambda: features.plain(preprocessing.normalise_brightness(comparison.canonical).pixels),
        )
print(json.dumps({stage: statistics.median(values) for stage, values in stages.items()}))
"""

SUM = "model + registration + comparison"
# The stages the target adds up: model + registration + comparison, per photo.
SUMMED = (
    "model as taken, a six-angle session's passes / 6",
    "registration",
    "comparison (map, scan, canonical copy)",
    "model, the photo brought onto the baseline",
)


def measure(root: Path) -> dict[str, float]:
    """stage -> median CPU ms for the code at `root`."""
    done = subprocess.run([sys.executable, "-c", _MEASURE], cwd=root, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    """Measure both trees, print one table."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--before", default=BEFORE)
    args = parser.parse_args()
    with worktree(args.before) as before:
        columns = {f"before ({args.before})": measure(before)}
    columns["now"] = measure(ROOT)
    print("CPU per photo by stage (ms, one thread, median over 24 home re-takes of 12 real photos)")
    print(f"{'stage':52s}" + "".join(f"{label:>18s}" for label in columns) + f"{'now / before':>14s}")
    for stage in [*columns["now"], SUM]:
        values = [
            sum(figures[part] for part in SUMMED) if stage == SUM else figures[stage] for figures in columns.values()
        ]
        print(f"{stage:52s}" + "".join(f"{v:18.1f}" for v in values) + f"{values[-1] / values[0]:13.2f}x")
    print(f"target: {SUM} <= 40 ms")


if __name__ == "__main__":
    main()
