"""Makers of the properties stage: RDF, elastic constants, AQS shear, energetics, and the suite.

Each Maker runs one property for one potential on its structures; independent runs/structures go to
parallel worker processes (``n_workers``). Curves go to the JobStore's ``data`` store. The
:class:`PropertySuiteMaker` runs every property for every potential (NEP models from the store, the
shipped EAM, any LAMMPS pair style) and summarises them.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from jobflow import Flow, JobConfig, Maker, Response

from mlip_glass.errors import MakerInputError
from mlip_glass.properties import constants as C
from mlip_glass.properties.inputs import as_potential
from mlip_glass.properties.potentials import cheng_ma_sheng
from mlip_glass.properties.protocols import AQSProtocol, ElasticProtocol, RDFProtocol
from mlip_glass.properties.runners import (
    compute_aqs,
    compute_elastic,
    compute_energetics,
    compute_rdf,
    merge_rdf_documents,
    summary_row,
)
from mlip_glass.properties.schemas import (
    DATA_FIELDS,
    AQSDocument,
    ElasticDocument,
    EnergeticsDocument,
    RDFDocument,
)
from mlip_glass.properties.store import fetch_nep_potentials, fetch_reference_frames
from mlip_glass.provenance import inherit_provenance
from mlip_glass.stage import current_job, stage_job

# no output_schema: a split RDFMaker job returns a Response replacing itself (schema checks reject it)
rdf_job = stage_job("properties", data=DATA_FIELDS)
rdf_merge_job = stage_job("properties", data=DATA_FIELDS, output_schema=RDFDocument)
elastic_job = stage_job("properties", data=DATA_FIELDS, output_schema=ElasticDocument)
aqs_job = stage_job("properties", data=DATA_FIELDS, output_schema=AQSDocument)
energetics_job = stage_job("properties", data=DATA_FIELDS, output_schema=EnergeticsDocument)
properties_job = stage_job("properties")
store_reading_job = stage_job("properties", config=JobConfig(expose_store=True))


@dataclass
class RDFMaker(Maker):
    """Melt-quench g(r) of one potential (Fig. 4a); defaults are the paper's protocol.

    Paper scale (1500 atoms, 17 ns of cooling, 80 runs) is cluster/GPU work: with calorine's CPUNEP
    (~2.8e4 atom-steps/s on one core) one 2-fs-step run of the NEP takes ~5 days, with the EAM ~3.5 h.
    Set ``runs_per_job`` to split the runs into separate jobs (e.g. one per node) merged at the end.

    Parameters
    ----------
    name
        Job name.
    n_runs
        Independent melt-quench runs (velocity seeds ``seed .. seed + n_runs - 1``).
    n_atoms
        Atoms of the random starting cells (when no structures are given).
    composition
        Atomic fractions of the random starting cells.
    seed
        First seed (>= 0); run i uses ``seed + i`` for its random cell and velocities.
    t_high, t_low
        Melt and final temperature (K).
    cooling_rate_k_per_ns
        Linear NPT cooling rate (K/ns).
    timestep_fs
        MD time step (fs).
    equilibration_ps
        NPT time at ``t_high`` before cooling (ps).
    sample_ps, sample_frames
        NPT time at ``t_low`` (ps) and g(r) frames taken in it.
    pressure_gpa
        NPT pressure (GPa).
    r_max, n_bins
        g(r) range (Å) and bins.
    experiment
        Experimental curve: path, ``{"path", "kind": "g"|"G", "number_density"}`` or ``{"r", "g"}``.
    compare_weighting
        Weighting of the simulated total compared with experiment: concentration, xray, neutron.
    xray_q
        q (1/Å) of the X-ray form factors; None = Z approximation.
    compare_range
        r window (Å) of MAE and Wasserstein distance.
    n_workers
        Parallel worker processes.
    runs_per_job
        Split into jobs of at most this many runs (None: one job).
    checkpoint_dir
        Directory where finished runs are kept so a restarted job skips them (None: off).
    """

    name: str = "rdf"
    n_runs: int = C.RDF_N_RUNS
    n_atoms: int = C.RDF_N_ATOMS
    composition: dict[str, float] = field(default_factory=lambda: dict(C.RDF_COMPOSITION))
    seed: int = 0
    t_high: float = C.RDF_T_HIGH_K
    t_low: float = C.RDF_T_LOW_K
    cooling_rate_k_per_ns: float = C.RDF_COOLING_RATE_K_PER_NS
    timestep_fs: float = C.RDF_TIMESTEP_FS
    equilibration_ps: float = C.RDF_EQUILIBRATION_PS
    sample_ps: float = C.RDF_SAMPLE_PS
    sample_frames: int = C.RDF_SAMPLE_FRAMES
    pressure_gpa: float = C.RDF_PRESSURE_GPA
    r_max: float = C.RDF_R_MAX
    n_bins: int = C.RDF_N_BINS
    experiment: Any = None
    compare_weighting: str = "xray"
    xray_q: float | None = None
    compare_range: tuple[float, float] = C.RDF_COMPARE_RANGE
    n_workers: int = C.N_WORKERS
    runs_per_job: int | None = None
    checkpoint_dir: str | None = None

    def __post_init__(self):
        if self.n_runs < 1:
            raise MakerInputError(f"n_runs must be >= 1, got {self.n_runs}")
        if self.runs_per_job is not None and self.runs_per_job < 1:
            raise MakerInputError(f"runs_per_job must be >= 1 or None, got {self.runs_per_job}")

    def protocol(self) -> RDFProtocol:
        """The :class:`~mlip_glass.properties.protocols.RDFProtocol` of every run."""
        return RDFProtocol(t_high=self.t_high, t_low=self.t_low, cooling_rate_k_per_ns=self.cooling_rate_k_per_ns,
                           timestep_fs=self.timestep_fs, equilibration_ps=self.equilibration_ps,
                           sample_ps=self.sample_ps, sample_frames=self.sample_frames,
                           pressure_gpa=self.pressure_gpa, r_max=self.r_max, n_bins=self.n_bins)

    def atom_steps_per_run(self) -> float:
        """MD work of one run (atom-steps): divide by a measured rate (atom-steps/s) for its time."""
        dt_ps = self.timestep_fs * 1e-3
        ps = self.equilibration_ps + (self.t_high - self.t_low) / self.cooling_rate_k_per_ns * 1e3 + self.sample_ps
        return ps / dt_ps * self.n_atoms

    @classmethod
    def paper(cls, runs_per_job: int = 1, **kwargs) -> RDFMaker:
        """The paper's protocol (the defaults) split into jobs of ``runs_per_job`` runs for a cluster.

        One run is 8.56e6 steps of 1500 atoms (1.3e10 atom-steps): measured here ~7 h with the EAM
        (5e5 atom-steps/s, one core) and ~7 days with a paper-sized NEP through calorine on one core
        (2e4 atom-steps/s); 80 runs need GPU NEP (GPUMD) or many nodes."""
        return cls(**{"runs_per_job": runs_per_job, **kwargs})

    @classmethod
    def demo(cls, **kwargs) -> RDFMaker:
        """A minutes-scale preset: 2 runs x 200 atoms, 1 ps at 2000 K, 2000 K -> 300 K in 8.5 ps
        (2e5 K/ns), 1 ps sampling (10 frames): 5250 steps of 2 fs per run."""
        settings = dict(n_runs=2, n_atoms=200, equilibration_ps=1.0, cooling_rate_k_per_ns=2.0e5,
                        sample_ps=1.0, sample_frames=10, n_bins=100)
        return cls(**{**settings, **kwargs})

    @rdf_job
    def make(self, potential, structures=None):
        """Run the protocol for ``potential`` (spec, NEP model document or path), from ``structures``
        (cycled over runs) or random cells."""
        if self.runs_per_job and self.n_runs > self.runs_per_job:
            jobs = []
            for start in range(0, self.n_runs, self.runs_per_job):
                part = replace(self, n_runs=min(self.runs_per_job, self.n_runs - start),
                               seed=self.seed + start, runs_per_job=None,
                               name=f"{self.name} seeds {self.seed + start}+")
                jobs.append(part.make(potential, structures))
            merge = merge_rdf_job([j.output for j in jobs])
            return Response(replace=inherit_provenance(Flow([*jobs, merge], output=merge.output, name=self.name)))
        return compute_rdf(
            potential, structures, n_runs=self.n_runs, n_atoms=self.n_atoms, composition=self.composition,
            seed=self.seed, protocol=self.protocol(), experiment=self.experiment,
            compare_weighting=self.compare_weighting, xray_q=self.xray_q, compare_range=self.compare_range,
            n_workers=self.n_workers, checkpoint_dir=self.checkpoint_dir,
        )


@rdf_merge_job
def merge_rdf_job(documents: list) -> RDFDocument:
    """Merge the RDF documents of a split :class:`RDFMaker`."""
    return merge_rdf_documents(documents)


@dataclass
class ElasticMaker(Maker):
    """0 K elastic constants and VRH moduli E, B, G, nu of each structure (Fig. 4b).

    Parameters
    ----------
    name
        Job name.
    n_workers
        Parallel worker processes (one structure each).
    checkpoint_dir
        Directory where finished structures are kept (None: off).
    protocol
        :class:`~mlip_glass.properties.protocols.ElasticProtocol` (default: the paper's strains ±0.4/±0.8 %,
        ions to 1e-3 eV/Å, relaxation with the potential first).
    """

    name: str = "elastic"
    n_workers: int = C.N_WORKERS
    checkpoint_dir: str | None = None
    protocol: ElasticProtocol = field(default_factory=ElasticProtocol)

    def __post_init__(self):
        self.protocol = ElasticProtocol.from_any(self.protocol)

    @classmethod
    def demo(cls, **kwargs) -> ElasticMaker:
        """Minutes-scale preset: +-0.2 % strains only (12 cells), ions to 1e-4 eV/Å. A 150-atom EAM
        demo glass showed a plastic event under +-0.4 % xz shear (C55 ~ 0.2 GPa, asymmetric C) at
        3e-3 eV/Å, while +-0.1 % and +-0.2 % at 1e-4 eV/Å gave a symmetric C with G = 22 GPa.
        Cell relaxation stays on: cells pre-stressed by GPa yield plastically at 0.4 %."""
        protocol = ElasticProtocol(norm_strains=(-0.002, 0.002), shear_strains=(-0.002, 0.002), fmax=1e-4)
        return cls(**{"protocol": protocol, **kwargs})

    @elastic_job
    def make(self, potential, structures):
        """Elastic constants of ``structures`` (Structures or LabelledFrames) with ``potential``."""
        return compute_elastic(potential, structures, self.protocol, n_workers=self.n_workers,
                               checkpoint_dir=self.checkpoint_dir)


@dataclass
class AQSShearMaker(Maker):
    """Athermal quasi-static simple shear and G from a linear fit (Fig. 5a).

    Parameters
    ----------
    name
        Job name.
    n_workers
        Parallel worker processes (one structure each).
    checkpoint_dir
        Directory where finished structures are kept (None: off).
    protocol
        :class:`~mlip_glass.properties.protocols.AQSProtocol` (default: the paper's: strain 0.01, G fitted on
        0.004–0.006).
    """

    name: str = "aqs shear"
    n_workers: int = C.N_WORKERS
    checkpoint_dir: str | None = None
    protocol: AQSProtocol = field(default_factory=AQSProtocol)

    def __post_init__(self):
        self.protocol = AQSProtocol.from_any(self.protocol)

    @classmethod
    def demo(cls, **kwargs) -> AQSShearMaker:
        """Minutes-scale preset: strain steps of 5e-4 (21 points, 5 in the fit window)."""
        return cls(**{"protocol": AQSProtocol(strain_step=5e-4), **kwargs})

    @aqs_job
    def make(self, potential, structures):
        """AQS shear of ``structures`` with ``potential``."""
        return compute_aqs(potential, structures, self.protocol, n_workers=self.n_workers,
                           checkpoint_dir=self.checkpoint_dir)


@dataclass
class EnergeticsMaker(Maker):
    """Energies per atom with the potential vs the reference energies (Fig. 5b).

    Parameters
    ----------
    name
        Job name.
    relax_first
        Relax with the potential before evaluating (False: energy at the reference-minimised geometry).
    fmax
        Force tolerance of that relaxation (eV/Å).
    n_workers
        Parallel worker processes (used above 8 structures).
    """

    name: str = "energetics"
    relax_first: bool = False
    fmax: float = C.RELAX_FMAX
    n_workers: int = C.N_WORKERS

    @energetics_job
    def make(self, potential, structures, reference_energies: list[float] | None = None):
        """Energies of ``structures``; reference energies from ``LabelledFrame.energy`` or given (eV/atom)."""
        return compute_energetics(potential, structures, reference_energies, self.relax_first, self.fmax,
                                  self.n_workers)


@properties_job
def summarize_properties(documents: list) -> dict:
    """A table of headline numbers (one row per potential and property) with the paper's values."""
    return {
        "rows": [summary_row(d) for d in documents],
        "paper": {"rdf_mae": C.PAPER_RDF_MAE, "energy_slope": C.PAPER_ENERGY_SLOPE},
    }


