"""The skin phantom the trust bench renders: a re-take at home is registered onto the baseline, a change made on
the body lands inside the frame where the renderer says, and the same shot renders the same photo."""

import numpy as np

from bcd_app.vision import preprocessing, registration
from tests import phantom


def test_a_home_retake_of_the_phantom_registers_and_a_change_lands_where_it_was_made():
    body = phantom.person(3, 0.65)
    rng = np.random.default_rng(11)
    base_shot = phantom.Shot(seed=1)
    base = preprocessing.fit_long_side(phantom.render(body, base_shot))
    assert np.array_equal(base, preprocessing.fit_long_side(phantom.render(body, base_shot)))
    reddened = phantom.changed(body, "redness", 0.05, rng)
    today = preprocessing.fit_long_side(phantom.render(reddened, phantom.retake(rng)))
    assert registration.align(today, base).ok
    x0, y0, x1, y1 = phantom.change_box(reddened, base_shot)
    width, height = phantom.IMAGE_SIZE
    assert 0 <= x0 < x1 <= width and 0 <= y0 < y1 <= height
    area = (x1 - x0) * (y1 - y0) / (width * height)
    assert 0.03 < area < 0.12, area
    seen = phantom.seen_body(body, base_shot)
    assert 0.5 < seen.mean() < 0.98
