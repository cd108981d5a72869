"""Closed-loop validation of a campaign's NEP against its reference engine (held-out frames, MD stability,
relaxation)."""
