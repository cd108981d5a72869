"""Tiny stand-ins for the active-learning plumbing tests: same document shapes as the real stages,
milliseconds per job (8-atom cells, an ASE Lennard-Jones "reference", a linear "NEP").

- :func:`toy_surrogate` → a SurrogateStateDocument-shaped dict (structure, structure_hash, method,
  cooling_length, seed, energy_per_atom);
- :func:`toy_calculator` → the "reference engine" (ASE LennardJones, energies/forces/stress);
- :class:`ToyFitMaker` → a NEPModelDocument-shaped dict (nep_txt = JSON of a composition-linear energy
  model, model_hash, dataset_hash, rmse table);
- :class:`ToyFeedbackMaker` → feedback runs that jiggle the start structure (seeded), optional sleep.

Not physics: only the provenance, deduplication and FireWorks behaviour are under test with these.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

import numpy as np
from jobflow import Flow, Maker
from pymatgen.core import Lattice, Structure

from mlip_glass.active_learning.jobs import (
    ActiveLearningMaker,
    FeedbackMaker,
    SelectCandidatesMaker,
    feedback_label_maker,
    loop_assemble_maker,
)
from mlip_glass.composition import SPECIES
from mlip_glass.datasets.extxyz import frames_from_text
from mlip_glass.nep.schemas import model_hash
from mlip_glass.provenance import stamp, structure_hash
from mlip_glass.stage import stage_job

TOY_SPECIES = SPECIES
TOY_ENGINE = "mlip_glass.testing.al_standins:toy_calculator"
#: the datasets stage's assembly (the stand-in campaign uses the real one)
REAL_ASSEMBLE = "mlip_glass.datasets.assembly:assemble_dataset"


def random_cell(seed: int, n_atoms: int = 8, length: float = 5.2, min_dist: float = 2.0) -> Structure:
    """A cubic Cu/Zr/Al cell with random positions at least ``min_dist`` Å apart (seeded)."""
    rng = np.random.default_rng(seed)
    species = [TOY_SPECIES[i % 3] for i in range(n_atoms)]
    lattice = Lattice.cubic(length)
    coords: list[np.ndarray] = []
    while len(coords) < n_atoms:
        trial = rng.random(3)
        if all(lattice.get_distance_and_image(trial, c)[0] >= min_dist for c in coords):
            coords.append(trial)
    return Structure(lattice, species, coords)


@stage_job("surrogate")
def toy_surrogate(seed: int, cooling_length: float, n_atoms: int = 8) -> dict:
    """A surrogate-state-shaped document (random cell; cooling_length only recorded)."""
    s = random_cell(seed, n_atoms)
    return {"structure": s.as_dict(), "structure_hash": structure_hash(s), "method": "swap_mc",
            "cooling_length": float(cooling_length), "seed": int(seed), "energy_per_atom": -1.0}


def toy_calculator(sigma: float = 2.3, epsilon: float = 0.05, rc: float = 5.0):
    """The stand-in reference engine: ASE Lennard-Jones (smooth cut-off)."""
    from ase.calculators.lj import LennardJones

    return LennardJones(sigma=sigma, epsilon=epsilon, rc=rc, smooth=True)


def _composition(atoms) -> np.ndarray:
    symbols = atoms.get_chemical_symbols()
    return np.array([symbols.count(s) for s in TOY_SPECIES], dtype=float)


@dataclass
class ToyFitMaker(Maker):
    """A "NEP" that is a per-species energy (least squares on the training energies); forces predicted 0."""

    name: str = "toy nep fit"
    seed: int = 0
    fail: bool = False  #: raise instead of training (a crash after labelling, for resume tests)
    nep_txt_path: str | None = None  #: ship this real nep.txt as the "model" (selection tests need one)

    @stage_job("nep", data=["nep_txt"])
    def make(self, dataset: dict) -> dict:
        if self.fail:
            raise RuntimeError("toy fit asked to fail (simulated crash)")
        train, test = frames_from_text(dataset["train_xyz"]), frames_from_text(dataset["test_xyz"])
        x = np.array([_composition(a) for a in train])
        y = np.array([a.info["energy"] for a in train])
        coef = np.linalg.lstsq(x, y, rcond=None)[0] + 1e-6 * self.seed
        rmse = {}
        for split, frames in (("train", train), ("test", test)):
            if not frames:
                continue
            de = [(_composition(a) @ coef - a.info["energy"]) / len(a) for a in frames]
            f = np.concatenate([a.arrays["forces"].ravel() for a in frames])
            rmse[split] = {"all": {"rmse_energy_meV_per_atom": float(np.sqrt(np.mean(np.square(de))) * 1e3),
                                   "rmse_force_meV_per_A": float(np.sqrt(np.mean(f**2)) * 1e3)}}
        nep_txt = json.dumps({"species": TOY_SPECIES, "coef": coef.tolist()})
        if self.nep_txt_path:
            from pathlib import Path

            nep_txt = Path(self.nep_txt_path).read_text()
        return {"status": "completed", "nep_txt": nep_txt,
                "model_hash": model_hash(nep_txt), "dataset_hash": dataset["dataset_hash"],
                "rmse": rmse, "n_train": len(train), "n_test": len(test), "species": list(TOY_SPECIES),
                "seed": self.seed}


@dataclass
class ToyFeedbackMaker(FeedbackMaker):
    """Feedback "MD" = seeded random displacements (``amplitude`` Å) of the start structure."""

    name: str = "mlip feedback run"
    amplitude: float = 0.05
    sleep_s: float = 0.0

    def run(self, model: dict, start: dict, seed: int):
        assert model["nep_txt"], "model text must come from the store"
        if self.sleep_s:
            time.sleep(self.sleep_s)
        s = Structure.from_dict(start["structure"]) if isinstance(start["structure"], dict) else start["structure"]
        rng = np.random.default_rng(seed)
        moved = Structure(s.lattice, s.species, s.cart_coords + rng.normal(0, self.amplitude, (len(s), 3)),
                          coords_are_cartesian=True)
        return [(1, 300.0, moved)], {"seed": int(seed), "amplitude": self.amplitude, "failed": None}


def toy_loop_maker(max_iterations: int = 2, n_feedback_runs: int = 2, sleep_s: float = 0.0,
                   method: str = "all", fail_fit: bool = False, nep_txt_path: str | None = None,
                   **select) -> ActiveLearningMaker:
    """The loop with every stage replaced by its stand-in."""
    return ActiveLearningMaker(
        n_feedback_runs=n_feedback_runs, max_iterations=max_iterations, rmse_tol=0.0,
        feedback=ToyFeedbackMaker(sleep_s=sleep_s), select=SelectCandidatesMaker(method=method, **select),
        label=feedback_label_maker(TOY_ENGINE), assemble=loop_assemble_maker(assemble=REAL_ASSEMBLE),
        fit=ToyFitMaker(fail=fail_fit, nep_txt_path=nep_txt_path), committee_size=3 if method == "committee" else 1,
    )


def toy_campaign_flow(campaign: str, n_surrogate: int = 3, max_iterations: int = 2, n_feedback_runs: int = 2,
                      sleep_s: float = 0.0, nep_txt_path: str | None = None, **loop) -> Flow:
    """Iteration 0 (surrogates → labels → dataset 0 → model 0) followed by the active-learning loop."""
    surrogates = [toy_surrogate(seed=11 + i, cooling_length=10.0 ** (4 + i)) for i in range(n_surrogate)]
    label = feedback_label_maker(TOY_ENGINE, subset="surrogate").make([s.output for s in surrogates])
    dataset = loop_assemble_maker(assemble=REAL_ASSEMBLE).make(label.output)
    fit = ToyFitMaker(nep_txt_path=nep_txt_path).make(dataset.output)
    members = []
    for member in range(1, 3 if loop.get("method") == "committee" else 1):  # committee of iteration 0
        members.append(ToyFitMaker(seed=member, nep_txt_path=nep_txt_path).make(dataset.output))
        members[-1].update_metadata({"committee_member": member}, dynamic=False)
    loop_flow = toy_loop_maker(max_iterations, n_feedback_runs, sleep_s, nep_txt_path=nep_txt_path,
                               **loop).make(campaign, after=fit.output["model_hash"])
    flow = Flow([*surrogates, label, dataset, fit, *members, loop_flow], name=f"toy campaign {campaign}")
    return stamp(flow, campaign=campaign, iteration=0)
