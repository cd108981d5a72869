"""Frozen copies of the swap-MC kernel and driver before issue 15 (the benchmark baseline)."""
