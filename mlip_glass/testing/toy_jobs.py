"""Tiny importable jobs for store/FireWorks plumbing tests (FireWorks workers import job functions)."""

from jobflow import Flow, job


@job
def add(a: float, b: float) -> float:
    """a + b."""
    return a + b


@job(data="series")
def power_series(x: float, n: int) -> dict:
    """Powers x^0..x^(n-1); the list goes to the data store."""
    return {"n": n, "series": [x**k for k in range(n)]}


@job
def total(values: list) -> float:
    """Sum of a list."""
    return float(sum(values))


def three_job_flow(a: float = 1.0, b: float = 2.0, n: int = 4) -> Flow:
    """add(a, b) → power_series(sum, n) → total(series): total = sum_k (a+b)^k."""
    first = add(a, b)
    second = power_series(first.output, n)
    third = total(second.output["series"])
    return Flow([first, second, third], output=third.output, name="toy three-job flow")


#: the toy flow's name for ``mlip-glass run`` / :func:`mlip_glass.flows.build_flow`
TOY_FLOW = "mlip_glass.testing.toy_jobs:toy_flow"


def toy_flow(campaign: str, a: float = 1.0, b: float = 2.0, n: int = 4) -> Flow:
    """Flow builder (``build_flow`` signature) of :func:`three_job_flow`; ``campaign`` is stamped by the caller."""
    return three_job_flow(a, b, n)
