"""A cell's floor: the prior for a new user, learned from her history within bounds (a noisy history cannot lift it
past its cap), raised by a session's own two photos of an angle, and saying which."""

import pytest

from bcd_app.scoring.noise_floor import MAX_SCALE, MIN_SCALE, PRIOR_FLOOR, SESSION_MARGIN, cell_floor, noise_floor


def test_a_new_user_has_the_prior():
    assert noise_floor([]) == PRIOR_FLOOR
    assert cell_floor([], None).source == "prior"


def test_a_history_scales_the_floor_within_its_bounds():
    assert noise_floor([0.0] * 30) == pytest.approx(MIN_SCALE * PRIOR_FLOOR)
    assert noise_floor([50.0] * 30) == pytest.approx(MAX_SCALE * PRIOR_FLOOR)
    found = cell_floor([50.0] * 30, None)
    assert found.source == "history" and found.value == pytest.approx(MAX_SCALE * PRIOR_FLOOR)


def test_a_session_s_own_two_photos_raise_the_floor_and_say_so():
    quiet = cell_floor([], 0.1)
    assert quiet.value == PRIOR_FLOOR and quiet.source == "prior"
    noisy = cell_floor([], 2.0)
    assert noisy.value == pytest.approx(SESSION_MARGIN * 2.0) and noisy.source == "session"
    assert cell_floor([], 100.0).value == pytest.approx(MAX_SCALE * PRIOR_FLOOR)
