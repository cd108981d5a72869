"""xoshiro256** stream: reproducible from a seed and from a saved state; uniform moments."""

import numpy as np
import pytest

from mlip_glass.surrogate.rng import seed_state, uniform_array


def test_saved_state_continues_the_same_stream():
    s = seed_state(42)
    first = uniform_array(s, 10)
    saved = s.copy()
    rest = uniform_array(s, 10)
    again = seed_state(42)
    assert np.array_equal(uniform_array(again, 10), first)
    assert np.array_equal(uniform_array(saved, 10), rest)


def test_uniform_moments_and_range():
    x = uniform_array(seed_state(3), 400_000)
    assert x.min() >= 0.0 and x.max() < 1.0
    assert x.mean() == pytest.approx(0.5, abs=3e-3)
    assert x.var() == pytest.approx(1 / 12, abs=2e-3)
    # successive values uncorrelated
    assert abs(np.corrcoef(x[:-1], x[1:])[0, 1]) < 0.01


def test_negative_seed_rejected():
    with pytest.raises(ValueError, match="seed"):
        seed_state(-1)
