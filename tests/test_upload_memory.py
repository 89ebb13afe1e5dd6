"""Memory per upload: no accepted upload grows a worker by 250 MB (each kind measured in a fresh process), and
uploads arriving at once are decoded a core's worth at a time, so eight of the largest kind do not grow it eight
times over."""

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))

import upload_memory

pytestmark = pytest.mark.slow
LIMIT_MB = 250


def test_every_accepted_upload_stays_under_the_memory_limit():
    seen = {}
    for name, data in upload_memory.upload_kinds().items():
        outcome, growth, _ = upload_memory.measure(data)
        seen[name] = (outcome, round(growth, 1))
    print("\n" + "\n".join(f"{name}: {outcome}, peak +{growth} MB" for name, (outcome, growth) in seen.items()))
    assert seen["PNG 16-bit grey 49 MP (7000x7000)"][0] == "refused: image_too_large"
    accepted = {name: growth for name, (outcome, growth) in seen.items() if outcome == "accepted"}
    assert len(accepted) == 6 and max(accepted.values()) < LIMIT_MB, seen


def test_uploads_at_once_are_decoded_a_core_at_a_time():
    single = upload_memory.measure(upload_memory.upload_kinds()[upload_memory.LARGEST])[1]
    outcome, growth, _ = upload_memory.measure(
        upload_memory.upload_kinds()[upload_memory.LARGEST], upload_memory.AT_ONCE
    )
    print(f"\n1 upload: +{single:.0f} MB; {upload_memory.AT_ONCE} at once: +{growth:.0f} MB")
    # Unbounded, eight 29 MP WebP uploads grew a process by ~1 GB; a slot per core bounds it near cores x one.
    assert outcome == "accepted" and growth < ((os.cpu_count() or 1) + 0.5) * single, (single, growth)
