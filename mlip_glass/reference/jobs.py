"""jobflow Makers of the reference stage.

- ``PaperStaticMaker`` / ``PaperRelaxMaker`` / ``PaperAIMDMaker``: atomate2's ``StaticMaker`` / ``RelaxMaker`` /
  ``MDMaker`` carrying the paper's input sets (output: emmet ``TaskDoc``).
- :class:`VaspLabelMaker`: VASP jobs for many structures, then :func:`frames_from_task_docs_job` →
  a :class:`~mlip_glass.reference.schemas.SubsetDocument` of LabelledFrames.
- :class:`LabelMaker`: :func:`~mlip_glass.reference.labelling.label_structures` with any local engine
  (EAM, ASE calculator, NEP); reused by the active-learning stage with ``subset="mlip_feedback"``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from atomate2.vasp.jobs.core import RelaxMaker, StaticMaker
from atomate2.vasp.jobs.md import MDMaker
from jobflow import Flow, Maker, Response

from mlip_glass.provenance import inherit_provenance, structure_hash
from mlip_glass.reference.constants import SUBSETS
from mlip_glass.reference.engines import ReferenceEngine, get_engine
from mlip_glass.reference.labelling import PROTOCOLS, as_inputs, label_structures
from mlip_glass.reference.schemas import SubsetDocument
from mlip_glass.reference.vasp import frames_from_task_doc
from mlip_glass.reference.vasp_sets import (
    PaperMDSetGenerator,
    PaperRelaxSetGenerator,
    PaperStaticSetGenerator,
)
from mlip_glass.stage import current_job, stage_job

#: every reference job: stage "reference", frames to the data store
reference_job = stage_job("reference", data=["frames"])


def _check_subset_protocol(subset: str, protocol: str) -> None:
    if subset not in SUBSETS:
        raise ValueError(f"subset must be one of {SUBSETS}, got {subset!r}")
    if protocol not in PROTOCOLS:
        raise ValueError(f"protocol must be one of {PROTOCOLS}, got {protocol!r}")


@dataclass
class PaperStaticMaker(StaticMaker):
    """atomate2 VASP single point with the paper's settings (PBE, 450 eV, KSPACING 0.162, EDIFF 1e-6, ISMEAR 1)."""

    name: str = "paper static"
    input_set_generator: Any = field(default_factory=PaperStaticSetGenerator)


@dataclass
class PaperRelaxMaker(RelaxMaker):
    """atomate2 VASP full relaxation (ISIF 3, EDIFFG -0.01) with the paper's settings."""

    name: str = "paper relax"
    input_set_generator: Any = field(default_factory=PaperRelaxSetGenerator)


@dataclass
class PaperAIMDMaker(MDMaker):
    """atomate2 VASP NPT Langevin heating 5 → 2000 K in 60 steps of 1 fs (MDALGO 3, ISIF 3, gammas 20/5 ps^-1)."""

    name: str = "paper aimd"
    input_set_generator: Any = field(default_factory=PaperMDSetGenerator)


def _frames_from_task_docs(task_docs, subset, keep, parents, sources, check_relax_forces, job_uuid=None):
    frames = []
    for i, task_doc in enumerate(task_docs):
        source = dict(sources[i]) if sources else {}
        source.setdefault("job_uuid", job_uuid)
        ediffg = -0.01
        if task_doc.input is not None and task_doc.input.incar:
            ediffg = float(dict(task_doc.input.incar).get("EDIFFG", ediffg))
        frames += frames_from_task_doc(
            task_doc, subset, keep, parent_hash=parents[i] if parents else None, source=source,
            ediffg=ediffg, check_relax_forces=check_relax_forces,
        )
    return SubsetDocument.from_frames(subset, frames, {"engine": "vasp", "keep": keep})


@reference_job
def frames_from_task_docs_job(task_docs, subset="surrogate", keep="all", parents=None, sources=None,
                              check_relax_forces=False):
    """Job: VASP TaskDocs → SubsetDocument (frames to the data store)."""
    return _frames_from_task_docs(task_docs, subset, keep, parents, sources, check_relax_forces, current_job().uuid)


