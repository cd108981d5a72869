"""Named flows a user can run or submit from the command line (``mlip-glass run NAME``).

Each builder returns a jobflow ``Flow`` stamped with provenance metadata (campaign, iteration) by
:func:`mlip_glass.provenance.stamp`. Stage flows live in their stage's ``jobs.py``; this module composes.
"""

from __future__ import annotations

from typing import Callable

from jobflow import Flow

from mlip_glass.provenance import stamp


def _toy_flow(**_options) -> Flow:
    from mlip_glass.testing.toy_jobs import three_job_flow

    return three_job_flow()


#: flow name → builder(**options) → Flow
FLOW_BUILDERS: dict[str, Callable[..., Flow]] = {"toy": _toy_flow}


def available_flows() -> list[str]:
    """Names accepted by :func:`build_flow`."""
    return sorted(FLOW_BUILDERS)


def build_flow(name: str, campaign: str, iteration: int = 0, **options) -> Flow:
    """Build the named flow and stamp every job with ``campaign``/``iteration`` metadata."""
    if name not in FLOW_BUILDERS:
        raise ValueError(f"unknown flow {name!r}; available: {', '.join(available_flows())}")
    flow = FLOW_BUILDERS[name](**options)
    return stamp(flow, campaign=campaign, iteration=iteration)
