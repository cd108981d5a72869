"""xoshiro256** pseudo-random numbers in numba, with the whole state in a ``uint64[4]`` array.

The state array is the checkpoint: saving and restoring it resumes the exact same stream, which is what
makes a killed-and-resumed swap-MC run bit-identical to an uninterrupted one.
Reference: Blackman & Vigna, "Scrambled linear pseudorandom number generators" (2018).
"""

from __future__ import annotations

import numpy as np
from numba import njit

_MASK = (1 << 64) - 1


def _splitmix64(x: int) -> tuple[int, int]:
    x = (x + 0x9E3779B97F4A7C15) & _MASK
    z = x
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
    return x, z ^ (z >> 31)


def seed_state(seed: int) -> np.ndarray:
    """A xoshiro256** state (``uint64[4]``) from an integer seed via splitmix64 (never all-zero)."""
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    x = int(seed) & _MASK
    out = []
    for _ in range(4):
        x, z = _splitmix64(x)
        out.append(z)
    return np.array(out, dtype=np.uint64)


@njit(inline="always")
def _rotl(x, k):
    return (x << np.uint64(k)) | (x >> np.uint64(64 - k))


@njit(cache=True, inline="always")
def next_u64(s):
    """Advance the state ``s`` in place and return the next 64-bit output."""
    result = _rotl(s[1] * np.uint64(5), 7) * np.uint64(9)
    t = s[1] << np.uint64(17)
    s[2] ^= s[0]
    s[3] ^= s[1]
    s[1] ^= s[2]
    s[0] ^= s[3]
    s[2] ^= t
    s[3] = _rotl(s[3], 45)
    return result


@njit(cache=True, inline="always")
def uniform(s):
    """Uniform double in [0, 1) with 53 random bits."""
    return np.float64(next_u64(s) >> np.uint64(11)) * (1.0 / 9007199254740992.0)


@njit(cache=True, inline="always")
def randint(s, n):
    """Uniform integer in [0, n)."""
    k = np.int64(uniform(s) * n)
    return k if k < n else n - 1


@njit(cache=True)
def uniform_array(s, n):
    out = np.empty(n)
    for i in range(n):
        out[i] = uniform(s)
    return out