@dataclass
class VaspLabelMaker(Maker):
    """Label structures with VASP at the paper's settings; one VASP job per structure, then one job that
    turns the TaskDocs into LabelledFrames.

    Parameters
    ----------
    name
        Job name.
    subset
        Subset recorded in every frame.
    protocol
        ``"static"``, ``"relax"`` or ``"aimd"``.
    keep
        Ionic steps kept as frames: ``"last"``, ``"all"`` or every k-th (relax); AIMD keeps all by default.
    static_maker, relax_maker, aimd_maker
        The atomate2 Makers used (defaults: the paper's).
    """

    name: str = "vasp label"
    subset: str = "surrogate"
    protocol: str = "static"
    keep: Any = None
    static_maker: Maker = field(default_factory=PaperStaticMaker)
    relax_maker: Maker = field(default_factory=PaperRelaxMaker)
    aimd_maker: Maker = field(default_factory=PaperAIMDMaker)

    def __post_init__(self):
        _check_subset_protocol(self.subset, self.protocol)
        if self.keep is None:
            self.keep = {"static": "last", "relax": "last", "aimd": "all"}[self.protocol]

    @reference_job
    def make(self, structures):
        """Replace itself by the VASP jobs + frames job (works on resolved outputs of earlier jobs)."""
        inputs = as_inputs(structures)
        maker = {"static": self.static_maker, "relax": self.relax_maker, "aimd": self.aimd_maker}[self.protocol]
        jobs = []
        for i, item in enumerate(inputs):
            job = maker.make(item.structure)
            job.name = f"{self.name} {self.protocol} {i}"
            jobs.append(job)
        parents = [item.parent_hash or structure_hash(item.structure) for item in inputs]
        sources = [item.source.model_dump() for item in inputs]
        collect = frames_from_task_docs_job(
            [j.output for j in jobs], self.subset, self.keep, parents, sources,
            check_relax_forces=self.protocol == "relax",
        )
        collect.name = f"{self.name} frames"
        return Response(replace=inherit_provenance(Flow([*jobs, collect], output=collect.output)))


@dataclass
class LabelMaker(Maker):
    """Label structures with a local engine (EAM by default, any ReferenceEngine or ASE calculator).

    Parameters
    ----------
    name
        Job name.
    engine
        ``"eam"``, ``"vasp"`` or a :class:`~mlip_glass.reference.engines.ReferenceEngine`.
    subset
        Subset recorded in every frame (e.g. ``"mlip_feedback"`` for active learning).
    protocol
        ``"static"``, ``"relax"`` or ``"aimd"``.
    rescale
        Surrogate-cell rescaling: ``"none"`` (paper), ``"density"``, ``"zero_pressure"``.
    on_error
        ``"raise"`` or ``"reject"`` for structures the engine cannot take.
    protocol_kwargs
        Passed to the engine's relax/aimd (e.g. ``{"keep": 10, "fmax": 0.01}``; units eV/Å, K, fs).
    """

    name: str = "label"
    engine: Any = "eam"
    subset: str = "surrogate"
    protocol: str = "static"
    rescale: str = "none"
    on_error: str = "raise"
    protocol_kwargs: dict = field(default_factory=dict)

    def __post_init__(self):
        _check_subset_protocol(self.subset, self.protocol)
        if not isinstance(self.engine, (str, ReferenceEngine)):
            raise ValueError("engine must be 'eam', 'vasp' or a ReferenceEngine instance")

    @reference_job
    def make(self, structures):
        """Label ``structures`` (surrogate documents / Structures) → SubsetDocument."""
        uuid = current_job().uuid
        frames = label_structures(
            structures, get_engine(self.engine), self.subset, self.protocol, rescale=self.rescale,
            on_error=self.on_error, job_uuid=uuid, **self.protocol_kwargs,
        )
        return SubsetDocument.from_frames(
            self.subset, frames, {"protocol": self.protocol, "rescale": self.rescale, **self.protocol_kwargs}
        )
