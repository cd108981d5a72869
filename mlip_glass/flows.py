"""The paper's flow, composed from the stages' Makers, and the named flows of the command line.

:class:`GlassMLIPFlowMaker` chains surrogate → reference database (all subsets) → NEP fit → properties
(NEP vs EAM) → active-learning iterations. Every arrow is a job output reference or a store query by
campaign/iteration, so the whole campaign is one jobflow ``Flow`` that runs with ``run_locally`` on the
embedded store or on FireWorks (``mlip-glass submit`` + ``qlaunch rapidfire``).

Two presets: :meth:`GlassMLIPFlowMaker.paper` (the paper's numbers, VASP) and
:meth:`GlassMLIPFlowMaker.demo` (the same flow shrunk to minutes on 2 cores, local EAM engine, CPU NEP).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from jobflow import Flow, Maker

from mlip_glass.provenance import stamp

#: wall-time budget of the demo's NEP fits (s) — the CPU trainer stops there
DEMO_FIT_WALL_TIME_S = 75.0
#: optimiser steps of the demo's NEP fits (the wall-time budget usually stops first)
DEMO_FIT_STEPS = 400
#: the demo's surrogate glasses: swap-MC sweeps (N = 150) and MD cooling times (reduced)
DEMO_SWAP_SWEEPS = (1e2, 1e3, 1e4)
DEMO_MD_TIMES = (10.0, 30.0, 100.0)
#: relaxations in the demo database, and every k-th ionic step of each kept as a frame
DEMO_RELAXATIONS = 3
DEMO_RELAX_KEEP_EVERY = 50
#: MLIP-feedback runs per active-learning iteration in the demo (paper: 138)
DEMO_FEEDBACK_RUNS = 3


def _demo_database():
    """Every subset at demo size (EAM); three relaxations so that properties get three minimised glasses."""
    from mlip_glass.datasets.demo import demo_database_maker

    database = demo_database_maker(relax_keep=DEMO_RELAX_KEEP_EVERY)
    database.relaxed.n_select = DEMO_RELAXATIONS
    return database


def _default_surrogate():
    from mlip_glass.surrogate.jobs import SurrogateCoolingFlowMaker

    return SurrogateCoolingFlowMaker()


def _default_database():
    from mlip_glass.datasets.jobs import ReferenceDatabaseMaker

    return ReferenceDatabaseMaker()


def _default_fit():
    from mlip_glass.nep.jobs import NEPFitMaker

    return NEPFitMaker()


def _default_properties():
    from mlip_glass.properties.jobs import PropertySuiteMaker

    return PropertySuiteMaker()


def _default_active_learning():
    from mlip_glass.active_learning.jobs import ActiveLearningMaker

    return ActiveLearningMaker()


@dataclass
class GlassMLIPFlowMaker(Maker):
    """The whole method of arXiv:2501.00589 as one flow.

    Parameters
    ----------
    name
        Flow name.
    surrogate
        :class:`~mlip_glass.surrogate.jobs.SurrogateCoolingFlowMaker`: swap-MC and MD cooling grid, inherent
        structures and the time-scale map (Fig. 2a).
    database
        :class:`~mlip_glass.datasets.jobs.ReferenceDatabaseMaker`: every training subset labelled by the
        reference engine, assembled and split 80/20 (Figs. 2b, 3a).
    fit
        :class:`~mlip_glass.nep.jobs.NEPFitMaker`: the iteration-0 NEP (Figs. 3b–d).
    properties
        :class:`~mlip_glass.properties.jobs.PropertySuiteMaker` run on the campaign's relaxed reference
        structures with the NEP of iteration 0 and the Cheng–Ma–Sheng EAM (Figs. 4, 5); None skips it.
    property_structures
        At most this many relaxed reference structures for the property suite (None = all).
    active_learning
        :class:`~mlip_glass.active_learning.jobs.ActiveLearningMaker` (MLIP feedback, SPEC §5 item 7); its
        ``max_iterations`` sets how many iterations run; None skips active learning.
    """

    name: str = "mlip_glass campaign"
    surrogate: Maker = field(default_factory=_default_surrogate)
    database: Maker = field(default_factory=_default_database)
    fit: Maker = field(default_factory=_default_fit)
    properties: Maker | None = field(default_factory=_default_properties)
    property_structures: int | None = None
    active_learning: Maker | None = field(default_factory=_default_active_learning)

    @classmethod
    def paper(cls, **kwargs) -> "GlassMLIPFlowMaker":
        """The paper's numbers: N = 150; swap-MC 1e4…1e9 sweeps, MD t* 1e2…4e4; VASP labels; NEP 1e5
        generations; RDF N = 1500 × 80 at 100 K/ns; 85 elastic samples; 138 feedback runs, one AL round."""
        from mlip_glass.active_learning.constants import PAPER_N_FEEDBACK_RUNS
        from mlip_glass.active_learning.jobs import ActiveLearningMaker
        from mlip_glass.datasets.jobs import ReferenceDatabaseMaker
        from mlip_glass.properties.jobs import PropertySuiteMaker, RDFMaker
        from mlip_glass.surrogate.jobs import SurrogateCoolingFlowMaker

        settings = dict(
            name="mlip_glass paper campaign",
            surrogate=SurrogateCoolingFlowMaker.paper(),
            database=ReferenceDatabaseMaker(engine="vasp"),
            properties=PropertySuiteMaker(rdf_maker=RDFMaker.paper()),  # one job per 1500-atom RDF run
            active_learning=ActiveLearningMaker(n_feedback_runs=PAPER_N_FEEDBACK_RUNS, max_iterations=1),
        )
        return cls(**{**settings, **kwargs})

    @classmethod
    def demo(cls, al_iterations: int = 1, **kwargs) -> "GlassMLIPFlowMaker":
        """Minutes on 2 cores: small surrogate grid, every subset at demo size with the local EAM engine,
        CPU NEP fits with a wall-time budget, demo property protocols, ``al_iterations`` AL rounds."""
        if int(al_iterations) < 0:
            raise ValueError(f"al_iterations must be >= 0, got {al_iterations}")
        from mlip_glass.active_learning.jobs import ActiveLearningMaker
        from mlip_glass.nep.jobs import NEPFitMaker
        from mlip_glass.properties.jobs import ElasticMaker, PropertySuiteMaker
        from mlip_glass.surrogate.jobs import SurrogateCoolingFlowMaker

        fit = NEPFitMaker(steps=DEMO_FIT_STEPS, wall_time=DEMO_FIT_WALL_TIME_S)
        settings = dict(
            name="mlip_glass demo campaign",
            surrogate=SurrogateCoolingFlowMaker.demo(swap_sweeps=DEMO_SWAP_SWEEPS, md_times=DEMO_MD_TIMES),
            database=_demo_database(),
            fit=fit,
            properties=PropertySuiteMaker.demo(elastic_maker=ElasticMaker.demo()),
            property_structures=3,
            active_learning=ActiveLearningMaker(
                n_feedback_runs=DEMO_FEEDBACK_RUNS, max_iterations=al_iterations, fit=fit, warm_start=True
            )
            if al_iterations > 0
            else None,
        )
        return cls(**{**settings, **kwargs})

    def make(self, campaign: str, structure=None) -> Flow:
        """The campaign's flow, every job stamped with ``campaign`` (iteration 0; AL jobs stamp their own)."""
        surrogate = self.surrogate.make(structure)
        database = self.database.make(surrogate.output["states"])
        fit = self.fit.make(database.output)
        jobs = [surrogate, database, fit]
        after = fit.output
        if self.properties is not None:
            suite = self.properties.from_store(
                campaign, iteration=0, subset="relaxed", max_structures=self.property_structures, after=fit.output
            )
            jobs.append(suite)
        if self.active_learning is not None:
            jobs.append(self.active_learning.make(campaign, iteration=1, after=after))
        flow = Flow(jobs, output={"dataset": database.output, "model": fit.output}, name=self.name)
        return stamp(flow, campaign=campaign, iteration=0)


