"""The MLIP feedback MD protocol as one object passed whole (like the reference stage's ``AIMDProtocol``).

:class:`FeedbackMDProtocol` carries the stage's defaults (:mod:`mlip_glass.active_learning.constants`; the paper
gives no numbers for its "equilibration + fast quench" runs) and checks their ranges once;
:class:`~mlip_glass.active_learning.jobs.FeedbackMaker` takes one.
"""

from __future__ import annotations

from dataclasses import dataclass

from mlip_glass.active_learning.constants import (
    FEEDBACK_EQUIL_STEPS,
    FEEDBACK_PRESSURE_GPA,
    FEEDBACK_QUENCH_STEPS,
    FEEDBACK_T_EQUIL_K,
    FEEDBACK_T_FINAL_K,
    FEEDBACK_TIMESTEP_FS,
)
from mlip_glass.errors import ProtocolError
from mlip_glass.reference.protocols import ProtocolBase


@dataclass(frozen=True)
class FeedbackMDProtocol(ProtocolBase):
    """One MLIP feedback run: equilibrate hot, then quench linearly (NPT, or NVT without a pressure).

    Parameters
    ----------
    t_equil_k
        Equilibration temperature (K).
    t_final_k
        End temperature of the quench (K).
    equil_steps, quench_steps
        MD steps of the equilibration and of the linear quench.
    timestep_fs
        MD time step (fs).
    pressure_gpa
        NPT pressure (GPa); None for NVT.
    """

    t_equil_k: float = FEEDBACK_T_EQUIL_K
    t_final_k: float = FEEDBACK_T_FINAL_K
    equil_steps: int = FEEDBACK_EQUIL_STEPS
    quench_steps: int = FEEDBACK_QUENCH_STEPS
    timestep_fs: float = FEEDBACK_TIMESTEP_FS
    pressure_gpa: float | None = FEEDBACK_PRESSURE_GPA

    def __post_init__(self):
        for name in ("t_equil_k", "t_final_k", "timestep_fs"):
            if not getattr(self, name) > 0:
                raise ProtocolError(f"{name} must be > 0, got {getattr(self, name)}")
        if int(self.equil_steps) < 0 or int(self.quench_steps) < 1:
            raise ProtocolError(f"equil_steps must be >= 0 and quench_steps >= 1, got {self.equil_steps}, "
                                f"{self.quench_steps}")
