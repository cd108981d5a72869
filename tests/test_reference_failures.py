"""A calculation that fails inside a relaxation or an AIMD run: the finished steps are kept, one rejected frame
records the failure, and the CPU time is shared by all of them (no engine-specific code: a stand-in engine)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from ase.build import bulk
from ase.calculators.emt import EMT

from mlip_glass.reference.base import ReferenceCalculationError, ReferenceEngine
from mlip_glass.reference.engines import ASECalculatorEngine
from mlip_glass.reference.protocols import AIMDProtocol


@dataclass
class FailsAtCall(ASECalculatorEngine):
    """EMT copper whose ``fail_at``-th calculation raises like a non-converged SCF."""

    fail_at: int = 4
    calls: int = 0

    def ase_calculator(self):  # relax/AIMD call compute() step by step, as for CP2K
        return ReferenceEngine.ase_calculator(self)

    def compute(self, atoms):
        self.calls += 1
        if self.calls == self.fail_at:
            raise ReferenceCalculationError("SCF run NOT converged")
        return super().compute(atoms)


def rattled_cu():
    atoms = bulk("Cu", "fcc", a=3.6, cubic=True).repeat(2)
    atoms.rattle(0.05, seed=3)
    return atoms


def test_relaxation_keeps_the_steps_before_a_failed_calculation():
    engine = FailsAtCall(calculator=EMT(), label="emt")
    frames = engine.relax(rattled_cu(), keep="all", relax_cell=False, fmax=1e-4, max_steps=50)
    kept, failed = frames[:-1], frames[-1]
    assert len(kept) >= 2 and not any(f.rejected for f in kept)
    assert failed.rejected and "SCF run NOT converged" in failed.rejection_reason
    assert kept[-1].energy < kept[0].energy  # the relaxation was making progress


def test_aimd_keeps_the_steps_before_a_failed_calculation():
    engine = FailsAtCall(calculator=EMT(), label="emt", fail_at=5)
    frames = engine.aimd(rattled_cu(), protocol=AIMDProtocol(nsteps=10), seed=1)
    assert len(frames) == 4 and [f.rejected for f in frames] == [False, False, False, True]
    assert [f.source.step for f in frames[:3]] == [1, 2, 3]
    assert sum(f.cpu_time_s for f in frames) == pytest.approx(frames[0].cpu_time_s * 4)
