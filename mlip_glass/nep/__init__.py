"""NEP fit stage: nep.in from the paper's defaults, training backends (GPUMD ``nep``, CPU ``neppo``),
evaluation with calorine, the :class:`~mlip_glass.nep.jobs.NEPFitMaker` and Figs. 3b-3d.

Public API: :class:`~mlip_glass.nep.settings.NEPSettings`, :class:`~mlip_glass.nep.settings.CPUTrainerSettings`,
:func:`~mlip_glass.nep.settings.write_nep_in`, :func:`~mlip_glass.nep.settings.parse_nep_in`,
:func:`~mlip_glass.nep.fit.fit_nep`, :func:`~mlip_glass.nep.evaluate.error_table`,
:class:`~mlip_glass.nep.schemas.NEPModelDocument`, :func:`~mlip_glass.nep.schemas.load_nep`
(``jobs`` is imported separately: science code does not import jobflow).
"""

from mlip_glass.nep.schemas import NEPModelDocument, load_nep
from mlip_glass.nep.settings import CPUTrainerSettings, NEPInputError, NEPSettings, parse_nep_in, write_nep_in

__all__ = [
    "CPUTrainerSettings",
    "NEPInputError",
    "NEPModelDocument",
    "NEPSettings",
    "load_nep",
    "parse_nep_in",
    "write_nep_in",
]
