"""jobflow Makers of the training database: one Maker per subset, the assembly/split, Fig. 2b + cost ledger,
and :class:`ReferenceDatabaseMaker`, the whole database from surrogate structures in one flow.

Subset Makers are labelling jobs (``metadata.stage = "reference"``, frames to the data store); the assembly
and report are ``dataset`` jobs (extxyz text to the data store). Defaults are the paper's; every count is
settable so a demo runs in a minute.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from jobflow import Flow, JobConfig, Maker, Response

from mlip_glass import queries
from mlip_glass.datasets import subsets as subset_functions
from mlip_glass.datasets.assembly import assemble_dataset, labelled_frames
from mlip_glass.datasets.schemas import DatasetDocument
from mlip_glass.errors import MakerInputError
from mlip_glass.provenance import inherit_provenance
from mlip_glass.reference.constants import (
    DISTORTION_STRAINS,
    N_AIMD,
    N_DISTORTED,
    N_EXPANDED_COMPRESSED,
    N_RELAXED,
    TRAIN_FRACTION,
    VOLUME_SCALE_FACTORS,
)
from mlip_glass.reference.engines import get_engine
from mlip_glass.reference.jobs import reference_job
from mlip_glass.reference.labelling import input_document
from mlip_glass.reference.protocols import AIMDProtocol, RelaxProtocol
from mlip_glass.reference.schemas import SubsetDocument
from mlip_glass.stage import current_job, plain_output, stage_job
from mlip_glass.utils.imports import import_object

#: dataset jobs: extxyz text to the data store; the store is exposed so the assembly can gather by campaign
dataset_job = stage_job("dataset", data=["train_xyz", "test_xyz"], config=JobConfig(expose_store=True))


@dataclass
class _SubsetMaker(Maker):
    name: str = "subset"
    engine: Any = "eam"
    vasp_jobs: bool = True

    subset = "surrogate"

    def _params(self) -> dict:
        return {}

    @reference_job
    def make(self, structures=None):
        """Label the subset generated from ``structures`` → SubsetDocument (frames to the data store).

        With the VASP engine and ``vasp_jobs`` (default), the job replaces itself by one atomate2 VASP job
        per structure (the paper's Makers) and a frames job, so each calculation is its own cluster job.
        """
        params = self._params()
        engine = get_engine(self.engine)
        if engine.name == "vasp" and self.vasp_jobs:
            return self._vasp_flow(engine, structures, params)
        function = subset_functions.SUBSET_FUNCTIONS[self.subset]
        frames = function(structures, engine, job_uuid=current_job().uuid, **params)
        return SubsetDocument.from_frames(self.subset, frames, {"engine": engine.name, **_jsonable(params)})

    def _vasp_flow(self, engine, structures, params):
        from mlip_glass.reference.vasp_jobs import vasp_label_maker  # atomate2's VASP Makers: +2.5 s import

        inputs, protocol, kwargs = subset_functions.subset_plan(self.subset, structures, params)
        label = vasp_label_maker(engine, f"{self.name} vasp", self.subset, protocol, kwargs)
        return Response(replace=inherit_provenance(label.make([input_document(item) for item in inputs])))


def _jsonable(params):
    return {k: (list(v) if isinstance(v, tuple) else v) for k, v in params.items()}


@dataclass
class SurrogateSubsetMaker(_SubsetMaker):
    """Single points of every surrogate structure (subset "surrogate").

    Parameters
    ----------
    engine
        ``"eam"``, ``"vasp"`` or a ReferenceEngine.
    rescale
        ``"none"`` (paper: label at the surrogate cell), ``"density"`` or ``"zero_pressure"``.
    """

    name: str = "surrogate single points"
    rescale: str = "none"
    subset = "surrogate"

    def _params(self):
        return {"rescale": self.rescale}


@dataclass
class RelaxedSubsetMaker(_SubsetMaker):
    """Full relaxations (ions + cell) of a random subset of surrogate structures (subset "relaxed").

    Parameters
    ----------
    n_select
        Structures relaxed (default 85, the paper's DFT-minimised sample count); None = all.
    seed
        Seed of the random selection.
    protocol
        :class:`~mlip_glass.reference.protocols.RelaxProtocol` (default: the paper's: 0.01 eV/Å, last frame; its
        ``keep`` says which ionic steps are frames).
    max_frames
        At most this many of the kept frames per relaxation, evenly spread over its steps (first and last
        always kept); None = all kept frames. Local engines only (VASP jobs keep ``keep``).
    """

    name: str = "relaxed subset"
    n_select: int | None = N_RELAXED
    seed: int = 0
    max_frames: int | None = None
    protocol: RelaxProtocol = field(default_factory=RelaxProtocol)
    subset = "relaxed"

    def __post_init__(self):
        self.protocol = RelaxProtocol.from_any(self.protocol)

    def _params(self):
        params = {"n_select": self.n_select, "seed": self.seed, **self.protocol.engine_kwargs()}
        if self.max_frames is not None:
            params["max_frames"] = int(self.max_frames)
        return params


@dataclass
class ExpandedCompressedMaker(_SubsetMaker):
    """All lattice vectors scaled by each factor (default 0.90 … 1.10), single points.

    Parameters
    ----------
    factors
        Lattice-vector scale factors (dimensionless).
    n_select
        Parent structures (random, seeded); None = all.
    seed
        Selection seed.
    """

    name: str = "expanded/compressed subset"
    factors: Sequence[float] = VOLUME_SCALE_FACTORS
    n_select: int | None = N_EXPANDED_COMPRESSED
    seed: int = 0
    subset = "expanded_compressed"

    def _params(self):
        return {"factors": tuple(self.factors), "n_select": self.n_select, "seed": self.seed}


@dataclass
class DistortedMaker(_SubsetMaker):
    """Six independent strain components at ±0.4 % and ±0.8 % (pymatgen ``DeformedStructureSet``), single points.

    Parameters
    ----------
    strains
        Strain magnitudes (tensor strain, dimensionless).
    n_select
        Parent structures (random, seeded); None = all.
    seed
        Selection seed.
    """

    name: str = "distorted subset"
    strains: Sequence[float] = DISTORTION_STRAINS
    n_select: int | None = N_DISTORTED
    seed: int = 0
    subset = "distorted"

    def _params(self):
        return {"strains": tuple(self.strains), "n_select": self.n_select, "seed": self.seed}


@dataclass
class AIMDSubsetMaker(_SubsetMaker):
    """NPT Langevin heating runs (5 → 2000 K, 60 steps of 1 fs); every step is a frame (subset "aimd").

    Parameters
    ----------
    n_select
        Number of runs (random parents, seeded); None = all.
    seed
        Selection seed; run i uses seed + i for its thermostat.
    protocol
        :class:`~mlip_glass.reference.protocols.AIMDProtocol` (default: the paper's).
    """

    name: str = "aimd subset"
    n_select: int | None = N_AIMD
    seed: int = 0
    protocol: AIMDProtocol = field(default_factory=AIMDProtocol)
    subset = "aimd"

    def __post_init__(self):
        self.protocol = AIMDProtocol.from_any(self.protocol)

    def _params(self):
        return {"n_select": self.n_select, "seed": self.seed, **self.protocol.engine_kwargs()}


@dataclass
class CrystalSubsetMaker(_SubsetMaker):
    """Fully relaxed Cu–Zr–Al crystal phases (shipped offline; subset "crystal").

    Parameters
    ----------
    names
        Phase names to use (None: all shipped phases).
    protocol
        :class:`~mlip_glass.reference.protocols.RelaxProtocol` (default: the paper's).
    """

    name: str = "crystal subset"
    names: Sequence[str] | None = None
    protocol: RelaxProtocol = field(default_factory=RelaxProtocol)
    subset = "crystal"

    def __post_init__(self):
        self.protocol = RelaxProtocol.from_any(self.protocol)

    def _params(self):
        return {"names": None if self.names is None else list(self.names), **self.protocol.engine_kwargs()}


def gather_frames_from_store(store, campaign: str, iteration: int | None = None) -> list:
    """Every SubsetDocument's frames stored by reference jobs of ``campaign`` (optionally ≤ ``iteration``), as
    LabelledFrames (the query is :func:`mlip_glass.queries.reference_frames`)."""
    return labelled_frames(queries.reference_frames(store, campaign, iteration))


@dataclass
class AssembleDatasetMaker(Maker):
    """The one assembly Maker: gather labelled frames (and those of the previous dataset), dedupe by structure
    hash, split 80/20 (seeded, stratified by subset; the previous dataset's split is kept, so test frames never
    leak into training), write GPUMD extxyz (train/test text to the data store).

    Parameters
    ----------
    name
        Job name (the active-learning loop's is ``"al assemble dataset"``).
    seed
        Split seed of the new frames (recorded in the document).
    train_fraction
        Train fraction of each subset (paper 0.8).
    campaign
        If set, frames are gathered from the job store (all reference jobs of this campaign) in addition
        to those passed to ``make``.
    iteration
        With ``campaign``: only jobs of iterations ≤ this.
    assemble
        Import path of another ``assemble(frames, seed, previous=None) -> DatasetDocument`` (None:
        :func:`mlip_glass.datasets.assembly.assemble_dataset`, which also takes ``train_fraction``).
    output_as_dict
        Store the DatasetDocument as a plain dict (what the active-learning loop stores; references to it resolve
        to a dict).
    """

    name: str = "assemble dataset"
    seed: int = 0
    train_fraction: float = TRAIN_FRACTION
    campaign: str | None = None
    iteration: int | None = None
    assemble: str | None = None
    output_as_dict: bool = False

    @dataset_job
    def make(self, subsets=None, previous: DatasetDocument | dict | str | None = None, reused: list | None = None):
        """Job: ``subsets`` (SubsetDocuments / frames, or one labelling output) → the dataset.

        ``previous``: the earlier dataset whose split is kept; given as a document its frames must be among
        ``subsets``, given as its job uuid they are read back from the campaign's labelling jobs in the store
        (dataset k+1 = dataset k + new frames). ``reused``: frames labelled earlier, taken as new ones."""
        return self.assemble_frames(subsets, previous, reused)

    def assemble_frames(self, subsets=None, previous=None, reused=None):
        """The body of :meth:`make` (run inside the job)."""
        frames = queries.frames_in_output(subsets) if isinstance(subsets, dict) else list(subsets or [])
        frames += list(reused or [])
        if self.campaign:
            frames += gather_frames_from_store(current_job().store, self.campaign, self.iteration)
        if isinstance(previous, str):
            previous, earlier = queries.dataset_frames(current_job().require_store(), current_job().campaign,
                                                       previous)
            frames = earlier + frames
        function = assemble_dataset if self.assemble is None else import_object(self.assemble)
        options = {"train_fraction": self.train_fraction} if function is assemble_dataset else {}
        dataset = function(frames, seed=self.seed, previous=previous, **options)
        return plain_output(dataset) if self.output_as_dict else dataset


@dataclass
class DatabaseReportMaker(Maker):
    """Fig. 2b (e(LJ) vs e(reference), linear fit) and the cost ledger of the subsets (small dict output).

    Parameters
    ----------
    png_path
        If set, write the Fig. 2b PNG (and JSON data) there.
    """

    name: str = "database report"
    png_path: str | None = None

    @stage_job("dataset")
    def make(self, subsets) -> dict:
        from mlip_glass.datasets.analysis import cost_ledger, plot_fig2b, surrogate_vs_reference
        frames = labelled_frames(subsets)
        out: dict = {"cost_ledger": cost_ledger(frames)}
        try:
            fig = surrogate_vs_reference(frames)
            out["fig2b"] = fig
            if self.png_path:
                out["fig2b_png"] = str(plot_fig2b(fig, self.png_path))
        except ValueError as exc:
            out["fig2b"] = None
            out["fig2b_error"] = str(exc)
        return out


#: how surrogate parents are scaled before labelling: the paper's surrogate cell, or the relaxed subset's density
RESCALE_OPTIONS = ("none", "relaxed_density")


@stage_job("dataset", data=["structures"])
def rescaled_parents(structures, relaxed) -> dict:
    """``structures`` scaled isotropically to the mean volume per atom of the final frames of the ``relaxed``
    subset (its reference-minimised structures) → ``{"volume_per_atom", "structures": [input documents]}``."""
    from mlip_glass.reference.labelling import input_document

    frames = labelled_frames(relaxed)
    volume = subset_functions.mean_volume_per_atom(subset_functions.final_relaxed(frames))
    inputs = subset_functions.rescale_to_density(structures, volume)
    return {"volume_per_atom": volume, "structures": [input_document(item) for item in inputs]}


@stage_job("dataset", data=True)  # a list of structures: the whole output to the data store
def relaxed_finals(relaxed) -> list:
    """The reference-minimised structures (last step of each relaxation) of a relaxed SubsetDocument."""
    return subset_functions.final_relaxed(labelled_frames(relaxed))


@dataclass
class ReferenceDatabaseMaker(Maker):
    """The whole training database from surrogate structures: every subset Maker, the assembly, the report.

    Parameters
    ----------
    engine
        Engine of every subset (``"eam"``, ``"vasp"`` or a ReferenceEngine).
    surrogate, relaxed, expanded_compressed, distorted, aimd, crystal
        The subset Makers (None to skip a subset). Their ``engine`` is set to ``engine``.
    distort_relaxed
        Distort the relaxed structures (True) or the surrogate structures (False, default).
    expand_relaxed
        Expand/compress the relaxed structures (True: the energy–volume curve around the reference minimum) or
        the surrogate structures (False, default).
    expanded_compressed_relaxed
        An extra expanded/compressed job on the relaxed minima, in addition to ``expanded_compressed`` on the
        surrogate structures (None: none): both the liquids' and the minimum's energy–volume curves.
    aimd_relaxed
        Start the AIMD heating runs from the relaxed structures, i.e. from 0 K minima as in the paper's "heating
        the samples from 0 K to 2000 K" (True), or from the surrogate structures (False, default).
    rescale
        ``"none"`` (the paper: surrogate structures are labelled in the surrogate's cell, rho* = 1.75, about
        14.4 Å^3/atom for CuZrAl) or ``"relaxed_density"``: the relaxed subset runs first and every other
        surrogate-derived subset is labelled at the mean density of its reference-minimised structures
        (17.3 Å^3/atom with the EAM), i.e. at the density the paper's rho* is meant to match, at zero extra
        reference cost.
    assemble, report
        Assembly and report Makers.
    """

    name: str = "reference database"
    engine: Any = "eam"
    surrogate: SurrogateSubsetMaker | None = field(default_factory=SurrogateSubsetMaker)
    relaxed: RelaxedSubsetMaker | None = field(default_factory=RelaxedSubsetMaker)
    expanded_compressed: ExpandedCompressedMaker | None = field(default_factory=ExpandedCompressedMaker)
    distorted: DistortedMaker | None = field(default_factory=DistortedMaker)
    aimd: AIMDSubsetMaker | None = field(default_factory=AIMDSubsetMaker)
    crystal: CrystalSubsetMaker | None = field(default_factory=CrystalSubsetMaker)
    distort_relaxed: bool = False
    expand_relaxed: bool = False
    expanded_compressed_relaxed: ExpandedCompressedMaker | None = None
    aimd_relaxed: bool = False
    rescale: str = "none"
    assemble: AssembleDatasetMaker = field(default_factory=AssembleDatasetMaker)
    report: DatabaseReportMaker | None = field(default_factory=DatabaseReportMaker)

    def __post_init__(self):
        if self.rescale not in RESCALE_OPTIONS:
            raise MakerInputError(f"ReferenceDatabaseMaker.rescale must be one of {RESCALE_OPTIONS}, "
                                  f"got {self.rescale!r}")
        needs_relaxed = (self.rescale != "none" or self.aimd_relaxed or self.distort_relaxed or self.expand_relaxed
                         or self.expanded_compressed_relaxed is not None)
        if needs_relaxed and self.relaxed is None:
            raise MakerInputError("ReferenceDatabaseMaker.relaxed is None but rescale/aimd_relaxed/distort_relaxed "
                                  "need the relaxed subset")

    def make(self, structures, previous: DatasetDocument | None = None) -> Flow:
        """Flow: subset jobs → assembly (→ report). Output: the DatasetDocument."""
        jobs, outputs = [], {}
        relaxed_job = finals = None
        parents = structures
        if self.relaxed is not None:
            relaxed_job = self._with_engine(self.relaxed).make(structures)
            jobs.append(relaxed_job)
            outputs["relaxed"] = relaxed_job.output
            if (self.aimd_relaxed or self.distort_relaxed or self.expand_relaxed
                    or self.expanded_compressed_relaxed is not None):
                finals = relaxed_finals(relaxed_job.output)
                jobs.append(finals)
            if self.rescale == "relaxed_density":
                scaled = rescaled_parents(structures, relaxed_job.output)
                jobs.append(scaled)
                parents = scaled.output["structures"]
        for attr in ("surrogate", "expanded_compressed", "distorted", "aimd", "crystal"):
            maker = getattr(self, attr)
            if maker is None:
                continue
            inputs = parents
            if attr == "crystal":
                inputs = None
            elif {"aimd": self.aimd_relaxed, "distorted": self.distort_relaxed,
                  "expanded_compressed": self.expand_relaxed}.get(attr, False):
                inputs = cast(Any, finals).output  # set above whenever a subset takes the relaxed structures
            job = self._with_engine(maker).make(inputs)
            jobs.append(job)
            outputs[attr] = job.output
        if self.expanded_compressed_relaxed is not None:
            job = self._with_engine(self.expanded_compressed_relaxed).make(cast(Any, finals).output)
            jobs.append(job)
            outputs["expanded_compressed_relaxed"] = job.output
        # assembly order decides which copy of a duplicated structure is kept: surrogate single points first
        order = ("surrogate", "relaxed", "expanded_compressed", "expanded_compressed_relaxed", "aimd", "crystal",
                 "distorted")
        ordered = [outputs[name] for name in order if name in outputs]
        assemble = self.assemble.make(ordered, previous)
        jobs.append(assemble)
        if self.report is not None:
            jobs.append(self.report.make(ordered))
        return Flow(jobs, output=assemble.output, name=self.name)

    def _with_engine(self, maker: Any) -> Maker:
        """A copy of ``maker`` labelling with this database's engine (the Maker itself is left unchanged)."""
        return dataclasses.replace(maker, engine=self.engine)
