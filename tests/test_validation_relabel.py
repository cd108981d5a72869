"""Held-out structures of one engine labelled by another (the DFT held-out set): labels, categories, failures."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
from ase.calculators.lj import LennardJones

from mlip_glass.reference.base import ReferenceCalculationError
from mlip_glass.reference.engines import ASECalculatorEngine, EAMEngine
from mlip_glass.validation.heldout import HeldOutProtocol, melt_quench_frames
from mlip_glass.validation.relabel import relabel

TINY = HeldOutProtocol(n_runs=1, n_atoms=24, frames_per_plateau=1, melt_ps=0.5, cool_ps=0.2, plateau_ps=0.2,
                       sample_every_ps=0.1, inherent_every=0)


@pytest.fixture(scope="module")
def eam_frames():
    return melt_quench_frames(EAMEngine(), TINY, run=0)


def lj_engine():
    return ASECalculatorEngine(calculator=LennardJones(sigma=2.5, epsilon=0.05, rc=6.0), label="lj")


def test_relabelled_frames_carry_the_other_engines_labels_and_keep_their_category(eam_frames):
    engine = lj_engine()
    labelled, failures = relabel(eam_frames, engine)
    assert failures == [] and len(labelled) == len(eam_frames)
    for before, after in zip(eam_frames, labelled):
        assert after.info["config_type"] == before.info["config_type"]
        assert np.allclose(after.positions, before.positions)
        direct = engine.static(before)
        assert after.info["energy"] == pytest.approx(direct.energy)
        assert after.info["energy"] != pytest.approx(before.info["energy"])  # not the EAM's label
        assert after.info["engine"] == "ase:lj"


@dataclass
class FailsOnSecond(ASECalculatorEngine):
    """A stand-in for a DFT engine whose second calculation does not converge."""

    calls: int = 0

    def compute(self, atoms):
        self.calls += 1
        if self.calls == 2:
            raise ReferenceCalculationError("SCF run NOT converged")
        return super().compute(atoms)


def test_a_failed_label_is_left_out_and_listed(eam_frames):
    engine = FailsOnSecond(calculator=LennardJones(sigma=2.5, epsilon=0.05, rc=6.0), label="lj")
    labelled, failures = relabel(eam_frames, engine)
    assert len(labelled) == len(eam_frames) - 1
    assert [f["index"] for f in failures] == [1]
    assert "SCF run NOT converged" in failures[0]["reason"]
    assert failures[0]["config_type"] == eam_frames[1].info["config_type"]
