"""jobflow Makers of the reference stage.

- :class:`LabelMaker`: the one labelling Maker: :func:`~mlip_glass.reference.labelling.label_structures` with
  any engine (EAM, ASE calculator, NEP, ``"module:factory"``; VASP in this job or as atomate2 jobs); the
  active-learning loop uses it with ``subset="mlip_feedback"``
  (:func:`~mlip_glass.active_learning.jobs.feedback_label_maker`).
- The atomate2 VASP Makers (``PaperStaticMaker``, ``VaspLabelMaker``, ...) live in
  :mod:`mlip_glass.reference.vasp_jobs`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from jobflow import Maker, Response

from mlip_glass.errors import MakerInputError
from mlip_glass.provenance import inherit_provenance
from mlip_glass.reference.engines import ReferenceEngine, get_engine
from mlip_glass.reference.labelling import as_inputs, check_subset_protocol, input_document, label_structures
from mlip_glass.reference.schemas import SubsetDocument
from mlip_glass.stage import current_job, plain_output, stage_job

#: every reference job: stage "reference", frames to the data store
reference_job = stage_job("reference", data=["frames"])


#: labelling jobs whose output is a plain dict (``LabelMaker(output_as_dict=True)``); frames, one frame block, also
#: go to the data store
reference_dict_job = stage_job("reference", data=["frames"])


@dataclass
class LabelMaker(Maker):
    """Label structures with a reference engine → the frames of one subset (the one labelling Maker:
    database subsets, MLIP-feedback candidates of the active-learning loop, any user structures).

    Parameters
    ----------
    name
        Job name (the active-learning loop's is ``"al label"``; resources are matched by it).
    engine
        ``"eam"``, ``"vasp"``, an import path ``"module:factory"`` returning an engine or an ASE calculator,
        or a :class:`~mlip_glass.reference.engines.ReferenceEngine`.
    engine_kwargs
        Keyword arguments of the engine / factory.
    subset
        Subset recorded in every frame (e.g. ``"mlip_feedback"`` for active learning).
    protocol
        ``"static"``, ``"relax"`` or ``"aimd"``.
    rescale
        Surrogate-cell rescaling: ``"none"`` (paper), ``"density"``, ``"zero_pressure"``.
    on_error
        ``"raise"`` or ``"reject"`` (the loop's choice) for structures the engine cannot take.
    protocol_kwargs
        Passed to the engine's relax/aimd (e.g. ``{"keep": 10, "fmax": 0.01}``; units eV/Å, K, fs).
    vasp_jobs
        With the VASP engine: the job replaces itself by one atomate2 VASP job per structure and a frames job
        (:class:`VaspLabelMaker`), so each calculation is its own cluster job; False: VASP runs inside this job.
    output_as_dict
        False: a :class:`~mlip_glass.reference.schemas.SubsetDocument` whose frames go to the data store.
        True: the same document as a plain dict (a reference to it resolves to a dict), its frames also in the data
        store: what the active-learning loop stores.

    Inputs may be surrogate documents, Structures, ASE Atoms or a selection output (``{"to_label": [...]}``);
    an input's ``feedback_job_uuid`` is kept in its frame's ``source.extra``.
    """

    name: str = "label"
    engine: Any = "eam"
    engine_kwargs: dict = field(default_factory=dict)
    subset: str = "surrogate"
    protocol: str = "static"
    rescale: str = "none"
    on_error: str = "raise"
    protocol_kwargs: dict = field(default_factory=dict)
    vasp_jobs: bool = False
    output_as_dict: bool = False

    def __post_init__(self):
        check_subset_protocol(self.subset, self.protocol)
        if not isinstance(self.engine, (str, ReferenceEngine)) and not hasattr(self.engine, "calculate"):
            raise MakerInputError("LabelMaker.engine must be 'eam', 'vasp', 'module:factory', a ReferenceEngine or an "
                                  "ASE calculator")

    def make(self, structures):
        """Job: label ``structures`` → SubsetDocument (or its dict, see ``output_as_dict``)."""
        if self.output_as_dict:
            return self._make_dict(structures)
        return self._make_document(structures)

    @reference_job
    def _make_document(self, structures):
        """Job: label ``structures`` → SubsetDocument, frames to the data store."""
        return self.label(structures)

    @reference_dict_job
    def _make_dict(self, structures):
        """Job: label ``structures`` → the SubsetDocument as a plain dict kept whole in the job document."""
        out = self.label(structures)
        return out if isinstance(out, Response) else plain_output(out)

    def label(self, structures) -> SubsetDocument | Response:
        """Label ``structures`` in the running job (or replace the job by VASP jobs, see ``vasp_jobs``)."""
        items = structures["to_label"] if isinstance(structures, dict) and "to_label" in structures else structures
        engine = get_engine(self.engine, **self.engine_kwargs)
        if engine.name == "vasp" and self.vasp_jobs:
            if self.rescale != "none":
                raise MakerInputError("LabelMaker.rescale must be 'none' with vasp_jobs (VASP labels the given cells)")
            from mlip_glass.reference.vasp_jobs import vasp_label_maker  # atomate2's VASP Makers: +2.5 s import

            maker = vasp_label_maker(engine, f"{self.name} vasp", self.subset, self.protocol, self.protocol_kwargs)
            inputs = [input_document(item) for item in as_inputs(items)]
            return Response(replace=inherit_provenance(maker.make(inputs)))
        frames = label_structures(
            items, engine, self.subset, self.protocol, rescale=self.rescale, on_error=self.on_error,
            job_uuid=current_job().uuid, **self.protocol_kwargs,
        )
        singles = items if self.protocol == "static" and isinstance(items, (list, tuple)) else []
        for frame, item in zip(frames, singles):  # a static protocol gives one frame per input
            if isinstance(item, dict) and item.get("feedback_job_uuid"):
                frame.source.extra["feedback_job_uuid"] = item["feedback_job_uuid"]
        spec = self.engine if isinstance(self.engine, str) else engine.name
        return SubsetDocument.from_frames(
            self.subset, frames,
            {"engine": spec, "protocol": self.protocol, "rescale": self.rescale, **self.protocol_kwargs},
        )

