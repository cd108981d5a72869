"""Reference labelling: one protocol (static / relax / aimd → LabelledFrame) for VASP, EAM, ASE, NEP."""

from mlip_glass.reference.base import EngineInputError, ReferenceEngine
from mlip_glass.reference.engines import ASECalculatorEngine, EAMEngine, get_engine
from mlip_glass.reference.labelling import label_structures, rescale_structure
from mlip_glass.reference.schemas import FrameSource, LabelledFrame

__all__ = [
    "ASECalculatorEngine",
    "EAMEngine",
    "EngineInputError",
    "FrameSource",
    "LabelledFrame",
    "ReferenceEngine",
    "get_engine",
    "label_structures",
    "rescale_structure",
]
