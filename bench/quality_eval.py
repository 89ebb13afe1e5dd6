"""Quality-score calibration on real photographs: ROC AUC of clean vs degraded, false low-confidence rate.

Run: .venv/bin/python bench/quality_eval.py
"""

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.photo_data import DEGRADATIONS, encode, measure, real_photos


def roc_auc(positive: list[float], negative: list[float]) -> float:
    """Probability that a clean photo scores above a degraded one (ties count half)."""
    pos = np.asarray(positive)[:, None]
    neg = np.asarray(negative)[None, :]
    return float(((pos > neg).sum() + 0.5 * (pos == neg).sum()) / (pos.size * neg.size))


def main() -> None:
    """Score every clean and degraded photo and print the table."""
    photos = real_photos()
    clean = {name: measure(encode(pixels)) for name, pixels in photos.items()}
    clean_scores = [q.image_quality_score for q in clean.values()]
    print(f"{len(photos)} real photos, {len(DEGRADATIONS)} degradations each\n")
    print(f"{'photo':<22}{'score':>7}{'blur_var':>10}{'blur_eff':>9}{'noise':>7}{'chroma':>7}{'blocks':>7}  flags")
    for name, q in clean.items():
        flags = [f for f in ("is_blurry", "is_too_dark", "is_too_bright", "low_confidence") if getattr(q, f)]
        print(
            f"{name:<22}{q.image_quality_score:>7.3f}{q.blur_variance:>10.1f}{q.blur_effect:>9.3f}"
            f"{q.noise_sigma:>7.2f}{q.chroma_noise:>7.2f}{q.blockiness:>7.2f}  {','.join(flags)}"
        )
    print(f"\n{'degradation':<22}{'AUC':>7}{'mean score':>12}{'flagged':>9}")
    all_degraded = []
    for label, degrade in DEGRADATIONS.items():
        degraded = [measure(encode(degrade(pixels))) for pixels in photos.values()]
        scores = [q.image_quality_score for q in degraded]
        all_degraded += scores
        flagged = np.mean([q.low_confidence or q.is_too_dark or q.is_too_bright for q in degraded])
        print(f"{label:<22}{roc_auc(clean_scores, scores):>7.3f}{np.mean(scores):>12.3f}{flagged:>9.0%}")
    false_flags = np.mean([q.low_confidence for q in clean.values()])
    print(f"\noverall ROC AUC clean vs degraded: {roc_auc(clean_scores, all_degraded):.3f}")
    print(f"false low-confidence flags on clean photos: {false_flags:.1%}")


if __name__ == "__main__":
    main()