def _toy_flow(campaign: str, **_options) -> Flow:
    from mlip_glass.testing.toy_jobs import three_job_flow

    return three_job_flow()


def _demo_flow(campaign: str, al_iterations: int = 1, **options) -> Flow:
    return GlassMLIPFlowMaker.demo(al_iterations=al_iterations, **options).make(campaign)


def _paper_flow(campaign: str, **options) -> Flow:
    return GlassMLIPFlowMaker.paper(**options).make(campaign)


def _surrogate_flow(campaign: str, **options) -> Flow:
    from mlip_glass.surrogate.jobs import SurrogateCoolingFlowMaker

    return SurrogateCoolingFlowMaker.demo(**options).make()


#: flow name → builder(campaign, **options) → Flow
FLOW_BUILDERS: dict[str, Callable[..., Flow]] = {
    "toy": _toy_flow,
    "surrogate": _surrogate_flow,
    "demo": _demo_flow,
    "paper": _paper_flow,
}


def available_flows() -> list[str]:
    """Names accepted by :func:`build_flow`."""
    return sorted(FLOW_BUILDERS)


def build_flow(name: str, campaign: str, iteration: int = 0, **options: Any) -> Flow:
    """Build the named flow and stamp every job with ``campaign``/``iteration`` metadata."""
    if name not in FLOW_BUILDERS:
        raise ValueError(f"unknown flow {name!r}; available: {', '.join(available_flows())}")
    flow = FLOW_BUILDERS[name](campaign, **options)
    return stamp(flow, campaign=campaign, iteration=iteration)