@dataclass
class PropertySuiteMaker(Maker):
    """Every property for every potential (NEP vs EAM vs any pair style); None skips a property.

    Parameters
    ----------
    name
        Flow name.
    rdf_maker, elastic_maker, aqs_maker, energetics_maker
        The property Makers (their settings apply to every potential).
    include_eam
        Add the shipped Cheng–Ma–Sheng EAM to the potentials if no EAM is given.
    """

    name: str = "property suite"
    rdf_maker: RDFMaker | None = field(default_factory=RDFMaker)
    elastic_maker: ElasticMaker | None = field(default_factory=ElasticMaker)
    aqs_maker: AQSShearMaker | None = field(default_factory=AQSShearMaker)
    energetics_maker: EnergeticsMaker | None = field(default_factory=EnergeticsMaker)
    include_eam: bool = True

    @classmethod
    def demo(cls, **kwargs) -> PropertySuiteMaker:
        """Minutes-scale settings: the ``demo()`` presets of the RDF, elastic and AQS Makers."""
        settings = dict(rdf_maker=RDFMaker.demo(), elastic_maker=ElasticMaker.demo(),
                        aqs_maker=AQSShearMaker.demo())
        return cls(**{**settings, **kwargs})

    def make(self, potentials, structures=None, rdf_structures=None, elastic_structures=None,
             aqs_structures=None, energetics_structures=None) -> Flow:
        """Flow of property jobs: ``potentials`` (specs, NEP model documents/references, paths);
        ``structures`` (reference-minimised, Structures or LabelledFrames) serve elastic, AQS and
        energetics unless given per property; RDF starts from ``rdf_structures`` or random cells."""
        potentials = list(potentials) if isinstance(potentials, (list, tuple)) else [potentials]
        if self.include_eam and not any(type(p).__name__ == "EAMPotential" for p in potentials):
            potentials.append(cheng_ma_sheng())
        jobs = []
        for potential in potentials:
            if not hasattr(potential, "uuid"):  # an output reference is resolved by the job itself
                potential = as_potential(potential)
            for maker, structs in (
                (self.rdf_maker, rdf_structures),
                (self.elastic_maker, elastic_structures if elastic_structures is not None else structures),
                (self.aqs_maker, aqs_structures if aqs_structures is not None else structures),
                (self.energetics_maker, energetics_structures if energetics_structures is not None else structures),
            ):
                if maker is None or (structs is None and not isinstance(maker, RDFMaker)):
                    continue
                j = maker.make(potential, structs)
                label = getattr(potential, "name", "potential")
                j.name = f"{maker.name} {label}"
                jobs.append(j)
        summary = summarize_properties([j.output for j in jobs])
        return Flow([*jobs, summary], output=summary.output, name=self.name)

    @store_reading_job
    def from_store(self, campaign: str, iteration: int | str | None = None, subset: str = "relaxed",
                   max_structures: int | None = None, after: Any = None):
        """Fetch the NEP model(s) of ``campaign``/``iteration`` and the accepted reference frames of
        ``subset`` from the running job's store, then run the suite (replaces this job). ``after``: any
        output reference this job must wait for (e.g. the NEP fit of the same flow); not used otherwise."""
        store = current_job().require_store("from_store must run inside jobflow (no current JobStore)")
        potentials = fetch_nep_potentials(store, campaign, iteration)
        frames = fetch_reference_frames(store, campaign, subset=subset,
                                        iteration=iteration if isinstance(iteration, int) else None,
                                        limit=max_structures)
        if not frames:
            raise ValueError(f"no accepted reference frames of subset {subset!r} in campaign {campaign!r}")
        return Response(replace=inherit_provenance(self.make(potentials, frames)))
