"""Quality measures on real decoded photos, and odd inputs that must still score in [0, 1]."""

import io

import numpy as np
import pytest
from PIL import Image

from bcd_app.vision import preprocessing, quality
from tests import photo_data


def measured(pixels: np.ndarray) -> quality.ImageQuality:
    return photo_data.measure(photo_data.encode(pixels))


@pytest.mark.parametrize("name", ["astronaut", "coffee", "chelsea", "rocket"])
@pytest.mark.parametrize("sigma", [1.5, 3.0, 6.0])
def test_sharp_photo_scores_higher_than_blurred(photos, name, sigma):
    sharp = measured(photos[name])
    blurred = measured(photo_data.gaussian_blur(photos[name], sigma))
    assert sharp.image_quality_score > blurred.image_quality_score
    assert blurred.is_blurry and blurred.low_confidence and not sharp.is_blurry
    assert blurred.hints and "retake" in blurred.hints[0]


def test_motion_blur_is_flagged(photos):
    assert measured(photo_data.motion_blur(photos["coffee"], 17)).is_blurry


def test_dark_photo_is_flagged_and_normalised(photos):
    dark = photo_data.exposure(photos["coffee"], 0.05)
    result = measured(dark)
    assert result.is_too_dark and result.brightness_correction < 1.0
    working = preprocessing.fit_long_side(preprocessing.load_image(photo_data.encode(dark)).pixels)
    normalised = preprocessing.normalise_brightness(working)
    assert 100 <= preprocessing.luminance(normalised.pixels).mean() <= 160


def test_mixed_light_session_scores_lower_than_consistent(photos):
    names = ("astronaut", "coffee", "chelsea", "rocket")
    consistent = {a: [measured(photos[n])] for a, n in zip(("front", "left", "right", "up"), names, strict=True)}
    mixed = dict(consistent)
    mixed["right"] = [measured(photo_data.exposure(photos["chelsea"], 0.06))]
    mixed["up"] = [measured(photo_data.exposure(photos["rocket"], 6.0))]
    good, good_consistency = quality.session_quality_score(consistent)
    worse, worse_consistency = quality.session_quality_score(mixed)
    assert worse < good and worse_consistency < good_consistency


def _png(array: np.ndarray, mode: str | None = None) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array, mode=mode).save(buffer, format="PNG") if mode else Image.fromarray(array).save(
        buffer, format="PNG"
    )
    return buffer.getvalue()


ODD = {
    "1x1": lambda: _png(np.full((1, 1, 3), 128, np.uint8)),
    "grey": lambda: _png(np.random.default_rng(0).integers(0, 255, (64, 80), dtype=np.uint8)),
    "alpha": lambda: _png(np.random.default_rng(1).integers(0, 255, (40, 40, 4), dtype=np.uint8)),
    "16bit": lambda: _png(np.random.default_rng(2).integers(0, 65535, (50, 60), dtype=np.uint16)),
    "tall_strip": lambda: _png(np.random.default_rng(3).integers(0, 255, (3000, 4, 3), dtype=np.uint8)),
    "wide_strip": lambda: _png(np.random.default_rng(4).integers(0, 255, (2, 5000, 3), dtype=np.uint8)),
    "black": lambda: _png(np.zeros((100, 100, 3), np.uint8)),
    "white": lambda: _png(np.full((100, 100, 3), 255, np.uint8)),
}


@pytest.mark.parametrize("kind", sorted(ODD))
def test_odd_inputs_score_in_unit_range(kind):
    result = photo_data.measure(ODD[kind]())
    for name in ("image_quality_score", "brightness", "contrast", "clipped_dark", "clipped_bright", "blur_effect"):
        assert 0.0 <= getattr(result, name) <= 1.0, (kind, name, getattr(result, name))
    assert 0.0 <= quality.angle_quality_score([result]) <= 1.0
    assert 0.0 <= quality.session_quality_score({"front": [result]})[0] <= 1.0


def test_reduced_scale_decode_matches_working_size(jpeg):
    import cv2

    big = cv2.resize(photo_data.real_photos()["coffee"], (4000, 3000))
    loaded = preprocessing.load_image(photo_data.encode(big))
    assert max(loaded.pixels.shape[:2]) < 1100 and (loaded.width, loaded.height) == (4000, 3000)
    assert preprocessing.model_input(loaded.pixels).shape == (3, 224, 224)


def test_heavy_compression_is_read_on_the_jpeg_grid(photos):
    clean = measured(photos["coffee"])
    compressed = measured(photo_data.jpeg_artefacts(photos["coffee"], 5))
    assert compressed.blockiness > 2.0 > 1.4 > clean.blockiness
    assert compressed.low_confidence and "compressed" in " ".join(compressed.hints)


def test_sensor_noise_lowers_the_score_but_texture_is_not_grain(photos):
    noisy = measured(photo_data.noise(photos["coffee"], 15.0))
    grass = measured(photos["grass"])
    assert noisy.image_quality_score < 0.2 < 0.9 < grass.image_quality_score
    assert any("grainy" in hint for hint in noisy.hints) and not grass.hints


def test_small_upload_is_measured_at_its_own_size(photos):
    small = photos["chelsea"]
    assert max(small.shape[:2]) < preprocessing.WORKING_SIZE
    assert not measured(small).is_blurry


def test_the_flattest_share_is_the_one_a_sort_gives():
    rng = np.random.default_rng(7)
    for shape, top in (((382, 510), 2040), ((3, 5), 4), ((100, 7), 1), ((64, 64), 0)):
        levels = rng.integers(0, top + 1, size=shape).astype(np.float32)
        expected = levels <= np.percentile(levels, quality.FLAT_SHARE_PERCENTILE)
        assert np.array_equal(quality._at_or_below_percentile(levels, quality.FLAT_SHARE_PERCENTILE), expected)
