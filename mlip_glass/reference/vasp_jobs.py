"""The paper's VASP labelling as atomate2 jobs (kept apart from :mod:`mlip_glass.reference.jobs`: importing
atomate2's VASP Makers costs ~2.5 s, measured with ``python -X importtime``, which a worker running a local
labelling, feedback or fit job need not pay).

- ``PaperStaticMaker`` / ``PaperRelaxMaker`` / ``PaperAIMDMaker``: atomate2's ``StaticMaker`` / ``RelaxMaker`` /
  ``MDMaker`` carrying the paper's input sets (output: emmet ``TaskDoc``).
- :class:`VaspLabelMaker`: VASP jobs for many structures, then :func:`frames_from_task_docs_job` →
  a :class:`~mlip_glass.reference.schemas.SubsetDocument` of LabelledFrames.
- :func:`vasp_label_maker`: the VaspLabelMaker of a :class:`~mlip_glass.reference.vasp.VaspEngine` and a protocol.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from atomate2.vasp.jobs.core import RelaxMaker, StaticMaker
from atomate2.vasp.jobs.md import MDMaker
from jobflow import Flow, Maker, Response

from mlip_glass.provenance import inherit_provenance, structure_hash
from mlip_glass.reference.labelling import as_inputs, check_subset_protocol
from mlip_glass.reference.protocols import AIMDProtocol, RelaxProtocol
from mlip_glass.reference.schemas import SubsetDocument
from mlip_glass.reference.vasp import _with_user_incar, frames_from_task_doc
from mlip_glass.reference.vasp_sets import (
    PaperMDSetGenerator,
    PaperRelaxSetGenerator,
    PaperStaticSetGenerator,
)
from mlip_glass.stage import current_job, stage_job

#: the frames job: stage "reference", frames to the data store (as :data:`mlip_glass.reference.jobs.reference_job`)
vasp_frames_job = stage_job("reference", data=["frames"])


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


@vasp_frames_job
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
        check_subset_protocol(self.subset, self.protocol)
        if self.keep is None:
            self.keep = {"static": "last", "relax": "last", "aimd": "all"}[self.protocol]

    @vasp_frames_job
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


def vasp_label_maker(engine, name: str, subset: str, protocol: str, protocol_kwargs: dict | None = None
                     ) -> VaspLabelMaker:
    """A :class:`VaspLabelMaker` running ``engine`` 's input sets (a :class:`~mlip_glass.reference.vasp.VaspEngine`),
    with a relax/AIMD protocol's fields (``fmax``, ``max_steps``, ``keep``; AIMD fields) on top of its sets."""
    kwargs = dict(protocol_kwargs or {})
    relax_set = engine.relax_set
    if protocol == "relax":
        relax = RelaxProtocol.from_any(None, **kwargs)
        relax_set = _with_user_incar(relax_set, {"EDIFFG": -abs(relax.fmax), "NSW": int(relax.max_steps)})
    md_set = engine.md_set
    if protocol == "aimd":
        md_set = md_set.with_protocol(AIMDProtocol.from_any(md_set.protocol, **kwargs))
    makers = [PaperStaticMaker(input_set_generator=engine.static_set),
              PaperRelaxMaker(input_set_generator=relax_set), PaperAIMDMaker(input_set_generator=md_set)]
    for maker in makers:  # the engine's settings on top of each Maker's own (e.g. MD custodian handlers)
        maker.run_vasp_kwargs = {**maker.run_vasp_kwargs, **engine.run_vasp_kwargs}
        maker.write_input_set_kwargs = {**maker.write_input_set_kwargs, **engine.write_input_set_kwargs}
    return VaspLabelMaker(
        name=name, subset=subset, protocol=protocol,
        keep=kwargs.get("keep", "all" if protocol == "aimd" else "last"),
        static_maker=makers[0], relax_maker=makers[1], aimd_maker=makers[2],
    )
